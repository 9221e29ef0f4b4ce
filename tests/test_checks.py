"""Hand-worked cases for every plan rule. The ledger is 2023–2025, half-yearly.

T1: one metric, 0/2/3 个, 不少于5个, lead A.          T2: two metrics, 1/2/3 座 (=6) and 30/85/85 个 (=200), lead B.
T3: indicator ≥20%, lead A.                          T4: ≥10% reduction against the baseline, lead A.
T5: 每半年 1 次, lead O.                              T6: 每年 1 次, lead A.
T7: deliverable, lead A.                             T8: metric 1/1/1 个 with two leads, A and B.
T9: ratio ≤4:1, lead B.
"""

from __future__ import annotations

import pytest

from ledger_xl.checks import planned_at, run_checks
from ledger_xl.model import Bureau, Indicator, Ledger, Metric, Period, Target, Task
from ledger_xl.store import StoredValue, Submission

YEARS = [2023, 2024, 2025]


def task(tid: str, lead: list[str], **kw: object) -> Task:
    return Task(id=tid, category="c", task=f"任务{tid}", item=None, breakdown=dict.fromkeys(YEARS, ""), lead=lead,
                responsible=["R"], **kw)  # type: ignore[arg-type]


LEDGER = Ledger(
    title="测试台账", years=YEARS, office="O",
    bureaus=[Bureau("O", member=False), Bureau("A"), Bureau("B"), Bureau("R")],
    tasks=[
        task("T1", ["A"], metrics=[Metric("枢纽", "个", {2023: 0, 2024: 2, 2025: 3}, Target(">=", 5))]),
        task("T2", ["B"], metrics=[Metric("充电站", "座", {2023: 1, 2024: 2, 2025: 3}, Target("==", 6)),
                                   Metric("充电桩", "个", {2023: 30, 2024: 85, 2025: 85}, Target("==", 200))]),
        task("T3", ["A"], indicators=[Indicator("共同配送比例≥20%", ">=", 20, "%")]),
        task("T4", ["A"], indicators=[Indicator("成本较期初降低的比例≥10%", ">=", 10, "%", baseline=True, change="decrease")]),
        task("T5", ["O"], frequency="half-year", frequency_count=1),
        task("T6", ["A"], frequency="year", frequency_count=1),
        task("T7", ["A"], deliverable="考核管理办法"),
        task("T8", ["A", "B"], metrics=[Metric("平台", "个", {2023: 1, 2024: 1, 2025: 1}, Target("==", 3))]),
        task("T9", ["B"], indicators=[Indicator("车桩比≤4:1", "<=", 4, "ratio")]),
    ],
)

_sid = iter(range(1, 10_000))


def v(bureau: str, period: str, tid: str, kind: str, num: float | None = None, text: str | None = None, idx: int = 0,
      sid: int | None = None) -> StoredValue:
    return StoredValue(sid or 0, bureau, period, tid, "lead", kind, idx, num, text, "I9", f"{bureau}_{period}.xlsx")


def judge(period: str, values: list[StoredValue], submitted: dict[str, list[str]] | None = None):  # type: ignore[no-untyped-def]
    """Every bureau that has a value in a period counts as having submitted it, plus `submitted`."""
    subs = {(x.bureau, x.period) for x in values}
    for p, bs in (submitted or {}).items():
        subs |= {(b, p) for b in bs}
    submissions = [Submission(next(_sid), "", "", "", b, p, "2024-07-01T00:00:00", "", "merged", 0, 0, True) for b, p in sorted(subs)]
    return run_checks(LEDGER, Period.parse(period), values, submissions)


def status(result, tid: str) -> str:  # type: ignore[no-untyped-def]
    return next(t for t in result.tasks if t.id == tid).status


def reasons(result, tid: str) -> str:  # type: ignore[no-untyped-def]
    return "；".join(next(t for t in result.tasks if t.id == tid).reasons)


