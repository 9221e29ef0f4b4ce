"""Reading what Chinese plan text and typed cells say: quantities, totals, thresholds, frequencies.

Two kinds of input: the plan's own sentences ("不少于5个", "比例≥20%", "每半年召开1次") and numbers
typed by bureau staff ("１２个", "3.5：1", "18%"). Approximate values ("约5个", "30余") are refused, never
guessed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .model import COUNTABLE_UNITS, Change, Indicator, Metric, Op, Target, fmt_number


class _LazyPattern:
    """A pattern compiled when first used (see _lazy)."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> object:
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)


def _lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern for reading a ledger's plan, compiled on first use: every command imports this module (ingest
    for parse_count and its kin), and compiling them all took ~10 ms of each command's start."""
    return _LazyPattern(pattern, flags)  # type: ignore[return-value]  # it answers every Pattern attribute

# Units a counted quantity may carry. Longer units first so "万平方米" wins over "平方米"; any unit may be
# written in 万 or 亿 (3.5万人, 1.2万亩), and then keeps that unit: the plan and the returns both count in it.
_BASE_UNITS = ["个", "座", "辆", "家", "处", "条", "项", "台", "套", "所", "艘", "人", "场", "公里", "千米", "吨", "平方米",
               "亩", "元", "户", "批", "部", "件", "篇", "份", "期", "栋", "根", "个次", "人次", "辆次", "公顷", "平方公里",
               "立方米", "千瓦", "千瓦时", "标准箱", "张", "间", "床", "微克/立方米", "毫克/升", "吨标准煤",
               # counted things and measures met in county and plan ledgers (沼气池200口, 植树5万株, 5亿美元)
               "口", "眼", "棵", "株", "头", "只", "匹", "本", "册", "支", "块", "枚", "盏", "名", "架", "幢", "宗",
               "米", "延米", "美元", "兆瓦", "蒸吨", "千克", "公斤"]
UNITS = sorted({p + u for u in _BASE_UNITS for p in ("", "万", "亿")}, key=len, reverse=True)
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


# a comma between digits that groups thousands (1,200 and 1，200; not 3，2025年): read as no comma, else "1,200个"
# would be read as 200个
_THOUSANDS_RE = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")


def clean(text: object) -> str:
    """Cell text as a person reads it: NFKC-normalised only for searching, thousands unseparated, stripped."""
    if text is None:
        return ""
    return _THOUSANDS_RE.sub("", nfkc(str(text))).replace("\u3000", " ").strip()


# ---------------------------------------------------------------- plan text


@dataclass(frozen=True, slots=True)
class Quantity:
    name: str | None
    value: float
    unit: str


_QTY_CELL_RE = _lazy(rf"^(?P<name>[^\d]*?)\s*(?P<num>{_NUM})\s*(?P<unit>{_UNIT_RE})$")


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
        name = re.sub(rf"^(?:{_OP_RE}|总数达到|累计达到|达)", "", m.group("name").strip(" ：:")).strip() or None
        if name and _VERB_ONLY_RE.fullmatch(name):  # "新增10项": the figure is the task's, not something named 新增
            name = None
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


_NAME_STRIP_RE = _lazy(rf"(?:{_OP_RE})?\s*(?:{_NUM}\s*(?:{_UNIT_RE})?)?[。.，,；;]*$")


def metric_name(task_text: str) -> str:
    """A short name for a single metric: the task text up to its number, or its first clause."""
    t = _THOUSANDS_RE.sub("", str(task_text or "")).strip()
    first = re.split(r"[，,；;。]", t)[0]
    first = _NAMED_UNIT_RE.sub("", first).strip() or first  # "新建保障性租赁住房（套）": the unit is the metric's own
    m = re.search(rf"(?:{_OP_RE})?\s*{_NUM}\s*(?:{_UNIT_RE})", first)
    name = first[: m.start()] if m else first
    name = _NAME_STRIP_RE.sub("", name).strip()
    name = re.sub(r"(数量|总数)$", "", name).strip()
    return name or first or t


# Words before a percentage that make it a target: growth, control and level targets as well as ≥/不低于.
_IND_PRE = ["控制在", "稳定在", "保持在", "提高到", "提升到", "提高至", "提升至", "增长", "提高", "提升", "下降到", "降低到",
            "下降至", "降低至", "下降", "降低", "减少", "达"]
