"""The ledger model: plain dataclasses every stage of the pipeline shares.

Nothing here knows about files; the Word import and the definition workbook turn files into these.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .codes import Code
from .findings import LedgerError

# defaults stated once: the office that issues templates, reports and mail, and the days a return is due after
# its period ends, when neither the definition nor ledger-xl.toml says otherwise
DEFAULT_ISSUER = "领导小组办公室"
DEFAULT_DEADLINE_DAYS = 10

Op = Literal[">=", "<=", "=="]
Accumulation = Literal["additions", "year_end", "per_year"]
Frequency = Literal["half-year", "quarter", "year"]
Change = Literal["decrease", "increase"]
PeriodKind = Literal["month", "quarter", "half-year", "year"]

ALL_MEMBERS = "各成员单位"
ACCUMULATION_BASIS: dict[str, str] = {"additions": "累计", "year_end": "年末水平", "per_year": "当年"}

OP_SYMBOL: dict[str, str] = {">=": "≥", "<=": "≤", "==": "="}
SYMBOL_OP: dict[str, Op] = {"≥": ">=", "≤": "<=", "=": "=="}
FREQUENCY_LABEL: dict[str, str] = {"half-year": "每半年", "quarter": "每季度", "year": "每年"}
LABEL_FREQUENCY: dict[str, Frequency] = {"每半年": "half-year", "每季度": "quarter", "每年": "year"}
PERIOD_KIND_LABEL: dict[str, str] = {"half-year": "半年", "quarter": "季度", "year": "年度", "month": "月"}
LABEL_PERIOD_KIND: dict[str, str] = {v: k for k, v in PERIOD_KIND_LABEL.items()}
# other ways a clerk or a ledger's notes write the reporting period (设置 › 报送周期)
PERIOD_KIND_ALIASES: dict[str, str] = {
    **LABEL_PERIOD_KIND, "月度": "month", "每月": "month", "按月": "month", "季": "quarter", "每季度": "quarter",
    "按季度": "quarter", "每半年": "half-year", "半年度": "half-year", "年": "year", "每年": "year", "全年": "year",
}
PERIODS_IN_YEAR: dict[str, int] = {"month": 12, "quarter": 4, "half-year": 2, "year": 1}
# units counted in whole things: a plan for them is shown and judged in whole units, and a template takes whole numbers
COUNTABLE_UNITS = frozenset("个家座辆户人所项处条台艘架间栋幢套名位次件只部张本册篇批场起宗口眼棵株头匹支块枚盏")


def is_countable(unit: str) -> bool:
    """个、家、座、辆、户、人…: a count of whole things (万人, 公里 and 吨 are not)."""
    return unit.strip() in COUNTABLE_UNITS
CHANGE_LABEL: dict[str, str] = {"decrease": "降低", "increase": "提高"}
LABEL_CHANGE: dict[str, Change] = {"降低": "decrease", "提高": "increase"}


@dataclass(frozen=True, slots=True)
class Target:
    op: Op
    value: float

    def to_json(self) -> dict[str, object]:
        return {"op": self.op, "value": self.value}

    def label(self, unit: str = "") -> str:
        return f"{OP_SYMBOL[self.op] if self.op != '==' else ''}{fmt_number(self.value)}{unit}"


@dataclass(slots=True)
class Metric:
    """A counted quantity with a figure per year.

    `accumulation` says what a yearly figure means: "additions" (that year's new amount; the total is the
    sum), "year_end" (the level reached at the year's end; the total is the last) or "per_year" (that
    year's own figure, e.g. annual revenue; judged year by year).
    """

    name: str
    unit: str
    yearly: dict[int, float]
    target: Target | None = None
    accumulation: Accumulation = "additions"

    def planned_total(self) -> float:
        if not self.yearly:
            return 0.0
        if self.accumulation == "additions":
            return sum(self.yearly.values())
        return self.yearly[max(self.yearly)]

    def goal(self) -> Target:
        """The programme's goal in the metric's unit: the stated target, else what the yearly figures add up to."""
        return self.target or Target(">=", self.planned_total())

    def goal_value(self, year: int) -> float:
        """What completion is measured against in `year`: the programme's goal, or for a per-year metric that year's figure."""
        if self.accumulation == "per_year":
            return self.yearly.get(year, 0.0)
        return self.goal().value

    def planned_at(self, period: Period) -> float:
        """What the plan asks for at the end of `period`, in the terms the actual is given in (see `actual`).

        additions: earlier years' additions plus this year's pro-rata share; year_end: the level reached,
        moving from last year's level towards this year's (this year's level in the first year);
        per_year: this year's own figure, pro rata. The share is by months elapsed (July: 7/12); things
        counted whole are expected in whole units.
        """
        this = self.yearly.get(period.year, 0.0)
        frac = period.year_fraction
        if self.accumulation == "per_year":
            planned = this * frac
        elif self.accumulation == "year_end":
            prev = self.yearly.get(period.year - 1, this)
            planned = prev + (this - prev) * frac
        else:
            planned = sum(v for y, v in self.yearly.items() if y < period.year) + this * frac
        if is_countable(self.unit):  # 个、家、座…: the whole units the share has reached (12 座 by July: 7; 5 个: 2, not 2.92)
            return float(math.floor(planned + 1e-9)) if planned >= 0 else float(math.ceil(planned - 1e-9))
        return planned

    def actual(self, reported: dict[str, float], period: Period, *, inclusive: bool = True) -> float | None:
        """The figure compared with the plan at `period`, from what was reported per period (code → value):
        additions: everything reported so far added up; year_end: the latest level reported; per_year: what
        was reported within `period`'s year added up. None when nothing counts yet."""
        # periods of one kind are in Period's order by (year, index): tuples compared in C, not Periods
        end, kind, parse = (period.year, period.index), period.kind, Period.parse
        got: list[tuple[tuple[int, int], float]] = []
        for code, v in reported.items():
            p = parse(code)
            if p.kind == kind and ((p.year, p.index) <= end if inclusive else (p.year, p.index) < end):
                got.append(((p.year, p.index), v))
        got.sort()
        if self.accumulation == "per_year":
            got = [(at, v) for at, v in got if at[0] == period.year]
        if not got:
            return None
        return got[-1][1] if self.accumulation == "year_end" else sum(v for _, v in got)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": self.unit,
            "yearly": {str(y): v for y, v in sorted(self.yearly.items())},
            "target": self.goal().to_json(),  # the programme's goal: as stated, else what the yearly figures make
            "accumulation": self.accumulation,
        }


@dataclass(slots=True)
class Indicator:
    """A threshold to reach by the end of the programme, optionally against the baseline (期初)."""

    text: str
    op: Op
    value: float
    unit: Literal["%", "ratio"]
    baseline: bool = False
    change: Change | None = None
    yearly: dict[int, Target] = field(default_factory=dict)  # a threshold per year, when it rises year by year

    def threshold_for(self, year: int) -> Target:
        """The threshold in force in `year`: that year's own, else the programme's (op, value)."""
        return self.yearly.get(year) or Target(self.op, self.value)

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "op": self.op,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "change": self.change,
            "yearly": {str(y): t.to_json() for y, t in sorted(self.yearly.items())},
        }

    def threshold_label(self) -> str:
        v = fmt_number(self.value)
        return f"{OP_SYMBOL[self.op]}{v}%" if self.unit == "%" else f"{OP_SYMBOL[self.op]}{v}:1"


