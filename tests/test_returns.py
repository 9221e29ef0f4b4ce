"""A refused return handed back filled in and marked; the corrected copy accepted; what each return changed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import complete_values, fields_of, soffice, uno_python

from ledger_xl.cli import cli
from ledger_xl.ingest import read_return
from ledger_xl.layout import FORM_SHEET, RETURN_SHEET
from ledger_xl.model import Period
from ledger_xl.pipeline import ingest
from ledger_xl.returns import annotated_path, changes_between, summary
from ledger_xl.store import Store
from ledger_xl.testing.fill import fill_template
from ledger_xl.workspace import open_workspace, ws_ledger

ON_TIME = dt.datetime(2024, 7, 5, 9, 0)


def annotated_copy(root, bureau, period_text):
    """What mail remind attaches: the unit's annotated copy for the period, written again if missing."""
    from ledger_xl.returns import annotated_copy as copy_of

    return copy_of(open_workspace(root), bureau, Period.parse(period_text).code)
BUREAU = "市发展改革委"
# what the bureau typed: four unreadable values (an approximation, a ratio in words, a phone in letters, a
# status left empty), a readable full-width number and a text that looks like a formula
BAD = {("13", "metric", 0): "约5个", ("13", "metric", 1): "１２", ("13", "ind_value", 0): "三比一",
       ("20", "deliv_status", 0): None, (None, "phone", 0): "abc", ("13", "progress", 0): '=HYPERLINK("x")'}
BAD_KEYS = {("13", "metric", 0), ("13", "ind_value", 0), ("20", "deliv_status", 0), (None, "phone", 0)}


def refuse_once(workspace: Path, templates: Path, overrides: dict = BAD, when: dt.datetime = ON_TIME):  # type: ignore[no-untyped-def,type-arg]
    src = templates / f"{BUREAU}.xlsx"
    typed = complete_values(src, overrides)
    fill_template(src, workspace / "inbox" / "发改委.xlsx", typed, mtime=when)
    (outcome,) = ingest(workspace).outcomes
    (workspace / "inbox" / "发改委.xlsx").unlink()
    return outcome, typed


def cells_by_key(path: Path) -> dict:  # type: ignore[type-arg]
    return {(f.task_id, f.kind, f.index): f.cell for f in fields_of(path)}


def test_a_refused_return_comes_back_filled_in_with_each_problem_marked(workspace, templates_2024h1):
    outcome, typed = refuse_once(workspace, templates_2024h1)
    assert outcome.status == "refused"
    copy = annotated_path(workspace / "outputs", BUREAU, "2024H1")
    assert outcome.returned == copy and copy.name == f"{BUREAU}_退回修改.xlsx" and copy.is_file()

    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[0] == RETURN_SHEET and wb[RETURN_SHEET].sheet_state == "visible"
    assert wb["_ledger_xl"].sheet_state == "veryHidden" and wb[FORM_SHEET].protection.sheet
    form = wb[FORM_SHEET]
    at = cells_by_key(copy)
    # every value the bureau typed is in its cell, the unreadable ones exactly as typed
    for key, value in typed.items():
        got = form[at[key]].value
        if isinstance(got, dt.datetime):
            got = got.date().isoformat()
        assert got == value or (isinstance(value, int | float) and got == float(value)), (key, got, value)
        assert form[at[key]].protection.locked is False
    # each cell with a finding: a comment saying what is wrong and what to do, and a red fill; no other cell
    findings = {f.cell: f for f in outcome.findings}
    bad_cells = {at[k] for k in BAD_KEYS}
    assert set(findings) == bad_cells  # (the template did not move between the two forms)
    commented = {c.coordinate for row in form.iter_rows() for c in row if c.comment}
    assert commented == bad_cells
    for cell in bad_cells:
        assert findings[cell].message in form[cell].comment.text and "【需修改】" in form[cell].comment.text
    red = {str(rng.sqref).split(":")[0] for rng in form.conditional_formatting
           for rule in rng.rules if rule.dxf and rule.dxf.fill and "FF9B9B" in str(rule.dxf.fill.bgColor.rgb)}
    assert red == bad_cells
    # the first sheet lists every finding with a link to its cell
    sheet = wb[RETURN_SHEET]
    links = {c.hyperlink.location: r for r, row in enumerate(sheet.iter_rows(values_only=False)) for c in row if c.hyperlink}
    assert set(links) == {f"'{FORM_SHEET}'!{c}" for c in bad_cells}
    texts = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    flat = "".join(texts.split())  # messages carry line breaks where their column ends (templates.break_text)
    for f in outcome.findings:
        assert "".join(f.message.split()) in flat
    assert "约5个" in texts and BUREAU in texts and "2024年上半年" in texts