_IND_PRE_RE = "|".join(map(re.escape, _IND_PRE))
_IND_RE = _lazy(
    rf"(?:(?P<op>{_OP_RE})|(?P<pre>{_IND_PRE_RE}))\s*(?P<num>{_NUM})\s*"
    rf"(?:(?P<pct>[%％])(?P<post>以上|以下|以内|左右)?|[:：]\s*[1１](?![\d]))"
)


def _indicator_op(m: re.Match[str]) -> Op:
    """≥ or ≤ for a percentage target: 以下/以内/控制在/下降到 cap it; everything else is a floor."""
    post, pre, op = m.group("post"), m.group("pre"), m.group("op")
    if post in ("以下", "以内"):
        return "<="
    if post == "以上":
        return ">="
    if op:
        return _OP_OF[op]
    if pre in ("控制在", "下降到", "降低到", "下降至", "降低至"):
        return "<="
    return ">="


def parse_indicators(text: str, name: str = "") -> list[Indicator]:
    """Thresholds such as "比例≥20%", "比值≤4：1", "较期初降低的比例≥10%", "增长6%左右", "控制在5.5%以内".

    `name`: what a threshold written alone in its clause measures (the task: a 目标值 cell "增长10%")."""
    out: list[Indicator] = []
    t = _THOUSANDS_RE.sub("", str(text or "")).replace("\n", "").strip()
    for clause in re.split(r"[；;。]", t):
        for m in _IND_RE.finditer(clause):
            # the sentence fragment that names what is measured: back to the previous comma with content
            pieces = re.split(r"[，,]", clause[: m.start()])
            label = pieces[-1].strip()
            k = len(pieces) - 1
            while len(label) < 6 and k > 0:
                k -= 1
                label = pieces[k].strip() + "，" + label
            piece = clause[m.start() : m.end()]
            text = label + piece
            if not label.strip("，") and name:  # alone in its clause: "达到96%" is the task's; "增长10%" says what of it
                text = name if _CELL_PCT_RE.fullmatch(piece) else name + piece
            whole = clause[: m.end()]
            baseline = bool(re.search(r"期初|基期|基准年|基数", whole))
            change: Change | None = None
            if baseline:
                if re.search(r"降低|下降|减少", label):
                    change = "decrease"
                elif re.search(r"提高|提升|增长|增加", label):
                    change = "increase"
            out.append(
                Indicator(
                    text=text,
                    op=_indicator_op(m),
                    value=float(m.group("num")),
                    unit="%" if m.group("pct") else "ratio",
                    baseline=baseline,
                    change=change,
                )
            )
    return out


# A target cell holding only a percentage and the words that say which way it binds.
_CELL_PCT_RE = _lazy(rf"(?P<op>{_OP_RE})?\s*(?P<num>{_NUM})\s*%\s*(?P<post>及?以上|及?以下|以内)?")
# words beside a bare figure that cap it; not 以下/以内, which there name a scope (县级以下医疗机构)
_CAP_RE = _lazy(r"控制在|控制目标|不超过|不高于|不多于|下降到|降低到|下降至|降低至|上限")


def cell_indicator(text: str, label: str, context: str = "") -> Indicator | None:
    """A target cell that is only a percentage — "60%" (in Excel 0.6 shown as 60%), "达到60%", "不低于60%",
    "5%以内" — as an indicator named by its task (label); None for anything else.

    Its own words say ≥ or ≤; a bare figure binds as the words beside it say (the task, its notes:
    控制在、不高于、不超过… cap it), else it is a level to reach (≥)."""
    m = _CELL_PCT_RE.fullmatch(clean(text).rstrip("。.；;"))
    if m is None:
        return None
    post, word = m.group("post"), m.group("op")
    op: Op
    if post:
        op = ">=" if post.endswith("以上") else "<="
    elif word:
        op = _OP_OF[word]
    else:
        op = "<=" if _CAP_RE.search(clean(context)) else ">="
    return Indicator(text=label or clean(text), op=op, value=float(m.group("num")), unit="%")


