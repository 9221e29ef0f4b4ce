"""The master ledger as people print and scroll it: a 一览表 for leaders, panes frozen at the task name,
numbers stored as numbers."""

from __future__ import annotations

import re
import subprocess
import zipfile

import openpyxl
import pytest
from conftest import soffice
from test_ingest import fill

from ledger_xl.ledger_book import task_number
from ledger_xl.pipeline import check, ingest
from ledger_xl.workspace import open_workspace, ws_ledger


@pytest.fixture
def master(workspace, templates_2024h1):  # type: ignore[no-untyped-def]
    for bureau in ("市交通运输局", "市商务局", "市发展改革委"):
        fill(templates_2024h1, bureau, workspace / "inbox", number=2)
    assert {o.status for o in ingest(workspace).outcomes} == {"merged"}
    check(workspace, "2024H1")
    return workspace / "outputs" / "master_ledger.xlsx"


def test_overview_sheet_comes_first_with_one_row_per_metric_or_task(master, workspace):
    wb = openpyxl.load_workbook(master)
    assert wb.sheetnames[0] == "一览表" and wb.active.title == "一览表"
    ws = wb["一览表"]
    assert [c.value for c in ws[2]] == ["序号", "重点任务", "牵头单位", "计划", "实际", "完成率", "状态"]
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True)]
    ledger = ws_ledger(open_workspace(workspace))
    assert len(rows) == sum(max(1, len(t.metrics)) for t in ledger.tasks)
    assert [r[0] for r in rows] == [task_number(t.id) for t in ledger.tasks for _ in range(max(1, len(t.metrics)))]
    assert all(isinstance(r[0], int) for r in rows)  # 序号 as numbers
    t9 = next(r for r in rows if r[0] == 9)
    assert t9[2] == "市交通运输局" and t9[4] == "2个" and isinstance(t9[5], float) and t9[6]
    assert all(r[6] for r in rows)  # every task has a status after check


def test_overview_prints_readably_on_portrait_a4(master):
    ws = openpyxl.load_workbook(master)["一览表"]
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$2:$2"
    sizes = {c.font.sz for row in ws.iter_rows(min_row=3) for c in row}
    assert sizes == {11}
    # the columns fit the page width at full size: A4 portrait less margins, in Excel's character widths
    widths = sum(ws.column_dimensions[c].width for c in "ABCDEFG")
    assert widths * 7 * 0.75 <= 595 - 72  # a stored width w is about 7w pixels, 0.75 pt each


@pytest.mark.libreoffice
def test_overview_prints_on_one_or_two_pages_at_full_size(master, tmp_path):
    """LibreOffice prints the 一览表 alone: one or two pages, and its text at 11 pt (not shrunk to fit)."""
    from ledger_xl.testing.office import convert

    assert soffice()
    pdf = convert(master, "pdf", tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True, text=True).stdout
             for i in range(1, int(re.search(r"Pages:\s+(\d+)", info)[1]) + 1)]
    overview = [p for p in pages if "完成率" in p and "状态" in p and "牵头单位" in p and "总台账（生成于" not in p
                and "状态说明" not in p]
    assert 1 <= len(overview) <= 2, len(overview)
    assert "重点任务一览表" in overview[0]
    fonts = subprocess.run(["pdffonts", "-l", str(len(overview)), str(pdf)], capture_output=True, text=True).stdout
    assert "CJK" in fonts or "Noto" in fonts


def test_sheets_freeze_panes_at_the_task_name_and_store_numbers_as_numbers(master):
    wb = openpyxl.load_workbook(master)
    assert wb["总台账"].freeze_panes == "D3"  # 序号, 指标分类, 重点任务 stay in view
    assert wb["一览表"].freeze_panes == "C3"
    assert wb["报送情况"].freeze_panes == "B2"
    assert wb["提交记录"].freeze_panes == "C2"
    assert wb["问题清单"].freeze_panes == "D2"
    ws = wb["总台账"]
    head = [c.value for c in ws[2]]
    ids = [r[0] for r in ws.iter_rows(min_row=3, values_only=True)]
    assert ids and all(isinstance(i, int) for i in ids)
    plan = head.index("2024年计划")
    assert all(isinstance(r[plan], int | float) for r in ws.iter_rows(min_row=3, values_only=True) if r[head.index("指标")])
    with zipfile.ZipFile(master) as z:
        styles = z.read("xl/styles.xml").decode("utf-8")
    assert '"0.##"' not in styles


def test_headers_are_never_split_inside_a_word(master):
    """A column is at least half its header wide (plus padding), so 累计计划 wraps, if at all, between words."""
    ws = openpyxl.load_workbook(master)["总台账"]
    from openpyxl.utils import get_column_letter

    from ledger_xl.textui import width

    for c, cell in enumerate(ws[2], start=1):
        w = ws.column_dimensions[get_column_letter(c)].width
        assert w >= min(width(cell.value, 2), width(cell.value, 2) / 2 + 2), (cell.value, w)