def test_the_copy_is_a_genuine_signed_template_whose_only_findings_are_the_original_ones(workspace, templates_2024h1):
    outcome, _ = refuse_once(workspace, templates_2024h1)
    ledger = ws_ledger(open_workspace(workspace))
    with Store(workspace / "ledger.sqlite") as store:
        read = read_return(outcome.returned, key=store.template_key, ledger_id=store.ledger_id, ledger=ledger)
    assert read.meta is not None and read.meta.bureau == BUREAU and read.meta.period == "2024H1"
    assert sorted((f.cell, f.code) for f in read.findings) == sorted((f.cell, f.code) for f in outcome.findings)


def test_the_corrected_copy_is_accepted_and_the_copy_goes_away(workspace, templates_2024h1):
    outcome, typed = refuse_once(workspace, templates_2024h1)
    fixes = {("13", "metric", 0): 5, ("13", "ind_value", 0): "3:1", ("20", "deliv_status", 0): "推进中",
             (None, "phone", 0): "0377-1234567"}
    fill_template(outcome.returned, workspace / "inbox" / "发改委_改.xlsx", fixes, mtime=ON_TIME + dt.timedelta(days=1))
    (o,) = ingest(workspace).outcomes
    assert o.status == "merged", [f.render() for f in o.findings]
    assert not outcome.returned.exists() and annotated_copy(workspace, BUREAU, "2024H1") is None
    with Store(workspace / "ledger.sqlite") as store:
        got = {(v.task_id, v.kind, v.idx): v.num if v.num is not None else v.text for v in store.current_values()}
    assert got[("13", "metric", 0)] == 5 and got[("13", "metric", 1)] == 12  # the untouched "１２" came through
    assert got[("13", "progress", 0)] == '=HYPERLINK("x")' and got[("20", "deliv_status", 0)] == "推进中"


def test_a_formula_and_a_blank_come_back_as_they_were(workspace, templates_2024h1, tmp_path):
    src = templates_2024h1 / f"{BUREAU}.xlsx"
    filled = fill_template(src, tmp_path / "f.xlsx", complete_values(src))
    at = cells_by_key(src)
    wb = openpyxl.load_workbook(filled)
    wb[FORM_SHEET][at[("13", "metric", 0)]] = "=SUM(1,2)"  # a formula openpyxl saves without a result
    wb[FORM_SHEET][at[("13", "metric", 1)]] = None
    wb.save(workspace / "inbox" / "公式.xlsx")
    (o,) = ingest(workspace).outcomes
    assert {f.code for f in o.findings} == {"formula-no-value", "missing"} and o.returned is not None
    form = openpyxl.load_workbook(o.returned)[FORM_SHEET]
    assert form[at[("13", "metric", 0)]].value == "=SUM(1,2)" and form[at[("13", "metric", 0)]].data_type == "s"
    assert form[at[("13", "metric", 1)]].value is None and form[at[("13", "metric", 1)]].comment is not None