def yearly_thresholds(plan: list[Indicator], cells: dict[int, str]) -> Indicator | None:
    """One indicator whose threshold rises year by year (≥75% / ≥80% / ≥85% in the year cells), or None.

    Each year cell must hold exactly one threshold of one unit, and they must differ; the programme's
    threshold is the one stated in the plan text, else the last year's.
    """
    per_year: dict[int, Indicator] = {}
    for year, text in cells.items():
        if is_none_mark(text):
            continue
        found = parse_indicators(text)
        if len(found) != 1:
            one = cell_indicator(text, "")  # "99%", "99%以上", "不低于99%"
            if one is None:
                return None
            if plan and re.fullmatch(rf"\s*{_NUM}\s*%\s*", clean(text)):  # a bare figure binds as the plan's words say
                one = Indicator(text=one.text, op=plan[0].op, value=one.value, unit=one.unit)
            found = [one]
        per_year[year] = found[0]
    if len(per_year) < 2 or len({i.unit for i in per_year.values()}) != 1 or len({i.value for i in per_year.values()}) < 2:
        return None
    last = per_year[max(per_year)]
    base = plan[0] if len(plan) == 1 and plan[0].unit == last.unit else None
    head = base or last
    return Indicator(text=head.text, op=head.op, value=head.value, unit=head.unit, baseline=head.baseline,
                     change=head.change, yearly={y: Target(i.op, i.value) for y, i in sorted(per_year.items())})


# ---------------------------------------------------------------- what a yearly figure means

_YEAR_END_RE = _lazy(r"达到|累计|总数|总量|年末|年底前?达|保有量|规模达|稳定在|保持在|下降到|降低到|控制在|提高到|提升到|存量")
_PER_YEAR_RE = _lazy(r"每年|年均|当年|年度(?!目标)|营业收入|营收|产值|增加值|销售额|交易额|收入|税收|产量|投资额|完成投资|"
                          r"(?:资金|财政)投入|投入(?:资金|财政)")
_ADDITIONS_RE = _lazy(r"新增|新建|新开工|新培育|新引进|净增|增加|改造|建成|完成")


def accumulation_of(texts: list[str], yearly: dict[int, float], total: Target | None) -> tuple[str, str | None]:
    """What a metric's yearly figures mean, and why when it is a guess (None when words or numbers say it).

    Words of a year's own figure (营业收入, 每年, 当年) win; then the numbers (the yearly figures add up to
    the stated total: additions; the last one is the total: year-end levels); then 达到/累计/总数 (year-end)
    or 新增/建成 (additions).
    """
    words = "。".join(clean(t) for t in texts)
    add, level, own = _ADDITIONS_RE.search(words), _YEAR_END_RE.search(words), _PER_YEAR_RE.search(words)
    if own and not add and not (level and level.group(0) in ("累计", "总数", "总量", "保有量", "存量")):
        return "per_year", None
    values = [yearly[y] for y in sorted(yearly)]
    if total is not None and len(values) > 1:
        if abs(sum(values) - total.value) < 1e-9:
            return "additions", None
        if abs(values[-1] - total.value) < 1e-9:
            return "year_end", None if level else "各年数字的最后一年等于总目标，按“年末达到的水平”理解"
    if level and not add:
        return "year_end", None
    if level and add and level.start() < add.start():
        return "year_end", "目标文字既有“达到/累计”也有“新增”，按“年末达到的水平”理解，请核对"
    return "additions", None


# ---------------------------------------------------------------- targets written in the text (no year columns)

_TEXT_OPS = ["总数达到", "总量达到", "累计达到", "规模达到", "稳定在", "保持在", "控制在", "下降到", "降低到", "提高到", "提升到",
             "突破", "超过"]
_TEXT_OP = {"控制在": "<=", "下降到": "<=", "降低到": "<="}
_TEXT_QTY_RE = _lazy(
    rf"(?P<op>{'|'.join(map(re.escape, _TEXT_OPS))}|{_OP_RE})?\s*(?P<num>{_NUM})\s*(?P<unit>{_UNIT_RE})"
    r"(?!工作日|月|小时|百分点|季度|星期|周|年)"  # 2个工作日, 3个月: a span of time, not a count of 个
    r"(?P<post>以上|以下|以内|左右)?"
)


_VERB_ONLY_RE = _lazy(r"(?:新增|新建|新培育|新引进|完成|达到|累计|实现|建成|引进|培育|全年|总计|共)*")


