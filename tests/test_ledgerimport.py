"""Real ledgers of the common shapes, read from Word and from Excel by one reader (tests/ledger_shapes.py draws them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from ledger_shapes import (
    SHAPES,
    X,
    county_annex,
    gov_work_report,
    percent_targets,
    report_by_category,
    three_year_plan,
    write_docx,
    write_xlsx,
)

from ledger_xl.definition import load_definition, save_definition
from ledger_xl.findings import LedgerError
from ledger_xl.model import Target
from ledger_xl.xlsximport import import_ledger

REPO = Path(__file__).resolve().parents[1]


def _both(tmp_path: Path, shape):  # type: ignore[no-untyped-def]
    return (import_ledger(write_docx(shape, tmp_path / f"{shape.name}.docx")),
            import_ledger(write_xlsx(shape, tmp_path / f"{shape.name}.xlsx")))


def _by_id(result):  # type: ignore[no-untyped-def]
    return {t.id: t for t in result.ledger.tasks}


# ------------------------------------------------------------------ 政府工作报告 目标任务分解表


def test_gov__leaders_are_persons_and_lead_bureaus_stay(tmp_path):
    word, _ = _both(tmp_path, gov_work_report())
    t = _by_id(word)
    assert t["1"].leaders == ["王强"] and t["1"].lead == ["市发展改革委"]
    assert t["9"].leaders == ["王强", "李华"]
    names = word.ledger.bureau_names()
    assert "王强" not in names and "李华" not in names and "市发展改革委" in names
    assert ("牵头市领导", "责任领导（人员，不作为单位）") in word.columns


def test_gov__one_year_from_the_title_deadlines_and_reporting_from_the_note(tmp_path):
    word, _ = _both(tmp_path, gov_work_report())
    ledger = word.ledger
    assert ledger.years == [2025] and ledger.title == "2025年政府工作报告目标任务分解表"
    assert ledger.period_kind == "quarter" and (ledger.deadline_rule.days, ledger.deadline_rule.day) == (10, None)
    t = _by_id(word)
    assert t["1"].deadline == dt.date(2025, 12, 31) and t["2"].deadline == dt.date(2025, 12, 31)
    assert t["4"].deadline == dt.date(2025, 10, 31) and t["9"].deadline == dt.date(2025, 6, 30)
    assert t["3"].deadline is None and t["5"].deadline is None  # 全年, 持续推进
    assert (t["8"].frequency, t["8"].frequency_count, t["8"].deadline) == ("year", 4, None)  # 4次/年, 每季度


def test_gov__targets_in_the_text(tmp_path):
    word, _ = _both(tmp_path, gov_work_report())
    t = _by_id(word)
    (gdp,) = t["1"].indicators
    assert (gdp.op, gdp.value, gdp.unit) == (">=", 6, "%") and "左右" in gdp.text
    (jobs,) = t["2"].metrics
    assert (jobs.unit, jobs.yearly, jobs.accumulation) == ("万人", {2025: 3.5}, "additions")
    assert (t["3"].indicators[0].op, t["3"].indicators[0].value) == ("<=", 5.5)
    assert (t["4"].metrics[0].unit, t["4"].metrics[0].yearly) == ("万亩", {2025: 1.2})
    assert (t["5"].indicators[0].op, t["5"].indicators[0].value) == (">=", 95)
    (pm,) = t["6"].metrics
    assert (pm.unit, pm.target, pm.accumulation) == ("微克/立方米", Target("<=", 40), "year_end")
    (firms,) = t["7"].metrics
    assert (firms.unit, firms.target, firms.accumulation) == ("家", Target(">=", 600), "year_end")
    assert t["9"].deliverable == "《促进民营经济高质量发展若干措施》"


# ------------------------------------------------------------------ 三年行动计划 重点任务清单


def test_plan__category_rows_are_categories_never_tasks_or_units(tmp_path):
    word, _ = _both(tmp_path, three_year_plan())
    ledger = word.ledger
    assert [t.id for t in ledger.tasks] == [str(i) for i in range(1, 10)]
    assert {t.category for t in ledger.tasks[:3]} == {"数字基础设施提升行动"}
    assert {t.category for t in ledger.tasks[3:]} == {"产业数字化转型行动"}
    assert not [n for n in ledger.bureau_names() if "行动" in n]
    assert any(f.code == "category-row" for f in word.findings)


def test_plan__target_column_years_and_what_a_yearly_figure_means(tmp_path):
    word, _ = _both(tmp_path, three_year_plan())
    assert word.ledger.years == [2025, 2026, 2027] and word.ledger.period_kind == "half-year"
    t = _by_id(word)
    assert t["1"].target_text == "到2027年，全市5G用户达到50万户"
    users, stations, revenue, factories = t["1"].metrics[0], t["2"].metrics[0], t["4"].metrics[0], t["6"].metrics[0]
    assert (users.accumulation, users.planned_total(), users.target) == ("year_end", 50, Target(">=", 50))
    assert (stations.accumulation, stations.planned_total()) == ("additions", 3000)
    assert (revenue.accumulation, revenue.unit, revenue.yearly) == ("per_year", "亿元", {2025: 200, 2026: 250, 2027: 300})
    assert (factories.accumulation, factories.planned_total()) == ("year_end", 30)


def test_plan__a_rising_threshold_is_one_indicator_with_one_threshold_a_year(tmp_path):
    word, excel = _both(tmp_path, three_year_plan())
    for result in (word, excel):
        (ind,) = _by_id(result)["5"].indicators
        assert ind.yearly == {2025: Target(">=", 75), 2026: Target(">=", 80), 2027: Target(">=", 85)}
        assert ind.threshold_for(2026) == Target(">=", 80) and (ind.op, ind.value) == (">=", 85)
        (flat,) = _by_id(result)["9"].indicators
        assert flat.yearly == {} and (flat.op, flat.value) == (">=", 90)


def test_plan__duty_deliverable_and_names_kept_as_written(tmp_path):
    word, _ = _both(tmp_path, three_year_plan())
    t = _by_id(word)
    assert (t["7"].frequency, t["7"].frequency_count) == ("half-year", 1)
    assert t["8"].deliverable == "《数字经济促进条例实施细则》"
    assert t["2"].responsible == ["市住房城乡建设局", "市自然资源和规划局"]
    telcos = [b for b in word.ledger.bureaus if "分公司" in b.name]
    assert len(telcos) == 3 and len({b.short_name for b in telcos}) == 3


# ------------------------------------------------------------------ a county 附件 table


def test_county__attachment_line_is_not_the_title_and_responsible_alone_leads(tmp_path):
    word, _ = _both(tmp_path, county_annex())
    ledger = word.ledger
    assert ledger.title == "2025年全市重点民生实事工作台账"
    t = _by_id(word)
    assert t["1"].lead == ["市教育局"] and t["1"].responsible == ["各县（市、区）政府"]
    assert t["1"].leaders == ["周明（副局长）"] and t["2"].leaders == ["王芳（副主任）", "刘洋（科长）"]
    assert not [n for n in ledger.bureau_names() if "局长" in n or "周明" in n]


def test_county__group_units_newspapers_short_names_and_membership(tmp_path):
    word, _ = _both(tmp_path, county_annex())
    ledger = word.ledger
    names = ledger.bureau_names()
    assert "各县（市、区）政府" in names and "各县（市" not in names and "区）政府" not in names
    assert ledger.bureau("各县（市、区）政府").group and ledger.bureau("市直各部门").group
    assert "南阳日报社" in names and "市南阳日报社" not in names
    shorts = [b.short_name for b in ledger.bureaus]
    assert len(shorts) == len(set(shorts))
    assert not any(b.member for b in ledger.bureaus)  # no leading group is mentioned: nobody is marked a member
    assert {(t.id, t.category) for t in ledger.tasks if t.id in "147"} == {("1", "民生保障"), ("4", "城乡建设"), ("7", "宣传与安全")}
    assert (_by_id(word)["3"].metrics[0].accumulation, _by_id(word)["3"].metrics[0].unit) == ("year_end", "万人")


# ------------------------------------------------------------------ a category row merged across under a one-row header


def test_report__a_category_row_under_a_one_row_header_is_a_category_not_a_header(tmp_path):
    for result in _both(tmp_path, report_by_category()):
        assert [h for h, _ in result.columns][:6] == ["序号", "目标任务", "牵头市领导", "牵头单位", "配合单位", "完成时限"]
        tasks = _by_id(result)
        assert len(tasks) == 7 and all(t.lead for t in tasks.values())
        assert tasks["1"].category == "主要预期目标" and tasks["7"].category == "重点工作任务"
        assert tasks["4"].lead == ["市交通运输局"] and tasks["1"].leaders == ["王强"]
        assert sum(f.code == "category-row" for f in result.findings) == 2


# ------------------------------------------------------------------ targets that are bare percentages


def test_percent__a_bare_percentage_target_is_an_indicator_with_its_operator(tmp_path):
    """60% (in Excel 0.6 formatted 0%), 达到96%, 不低于80%: an indicator named by its task, ≥ unless the words
    beside it cap it; the same threshold in the target and the year cells is one indicator, asked once."""
    for result in _both(tmp_path, percent_targets()):
        t = _by_id(result)
        got = {tid: [(i.text, i.op, i.value, i.unit) for i in t[tid].indicators] for tid in t}
        assert got["1"] == [("城市建成区绿地率", ">=", 40, "%")]
        assert got["2"] == [("城镇生活污水集中处理率", ">=", 96, "%")]
        assert got["3"] == [("农村卫生厕所普及率", ">=", 80, "%")]
        assert t["3"].indicators[0].yearly == {2025: Target(">=", 78), 2026: Target(">=", 80)}
        assert got["4"] == [("城镇调查失业率", "<=", 5.5, "%")]  # 备注：控制目标，不高于
        assert got["5"] == [("森林覆盖率", ">=", 25.5, "%")]
        assert got["6"] == [("空气质量优良天数比例稳定在80%以上", ">=", 80, "%")]  # named in the task: kept once
        assert got["7"] == [] and t["7"].metrics[0].yearly == {2025: 1.5, 2026: 2}
        assert t["1"].target_text == "40%"


def test_percent__a_threshold_in_the_task_and_again_in_the_year_cells_is_asked_once(tmp_path):
    result = import_ledger(write_docx(_other_wordings(), tmp_path / "x.docx"))
    (ind,) = result.ledger.tasks[3].indicators  # 保持在85%以上 in 工作目标, ≥85% in each year cell
    assert (ind.text, ind.op, ind.value) == ("农村劳动力转移就业率保持在85%以上", ">=", 85)


def test_a_second_person_column_is_named_as_persons_in_the_summary_not_other(tmp_path):
    """牵头市领导 takes the 责任领导 role; a 责任人 column beside it is persons too: said so, kept in the notes."""
    from ledger_shapes import Shape

    head = ["序号", "重点任务", "牵头市领导", "牵头单位", "责任单位", "责任人", "完成时限"]
    rows: list[list[object]] = [head, ["1", "新建公办幼儿园5所", "王强", "市教育局", "市财政局", "周明（副局长）\n李四", "2025年8月底前"]]
    for result in _both(tmp_path, Shape("两列人员", ["2025年重点工作台账"], rows)):  # type: ignore[arg-type]
        roles = dict(result.columns)
        assert roles["牵头市领导"] == "责任领导（人员，不作为单位）"
        assert roles["责任人"] == "责任人（人员，不作为单位，记入备注）"
        (task,) = result.ledger.tasks
        assert task.leaders == ["王强"] and task.note == "责任人：周明（副局长）、李四"
        assert "周明（副局长）" not in [b.name for b in result.ledger.bureaus]


# ------------------------------------------------------------------ Excel reads as Word


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_excel_twin_imports_as_its_word_twin(tmp_path, shape):
    word, excel = _both(tmp_path, SHAPES[shape]())
    assert excel.ledger == word.ledger
    assert excel.columns == word.columns
    assert [(f.code, f.message) for f in excel.findings if f.code != "formula-cached"] == [(f.code, f.message) for f in word.findings]


def test_findings_name_the_row_in_word_and_the_cell_in_excel(tmp_path):
    word, excel = _both(tmp_path, county_annex())
    w = next(f for f in word.findings if f.code == "category-row")
    x = next(f for f in excel.findings if f.code == "category-row")
    assert (w.sheet, w.cell) == ("表格", "第2行")
    assert (x.sheet, x.cell) == ("台账", "B4")  # 附件1 and the title are rows 1–2, the header row 3


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_round_trips_through_the_definition(tmp_path, shape):
    word, _ = _both(tmp_path, SHAPES[shape]())
    path = tmp_path / "def.xlsx"
    save_definition(word.ledger, path)
    loaded = load_definition(path)
    assert [f for f in loaded.findings if f.severity == "error"] == []
    assert loaded.ledger == word.ledger


def test_samples_of_each_shape_are_in_the_repository_and_import_as_built_here(tmp_path):
    for key, make in SHAPES.items():
        built = import_ledger(write_docx(make(), tmp_path / "x.docx")).ledger
        for ext in ("docx", "xlsx"):
            sample = REPO / "samples" / "ledgers" / f"{key}.{ext}"
            assert import_ledger(sample).ledger == built, sample


# ------------------------------------------------------------------ refusals, never half an import


def test_refused__no_unit_column_names_the_header_row(tmp_path):
    shape = gov_work_report()
    shape.rows = [[c for i, c in enumerate(r) if i not in (3, 4)] for r in shape.rows]
    with pytest.raises(LedgerError) as e:
        import_ledger(write_xlsx(shape, tmp_path / "x.xlsx"))
    assert e.value.code == "no-ledger-table" and "台账 › 第2行" in e.value.message and "单位列" in e.value.message


def test_refused__several_ledger_sheets_ask_for_one(tmp_path):
    p = write_xlsx(three_year_plan(), tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(p)
    wb.copy_worksheet(wb["台账"]).title = "台账（上年）"
    wb.save(p)
    with pytest.raises(LedgerError, match="--sheet") as e:
        import_ledger(p)
    assert "台账、台账（上年）" in e.value.message
    assert import_ledger(p, sheet="台账（上年）").ledger.years == [2025, 2026, 2027]
    with pytest.raises(LedgerError, match="没有名为“其他”的工作表"):
        import_ledger(p, sheet="其他")


def test_refused__a_formula_without_a_result_names_its_cell(tmp_path):
    shape = three_year_plan()
    shape.rows[3][3] = X("30万户", "=20+10")
    with pytest.raises(LedgerError) as e:
        import_ledger(write_xlsx(shape, tmp_path / "x.xlsx"))
    assert e.value.code == "formula-no-value" and "台账 › D5" in e.value.message


def test_refused__old_excel_says_how_to_convert(tmp_path):
    p = tmp_path / "台账.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(LedgerError, match="另存为” .xlsx"):
        import_ledger(p)


def test_refused__no_year_anywhere(tmp_path):
    shape = gov_work_report()
    shape.above = ["政府工作报告目标任务分解表"]
    shape.rows = [r[:5] for r in shape.rows]  # no 完成时限 either
    with pytest.raises(LedgerError, match="读不出台账的年份"):
        import_ledger(write_docx(shape, tmp_path / "x.docx"))


def test_a_row_without_a_task_is_dropped_with_a_finding_at_its_row(tmp_path):
    shape = county_annex()
    shape.rows.append(["9", "", "", "市财政局", "", "", "待定"])
    result = import_ledger(write_xlsx(shape, tmp_path / "x.xlsx"))
    (f,) = [f for f in result.findings if f.code == "row-dropped"]
    assert f.cell == "B15" and "市财政局" in (f.value or "")
    assert [t.id for t in result.ledger.tasks] == [str(i) for i in range(1, 9)]


# ------------------------------------------------------------------ the definition's new columns, checked by cell


def _definition(tmp_path: Path, shape) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "def.xlsx"
    save_definition(import_ledger(write_docx(shape, tmp_path / "x.docx")).ledger, path)
    return path


def _set(path: Path, sheet: str, header: str, row: int, value: object) -> str:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    col = next(c.column_letter for c in ws[1] if c.value == header)
    ws[f"{col}{row}"] = value
    wb.save(path)
    return f"{col}{row}"


def test_new_columns_are_validated_at_their_cells(tmp_path):
    path = _definition(tmp_path, three_year_plan())
    deadline = _set(path, "任务", "完成时限", 2, "年底")
    acc = _set(path, "数量指标", "累计方式", 2, "累加")
    threshold = _set(path, "比例指标", "2026年阈值", 2, "八成")
    includes = _set(path, "单位", "包含单位", 11, "宛城区政府")
    got = {(f.code, f.sheet, f.cell) for f in load_definition(path).findings if f.severity == "error"}
    assert got == {("def-date", "任务", deadline), ("def-choice", "数量指标", acc), ("def-not-number", "比例指标", threshold),
                   ("def-unknown-bureau", "单位", includes)}


def test_clerk_corrections_of_the_new_columns_are_honoured(tmp_path):
    path = _definition(tmp_path, three_year_plan())
    _set(path, "任务", "完成时限", 2, dt.datetime(2027, 6, 30))
    _set(path, "任务", "责任领导", 2, "王强、李华")
    _set(path, "数量指标", "累计方式", 3, "年末累计")  # task 2's 基站: now a level
    _set(path, "比例指标", "2026年阈值", 2, 82)
    ledger = load_definition(path).ledger
    t = {x.id: x for x in ledger.tasks}
    assert t["1"].deadline == dt.date(2027, 6, 30) and t["1"].leaders == ["王强", "李华"]
    assert t["2"].metrics[0].accumulation == "year_end" and t["2"].metrics[0].planned_total() == 1200
    assert t["5"].indicators[0].threshold_for(2026) == Target(">=", 82)


def test_a_missing_year_column_is_refused_on_every_sheet(tmp_path):
    path = _definition(tmp_path, three_year_plan())
    wb = openpyxl.load_workbook(path)
    for sheet, header in (("任务", "2026年工作分解"), ("数量指标", "2026年"), ("比例指标", "2026年阈值")):
        next(c for c in wb[sheet][1] if c.value == header).value = "其他"
    wb.save(path)
    missing = {f.sheet for f in load_definition(path).findings if f.code == "def-missing-column"}
    assert missing == {"任务", "数量指标", "比例指标"}


def test_ledger_show_json_has_the_new_keys(tmp_path):
    import json

    from click.testing import CliRunner

    from ledger_xl.cli import cli

    path = _definition(tmp_path, gov_work_report())
    out = CliRunner().invoke(cli, ["ledger", "show", "--ledger", str(path), "--json"], catch_exceptions=False)
    data = json.loads(out.stdout)
    t = {x["id"]: x for x in data["tasks"]}
    assert t["1"]["leaders"] == ["王强"] and t["1"]["deadline"] == "2025-12-31" and t["3"]["deadline"] is None
    assert t["2"]["metrics"][0]["accumulation"] == "additions" and t["2"]["metrics"][0]["target"] == {"op": "==", "value": 3.5}
    assert t["6"]["metrics"][0]["accumulation"] == "year_end" and t["6"]["metrics"][0]["target"] == {"op": "<=", "value": 40}
    assert t["1"]["indicators"][0]["yearly"] == {} and t["1"]["target_text"] is None
    plan = _definition(tmp_path / "p", three_year_plan()) if (tmp_path / "p").mkdir() is None else None
    data = json.loads(CliRunner().invoke(cli, ["ledger", "show", "--ledger", str(plan), "--json"]).stdout)
    t = {x["id"]: x for x in data["tasks"]}
    assert t["5"]["indicators"][0]["yearly"] == {"2025": {"op": ">=", "value": 75}, "2026": {"op": ">=", "value": 80},
                                                 "2027": {"op": ">=", "value": 85}}
    assert t["1"]["target_text"] == "到2027年，全市5G用户达到50万户"


# ------------------------------------------------------------------ other wordings of the same shapes


def _other_wordings():  # type: ignore[no-untyped-def]
    """The title inside the table (a row merged across), 类别/工作任务/工作目标 headers, a 年度工作分解 group over
    2026年度/2027年度, 责任单位 and 配合单位 with no 牵头单位, 分管领导 and 时间节点, sub-category rows （一）,
    numbering that restarts under each category, a header repeated at a page break, an unknown column."""
    from ledger_shapes import Shape

    h1 = ["序号", "类别", "工作任务", "工作目标", "年度工作分解", "年度工作分解", "责任单位", "配合单位", "分管领导", "时间节点", "督办方式"]
    h2 = ["序号", "类别", "工作任务", "工作目标", "2026年度", "2027年度", "责任单位", "配合单位", "分管领导", "时间节点", "督办方式"]
    title = ["某县乡村振兴重点任务推进台账"] * 11
    rows = [title, h1, h2,
            ["（一）", "产业振兴", "", "", "", "", "", "", "", "", ""],
            ["1", "产业振兴", "发展设施农业", "新增设施农业面积0.8万亩", "0.3万亩", "0.5万亩", "县农业农村局", "各乡镇（街道）",
             "刘强（副县长）", "2027年11月底前", "月调度"],
            ["2", "产业振兴", "培育农业龙头企业", "市级以上龙头企业总数达到45家", "40家", "45家", "县农业农村局",
             "县市场监管局、县税务局", "刘强（副县长）", "2027年", ""],
            h2,
            ["（二）", "人才振兴", "", "", "", "", "", "", "", "", ""],
            ["1", "人才振兴", "开展高素质农民培训", "每年培训高素质农民不少于500人次", "500人次", "500人次", "县人力资源社会保障局",
             "县农业农村局\n县财政局", "陈静（副县长）", "每年12月", ""],
            ["2", "人才振兴", "农村劳动力转移就业", "农村劳动力转移就业率保持在85%以上", "≥85%", "≥85%", "县人力资源社会保障局", "",
             "陈静（副县长）", "分阶段推进", ""]]
    merges = [(0, 0, 0, 10), (1, 4, 1, 5)] + [(1, c, 2, c) for c in (0, 1, 2, 3, 6, 7, 8, 9, 10)]
    return Shape("其他写法", [], rows, merges=merges, below=["各责任单位每半年结束后10日内报送进展。"])


@pytest.mark.parametrize("ext", ["docx", "xlsx"])
def test_other_wordings_of_the_same_shapes(tmp_path, ext):
    write = write_docx if ext == "docx" else write_xlsx
    result = import_ledger(write(_other_wordings(), tmp_path / f"x.{ext}"))
    ledger = result.ledger
    assert ledger.title == "某县乡村振兴重点任务推进台账" and ledger.years == [2026, 2027]
    assert [t.id for t in ledger.tasks] == ["1", "2", "3", "4"]  # 1, 2, 1, 2 renumbered, the original kept in the note
    assert ledger.tasks[2].note.startswith("原序号：1") and any(f.code == "duplicate-id" for f in result.findings)
    t = {x.id: x for x in ledger.tasks}
    assert (t["1"].category, t["3"].category) == ("产业振兴", "人才振兴")
    assert t["1"].lead == ["县农业农村局"] and t["1"].responsible == ["各乡镇（街道）"]
    assert t["3"].responsible == ["县农业农村局", "县财政局"]  # a line break separates units
    assert t["1"].leaders == ["刘强（副县长）"] and t["1"].deadline == dt.date(2027, 11, 30)
    assert t["2"].deadline == dt.date(2027, 12, 31) and t["4"].deadline is None
    assert t["1"].note == "原序号：1；督办方式：月调度"
    area, firms, trainees = t["1"].metrics[0], t["2"].metrics[0], t["3"].metrics[0]
    assert (area.unit, area.accumulation, area.planned_total()) == ("万亩", "additions", 0.8)
    assert (firms.accumulation, firms.planned_total()) == ("year_end", 45)
    assert (trainees.unit, trainees.accumulation, trainees.yearly) == ("人次", "per_year", {2026: 500, 2027: 500})
    assert (t["4"].indicators[0].op, t["4"].indicators[0].value, t["4"].indicators[0].yearly) == (">=", 85, {})
    roles = dict(result.columns)
    assert roles["责任单位"] == "牵头单位" and roles["配合单位"] == "责任单位" and roles["督办方式"] == "其他（并入备注）"
    assert roles["分管领导"].startswith("责任领导") and roles["时间节点"] == "完成时限"
    (late,) = [f for f in result.findings if f.code == "deadline-unread"]
    assert "分阶段推进" in late.message
    assert ledger.period_kind == "half-year" and ledger.deadline_rule is not None and ledger.deadline_rule.days == 10


@pytest.mark.parametrize("value, fmt, shown", [(0.95, "0%", "95%"), (0.955, "0.0%", "95.5%"), (12.0, "General", "12"),
                                               (dt.datetime(2025, 6, 30), "yyyy-mm-dd", "2025年6月30日"), ("a\r\nb", "@", "a\nb")])
def test_excel_values_are_read_as_shown(value, fmt, shown):
    from ledger_xl.xlsximport import cell_text

    assert cell_text(value, fmt) == shown


def test_refused__an_excel_ledger_with_a_doctype(tmp_path):
    import zipfile

    src = write_xlsx(gov_work_report(), tmp_path / "a.xlsx")
    bad = tmp_path / "b.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                doctype = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                data = data.replace(b"?>", b"?>" + doctype, 1) if data.startswith(b"<?xml") else doctype + data
            zout.writestr(info, data)
    with pytest.raises(LedgerError) as e:
        import_ledger(bad)
    assert e.value.code == "xml-doctype"


def test_a_word_ledger_split_into_one_table_per_category_is_read_whole(tmp_path):
    import docx

    head = ["序号", "工作措施", "责任单位", "完成时限"]
    d = docx.Document()
    d.add_paragraph("2025年优化营商环境重点任务清单")
    for heading, rows in (("一、政务服务", [["1", "企业开办时间压缩至1个工作日内", "市市场监管局", "6月底前"],
                                              ["2", "新增“一件事”集成服务10项", "市政务服务和大数据管理局", "年底前"]]),
                          ("二、要素保障", [["3", "新增供应工业用地3000亩", "市自然资源和规划局、市发展改革委", "年底前"],
                                              ["合计", "", "", ""]])):
        d.add_paragraph(heading)
        t = d.add_table(rows=1 + len(rows), cols=4)
        for r, row in enumerate([head, *rows]):
            for c, v in enumerate(row):
                t.cell(r, c).text = v
    d.add_paragraph("各责任单位每季度结束后5日内报送进展。")
    path = tmp_path / "清单.docx"
    d.save(str(path))
    result = import_ledger(path)
    ledger = result.ledger
    assert [(t.id, t.category) for t in ledger.tasks] == [("1", "政务服务"), ("2", "政务服务"), ("3", "要素保障")]
    assert ledger.tasks[2].lead == ["市自然资源和规划局"] and ledger.tasks[2].responsible == ["市发展改革委"]
    assert ledger.tasks[0].deadline == dt.date(2025, 6, 30) and ledger.period_kind == "quarter"
    assert ledger.tasks[2].metrics[0].unit == "亩" and ledger.tasks[1].metrics[0].yearly == {2025: 10}
    assert ("工作措施", "任务") in result.columns and any(f.code == "total-row" for f in result.findings)


def test_bare_numbers_in_year_columns_take_the_unit_of_their_header(tmp_path):
    from ledger_shapes import Shape

    rows = [["序号", "重点任务", "2026年（个）", "2027年（个）", "牵头单位"],
            ["1", "新建充电桩500个", X("200", 200), X("300", 300), "市发展改革委"],
            ["2", "新建5G基站800个", X("300", 300.0), X("500", 500.0), "市工业和信息化局"]]
    result = import_ledger(write_xlsx(Shape("t", ["2026—2027年新基建任务台账"], rows), tmp_path / "x.xlsx"))
    t1, t2 = result.ledger.tasks
    assert t1.breakdown == {2026: "200个", 2027: "300个"}
    assert (t1.metrics[0].yearly, t1.metrics[0].unit) == ({2026: 200, 2027: 300}, "个")
    assert t2.metrics[0].planned_total() == 800


def test_leading_group_members_are_read_from_the_notes(tmp_path):
    shape = gov_work_report()
    shape.below = ["注：领导小组成员单位：市发展改革委、市统计局、市科技局。"]
    ledger = import_ledger(write_docx(shape, tmp_path / "x.docx")).ledger
    assert sorted(ledger.members()) == ["市发展改革委", "市科技局", "市统计局"]


@pytest.mark.parametrize("ext", ["docx", "xlsx"])
def test_role_words_labels_and_deng_are_not_part_of_unit_names(tmp_path, ext):
    """"A牵头，B、C配合", "牵头单位：A；配合单位：B", "A等相关单位", "A、B等": the units are A, B and C, each once,
    the one said to lead leads, and no template goes to "市财政局等" beside 市财政局."""
    from ledger_shapes import Shape

    rows = [["序号", "重点任务", "完成时限", "责任单位"],
            ["1", "完善统计监测制度", "2026年底前", "市发展改革委牵头，市财政局、市统计局配合"],
            ["2", "推进工业互联网建设", "2026年底前", "牵头单位：市工业和信息化局；配合单位：市通信发展办"],
            ["3", "开展数字乡村试点", "2026年底前", "市农业农村局等相关单位"],
            ["4", "落实减税降费政策", "2026年底前", "市税务局（牵头）、市财政局等"]]
    shape = Shape("t", ["2026年重点任务台账"], rows)
    path = write_docx(shape, tmp_path / "x.docx") if ext == "docx" else write_xlsx(shape, tmp_path / "x.xlsx")
    ledger = import_ledger(path).ledger
    leads = {t.id: t.lead for t in ledger.tasks}
    others = {t.id: t.responsible for t in ledger.tasks}
    assert leads == {"1": ["市发展改革委"], "2": ["市工业和信息化局"], "3": ["市农业农村局"], "4": ["市税务局"]}
    assert others == {"1": ["市财政局", "市统计局"], "2": ["市通信发展办"], "3": [], "4": ["市财政局"]}
    assert sorted(b.name for b in ledger.bureaus) == sorted(
        ["市发展改革委", "市财政局", "市统计局", "市工业和信息化局", "市通信发展办", "市农业农村局", "市税务局"])


# ------------------------------------------------------------------ targets an older reader dropped unsaid


def _targets_by_year():  # type: ignore[no-untyped-def]
    """Year cells as county and plan ledgers write them: bare figures whose unit is in the task's name, 新增N项,
    a threshold named by no words of its own, "99%以上" in one year, a figure with no unit at all, units such as 口."""
    from ledger_shapes import Shape

    h = ["序号", "重点任务", "具体目标", "2025年", "2026年", "牵头单位", "责任单位", "完成时限"]
    rows = [h,
            ["1", "新建保障性租赁住房（套）", "", X("1200", 1200, "#,##0"), X("1500", 1500, "#,##0"), "市住建局", "", "每年年底前"],
            ["2", "“一件事一次办”事项", "", "新增10项", "新增15项", "市政务服务和数据局", "", "2026.9.1"],
            ["3", "研发投入强度", "逐年提高", "1.8%", "2.2%", "市科技局", "", "次年3月底前"],
            ["4", "政务服务好差评满意度", "", "98%", "99%以上", "市政务服务和数据局", "", ""],
            ["5", "新建公办幼儿园", "", X("6", 6, "0"), X("9", 9, "0"), "市教育局", "", "2026年8月底前"],
            ["6", "新建农村户用沼气池", "", "200口", "300口", "市农业农村局", "", ""],
            ["7", "开展城市配送企业服务质量评估", "", "", "", "市交通运输局", "", "每年6月底前"]]
    return Shape("年度列的各种写法", ["某市2025—2026年重点任务台账"], rows)


def test_targets__year_figures_are_read_in_the_unit_their_task_names(tmp_path):
    for result in _both(tmp_path, _targets_by_year()):
        t = _by_id(result)
        (housing,) = t["1"].metrics
        assert (housing.name, housing.unit, housing.yearly) == ("新建保障性租赁住房", "套", {2025: 1200, 2026: 1500})
        (items,) = t["2"].metrics
        assert (items.name, items.unit, items.yearly) == ("“一件事一次办”事项", "项", {2025: 10, 2026: 15})  # not “新增”
        (pits,) = t["6"].metrics
        assert (pits.unit, pits.yearly) == ("口", {2025: 200, 2026: 300})


def test_targets__yearly_thresholds_keep_every_year_and_are_named_by_their_task(tmp_path):
    for result in _both(tmp_path, _targets_by_year()):
        t = _by_id(result)
        (rd,) = t["3"].indicators
        assert rd.text == "研发投入强度" and {y: x.value for y, x in rd.yearly.items()} == {2025: 1.8, 2026: 2.2}
        (sat,) = t["4"].indicators  # "99%以上" in 2026 kept the rising threshold
        assert sat.text == "政务服务好差评满意度" and {y: (x.op, x.value) for y, x in sat.yearly.items()} == {
            2025: (">=", 98), 2026: (">=", 99)}


def test_targets__a_figure_read_as_no_target_is_said_at_its_cell(tmp_path):
    for result, cell in zip(_both(tmp_path, _targets_by_year()), ("第6行", "D7"), strict=True):
        assert not _by_id(result)["5"].metrics
        (f,) = [f for f in result.findings if f.code == "target-unread"]
        assert "第 5 项" in f.message and "“6”" in f.message and "数量指标" in f.message
        assert f.cell == cell  # task 5's row (Word), its 2025 cell (Excel: the title is row 1)


def test_targets__deadlines_written_as_figures_next_year_and_each_year(tmp_path):
    for result in _both(tmp_path, _targets_by_year()):
        t = _by_id(result)
        assert t["1"].deadline == dt.date(2026, 12, 31) and t["1"].frequency is None  # 每年年底前: a date, not a duty
        assert t["2"].deadline == dt.date(2026, 9, 1)  # 2026.9.1
        assert t["3"].deadline == dt.date(2027, 3, 31)  # 次年3月底前, after the programme's last year
        # 每年6月底前 for a task with no figure: a yearly duty, due by the last year's 6-30 (a metric's stays a date)
        assert (t["7"].frequency, t["7"].deadline, t["7"].deliverable) == ("year", dt.date(2026, 6, 30), None)
        assert not [f for f in result.findings if f.code == "deadline-unread"]


def test_targets__a_target_cell_without_a_name_is_its_tasks():
    from ledger_xl.targets import parse_indicators, text_metrics

    (m, _), = text_metrics("实际利用外资。5亿美元", 2026, "实际利用外资")
    assert (m.name, m.unit, m.yearly) == ("实际利用外资", "亿美元", {2026: 5})
    (m, _), = text_metrics("新培育高新技术企业。新增80家", 2026, "新培育高新技术企业")
    assert m.name == "新培育高新技术企业"
    assert text_metrics("争取进入全省前10名", 2026, "营商环境") == []  # a rank, not a count
    (i,) = parse_indicators("招商引资到位资金。增长10%", "招商引资到位资金")
    assert (i.text, i.op, i.value) == ("招商引资到位资金增长10%", ">=", 10)
    (i,) = parse_indicators("城镇生活污水集中处理率。达到96%", "城镇生活污水集中处理率")
    assert i.text == "城镇生活污水集中处理率"


def test_targets__only_a_figure_that_may_be_a_target_is_said(tmp_path):
    """5G, PM2.5, “1+N”, dates, document titles and ranks are no targets; 压缩至2个工作日 read as nothing is said."""
    from ledger_shapes import Shape

    rows = [["序号", "重点任务", "牵头单位", "完成时限"],
            ["1", "推进5G网络和4K超高清建设", "县工信局", "2026年6月底前"],
            ["2", "构建“1+N”政策体系，印发《2026年工作要点》", "县发改委", "2026年3月"],
            ["3", "PM2.5浓度持续下降，力争进入全市前3名", "县生态环境局", ""],
            ["4", "企业开办时间压缩至2个工作日", "县政务服务局", ""]]
    for result in _both(tmp_path, Shape("没有年度列", ["某县2026年重点工作任务清单"], rows)):
        said = [f for f in result.findings if f.code == "target-unread"]
        assert [("第 4 项" in f.message, "“2”" in f.message) for f in said] == [(True, True)], [f.message for f in said]
