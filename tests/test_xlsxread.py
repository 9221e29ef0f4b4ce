"""The fast reader (calamine) must see exactly what the exact reader (zip + lxml) sees, and ingest's
shortcuts on its grid must find what the plain, cell-by-cell way finds."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger_xl.ingest import _changed_locked, _locked_text, _merged_over_fields
from ledger_xl.layout import FieldSpec
from ledger_xl.xlsxread import (
    CALAMINE_TEXT_LIMIT,
    COLUMN_LETTERS,
    GridCells,
    _cell_of,
    by_column,
    cells_within,
    read_package,
)

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


@pytest.mark.parametrize("inline", [False, True])
def test_a_text_as_long_as_calamines_limit_goes_to_the_exact_reader(tmp_path, inline):
    """calamine cuts a text at 32,767 characters without a word: a text that long, in the shared strings or in the
    sheet itself, is read by the exact reader (whole), however small the rest of the workbook; one shorter stays
    with calamine."""
    for n, exact in ((CALAMINE_TEXT_LIMIT - 1, False), (CALAMINE_TEXT_LIMIT, True)):
        path = tmp_path / f"{n}.xlsx"
        _write(path, {(0, 0): "x" * n, (2, 1): 2.0})
        if inline:  # the text written into the sheet's XML, not the shared strings
            _inline_text(path, "x" * n)
        pkg = read_package(path, fast=True, sheets={"表"})
        assert pkg.exact is exact, n
        assert pkg.sheets["表"].cells["A1"].value == "x" * n and pkg.sheets["表"].cells["B3"].value == 2.0


def _inline_text(path: Path, text: str) -> None:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index('<c r="A1"')
    end = sheet.index("</c>", start) + len("</c>")
    parts["xl/worksheets/sheet1.xml"] = (sheet[:start] + f'<c r="A1" t="inlineStr"><is><t>{text}</t></is></c>' + sheet[end:]).encode()
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(text.encode(), b"-")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def test_cells_within_a_range():
    at = by_column(["B2", "C5", "D9"])
    assert cells_within("B2:C5", at) == ["B2", "C5"]
    assert cells_within("A1:A9", at) == []
    assert cells_within("D9", at) == ["D9"]


# ---------------------------------------------------------------- ingest's shortcuts on the fast reader's grid

LOCKED_VALUES = st.one_of(st.text(alphabet=st.sampled_from("ab 任务\r\n\t"), max_size=6), st.integers(-5, 5),
                          st.floats(-1e3, 1e3, allow_nan=False), st.booleans(), st.just(""))


@given(st.lists(st.lists(LOCKED_VALUES, max_size=6), max_size=6),
       st.lists(st.tuples(st.integers(1, 8), st.integers(1, 8), st.booleans(), st.text(alphabet="ab 任", max_size=3)), max_size=12))
@example(rows=[[" "]], wanted=[(1, 1, False, " ")])  # a locked " ": unchanged both ways, not changed to "" cell by cell
@example(rows=[["a"]], wanted=[(1, 1, False, " a")])
def test_locked_cells_compared_on_the_grid_as_cell_by_cell(rows, wanted):
    """The grid shortcut finds the same changed cells, with the same texts, as comparing each Cell: on rows as wide
    as each other (as calamine gives them, read from the grid laid flat) and on ragged ones."""
    width = max(map(len, rows), default=0)
    _compare_locked([row + [""] * (width - len(row)) for row in rows], wanted)
    _compare_locked(rows, wanted)


def _compare_locked(rows: list[list[object]], wanted: list[tuple[int, int, bool, str]]) -> None:
    grid = GridCells(rows)
    cells = {f"{COLUMN_LETTERS[c + 1]}{r + 1}": cell for r, row in enumerate(rows) for c, v in enumerate(row)
             if (cell := _cell_of(v)) is not None}
    locked = []
    for r, c, same, other in wanted:
        ref = f"{COLUMN_LETTERS[c]}{r}"
        locked.append((ref, _locked_text(cells, ref) if same else other))
    assert _changed_locked(grid, locked) == _changed_locked(cells, locked)


def _field(cell: str) -> FieldSpec:
    return FieldSpec(f"lx_{cell}", "T1", "lead", "progress", 0, "进展", "", cell)


@given(st.sets(st.tuples(st.integers(1, 30), st.integers(1, 12)), max_size=40),
       st.lists(st.tuples(st.integers(1, 30), st.integers(1, 12), st.integers(0, 25), st.integers(0, 11)), max_size=12))
def test_merged_ranges_over_input_cells_found_as_by_scanning_columns(at, ranges):
    fields = [_field(f"{COLUMN_LETTERS[c]}{r}") for r, c in sorted(at)]
    merged = [f"{COLUMN_LETTERS[c]}{r}:{COLUMN_LETTERS[c + w]}{r + h}" for r, c, h, w in ranges]
    columns = by_column(fs.cell for fs in fields)
    expected = next(((rng, inside) for rng in merged if len(inside := cells_within(rng, columns)) > 1), None)
    assert _merged_over_fields(merged, fields) == expected


def test_every_part_calamine_parses_is_refused_with_a_doctype(tmp_path):
    """Which parts calamine reads is found out, not assumed: a part it fails on when garbled is one it
    parses, and a DOCTYPE there must be refused before calamine sees it."""
    import io
    import zipfile

    import python_calamine

    from ledger_xl.xlsxread import XlsxError

    path = tmp_path / "t.xlsx"
    _write(path, {(0, 0): "标题", (2, 1): 5.0})
    original = path.read_bytes()

    def with_part(name: str, change: Callable[[bytes], bytes]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                dst.writestr(info.filename, change(data) if info.filename == name else data)
        return out.getvalue()

    parsed = []
    for name in zipfile.ZipFile(io.BytesIO(original)).namelist():
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(with_part(name, lambda _: b"<garbage")))
            for sheet in book.sheet_names:
                book.get_sheet_by_name(sheet).to_python()
        except Exception:  # any failure: calamine parses this part
            parsed.append(name)
    assert "[Content_Types].xml" not in parsed and "xl/styles.xml" in parsed
    bomb = b'<!DOCTYPE x [<!ENTITY e "e">]>'
    for name in parsed:
        data = with_part(name, lambda d: d.replace(b"?>", b"?>" + bomb, 1) if d.startswith(b"<?xml") else bomb + d)
        try:
            read_package(Path("t.xlsx"), fast=True, data=data)
        except XlsxError as e:
            assert e.code == "xml-doctype", name
        else:
            raise AssertionError(f"a DOCTYPE in {name} was not refused")


def test_a_time_or_duration_from_calamine_is_kind_t_as_shown():
    """calamine gives a time-formatted cell as a time (h:mm) or a duration ([h]:mm): kept as what the cell
    shows, marked as a time, so ingest never takes it for text a person typed or for a day fraction."""
    import datetime as dt

    assert _cell_of(dt.time(3, 1)) == _cell_of(dt.timedelta(hours=3, minutes=1))
    assert (_cell_of(dt.time(3, 1)).kind, _cell_of(dt.time(3, 1)).value) == ("t", "3:01")  # type: ignore[union-attr]
    assert _cell_of(dt.time(3, 1, 5)).value == "3:01:05"  # type: ignore[union-attr]
    assert _cell_of(dt.timedelta(days=1, hours=1, minutes=1)).value == "25:01"  # type: ignore[union-attr]
    assert _cell_of(dt.date(2025, 6, 30)).kind == "d"  # type: ignore[union-attr]


@given(st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/\\"), min_size=1, max_size=20)
                       .map(lambda n: f"xl/{n}.xml"), st.binary(max_size=3000), min_size=1, max_size=8))
@example({"xl/workbook.xml": b"<workbook/>", "xl/\u586b\u62a5\u8868.xml": b"\xe5\xa1\xab"})
def test_the_stored_package_calamine_reads_is_a_zip_of_exactly_the_checked_parts(parts):
    """calamine is handed a zip written here, not by zipfile (which costs ~0.5 ms a return more, recomputing each
    CRC): Python's own reader must find in it every part, byte for byte, under its (UTF-8) name, with the CRC the
    guard checked, and nothing else."""
    import io
    import zipfile
    import zlib

    from ledger_xl.xlsxread import stored_package

    for crcs in (None, {n: zlib.crc32(c) for n, c in parts.items()}):
        with zipfile.ZipFile(io.BytesIO(stored_package(parts, crcs))) as z:
            assert z.testzip() is None
            assert [i.filename for i in z.infolist()] == list(parts)
            assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
            assert {n: z.read(n) for n in z.namelist()} == parts


@pytest.mark.parametrize("inflater", ["zlib-ng", "zlib"])
def test_either_inflater_gives_the_same_parts_and_the_same_refusals(tmp_path, monkeypatch, inflater):
    """The guard inflates with zlib-ng when it is installed and with the standard zlib otherwise: both must
    return every part byte for byte, stop a part that inflates beyond its declared size, and refuse a
    damaged stream."""
    import zipfile
    import zlib

    from bad_inputs import _lying_sizes
    from zlib_ng import zlib_ng

    from ledger_xl import xlsxread
    from ledger_xl.safety import MAX_UNCOMPRESSED
    from ledger_xl.xlsxread import XlsxError, ZipRefusal, inflate_parts

    monkeypatch.setattr(xlsxread, "_zlib", zlib_ng if inflater == "zlib-ng" else zlib)
    path = tmp_path / "t.xlsx"
    _write(path, {(0, 0): "标题", (2, 1): 5.0})
    data = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        infos, expected = z.infolist(), {i.filename: z.read(i.filename) for i in z.infolist()}
    assert inflate_parts(data, infos, MAX_UNCOMPRESSED) == expected  # every part of this workbook is XML
    assert read_package(path, fast=True).sheets["表"].cells["B3"].value == 5.0

    lying = _lying_sizes(path, tmp_path / "lying.xlsx", "xl/worksheets/sheet1.xml", padding=1 << 20)
    with pytest.raises(XlsxError) as refused:
        read_package(lying, fast=True)
    assert refused.value.code == "zip-bomb"

    sheet = next(i for i in infos if i.filename == "xl/worksheets/sheet1.xml")
    start = sheet.header_offset + 30 + len(sheet.filename.encode()) + len(sheet.extra)
    damaged = bytearray(data)
    damaged[start : start + sheet.compress_size] = b"\xff" * sheet.compress_size
    with pytest.raises(ZipRefusal) as broken:
        inflate_parts(bytes(damaged), infos, MAX_UNCOMPRESSED)
    assert broken.value.code == "corrupt"


def test_a_part_met_before_is_taken_checked_only_when_its_bytes_are_the_same(tmp_path, monkeypatch):
    """Parts inflated and checked are kept by their entry and compressed bytes: the same bytes again give the same
    part without inflating; other bytes under the same entry (name, sizes, CRC) are inflated and checked as ever,
    and a part refused once is refused again (only checked parts are kept)."""
    import zipfile

    from ledger_xl import xlsxread
    from ledger_xl.safety import MAX_UNCOMPRESSED
    from ledger_xl.xlsxread import ZipRefusal, inflate_parts

    path = tmp_path / "t.xlsx"
    _write(path, {(0, 0): "标题", (2, 1): 5.0})
    data = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        infos, expected = z.infolist(), {i.filename: z.read(i.filename) for i in z.infolist()}
    inflated: list[str] = []
    real = xlsxread._inflate

    def counted(body, info):  # type: ignore[no-untyped-def]
        inflated.append(info.filename)
        return real(body, info)

    monkeypatch.setattr(xlsxread, "_VERIFIED", {})
    monkeypatch.setattr(xlsxread, "_inflate", counted)
    assert inflate_parts(data, infos, MAX_UNCOMPRESSED) == expected and len(inflated) == len(infos)
    assert inflate_parts(data, infos, MAX_UNCOMPRESSED) == expected and len(inflated) == len(infos)  # none again
    sheet = next(i for i in infos if i.filename == "xl/worksheets/sheet1.xml")
    start = sheet.header_offset + 30 + len(sheet.filename.encode()) + len(sheet.extra)
    damaged = bytearray(data)
    damaged[start + sheet.compress_size // 2] ^= 0xFF  # the same entry, other bytes
    for _ in range(2):
        with pytest.raises(ZipRefusal) as broken:
            inflate_parts(bytes(damaged), infos, MAX_UNCOMPRESSED)
        assert broken.value.code == "corrupt" and inflated[-1] == "xl/worksheets/sheet1.xml"
    doctype = tmp_path / "dtd.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(doctype, "w", zipfile.ZIP_DEFLATED) as out:
        for i in src.infolist():
            body = src.read(i.filename)
            out.writestr(i.filename, body.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e "e">]>', 1) if "sheet1" in i.filename else body)
    with zipfile.ZipFile(doctype) as z:
        dinfos = z.infolist()
    for _ in range(2):
        with pytest.raises(ZipRefusal) as unsafe:
            inflate_parts(doctype.read_bytes(), dinfos, MAX_UNCOMPRESSED)
        assert unsafe.value.code == "xml-doctype"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"<r>", b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<r>', b"!"]),
       st.lists(st.sampled_from([b"<a>", b"</a>", b"!", b"<", b"<!", b"DOCTYPE", b"ENTITY", b"<!DOCTYPE x>", b"<!ENTITY e>",
                                 b"x", b"<!--c-->", b"!DOCTYPE", b"'S'!$A$1"]), max_size=14))
def test_the_doctype_scan_finds_exactly_what_a_substring_search_finds(head, pieces):
    """The scan hops from "!" to "<!" for speed; it must refuse exactly the parts that hold "<!DOCTYPE" or "<!ENTITY"."""
    from ledger_xl.xlsxread import ZipRefusal, _refuse_dtd

    data = head + b"".join(pieces)
    try:
        _refuse_dtd(data)
        refused = False
    except ZipRefusal:
        refused = True
    assert refused == (b"<!DOCTYPE" in data or b"<!ENTITY" in data)


_WB_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_WB_OPEN = (b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">')
_NAME_PIECES = [b"<definedName name=\"lx_001\">'\xe5\xa1\xab\xe6\x8a\xa5\xe8\xa1\xa8'!$J$4</definedName>",
                b'<definedName name="lx_002">Sheet!$K$4</definedName>', b'<definedName name="lx_001">Sheet!$A$1</definedName>',
                b'<definedName name="_xlnm.Print_Area" localSheetId="0">Sheet!$A$1:$M$9</definedName>',
                b'<definedName name="local" localSheetId="1">Sheet!$B$2</definedName>', b'<definedName name="sp"> Sheet!$C$3 </definedName>',
                b'<definedName name="ent">&apos;S&apos;!$A$1</definedName>', b'<definedName name="cr">Sheet!$A$1\r\n</definedName>',
                b'<definedName name="hid" hidden="1">Sheet!$D$4</definedName>', b'<definedName name="empty"></definedName>',
                b'<definedName name="tab\tname">Sheet!$E$5</definedName>', b"<definedName name='single'>Sheet!$F$6</definedName>",
                b'<definedName name="ctl">Sheet!\x01$A$1</definedName>', b'<definedName name="cd">a]]>b</definedName>',
                b"<!-- <definedName name=\"hidden\">X!$A$1</definedName> -->", b"<?pi x?>", b"<![CDATA[x]]>", b" ", b"\n"]
_ELSEWHERE = [b"", b"<!-- c -->", b'<extLst><definedNames xmlns="urn:other"><definedName name="far">X!$A$1</definedName></definedNames></extLst>',
              b'<x:definedNames xmlns:x="urn:other"/>', b'<fileVersion appName="definedNames"/>', b"<?pi?>"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([_WB_HEAD, b"\xef\xbb\xbf" + _WB_HEAD, b"", b'<?xml version="1.0" encoding="GBK"?>']),
       st.lists(st.sampled_from(_NAME_PIECES), max_size=8), st.sampled_from(_ELSEWHERE), st.sampled_from(_ELSEWHERE),
       st.booleans(), st.booleans())
@example(_WB_HEAD, [_NAME_PIECES[0], _NAME_PIECES[12]], b"", b"", True, False)  # a control character: not XML
@example(_WB_HEAD, [_NAME_PIECES[13]], b"", b"", True, False)  # "]]>" in text: not XML
@example(_WB_HEAD, [_NAME_PIECES[1]], _ELSEWHERE[2], b"", False, False)  # names only in another namespace
@example(_WB_HEAD, [_NAME_PIECES[1], _NAME_PIECES[14]], b"", b"", True, False)  # a name inside a comment
@example(_WB_HEAD, [_NAME_PIECES[1], _NAME_PIECES[8], _NAME_PIECES[6]], b"", b"", True, False)  # another attribute, an entity
def test_defined_names_read_from_the_bytes_are_what_the_parsed_tree_holds(head, names, before, after, block, prefixed):
    """workbook.xml's names are read by a pattern when they are written plainly (xlsxread._plain_names); whatever
    the file holds, the reader must return exactly what walking the parsed tree returns, or fail as parsing fails."""
    from lxml import etree

    from ledger_xl.xlsxread import NS, XlsxError, _book

    root = (b'<s:workbook xmlns:s="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">') if prefixed else _WB_OPEN
    close = b"</s:workbook>" if prefixed else b"</workbook>"
    sheets = b'<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
    if prefixed:
        sheets = sheets.replace(b"</", b"</s:").replace(b"<sheet", b"<s:sheet")
    body = b"".join(names)
    names_block = (b"<definedNames>" + body + b"</definedNames>") if block else body
    raw = head + root + before + sheets + names_block + after + close
    parts = {"xl/workbook.xml": raw}
    try:
        tree = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True))
    except etree.XMLSyntaxError:
        with pytest.raises((etree.XMLSyntaxError, XlsxError, ValueError)):
            _book(parts)
        return
    expected = {d.get("name", ""): (d.text or "").strip() for d in tree.iterfind("m:definedNames/m:definedName", NS)
                if d.get("localSheetId") is None and not d.get("name", "").startswith("_xlnm")}
    assert _book(parts).defined == expected


def test_plainly_written_names_are_read_from_the_bytes():
    """The fast way is taken for names as the templates write them (else the test above proves nothing of it)."""
    from ledger_xl.xlsxread import _plain_names

    raw = _WB_HEAD + _WB_OPEN + b"<definedNames>" + b"".join(_NAME_PIECES[:6]) + b"</definedNames></workbook>"
    got = _plain_names(raw)
    assert got is not None and got[1] == {"lx_001": "Sheet!$A$1", "lx_002": "Sheet!$K$4", "sp": "Sheet!$C$3"}
    assert b"<definedNames/>" in got[0] and b"lx_001" not in got[0]


def test_calamine_reads_the_workbook_without_its_names_and_the_values_are_the_same(tmp_path):
    """The fast reader gives calamine workbook.xml with an empty <definedNames/> when the names were read from
    its bytes: every value and merged range is still the exact reader's, and the names are all read."""
    import io
    import zipfile

    from ledger_xl.xlsxread import _book, _open_zip

    path = tmp_path / "n.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("表")
    ws.merge_range("B2:D2", "合并")
    for r in range(3, 9):
        ws.write_string(r, 1, f"第{r}行")
        ws.write_number(r, 2, r * 1.5)
        wb.define_name(f"lx_{r:03d}", f"='表'!$C${r + 1}")
    wb.close()
    parts = _open_zip(path)
    book = _book(parts)
    assert book.unnamed is not None and b"lx_003" not in book.unnamed[0] and b"<definedNames/>" in book.unnamed[0]
    assert book.unnamed[1] == zipfile.crc32(book.unnamed[0])
    fast, exact = read_package(path, fast=True), read_package(path)
    assert not fast.exact
    assert dict(fast.sheets["表"].cells) == exact.sheets["表"].cells and fast.sheets["表"].merged == exact.sheets["表"].merged == ["B2:D2"]
    assert fast.defined_names == exact.defined_names and len(fast.defined_names) == 6
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        assert b"lx_003" in z.read("xl/workbook.xml")  # the file itself is untouched


