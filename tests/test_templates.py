from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import soffice

from ledger_xl.findings import LedgerError
from ledger_xl.ingest import read_meta
from ledger_xl.layout import META_SHEET, canonical
from ledger_xl.model import Period
from ledger_xl.templates import write_templates
from ledger_xl.xlsxread import read_package, resolve_name, split_ref


def expand_sqref(sqref: str) -> set[str]:
    """Every cell an sqref names ("A1 B2:C3")."""
    from openpyxl.utils import get_column_letter

    out: set[str] = set()
    for part in sqref.split():
        a, _, b = part.partition(":")
        (r1, c1), (r2, c2) = split_ref(a), split_ref(b or a)
        out |= {f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    return out

KEY = b"k" * 32


@pytest.fixture(scope="module")
def run_2024h1(tmp_path_factory):  # type: ignore[no-untyped-def]
    from conftest import SEED_DOCX

    from ledger_xl.wordimport import import_docx

    ledger = import_docx(SEED_DOCX).ledger
    out = tmp_path_factory.mktemp("tpl") / "2024H1"
    return ledger, write_templates(ledger, Period.parse("2024H1"), out, key=KEY, ledger_id="L1", make_zip=True)


def test_one_file_per_bureau_with_exactly_its_tasks_and_roles(run_2024h1):
    ledger, run = run_2024h1
    assert sorted(n for n, _, _ in run.written) == sorted(ledger.bureau_names())  # the office included
    for name, path, _ in run.written:
        assert path.name == f"{name}.xlsx"
        meta = read_meta(read_package(path))
        expected = {(t.id, role) for t, role in ledger.tasks_for(name)}
        got = {(f.task_id, f.role) for f in meta.fields if f.task_id}
        assert got == expected, name
        wb = openpyxl.load_workbook(path)
        ws = wb["填报表"]
        ids_on_sheet = [str(ws.cell(r, 1).value) for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value is not None and str(ws.cell(r, 1).value).isdigit()]
        assert ids_on_sheet == [t.id for t, _ in ledger.tasks_for(name)]


def test_lead_rows_ask_for_numbers_responsible_rows_only_text(run_2024h1):
    ledger, run = run_2024h1
    meta = next(m for n, _, m in run.written if n == "市发展改革委")
    t13 = [(f.kind, f.index, f.unit) for f in meta.fields if f.task_id == "13"]
    assert ("metric", 0, "座") in t13 and ("metric", 1, "个") in t13 and ("ind_value", 0, "ratio") in t13
    responsible = [f.kind for f in meta.fields if f.role == "responsible"]
    assert set(responsible) == {"progress", "problems", "plan", "evidence"}
    office = next(m for n, _, m in run.written if n == "领导小组办公室")
    assert {f.kind for f in office.fields if f.task_id == "2"} >= {"duty_count"}
    jt = next(m for n, _, m in run.written if n == "市交通运输局")
    assert [f.kind for f in jt.fields if f.task_id == "26"][:3] == ["ind_baseline", "ind_current", "ind_value"]
    assert {f.kind for f in jt.fields if f.task_id == "6"} >= {"deliv_status", "deliv_date", "deliv_name", "deliv_no"}
    assert {f.kind for f in jt.fields if f.task_id is None} == {"filler", "phone", "reviewer", "fill_date"}


def test_an_indicator_from_two_figures_says_how_they_make_it(run_2024h1):
    """期初 2,000 and 本期 2,400 are 20% when the indicator rises from the start (task 27) and 120% when it is a share
    (task 12, 新增…占期初…的比例): the labels say which, so a bureau types the figures the check computes with."""
    _, run = run_2024h1
    jt = next(m for n, _, m in run.written if n == "市交通运输局")
    label = {(f.task_id, f.kind): f.label for f in jt.fields}
    assert "比例的分母" in label[("12", "ind_baseline")] and "比例的分子" in label[("12", "ind_current")]
    assert "按较期初提高的比例计算" in label[("27", "ind_current")] and "分母" not in label[("27", "ind_baseline")]
    assert "按较期初降低的比例计算" in label[("26", "ind_current")]


def test_inputs_unlocked_and_validated_everything_else_locked(run_2024h1):
    _, run = run_2024h1
    for name, path, meta in run.written:
        wb = openpyxl.load_workbook(path)
        ws = wb["填报表"]
        assert ws.protection.sheet, name
        inputs = {f.cell for f in meta.fields}
        validated = set().union(*(expand_sqref(str(dv.sqref)) for dv in ws.data_validations.dataValidation))
        assert inputs <= validated, name
        # one validation per distinct rule, over all its cells: each input under exactly one, no two rules alike
        rules = ws.data_validations.dataValidation
        assert sum(len(expand_sqref(str(dv.sqref))) for dv in rules) == len(validated), name
        alike = [(dv.type, dv.operator, dv.formula1, dv.formula2, dv.prompt, dv.promptTitle, dv.error) for dv in rules]
        assert len(set(alike)) == len(alike) and len(rules) < len(inputs), name
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=13):
            for c in row:
                if c.coordinate in inputs:
                    assert c.protection.locked is False, (name, c.coordinate)
                elif isinstance(c, openpyxl.cell.cell.Cell) and c.value is not None:
                    assert c.protection.locked is not False, (name, c.coordinate)
        # cells not written at all inherit the default style, which is locked
        assert wb[META_SHEET].sheet_state == "veryHidden"