def text_metrics(text: str, year: int, name: str = "") -> list[tuple[Metric, str | None]]:
    """Quantity targets written in the task or target text of a one-year ledger: "新增城镇就业3.5万人",
    "总数达到600家", "PM2.5平均浓度下降到40微克/立方米以下". Each is a metric for `year` whose total is the
    figure, with a note when its reading is a guess ("左右"). `name`: what a figure written with no name of
    its own counts (the task: a 目标值 cell "新增80家", "5亿美元")."""
    out: list[tuple[Metric, str | None]] = []
    for clause in re.split(r"[；;。\n]", clean(text)):
        for m in _TEXT_QTY_RE.finditer(clause):
            if re.search(r"[第前]\s*$|(?:19|20)$", clause[: m.start()]) or (clause[m.end():m.end() + 1] in ("%", "％")):
                continue
            op_word, post = m.group("op") or "", m.group("post") or ""
            op: Op = ("<=" if post in ("以下", "以内") else ">=" if post == "以上" else
                      _TEXT_OP.get(op_word) or _OP_OF.get(op_word) or (">=" if op_word else "=="))  # type: ignore[assignment]
            before = re.split(r"[，,、]", clause[: m.start()])[-1]
            own = re.sub(r"(数量|总数|总量|规模)$", "", before.strip())
            label = own if not _VERB_ONLY_RE.fullmatch(own) else (name and metric_name(name)) or own or metric_name(clause)
            value = float(m.group("num"))
            acc, _ = accumulation_of([clause], {year: value}, None)
            note = "目标写作“左右”，按不低于该数理解" if post == "左右" else None
            if post == "左右":
                op = ">="
            out.append((Metric(name=label, unit=m.group("unit"), yearly={year: value}, target=Target(op, value),
                               accumulation=acc), note))  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------- deadlines

_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12}
_NO_DEADLINE_RE = _lazy(r"全年|持续|长期|常态|长效|按要求|按计划|及时|适时|常年")
_FREQ_WORDS = {"每月": "month", "每季度": "quarter", "每季": "quarter", "每半年": "half-year", "每年": "year"}


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _dates_in(t: str, year: int) -> list[dt.date]:
    """Every point in time a deadline text names, read as the end of that day, month, quarter or half."""
    out: list[dt.date] = []
    pat = re.compile(r"(?:(?P<y>(?:19|20)\d{2})\s*年)?\s*(?:(?P<m>\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份|底|末)?"
                     r"(?:\s*(?P<d>\d{1,2})\s*日)?|(?P<h>上半年|年中|下半年|年底|年末|年内)|第?(?P<q>[一二三四1-4])\s*季度)?")
    for m in pat.finditer(t):
        if not m.group(0).strip():
            continue
        y = int(m.group("y")) if m.group("y") else year
        if m.group("m"):
            mo = int(m.group("m")) if m.group("m").isdigit() else _CN_NUM.get(m.group("m"), 0)
            if not 1 <= mo <= 12:
                continue
            if m.group("d"):
                try:
                    out.append(dt.date(y, mo, int(m.group("d"))))
                except ValueError:
                    continue
            else:
                out.append(_month_end(y, mo))
        elif m.group("q"):
            q = int(m.group("q")) if m.group("q").isdigit() else _CN_NUM[m.group("q")]
            out.append(_month_end(y, 3 * q))
        elif m.group("h") in ("上半年", "年中"):
            out.append(dt.date(y, 6, 30))
        elif m.group("h") or m.group("y"):
            out.append(dt.date(y, 12, 31))
    return out


# "2026.9.1", "2026/9/1", "2026-9", written as figures: read as 2026年9月1日, 2026年9月
_NUMERIC_DATE_RE = _lazy(r"(?<!\d)((?:19|20)\d{2})[./\-](\d{1,2})(?:[./\-](\d{1,2}))?(?![\d.])")
_NEXT_YEAR_RE = _lazy(r"次年|翌年|第二年|下一年")


def _numeric_date(m: re.Match[str]) -> str:
    return f"{m.group(1)}年{m.group(2)}月" + (f"{m.group(3)}日" if m.group(3) else "")