@dataclass(slots=True)
class Task:
    id: str
    category: str
    task: str
    item: str | None
    breakdown: dict[int, str]
    lead: list[str]
    responsible: list[str]
    metrics: list[Metric] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    frequency: Frequency | None = None
    frequency_count: int = 1
    deliverable: str | None = None
    note: str = ""
    leaders: list[str] = field(default_factory=list)  # 牵头市领导/责任领导: persons, never units
    target_text: str | None = None  # 具体目标/工作目标, when the ledger has such a column
    deadline: dt.date | None = None  # 完成时限
    # leads that stand for one group unit the clerk expanded (各乡镇人民政府 → its 包含单位): each does a part of
    # the work, so their figures add up; other co-leads report the same figure, the first one's counts
    shared: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.task}—{self.item}" if self.item and self.item != self.task else self.task

    def lead_figure(self, nums: Mapping[str, float]) -> float | None:
        """The task's figure for one metric and period from its leads' reports (bureau → number): the shared
        leads' added up when any of them reported, else the first lead's that did; None when none did."""
        if self.shared and any(b in nums for b in self.shared):
            return sum(nums[b] for b in self.shared if b in nums)
        return next((nums[b] for b in self.lead if b in nums), None)


@dataclass(slots=True)
class Bureau:
    name: str
    short_name: str = ""
    member: bool = True
    contact: str = ""
    email: str = ""
    phone: str = ""
    group: bool = False  # a collective name (各县（市、区）政府, 市直各部门) the clerk may expand
    includes: list[str] = field(default_factory=list)  # the units a group stands for, when expanded

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "short_name": self.short_name,
            "member": self.member,
            "contact": self.contact,
            "email": self.email,
            "phone": self.phone,
            "group": self.group,
            "includes": list(self.includes),
        }