def test_metadata_signed_and_matches_locked_content(run_2024h1):
    _, run = run_2024h1
    for _, path, written in run.written:
        pkg = read_package(path)
        assert pkg.structure_locked
        meta = read_meta(pkg)
        assert meta == written and meta.verify(KEY) and not meta.verify(b"other")
        form = pkg.sheets["填报表"].cells
        for cell, expected in meta.locked:
            assert canonical(form[cell].value) == expected
        for f in meta.fields:
            assert resolve_name(pkg, f.name) == ("填报表", f.cell)


def test_tampering_with_metadata_breaks_the_signature(run_2024h1):
    _, run = run_2024h1
    meta = read_meta(read_package(run.written[0][1]))
    meta.bureau = "市财政局"
    assert not meta.verify(KEY)


def test_zip_bundles_every_template(run_2024h1):
    _, run = run_2024h1
    with zipfile.ZipFile(run.zip_path) as z:
        assert sorted(z.namelist()) == sorted(f"2024H1/{p.name}" for _, p, _ in run.written)


def test_period_outside_programme_or_wrong_kind_is_refused(seed_ledger, tmp_path):
    with pytest.raises(LedgerError, match="不在本台账的年份内"):
        write_templates(seed_ledger, Period.parse("2026H1"), tmp_path, key=KEY, ledger_id="L1")
    with pytest.raises(LedgerError, match="按半年报送"):
        write_templates(seed_ledger, Period.parse("2024Q1"), tmp_path, key=KEY, ledger_id="L1")
    assert list(tmp_path.iterdir()) == []


def test_prior_cumulative_shown_in_locked_column(seed_ledger, tmp_path):
    run = write_templates(seed_ledger, Period.parse("2024H2"), tmp_path, key=KEY, ledger_id="L1",
                          bureaus=["市发展改革委"], prior={("13", 0): 2, ("13", 1): 41})
    meta = run.written[0][2]
    cells = dict(meta.locked)
    metric_cells = [f.cell for f in meta.fields if f.task_id == "13" and f.kind == "metric"]
    assert [cells["G" + c[1:]] for c in metric_cells] == ["2", "41"]


