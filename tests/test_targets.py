from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_xl.findings import LedgerError
from ledger_xl.model import Period
from ledger_xl.targets import (
    NumberError,
    cell_indicator,
    find_total,
    parse_count,
    parse_frequency,
    parse_indicators,
    parse_percent,
    parse_quantity_cell,
    parse_ratio,
    ratio_of_time,
    read_count,
    text_metrics,
    time_of_serial,
    time_of_text,
)


@pytest.mark.parametrize(
    "typed, expected",
    [(12, 12), ("12", 12), ("１２个", 12), ("1,200", 1200), (" 3辆 ", 3), ("3.5", 3.5), ("12 个", 12), ("０", 0)],
)
def test_parse_count__accepts_what_people_type(typed, expected):
    assert parse_count(typed) == expected


@pytest.mark.parametrize(
    "typed, why",
    [("约5个", "约数"), ("30余", "约数"), ("三", "阿拉伯数字"), ("-3", "负数"), ("−3", "负数"), ("abc", "不是数字"), ("", "为空"), ("5%", "是百分数，不是数量")],
)
def test_parse_count__refuses_with_a_reason(typed, why):
    with pytest.raises(NumberError, match=why):
        parse_count(typed)


@pytest.mark.parametrize("typed, unit, expected, note", [
    ("2万辆", "辆", 20000, "折算为 20000"), ("1.2万", "辆", 12000, "折算为 12000"), ("5200人", "万人", 0.52, "折算为 0.52"),
    ("8000万元", "亿元", 0.8, "折算为 0.8"), ("5200万", "万人", 5200, None), ("3个", "座", 3, None), ("1次", "次", 1, None),
    ("12", "个", 12, None), ("3辆", None, 3, None), ("3.5万亩", "亩", 35000, "折算为 35000"),
])
def test_read_count__in_the_fields_unit(typed, unit, expected, note):
    n, said = read_count(typed, unit)
    assert n == pytest.approx(expected) and (said is None) == (note is None)
    assert note is None or note in said


@pytest.mark.parametrize("typed, unit", [("12吨", "个"), ("200元", "辆"), ("52000元", "万人"), ("50平方米", "个"), ("12辆", "个"),
                                         ("2家企业", "家"), ("5万", None)])
def test_read_count__another_unit_is_refused_never_dropped(typed, unit):
    with pytest.raises(NumberError, match="不是本栏的单位" if unit else "不是数字"):
        read_count(typed, unit)


def test_parse_count__integer_required():
    with pytest.raises(NumberError, match="整数"):
        parse_count("2.5", integer=True)


@pytest.mark.parametrize("typed, cell_pct, expected", [("18%", False, 18), ("18", False, 18), (18, False, 18), (0.18, True, 18), ("１８％", False, 18)])
def test_parse_percent(typed, cell_pct, expected):
    assert parse_percent(typed, cell_is_percent_formatted=cell_pct) == pytest.approx(expected)


@pytest.mark.parametrize("typed, expected", [("3.5:1", 3.5), ("3.5：1", 3.5), ("４：１", 4), ("3.5", 3.5), (3.5, 3.5), ("7:2", 3.5)])
def test_parse_ratio(typed, expected):
    assert parse_ratio(typed) == pytest.approx(expected)


def test_parse_ratio__refuses_zero_and_text():
    for bad in ("3:0", "约3:1", "三比一"):
        with pytest.raises(NumberError):
            parse_ratio(bad)


@pytest.mark.parametrize("cell, context, expected", [
    ("60%", "", (">=", 60)), ("60％", "", (">=", 60)), ("达到60%", "", (">=", 60)), ("不低于60%。", "", (">=", 60)),
    ("60%以上", "", (">=", 60)), ("5%以内", "", ("<=", 5)), ("5.5%", "控制目标，不高于", ("<=", 5.5)),
    ("不超过5.5%", "", ("<=", 5.5)), ("96%", "达到", (">=", 96)), ("90%", "县级以下医疗机构覆盖率", (">=", 90)),
    ("5.5%", "城镇调查失业率控制在", ("<=", 5.5)),
    ("增长6%左右", "", None), ("3.5万人", "", None), ("60", "", None), ("—", "", None), ("约60%", "", None),
])
def test_cell_indicator__a_cell_that_is_only_a_percentage(cell, context, expected):
    got = cell_indicator(cell, "某指标", context)
    assert (None if got is None else (got.op, got.value)) == expected
    assert got is None or (got.text, got.unit) == ("某指标", "%")