@dataclass(slots=True)
class Ledger:
    title: str
    years: list[int]
    bureaus: list[Bureau]
    tasks: list[Task]
    period_kind: PeriodKind = "half-year"
    office: str = ""
    deadline_rule: DeadlineRule | None = None  # 报送截止 as the office states it (设置 or the ledger's notes)
    # role_index worked out once, with what it was worked out from (see role_index); no part of the model
    _roles: tuple[object, dict[str, list[tuple[Task, str]]]] | None = field(default=None, init=False, repr=False, compare=False)

    def bureau_names(self) -> list[str]:
        return [b.name for b in self.bureaus]

    def members(self) -> list[str]:
        return [b.name for b in self.bureaus if b.member]

    def bureau(self, name: str) -> Bureau | None:
        return next((b for b in self.bureaus if b.name == name), None)

    def responsible_of(self, task: Task) -> list[str]:
        """The responsible list with 各成员单位 expanded, never repeating a lead bureau."""
        out: list[str] = []
        for name in task.responsible:
            names = self.members() if name == ALL_MEMBERS else [name]
            for n in names:
                if n not in out and n not in task.lead:
                    out.append(n)
        return out

    def role_index(self) -> dict[str, list[tuple[Task, str]]]:
        """Bureau → its (task, role) pairs in task order, in one pass (各成员单位 expanded once). A command asks
        for it several times: kept, and worked out again when a task or bureau it came from has changed.
        Read it, do not change it."""
        basis = (tuple((b.name, b.member) for b in self.bureaus),
                 tuple((id(t), tuple(t.lead), tuple(t.responsible)) for t in self.tasks))
        if self._roles is not None and self._roles[0] == basis:
            return self._roles[1]
        index = self._role_index()
        self._roles = (basis, index)
        return index

    def _role_index(self) -> dict[str, list[tuple[Task, str]]]:
        members = self.members()
        index: dict[str, list[tuple[Task, str]]] = {}
        for t in self.tasks:
            for b in t.lead:
                index.setdefault(b, []).append((t, "lead"))
            seen = set(t.lead)
            for name in t.responsible:
                for b in members if name == ALL_MEMBERS else [name]:
                    if b not in seen:
                        seen.add(b)
                        index.setdefault(b, []).append((t, "responsible"))
        return index

    def bureaus_with_tasks(self) -> list[str]:
        """Every bureau that leads or shares at least one task, in bureau-sheet order."""
        involved = set(self.role_index())
        ordered = [b.name for b in self.bureaus if b.name in involved]
        return ordered + sorted(involved - set(ordered))

    def tasks_for(self, bureau: str) -> list[tuple[Task, str]]:
        return self.role_index().get(bureau, [])

    def periods(self) -> list[Period]:
        return [p for y in self.years for p in Period.all_in_year(y, self.period_kind)]

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "years": list(self.years),
            "period_kind": self.period_kind,
            "office": self.office,
            "deadline_rule": self.deadline_rule.text if self.deadline_rule else None,
            "bureaus": [b.to_json() for b in self.bureaus],
            "tasks": [
                {
                    "id": t.id,
                    "category": t.category,
                    "task": t.task,
                    "item": t.item,
                    "breakdown": {str(y): s for y, s in sorted(t.breakdown.items())},
                    "lead": list(t.lead),
                    "responsible": self.responsible_of(t),
                    "metrics": [m.to_json() for m in t.metrics],
                    "indicators": [i.to_json() for i in t.indicators],
                    "frequency": t.frequency,
                    "frequency_count": t.frequency_count,
                    "deliverable": t.deliverable,
                    "note": t.note,
                    "leaders": list(t.leaders),
                    "target_text": t.target_text,
                    "deadline": t.deadline.isoformat() if t.deadline else None,
                }
                for t in self.tasks
            ],
        }