def test_text_from_the_ledger_is_never_a_formula(seed_ledger, tmp_path):
    seed_ledger.tasks[0].item = "=HYPERLINK(\"http://x\",\"y\")"
    run = write_templates(seed_ledger, Period.parse("2024H1"), tmp_path, key=KEY, ledger_id="L1", bureaus=["领导小组办公室"])
    with zipfile.ZipFile(run.written[0][1]) as z:
        sheet = z.read("xl/worksheets/sheet2.xml")
    assert b"<f>" not in sheet


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_and_saves_back_every_template(run_2024h1, tmp_path):
    _, run = run_2024h1
    src = tmp_path / "in"
    src.mkdir()
    for _, p, _ in run.written:
        shutil.copy(p, src / p.name)
    out = tmp_path / "out"
    cmd = [soffice(), f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--norestore",
           "--convert-to", "xlsx:Calc Office Open XML", "--outdir", str(out), *sorted(str(p) for p in src.iterdir())]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    for _, p, _written in run.written:
        pkg = read_package(out / p.name)
        meta = read_meta(pkg)
        assert meta is not None and meta.verify(KEY), p.name
        assert pkg.sheets[META_SHEET].state in ("hidden", "veryHidden")
        form = pkg.sheets["填报表"]
        assert form.protected
        for cell, expected in meta.locked:
            assert canonical(form.cells[cell].value) == expected, (p.name, cell)
        validated = set().union(*(expand_sqref(v["sqref"]) for v in form.validations))
        for f in meta.fields:
            assert resolve_name(pkg, f.name) == ("填报表", f.cell), (p.name, f.name)
            assert f.cell in validated, (p.name, f.cell)


def _form_xml(path) -> str:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet2.xml").decode("utf-8")


def test_number_formats_never_show_a_trailing_point(run_2024h1):
    """Excel and WPS show 5 under `0.##` as "5."; whole numbers must show as 5."""
    _, run = run_2024h1
    for _, p, _ in run.written:
        with zipfile.ZipFile(p) as z:
            styles = z.read("xl/styles.xml").decode("utf-8")
        assert '0.##"' not in styles and "0.##%" not in styles, p.name
    wb = openpyxl.load_workbook(run.written[0][1])
    formats = {c.number_format for row in wb["填报表"].iter_rows() for c in row if c.protection.locked is False}
    assert not any(f.endswith(".##") for f in formats) and "General" in formats


def test_page_breaks_fall_only_between_task_blocks(run_2024h1):
    """Every manual break is the first row of a task block (or of the footer), and what lies between two
    breaks fits the printed page at the sheet's scale."""
    import re

    from ledger_xl.templates import COLUMNS, FIRST_ROW, MARGIN_TB_IN, PAGE_FILL, PAGE_H_PT, print_scale

    _, run = run_2024h1
    checked = 0
    for _, p, meta in run.written:
        xml = _form_xml(p)
        first: dict[str | None, int] = {}  # each task's first row, and the footer's
        for f in meta.fields:
            first[f.task_id] = min(first.get(f.task_id, 10**6), split_ref(f.cell)[0])
        starts = set(first.values())
        breaks = [int(b) for b in re.findall(r'<brk id="(\d+)"', xml)]  # 0-based row before which the page breaks
        assert all(b + 1 in starts for b in breaks), (p.name, breaks, sorted(starts))
        scale = int(re.search(r'scale="(\d+)"', xml).group(1))
        assert scale == print_scale([w for _, w in COLUMNS]) and "fitToPage" not in xml
        heights = {int(r): float(h) for r, h in re.findall(r'<row r="(\d+)"[^>]*? ht="([\d.]+)"', xml)}
        page = (PAGE_H_PT - 2 * MARGIN_TB_IN * 72) * PAGE_FILL * 100 / scale
        edges = [0, *(b for b in breaks), max(heights)]
        for a, b in zip(edges, edges[1:], strict=False):
            used = sum(heights.get(r, 15) for r in range(a + 1, b + 1)) + (heights[FIRST_ROW] if a else 0)
            assert used <= page * 1.02, (p.name, a, b, used, page)  # Excel rounds row heights to 0.75 pt
        checked += len(breaks)
    assert checked > 0  # the seed's larger bureaus need more than one page