@pytest.mark.parametrize("tid, expected", [("9", 9), ("12", 12), ("1.1", "1.1"), ("1.10", "1.10"), ("三", "三"), ("９", "９")])
def test_task_number(tid, expected):
    assert task_number(tid) == expected


class _Recorder:
    """A worksheet that keeps what it is told: the cells written and each row's height."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], object] = {}
        self.heights: dict[int, float] = {}

    def write_string(self, r, c, v, fmt=None):  # type: ignore[no-untyped-def]
        self.cells[(r, c)] = v

    def write_number(self, r, c, v, fmt=None):  # type: ignore[no-untyped-def]
        self.cells[(r, c)] = v

    def write_blank(self, r, c, v, fmt=None):  # type: ignore[no-untyped-def]
        self.cells[(r, c)] = None

    def set_row(self, r, height):  # type: ignore[no-untyped-def]
        self.heights[r] = height


def test_row_heights_are_those_wrapped_lines_gives_whatever_the_texts():
    """A master-ledger row is as tall as its most wrapped cell (up to MAX_ROW_LINES): the table measures with
    wrapped_lines only the texts that can wrap, and must give the height measuring every cell would give —
    for texts of any characters (CJK counted two, 4-byte characters, newlines), numbers, blanks and widths."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger_xl.ledger_book import MAX_ROW_LINES, _Book
    from ledger_xl.templates import wrapped_lines

    cell = st.one_of(st.none(), st.text(alphabet=st.sampled_from("a1 .一二国（）“”…—\n😀"), max_size=60),
                     st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False), st.booleans())

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.integers(1, 40), min_size=1, max_size=5).flatmap(
        lambda widths: st.tuples(st.just(widths), st.lists(st.lists(cell, min_size=len(widths), max_size=len(widths)),
                                                           min_size=1, max_size=4))))
    def check(case):  # type: ignore[no-untyped-def]
        widths, rows = case
        book = _Book.__new__(_Book)
        book.text = book.num = object()
        ws = _Recorder()
        book._rows(ws, 0, rows, [book.text] * len(widths), widths)
        for r, row in enumerate(rows, start=1):
            need = max([wrapped_lines(str(v), w) for v, w in zip(row, widths, strict=True) if v is not None and v != ""],
                       default=1)
            assert ws.heights[r] == 15 * min(need, MAX_ROW_LINES) + 2, row

    check()
    # and every width against texts of every length around it, of one-, two- and two-and-a-half-column characters
    widths = list(range(1, 46))
    texts = ["a" * i + "一" * j + "😀" * k for i in range(3) for j in range(25) for k in range(20)]
    book = _Book.__new__(_Book)
    book.text = book.num = object()
    for w in widths:
        ws = _Recorder()
        book._rows(ws, 0, [[t] for t in texts], [book.text], [w])
        assert [ws.heights[r] for r in range(1, len(texts) + 1)] == [
            15 * min(wrapped_lines(t, w) if t else 1, MAX_ROW_LINES) + 2 for t in texts], w


def test_period_codes_are_put_in_time_as_periods_are():
    """The master ledger orders a metric's periods by a tuple key (_when): the order Period gives, for codes of
    every kind and of several years."""
    from ledger_xl.ledger_book import _when
    from ledger_xl.model import Period

    codes = ["2025M12", "2025M02", "2024M11", "2025H1", "2024H2", "2025Q3", "2025Q1", "2024", "2026", "2025M10", "2025H2"]
    assert sorted(codes, key=_when) == sorted(codes, key=Period.parse)
    assert max(codes, key=_when) == max(codes, key=Period.parse)


def test_a_table_writes_each_value_typed_and_in_its_columns_format():
    """_rows writes most cells itself rather than through put: a figure in a text column gets the number format
    (as put gives it), one in a column of its own format keeps that format, a bool is 是/否 text, nothing and
    empty text are blanks in the column's format."""
    from ledger_xl.ledger_book import _Book

    class Typed(_Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.typed: dict[tuple[int, int], tuple[str, object, object]] = {}

        def write_string(self, r, c, v, fmt=None):  # type: ignore[no-untyped-def]
            self.typed[(r, c)] = ("string", v, fmt)

        def write_number(self, r, c, v, fmt=None):  # type: ignore[no-untyped-def]
            self.typed[(r, c)] = ("number", v, fmt)

        def write_blank(self, r, c, v, fmt=None):  # type: ignore[no-untyped-def]
            self.typed[(r, c)] = ("blank", v, fmt)

    book = _Book.__new__(_Book)
    book.text, book.num, pct = object(), object(), object()
    ws = Typed()
    book._rows(ws, 0, [[5, 0.25, True, None, "", "字", 2.5]], [book.text, pct, book.text, book.text, pct, book.text, pct], [9] * 7)
    assert [ws.typed[(1, c)] for c in range(7)] == [
        ("number", 5, book.num), ("number", 0.25, pct), ("string", "是", book.text), ("blank", None, book.text),
        ("blank", None, pct), ("string", "字", book.text), ("number", 2.5, pct)]