def ledger_to_raw(ledger: Ledger) -> dict[str, object]:
    """The model exactly as defined (各成员单位 not expanded), for the load cache; ledger_from_raw inverts it."""
    return {
        "title": ledger.title, "years": ledger.years, "period_kind": ledger.period_kind, "office": ledger.office,
        "deadline_rule": ledger.deadline_rule.text if ledger.deadline_rule else None,
        "bureaus": [b.to_json() for b in ledger.bureaus],
        "tasks": [{
            "id": t.id, "category": t.category, "task": t.task, "item": t.item,
            "breakdown": [[y, s] for y, s in t.breakdown.items()], "lead": t.lead, "responsible": t.responsible,
            "metrics": [{"name": m.name, "unit": m.unit, "yearly": [[y, v] for y, v in m.yearly.items()],
                         "target": [m.target.op, m.target.value] if m.target else None,
                         "accumulation": m.accumulation} for m in t.metrics],
            "indicators": [{**i.to_json(), "yearly": [[y, tg.op, tg.value] for y, tg in i.yearly.items()]}
                           for i in t.indicators],
            "frequency": t.frequency, "frequency_count": t.frequency_count, "deliverable": t.deliverable, "note": t.note,
            "leaders": t.leaders, "target_text": t.target_text,
            "deadline": t.deadline.isoformat() if t.deadline else None, "shared": t.shared,
        } for t in ledger.tasks],
    }


def ledger_from_raw(d: dict) -> Ledger:
    return Ledger(
        title=d["title"], years=list(d["years"]), period_kind=d["period_kind"], office=d["office"],
        deadline_rule=DeadlineRule.parse(d["deadline_rule"], source=DEFINITION_RULE_SOURCE) if d.get("deadline_rule") else None,
        bureaus=[Bureau(**b) for b in d["bureaus"]],
        tasks=[Task(
            id=t["id"], category=t["category"], task=t["task"], item=t["item"],
            breakdown={int(y): s for y, s in t["breakdown"]}, lead=list(t["lead"]), responsible=list(t["responsible"]),
            metrics=[Metric(m["name"], m["unit"], {int(y): float(v) for y, v in m["yearly"]},
                            Target(m["target"][0], float(m["target"][1])) if m["target"] else None,
                            m.get("accumulation", "additions")) for m in t["metrics"]],
            indicators=[_indicator_from_raw(i) for i in t["indicators"]],
            frequency=t["frequency"], frequency_count=t["frequency_count"], deliverable=t["deliverable"], note=t["note"],
            leaders=list(t.get("leaders", [])), target_text=t.get("target_text"),
            deadline=dt.date.fromisoformat(t["deadline"]) if t.get("deadline") else None, shared=list(t.get("shared", [])),
        ) for t in d["tasks"]],
    )


def _indicator_from_raw(i: dict) -> Indicator:
    yearly = {int(y): Target(op, float(v)) for y, op, v in i.get("yearly", [])}
    return Indicator(**{k: v for k, v in i.items() if k != "yearly"}, yearly=yearly)


_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_number(text: str) -> int | None:
    """A small number as written in Chinese or digits (7, ０７, 七, 十二, 二十八, 三十一); None if it is not one."""
    t = text.strip().translate(_FULLWIDTH)
    if t.isdigit():
        return int(t)
    if not t or any(c not in _CN_DIGITS and c != "十" for c in t):
        return None
    if "十" not in t:
        return _CN_DIGITS[t] if len(t) == 1 else None
    tens, _, ones = t.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