def test_page_breaks_keep_each_block_whole():
    from ledger_xl.templates import page_breaks

    # a page holds (595.3 - 86.4) * 0.94 = 478 pt at 100%
    assert page_breaks(80, 30, [(3, 200), (5, 150), (7, 100), (9, 400)], 100) == [7, 9]
    assert page_breaks(80, 30, [(3, 900), (9, 10)], 100) == [9]  # a block taller than a page runs on
    assert page_breaks(80, 30, [(3, 900), (9, 10)], 100)[0] != 3  # never a blank first page


def test_document_names_get_a_wide_wrapped_cell_and_dates_accept_how_people_write_them(run_2024h1):
    from ledger_xl.templates import C_LABEL, C_VALUE, COLUMNS, LINE_PT

    assert COLUMNS[C_VALUE][1] >= COLUMNS[C_LABEL][1]
    ledger, run = run_2024h1
    path, meta = next((p, m) for _, p, m in run.written if any(f.kind == "deliv_name" for f in m.fields))
    wb = openpyxl.load_workbook(path)
    ws = wb["填报表"]
    for f in meta.fields:
        if f.kind in ("deliv_name", "deliv_no"):
            row = split_ref(f.cell)[0]
            assert ws.row_dimensions[row].height >= 3 * LINE_PT and ws[f.cell].alignment.wrap_text
    date_cells = {f.cell for f in meta.fields if f.kind in ("deliv_date", "fill_date")}
    rules = [dv for dv in ws.data_validations.dataValidation if expand_sqref(str(dv.sqref)) & date_cells]
    assert len(rules) == len(date_cells)
    for dv in rules:
        assert dv.type == "custom" and "ISNUMBER" in dv.formula1 and "LEN" in dv.formula1  # text dates pass
        assert "2024.6.30" in dv.error and "2024年6月30日" in dv.error


@pytest.mark.libreoffice
def test_a_printed_template_never_cuts_a_task(run_2024h1, tmp_path):
    """LibreOffice prints the largest template: every task's number and its last 填报项目 are on one page."""
    import re

    from ledger_xl.testing.office import convert

    _, run = run_2024h1
    _, path, meta = max(run.written, key=lambda w: len(w[2].fields))
    pdf = convert(path, "pdf", tmp_path)
    n_pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout)[1])
    pages = [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"], capture_output=True,
                            text=True).stdout for i in range(1, n_pages + 1)]
    form_pages = [t for t in pages if "填报项目" in t]
    assert len(form_pages) >= 2 and len(form_pages) == n_pages - 1  # one page wide: no page of leftover columns
    for tid in dict.fromkeys(f.task_id for f in meta.fields if f.task_id):
        on = [i for i, t in enumerate(form_pages) if re.search(rf"^\s*{re.escape(tid)}\s+(牵头|责任)", t, re.M)]
        assert len(on) == 1, (tid, on)


def test_wrapped_lines_counts_each_paragraph_as_it_did_whatever_the_text():
    """wrapped_lines takes a one-paragraph text (most cells) without splitting it: for any text, with or
    without line breaks, CJK, ASCII or astral characters, and any column width, the count is the per-line
    rule it always was — the row heights of the templates and the master ledger do not move."""
    import math

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger_xl.templates import wrapped_lines

    def by_lines(text: str, col_width: float) -> int:
        if not text:
            return 1
        usable = max(col_width - 1, 2)
        return sum(max(1, math.ceil((len(line.encode("utf-8")) + len(line)) / 2 / usable)) for line in text.split("\n"))

    # any character a cell can hold: not a lone surrogate, which no workbook's XML can carry
    chars = st.sampled_from(list("ab 1.，。重点任务\n") + ["😀", "—"]) | st.characters(blacklist_categories=("Cs",))

    @settings(max_examples=400, deadline=None)
    @given(st.text(chars, max_size=120), st.floats(0, 80) | st.integers(0, 80))
    def run(text: str, col_width: float) -> None:
        assert wrapped_lines(text, col_width) == by_lines(text, col_width)

    run()


