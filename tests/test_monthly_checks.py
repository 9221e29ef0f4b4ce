"""Hand-worked checks on a monthly programme (2025, reported by month, due 次月28日前).

M1: 充电站 5 座 in 2025 (countable: expected in whole units), lead A.   M2: 货运量 12 万吨 (not countable), lead A.
M3: deliverable 考核办法, 完成时限 2025-06-30, lead A.                   M4: 每季度 1 次, lead B.
M5: no measure, 完成时限 2025-03-31, lead B.

Pro-rata by months elapsed: 5 座 × 7/12 = 2.92 → 2 by July; × 3/12 = 1.25 → 1 by March; × 1/12 → 0 in January.
12 万吨 × 7/12 = 7 by July.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ledger_xl.checks import add_months, planned_at, run_checks
from ledger_xl.model import Bureau, DeadlineRule, Ledger, Metric, Period, Target, Task
from ledger_xl.reporting import period_status
from ledger_xl.store import StoredValue, Submission


def task(tid: str, lead: list[str], **kw: object) -> Task:
    return Task(id=tid, category="c", task=f"任务{tid}", item=None, breakdown={2025: ""}, lead=lead, responsible=[],
                **kw)  # type: ignore[arg-type]


LEDGER = Ledger(
    title="月报台账", years=[2025], office="O", period_kind="month", deadline_rule=DeadlineRule(days=None, day=28),
    bureaus=[Bureau("O", member=False), Bureau("A"), Bureau("B")],
    tasks=[
        task("M1", ["A"], metrics=[Metric("充电站", "座", {2025: 5}, Target(">=", 5))]),
        task("M2", ["A"], metrics=[Metric("货运量", "万吨", {2025: 12})]),
        task("M3", ["A"], deliverable="考核办法", deadline=dt.date(2025, 6, 30)),
        task("M4", ["B"], frequency="quarter", frequency_count=1),
        task("M5", ["B"], deadline=dt.date(2025, 3, 31)),
    ],
)
RULE = DeadlineRule(days=None, day=28)
_ids = iter(range(1, 100_000))


def v(bureau: str, period: str, tid: str, kind: str, num: float | None = None, text: str | None = None) -> StoredValue:
    return StoredValue(0, bureau, period, tid, "lead", kind, 0, num, text, "I9", f"{bureau}.xlsx")


def sub(bureau: str, period: str, outcome: str = "merged", received: str = "2025-08-01T09:00:00", n_errors: int = 0) -> Submission:
    return Submission(next(_ids), "", f"{bureau}_{period}.xlsx", "", bureau, period, received, "", outcome, n_errors, 0,
                      outcome == "merged")


def judge(period: str, values: list[StoredValue], subs: list[Submission] | None = None, today: dt.date = dt.date(2025, 12, 31)):  # type: ignore[no-untyped-def]
    """Every bureau with a value in a period counts as having submitted it, plus `subs`."""
    subs = list(subs or []) + [sub(b, p) for b, p in sorted({(x.bureau, x.period) for x in values})]
    p = Period.parse(period)
    return run_checks(LEDGER, p, values, subs, status=period_status(LEDGER, None, p, RULE, subs=subs, today=today))


def of(result, tid: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    t = next(t for t in result.tasks if t.id == tid)
    return t.status, "；".join(t.reasons)


@pytest.mark.parametrize("period, whole, tons", [("2025M01", 0, 1), ("2025-03", 1, 3), ("2025年7月", 2, 7), ("2025M12", 5, 12)])
def test_pro_rata_by_months_elapsed_in_whole_units_for_countable_things(period, whole, tons):
    p = Period.parse(period)
    assert planned_at(LEDGER.tasks[0].metrics[0], p) == whole
    assert planned_at(LEDGER.tasks[1].metrics[0], p) == pytest.approx(tons)


def test_countable_metric_judged_in_whole_units():
    # July: 2 built; the whole-unit expectation is 2 (not 2.92): on plan, and shown as 2 座
    status, why = of(judge("2025M07", [v("A", "2025M03", "M1", "metric", 1), v("A", "2025M07", "M1", "metric", 1)]), "M1")
    assert status == "按进度" and "计划2座" in why
    status, why = of(judge("2025M07", [v("A", "2025M07", "M1", "metric", 1)]), "M1")
    assert status == "预警" and "按计划截至2025年7月应达2座，差1座" in why


@pytest.mark.parametrize("period, state, expected, words", [
    ("2025M07", "推进中", "滞后", "截至本期末已到完成时限 2025-06-30，尚未完成"),
    ("2025M06", "推进中", "滞后", "截至本期末已到完成时限 2025-06-30，尚未完成"),  # due on the period's last day: passed at its end
    ("2025M05", "未启动", "预警", "距完成时限 2025-06-30 不足一个月，仍未启动"),  # 05-31 + 1 month = 06-30
    ("2025M04", "未启动", "按进度", "成果“考核办法”未启动"),  # 04-30 + 1 month = 05-30: more than a month to go
    ("2025M05", "推进中", "按进度", "成果“考核办法”推进中"),
])
def test_task_deadline(period, state, expected, words):
    status, why = of(judge(period, [v("A", period, "M3", "deliv_status", text=state)]), "M3")
    assert status == expected and words in why
    if expected != "按进度":
        assert why.startswith(words)  # the deadline is named first


def test_task_done_before_its_deadline_is_done():
    vals = [v("A", "2025M05", "M3", "deliv_status", text="已完成"), v("A", "2025M05", "M3", "deliv_date", text="2025-05-20"),
            v("A", "2025M05", "M3", "deliv_name", text="考核办法")]
    assert of(judge("2025M08", vals + [v("A", "2025M08", "M1", "metric", 0)]), "M3")[0] == "已完成"


def test_task_without_a_measure_past_its_deadline_is_behind():
    status, why = of(judge("2025M04", [v("B", "2025M04", "M4", "duty_count", 1)]), "M5")
    assert status == "滞后" and why.startswith("截至本期末已到完成时限 2025-03-31，尚未完成")
    assert of(judge("2025M03", [v("B", "2025M03", "M4", "duty_count", 1)]), "M5")[0] == "滞后"
    assert of(judge("2025M02", [v("B", "2025M02", "M4", "duty_count", 0)]), "M5")[0] == "按进度"


def test_quarterly_duty_over_monthly_reporting_is_judged_at_the_quarter_end():
    counts = {"2025M01": 0, "2025M02": 0, "2025M03": 0}
    vals = [v("B", p, "M4", "duty_count", n) for p, n in counts.items()]
    status, why = of(judge("2025M02", vals[:2]), "M4")
    assert status == "按进度" and "2025年第一季度已开展0次（每季度1次，季末判断）" in why
    status, why = of(judge("2025M03", vals), "M4")
    assert status == "滞后" and "2025年第一季度开展0次，每季度应不少于1次" in why
    vals.append(v("B", "2025M03", "M4", "duty_count", 1))  # the later value of the same month replaces it
    assert of(judge("2025M03", vals[:2] + vals[3:]), "M4")[0] == "按进度"


def test_refused_missing_and_missing_after_the_deadline_are_told_apart():
    """July is due 2025-08-28. A's return was refused (3 problems); B sent nothing."""
    refused = [sub("A", "2025M07", "refused", n_errors=3)]
    before = judge("2025M07", [], refused, today=dt.date(2025, 8, 20))
    after = judge("2025M07", [], refused, today=dt.date(2025, 8, 29))
    for r in (before, after):
        status, why = of(r, "M1")
        assert status == "被退回" and "牵头单位A报送的表格被退回（3处问题），待修改后重报" in why and "未报送" not in why
    assert of(before, "M4") == ("未报", "牵头单位B本期未报送")
    assert of(after, "M4") == ("未报", "牵头单位B本期未报送（已过截止日期2025-08-28）")
    states = {b.name: (b.state, b.label, b.submitted, b.late) for b in after.bureaus}
    assert states["A"] == ("被退回", "被退回（3处问题，已过截止）", False, True)
    assert states["B"] == ("未报（已过截止）", "未报（已过截止）", False, True)
    assert {b.name: b.state for b in before.bureaus}["B"] == "未报"
    assert before.counts()["被退回"] == 3 and before.counts()["未报"] == 2