_FULLWIDTH = str.maketrans("０１２３４５６７８９ＭＨＱｍｈｑ－／．", "0123456789MHQmhq-/.")
_NUM = r"[0-9〇零一二两三四五六七八九十]{1,3}"
_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*(?:年)?\s*(H[12]|Q[1-4]|上半年|下半年|第?[一二三四1-4]季度)?\s*$", re.I)
_MONTH_RES = (
    re.compile(r"^\s*(\d{4})\s*[-/.]\s*(\d{1,2})\s*$"),  # 2025-07, 2025/7, 2025.07
    re.compile(r"^\s*(\d{4})\s*M\s*(\d{1,2})\s*$", re.I),  # 2025M07
    re.compile(rf"^\s*(\d{{4}})\s*年\s*({_NUM})\s*月(?:份)?\s*$"),  # 2025年7月, 2025年07月, 2025年七月份
)
_QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4}
_MONTHS_OF_KIND = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}
_PERIOD_HELP = "请写成 2025M07（月，也可写 2025-07 或 2025年7月）、2024Q1（季度）、2024H1（上半年）、2024H2（下半年）或 2024（全年）。"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A reporting period: 2025M07 (a month), 2024Q3, 2024H1 or 2024 (whole year)."""

    year: int
    kind: PeriodKind
    index: int  # 1-based within the year; 1 for a whole year

    @classmethod
    def parse(cls, text: str) -> Period:
        return _parse_period(text)

    @classmethod
    def _parse(cls, text: str) -> Period:
        norm = (text or "").translate(_FULLWIDTH)
        for rx in _MONTH_RES:
            m = rx.match(norm)
            if m:
                month = cn_number(m.group(2))
                if month is None or not 1 <= month <= 12:
                    raise LedgerError.of(Code.PERIOD_FORMAT, text=text, problem="的月份不对：应在 1—12 月之间", help=_PERIOD_HELP)
                return cls(int(m.group(1)), "month", month)
        m = _PERIOD_RE.match(norm)
        if not m:
            raise LedgerError.of(Code.PERIOD_FORMAT, text=text, problem="写法不对", help=_PERIOD_HELP)
        year, part = int(m.group(1)), (m.group(2) or "").upper()
        if not part:
            return cls(year, "year", 1)
        if part in ("H1", "上半年"):
            return cls(year, "half-year", 1)
        if part in ("H2", "下半年"):
            return cls(year, "half-year", 2)
        digit = re.search(r"[1-4一二三四]", part)
        assert digit is not None
        q = digit.group(0)
        return cls(year, "quarter", int(q) if q.isdigit() else _QUARTER_WORDS[q])

    @staticmethod
    def all_in_year(year: int, kind: PeriodKind) -> list[Period]:
        return [Period(year, kind, i) for i in range(1, PERIODS_IN_YEAR[kind] + 1)]

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.year}M{self.index:02d}"
        if self.kind == "half-year":
            return f"{self.year}H{self.index}"
        if self.kind == "quarter":
            return f"{self.year}Q{self.index}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.index}月"
        if self.kind == "half-year":
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        return f"{self.year}年"

    @property
    def is_year_end(self) -> bool:
        return self.index == PERIODS_IN_YEAR[self.kind]

    @property
    def months(self) -> int:
        """How many months the period spans."""
        return _MONTHS_OF_KIND[self.kind]

    @property
    def end_month(self) -> int:
        return self.months * self.index

    @property
    def year_fraction(self) -> float:
        """The share of the year elapsed at the period's end (months elapsed ÷ 12): the pro-rata basis."""
        return self.end_month / 12

    @property
    def start_date(self) -> dt.date:
        return dt.date(self.year, self.end_month - self.months + 1, 1)

    @property
    def end_date(self) -> dt.date:
        m = self.end_month
        return dt.date(self.year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)

    def codes_up_to(self) -> frozenset[str]:
        """Codes of every period of this kind up to and including this one (for fast filtering)."""
        return _codes_up_to(self)

    def previous(self) -> Period:
        if self.index > 1:
            return Period(self.year, self.kind, self.index - 1)
        return Period(self.year - 1, self.kind, PERIODS_IN_YEAR[self.kind])

    def __str__(self) -> str:
        return self.code