def test_labels_break_at_sensible_places_and_their_rows_hold_every_line(run_2024h1):
    """A 填报项目 label or column header too long for one line carries its own breaks, each line fits its column
    in Excel, WPS and LibreOffice alike (so none of them wraps it again: LibreOffice printed "成果进展（下拉选择"
    over a lone "）"), no line starts with a closing mark or ends with an opening one, and the row is tall enough."""
    import unicodedata

    from openpyxl.utils import get_column_letter

    from ledger_xl.templates import C_LABEL, FIRST_ROW, HEADER_ROW, LINE_PT, column_points

    def text_width(text: str) -> int:  # half-characters: a Chinese, full-width or “ ” … — character is two (宋体)
        return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)

    def check(ws, row: int, col: int) -> int:  # type: ignore[no-untyped-def]
        text = str(ws.cell(row + 1, col + 1).value or "")  # row and col 0-based
        width = ws.column_dimensions[get_column_letter(col + 1)].width
        room = (column_points(width) - 5) / 5  # half-characters of a 10 pt font; Excel keeps ~3 px a side free
        lines = text.split("\n")
        for line in lines:
            assert text_width(line) <= room, (text, line, width)
            assert line and line[0] not in "）)》”’，。、；：！？%" and line[-1] not in "（(《“‘", (text, line)
        height = ws.row_dimensions[row + 1].height
        assert height >= len(lines) * LINE_PT + 4 - 0.75, (text, height)  # Excel rounds heights to 0.75 pt
        return len(lines)

    _, run = run_2024h1
    two_line = 0
    for _, path, meta in run.written:
        ws = openpyxl.load_workbook(path)["填报表"]
        for c in range(ws.max_column):
            two_line += check(ws, HEADER_ROW, c) > 1
        rows = {split_ref(f.cell)[0] - 1 for f in meta.fields if f.task_id}
        rows |= {r - 1 for r in range(FIRST_ROW + 1, ws.max_row + 1) if str(ws.cell(r, C_LABEL + 1).value).startswith("文字填报")}
        for r in sorted(rows):
            two_line += check(ws, r, C_LABEL) > 1
    assert two_line > 20  # the seed's deliverables, long metric names and the 截至上期累计 header


@pytest.mark.parametrize("label, width, lines", [
    ("成果进展（下拉选择）", 17, ["成果进展", "（下拉选择）"]),  # was 成果进展（下拉选择 | ）
    ("完成日期（已完成时填）", 17, ["完成日期", "（已完成时填）"]),
    ("文字填报（配合工作进展）", 17, ["文字填报", "（配合工作进展）"]),
    ("本期完成次数（每年不少于1次）", 17, ["本期完成次数", "（每年不少于1次）"]),
    ("完成情况（完成时限 2025-12-31，下拉选择）", 17, ["完成情况", "（完成时限", "2025-12-31，", "下拉选择）"]),  # a date is never cut
    ("新增新能源城市配送营运车辆：本期新增（辆）", 17, ["新增新能源城市配", "送营运车辆：", "本期新增（辆）"]),  # no good place: fill the line
    ("截至上期累计", 8, ["截至上期", "累计"]),
    ("推广“一单制”模式", 17, ["推广“一单制”", "模式"]),  # “ ” are full-width in a Chinese font: 18 half-characters, not 16
    ("文件名称", 17, ["文件名称"]),
])
def test_break_label__breaks_before_a_bracket_or_after_a_colon__never_strands_a_mark(label, width, lines):
    from ledger_xl.templates import break_label

    assert break_label(label, width).split("\n") == lines


def _row_attrs(path, sheet: str = "填报表") -> dict[int, str]:  # type: ignore[no-untyped-def]
    """Each row's attributes as written in the sheet's XML (1-based row → attribute text)."""
    import re

    wb = openpyxl.load_workbook(path, read_only=True)
    index = wb.sheetnames.index(sheet)
    wb.close()
    with zipfile.ZipFile(path) as z:
        xml = z.read(f"xl/worksheets/sheet{index + 1}.xml").decode("utf-8")
    return {int(r): attrs for r, attrs in re.findall(r'<row r="(\d+)"([^>]*)>', xml)}


