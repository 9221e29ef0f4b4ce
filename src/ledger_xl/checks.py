"""Plan checks: what the store holds up to a period, against the plan. A pure function over plain data.

Statuses, worst first: 未达标 (an indicator missed at the end), 滞后 (behind at a year end or a duty
missed), 预警 (below the pro-rata plan mid-year), 按进度, 超额 (ahead of plan), 已完成. 未报 means the
lead bureau has not submitted — not the same as behind.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .codes import Code
from .findings import Finding
from .layout import DELIVERABLE_DONE
from .model import (
    FREQUENCY_LABEL,
    OP_SYMBOL,
    DeadlineRule,
    Indicator,
    Ledger,
    Metric,
    Period,
    PeriodKind,
    Task,
    fmt_number,
)
from .reporting import MISSING, REFUSED, BureauStatus, StatusReport, period_status
from .status import BEHIND, COUNT_ORDER, Status, worst
from .store import Store, StoredValue, Submission

# the stored kinds the checks read (texts such as problems and plans are not needed)
CHECKED_KINDS = frozenset({"metric", "ind_value", "ind_baseline", "ind_current", "duty_count", "deliv_status", "deliv_date",
                           "deliv_name", "deliv_no"})
TOL = 1e-9
Find = Callable[..., None]  # records a finding about the task being checked: find(code, message[, severity])
MONTHS = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}


@dataclass
class MetricCheck:
    name: str
    unit: str
    planned: float
    actual: float | None
    total: float | None
    status: Status
    accumulation: str = "additions"  # what planned and actual are: cumulative, the level reached, or this year's

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "unit": self.unit, "planned": self.planned, "actual": self.actual, "total": self.total,
                "status": self.status, "accumulation": self.accumulation}


@dataclass
class IndicatorCheck:
    text: str
    target: str  # "≥20%", "≤4:1"
    value: float | None  # the latest value judged (computed from baseline and current where reported)
    unit: str
    status: Status

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "target": self.target, "value": self.value, "unit": self.unit, "status": self.status}


@dataclass
class TaskCheck:
    id: str
    status: Status
    metrics: list[MetricCheck] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    indicators: list[IndicatorCheck] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "status": self.status, "metrics": [m.to_json() for m in self.metrics], "reasons": self.reasons,
                "indicators": [i.to_json() for i in self.indicators]}


@dataclass
class BureauCheck:
    name: str
    submitted: bool
    late: bool
    state: str = ""  # 按时 / 逾期 / 被退回 / 未报 / 未报（已过截止）, as in status
    label: str = ""  # the state as shown: 被退回（3处问题）

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "submitted": self.submitted, "late": self.late, "state": self.state, "label": self.label}


@dataclass
class CheckResult:
    period: Period
    tasks: list[TaskCheck]
    bureaus: list[BureauCheck]
    findings: list[Finding]

    @property
    def behind(self) -> list[TaskCheck]:
        return [t for t in self.tasks if t.status in BEHIND]

    def counts(self) -> dict[Status, int]:
        out = dict.fromkeys(COUNT_ORDER, 0)
        for t in self.tasks:
            out[t.status] += 1
        return out

    def to_json(self) -> dict[str, object]:
        return {"period": self.period.code, "tasks": [t.to_json() for t in self.tasks],
                "bureaus": [b.to_json() for b in self.bureaus], "counts": self.counts()}



def planned_at(metric: Metric, period: Period) -> float:
    """The plan at the end of a period, as the metric counts it (see Metric.planned_at)."""
    return metric.planned_at(period)


def _final(ledger: Ledger, period: Period) -> bool:
    return period.year == max(ledger.years) and period.is_year_end


def run_checks(ledger: Ledger, period: Period, values: list[StoredValue], submissions: list[Submission], *,
               history: list[tuple[StoredValue, bool]] | None = None, status: StatusReport | None = None,
               submitted: dict[str, set[str]] | None = None) -> CheckResult:
    """Judge every task at `period` from the current values of all periods up to it.

    `status`: the period's submission states (deadline from the workspace's rule); without it, the default
    rule (10 days after the period) as of today. `submitted` (period → bureaus with a current return, as
    Store.current_units reads it): given, `submissions` need only hold the period's own."""
    status = status or period_status(ledger, None, period, DeadlineRule(), subs=submissions)
    upto = period.codes_up_to()
    submitted_in: dict[str, set[str]] = defaultdict(set, submitted or {})  # period → bureaus with a current submission
    if submitted is None:
        for s in submissions:
            if s.current and s.period and s.bureau:
                submitted_in[s.period].add(s.bureau)
    by = _by_task(values, upto)  # those of the periods up to `period`

    findings: list[Finding] = []
    tasks: list[TaskCheck] = []
    for task in ledger.tasks:
        tc = _check_task(ledger, task, period, by, submitted_in, findings, status)
        tasks.append(tc)

    # responsible bureaus that have not submitted
    now = submitted_in.get(period.code, set())
    bureaus = []
    index = ledger.role_index()
    for b in ledger.bureaus_with_tasks():
        sub = b in now
        st = status.of(b)
        bureaus.append(BureauCheck(b, sub, st.late if st else not sub, st.state if st else "", st.label if st else ""))
        roles = index.get(b, [])
        if not sub and roles and all(r == "responsible" for _, r in roles):
            what = f"报送的表格被退回（{st.n_findings}处问题），待重报" if st and st.state == REFUSED else "本期未报送配合工作情况"
            findings.append(Finding.of(Code.RESPONSIBLE_MISSING, file=period.code, bureau=b, what=what))
    if history:
        findings += _cumulative_down(history, period)
    return CheckResult(period, tasks, bureaus, findings)


