"""Unit and person names as offices write them.

"市公安局、交通运输局" means 市公安局 and 市交通运输局 (a department later in a list drops the prefix the
first one carries); "各县（市、区）政府" is one group unit, never split inside its brackets; "XX日报社" keeps
its name as written; "周明（副局长）" in a 责任人 column is a person, never a unit.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from .model import ALL_MEMBERS

# Administrative prefixes a list's first name may carry and later names drop.
_LEVEL_CHARS = "省市县区州盟旗"
# Words that begin with a level character but are not a prefix: 市场监管局 is 市 + 市场监管局.
_NOT_PREFIX = ("市场", "市容", "市政工程", "市政设施", "市政公用", "区划", "县域", "州际")
_SEPARATORS = "、，,；;/／\n\r\t "
_OPEN, _CLOSE = "（(【[〔", "）)】]〕"
_ALL_MEMBERS_RE = re.compile(r"^(各成员单位|领导小组各成员单位|领导小组成员单位)$")
# Collective names a clerk may expand into their units in the 单位 sheet.
_GROUP_RE = re.compile(r"^各.{1,16}$|直各(部门|单位)$|^(有关|相关)(部门|单位)$|^(各)?有关(县|市|区)")
# A later name gets the first name's prefix only when it is a government department.
_DEPARTMENT_RE = re.compile(r"(局|委|委员会|办|办公室|厅|署|支队|大队)$")
_NOT_DEPARTMENT_RE = re.compile(r"社|公司|集团|银行|报|电视台|广播|大学|学院|学校|医院|协会|商会|联合会")
_ROLE_NOTE_RE = re.compile(r"[（(](牵头|配合|参与|协助|负责)[）)]$")
# the same said without brackets: "市发展改革委牵头", "市统计局配合" (a unit's name never ends in these words)
_ROLE_WORD_RE = re.compile(r"(?<=.{2})(牵头|配合|参与|协助|负责)$")
# a label before the name: "牵头单位：县工信局", "配合单位：县通信发展办"
_ROLE_LABEL_RE = re.compile(r"^(牵头单位|牵头部门|主责单位|牵头|责任单位|责任部门|配合单位|配合部门|协办单位|参与单位|配合)\s*[:：]\s*")
# "市财政局等", "县农业农村局等相关单位": the list goes on; the name is what comes before 等
_AND_OTHERS_RE = re.compile(r"(?<=.{2})等(?:(?:相关|有关|其他)?(?:单位|部门))?$")
_NONE = ("—", "-", "无", "－", "/", "——")


def _prefix_of(name: str) -> str:
    """The administrative prefix a full name carries: "市" for 市公安局, "南阳市" for 南阳市公安局, "" for none.

    A level character counts at the start or after a place name of two to five characters, so 城市管理局
    has no prefix, 市场监管局 has none either (市场 is a word, not 市 + 场), and "中国移动…分公司" has none.
    """
    for i, ch in enumerate(name):
        if i > 5 or ch in _OPEN:
            return ""
        if ch in _LEVEL_CHARS and (i == 0 or i >= 2) and not name[i:].startswith(_NOT_PREFIX) and len(name) > i + 2:
            party = name[i + 1] == "委" and not name[i + 1 :].startswith("委员会")  # 市委宣传部: the prefix is 市委
            return name[: i + 2] if party else name[: i + 1]
    return ""


def split_list(text: str) -> list[str]:
    """A list cell split on 、，；/ and line breaks, never inside brackets: "各县（市、区）政府、市直各部门" is two."""
    out: list[str] = []
    depth, cur = 0, list[str]()
    for ch in str(text or ""):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch in _SEPARATORS and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p.strip().strip("。.") for p in out if p.strip().strip("。.") and p.strip() not in _NONE]


def is_group(name: str) -> bool:
    """A collective name (各县（市、区）政府, 市直各部门, 各成员单位): a unit the clerk may expand."""
    return name == ALL_MEMBERS or bool(_GROUP_RE.search(name))


def role_note(name: str) -> tuple[str, str | None]:
    """"市发展改革委（牵头）" or "市发展改革委牵头" → ("市发展改革委", "牵头"); a name without such a note →
    (name, None). A trailing 等 (等相关单位), before or after the note, is not part of the name either. (A label
    before names, 牵头单位：, speaks for several: split_bureaus_noted reads it.)"""
    name = _AND_OTHERS_RE.sub("", name).strip()
    m = _ROLE_NOTE_RE.search(name) or _ROLE_WORD_RE.search(name)
    if not m:
        return name, None
    return _AND_OTHERS_RE.sub("", name[: m.start()]).strip(), m.group(1)


def split_bureaus_noted(text: str, known: Collection[str] = ()) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Names from a list cell in order, the prefixes restored (as (written, restored)), and the names noted 牵头.

    `known`: names taken exactly as listed (a definition's 单位 sheet: a clerk's name is never cut, even one an
    older import left as "市财政局等")."""
    out: list[str] = []
    restored: list[tuple[str, str]] = []
    noted_lead: list[str] = []
    prefix = ""
    labelled: str | None = None  # "牵头单位：A、B；配合单位：C": a label speaks for the names after it, up to the next
    for raw in split_list(text):
        if raw in known:
            if raw not in out:
                out.append(raw)
            continue
        if (label := _ROLE_LABEL_RE.match(raw)) is not None:
            raw, labelled = raw[label.end() :].strip(), _label_note(label)
        name, note = role_note(raw)
        note = note or labelled
        if not name:
            continue
        if _ALL_MEMBERS_RE.match(name):
            name = ALL_MEMBERS
        elif is_group(name):
            pass
        elif not prefix:
            prefix = _prefix_of(name)
        elif not _prefix_of(name) and _DEPARTMENT_RE.search(name) and not _NOT_DEPARTMENT_RE.search(name):
            restored.append((name, prefix + name))
            name = prefix + name
        if note == "牵头" and name not in noted_lead:
            noted_lead.append(name)
        if name not in out:
            out.append(name)
    return out, restored, noted_lead


def _label_note(label: re.Match[str]) -> str | None:
    word = label.group(1)
    return "牵头" if word.startswith(("牵头", "主责")) else None if word.startswith("责任") else "配合"


def split_bureaus(text: str, known: Collection[str] = ()) -> list[str]:
    """Normalised names from a list cell, prefix restored for departments, order kept, duplicates dropped."""
    return split_bureaus_noted(text, known)[0]


def split_persons(text: str) -> list[str]:
    """Persons as written ("周明（副局长）", "李华副市长"), split like a unit list; never units."""
    return [p for p in split_list(text) if p]


def short_name(name: str) -> str:
    if is_group(name):
        return name
    p = _prefix_of(name)
    return name[len(p) :] if p and len(name) - len(p) >= 2 else name


def unique_short_names(names: list[str]) -> dict[str, str]:
    """Short names that tell units apart: where two would be the same, both keep their full name."""
    short = {n: short_name(n) for n in names}
    counts: dict[str, int] = {}
    for s in short.values():
        counts[s] = counts.get(s, 0) + 1
    return {n: s if s == n or (counts[s] == 1 and s not in short) else n for n, s in short.items()}


def is_office(name: str) -> bool:
    return "领导小组办公室" in name or name.endswith("领导小组办")