def parse_deadline(text: str, year: int) -> tuple[dt.date | None, str | None, bool]:
    """A 完成时限 cell: (date, frequency, understood). "2025年6月底前" → 2025-06-30; "年底前" → `year`-12-31;
    "2026年12月" → 2026-12-31; "全年"/"持续推进" → no date; "每季度" → a frequency, no date; "每年6月底前" → both,
    the date of the last year and "year" (the caller decides whether the task is a yearly duty: a metric's is not)."""
    t = _NUMERIC_DATE_RE.sub(_numeric_date, clean(text).replace(" ", ""))
    if year:
        t = _NEXT_YEAR_RE.sub(f"{year + 1}年", t)
    if is_none_mark(t):
        return None, None, True
    dated = re.search(r"\d+月|年底|年末", t)
    each_year = bool(dated) and "每年" in t  # "每年年底前": a date, each year; the programme's is the last year's
    for word, freq in _FREQ_WORDS.items():
        if word == "每年" and dated:
            continue
        if t.startswith(word) or re.fullmatch(rf".*{word}(?:报送|开展|推进|调度)?.*", t) and not dated:
            return None, freq, True
    dates = _dates_in(t, year)
    if dates:
        return max(dates), "year" if each_year else None, True
    if _NO_DEADLINE_RE.search(t):
        return None, None, True
    return None, None, False