@pytest.mark.parametrize("damage", ["tampered", "old-format", "other-ledger", "wrong-sheet"])
def test_a_return_refused_as_a_whole_file_gets_no_copy(workspace, templates_2024h1, tmp_path, damage):
    src = templates_2024h1 / f"{BUREAU}.xlsx"
    target = workspace / "inbox" / "发改委.xlsx"
    if damage == "tampered":
        filled = fill_template(src, tmp_path / "f.xlsx", complete_values(src, BAD))
        wb = openpyxl.load_workbook(filled)
        wb[FORM_SHEET]["D4"] = "改过的任务名称"
        wb.save(target)
    elif damage == "old-format":
        target = target.with_suffix(".xls")
        target.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000)
    elif damage == "other-ledger":
        from ledger_xl.pipeline import make_templates
        from ledger_xl.workspace import init_workspace

        other = tmp_path / "other"
        init_workspace(other, workspace / "ledger.xlsx")
        make_templates(other, "2024H1", bureaus=[BUREAU])
        fill_template(other / "outputs" / "templates" / "2024H1" / f"{BUREAU}.xlsx", target, complete_values(src, BAD))
    else:
        wb = openpyxl.load_workbook(src)
        wb.create_sheet("Sheet1")["A1"] = "粘贴到了这里的数据"  # and nothing on the form
        wb.save(target)
    (o,) = ingest(workspace).outcomes
    assert o.status == "refused" and o.returned is None
    assert not (workspace / "outputs" / "returns").exists()
    assert annotated_copy(workspace, BUREAU, "2024H1") is None
    assert "请" in " ".join(f.message for f in o.findings if str(f.severity) == "error")  # says what to do instead


def test_annotated_copy_is_written_again_when_missing_and_follows_the_latest_return(workspace, templates_2024h1):
    outcome, _ = refuse_once(workspace, templates_2024h1)
    outcome.returned.unlink()
    again = annotated_copy(workspace, BUREAU, "2024上半年")
    assert again == outcome.returned and again.is_file()
    assert openpyxl.load_workbook(again)[FORM_SHEET][cells_by_key(again)[("13", "metric", 0)]].value == "约5个"
    assert annotated_copy(workspace, "市财政局", "2024H1") is None  # nothing received


# ---------------------------------------------------------------- LibreOffice round trip


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None or uno_python() is None,
                    reason="LibreOffice with its Python bridge (uno; Debian: python3-uno) is not installed")
def test_the_copy_corrected_and_saved_by_libreoffice_is_accepted(workspace, templates_2024h1, tmp_path):
    outcome, typed = refuse_once(workspace, templates_2024h1)
    names = {(f.task_id, f.kind, f.index): f.name for f in fields_of(outcome.returned)}
    fixes = {names[("13", "metric", 0)]: 5, names[("13", "ind_value", 0)]: "3.5:1", names[("20", "deliv_status", 0)]: "已完成",
             names[("20", "deliv_date", 0)]: "2024-06-30", names[("20", "deliv_name", 0)]: "停车优惠政策",
             names[(None, "phone", 0)]: "13800000000"}
    vj = tmp_path / "v.json"
    vj.write_text(json.dumps(fixes, ensure_ascii=False), encoding="utf-8")
    out = workspace / "inbox" / "发改委_LibreOffice改.xlsx"
    lo_fill = Path(__file__).resolve().parents[1] / "src" / "ledger_xl" / "testing" / "lo_fill.py"
    subprocess.run([uno_python(), str(lo_fill), str(outcome.returned), str(out), str(vj)], check=True, timeout=180,
                   env={**os.environ, "SOFFICE": soffice()})
    (o,) = ingest(workspace).outcomes
    assert o.status == "merged", [f.render() for f in o.findings]
    assert not [f for f in o.findings if f.code == "extra-sheet"]  # 退回说明 is part of the copy, not an extra sheet
    with Store(workspace / "ledger.sqlite") as store:
        got = {(v.task_id, v.kind, v.idx): v.num if v.num is not None else v.text for v in store.current_values()}
    assert got[("13", "metric", 0)] == 5 and got[("13", "ind_value", 0)] == 3.5
    assert got[("20", "deliv_status", 0)] == "已完成" and got[("20", "deliv_date", 0)] == "2024-06-30"
    # what LibreOffice did not touch is what the bureau typed the first time
    assert got[("13", "metric", 1)] == 12 and got[("13", "progress", 0)] == '=HYPERLINK("x")'
    assert got[(None, "fill_date", 0)] == typed[(None, "fill_date", 0)] and got[(None, "filler", 0)] == typed[(None, "filler", 0)]
    for key in [k for k in typed if k[1] in ("plan", "problems", "evidence")]:
        assert got[key] == typed[key]


# ---------------------------------------------------------------- history