def test_on_time_and_late_under_the_day_of_next_month_rule():
    subs = [sub("A", "2025M07", received="2025-08-28T17:00:00"), sub("B", "2025M07", received="2025-08-29T08:00:00")]
    st = period_status(LEDGER, None, Period.parse("2025M07"), RULE, subs=subs, today=dt.date(2025, 9, 1))
    assert st.deadline == "2025-08-28" and [(b.name, b.state) for b in st.bureaus] == [("A", "按时"), ("B", "逾期")]
    assert "次月28日前" in st.rule


def test_add_months():
    assert [add_months(dt.date(2025, 1, 31), 1), add_months(dt.date(2025, 5, 31), 1), add_months(dt.date(2025, 12, 15), 1)] == [
        dt.date(2025, 2, 28), dt.date(2025, 6, 30), dt.date(2026, 1, 15)]


def test_yearly_programme_keeps_working():
    """Reported once a year: 10 个 a year, 20 in all; a quarterly duty needs 4 a year; 完成时限 2025-06-30."""
    led = Ledger(title="年报台账", years=[2025, 2026], office="O", period_kind="year", bureaus=[Bureau("O", member=False), Bureau("A")],
                 tasks=[Task("Y1", "c", "驿站", None, {}, ["A"], [], metrics=[Metric("驿站", "个", {2025: 10, 2026: 10}, Target(">=", 20))]),
                        Task("Y2", "c", "检查", None, {}, ["A"], [], frequency="quarter", frequency_count=1),
                        Task("Y3", "c", "办法", None, {}, ["A"], [], deliverable="办法", deadline=dt.date(2025, 6, 30))])
    p = Period.parse("2025")
    subs = [sub("A", "2025", received="2026-01-05T09:00:00")]
    vals = [v("A", "2025", "Y1", "metric", 8), v("A", "2025", "Y2", "duty_count", 3), v("A", "2025", "Y3", "deliv_status", text="推进中")]
    r = run_checks(led, p, vals, subs, status=period_status(led, None, p, DeadlineRule(), subs=subs, today=dt.date(2026, 2, 1)))
    assert of(r, "Y1") == ("滞后", "“驿站”累计8个，按计划截至2025年应达10个，差2个")
    assert of(r, "Y2")[0] == "滞后" and "2025年开展3次，每季度应不少于1次" in of(r, "Y2")[1]
    assert of(r, "Y3") == ("滞后", "截至本期末已到完成时限 2025-06-30，尚未完成；成果“办法”推进中")
    assert [(b.name, b.state) for b in r.bureaus] == [("A", "按时")]  # due 2026-01-10


