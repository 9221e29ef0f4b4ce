"""Reading what Chinese plan text and typed cells say: quantities, totals, thresholds, frequencies.

Two kinds of input: the plan's own sentences ("不少于5个", "比例≥20%", "每半年召开1次") and numbers
typed by bureau staff ("１２个", "3.5：1", "18%"). Approximate values ("约5个", "30余") are refused, never
guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .model import Indicator, Metric, Op, Target

# Units a counted quantity may carry. Longer units first so "万平方米" wins over "平方米".
UNITS = sorted(
    ["个", "座", "辆", "家", "处", "条", "项", "台", "套", "所", "艘", "人", "场", "公里", "千米", "吨", "万吨", "平方米", "万平方米", "亩", "万元", "亿元", "元", "户", "批", "部", "件", "篇", "份", "期", "栋", "根", "个次", "人次", "辆次"],
    key=len,
    reverse=True,
)
_UNIT_RE = "|".join(map(re.escape, UNITS))
_NUM = r"\d+(?:\.\d+)?"
_OPS: list[tuple[str, Op]] = [
    ("＞＝", ">="), ("＜＝", "<="), ("不少于", ">="), ("不低于", ">="), ("至少", ">="), ("达到", ">="), ("以上", ">="),
    (">=", ">="), ("≥", ">="), ("⩾", ">="),
    ("不超过", "<="), ("不高于", "<="), ("不多于", "<="), ("以下", "<="), ("<=", "<="), ("≤", "<="), ("⩽", "<="),
]
_OP_RE = "|".join(re.escape(w) for w, _ in _OPS)
_OP_OF = dict(_OPS)
_APPROX_RE = re.compile(r"约|大约|左右|余|多|近|超过|上下|几|若干|~|～")


def nfkc(text: str) -> str:
    """Full-width digits and punctuation to ASCII (４：１ → 4:1); spaces inside collapsed."""
    return unicodedata.normalize("NFKC", text)


def clean(text: object) -> str:
    """Cell text as a person reads it: NFKC-normalised only for searching, stripped."""
    if text is None:
        return ""
    return nfkc(str(text)).replace("\u3000", " ").strip()


# ---------------------------------------------------------------- plan text


@dataclass(frozen=True, slots=True)
class Quantity:
    name: str | None
    value: float
    unit: str


_QTY_CELL_RE = re.compile(rf"^(?P<name>[^\d]*?)\s*(?P<num>{_NUM})\s*(?P<unit>{_UNIT_RE})$")


def parse_quantity_cell(text: str) -> list[Quantity] | None:
    """A yearly cell such as "2个", "1 个" or "充电站1座；充电桩30个"; None when it is prose."""
    t = clean(text)
    if not t:
        return None
    parts = [p.strip() for p in re.split(r"[;；、,，\n]+", t) if p.strip()]
    out: list[Quantity] = []
    for p in parts:
        m = _QTY_CELL_RE.match(p.rstrip("。."))
        if not m:
            return None
        name = m.group("name").strip(" ：:") or None
        if name and len(name) > 12:
            return None
        out.append(Quantity(name, float(m.group("num")), m.group("unit")))
    return out or None


def is_none_mark(text: str) -> bool:
    return clean(text) in ("", "—", "——", "-", "--", "/", "无", "－", "―")


def find_total(text: str, unit: str, name: str | None = None) -> Target | None:
    """The stated total for one metric in the task text: "不少于5个", "≥80个", "新增充电站6 座", "400辆"."""
    t = clean(text)
    pattern = re.compile(rf"(?P<op>{_OP_RE})?\s*(?P<num>{_NUM})\s*{re.escape(unit)}(?P<post>以上|以下)?")
    best: Target | None = None
    for m in pattern.finditer(t):
        if name and name not in t[max(0, m.start() - len(name) - 12) : m.start()]:
            continue
        op_word = m.group("op") or m.group("post")
        # "以上/以下" after the unit, or a comparison word right before the number
        op: Op = _OP_OF[op_word] if op_word else "=="
        best = Target(op, float(m.group("num")))
        break
    return best


_NAME_STRIP_RE = re.compile(rf"(?:{_OP_RE})?\s*(?:{_NUM}\s*(?:{_UNIT_RE})?)?[。.，,；;]*$")


def metric_name(task_text: str) -> str:
    """A short name for a single metric: the task text up to its number, or its first clause."""
    t = str(task_text or "").strip()
    first = re.split(r"[，,；;。]", t)[0]
    m = re.search(rf"(?:{_OP_RE})?\s*{_NUM}\s*(?:{_UNIT_RE})", first)
    name = first[: m.start()] if m else first
    name = _NAME_STRIP_RE.sub("", name).strip()
    name = re.sub(r"(数量|总数)$", "", name).strip()
    return name or first or t


_IND_RE = re.compile(
    rf"(?P<op>{_OP_RE})\s*(?P<num>{_NUM})\s*(?:(?P<pct>[%％])|[:：]\s*[1１](?![\d]))"
)


def parse_indicators(text: str) -> list[Indicator]:
    """Thresholds such as "比例≥20%", "比值≤4：1", "较期初降低的比例≥10%"."""
    out: list[Indicator] = []
    t = str(text or "").replace("\n", "").strip()
    for clause in re.split(r"[；;。]", t):
        for m in _IND_RE.finditer(clause):
            # the sentence fragment that names what is measured: back to the previous comma with content
            pieces = re.split(r"[，,]", clause[: m.start()])
            label = pieces[-1].strip()
            k = len(pieces) - 1
            while len(label) < 6 and k > 0:
                k -= 1
                label = pieces[k].strip() + "，" + label
            whole = clause[: m.end()]
            baseline = bool(re.search(r"期初|基期|基准年|基数", whole))
            change = None
            if baseline:
                if re.search(r"降低|下降|减少", label):
                    change = "decrease"
                elif re.search(r"提高|提升|增长|增加", label):
                    change = "increase"
            out.append(
                Indicator(
                    text=label + clause[m.start() : m.end()],
                    op=_OP_OF[m.group("op")],
                    value=float(m.group("num")),
                    unit="%" if m.group("pct") else "ratio",
                    baseline=baseline,
                    change=change,  # type: ignore[arg-type]
                )
            )
    return out


_FREQ_RE = re.compile(r"每(?P<f>半年|季度|年)(?:度)?")
_COUNT_RE = re.compile(r"(?P<n>\d+|[一二两三四五六七八九十])\s*次")
_CN_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def parse_frequency(text: str) -> tuple[str | None, int]:
    """A recurring duty: ("half-year", 1) for "每半年召开1次会议"."""
    t = clean(text)
    m = _FREQ_RE.search(t)
    if not m:
        return None, 1
    kind = {"半年": "half-year", "季度": "quarter", "年": "year"}[m.group("f")]
    c = _COUNT_RE.search(t, m.end())
    count = 1
    if c:
        n = c.group("n")
        count = int(n) if n.isdigit() else _CN_DIGIT[n]
    return kind, count


_DELIV_VERB = r"(?:制定并发布|制定并实施|制定并出台|研究制定|制定出台|出台|制定|发布|印发|建立|形成|编制)"
_DELIV_NOUN = r"(?:办法|方案|政策|制度|规划|报告|机制|意见|细则|标准|规定|规范|计划|通知|指南)"
_DELIV_RE = re.compile(rf"{_DELIV_VERB}(?P<what>《[^》]+》|[^，。；,;\n]{{1,40}}{_DELIV_NOUN})")
_DELIV_NAME_RE = re.compile(rf"^[^，。；,;\n]{{2,30}}{_DELIV_NOUN}$")


def parse_deliverable(texts: list[str], names: list[str]) -> str | None:
    """The document a task must issue: "制定并发布城市配送企业考核管理办法" → "城市配送企业考核管理办法".

    First a verb + document phrase in the texts; failing that, a task name that is itself a document
    ("综合性政策").
    """
    for text in texts:
        m = _DELIV_RE.search(str(text or ""))
        if m:
            return m.group("what").strip()
    for name in names:
        if _DELIV_NAME_RE.match(str(name or "").strip()):
            return str(name).strip()
    return None


def parse_metrics(task_text: str, yearly: dict[int, str], name_text: str | None = None) -> list[Metric]:
    """Quantity metrics: every year cell is a quantity (or "—"), and the units agree across years."""
    per_year: dict[int, list[Quantity]] = {}
    for year, text in yearly.items():
        if is_none_mark(text):
            continue
        q = parse_quantity_cell(text)
        if q is None:
            return []
        per_year[year] = q
    if not per_year:
        return []
    # metric keys in order of first appearance: the name, or the unit when unnamed
    keys: list[tuple[str | None, str]] = []
    for qs in per_year.values():
        for q in qs:
            if (q.name, q.unit) not in keys:
                keys.append((q.name, q.unit))
    metrics = []
    for name, unit in keys:
        values = {
            y: next((q.value for q in per_year.get(y, []) if (q.name, q.unit) == (name, unit)), 0.0)
            for y in sorted(yearly)
        }
        target = find_total(task_text, unit, name if len(keys) > 1 else None)
        metrics.append(Metric(name=name or metric_name(name_text or task_text), unit=unit, yearly=values, target=target))
    return metrics


# ---------------------------------------------------------------- typed numbers


class NumberError(ValueError):
    """Why a typed value is not a usable number; the text is shown to the clerk and the bureau."""


_TYPED_RE = re.compile(rf"^(?P<sign>[-+])?(?P<num>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>%|{_UNIT_RE})?$")
_CN_NUMERAL_RE = re.compile(r"^[零〇一二两三四五六七八九十百千万亿]+")


def _prep(text: str) -> str:
    t = nfkc(text).replace("\u3000", " ").strip()
    t = t.replace("\u2212", "-").replace("－", "-").replace("﹣", "-")
    t = re.sub(r"(?<=\d)[,，](?=\d{3}(?:\D|$))", "", t)  # thousands separators
    t = re.sub(r"(?<=\d)\s+(?=\d)", "", t)
    return t


def parse_count(value: object, *, integer: bool = False) -> float:
    """A typed quantity: 12, "12", "１２个", "1,200", " 3辆 ". Refuses "约5个", "三", negatives."""
    if isinstance(value, bool):
        raise NumberError("不是数字")
    if isinstance(value, int | float):
        n = float(value)
    else:
        t = _prep(str(value))
        if not t:
            raise NumberError("为空")
        if _APPROX_RE.search(t):
            raise NumberError("是约数，请填写具体数字")
        if _CN_NUMERAL_RE.match(t):
            raise NumberError("请用阿拉伯数字填写（例如 3），不要用汉字数字")
        m = _TYPED_RE.match(t)
        if not m or m.group("unit") == "%":
            raise NumberError("不是数字")
        n = float(m.group("num"))
        if m.group("sign") == "-":
            n = -n
    if n != n or n in (float("inf"), float("-inf")):
        raise NumberError("不是有效数字")
    if n < 0:
        raise NumberError("不能为负数")
    if integer and not float(n).is_integer():
        raise NumberError("应为整数")
    return n


def parse_percent(value: object, *, cell_is_percent_formatted: bool = False) -> float:
    """A percentage as typed: "18%", "18", 18, or 0.18 from a %-formatted cell. Returns 18.0."""
    if isinstance(value, bool):
        raise NumberError("不是数字")
    if isinstance(value, int | float):
        n = float(value)
        if cell_is_percent_formatted:
            n *= 100
        return n
    t = _prep(str(value))
    if not t:
        raise NumberError("为空")
    if _APPROX_RE.search(t):
        raise NumberError("是约数，请填写具体数值")
    t = t.replace("％", "%")
    m = re.fullmatch(r"(?P<sign>-)?(?P<num>\d+(?:\.\d+)?|\.\d+)\s*%?", t)
    if not m:
        raise NumberError("不是百分数，请填写例如 18% 或 18")
    n = float(m.group("num"))
    return -n if m.group("sign") else n


def parse_ratio(value: object) -> float:
    """A ratio as typed: "3.5:1", "3.5：1", "3.5" or 3.5. Returns 3.5."""
    if isinstance(value, bool):
        raise NumberError("不是数字")
    if isinstance(value, int | float):
        if value < 0:
            raise NumberError("不能为负数")
        return float(value)
    t = _prep(str(value))
    if not t:
        raise NumberError("为空")
    if _APPROX_RE.search(t):
        raise NumberError("是约数，请填写具体数值")
    m = re.fullmatch(r"(?P<a>\d+(?:\.\d+)?)\s*(?:[:：比]\s*(?P<b>\d+(?:\.\d+)?))?", t)
    if not m:
        raise NumberError("不是比值，请填写例如 3.5:1 或 3.5")
    a, b = float(m.group("a")), float(m.group("b") or 1)
    if b == 0:
        raise NumberError("比值的后项不能为 0")
    return a / b