def test_cumulative_plan_is_previous_years_plus_pro_rata():
    m = LEDGER.tasks[0].metrics[0]
    # 个 are counted whole: 2025H1 is 2 + half of 3 = 3.5, expected as the 3 whole ones
    assert [planned_at(m, Period.parse(p)) for p in ("2023H1", "2023H2", "2024H1", "2024H2", "2025H1", "2025H2")] == [0, 0, 1, 2, 3, 5]
    tons = Metric("货运量", "万吨", {2023: 0, 2024: 2, 2025: 3})
    assert planned_at(tons, Period.parse("2025H1")) == 3.5


@pytest.mark.parametrize("period, reported, expected, words", [
    ("2024H1", {"2024H1": 0}, "预警", "应达1个，差1个"),          # H1: 0 + half of 2 = 1
    ("2024H1", {"2024H1": 1}, "按进度", "符合进度"),
    ("2024H2", {"2024H1": 1}, "滞后", "应达2个，差1个"),          # H2: the whole year's 2 by now
    ("2024H2", {"2024H1": 1, "2024H2": 1}, "按进度", "累计2个"),
    ("2024H2", {"2024H1": 2, "2024H2": 1}, "超额", "超出进度计划1个"),
    ("2025H2", {"2024H2": 2, "2025H1": 2}, "滞后", "应达5个，差1个"),  # final year: the stated total
    ("2025H1", {"2024H2": 2, "2025H1": 3}, "已完成", "已达到总目标"),
    ("2025H2", {"2024H2": 4, "2025H2": 3}, "已完成", "累计7个"),
])
def test_quantity_metric(period, reported, expected, words):
    values = [v("A", p, "T1", "metric", n) for p, n in reported.items()]
    r = judge(period, values, {period: ["A"]})
    assert status(r, "T1") == expected
    assert words in reasons(r, "T1")


def test_two_metrics_judged_each_and_the_task_takes_the_worse():
    values = [v("B", "2023H2", "T2", "metric", 1, idx=0), v("B", "2023H2", "T2", "metric", 30, idx=1),
              v("B", "2024H2", "T2", "metric", 2, idx=0), v("B", "2024H2", "T2", "metric", 70, idx=1)]
    r = judge("2024H2", values)
    t2 = next(t for t in r.tasks if t.id == "T2")
    assert [(m.name, m.planned, m.actual, m.status) for m in t2.metrics] == [("充电站", 3, 3, "按进度"), ("充电桩", 115, 100, "滞后")]
    assert t2.status == "滞后" and "“充电桩”累计100个，按计划截至2024年下半年应达115个，差15个" in reasons(r, "T2")


def test_missing_lead_bureau_is_not_reported_not_behind():
    r = judge("2024H2", [v("A", "2024H1", "T1", "metric", 1)], {"2024H2": ["B"]})
    assert status(r, "T1") == "未报" and "牵头单位A本期未报送" in reasons(r, "T1")
    assert next(b for b in r.bureaus if b.name == "A").submitted is False
    assert next(b for b in r.bureaus if b.name == "R").submitted is False
    assert any(f.code == "responsible-missing" and "R" in f.message for f in r.findings)


@pytest.mark.parametrize("period, value, expected, words", [
    ("2024H2", 18, "按进度", "距目标≥20%还差2个百分点"),
    ("2025H1", 21, "按进度", "已达到目标"),
    ("2025H2", 18, "未达标", "差2个百分点"),
    ("2025H2", 20, "已完成", "已达到目标"),
    ("2025H2", None, "未达标", "未报告指标值"),
])
def test_indicator_against_threshold(period, value, expected, words):
    values = [v("A", period, "T3", "ind_value", value)] if value is not None else []
    r = judge(period, values, {period: ["A"]})
    assert status(r, "T3") == expected and words in reasons(r, "T3")


def test_indicator_with_baseline_computes_the_change_and_flags_a_disagreeing_percentage():
    values = [v("A", "2025H2", "T4", "ind_baseline", 2.5), v("A", "2025H2", "T4", "ind_current", 2.2),
              v("A", "2025H2", "T4", "ind_value", 15)]
    r = judge("2025H2", values)
    assert status(r, "T4") == "已完成"  # (2.5 - 2.2) / 2.5 = 12% ≥ 10%
    assert "计算为12.00%" in reasons(r, "T4")
    (f,) = [f for f in r.findings if f.code == "indicator-mismatch"]
    assert "填报为15%" in f.message and "应为12.00%" in f.message
    values = [v("A", "2025H2", "T4", "ind_baseline", 2.5), v("A", "2025H2", "T4", "ind_current", 2.4),
              v("A", "2025H2", "T4", "ind_value", 4)]
    r = judge("2025H2", values)
    assert status(r, "T4") == "未达标" and not [f for f in r.findings if f.code == "indicator-mismatch"]