def test_task_with_only_a_deadline_is_judged_on_its_completion_status():
    """M5 (完成时限 2025-03-31, nothing to measure): its lead chooses 完成情况 in the template."""
    done = [v("B", "2025M03", "M5", "deliv_status", text="已完成"), v("B", "2025M04", "M4", "duty_count", 1)]
    assert of(judge("2025M04", done), "M5") == ("已完成", "完成情况：已完成")
    going = [v("B", "2025M04", "M5", "deliv_status", text="推进中"), v("B", "2025M04", "M4", "duty_count", 1)]
    assert of(judge("2025M04", going), "M5") == ("滞后", "截至本期末已到完成时限 2025-03-31，尚未完成；完成情况：推进中")
    waiting = [v("B", "2025M02", "M5", "deliv_status", text="未启动")]  # 02-28 + 1 month = 03-28 < 03-31: more than a month
    assert of(judge("2025M02", waiting), "M5")[0] == "按进度"
    waiting = [v("B", "2025M02", "M5", "deliv_status", text="未启动"), v("B", "2025M03", "M5", "deliv_status", text="未启动")]
    status, why = of(judge("2025M03", waiting), "M5")  # due on 03-31, the period's last day: passed, not started
    assert status == "滞后" and why.startswith("截至本期末已到完成时限 2025-03-31")


