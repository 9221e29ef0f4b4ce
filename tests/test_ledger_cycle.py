"""The whole cycle on each common ledger shape, with no hand edit: import (Word or Excel) → definition → init →
templates → filled returns ingested → check → report. And the plan's semantics judged downstream: a
year-end metric is a level, a per-year metric is that year's own figure, a rising threshold is this year's."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import complete_values
from ledger_shapes import SHAPES, county_annex, three_year_plan, write_docx, write_xlsx

from ledger_xl.definition import save_definition
from ledger_xl.model import Period
from ledger_xl.pipeline import check, ingest, make_report, make_templates
from ledger_xl.testing.fill import fill_template, template_fields
from ledger_xl.workspace import init_workspace
from ledger_xl.xlsximport import import_ledger


def _workspace(tmp_path: Path, shape, ext: str) -> tuple[Path, object]:  # type: ignore[no-untyped-def]
    write = write_docx if ext == "docx" else write_xlsx
    result = import_ledger(write(shape, tmp_path / f"台账.{ext}"))
    definition = tmp_path / "ledger.xlsx"
    save_definition(result.ledger, definition)
    ws = tmp_path / "ws"
    init_workspace(ws, definition)
    return ws, result.ledger


def _returns(ws: Path, period: str, overrides: dict | None = None) -> None:  # type: ignore[type-arg]
    """Every bureau's template for the period, filled completely (overrides win) and ingested."""
    run = make_templates(ws, period)
    assert run.written
    for name, path, _meta in run.written:
        keys = {(f.task_id, f.kind, f.index) for f in template_fields(path)}
        mine = {k: v for k, v in (overrides or {}).items() if k in keys}
        fill_template(path, ws / "inbox" / f"{name}_{period}.xlsx", complete_values(path, mine))
    report = ingest(ws)
    assert report.refused == [], [o.note for o in report.refused]


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("ext", ["docx", "xlsx"])
def test_whole_cycle_runs_on_each_shape_without_hand_edits(tmp_path, shape, ext):
    ws, ledger = _workspace(tmp_path, SHAPES[shape](), ext)
    first = Period.all_in_year(ledger.years[0], ledger.period_kind)[0]
    _returns(ws, first.code)
    run = check(ws, first.code)
    assert {t.id for t in run.result.tasks} == {t.id for t in ledger.tasks}
    assert not [t for t in run.result.tasks if t.status == "未报"]
    path, _ = make_report(ws, first.code)
    assert path.exists() and path.stat().st_size > 10_000
    assert run.master_ledger is not None and run.master_ledger.exists()


def test_templates_ask_for_what_each_metric_means(tmp_path):
    ws, _ = _workspace(tmp_path, three_year_plan(), "xlsx")
    run = make_templates(ws, "2025H1")
    labels = {(f.task_id, f.kind): f.label for _, p, _ in run.written for f in template_fields(p)}
    assert labels[("1", "metric")] == "加快5G网络建设：截至本期末达到的总量（万户）"  # year-end level
    assert labels[("2", "metric")] == "新建5G基站：本期新增（个）"  # additions
    assert labels[("4", "metric")] == "壮大软件和信息技术服务业：本期完成（亿元，计入当年）"  # per year


def test_year_end_per_year_and_rising_thresholds_are_judged_as_they_mean(tmp_path):
    ws, _ = _workspace(tmp_path, three_year_plan(), "docx")
    # 2025: 5G users reach 31万户 (plan 30, a level: not 30+31); revenue 120 + 90 = 210亿元 (plan 200 for 2025);
    # digitalised share 76% against 2025's ≥75%
    _returns(ws, "2025H1", {("1", "metric", 0): 20, ("4", "metric", 0): 120, ("5", "ind_value", 0): 0.70})
    _returns(ws, "2025H2", {("1", "metric", 0): 31, ("4", "metric", 0): 90, ("5", "ind_value", 0): 0.76})
    result = check(ws, "2025H2").result
    tasks = {t.id: t for t in result.tasks}
    users, revenue = tasks["1"].metrics[0], tasks["4"].metrics[0]
    assert (users.actual, users.planned, users.status) == (31, 30, "超额")  # the latest level, not 20 + 31
    assert (revenue.actual, revenue.planned, revenue.status) == (210, 200, "超额")
    assert tasks["5"].status == "按进度" and tasks["5"].indicators[0].target == "≥75%（2025年）"
    # 2026: revenue starts again from zero against 250; 76% now misses 2026's ≥80% at the year end
    _returns(ws, "2026H1", {("1", "metric", 0): 35, ("4", "metric", 0): 100, ("5", "ind_value", 0): 0.76})
    _returns(ws, "2026H2", {("1", "metric", 0): 36, ("4", "metric", 0): 100, ("5", "ind_value", 0): 0.76})
    result = check(ws, "2026H2").result
    tasks = {t.id: t for t in result.tasks}
    users, revenue = tasks["1"].metrics[0], tasks["4"].metrics[0]
    assert (users.actual, users.planned, users.status) == (36, 40, "滞后")
    assert (revenue.actual, revenue.planned, revenue.status) == (200, 250, "滞后")
    (ind,) = tasks["5"].indicators
    assert (ind.target, ind.status) == ("≥80%（2026年）", "滞后")