def _by_task(values: list[StoredValue], upto: frozenset[str]) -> dict[tuple[str, str, int], dict[str, dict[str, StoredValue]]]:
    """(task, kind, idx) → period → bureau → value, of the periods in `upto`, in the order given. Plain dicts, each
    field read once: a value of each period of each measure (some 30,000 at a province's third year) lands here."""
    by: dict[tuple[str, str, int], dict[str, dict[str, StoredValue]]] = {}
    for v in values:
        task, p = v.task_id, v.period
        if task is not None and p in upto:
            key = (task, v.kind, v.idx)
            series = by.get(key)
            if series is None:
                by[key] = {p: {v.bureau: v}}
            elif p in series:
                series[p][v.bureau] = v
            else:
                series[p] = {v.bureau: v}
    return by


def _check_task(ledger: Ledger, task: Task, period: Period, by: dict, submitted_in: dict[str, set[str]],
                findings: list[Finding], status: StatusReport) -> TaskCheck:
    def find(code: Code, **params: Any) -> None:
        findings.append(Finding.of(code, file=period.code, task=f"第 {task.id} 项（{_short(task.title)}）", **params))

    reporting_leads = [b for b in task.lead if b in submitted_in.get(period.code, set())]
    tc = TaskCheck(task.id, Status.ON_TRACK)
    silent = [_lead_state(status, b) for b in task.lead if b not in reporting_leads]
    tc.reasons += [st.lead_reason() for st in silent]
    if not reporting_leads:
        return _not_reported(task, period, by, tc, silent, find)
    parts: list[Status] = []
    done: list[bool] = []  # each part finished (a metric or result complete, an indicator met, a duty kept)
    for i, m in enumerate(task.metrics):
        mc = _check_metric(task, i, m, period, by, find, ledger)
        tc.metrics.append(mc)
        parts.append(mc.status)
        done.append(mc.status == Status.DONE)
        tc.reasons += _metric_reasons(mc, period)
    for i, ind in enumerate(task.indicators):
        st, why, value = _check_indicator(task, i, ind, period, by, ledger, find)
        parts.append(st)
        done.append(value is not None and _meets(ind, period, value))
        tc.reasons.append(why)
        tc.indicators.append(IndicatorCheck(ind.text, _threshold_text(ind, period), value, ind.unit, st))
    if task.frequency:
        st, whys = _check_duty(task, period, by, submitted_in, ledger)
        parts.append(st)
        done.append(st not in BEHIND)
        tc.reasons += whys
        if st in BEHIND:
            find(Code.DUTY_MISSED, why="；".join(whys))
    if task.deliverable or task.deadline is not None and not parts:
        st, why = _check_deliverable(task, period, by, ledger, find) if task.deliverable else _completion(task, period, by)
        parts.append(st)
        done.append(st == Status.DONE)
        tc.reasons.append(why)
    if not parts:
        tc.reasons.append(f"{'、'.join(reporting_leads)}已报送工作进展")
    tc.status = worst(parts) if parts else Status.ON_TRACK
    if task.deadline is not None:
        _judge_deadline(task, period, by, tc, finished=bool(done) and all(done))
    if tc.status in BEHIND or tc.status == Status.WARNING:
        why = "；".join(r for r in tc.reasons if r)
        if tc.status == Status.WARNING:
            find(Code.WARN, why=why)
        else:
            find(Code.BEHIND, status=tc.status, why=why)
    return tc