def test_every_answer_has_a_row_that_grows_and_the_rows_of_numbers_keep_their_height(run_2024h1):
    """A row nobody sized by hand (a height but no customHeight) is one Excel, WPS and LibreOffice grow to a
    long answer as it is typed; xlsxwriter marks every sized row custom, which froze it. A merged cell never
    grows a row, so the written answers (工作进展…佐证材料) are never merged: a task of several measures gets a
    row of its own for them (it merged them down its block, where a long answer was cut in print), and its
    rows of numbers keep fixed heights tall enough for the plan by themselves, whatever the answers' row does."""
    from ledger_xl.templates import ANSWER_PT, ANSWERS_BELOW, LINE_PT

    _, run = run_2024h1
    free = fixed = 0
    for _, path, meta in run.written:
        attrs = _row_attrs(path)
        ws = openpyxl.load_workbook(path)["填报表"]
        blocks: dict[str, set[int]] = {}
        for f in meta.fields:
            if f.task_id:
                blocks.setdefault(f.task_id, set()).add(split_ref(f.cell)[0])
        for f in meta.fields:
            if f.kind not in ("progress", "problems", "plan", "evidence"):
                continue
            row, col = split_ref(f.cell)
            assert not any(f.cell in m for m in ws.merged_cells.ranges), (path.name, f.cell)
            assert "customHeight" not in attrs[row] and ws.row_dimensions[row].height >= ANSWER_PT - 0.75, (path.name, f.cell)
            free += 1
            numbers = sorted(blocks[f.task_id] - {row})
            if f.kind == "progress" and numbers:
                assert numbers == list(range(row - len(numbers), row)), (path.name, f.cell, numbers)  # the rows just above
                assert ws.cell(numbers[0], col).value == ANSWERS_BELOW
                plan_lines = max(str(ws.cell(numbers[0], c).value or "").count("\n") + 1 for c in (3, 4, 5, 6))
                held = sum(ws.row_dimensions[r].height for r in numbers)
                assert held >= plan_lines * LINE_PT + 4 - 0.75, (path.name, f.cell, held, plan_lines)
                for r in numbers:
                    assert 'customHeight="1"' in attrs[r], (path.name, r)
                fixed += 1
    assert free > 100 and fixed > 5


@pytest.mark.libreoffice
def test_libreoffice_grows_a_one_row_task_to_a_long_answer(run_2024h1, tmp_path):
    """Typed through LibreOffice, a long 下一步计划 in a one-row task makes its row tall enough to print whole:
    8 characters a line in that column, 14.2 pt a line (Noto CJK, 10 pt)."""
    import json
    import math
    import os

    from conftest import uno_python

    assert soffice() and uno_python()
    _, run = run_2024h1
    _, path, meta = next(w for w in run.written if w[0] == "市商务局")
    ws = openpyxl.load_workbook(path)["填报表"]
    merged = {(m.min_row, m.min_col) for m in ws.merged_cells.ranges if m.max_row > m.min_row}
    plan = next(f for f in meta.fields if f.kind == "plan" and split_ref(f.cell) not in merged)
    row = split_ref(plan.cell)[0]
    before = ws.row_dimensions[row].height
    answer = "继续推进重点项目建设加快公共配送中心和末端配送站点布局协调用地审批和资金拨付确保按期完成年度目标任务"
    (tmp_path / "v.json").write_text(json.dumps({plan.name: answer}, ensure_ascii=False), encoding="utf-8")
    lo_fill = Path(__file__).resolve().parents[1] / "src" / "ledger_xl" / "testing" / "lo_fill.py"
    out = tmp_path / "filled.xlsx"
    subprocess.run([uno_python(), str(lo_fill), str(path), str(out), str(tmp_path / "v.json")], check=True, timeout=180,
                   env={**os.environ, "SOFFICE": soffice()})
    after = openpyxl.load_workbook(out)["填报表"].row_dimensions[row].height
    assert after >= math.ceil(len(answer) / 8) * 14.2 > before, (before, after)