def years_in(text: str) -> list[int]:
    """Years a title names: "2025—2027年" → [2025, 2026, 2027]; "2025年" → [2025]."""
    t = clean(text)
    m = re.search(r"((?:19|20)\d{2})\s*年?\s*[-—–~～至到]\s*((?:19|20)\d{2})\s*年", t)
    if m and 0 < int(m.group(2)) - int(m.group(1)) < 20:
        return list(range(int(m.group(1)), int(m.group(2)) + 1))
    return sorted({int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", t)})


_FREQ_RE = _lazy(r"每(?P<f>半年|季度|年)(?:度)?")
_COUNT_RE = _lazy(r"(?P<n>\d+|[一二两三四五六七八九十])\s*次")
_CN_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def parse_frequency(text: str) -> tuple[str | None, int]:
    """A recurring duty: ("half-year", 1) for "每半年召开1次会议"."""
    t = clean(text)
    m = _FREQ_RE.search(t)
    if not m:
        per = re.search(r"(?P<n>\d+|[一二两三四五六七八九十])\s*次\s*/\s*(?P<f>半年|季度?|年)", t)
        if per:
            n = per.group("n")
            kind = {"半年": "half-year", "季": "quarter", "季度": "quarter", "年": "year"}[per.group("f")]
            return kind, int(n) if n.isdigit() else _CN_DIGIT[n]
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
_DELIV_RE = _lazy(rf"{_DELIV_VERB}(?P<what>《[^》]+》|[^，。；,;\n]{{1,40}}{_DELIV_NOUN})")
_DELIV_NAME_RE = _lazy(rf"^[^，。；,;\n]{{2,30}}{_DELIV_NOUN}$")


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


_NAMED_UNIT_RE = _lazy(rf"[（(]\s*(?:单位\s*[:：]\s*)?(?P<unit>{_UNIT_RE})\s*[)）]\s*$")


def named_unit(text: str) -> str | None:
    """The unit a task's name gives its bare year figures: "新建保障性租赁住房（套）", "改造老旧小区(单位：户)"."""
    m = _NAMED_UNIT_RE.search(clean(text))
    return m.group("unit") if m else None


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
        for qty in qs:
            if (qty.name, qty.unit) not in keys:
                keys.append((qty.name, qty.unit))
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


_CN_NUMERAL_RE = re.compile(r"^[零〇一二两三四五六七八九十百千万亿]+")


def _prep(text: str) -> str:
    t = nfkc(text).replace("\u3000", " ").strip()
    t = t.replace("\u2212", "-").replace("－", "-").replace("﹣", "-")
    t = _THOUSANDS_RE.sub("", t)
    t = re.sub(r"(?<=\d)\s+(?=\d)", "", t)
    return t


def parse_count(value: object, *, integer: bool = False) -> float:
    """A typed quantity: 12, "12", "１２个", "1,200", " 3辆 ". Refuses "约5个", "三", negatives."""
    return read_count(value, None, integer=integer)[0]


# a number and what follows it: a unit, 万 or 亿 alone (1.2万), or anything else (judged by read_count)
_TYPED_ANY_RE = re.compile(r"^(?P<sign>[-+])?(?P<num>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>\D*?)$")
_SCALES = {"万": 10_000, "亿": 100_000_000}
# a count of things: "个" may stand for any of them (3个 in a field counted in 座), never for a measure (元, 吨, 公里)
# nor for people or times (人, 名, 位, 次)
_CLASSIFIERS = COUNTABLE_UNITS - frozenset("人名位次")


def read_count(value: object, unit: str | None, *, integer: bool = False) -> tuple[float, str | None]:
    """A typed quantity in the field's `unit`, and how it was converted when the unit typed says another scale
    ("2万辆" in a field counted in 辆 is 20000; "5200人" in one counted in 万人 is 0.52): None when it was not.

    A unit typed that is not the field's (12吨 where 个 are counted, 200元 where 辆 are) is refused, never
    dropped; with no `unit` (a ledger's own figures) any unit on the list is taken as written."""
    if isinstance(value, bool):
        raise NumberError("不是数字")
    note = None
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
        m = _TYPED_ANY_RE.match(t)
        if m and m.group("unit") in ("%", "％"):  # a return's count field says what to type; a ledger's figure, what it is
            what = "次数" if unit == "次" else "数量"
            raise NumberError(f"是百分数，本栏填的是{what}（{unit}），请填写数字，不带百分号" if unit else f"是百分数，不是{what}")
        if not m:
            raise NumberError("不是数字")
        n, note = _in_unit(m.group("num"), m.group("unit"), unit)
        if m.group("sign") == "-":
            n = -n
    if n != n or n in (float("inf"), float("-inf")):
        raise NumberError("不是有效数字")
    if n < 0:
        raise NumberError("不能为负数")
    if integer and not float(n).is_integer():
        raise NumberError("应为整数")
    return n, note


def _scale_of(unit: str) -> tuple[int, str]:
    """(10000, "人") for 万人, (1, "辆") for 辆: the scale a unit is written in and what it counts."""
    if len(unit) > 1 and unit[0] in _SCALES:
        return _SCALES[unit[0]], unit[1:]
    return (_SCALES[unit], "") if unit in _SCALES else (1, unit)


def _in_unit(num: str, typed: str, unit: str | None) -> tuple[float, str | None]:
    """The number typed before `typed` (a unit, or nothing) in the field's `unit`; see read_count."""
    from decimal import Decimal

    typed, unit = typed.strip(), (unit or "").strip()
    if not typed or typed == unit:
        return float(num), None
    if not unit:
        if typed not in UNITS:
            raise NumberError("不是数字")
        return float(num), None
    (s1, base1), (s2, base2) = _scale_of(typed), _scale_of(unit)
    base1 = base1 or base2  # "1.2万" where 辆 are counted: 1.2万辆
    if base1 != base2 and not (base1 == "个" and base2 in _CLASSIFIERS):
        raise NumberError(f"的单位“{typed}”不是本栏的单位（{unit}），请按{unit}只填写数字")
    if s1 == s2:
        return float(num), None
    n = float(Decimal(num) * s1 / s2)
    return n, f"按本栏单位（{unit}）折算为 {fmt_number(n)}"


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


# A time of day or a duration as Excel, WPS and LibreOffice store it: a fraction of a day (3:01 is 181/1440).
_TIME_TEXT_RE = re.compile(r"(\d+):([0-5]\d)(?::([0-5]\d))?")


def time_of_serial(value: float) -> tuple[int, int, int] | None:
    """(hours, minutes, seconds) when a number is a typed time stored as a day fraction, else None.

    Why: "3:1" typed where the cell is not text becomes the time 3:01 (0.125694444444444) — LibreOffice
    keeps the cell's own number format, so only the value says so. A number counts as a time when it is
    a whole number of seconds of 0–100 days, not whole hours, and has more than six decimals (no one
    types 0.125694444444444; 0.125, 3:00, is left to be what it says)."""
    if not 0 < value < 100:
        return None
    seconds = value * 86400
    n = round(seconds)
    if abs(seconds - n) > 1e-6 or n % 3600 == 0 or len(f"{value:.15g}".partition(".")[2]) <= 6:
        return None
    return n // 3600, n % 3600 // 60, n % 60


def time_of_text(text: str) -> tuple[int, int, int] | None:
    """(hours, minutes, seconds) of a time as the reader writes one ("3:01", "25:01:05"), else None."""
    m = _TIME_TEXT_RE.fullmatch(text.strip())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def ratio_of_time(hms: tuple[int, int, int]) -> float | None:
    """The ratio a person meant by typing h:m that was stored as a time (3:01 → 3:1 → 3.0); None when
    the time cannot be read back as one ratio (seconds were typed, or m is 0)."""
    h, m, s = hms
    return h / m if s == 0 and m > 0 else None


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