def _completion(task: Task, period: Period, by: dict) -> tuple[Status, str]:
    """A task with a 完成时限 and nothing else to measure: the 完成情况 its lead bureau chose."""
    latest = _latest(task, by, "deliv_status", 0, period)
    if latest is None:
        return Status.ON_TRACK, "尚未报告完成情况"
    return (Status.DONE if latest[1].text == DELIVERABLE_DONE else Status.ON_TRACK), f"完成情况：{latest[1].text}"


def _meets(ind: Indicator, period: Period, value: float) -> bool:
    """Whether a value reaches the indicator's threshold in force in the period's year."""
    rule = ind.threshold_for(period.year)
    return value + TOL >= rule.value if rule.op == ">=" else value - TOL <= rule.value


def _judge_deadline(task: Task, period: Period, by: dict, tc: TaskCheck, *, finished: bool) -> None:
    """完成时限: a task not finished once its deadline has passed by the period's end is 滞后 — finished is every
    metric and result complete, every indicator met, every duty kept —; one that is is 已完成. One whose
    result is still 未启动 with a month or less to go is 预警. The reason names the deadline first."""
    due = task.deadline
    assert due is not None
    if due <= period.end_date:
        if finished and tc.status not in BEHIND:
            tc.status = Status.DONE
        elif tc.status != Status.DONE:
            tc.status = worst([tc.status, Status.BEHIND])
            tc.reasons.insert(0, f"截至本期末已到完成时限 {due.isoformat()}，尚未完成")
        return
    latest = _latest(task, by, "deliv_status", 0, period)
    if latest is not None and latest[1].text == "未启动" and due <= add_months(period.end_date, 1):
        tc.status = worst([tc.status, Status.WARNING])
        tc.reasons.insert(0, f"距完成时限 {due.isoformat()} 不足一个月，仍未启动")


def add_months(day: dt.date, n: int) -> dt.date:
    """The same day n months later, or that month's last day (01-31 + 1 month = 02-28)."""
    y, m = divmod(day.month - 1 + n, 12)
    year, month = day.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _lead_state(status: StatusReport, bureau: str) -> BureauStatus:
    """A lead bureau's state; one the status does not list (not in the ledger's bureaus) has sent nothing."""
    return status.of(bureau) or BureauStatus(bureau, MISSING, None, None, 0)