def test_ratio_indicator_upper_bound():
    assert status(judge("2025H2", [v("B", "2025H2", "T9", "ind_value", 3.5)]), "T9") == "已完成"
    assert status(judge("2025H2", [v("B", "2025H2", "T9", "ind_value", 4.5)]), "T9") == "未达标"


def test_half_yearly_duty_needs_every_half_year():
    ok = [v("O", p, "T5", "duty_count", 1) for p in ("2023H1", "2023H2", "2024H1")]
    assert status(judge("2024H1", ok), "T5") == "按进度"
    missed = ok + [v("O", "2024H2", "T5", "duty_count", 0)]
    r = judge("2024H2", missed)
    assert status(r, "T5") == "滞后" and "2024年下半年开展0次，每半年应不少于1次" in reasons(r, "T5")
    assert any(f.code == "duty-missed" for f in r.findings)


def test_yearly_duty_is_judged_at_the_year_end():
    assert status(judge("2024H1", [v("A", "2024H1", "T6", "duty_count", 0)]), "T6") == "按进度"
    r = judge("2024H2", [v("A", "2024H1", "T6", "duty_count", 0), v("A", "2024H2", "T6", "duty_count", 0)])
    assert status(r, "T6") == "滞后" and "2024年全年开展0次" in reasons(r, "T6")
    assert status(judge("2024H2", [v("A", "2024H1", "T6", "duty_count", 1), v("A", "2024H2", "T6", "duty_count", 0)]), "T6") == "按进度"


@pytest.mark.parametrize("period, vals, expected, words", [
    ("2024H2", {"deliv_status": "未启动"}, "按进度", "未启动"),
    ("2025H1", {"deliv_status": "未启动"}, "滞后", "最后一年仍未启动"),
    ("2025H1", {"deliv_status": "推进中"}, "按进度", "推进中"),
    ("2025H2", {"deliv_status": "推进中"}, "滞后", "期末仍在推进中"),
    ("2024H2", {"deliv_status": "已完成", "deliv_date": "2024-10-01", "deliv_name": "考核办法", "deliv_no": "宛交〔2024〕3号"}, "已完成", "宛交〔2024〕3号"),
    ("2024H2", {"deliv_status": "已完成"}, "预警", "缺少完成日期和文件名称"),
])
def test_deliverable(period, vals, expected, words):
    values = [v("A", period, "T7", k, text=t) for k, t in vals.items()]
    r = judge(period, values)
    assert status(r, "T7") == expected and words in reasons(r, "T7")


def test_two_lead_bureaus_disagreeing_is_a_finding_not_silently_resolved():
    r = judge("2024H2", [v("A", "2024H2", "T8", "metric", 2), v("B", "2024H2", "T8", "metric", 3)])
    (f,) = [f for f in r.findings if f.code == "lead-disagree"]
    assert "A 2个" in f.message and "B 3个" in f.message
    assert next(t for t in r.tasks if t.id == "T8").metrics[0].actual == 2  # the first lead's figure