@pytest.mark.parametrize("name,cell,where", [("quoted", "J4", True), ("bare", "J4", True), ("relative", "J4", True),
                                             ("quoted", "J5", False), ("below", "J4", False), ("other", "J4", False),
                                             ("quoted", "not a cell", False), ("absent", "J4", True)])
def test_an_input_cell_is_where_its_defined_name_points_however_the_name_is_written(name, cell, where):
    """The layout check agrees with name_points_at: the form is refused as changed exactly when a field's name
    points elsewhere, however the name is written (a name the file lacks is not asked)."""
    from ledger_xl.ingest import _check_layout, _Refused
    from ledger_xl.layout import FORM_SHEET, TemplateMeta
    from ledger_xl.xlsxread import Package, Sheet, name_points_at

    names = {"quoted": f"'{FORM_SHEET}'!$J$4", "bare": f"{FORM_SHEET}!$J$4", "relative": f"'{FORM_SHEET}'!J4",
             "below": f"{FORM_SHEET}!$J$5", "other": "其他!$J$4"}
    pkg = Package(Path("x.xlsx"), {FORM_SHEET: Sheet(FORM_SHEET, "visible")}, [FORM_SHEET], names, False)
    meta = TemplateMeta("台账", "L1", "单位", "2024H1", "2024-06-01T08:00:00", [], [FieldSpec(name, None, None, "filler", 0, "填报人", "", cell)])
    assert (name not in names or name_points_at(pkg, name, FORM_SHEET, cell)) is where
    if where:
        _check_layout(pkg, pkg.sheets[FORM_SHEET], meta)
    else:
        with pytest.raises(_Refused):
            _check_layout(pkg, pkg.sheets[FORM_SHEET], meta)