def test_sample_returns_rows_hold_what_was_typed_into_them():
    """Every answer in the bundled sample returns fits its row as printed: a row free to grow was grown to its
    tallest text (what the spreadsheet program does as the unit types; the generator stands in for it)."""
    import glob

    from ledger_xl.templates import LINE_PT, wrapped_lines
    from ledger_xl.testing.fill import template_fields

    files = sorted(glob.glob(str(Path(__file__).resolve().parents[1] / "samples" / "returns" / "*" / "*.xlsx")))
    assert len(files) > 50
    checked = 0
    for name in files:
        ws = openpyxl.load_workbook(name)["填报表"]
        merged = {(m.min_row, m.min_col) for m in ws.merged_cells.ranges if m.max_row > m.min_row}
        for f in template_fields(Path(name)):
            row, col = split_ref(f.cell)
            value = ws[f.cell].value
            if f.kind in ("progress", "problems", "plan", "evidence") and value and (row, col) not in merged:
                width = ws.column_dimensions[ws[f.cell].column_letter].width
                need = wrapped_lines(str(value), width) * LINE_PT + 4
                assert ws.row_dimensions[row].height >= need - 0.75, (Path(name).name, f.cell, value)
                checked += 1
    assert checked > 500


CLOSING_MARKS = "）)》”’〕]】，。、；：！？,.;:!?%"
OPENING_MARKS = "（(《“‘〔[【"


def _check_lines(text: str, room: float, where: object) -> int:
    """Each line of a text broken for its column fits it (a Chinese, full-width or “ ” … — character two
    half-characters, a Latin letter or digit 1.15 — LibreOffice's Noto CJK draws them 1.1 wide) and neither
    starts with a closing mark nor ends with an opening one. Returns the number of lines."""
    import unicodedata

    def measure(line: str) -> float:
        return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 2 if ch in "%@mwMW" else 1.5 if ch.isupper()
                   else 1.15 if ch.isalnum() else 1 for ch in line)

    lines = text.split("\n")
    for line in lines:
        assert measure(line) <= room, (where, text, line)
        assert line and line[0] not in CLOSING_MARKS and line[-1] not in OPENING_MARKS, (where, text, line)
    return len(lines)


def test_instructions_and_plan_texts_print_with_no_line_starting_with_a_closing_mark(run_2024h1):
    """The 填报说明 texts and the locked plan texts carry their own line breaks (避头尾): LibreOffice, left to
    wrap them, printed a lone “。” or a line starting with “，” or “、”; and each line fits its column in Excel's
    widths (LibreOffice's are wider), so no program breaks it again. Each row holds its lines."""
    from openpyxl.utils import get_column_letter

    from ledger_xl.templates import C_CAT, C_TOTAL, CELL_PAD_PT, HELP_LINE_PT, LINE_PT, column_points

    def room(ws, col: int, font_pt: float) -> float:  # type: ignore[no-untyped-def]
        return (column_points(ws.column_dimensions[get_column_letter(col)].width) - CELL_PAD_PT) / (font_pt / 2)

    _, run = run_2024h1
    broken = 0
    for _, path, _ in run.written:
        wb = openpyxl.load_workbook(path)
        help_ws = wb["填报说明"]
        for r in range(3, help_ws.max_row + 1):
            text = help_ws.cell(r, 2).value
            if text:
                n = _check_lines(text, room(help_ws, 2, 11), (path.name, "填报说明", r))
                assert help_ws.row_dimensions[r].height >= n * HELP_LINE_PT, (path.name, r)
                broken += n > 1
        ws = wb["填报表"]
        spans = {(m.min_row, m.min_col): m.max_row for m in ws.merged_cells.ranges}
        for r in range(4, ws.max_row + 1):
            for c in range(C_CAT + 1, C_TOTAL + 2):
                text = ws.cell(r, c).value
                if isinstance(text, str) and text:
                    n = _check_lines(text, room(ws, c, 10), (path.name, ws.cell(r, c).coordinate))
                    held = sum(ws.row_dimensions[k].height for k in range(r, spans.get((r, c), r) + 1))
                    assert held >= n * LINE_PT + 4 - 0.75, (path.name, ws.cell(r, c).coordinate, held, n)
                    broken += n > 1
    assert broken > 100


