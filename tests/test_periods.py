"""Reporting periods and deadlines, worked by hand.

Months: 2025-07, 2025M07 and 2025年7月 are one period (code 2025M07, label 2025年7月), ending 2025-07-31;
seven months of twelve have elapsed at its end. Deadlines: 10 days after 2025-07-31 is 2025-08-10; 次月28日前
for July is 2025-08-28, for January 2025-02-28, for December 2026-01-28, 次月30日前 for January 2025-02-28
(February has 28 days); a date in [deadlines] wins for its period only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ledger_xl.findings import LedgerError
from ledger_xl.model import (
    Bureau,
    DeadlineRule,
    Ledger,
    Period,
    Task,
    check_period_in,
    default_period,
    is_countable,
    ledger_from_raw,
    ledger_to_raw,
)

D = dt.date


@pytest.mark.parametrize("text", ["2025-07", "2025M07", "2025年7月", "2025-7", "2025M7", "2025m07", "2025年07月",
                                  "2025年七月", "２０２５－０７", "2025/07", " 2025年7月份 "])
def test_every_spelling_of_a_month_is_the_same_period(text):
    p = Period.parse(text)
    assert p == Period(2025, "month", 7)
    assert (p.code, p.label, p.start_date, p.end_date, p.months) == ("2025M07", "2025年7月", D(2025, 7, 1), D(2025, 7, 31), 1)
    assert Period.parse(p.code) == p


def test_month_facts():
    assert Period.parse("2025年12月").code == "2025M12" and Period.parse("2025M12").is_year_end
    assert Period.parse("2024-02").end_date == D(2024, 2, 29)  # leap year
    assert Period.parse("2025M01").previous() == Period.parse("2024年12月")
    assert Period.parse("2025M03").year_fraction == 3 / 12
    assert [p.code for p in Period.all_in_year(2025, "month")][:3] == ["2025M01", "2025M02", "2025M03"]
    assert Period.parse("2025M10") > Period.parse("2025M09")  # ordered as months, not as text
    assert "2025M09" in Period.parse("2025M10").codes_up_to() and "2025M11" not in Period.parse("2025M10").codes_up_to()


@pytest.mark.parametrize("text", ["2025M13", "2025-00", "2025年13月"])
def test_a_month_out_of_range_is_refused_with_the_spellings(text):
    with pytest.raises(LedgerError) as e:
        Period.parse(text)
    assert "1—12 月" in e.value.message and "2025M07" in e.value.message and "2025年7月" in e.value.message


def test_other_kinds_keep_their_codes():
    assert [Period.parse(t).code for t in ("2024H1", "2024下半年", "2024Q3", "2024年第三季度", "2024")] == [
        "2024H1", "2024H2", "2024Q3", "2024Q3", "2024"]
    assert Period.parse("2024Q3").end_date == D(2024, 9, 30) and Period.parse("2024H2").year_fraction == 1.0


def monthly(years: list[int] = [2025], rule: DeadlineRule | None = None) -> Ledger:  # noqa: B006
    return Ledger(title="月报台账", years=years, bureaus=[Bureau("甲局")], period_kind="month", deadline_rule=rule,
                  tasks=[Task("1", "c", "任务", None, {}, ["甲局"], [])])


def test_period_of_the_wrong_kind_or_outside_the_years_keeps_its_refusal():
    with pytest.raises(LedgerError) as e:
        check_period_in(monthly(), Period.parse("2025Q3"))
    assert e.value.code == "period-kind" and "按月报送" in e.value.message and "2024M01" in e.value.message
    with pytest.raises(LedgerError) as e:
        check_period_in(monthly(), Period.parse("2026-01"))
    assert e.value.code == "period-range"
    half = Ledger(title="t", years=[2025], bureaus=[], tasks=[])
    with pytest.raises(LedgerError) as e:
        check_period_in(half, Period.parse("2025年7月"))
    assert e.value.code == "period-kind" and "按半年报送" in e.value.message


@pytest.mark.parametrize("text, days, day", [
    ("10", 10, None), (10, 10, None), ("期末后10日内", 10, None), ("每季度结束后15天内", 15, None),
    ("报送期结束后十日内", 10, None), ("各牵头单位于每月28日前报送上月完成情况", None, 28), ("次月十日前", None, 10),
    ("下月5号前", None, 5), ("报送期结束后次月28日前", None, 28),
])
def test_deadline_rule_as_an_office_writes_it(text, days, day):
    rule = DeadlineRule.parse(text)
    assert (rule.days, rule.day) == (days, day)
    assert DeadlineRule.parse(rule.text) == rule  # the words written back to 设置 read the same


@pytest.mark.parametrize("text, month_due, quarter_due", [
    ("每月25日前（当月）", "2025-10-25", "2026-03-25"), ("每季度末月25日前", "2025-10-25", "2026-03-25"),
    ("报送期最后一个月20日前", "2025-10-20", "2026-03-20"), ("每月25日前报送本月进展", "2025-10-25", "2026-03-25"),
    ("每月25日前", "2025-11-25", "2026-04-25"), ("每月5日前报送上月情况", "2025-11-05", "2026-04-05"),
])
def test_a_day_of_the_periods_own_month_is_not_moved_to_the_next(text, month_due, quarter_due):
    """"每季度末月25日前" is 25 March for the first quarter (it was read as 25 April: a month late), "当月" and "本月"
    likewise; a day with no such word stays a day of the month after the period."""
    rule = DeadlineRule.parse(text)
    assert str(rule.due(Period.parse("2025M10"))) == month_due and str(rule.due(Period.parse("2026Q1"))) == quarter_due
    assert DeadlineRule.parse(rule.text) == rule


def test_import_reads_a_report_on_the_months_own_progress_as_due_that_month():
    from ledger_xl.ledgerimport import reporting_of

    assert reporting_of(["请各单位每月25日前报送当月进展情况。"]) == ("month", "每月25日前（当月）")
    assert reporting_of(["每月5日前报送上月完成情况"]) == ("month", "每月5日前")


@pytest.mark.parametrize("text, code_word", [("每月最后一个工作日前", "工作日"), ("尽快", "无法识别"), ("2025年8月28日前", "[deadlines]")])
def test_deadline_rule_that_cannot_be_read_is_refused_with_what_to_write(text, code_word):
    with pytest.raises(LedgerError) as e:
        DeadlineRule.parse(text, where="设置 › 报送截止")
    assert e.value.code == "deadline-rule" and code_word in e.value.message and "次月28日前" in e.value.message
    assert e.value.message.startswith("设置 › 报送截止“")


def test_due_dates_worked_by_hand():
    ten, d28, d30 = DeadlineRule(days=10), DeadlineRule(days=None, day=28), DeadlineRule(days=None, day=30)
    assert ten.due(Period.parse("2025-07")) == D(2025, 8, 10)
    assert ten.due(Period.parse("2024H1")) == D(2024, 7, 10)  # as before: the 10th day after the period ends
    assert d28.due(Period.parse("2025年7月")) == D(2025, 8, 28)
    assert d28.due(Period.parse("2025M12")) == D(2026, 1, 28)  # the month after December is next January
    assert d28.due(Period.parse("2025Q2")) == D(2025, 7, 28)  # quarterly: the month after the quarter
    assert d30.due(Period.parse("2025M01")) == D(2025, 2, 28)  # February has no 30th: its last day
    explicit = DeadlineRule(days=10, dates={"2025M07": D(2025, 9, 5)})
    assert explicit.due(Period.parse("2025M07")) == D(2025, 9, 5) and explicit.due(Period.parse("2025M08")) == D(2025, 9, 10)


def test_default_period_judged_is_the_latest_whose_deadline_has_passed():
    led = monthly(rule=DeadlineRule(days=None, day=28))
    rule = led.deadline_rule
    assert rule is not None
    p, why = default_period(led, rule, D(2025, 8, 29))  # July's deadline 08-28 has passed
    assert p.code == "2025M07" and "2025-08-28" in why and "2025年7月" in why
    p, _ = default_period(led, rule, D(2025, 8, 28))  # due today: not passed yet → June
    assert p.code == "2025M06"
    p, why = default_period(led, rule, D(2025, 1, 15))  # nothing has passed: the current month
    assert p.code == "2025M01" and "当前报送期" in why
    assert default_period(led, rule, D(2030, 1, 1))[0].code == "2025M12"


def test_default_period_collecting_is_the_current_one_when_it_is_due_within_itself():
    """每月25日前报送当月进展: on 20 October it is October's returns that are being collected, not September's."""
    led = monthly()
    p, why = default_period(led, DeadlineRule.parse("每月25日前（当月）"), D(2025, 10, 20), collecting=True)
    assert p.code == "2025M10" and "截止 2025-10-25" in why


def test_default_period_collecting_is_the_latest_that_has_ended():
    led = monthly()
    p, why = default_period(led, DeadlineRule(), D(2025, 8, 3), collecting=True)
    assert p.code == "2025M07" and "截止 2025-08-10" in why
    assert default_period(led, DeadlineRule(), D(2024, 12, 1), collecting=True)[0].code == "2025M01"


@pytest.mark.parametrize("unit, countable", [("个", True), ("家", True), ("座", True), ("辆", True), ("户", True), ("人", True),
                                             ("万人", False), ("公里", False), ("吨", False), ("%", False), ("万元", False)])
def test_countable_units(unit, countable):
    assert is_countable(unit) is countable


def test_the_rule_travels_through_the_load_cache():
    led = monthly(rule=DeadlineRule.parse("每月28日前"))
    again = ledger_from_raw(ledger_to_raw(led))
    assert again.period_kind == "month" and again.deadline_rule is not None and again.deadline_rule.day == 28
    assert led.to_json()["deadline_rule"] == "报送期结束后次月28日前"


def test_definition_settings_take_month_and_the_deadline_rule(tmp_path: Path):
    from openpyxl import load_workbook

    from ledger_xl.definition import load_definition, save_definition

    path = tmp_path / "def.xlsx"
    save_definition(monthly(rule=DeadlineRule.parse("次月28日前")), path)
    got = load_definition(path)
    assert got.ledger.period_kind == "month" and got.ledger.deadline_rule is not None and got.ledger.deadline_rule.day == 28
    wb = load_workbook(path)
    settings = {r[0].value: r[1] for r in wb["设置"].iter_rows(min_row=2) if r[0].value}
    settings["报送周期"].value = "月度"
    settings["报送截止"].value = "每月最后一个工作日"
    wb.save(path)
    got = load_definition(path)
    assert got.ledger.period_kind == "month"
    bad = [f for f in got.findings if f.code == "def-deadline-rule"]
    assert len(bad) == 1 and bad[0].sheet == "设置" and bad[0].cell == settings["报送截止"].coordinate and "工作日" in bad[0].message


def test_workspace_rule_precedence(tmp_path: Path):
    """ledger-xl.toml's deadline > the definition's 报送截止 > deadline_days; [deadlines] dates win for their period."""
    from ledger_xl.workspace import Workspace

    led = monthly(rule=DeadlineRule.parse("次月28日前"))
    ws = Workspace(tmp_path, {"templates": {"deadline_days": 5, "deadline": ""}, "deadlines": {}})
    assert ws.deadline_rule(led).due(Period.parse("2025M07")) == D(2025, 8, 28)
    assert ws.deadline_rule(monthly()).due(Period.parse("2025M07")) == D(2025, 8, 5)
    ws.config["templates"]["deadline"] = "报送期结束后15日内"
    assert ws.deadline_rule(led).due(Period.parse("2025M07")) == D(2025, 8, 15)
    ws.config["deadlines"] = {"2025年7月": D(2025, 9, 1), "2025-08": "2025年9月30日"}
    rule = ws.deadline_rule(led)
    assert [rule.due(Period.parse(t)) for t in ("2025M07", "2025M08", "2025M09")] == [D(2025, 9, 1), D(2025, 9, 30), D(2025, 10, 15)]
    ws.config["deadlines"] = {"2025M07": "八月底"}
    with pytest.raises(LedgerError) as e:
        ws.deadline_rule(led)
    assert "[deadlines] 2025M07" in e.value.message and "2025-08-28" in e.value.message


def test_default_period_of_a_quarterly_programme():
    led = Ledger(title="t", years=[2025], bureaus=[], tasks=[], period_kind="quarter")
    rule = DeadlineRule(days=15)
    assert default_period(led, rule, D(2025, 7, 16))[0].code == "2025Q2"  # Q2 due 07-15
    assert default_period(led, rule, D(2025, 7, 15))[0].code == "2025Q1"  # due today: not yet passed
    assert default_period(led, rule, D(2025, 7, 3), collecting=True)[0].code == "2025Q2"


def test_a_metric_counts_the_periods_of_its_kind_up_to_the_period_in_time_order():
    """Metric.actual orders and filters periods by (year, index) tuples: the same figures as the rule written over
    Periods (kind, order, ≤ or <, the year of a per-year metric), for codes of every kind over several years and
    figures whose sum depends on the order they are added in."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger_xl.model import Metric

    kinds = {"month": 12, "quarter": 4, "half-year": 2, "year": 1}
    periods = [Period(y, k, i) for y in (2024, 2025, 2026) for k, n in kinds.items() for i in range(1, n + 1)]

    def by_periods(m: Metric, reported: dict[str, float], period: Period, inclusive: bool) -> float | None:
        got = sorted((p, v) for p, v in ((Period.parse(c), v) for c, v in reported.items())
                     if p.kind == period.kind and (p <= period if inclusive else p < period))
        got = [(p, v) for p, v in got if m.accumulation != "per_year" or p.year == period.year]
        return None if not got else got[-1][1] if m.accumulation == "year_end" else sum(v for _, v in got)

    @settings(max_examples=300, deadline=None)
    @given(st.dictionaries(st.sampled_from([p.code for p in periods]), st.sampled_from([0.1, 0.2, 0.3, 1e16, -1e16, 3.0])),
           st.sampled_from(periods), st.sampled_from(["additions", "year_end", "per_year"]), st.booleans())
    def check(reported: dict[str, float], period: Period, accumulation: str, inclusive: bool) -> None:
        m = Metric("m", "万吨", {2024: 1.0, 2025: 2.0}, accumulation=accumulation)  # type: ignore[arg-type]
        assert m.actual(reported, period, inclusive=inclusive) == by_periods(m, reported, period, inclusive)

    check()