def _not_reported(task: Task, period: Period, by: dict, tc: TaskCheck, silent: list[BureauStatus], find: Find) -> TaskCheck:
    """No lead bureau's return was accepted: 被退回 when every lead's return was refused, else 未报 — not behind
    either way; the metrics show the plan and what was reported before."""
    tc.status = Status.REFUSED if silent and all(st.state == REFUSED for st in silent) else Status.NOT_REPORTED
    if task.deadline is not None and task.deadline <= period.end_date:
        tc.reasons.append(f"截至本期末已到完成时限 {task.deadline.isoformat()}，完成情况待报")
    if not task.lead:
        tc.reasons.append("牵头单位（无牵头单位）本期未报送")
    for i, m in enumerate(task.metrics):
        tc.metrics.append(MetricCheck(m.name, m.unit, planned_at(m, period), _cumulative(by, task, i, period),
                                      m.target.value if m.target else None, tc.status, m.accumulation))
    if tc.status == Status.REFUSED:
        find(Code.NOT_REPORTED, why="；".join(tc.reasons) + "，本期")
    else:
        find(Code.NOT_REPORTED, why=f"牵头单位{'、'.join(task.lead) or '（无牵头单位）'}本期未报送，")
    return tc


def _short(text: str, n: int = 18) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _lead_value(task: Task, per_bureau: dict[str, StoredValue]) -> StoredValue | None:
    for b in task.lead:
        if b in per_bureau:
            return per_bureau[b]
    return None


def _cumulative(by: dict, task: Task, i: int, period: Period) -> float | None:
    """The metric's actual at `period` from the lead bureaus' reports (Task.lead_figure: the first lead's, or the
    shared leads' added up), as the metric counts it (Metric.actual)."""
    series = by.get((task.id, "metric", i), {})
    reported = {}
    for p, per in series.items():
        figure = task.lead_figure({b: v.num for b, v in per.items() if b in task.lead and v.num is not None})
        if figure is not None:
            reported[p] = figure
    return task.metrics[i].actual(reported, period)


def _check_metric(task: Task, i: int, m: Metric, period: Period, by: dict, find: Find, ledger: Ledger) -> MetricCheck:
    series = by.get((task.id, "metric", i), {})
    for p, per in series.items():
        if len(per) < 2:  # one bureau reported: nothing to disagree with (most periods of most metrics)
            continue
        leads = {b: v.num for b, v in per.items()
                 if b in task.lead and b not in task.shared and v.role == "lead" and v.num is not None}  # (shared: parts)
        if len(set(leads.values())) > 1:
            detail = "，".join(f"{b} {fmt_number(n)}{m.unit}" for b, n in leads.items())
            find(Code.LEAD_DISAGREE, metric=m.name, period=p, detail=detail, first=task.lead[0])
    actual = _cumulative(by, task, i, period)
    planned = planned_at(m, period)
    status = _metric_status(m, actual or 0.0, planned, period, ledger)
    return MetricCheck(m.name, m.unit, planned, actual, m.target.value if m.target else None, status, m.accumulation)


def _metric_status(m: Metric, a: float, planned: float, period: Period, ledger: Ledger) -> Status:
    """已完成/超额/按进度/滞后/预警 for one metric. A ≤ goal (a level to stay under) is met from below;
    a per-year figure is done when the last year's is reached; others when the programme's goal is."""
    if m.accumulation == "year_end" and m.goal().op == "<=":
        if a - TOL <= planned and a > 0:
            return Status.DONE if _final(ledger, period) else Status.ON_TRACK
        return Status.BEHIND if period.is_year_end else Status.WARNING
    total = m.goal().value if m.accumulation != "per_year" else (m.yearly.get(max(m.yearly), 0.0) if m.yearly else 0.0)
    done = a + TOL >= total and total > 0 and (m.accumulation != "per_year" or _final(ledger, period))
    if done:
        return Status.DONE
    if a > planned + TOL:
        return Status.AHEAD
    if a + TOL >= planned:
        return Status.ON_TRACK
    return Status.BEHIND if period.is_year_end else Status.WARNING