def test_history_lists_each_return_with_what_it_changed(workspace, templates_2024h1):
    outcome, _ = refuse_once(workspace, templates_2024h1)
    fixes = {("13", "metric", 0): 5, ("13", "ind_value", 0): "3:1", ("20", "deliv_status", 0): "推进中",
             (None, "phone", 0): "0377-1234567", ("13", "plan", 0): "改过的计划"}
    fill_template(outcome.returned, workspace / "inbox" / "发改委_改.xlsx", fixes, mtime=ON_TIME + dt.timedelta(days=1))
    assert ingest(workspace).outcomes[0].status == "merged"
    at = cells_by_key(templates_2024h1 / f"{BUREAU}.xlsx")

    r = CliRunner().invoke(cli, ["history", "-w", str(workspace), "--period", "2024H1", "--bureau", BUREAU, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["bureau"] == BUREAU and data["period"] == "2024H1"
    first, second = data["submissions"]
    assert (first["file"], first["outcome"], first["changes"], first["findings"]) == ("发改委.xlsx", "refused", [], 4)
    assert second["file"] == "发改委_改.xlsx" and second["outcome"] == "merged" and first["received_at"] < second["received_at"]
    assert len(second["sha256"]) == 64
    changes = {c["cell"]: c for c in second["changes"]}
    assert set(changes) == {at[k] for k in fixes}
    assert (changes[at[("13", "metric", 0)]]["old"], changes[at[("13", "metric", 0)]]["new"]) == ("约5个", "5")
    assert "充电站" in changes[at[("13", "metric", 0)]]["field"]
    assert (changes[at[("20", "deliv_status", 0)]]["old"], changes[at[("20", "deliv_status", 0)]]["new"]) == (None, "推进中")

    r = CliRunner().invoke(cli, ["history", "-w", str(workspace), "--period", "2024上半年", "--bureau", BUREAU])
    assert r.exit_code == 0, r.output
    assert "发改委_改.xlsx" in r.output and f"{at[('13', 'metric', 0)]}" in r.output and "约5个 → 5" in r.output

    # the master ledger's 提交记录: one cell per return
    rows = list(openpyxl.load_workbook(workspace / "outputs" / "master_ledger.xlsx")["提交记录"].iter_rows(values_only=True))
    col = rows[0].index("改动（与上一份相比）")
    note = next(row[col] for row in rows[1:] if row[1] == "发改委_改.xlsx")
    assert f"{at[('13', 'metric', 0)]} 约5个→5" in note and f"{at[('13', 'plan', 0)]} 文字修改" in note


def test_history_of_an_unknown_unit_or_a_unit_with_nothing_received(workspace):
    r = CliRunner().invoke(cli, ["history", "-w", str(workspace), "--period", "2024H1", "--bureau", "不存在的局"])
    assert r.exit_code == 2 and "不存在的局" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["history", "-w", str(workspace), "--period", "2024H1", "--bureau", BUREAU])
    assert r.exit_code == 0 and "尚未收到" in r.output


def test_changes_between_compares_fields_not_cells():
    before = [["9", "metric", 0, "I10", "s", "约3个"], ["9", "progress", 0, "J10", "s", "旧"], [None, "phone", 0, "J20", "s", "1"]]
    after = [["9", "metric", 0, "I11", "n", 3.0], ["9", "progress", 0, "J11", "s", "新"], [None, "phone", 0, "J21", "s", "1"],
             ["9", "plan", 0, "L11", "s", "计划"]]
    changes = changes_between(before, after)
    assert [(c.cell, c.old, c.new) for c in changes] == [("I11", "约3个", "3"), ("J11", "旧", "新"), ("L11", None, "计划")]
    assert summary(changes) == "I11 约3个→3；J11 文字修改；L11 文字修改"
    assert summary(changes_between(after, after)) == ""


def test_the_copy_handed_back_shows_every_long_answer_whole(workspace, templates_2024h1):
    """A copy handed back with long answers in it: every row is tall enough for what is in it, as Excel and WPS
    show a row at the height the file gives it until someone types in it (the copy had the empty form's
    heights, cutting 工作进展 off after two lines), and the 退回说明 rows hold their broken lines."""
    from ledger_xl.templates import COLUMNS, LINE_PT, wrapped_lines

    long = ("今年以来会同有关部门持续推进城市绿色货运配送示范工程建设，完善公共配送中心和末端配送站点布局，协调解决用地审批、"
            "资金拨付等问题，新增新能源配送车辆一批，已完成年度目标任务的百分之八十。")
    texts = {(f.task_id, f.kind, f.index): long for f in fields_of(templates_2024h1 / f"{BUREAU}.xlsx")
             if f.kind in ("progress", "plan")}
    outcome, _ = refuse_once(workspace, templates_2024h1, {**texts, ("13", "metric", 0): "约5个"})
    assert outcome.status == "refused" and outcome.returned
    wb = openpyxl.load_workbook(outcome.returned)
    form = wb[FORM_SHEET]
    at = cells_by_key(outcome.returned)
    rows = set()
    for key in texts:
        cell = form[at[key]]
        assert cell.value == long
        width = COLUMNS[cell.column - 1][1]  # (openpyxl files a run of equal columns under the first one)
        need = wrapped_lines(long, width) * LINE_PT + 4
        assert form.row_dimensions[cell.row].height >= need - 0.75, (cell.coordinate, form.row_dimensions[cell.row].height, need)
        rows.add(cell.row)
    assert len(rows) > 5
    sheet = wb[RETURN_SHEET]
    for row in sheet.iter_rows(min_row=3):
        lines = max([str(c.value).count("\n") + 1 for c in row if c.value is not None] or [1])
        assert (sheet.row_dimensions[row[0].row].height or 15) >= lines * LINE_PT, row[0].row


def test_a_finding_s_comment_box_holds_its_whole_text(seed_ledger, tmp_path):
    """Excel and WPS show a comment at the size the file gives it and cut what does not fit: the box of each
    marked cell is tall enough for all its findings (two long ones on one cell were cut after seven lines)."""
    import math
    import re
    import unicodedata
    import zipfile

    from ledger_xl.codes import Code
    from ledger_xl.findings import Finding, Severity
    from ledger_xl.returns import write_annotated_copy
    from ledger_xl.testing.fill import template_fields

    where = "第 13 项“新增新能源城市配送营运车辆：本期新增（辆）”"
    typed = "今年新增新能源城市配送营运车辆约一百二十辆其中纯电动车辆约一百辆"
    found = [Finding.of(Code.BAD_VALUE, sheet=FORM_SHEET, cell="I12", where=where, typed=typed[:30] + "…",
                        problem="不对：请只填数字，不要写文字、单位或“约”字", fix="如本期没有新增请填 0，并在工作进展中说明原因。"),
             Finding.of(Code.BAD_VALUE, sheet=FORM_SHEET, cell="I12", severity=Severity.WARNING, where=where, typed=typed[:30] + "…",
                        problem="与上期累计相比偏大", fix="请核对是否把累计数当成了本期新增数，核对无误可不修改。")]
    path = write_annotated_copy(seed_ledger, BUREAU, Period.parse("2024H1"), tmp_path / "copy.xlsx",
                                entries=[["13", "metric", 0, "I12", "s", typed]], findings=found, file_name="发改委.xlsx",
                                received_at="2024-07-05T09:00:00", key=b"k" * 32, ledger_id="L1")
    cell = next(f.cell for f in template_fields(path) if (f.task_id, f.kind, f.index) == ("13", "metric", 0))
    text = openpyxl.load_workbook(path)[FORM_SHEET][cell].comment.text
    assert all(f.message in text for f in found)
    with zipfile.ZipFile(path) as z:
        vml = next(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".vml"))
    (shape,) = [s for s in re.findall(r"<v:shape .*?</v:shape>", vml, re.S) if "<x:Row>" in s]
    w_pt, h_pt = (float(re.search(rf"{k}:([\d.]+)pt", shape)[1]) for k in ("width", "height"))

    def half_chars(line: str) -> float:
        return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1.15 for ch in line)

    room = (w_pt - 8) / 5  # 10 pt text, a few points of inset
    lines = sum(max(1, math.ceil(half_chars(p) / room)) for p in text.split("\n"))
    assert h_pt >= lines * 14.25, (w_pt, h_pt, lines)