@functools.lru_cache(maxsize=1024)
def _parse_period(text: str) -> Period:
    """Periods are parsed for every stored value: a handful of distinct strings, cached."""
    return Period._parse(text)


@functools.lru_cache(maxsize=256)
def _codes_up_to(period: Period) -> frozenset[str]:
    first = 1900
    return frozenset(p.code for y in range(first, period.year + 1) for p in Period.all_in_year(y, period.kind) if p <= period)


_EXAMPLE_CODE = {"half-year": "2024H1", "quarter": "2024Q1", "year": "2024", "month": "2024M01（或 2024-01、2024年1月）"}


def check_period_in(ledger: Ledger, period: Period) -> None:
    if period.year not in ledger.years:
        years = f"{ledger.years[0]}—{ledger.years[-1]}年" if ledger.years else "（未设定）"
        raise LedgerError.of(Code.PERIOD_RANGE, period=period.code, years=years)
    if period.kind != ledger.period_kind:
        raise LedgerError.of(Code.PERIOD_KIND, kind=PERIOD_KIND_LABEL[ledger.period_kind], period=period.code,
                             example=_EXAMPLE_CODE[ledger.period_kind])


# ---------------------------------------------------------------- when a period's return is due

DEFINITION_RULE_SOURCE = "台账定义表 设置 › 报送截止"
_FULL_DATE_RE = re.compile(r"\d{4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}")
_WORKDAY_RE = re.compile(r"工作日")
_DAYS_AFTER_RE = re.compile(rf"(?:结束|期满|期末|月末|季末|年末|终了|届满|报送期)?\s*后\s*({_NUM})\s*(?:个)?\s*(?:日|天)")
_DAY_OF_MONTH_RE = re.compile(rf"({_NUM})\s*[日号]\s*(?:前|之前|以前|止|为止)?")
# said of a day of the month: the period's own month (当月, 本月, 末月 of a quarter), or the next one (the default)
_SAME_MONTH_RE = re.compile(r"当月|本月|末月|最后一个月|当季|本季")
_NEXT_MONTH_RE = re.compile(r"次月|下月|上月|上季|上期|结束后|期满后|期末后")