def _metric_reasons(mc: MetricCheck, period: Period) -> list[str]:
    a = mc.actual or 0.0
    word = {"year_end": "截至本期末达到", "per_year": f"{period.year}年已完成"}.get(mc.accumulation, "累计")
    got = f"{word}{fmt_number(a)}{mc.unit}"
    if mc.status in (Status.BEHIND, Status.WARNING):
        return [f"“{mc.name}”{got}，按计划截至{period.label}应达{fmt_number(mc.planned)}{mc.unit}，差{fmt_number(abs(mc.planned - a))}{mc.unit}"]
    if mc.status == Status.AHEAD:
        return [f"“{mc.name}”{got}，超出进度计划{fmt_number(a - mc.planned)}{mc.unit}"]
    if mc.status == Status.DONE:
        return [f"“{mc.name}”{got}，已达到总目标"]
    return [f"“{mc.name}”{got}，符合进度（计划{fmt_number(mc.planned)}{mc.unit}）"]


def _latest(task: Task, by: dict, kind: str, i: int, period: Period) -> tuple[str, StoredValue] | None:
    series = by.get((task.id, kind, i), {})
    for p in sorted(series, reverse=True):  # `by` holds codes of the period's kind up to it: as text, in time order
        v = _lead_value(task, series[p])
        if v is not None:
            return p, v
    return None


def _check_indicator(task: Task, i: int, ind: Indicator, period: Period, by: dict, ledger: Ledger, find: Find) -> tuple[Status, str, float | None]:
    unit = "%" if ind.unit == "%" else ":1"
    latest = _latest(task, by, "ind_value", i, period)
    reported = latest[1].num if latest else None
    value = reported
    note = ""
    if ind.baseline:
        b = _latest(task, by, "ind_baseline", i, period)
        c = _latest(task, by, "ind_current", i, period)
        if b and c and b[1].num and c[1].num is not None:
            base, cur = b[1].num, c[1].num
            computed = ((base - cur) / base * 100 if ind.change == "decrease" else
                        (cur - base) / base * 100 if ind.change == "increase" else cur / base * 100)
            note = f"（按期初{fmt_number(base)}、本期{fmt_number(cur)}计算为{computed:.2f}%）"
            if reported is not None and abs(computed - reported) > max(0.5, abs(computed) * 0.05):
                find(Code.INDICATOR_MISMATCH, indicator=ind.text, reported=fmt_number(reported), base=fmt_number(base),
                     current=fmt_number(cur), computed=f"{computed:.2f}")
            value = computed
    rule = ind.threshold_for(period.year)
    target = _threshold_text(ind, period)
    if value is None:
        if _final(ledger, period):
            return Status.NOT_MET, f"“{ind.text}”未报告指标值，无法确认达标", None
        return Status.ON_TRACK, f"“{ind.text}”尚未报告指标值（目标{target}）", None
    meets = _meets(ind, period, value)
    shown = f"{value:.2f}".rstrip("0").rstrip(".") + unit
    if meets:
        return (Status.DONE if _final(ledger, period) else Status.ON_TRACK), f"“{ind.text}”最新{shown}{note}，已达到目标{target}", value
    gap = abs(rule.value - value)
    gap_text = f"{gap:.2f}".rstrip("0").rstrip(".") + ("个百分点" if ind.unit == "%" else "")
    if _final(ledger, period):
        return Status.NOT_MET, f"“{ind.text}”最新{shown}{note}，未达到目标{target}，差{gap_text}", value
    if ind.yearly and period.is_year_end:  # a yearly threshold missed at its year's end is behind, not only far
        return Status.BEHIND, f"“{ind.text}”最新{shown}{note}，未达到{period.year}年目标{target}，差{gap_text}", value
    return Status.ON_TRACK, f"“{ind.text}”最新{shown}{note}，距目标{target}还差{gap_text}", value


def _threshold_text(ind: Indicator, period: Period) -> str:
    """"≥80%" — with "（2026年）" when the threshold is this year's own (it rises year by year)."""
    rule = ind.threshold_for(period.year)
    v = fmt_number(rule.value)
    text = f"{OP_SYMBOL[rule.op]}{v}%" if ind.unit == "%" else f"{OP_SYMBOL[rule.op]}{v}:1"
    return text + (f"（{period.year}年）" if period.year in ind.yearly else "")