# ------------------------------------------------------------------ the zip directory, read as zipfile reads it

_ENTRY_ATTRS = ("filename", "flag_bits", "compress_type", "CRC", "compress_size", "file_size", "header_offset")


def _entries(infos) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return [tuple(getattr(i, a) for a in _ENTRY_ATTRS) for i in infos]


def _zip(parts: list[tuple[str, bytes, bool, bytes]], *, comment: bytes = b"", zip64: bool = False, prefix: bytes = b"") -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    buf.write(prefix)
    with zipfile.ZipFile(buf, "a" if prefix else "w") as zf:
        for name, data, deflate, extra in parts:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            info.extra = extra
            with zf.open(info, "w", force_zip64=zip64) as fh:
                fh.write(data)
        zf.comment = comment
    return buf.getvalue()


NAMES = st.text(alphabet=st.sampled_from("abcxl/_.[]Content_Types填报表éü"), min_size=1, max_size=12).filter(
    lambda n: not n.startswith("/") and not n.endswith("/"))
PARTS = st.lists(st.tuples(NAMES, st.binary(max_size=300), st.booleans(), st.sampled_from([b"", b"\xfe\xca\x00\x00"])),
                 max_size=6, unique_by=lambda p: p[0])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=PARTS, comment=st.sampled_from([b"", b"note"]), zip64=st.booleans(), prefix=st.sampled_from([b"", b"MZ" * 20]))