@dataclass(slots=True)
class DeadlineRule:
    """When a period's return is due, as the office states it: `days` after the period ends (today's
    default, 10), or `day` D of the month after the period (每月28日前报送上月情况); `dates` name a
    period's own deadline (period code → date) and win over the rule for that period. A return received
    on the due date is on time."""

    days: int | None = DEFAULT_DEADLINE_DAYS
    day: int | None = None
    dates: dict[str, dt.date] = field(default_factory=dict)
    # day D of the period's own last month, not the next one: 每月25日前报送当月进展, 每季度末月25日前
    same_month: bool = False
    source: str = ""  # where it was stated, for the clerk: "ledger-xl.toml", "台账定义表 设置 › 报送截止"

    def due(self, period: Period) -> dt.date:
        own = self.dates.get(period.code)
        if own is not None:
            return own
        end = period.end_date
        if self.day is not None:
            y, m = (end.year, end.month) if self.same_month else (end.year + (end.month == 12), end.month % 12 + 1)
            last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
            return dt.date(y, m, min(self.day, last))
        return end + dt.timedelta(days=self.days or 0)

    @property
    def text(self) -> str:
        """The rule in the words 设置 › 报送截止 takes back (DeadlineRule.parse(rule.text) == the rule)."""
        if self.day is not None:
            return f"报送期最后一个月{self.day}日前" if self.same_month else f"报送期结束后次月{self.day}日前"
        return f"报送期结束后{self.days or 0}日内"

    def describe(self, period: Period) -> str:
        """'2025年8月28日（次月28日前）' style wording of where a period's deadline comes from."""
        if period.code in self.dates:
            return f"{self.source or 'ledger-xl.toml'} 中为 {period.code} 单独规定的日期"
        return self.text + (f"，见{self.source}" if self.source else "")

    @classmethod
    def parse(cls, text: object, *, where: str = "报送截止", source: str = "") -> DeadlineRule:
        """'10', '期末后10日内', '每季度结束后15天内' → days after; '每月28日前', '次月10日前' → a day of the next month."""
        t = str(text if text is not None else "").translate(_FULLWIDTH).strip()
        if re.fullmatch(r"\d{1,3}", t):
            return cls(days=int(t), source=source)
        if _WORKDAY_RE.search(t):
            raise LedgerError.of(Code.DEADLINE_RULE, where=where, text=text, problem="按工作日计算，ledger-xl 只按自然日计算截止日期",
                                 fix="请改写为“报送期结束后10日内”或“次月28日前”这样的自然日规则，或在 ledger-xl.toml 的 [deadlines] 中逐期写明日期")
        if _FULL_DATE_RE.search(t):
            raise LedgerError.of(Code.DEADLINE_RULE, where=where, text=text, problem="是某一天的日期，不是每期适用的规则",
                                 fix="请写成“报送期结束后10日内”或“次月28日前”；个别报送期的截止日期请写在 ledger-xl.toml 的 [deadlines] 中，"
                                 "例如 2025M07 = 2025-08-28")
        m = _DAYS_AFTER_RE.search(t)
        if m and (n := cn_number(m.group(1))) is not None and n <= 366:
            return cls(days=n, source=source)
        m = _DAY_OF_MONTH_RE.search(t)
        if m and (d := cn_number(m.group(1))) is not None and 1 <= d <= 31:
            return cls(days=None, day=d, source=source, same_month=bool(_SAME_MONTH_RE.search(t)) and not _NEXT_MONTH_RE.search(t))
        raise LedgerError.of(Code.DEADLINE_RULE, where=where, text=text, problem="无法识别",
                             fix="请写成“报送期结束后10日内”（结束后第几天）或“次月28日前”（结束后下个月的第几日），"
                             "或在 ledger-xl.toml 的 [deadlines] 中逐期写明日期")


def default_period(ledger: Ledger, rule: DeadlineRule, today: dt.date, *, collecting: bool = False) -> tuple[Period, str]:
    """The period a command takes when --period is left out, and the sentence that says so.

    Judging (status, check, report): the latest period whose deadline has passed, else the current one.
    Collecting (templates, reminders): the latest period that has ended — its returns are being collected —
    else the first. Outside the programme's years the nearest end is taken."""
    periods = ledger.periods()
    if not periods:
        raise LedgerError.of(Code.NO_YEARS)
    ended = [p for p in periods if p.end_date < today]
    current = next((p for p in periods if p.start_date <= today <= p.end_date), None)
    if not collecting:
        passed = [p for p in periods if rule.due(p) < today]
        if passed:
            p = passed[-1]
            return p, f"未指定报送期，取截止日期（{rule.due(p).isoformat()}）已过的最近一期：{p.label}（{p.code}）"
        p = current or (ended[-1] if ended else periods[0])
        return p, f"未指定报送期，尚无截止日期已过的报送期，取当前报送期：{p.label}（{p.code}）"
    if rule.same_month and current is not None:  # due within the period (每月25日前报送当月进展): this one is being collected
        return current, f"未指定报送期，取当前报送期（报送截止在本期内）：{current.label}（{current.code}，截止 {rule.due(current).isoformat()}）"
    p = ended[-1] if ended else periods[0]
    why = "已结束的最近一期" if ended else "第一期"
    return p, f"未指定报送期，取{why}：{p.label}（{p.code}，截止 {rule.due(p).isoformat()}）"


def fmt_number(v: float | int | None) -> str:
    if v is None:
        return ""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0").rstrip(".")


def pct(x: float | None) -> str:
    """A share as people write it, the same in a report's text, its tables and its charts: 100%, 87.5%, 8.71% (no
    trailing zeros), — when unknown; a share short of the whole never reads 100% (99.996% shows 99.99%)."""
    if x is None:
        return "—"
    shown = round(x * 100, 2)
    if shown >= 100 > x * 100:
        shown = 99.99
    return fmt_number(shown) + "%"