@functools.lru_cache(maxsize=64)
def _periods_up_to(years: tuple[int, ...], kind: PeriodKind, period: Period) -> tuple[tuple[Period, str], ...]:
    """The programme's periods up to `period` (Ledger.periods()'s) with their codes, made once for every duty
    checked at it."""
    return tuple((p, p.code) for y in years for p in Period.all_in_year(y, kind) if p <= period)


@functools.lru_cache(maxsize=64)
def _duty_windows(years: tuple[int, ...], kind: PeriodKind, period: Period,
                  freq: PeriodKind) -> tuple[tuple[Period, tuple[tuple[Period, str], ...]], ...]:
    """A duty rarer than the reporting: its windows (the years, the quarters) up to `period`, each with its
    periods and their codes — the same for every duty of that frequency checked at `period`, made once."""
    windows: dict[Period, list[tuple[Period, str]]] = {}
    for p, code in _periods_up_to(years, kind, period):
        windows.setdefault(Period(p.year, freq, (p.end_month - 1) // MONTHS[freq] + 1), []).append((p, code))
    return tuple((window, tuple(in_window)) for window, in_window in windows.items())


_WINDOW_END = {"year": "年底", "half-year": "半年末", "quarter": "季末"}


def _check_duty(task: Task, period: Period, by: dict, submitted_in: dict[str, set[str]], ledger: Ledger) -> tuple[Status, list[str]]:
    freq = task.frequency
    assert freq is not None
    n = task.frequency_count
    series = by.get((task.id, "duty_count", 0), {})

    def count(code: str) -> float | None:
        per = series.get(code)
        v = _lead_value(task, per) if per else None
        return v.num if v is not None else None

    label = FREQUENCY_LABEL[freq]
    reasons: list[str] = []
    behind = False
    kind = ledger.period_kind
    freq_months, period_months = MONTHS[freq], MONTHS[kind]
    if freq_months <= period_months:
        # every reporting period needs the count times how many frequency units it spans
        need = n * period_months // freq_months
        for p, code in _periods_up_to(tuple(ledger.years), kind, period):
            c = count(code)
            if c is None:
                if not any(b in submitted_in.get(code, ()) for b in task.lead):
                    reasons.append(f"{p.label}未报送，无法确认是否开展")
                continue
            if c + TOL < need:
                behind = True
                reasons.append(f"{p.label}开展{fmt_number(c)}次，{label}应不少于{n}次")
    else:
        # a duty rarer than the reporting (yearly over half-years, quarterly over months): judged once its
        # window — the year, the quarter — is over, on the counts of the periods in it
        for window, in_window in _duty_windows(tuple(ledger.years), kind, period, freq):
            counts = [c for c in (count(code) for _, code in in_window) if c is not None]
            done = sum(counts)
            over = in_window[-1][0].end_month == window.end_month
            name = window.label + ("全年" if freq == "year" else "")
            if not counts and not any(b in submitted_in.get(code, ()) for _, code in in_window for b in task.lead):
                reasons.append(f"{window.label}未报送，无法确认是否开展")
            elif over and done + TOL < n:
                behind = True
                reasons.append(f"{name}开展{fmt_number(done)}次，{label}应不少于{n}次")
            elif not over:
                reasons.append(f"{window.label}已开展{fmt_number(done)}次（{label}{n}次，{_WINDOW_END[freq]}判断）")
    if behind:
        return Status.BEHIND, reasons
    if not reasons:
        reasons.append(f"{label}{n}次，均已按期开展")
    return Status.ON_TRACK, reasons


def _check_deliverable(task: Task, period: Period, by: dict, ledger: Ledger, find: Find) -> tuple[Status, str]:
    latest = _latest(task, by, "deliv_status", 0, period)
    name = task.deliverable
    final_year = period.year == max(ledger.years)
    if latest is None:
        return (Status.BEHIND if final_year and task.deadline is None else Status.ON_TRACK), f"成果“{name}”尚未报告进展"
    p, v = latest
    status = v.text
    if status == DELIVERABLE_DONE:
        date = _latest(task, by, "deliv_date", 0, period)
        doc = _latest(task, by, "deliv_name", 0, period)
        missing = [w for w, x in (("完成日期", date), ("文件名称", doc)) if x is None or not (x[1].text or "").strip()]
        if missing:
            find(Code.DELIVERABLE_UNPROVEN, missing="和".join(missing))
            return Status.WARNING, f"成果“{name}”报为已完成，但缺少{'和'.join(missing)}"
        no = _latest(task, by, "deliv_no", 0, period)
        return Status.DONE, f"成果已完成：{doc[1].text}{('（' + no[1].text + '）') if no and no[1].text else ''}，{date[1].text}"  # type: ignore[index]
    if task.deadline is not None:  # its own 完成时限 judges it (see _judge_deadline), not the programme's end
        return Status.ON_TRACK, f"成果“{name}”{status}"
    if status == "未启动" and final_year:
        return Status.BEHIND, f"成果“{name}”到最后一年仍未启动"
    if status == "推进中" and _final(ledger, period):
        return Status.BEHIND, f"成果“{name}”到期末仍在推进中，未完成"
    return Status.ON_TRACK, f"成果“{name}”{status}"


def _cumulative_down(history: list[tuple[StoredValue, bool]], period: Period) -> list[Finding]:
    """A resubmission that lowers an earlier figure makes the cumulative go down: say so, never smooth it."""
    out = []
    seen: dict[tuple[str, str, str | None, int], StoredValue] = {}
    upto = period.codes_up_to()
    for v, _current in history:
        if v.period not in upto or v.num is None:
            continue
        key = (v.bureau, v.period, v.task_id, v.idx)
        prev = seen.get(key)
        if prev is not None and prev.submission_id != v.submission_id and v.num + TOL < (prev.num or 0):
            out.append(Finding.of(Code.CUMULATIVE_DOWN, file=v.file_name, sheet="填报表", cell=v.cell, value=fmt_number(v.num),
                                  bureau=v.bureau, period=v.period, task=v.task_id, before=fmt_number(prev.num),
                                  before_file=prev.file_name, after=fmt_number(v.num), after_file=v.file_name))
        seen[key] = v
    return out


# ---------------------------------------------------------------- the checks read from the store


def latest_period(ledger: Ledger, store: Store, subs: list[Submission] | None = None) -> Period | None:
    """The latest period of the programme for which anything was received."""
    got = {s.period for s in subs if s.period} if subs is not None else {p for p in store.submission_counts() if p}
    periods = [p for p in ledger.periods() if p.code in got]
    return max(periods) if periods else None


def check_store(ledger: Ledger, store: Store, period: Period, rule: DeadlineRule,
                values: list[StoredValue] | None = None, *, status: StatusReport | None = None,
                subs: list[Submission] | None = None, history: list[tuple[StoredValue, bool]] | None = None) -> CheckResult:
    """The checks at a period. A caller judging several periods passes what they share, fetched once:
    `values` (current values of the kinds checks read), the period's `status`, the store's `subs` and `history`
    (metric values of the bureaus and periods sent more than once: only there can a figure have gone down).
    Without `subs`, the period's own submissions are read, and which bureaus have a current return in each
    period, not every submission stored."""
    submitted = None
    if subs is None:
        subs, submitted = store.submissions(period=period.code), store.current_units()
    st = status or period_status(ledger, store, period, rule, subs=subs)
    values = values if values is not None else store.current_values(period, kinds=CHECKED_KINDS)
    return run_checks(ledger, period, values, subs,  # which keeps the values up to `period`
                      history=history if history is not None else store.history_values(resubmitted_only=True),
                      status=st, submitted=submitted)