def test_the_units_of_an_expanded_group_add_up_their_parts():
    """T8 led by a group the clerk expanded into A and B (包含单位): each does part of the work, so 1.2 + 0.8 is
    the task's 2 (it was A's 1.2 alone, 滞后), in this period and in what the store and the report add up, and
    their different figures are no disagreement."""
    import dataclasses

    from ledger_xl.store import metric_series

    t8 = next(t for t in LEDGER.tasks if t.id == "T8")
    shared = dataclasses.replace(t8, shared=["A", "B"])
    ledger = dataclasses.replace(LEDGER, tasks=[shared if t.id == "T8" else t for t in LEDGER.tasks])
    vals = [v("A", "2024H2", "T8", "metric", 1.2), v("B", "2024H2", "T8", "metric", 0.8), v("A", "2024H1", "T8", "metric", 1)]
    subs = [Submission(next(_sid), "", "", "", b, p, "2024-07-01T00:00:00", "", "merged", 0, 0, True)
            for b, p in sorted({(x.bureau, x.period) for x in vals})]
    r = run_checks(ledger, Period.parse("2024H2"), vals, subs)
    assert next(t for t in r.tasks if t.id == "T8").metrics[0].actual == pytest.approx(3)  # 1 (2024H1) + 1.2 + 0.8
    assert not [f for f in r.findings if f.code == "lead-disagree"]
    series = metric_series(ledger, vals)[("T8", 0)]
    assert series["2024H2"][0] == pytest.approx(2) and series["2024H2"][1] == "A、B" and series["2024H1"][0] == 1
    assert shared.lead_figure({"B": 0.8}) == 0.8 and t8.lead_figure({"A": 1.2, "B": 0.8}) == 1.2


def test_a_correction_that_lowers_the_cumulative_is_a_finding():
    old, new = v("A", "2024H1", "T1", "metric", 5, sid=1), v("A", "2024H1", "T1", "metric", 3, sid=2)
    subs = [Submission(2, "", "", "", "A", "2024H1", "2024-07-01T00:00:00", "", "merged", 0, 0, True)]
    r = run_checks(LEDGER, Period.parse("2024H1"), [new], subs, history=[(old, False), (new, True)])
    (f,) = [f for f in r.findings if f.code == "cumulative-down"]
    assert "由 5" in f.message and "改为 3" in f.message and f.cell == "I9"


def test_json_shape():
    r = judge("2024H2", [v("A", "2024H2", "T1", "metric", 2)])
    data = r.to_json()
    assert data["period"] == "2024H2"
    t1 = next(t for t in data["tasks"] if t["id"] == "T1")
    assert t1["status"] == "按进度" and t1["metrics"][0]["unit"] == "个" and t1["metrics"][0]["planned"] == 2
    assert t1["metrics"][0]["actual"] == 2 and isinstance(t1["reasons"], list)
    assert {"name", "submitted", "late"} <= set(data["bureaus"][0])


def test_quarterly_programme_same_rules():
    q = Ledger(title="季度台账", years=[2026], office="O", period_kind="quarter",
               bureaus=[Bureau("O", member=False), Bureau("A")],
               tasks=[task("Q1", ["A"], metrics=[Metric("驿站", "个", {2026: 8}, Target(">=", 8))]),
                      task("Q2", ["A"], frequency="quarter", frequency_count=1)])
    subs = [Submission(i, "", "", "", "A", p, "2026-04-01T00:00:00", "", "merged", 0, 0, True)
            for i, p in enumerate(["2026Q1", "2026Q2", "2026Q3", "2026Q4"], start=1)]
    vals = [v("A", "2026Q1", "Q1", "metric", 1), v("A", "2026Q1", "Q2", "duty_count", 1)]
    r = run_checks(q, Period.parse("2026Q1"), vals, subs[:1])
    assert status(r, "Q1") == "预警" and "应达2个，差1个" in reasons(r, "Q1")  # a quarter of 8
    vals += [v("A", p, "Q1", "metric", 2) for p in ("2026Q2", "2026Q3", "2026Q4")]
    vals += [v("A", "2026Q2", "Q2", "duty_count", 0)]
    r = run_checks(q, Period.parse("2026Q4"), vals, subs)
    assert status(r, "Q1") == "滞后" and "应达8个，差1个" in reasons(r, "Q1")
    assert status(r, "Q2") == "滞后" and "2026年第二季度开展0次" in reasons(r, "Q2")


def test_role_index_is_kept_and_follows_a_changed_task_or_bureau():
    import copy

    led = copy.deepcopy(LEDGER)
    first = led.role_index()
    assert led.role_index() is first  # kept
    assert first == led._role_index()
    t = led.tasks[0]
    t.lead = [*t.lead, "新单位"]
    assert led.role_index()["新单位"] == [(t, "lead")]
    led.bureaus[-1].member = not led.bureaus[-1].member
    assert led.role_index() == led._role_index()
    led.tasks = led.tasks[1:]
    assert "新单位" not in led.role_index()
