"""The fast reader (calamine) must see exactly what the exact reader (zip + lxml) sees."""

from __future__ import annotations

import uuid
from pathlib import Path

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_xl.xlsxread import GridCells, by_column, cells_within, read_package

TEXT = st.text(alphabet=st.sampled_from("abcXYZ 019，。填报进展约个%-_"), min_size=1, max_size=10).filter(str.strip)
VALUES = st.one_of(TEXT, st.integers(-10**6, 10**6), st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False), st.booleans())


def _write(path: Path, cells: dict[tuple[int, int], object]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("表")
    for (r, c), v in cells.items():
        if isinstance(v, bool):
            ws.write_boolean(r, c, v)
        elif isinstance(v, int | float):
            ws.write_number(r, c, v)
        else:
            ws.write_string(r, c, str(v))
    wb.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.tuples(st.integers(0, 30), st.integers(0, 20)), VALUES, min_size=1, max_size=25))
def test_fast_reader_agrees_with_the_exact_reader_wherever_the_first_cell_is(tmp_path, cells):
    path = tmp_path / f"{uuid.uuid4().hex}.xlsx"
    _write(path, cells)
    fast, exact = read_package(path, fast=True), read_package(path)
    assert not fast.exact, "the fast reader should have been used"
    f, e = fast.sheets["表"].cells, exact.sheets["表"].cells
    assert isinstance(f, GridCells)
    assert dict(f) == e  # every cell at its own address (calamine's grid starts at A1, not at the first cell)
    for ref in list(e) + ["A1", "Z99", "XFD1", "A0", "not a cell"]:
        assert f.get(ref) == e.get(ref) and (ref in f) == (ref in e)
    assert bool(f) == bool(e) and len(f) == len(e)


def test_fast_reader_from_bytes_in_memory(tmp_path):
    path = tmp_path / "b.xlsx"
    _write(path, {(2, 2): "x", (4, 3): 2.0})
    pkg = read_package(Path("只是名字.xlsx"), fast=True, data=path.read_bytes())
    assert {k: (c.kind, c.value) for k, c in pkg.sheets["表"].cells.items()} == {"C3": ("s", "x"), "D5": ("n", 2.0)}


def test_cells_within_a_range():
    at = by_column(["B2", "C5", "D9"])
    assert cells_within("B2:C5", at) == ["B2", "C5"]
    assert cells_within("A1:A9", at) == []
    assert cells_within("D9", at) == ["D9"]