def test_the_zip_directory_is_what_zipfile_reads_whatever_the_zip_holds(parts, comment, zip64, prefix):
    """The plain directory read in one pass of struct (safety._plain_directory) gives zipfile's entries, and
    what it does not read plainly (a comment, extra fields, zip64 records) it leaves to zipfile."""
    import io
    import zipfile

    from ledger_xl.safety import _plain_directory, zip_directory

    data = _zip(parts, comment=comment, zip64=zip64, prefix=prefix)
    expected = _entries(zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert _entries(zip_directory(data)) == expected
    plain = _plain_directory(data)
    assert plain is None or _entries(plain) == expected
    if comment or any(extra for _, _, _, extra in parts):
        assert plain is None  # left to zipfile
    elif not prefix and not zip64:
        assert plain is not None  # as Excel, WPS and LibreOffice write them: read in one pass


def test_the_zip_directory_of_workbooks_as_excel_and_libreoffice_write_them_is_read_plainly(tmp_path):
    import io
    import zipfile

    from ledger_xl.safety import _plain_directory

    book = tmp_path / "a.xlsx"
    _write(book, {(0, 0): "填报", (1, 1): 3})
    samples = Path(__file__).resolve().parents[1] / "samples"
    for path in [book, *sorted(samples.glob("ledgers/*.xlsx")), *sorted(samples.glob("returns/*/*.xlsx"))[:5]]:
        data = path.read_bytes()
        plain = _plain_directory(data)
        assert plain is not None and _entries(plain) == _entries(zipfile.ZipFile(io.BytesIO(data)).infolist()), path


@pytest.mark.parametrize("cut", [1, 10, 22, 60])
def test_a_cut_zip_is_refused_as_zipfile_refuses_it(tmp_path, cut):
    import zipfile

    from ledger_xl.safety import zip_directory

    book = tmp_path / "a.xlsx"
    _write(book, {(0, 0): "填报"})
    with pytest.raises(zipfile.BadZipFile):
        zip_directory(book.read_bytes()[:-cut])


# ------------------------------------------------------------------ far-flung cells go to the exact reader

_FAR_BEFORE = re.compile(rb' r="(?:[A-Z]{3,}\d|[H-Z][A-Z]\d|[A-Z]{0,2}(?:[5-9]\d{3}|[1-9]\d{4}))')  # the pattern as first written
REFS = st.builds(lambda letters, row: f"{letters}{row}", st.text(alphabet=st.sampled_from("ABGHXZ"), max_size=4),
                 st.one_of(st.integers(0, 120_000), st.integers(1, 99), st.just("")).map(str))


@settings(max_examples=400, deadline=None)
@given(refs=st.lists(REFS, min_size=1, max_size=6), prefix=st.sampled_from(["", "x:"]), closed=st.booleans(),
       after=st.sampled_from(["", '<dataValidations><dataValidation sqref="J4"><x r="XFD1"/></dataValidation></dataValidations>']))
def test_a_far_reference_within_sheetdata_is_found_as_the_plain_search_finds_it(refs, prefix, closed, after):
    """Searched only between the first and last mention of sheetData (or to the end, unclosed), with a lookahead
    ahead of the alternatives: what the pattern as first written finds among the cells, no more, no less."""
    from ledger_xl.xlsxread import _far_refs

    cells = "".join(f'<{prefix}c s="1" r="{r}"><{prefix}v>1</{prefix}v></{prefix}c>' for r in refs)
    body = f'<{prefix}sheetData><{prefix}row r="1">{cells}</{prefix}row>' + (f"</{prefix}sheetData>" if closed else "")
    raw = f'<?xml version="1.0"?><{prefix}worksheet><{prefix}cols><{prefix}col r="1"/></{prefix}cols>{body}{after}'.encode()
    searched = body if closed else body + after  # (unclosed: whatever follows may be read as its cells)
    assert _far_refs(raw) == bool(_FAR_BEFORE.search(searched.encode()))


def test_a_sheet_with_no_sheetdata_has_no_far_reference():
    from ledger_xl.xlsxread import _far_refs

    assert not _far_refs(b'<worksheet><dimension ref="A1:XFD1048576"/></worksheet>')
    assert _far_refs(b'<worksheet><sheetData><row r="5000"><c r="A5000"/></row></sheetData></worksheet>')