@pytest.mark.parametrize("text, width, font, lines", [
    ("将城市绿色货运配送示范工程创建纳入政府对领导小组各成员单位年度绩效考核，并每年实施考核评价。", 16, 10,
     ["将城市绿色货运配", "送示范工程创建纳", "入政府对领导小组", "各成员单位年度绩", "效考核，并每年实", "施考核评价。"]),
    ("体制机制保障", 10, 10, ["体制机制", "保障"]),  # never one character alone on the last line
    ("3. 数字直接填阿拉伯数字，如 5、12.5；不要写“约”“余”等字，也不要写单位。", 72, 11,
     ["3. 数字直接填阿拉伯数字，如 5、12.5；不要写“约”“余”等字，也不要", "写单位。"]),  # was …写单位 | 。
    ("请勿增删行列、改动工作表名称或另存为其他格式（如 .xls、.et、.csv）；保存为 .xlsx 后原文件发回即可。", 72, 11,
     ["请勿增删行列、改动工作表名称或另存为其他格式", "（如 .xls、.et、.csv）；保存为 .xlsx 后原文件发回即可。"]),
    ("日期填成 2024-6-30、2024.6.30 或 2024年6月30日 都可以。", 20, 10,
     ["日期填成", "2024-6-30、", "2024.6.30 或 2024年", "6月30日 都可以。"]),  # a figure is never cut
    ("累计≥5个", 15, 10, ["累计≥5个"]),  # fits: left alone
    ("重重重重重重 ，重", 16, 10, ["重重重重重", "重 ，重"]),  # the last line's companion was " ，": its word goes too
])
def test_break_text__fills_lines_and_never_strands_a_mark(text, width, font, lines):
    from ledger_xl.templates import break_text

    assert break_text(text, width, font).split("\n") == lines


def test_break_text_keeps_every_character_and_the_rules_for_any_text():
    """For any text, the broken lines hold the same characters (a break may stand for a space), each fits
    the column or is a piece of one word too wide for it, and none starts with a closing mark or ends with an
    opening one unless the text gives no other way (a run of marks wider than a line)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger_xl.templates import break_text, line_room, print_width

    words = st.sampled_from(list("重点任务配送中心建设") + list("，。、；：（）“”《》") + ["2024-6-30", "12.5%", "3.5:1", " ", "ab"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(words, max_size=60), st.sampled_from([16, 26, 72]))
    def run(parts: list[str], col: int) -> None:
        text = "".join(parts)
        out = break_text(text, col)
        assert "".join(out.split()) == "".join(text.split())
        room = line_room(col)
        for k, line in enumerate(out.split("\n")):
            if len(out.split("\n")) == 1:
                break
            assert print_width(line) <= room or " " not in line and not any(0x4E00 <= ord(ch) < 0xA000 for ch in line), (text, line)
            prev = out.split("\n")[k - 1]
            cut = " " not in prev and not any(0x4E00 <= ord(ch) < 0xA000 for ch in prev)  # a word wider than a line
            if k > 0 and not cut and any(ch not in CLOSING_MARKS for ch in line):
                assert line[0] not in CLOSING_MARKS or line.lstrip(CLOSING_MARKS) == "", (text, out)

    run()


@pytest.mark.libreoffice
def test_libreoffice_prints_no_line_starting_with_a_closing_mark(run_2024h1, tmp_path):
    """The largest template as LibreOffice prints it: no line of its text starts with “。”, “，”, “、” or “）”
    (it printed twelve such lines in the 市交通运输局 form of the demo before the texts carried their breaks)."""
    import re

    from ledger_xl.testing.office import convert

    _, run = run_2024h1
    _, path, _ = max(run.written, key=lambda w: len(w[2].fields))
    pdf = convert(path, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert len(text) > 2000 and "。" in text
    bad = [line for line in text.split("\n") if re.match(r"\s*[。，、）；：”！？]", line)]
    assert not bad, bad