def test_an_indicator_met_by_its_deadline_is_done_and_one_missed_is_behind():
    """≥20% by 2025-06-30 in a monthly 2025–2026 programme: met in June → 已完成 from then on, though the
    programme runs on; 18% → 滞后 with the deadline named."""
    from ledger_xl.model import Indicator

    led = Ledger(title="t", years=[2025, 2026], office="O", period_kind="month", bureaus=[Bureau("O", member=False), Bureau("A")],
                 tasks=[Task("I1", "c", "共同配送", None, {}, ["A"], [], indicators=[Indicator("共同配送比例≥20%", ">=", 20, "%")],
                             deadline=dt.date(2025, 6, 30))])

    def at(period: str, value: float) -> tuple[str, str]:
        subs = [sub("A", period)]
        p = Period.parse(period)
        r = run_checks(led, p, [v("A", period, "I1", "ind_value", value)], subs,
                       status=period_status(led, None, p, RULE, subs=subs, today=dt.date(2027, 1, 1)))
        return of(r, "I1")

    assert at("2025M05", 21)[0] == "按进度"  # met, but the deadline is still ahead
    assert at("2025M06", 21)[0] == "已完成"
    status, why = at("2025M07", 18)
    assert status == "滞后" and why.startswith("截至本期末已到完成时限 2025-06-30，尚未完成")


def test_a_bureaus_state_is_that_of_the_general_rule_whatever_its_returns():
    """bureau_status takes a bureau with one accepted return (most of them, each period) straight: for any
    list of returns — one or several, accepted, refused or superseded, on time or late, with problems — the
    state is what the general rule (the current one's file, the first accepted one's time, the problems of
    the current and the refused ones) gives."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger_xl.reporting import (
        MISSING,
        MISSING_OVERDUE,
        REFUSED,
        BureauStatus,
        bureau_status,
        received_state,
    )

    def general(name, mine, due, today):  # type: ignore[no-untyped-def]
        overdue = today > due
        cur = next((s for s in reversed(mine) if s.current), None)
        if cur is not None:
            n = sum(s.n_errors + s.n_warnings for s in mine if s.current or s.outcome == "refused")
            first = min((s for s in mine if s.outcome == "merged"), key=lambda s: (s.received_at, s.id))
            return BureauStatus(name, received_state(first.received_at, due), cur.file_name, first.received_at, n, due,
                                overdue, first.received_source, cur.received_at if cur.id != first.id else None)
        refused = [s for s in mine if s.outcome == "refused"]
        if refused:
            last = refused[-1]
            return BureauStatus(name, REFUSED, last.file_name, last.received_at, last.n_errors, due, overdue, last.received_source)
        return BureauStatus(name, MISSING_OVERDUE if overdue else MISSING, None, None, 0, due, overdue)

    one = st.builds(lambda i, day, outcome, current, e, w, source: Submission(
        i, "", f"f{i}.xlsx", "", "A", "2025M07", f"2025-08-{day:02d}T09:00:00", "", outcome, e, w,
        current and outcome == "merged", source), st.integers(1, 50), st.integers(1, 31), st.sampled_from(["merged", "refused"]),
        st.booleans(), st.integers(0, 3), st.integers(0, 3), st.sampled_from(["file", "mail", "given"]))

    @settings(max_examples=400, deadline=None)
    @given(st.lists(one, max_size=4), st.integers(20, 31), st.integers(1, 40))
    def run(mine, due_day, today_day):  # type: ignore[no-untyped-def]
        due, today = dt.date(2025, 8, due_day), dt.date(2025, 8, 1) + dt.timedelta(days=today_day)
        assert bureau_status("A", mine, due, today) == general("A", mine, due, today)

    run()
