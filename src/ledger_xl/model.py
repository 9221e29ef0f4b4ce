"""The ledger model: plain dataclasses every stage of the pipeline shares.

Nothing here knows about files; the Word import and the definition workbook turn files into these.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Literal

from .findings import LedgerError

Op = Literal[">=", "<=", "=="]
Accumulation = Literal["additions", "year_end", "per_year"]
Frequency = Literal["half-year", "quarter", "year"]
PeriodKind = Literal["half-year", "quarter", "year"]

ALL_MEMBERS = "各成员单位"

OP_SYMBOL: dict[str, str] = {">=": "≥", "<=": "≤", "==": "="}
SYMBOL_OP: dict[str, str] = {v: k for k, v in OP_SYMBOL.items()}
FREQUENCY_LABEL: dict[str, str] = {"half-year": "每半年", "quarter": "每季度", "year": "每年"}
LABEL_FREQUENCY: dict[str, str] = {v: k for k, v in FREQUENCY_LABEL.items()}
PERIOD_KIND_LABEL: dict[str, str] = {"half-year": "半年", "quarter": "季度", "year": "年度"}
LABEL_PERIOD_KIND: dict[str, str] = {v: k for k, v in PERIOD_KIND_LABEL.items()}
CHANGE_LABEL: dict[str, str] = {"decrease": "降低", "increase": "提高"}
LABEL_CHANGE: dict[str, str] = {v: k for k, v in CHANGE_LABEL.items()}


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

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": self.unit,
            "yearly": {str(y): v for y, v in sorted(self.yearly.items())},
            "target": self.target.to_json() if self.target else None,
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
    change: Literal["decrease", "increase"] | None = None
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

    @property
    def title(self) -> str:
        return f"{self.task}—{self.item}" if self.item and self.item != self.task else self.task


@dataclass(slots=True)
class Bureau:
    name: str
    short_name: str = ""
    member: bool = True
    contact: str = ""
    email: str = ""
    phone: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "short_name": self.short_name,
            "member": self.member,
            "contact": self.contact,
            "email": self.email,
            "phone": self.phone,
        }


@dataclass(slots=True)
class Ledger:
    title: str
    years: list[int]
    bureaus: list[Bureau]
    tasks: list[Task]
    period_kind: PeriodKind = "half-year"
    office: str = ""

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
        """Bureau → its (task, role) pairs in task order, in one pass (各成员单位 expanded once)."""
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
            "deadline": t.deadline.isoformat() if t.deadline else None,
        } for t in ledger.tasks],
    }


def ledger_from_raw(d: dict) -> Ledger:  # type: ignore[type-arg]
    return Ledger(
        title=d["title"], years=list(d["years"]), period_kind=d["period_kind"], office=d["office"],
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
            deadline=dt.date.fromisoformat(t["deadline"]) if t.get("deadline") else None,
        ) for t in d["tasks"]],
    )


def _indicator_from_raw(i: dict) -> Indicator:  # type: ignore[type-arg]
    yearly = {int(y): Target(op, float(v)) for y, op, v in i.get("yearly", [])}
    return Indicator(**{k: v for k, v in i.items() if k != "yearly"}, yearly=yearly)


_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*(?:年)?\s*(H[12]|Q[1-4]|上半年|下半年|第?[一二三四1-4]季度)?\s*$", re.I)
_QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4}


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A reporting period: 2024H1, 2024Q3 or 2024 (whole year)."""

    year: int
    kind: PeriodKind
    index: int  # 1-based within the year; 1 for a whole year

    @classmethod
    def parse(cls, text: str) -> Period:
        return _parse_period(text)

    @classmethod
    def _parse(cls, text: str) -> Period:
        m = _PERIOD_RE.match(text or "")
        if not m:
            raise LedgerError(
                f"报送期“{text}”写法不对。请写成 2024H1（上半年）、2024H2（下半年）、2024Q1（季度）或 2024（全年）。",
                code="period-format",
            )
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
        n = {"half-year": 2, "quarter": 4, "year": 1}[kind]
        return [Period(year, kind, i) for i in range(1, n + 1)]

    @property
    def code(self) -> str:
        if self.kind == "half-year":
            return f"{self.year}H{self.index}"
        if self.kind == "quarter":
            return f"{self.year}Q{self.index}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "half-year":
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        return f"{self.year}年"

    @property
    def is_year_end(self) -> bool:
        return self.index == {"half-year": 2, "quarter": 4, "year": 1}[self.kind]

    @property
    def end_month(self) -> int:
        return {"half-year": 6, "quarter": 3, "year": 12}[self.kind] * self.index

    def codes_up_to(self) -> frozenset[str]:
        """Codes of every period of this kind up to and including this one (for fast filtering)."""
        return _codes_up_to(self)

    def previous(self) -> Period:
        if self.index > 1:
            return Period(self.year, self.kind, self.index - 1)
        last = {"half-year": 2, "quarter": 4, "year": 1}[self.kind]
        return Period(self.year - 1, self.kind, last)

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


def check_period_in(ledger: Ledger, period: Period) -> None:
    if period.year not in ledger.years:
        years = f"{ledger.years[0]}—{ledger.years[-1]}年" if ledger.years else "（未设定）"
        raise LedgerError(f"报送期 {period.code} 不在本台账的年份内（{years}）。请检查 --period。", code="period-range")
    if period.kind != ledger.period_kind:
        raise LedgerError(
            f"本台账按{PERIOD_KIND_LABEL[ledger.period_kind]}报送，报送期 {period.code} 与之不符。"
            f"请改用{'2024H1' if ledger.period_kind == 'half-year' else '2024Q1' if ledger.period_kind == 'quarter' else '2024'}这样的写法。",
            code="period-kind",
        )


def fmt_number(v: float | int | None) -> str:
    if v is None:
        return ""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0").rstrip(".")
