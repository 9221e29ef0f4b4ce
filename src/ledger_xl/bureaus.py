"""Bureau names as offices write them: "市公安局、交通运输局" means 市公安局 and 市交通运输局."""

from __future__ import annotations

import re

from .model import ALL_MEMBERS

# Administrative prefixes a list's first name may carry and later names drop.
_LEVEL_CHARS = "省市县区州盟旗"
# Words that begin with a level character but are not a prefix: 市场监管局 is 市 + 市场监管局.
_NOT_PREFIX = ("市场", "市容", "市政工程", "市政设施", "市政公用", "区划", "县域", "州际")
_SPLIT_RE = re.compile(r"[、，,；;/／\s]+")
_ALL_MEMBERS_RE = re.compile(r"^(各成员单位|领导小组各成员单位|各有关单位|领导小组成员单位)$")


def _prefix_of(name: str) -> str:
    """The administrative prefix a full name carries: "市" for 市公安局, "南阳市" for 南阳市公安局, "" for none.

    A level character counts at the start or after a place name of two or more characters, so 城市管理局
    has no prefix; 市场监管局 has none either (市场 is a word, not 市 + 场).
    """
    for i, ch in enumerate(name):
        if ch in _LEVEL_CHARS and (i == 0 or i >= 2) and not name[i:].startswith(_NOT_PREFIX) and len(name) > i + 2:
            return name[: i + 1]
    return ""


def split_bureaus(text: str) -> list[str]:
    """Normalised names from a list cell, prefix restored, order kept, duplicates dropped."""
    raw = [p.strip() for p in _SPLIT_RE.split(str(text or "")) if p.strip() and p.strip() not in ("—", "-", "无")]
    out: list[str] = []
    prefix = ""
    for name in raw:
        if _ALL_MEMBERS_RE.match(name):
            name = ALL_MEMBERS
        elif not prefix:
            prefix = _prefix_of(name)
        elif not _prefix_of(name):
            name = prefix + name
        if name not in out:
            out.append(name)
    return out


def short_name(name: str) -> str:
    p = _prefix_of(name)
    return name[len(p) :] if p and len(name) - len(p) >= 2 else name


def is_office(name: str) -> bool:
    return "领导小组办公室" in name or name.endswith("领导小组办")