@pytest.mark.parametrize("value, hms", [
    (0.125694444444444, (3, 1, 0)),       # "3:1" as LibreOffice saves it (15 significant digits)
    (181 / 1440, (3, 1, 0)),              # as Excel saves it
    (1.04236111111111, (25, 1, 0)),       # "25:1": a duration
    (0.125752314814815, (3, 1, 5)),       # "3:1:5"
    (0.125, None), (0.13125, None),       # 3:00 and 3:09 are also decimals a person types: left as numbers
    (1 / 3, None), (1 / 24, None),        # whole hours: fractions a formula gives as often
    (3.5, None), (0.18, None), (12.0, None), (0.0, None), (-0.125694444444444, None), (0.1234567891, None),
])
def test_time_of_serial__only_a_number_no_one_types(value, hms):
    assert time_of_serial(value) == hms


@given(st.integers(0, 99), st.integers(1, 59))
def test_any_ratio_typed_h_m_and_stored_as_a_time_reads_back_as_h_over_m(h, m):
    for stored in (h / 24 + m / 1440, float(f"{h / 24 + m / 1440:.15g}")):  # Excel's double, LibreOffice's 15 digits
        hms = time_of_serial(stored)
        if hms is not None:  # None only where the day fraction is also a short decimal (m·… divisible by 9)
            assert ratio_of_time(hms) == pytest.approx(h / m)
    assert ratio_of_time(time_of_text(f"{h}:{m:02d}") or (0, 0, 0)) == pytest.approx(h / m)


def test_ratio_of_time__refuses_what_is_no_ratio():
    assert ratio_of_time((3, 0, 0)) is None and ratio_of_time((3, 1, 5)) is None
    assert time_of_text("3:1") is None and time_of_text("3:60") is None and time_of_text("25:01:05") == (25, 1, 5)


@given(st.integers(min_value=0, max_value=10**9))
def test_parse_count__any_fullwidth_or_separated_integer_round_trips(n):
    fullwidth = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_count(fullwidth + "个") == n
    assert parse_count(f"{n:,}") == n


@given(st.text(max_size=20))
def test_parse_count__never_raises_anything_but_number_error(text):
    try:
        v = parse_count(text)
    except NumberError:
        return
    assert v >= 0


def test_quantity_cell_shapes():
    assert [(q.name, q.value, q.unit) for q in parse_quantity_cell("充电站1座；充电桩30个")] == [("充电站", 1, "座"), ("充电桩", 30, "个")]
    assert parse_quantity_cell("每年制定工作进度计划。") is None
    assert parse_quantity_cell("") is None


def test_totals_and_comparisons():
    assert find_total("不少于5个", "个").op == ">="
    assert find_total("≥80个", "个").value == 80
    assert find_total("新增新能源车400辆", "辆").op == "=="
    assert find_total("建设10个以上", "个").op == ">="
    assert find_total("新增充电站6 座，新增充电桩200个", "个", "充电桩").value == 200
    assert find_total("新增冷藏保温车", "辆") is None


def test_indicators_and_frequencies():
    (i,) = parse_indicators("示范期末，城市配送吨公里运输成本较示范建设期初降低的比例≥10%。")
    assert (i.op, i.value, i.unit, i.baseline, i.change) == (">=", 10, "%", True, "decrease")
    (r,) = parse_indicators("充电桩总量的比值≤４：１。")
    assert (r.op, r.value, r.unit) == ("<=", 4, "ratio")
    assert parse_frequency("每季度召开两次会议") == ("quarter", 2)
    assert parse_frequency("建立制度") == (None, 1)


@pytest.mark.parametrize("text, code", [("2024H1", "2024H1"), ("2024上半年", "2024H1"), ("2024年下半年", "2024H2"), ("2024q3", "2024Q3"), ("2024", "2024"), ("2024第二季度", "2024Q2")])
def test_period_parse(text, code):
    assert Period.parse(text).code == code


def test_period_parse__refuses_nonsense():
    with pytest.raises(LedgerError, match="2024H1"):
        Period.parse("明年")


def test_period_order_and_previous():
    assert Period.parse("2024H1").previous() == Period.parse("2023H2")
    assert Period.parse("2023H2") < Period.parse("2024H1")


def test_a_thousands_separator_in_a_ledger_figure_is_part_of_the_number():
    """"新增学位1,200个" is 1200 (it was read as 200), in a task's text, a year cell and a metric's name; a comma
    that is not grouping thousands stays a comma."""
    assert find_total("新增学位1,200个", "个") == find_total("新增学位1，200个", "个")
    assert find_total("新增学位1,200个", "个").value == 1200  # type: ignore[union-attr]
    assert [(q.value, q.unit) for q in parse_quantity_cell("2,400户")] == [(2400, "户")]  # type: ignore[union-attr]
    (metric, _), = text_metrics("新增学位1,200个", 2026)
    assert (metric.name, metric.target.value) == ("新增学位", 1200)  # type: ignore[union-attr]
    assert parse_count("1,200") == 1200 and find_total("2024年完成3，2025年完成5个", "个").value == 5  # type: ignore[union-attr]