def test_a_level_to_stay_under_and_a_stock_target_in_a_one_year_ledger(tmp_path):
    from ledger_shapes import gov_work_report

    ws, _ = _workspace(tmp_path, gov_work_report(), "xlsx")
    _returns(ws, "2025Q4", {("6", "metric", 0): 38, ("7", "metric", 0): 612, ("2", "metric", 0): 1})
    tasks = {t.id: t for t in check(ws, "2025Q4").result.tasks}
    assert tasks["6"].metrics[0].status == "已完成"  # PM2.5 38 ≤ 40
    assert tasks["7"].metrics[0].status == "已完成"  # 612 ≥ 600 firms
    assert tasks["2"].metrics[0].status == "滞后"  # 1万人 of 3.5万人


def test_expanded_group_units_get_their_own_templates(tmp_path):
    import openpyxl

    from ledger_xl.definition import S_BUREAUS, load_definition

    result = import_ledger(write_xlsx(county_annex(), tmp_path / "台账.xlsx"))
    definition = tmp_path / "ledger.xlsx"
    save_definition(result.ledger, definition)
    wb = openpyxl.load_workbook(definition)
    ws = wb[S_BUREAUS]
    head = [c.value for c in ws[1]]
    for name in ("宛城区政府", "卧龙区政府"):
        ws.append([name, name, "否"])
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "各县（市、区）政府")
    row[head.index("包含单位")].value = "宛城区政府、卧龙区政府"
    wb.save(definition)
    ledger = load_definition(definition).ledger
    t1 = next(t for t in ledger.tasks if t.id == "1")
    assert t1.responsible == ["宛城区政府", "卧龙区政府"]
    assert "宛城区政府" in ledger.bureaus_with_tasks() and "各县（市、区）政府" not in ledger.bureaus_with_tasks()


def test_a_group_that_leads_is_expanded_into_leads_that_share_the_work():
    """各乡镇人民政府 leading, with 包含单位 城关镇人民政府、王村乡人民政府: both lead, and their figures add up
    (Task.shared); a group that is only responsible shares nothing; a named co-lead is not shared."""
    from ledger_xl.definition import _expand_groups
    from ledger_xl.model import Bureau, Task

    def t(lead: list[str], responsible: list[str]) -> Task:
        return Task(id="1", category="c", task="高标准农田", item=None, breakdown={}, lead=lead, responsible=responsible)

    tasks = [t(["各乡镇人民政府", "县农业农村局"], []), t(["县农业农村局"], ["各乡镇人民政府"])]
    _expand_groups([Bureau("各乡镇人民政府", includes=["城关镇人民政府", "王村乡人民政府"])], tasks)
    assert tasks[0].lead == ["城关镇人民政府", "王村乡人民政府", "县农业农村局"]
    assert tasks[0].shared == ["城关镇人民政府", "王村乡人民政府"]
    assert tasks[0].lead_figure({"城关镇人民政府": 1.2, "王村乡人民政府": 0.8, "县农业农村局": 5}) == 2.0
    assert (tasks[1].lead, tasks[1].shared, tasks[1].responsible) == (["县农业农村局"], [], ["城关镇人民政府", "王村乡人民政府"])
    from ledger_xl.model import Ledger, ledger_from_raw, ledger_to_raw

    kept = Ledger(title="t", years=[2025], bureaus=[], tasks=tasks)
    assert ledger_from_raw(ledger_to_raw(kept)).tasks[0].shared == tasks[0].shared  # through the load cache


def test_a_definitions_own_unit_names_are_taken_as_listed(tmp_path):
    """A definition an older import wrote with "市财政局等" as a unit (in 单位 and in a task) still loads, that name
    kept: the clerk's names are never cut by the import's reading of role words."""
    import openpyxl

    from ledger_xl.definition import S_BUREAUS, S_TASKS, load_definition

    result = import_ledger(write_xlsx(county_annex(), tmp_path / "台账.xlsx"))
    definition = tmp_path / "ledger.xlsx"
    save_definition(result.ledger, definition)
    wb = openpyxl.load_workbook(definition)
    old = result.ledger.tasks[0].lead[0]
    for ws in (wb[S_BUREAUS], wb[S_TASKS]):
        for row in ws.iter_rows(min_row=2):
            for c in row:
                if isinstance(c.value, str) and old in c.value:
                    c.value = c.value.replace(old, old + "等")
    wb.save(definition)
    loaded = load_definition(definition)
    assert not [f for f in loaded.findings if f.severity.name == "ERROR"]
    assert loaded.ledger.tasks[0].lead[0] == old + "等"
