"""A small, strict .xlsx reader on zip + lxml: only the parts ingest needs, nothing executed or resolved.

Why not openpyxl: it is ~20× slower on these small files and hides what a returned file really holds
(formula without a cached value vs. blank, sheet state, workbook protection). Why not calamine: it cannot
see validations, protection or defined names, and aborts the process on absurd sheet extents.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from operator import itemgetter
from pathlib import Path
from typing import Any

from lxml import etree

try:  # zlib-ng inflates these parts ~3× faster than the system's zlib, with the same API (a build of CPython's module)
    from zlib_ng import zlib_ng as _zlib
except ImportError:  # pragma: no cover - a platform without its wheel: the standard module, same results
    _zlib = zlib  # type: ignore[misc]

from .codes import Code
from .safety import MAX_UNCOMPRESSED, ZipEntry, zip_directory, zip_problem

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}
M = f"{{{NS['m']}}}"
R_ID = f"{{{NS['r']}}}id"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)
_REF_RE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
MAX_ROW, MAX_COL = 100_000, 200


# what a bureau is told to do with a workbook that cannot be read
RESAVE = "请用 Excel/WPS 打开后重新保存为 .xlsx，再报送"
_SAVE_AS = {"Excel": "“Excel 工作簿（*.xlsx）”", "Word": "“Word 文档（*.docx）”"}


def resave_advice(kind: str, then: str, fix: str) -> dict[str, str]:
    """The parameters a zip refusal's template fills in (each takes those it names), for a file of this kind
    (Excel or Word) and what its sender does with it once saved again (报送 a return, 提供 a ledger)."""
    return {"fix": fix, "app": f"{kind}/WPS", "format": _SAVE_AS[kind], "then": then}


RETURN_ADVICE = resave_advice("Excel", "报送", RESAVE)


class XlsxError(Exception):
    """The package is not a readable workbook; the message is for the clerk, the code for tests and tools."""

    def __init__(self, code: Code = Code.UNREADABLE, **params: Any) -> None:
        params = {**RETURN_ADVICE, **params}
        super().__init__(code.message(**params))
        self.code = code
        self.params = params


@dataclass(slots=True)
class Cell:
    kind: str  # "n" number, "s" text, "b" bool, "d" date, "t" time or duration as text (fast reader), "e" error,
    # "f" formula with no cached value
    value: object


@dataclass(slots=True)
class Sheet:
    name: str
    state: str  # visible / hidden / veryHidden
    cells: Mapping[str, Cell] = field(default_factory=dict)  # a dict, or GridCells from the fast reader
    merged: list[str] = field(default_factory=list)
    validations: list[dict[str, str]] = field(default_factory=list)
    protected: bool = False


@dataclass(slots=True)
class Package:
    path: Path
    sheets: dict[str, Sheet]
    order: list[str]
    defined_names: dict[str, str]
    structure_locked: bool
    exact: bool = True  # False: values read by calamine; merges, validations and protection not read
    raw: dict[str, bytes] = field(default_factory=dict)  # the read sheets' XML, kept (see exact_cell, percent_cell)
    styles: bytes = b""  # xl/styles.xml, kept (see percent_cell)


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@functools.lru_cache(maxsize=16384)
def split_ref(ref: str) -> tuple[int, int]:
    """(row, column), both from 1; cached, since every file of a ledger names the same cells."""
    m = _REF_RE.match(ref)
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), col_index(m.group(1))


Parts = dict[str, bytes]  # a package's XML parts, inflated and checked by inflate_parts


def _xml(parts: Parts, name: str) -> etree._Element:
    return etree.fromstring(parts[name], _PARSER)


def _rels(parts: Parts, part: str) -> dict[str, str]:
    base, name = posixpath.split(part)
    rels_name = posixpath.join(base, "_rels", name + ".rels")
    if rels_name not in parts:
        return {}
    return {rel.get("Id", ""): _target(base, rel.get("Target", "")) for rel in _xml(parts, rels_name).iterfind("pr:Relationship", NS)}


@functools.lru_cache(maxsize=1024)
def _target(base: str, target: str) -> str:
    """A relationship's target as a part name (cached: every workbook names the same few parts)."""
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))


_OOXML_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """OOXML's _xHHHH_ escapes (how Excel stores control characters; _x005F_ is a literal underscore)."""
    return _OOXML_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _shared_strings(parts: Parts, rels: dict[str, str]) -> list[str]:
    part = next((t for t in rels.values() if t.endswith("sharedStrings.xml")), "xl/sharedStrings.xml")
    if part not in parts:
        return []
    out = []
    for si in _xml(parts, part).iterfind("m:si", NS):
        # plain text, or rich text runs; phonetic runs (rPh) are not part of the value
        out.append(unescape("".join(t.text or "" for t in si.iter(M + "t") if t.getparent().tag != M + "rPh")))
    return out


def read_package(path: Path, *, sheets: set[str] | None = None, fast: bool = False, data: bytes | None = None) -> Package:
    """Read a workbook: structure, defined names, and the cells of the named sheets (all when None).

    With `data`, the workbook is read from those bytes (already in memory) and `path` only names it.

    fast=True reads cell values with python-calamine (several times faster) when that is safe and
    exact: the sheets' raw XML is scanned first, and a cell beyond sane limits is refused before
    calamine sees it (calamine aborts the process on absurd extents), while a sheet holding any formula
    or error cell is read by the lxml reader, which tells those from blanks.
    """
    try:
        if fast:
            pkg = _read_fast(path, sheets, data)
            if pkg is not None:
                return pkg
        return _read_package(path, sheets, data)
    except XlsxError:
        raise
    except Exception as e:  # zip, zlib, XML and calamine errors of a damaged file
        if type(e).__name__ == "PasswordError":
            raise XlsxError(Code.ENCRYPTED, problem="文件设置了打开密码") from e
        raise XlsxError(Code.CORRUPT, problem=f"文件已损坏，无法读取（{type(e).__name__}）") from e


# a cell or row reference far beyond anything a template uses, which calamine would allocate the whole extent
# up to: a column from HA (209) on, or a row from 5000 on; found in any element with any prefix and in any
# attribute order (`<c s="1" r="XFD9">`, `<x:c r=…>`), and wherever the row stands in the sheet, not only last
# (the lookahead, which every far reference meets, rejects the usual J45 in fewer steps: the search makes one attempt
# at each of a sheet's ~800 references)
_FAR_REF_RE = re.compile(rb' r="(?=[A-Z0-9]{4}|[H-Z][A-Z])(?:[A-Z]{3,}\d|[H-Z][A-Z]\d|[A-Z]{0,2}(?:[5-9]\d{3}|[1-9]\d{4}))')
CALAMINE_TEXT_LIMIT = 32767


def _far_refs(raw: bytes) -> bool:
    """Whether a sheet's XML holds a far-flung cell or row reference (_FAR_REF_RE). Cells are read only within
    sheetData (by calamine and by the exact reader alike), so only the bytes from the first mention of
    "sheetData" to the last are searched, or to the end when it is named once (an unclosed block); none when
    it is never named. In a template that is a third of the sheet: its data validations, each with its prompt,
    are most of the rest."""
    first = raw.find(b"sheetData")
    if first < 0:
        return False
    last = raw.rfind(b"sheetData")
    return _FAR_REF_RE.search(raw, first, last if last > first else len(raw)) is not None


def _open_zip(path: Path, data: bytes | None = None, crcs: dict[str, int] | None = None) -> Parts:
    """The package's XML parts: the directory checked for bombs, then every part inflated here within the
    budget and checked (declared sizes and CRCs, DOCTYPE in any encoding, macros, external links).

    `crcs`, when given, receives each part's CRC-32 (checked against its bytes), for stored_package."""
    if data is None:
        data = Path(path).read_bytes()
    try:
        infos = zip_directory(data)
    except (zipfile.BadZipFile, OSError) as e:
        raise XlsxError(Code.CORRUPT, problem="文件已损坏（压缩包不完整）") from e
    problem = zip_problem(infos)
    if problem:
        raise XlsxError(Code.ZIP_BOMB, problem=problem)
    try:
        parts = inflate_parts(data, infos, MAX_UNCOMPRESSED)
    except ZipRefusal as e:
        raise XlsxError(e.code, **e.params) from e
    if "xl/workbook.xml" not in parts:
        raise XlsxError(problem="不是 Excel 工作簿（缺少 xl/workbook.xml）")
    if crcs is not None:
        crcs.update((i.filename, i.CRC) for i in infos)
    return parts


@dataclass(slots=True)
class _Book:
    order: list[str]
    states: dict[str, str]
    targets: dict[str, str]
    defined: dict[str, str]
    locked: bool
    rels: dict[str, str]
    # workbook.xml with an empty <definedNames/> in place of its plain names, and its CRC-32: what calamine is
    # given (it reads values, never names, and parsing ~150 names was a fifth of its opening); None: not plain
    unnamed: tuple[bytes, int] | None = None


_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def _book(parts: Parts) -> _Book:
    """Sheet names, states and parts, defined names and structure protection, from xl/workbook.xml.

    Every return of one template has the same workbook.xml (its sheets and defined names) whatever the
    period, so what they say is worked out once per process for those bytes (see _book_of) and copied."""
    book = _book_of(parts["xl/workbook.xml"], parts.get(_WORKBOOK_RELS))
    return _Book(list(book.order), dict(book.states), dict(book.targets), dict(book.defined), book.locked, dict(book.rels),
                 book.unnamed)


@functools.lru_cache(maxsize=128)
def _book_of(raw: bytes, rels_raw: bytes | None) -> _Book:
    """What workbook.xml (`raw`) and its relationships (`rels_raw`, None when absent) say: a function of those
    bytes alone, cached by them (a damaged one raises, and is not cached)."""
    parts = {"xl/workbook.xml": raw} if rels_raw is None else {"xl/workbook.xml": raw, _WORKBOOK_RELS: rels_raw}
    plain = _plain_names(raw)
    wb = etree.fromstring(plain[0], _PARSER) if plain is not None else _xml(parts, "xl/workbook.xml")
    rels = _rels(parts, "xl/workbook.xml")
    order: list[str] = []
    states: dict[str, str] = {}
    targets: dict[str, str] = {}
    for s in wb.iterfind("m:sheets/m:sheet", NS):
        name = s.get("name", "")
        order.append(name)
        states[name] = s.get("state", "visible")
        targets[name] = rels.get(s.get(R_ID, ""), "")
    unnamed = None
    if plain is not None and _names_placed_plainly(wb):
        defined, unnamed = plain[1], (plain[0], _zlib.crc32(plain[0]))
    else:
        if plain is not None:  # the names' block was not where the tree looks for them: read the whole of it
            wb = _xml(parts, "xl/workbook.xml")
        defined = {d.get("name", ""): (d.text or "").strip() for d in wb.iterfind("m:definedNames/m:definedName", NS)
                   if d.get("localSheetId") is None and not d.get("name", "").startswith("_xlnm")}
    locked = any(p.get("lockStructure") in ("1", "true") for p in wb.iterfind("m:workbookProtection", NS))
    return _Book(order, states, targets, defined, locked, rels, unnamed)


# Defined names read from workbook.xml's bytes. A template holds ~150 names, and parsing them into the tree and
# walking it (a Python object made for each element) was most of the cost of reading workbook.xml. When the
# names are written plainly, the <definedNames> block is read by one pattern and the parser is given the rest
# of the file with an empty <definedNames/> in its place; anything else is parsed whole, as before.
# one plain <definedName>: a name and text without an entity, a carriage return or a character XML forbids
# (which the parser would change or refuse), perhaps a localSheetId
_NOT_XML = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff"
_PLAIN_NAME = re.compile(f'<definedName name="([^"<&\\t\\n\\r{_NOT_XML}]*)"( localSheetId="[0-9]+")?>([^<&\\r{_NOT_XML}]*)</definedName>')
_PLAIN_NAME_FIXED = len('<definedName name="">') + len("</definedName>")  # the characters of a match outside its groups


def _plain_names(raw: bytes) -> tuple[bytes, dict[str, str]] | None:
    """(workbook.xml with an empty <definedNames/> in place of its block, the workbook-level names in it), when
    its bytes say exactly what the parser would make of them; None when the whole file must be parsed.

    Plain: no comment, CDATA section or processing instruction but the XML declaration (which could hide or
    fake markup); UTF-8; "definedNames" written exactly twice, as the block's bare start and end tags; and
    between them nothing but plain <definedName> elements (see _PLAIN_NAME), and no "]]>"."""
    head = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if not head.startswith(_UTF8_DECLARED) or b"<!--" in raw or b"<![CDATA[" in raw or raw.count(b"<?") != 1:
        return None
    if raw.count(b"definedNames") != 2:
        return None
    start, end = raw.find(b"<definedNames>"), raw.find(b"</definedNames>")
    if start < 0 or end < start:
        return None
    try:
        block = raw[start + len(b"<definedNames>") : end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    found = _PLAIN_NAME.findall(block)
    # the matches, end to end, are the whole block: nothing else in it (findall skips what does not match)
    if "]]>" in block or len(found) * _PLAIN_NAME_FIXED + sum(len(x) + len(y) + len(z) for x, y, z in found) != len(block):
        return None
    if "localSheetId" in block or "_xlnm" in block:
        names = {name: text.strip() for name, local, text in found if not local and not name.startswith("_xlnm")}
    else:  # (the templates': every name workbook-level)
        names = dict(zip(map(itemgetter(0), found), map(str.strip, map(itemgetter(2), found)), strict=True))
    return raw[:start] + b"<definedNames/>" + raw[end + len(b"</definedNames>") :], names


def _names_placed_plainly(wb: etree._Element) -> bool:
    """Whether the empty <definedNames/> left in place of the block is the workbook's own (a child of the root in
    SpreadsheetML's namespace): then its names, which carry no namespace of their own, are the ones the tree
    would have found."""
    return wb.tag == M + "workbook" and wb.find(M + "definedNames") is not None


def _read_fast(path: Path, sheets: set[str] | None, data: bytes | None = None) -> Package | None:
    """Values through calamine, or None when the exact reader must be used."""
    import python_calamine

    path = Path(path)
    if data is None:
        data = path.read_bytes()
    crcs: dict[str, int] = {}
    parts = _open_zip(path, data, crcs)
    book = _book(parts)
    order, states, targets, defined, locked = book.order, book.states, book.targets, book.defined, book.locked
    wanted = [n for n in order if sheets is None or n in sheets]
    raws: dict[str, bytes] = {}
    for name in wanted:
        raw = parts.get(targets[name])
        if raw is None:
            raise XlsxError(problem=f"工作表“{name}”的内容缺失")
        if _far_refs(raw):
            return None  # far-flung cells, for which calamine would allocate the whole extent: read exactly
        raws[name] = raw
    # calamine reads the parts inflated and checked above, not the file: a package of them stored uncompressed
    # (workbook.xml without its names, when they were read from its bytes: calamine reads values, not names)
    # (and neither the theme nor the document's properties: calamine reads no values there, and opened them, ~8 µs)
    given = {k: v for k, v in parts.items() if not k.startswith(_NOT_FOR_CALAMINE)}
    if book.unnamed is not None:
        given["xl/workbook.xml"] = book.unnamed[0]
        crcs["xl/workbook.xml"] = book.unnamed[1]
    calamine = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(stored_package(given, crcs)))
    # a text calamine gives comes from one part (shared strings or the sheet), each character written in at least
    # one byte: when no part is as long as the limit, no text can be, and the grid need not be searched for one
    may_reach_limit = max(map(len, given.values())) >= CALAMINE_TEXT_LIMIT
    result: dict[str, Sheet] = {n: Sheet(n, states[n]) for n in order}
    for name in wanted:
        sheet = calamine.get_sheet_by_name(name)
        result[name].merged = [f"{COLUMN_LETTERS[a[1] + 1]}{a[0] + 1}:{COLUMN_LETTERS[b[1] + 1]}{b[0] + 1}"
                               for a, b in (sheet.merged_cell_ranges or [])]
        rows: list[list[Any]] = sheet.to_python(skip_empty_area=False)  # the grid starts at A1
        if may_reach_limit and any(type(v) is str and len(v) >= CALAMINE_TEXT_LIMIT for row in rows for v in row):
            return None  # calamine cuts a text at Excel's cell limit without a word: the exact reader keeps it whole
        result[name].cells = GridCells(rows)
    return Package(path, result, order, defined, locked, exact=False, raw=raws, styles=_styles_part(parts, book))


_NOT_FOR_CALAMINE = ("xl/theme/", "docProps/")
_STORED_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_STORED_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_STORED_END = struct.Struct("<4sHHHHIIH")


def stored_package(parts: Parts, crcs: Mapping[str, int] | None = None) -> bytes:
    """A zip of these parts, stored (not compressed), for calamine: it then reads exactly the bytes the guards
    checked, and none is inflated twice (each part was inflated once, by inflate_parts). `crcs`: each part's
    CRC-32 when known already (inflate_parts checked it), else computed here."""
    body: list[bytes] = []
    central: list[bytes] = []
    at = 0
    local, entry = _STORED_LOCAL.pack, _STORED_CENTRAL.pack
    for name, content in parts.items():
        raw = name.encode("utf-8")
        crc = crcs[name] if crcs is not None else _zlib.crc32(content)
        size, n = len(content), len(raw)
        # version 2.0; flag 0x800: the name is UTF-8; method 0: stored; time 00:00, date 1980-01-01
        body += (local(b"PK\x03\x04", 20, 0x800, 0, 0, 0x21, crc, size, size, n, 0), raw, content)
        central += (entry(b"PK\x01\x02", 20, 20, 0x800, 0, 0, 0x21, crc, size, size, n, 0, 0, 0, 0, 0, at), raw)
        at += _STORED_LOCAL.size + n + size
    directory = sum(map(len, central))
    return b"".join([*body, *central, _STORED_END.pack(b"PK\x05\x06", 0, 0, len(parts), len(parts), directory, at, 0)])


class GridCells(Mapping[str, Cell]):
    """A sheet's values as calamine returns them (rows from A1), made into Cells only when looked up.

    Ingest looks at the locked and the input cells of a form, a small part of its grid; building every
    cell up front was a third of the reading time.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: Sequence[Sequence[object]]) -> None:
        self.rows = rows

    def get(self, ref: str, default: Cell | None = None) -> Cell | None:  # type: ignore[override]
        try:
            return _cell_of(self.raw(ref)) or default
        except ValueError:  # not a cell reference
            return default

    def raw(self, ref: str) -> object:
        """The value as calamine gave it ("" when blank or outside the grid), without making a Cell."""
        r, c = split_ref(ref)
        rows = self.rows
        return rows[r - 1][c - 1] if 0 < r <= len(rows) and 0 < c <= len(rows[r - 1]) else ""

    def __getitem__(self, ref: str) -> Cell:
        cell = self.get(ref)
        if cell is None:
            raise KeyError(ref)
        return cell

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and self.get(ref) is not None

    def __iter__(self) -> Iterator[str]:
        for ri, row in enumerate(self.rows):
            for ci, value in enumerate(row):
                if value != "" and value is not None:
                    yield f"{COLUMN_LETTERS[ci + 1]}{ri + 1}"

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return any(v != "" and v is not None for row in self.rows for v in row)


def _cell_of(value: object) -> Cell | None:
    """A calamine value as a Cell: blank is None; a time or duration is kind "t", its text as shown (3:01)."""
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        return Cell("s", value)
    if isinstance(value, bool):
        return Cell("b", value)
    if isinstance(value, int | float):
        return Cell("n", float(value))
    if isinstance(value, dt.datetime | dt.date):
        return Cell("d", value)
    if isinstance(value, dt.time | dt.timedelta):
        return Cell("t", _time_text(value))
    return Cell("s", str(value))


def _time_text(value: dt.time | dt.timedelta) -> str:
    """A time (3:01) or a duration in hours (25:01), seconds only when there are any: how a person typed it."""
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
    else:
        seconds = round(value.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    h, m, s = seconds // 3600, seconds % 3600 // 60, seconds % 60
    return f"{sign}{h}:{m:02d}:{s:02d}" if s else f"{sign}{h}:{m:02d}"


def exact_cell(pkg: Package, sheet: str, ref: str) -> Cell | None:
    """What a cell the fast reader saw as blank really holds: a formula with no result, an error, or nothing.

    calamine reports all three as blank; the cell's own XML tells them apart.
    """
    cell = pkg.sheets[sheet].cells.get(ref)
    if pkg.exact or cell is not None or sheet not in pkg.raw:
        return cell
    xml = _raw_cell(pkg.raw[sheet], ref)
    if not xml:
        return None
    if b"<f" in xml and not re.search(rb"<v>[^<]+</v>", xml):  # a formula with no cached result (or an empty one)
        m = _FORMULA_RE.search(xml)
        return Cell("f", _xml_text(m.group(1)) if m else "")  # the formula as typed, kept for the annotated copy
    if b't="e"' in xml:
        m = re.search(rb"<v>([^<]*)</v>", xml)
        return Cell("e", m.group(1).decode() if m else "#ERROR")
    return None


_FORMULA_RE = re.compile(rb"<f(?:\s[^>]*)?>([^<]*)</f>")  # a cell's formula in its raw XML


def _raw_cell(raw: bytes, ref: str) -> bytes:
    """The <c> element of `ref` in a sheet's XML, as bytes ("" when the sheet has none)."""
    at = raw.find(f'<c r="{ref}"'.encode())
    if at < 0:
        return b""
    end = raw.find(b"</c>", at)
    close = raw.find(b"/>", at)
    stop = min(x for x in (end + 4 if end >= 0 else len(raw), close + 2 if close >= 0 else len(raw)))
    return raw[at:stop]


def cell_formula(pkg: Package, sheet: str, ref: str) -> str | None:
    """The formula a cell holds, as typed without its "=" ("问题" where "=问题" was typed and shows #NAME?), when
    the fast reader kept the sheet's XML; None otherwise. Read for the few cells that show an error."""
    m = _FORMULA_RE.search(_raw_cell(pkg.raw.get(sheet, b""), ref))
    return _xml_text(m.group(1)) if m else None


def percent_cell(pkg: Package, sheet: str, ref: str) -> bool:
    """Whether a number cell is shown as a percentage. Excel, WPS and LibreOffice keep "15%" typed into a plain
    cell as 0.15 and give the cell a percentage format: only the cell's style tells what was typed. Looked up
    in the sheet's XML, for the few cells where it matters (see ingest._read_fields)."""
    xml = _raw_cell(pkg.raw.get(sheet, b""), ref)
    m = _STYLE_RE.search(xml, 0, xml.find(b">"))
    return m is not None and int(m.group(1)) in _percent_styles(pkg.styles)


_STYLE_RE = re.compile(rb'\ss="(\d{1,9})"')  # a cell's style, in its start tag
_QUOTED_RE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # a number format's literal text, escapes and [colour] or [condition]


@functools.lru_cache(maxsize=64)
def _percent_styles(styles: bytes) -> frozenset[int]:
    """The cell styles (indexes into cellXfs) whose number format shows a percentage: the built-in 0% and 0.00%
    (9, 10), or a format of the workbook's own with % outside its quoted text. Empty when styles cannot be read."""
    try:
        root = etree.fromstring(styles, _PARSER) if styles else None
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return frozenset()
    codes = {n.get("numFmtId", ""): n.get("formatCode", "") for n in root.iterfind("m:numFmts/m:numFmt", NS)}
    percent = {i for i, code in codes.items() if "%" in _QUOTED_RE.sub("", code)} | {"9", "10"}
    return frozenset(k for k, xf in enumerate(root.iterfind("m:cellXfs/m:xf", NS)) if xf.get("numFmtId", "0") in percent)


def _xml_text(raw: bytes) -> str:
    """Element text taken from raw XML bytes: the five predefined entities and character references."""
    import html

    return html.unescape(raw.decode("utf-8", "replace"))


def _read_package(path: Path, sheets: set[str] | None, data: bytes | None = None) -> Package:
    """Read workbook structure and the cells of the named sheets (all when None).

    The zip's directory is checked first (part count, sizes, compression ratio), so a bomb is refused
    before anything is decompressed; then every part is inflated within the budget and checked (see
    inflate_parts).
    """
    path = Path(path)
    parts = _open_zip(path, data)
    try:
        book = _book(parts)
        strings = _shared_strings(parts, book.rels)
    except (etree.XMLSyntaxError, KeyError) as e:
        raise XlsxError(problem="工作簿结构已损坏") from e
    result = {n: Sheet(n, book.states[n]) for n in book.order}
    raws: dict[str, bytes] = {}
    for name in book.order:
        if sheets is not None and name not in sheets:
            continue
        target = book.targets[name]
        if target not in parts:
            raise XlsxError(problem=f"工作表“{name}”的内容缺失")
        try:
            _read_sheet(parts, target, result[name], strings)
        except etree.XMLSyntaxError as e:
            raise XlsxError(problem=f"工作表“{name}”已损坏") from e
        raws[name] = parts[target]
    return Package(path, result, book.order, book.defined, book.locked, raw=raws, styles=_styles_part(parts, book))


def _styles_part(parts: Parts, book: _Book) -> bytes:
    """The workbook's styles part (where its relationships say, else where Excel puts it), or b"" when it has none."""
    name = next((t for t in book.rels.values() if t.endswith("styles.xml")), "xl/styles.xml")
    return parts.get(name, b"")


C_TAG, V_TAG, F_TAG, IS_TAG, T_TAG = M + "c", M + "v", M + "f", M + "is", M + "t"
X14_DV = "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}dataValidation"
XM_SQREF = "{http://schemas.microsoft.com/office/excel/2006/main}sqref"


def _read_sheet(parts: Parts, part: str, sheet: Sheet, strings: list[str]) -> None:
    """A sheet exactly: its extent checked, its cells, merges, protection and validations."""
    root = _xml(parts, part)
    dim = root.find(M + "dimension")
    if dim is not None:
        last = dim.get("ref", "A1").split(":")[-1]
        try:
            r, c = split_ref(last)
        except ValueError:
            r, c = 1, 1
        if r > MAX_ROW * 10 or c > 16384:
            raise XlsxError(Code.ABSURD_EXTENT, problem=f"工作表“{sheet.name}”的范围异常（{last}）")
    cells: dict[str, Cell] = {}
    sheet.cells = cells
    data = root.find(M + "sheetData")
    for c in data.iter(C_TAG) if data is not None else ():
        ref = c.get("r")
        if ref is None:
            continue
        m = _REF_RE.match(ref)
        if m is None or int(m.group(2)) > MAX_ROW or col_index(m.group(1)) > MAX_COL:
            raise XlsxError(Code.ABSURD_EXTENT, problem=f"工作表“{sheet.name}”在很远的位置（{ref}）有内容，不像是在模板中填写的。"
                            "请删除多余内容，或使用下发的原模板重新填写")
        cell = _cell_xml(c, strings, sheet.name, ref)
        if cell is not None:
            cells[ref] = cell
    _sheet_rules(root, sheet)


def _cell_xml(c: etree._Element, strings: list[str], sheet: str, ref: str) -> Cell | None:
    """One <c> element as a Cell: text, number, bool, error, or a formula with no cached value; None when blank."""
    t = c.get("t", "n")
    v = f = is_ = None
    for child in c:
        tag = child.tag
        if tag == V_TAG:
            v = child
        elif tag == F_TAG:
            f = child
        elif tag == IS_TAG:
            is_ = child
    if t == "inlineStr":
        return Cell("s", unescape("".join(x.text or "" for x in is_.iter(T_TAG))) if is_ is not None else "")
    if v is None or v.text is None:
        return Cell("f", f.text or "") if f is not None else None
    if t == "s":
        try:
            return Cell("s", strings[int(v.text)])
        except (ValueError, IndexError) as e:
            raise XlsxError(problem=f"工作表“{sheet}”单元格 {ref} 引用了不存在的文字") from e
    if t == "str":
        return Cell("s", unescape(v.text))
    if t == "b":
        return Cell("b", v.text.strip() in ("1", "true"))
    if t == "e":
        return Cell("e", v.text)
    try:
        return Cell("n", float(v.text))
    except ValueError:
        return Cell("e", v.text)


def _sheet_rules(root: etree._Element, sheet: Sheet) -> None:
    """Merged ranges, sheet protection and data validations (the classic ones and Excel's x14 list ones)."""
    merges = root.find(M + "mergeCells")
    sheet.merged = [m.get("ref", "") for m in merges] if merges is not None else []
    prot = root.find(M + "sheetProtection")
    sheet.protected = prot is not None and prot.get("sheet") in ("1", "true")
    dvs = root.find(M + "dataValidations")
    for dv in dvs if dvs is not None else ():
        f1 = dv.find(M + "formula1")
        sheet.validations.append({"sqref": dv.get("sqref", ""), "type": dv.get("type", ""),
                                  "formula1": f1.text if f1 is not None and f1.text else ""})
    ext = root.find(M + "extLst")
    if ext is not None:  # list validations Excel writes into the x14 extension
        for dv in ext.iter(X14_DV):
            sq = dv.find(XM_SQREF)
            sheet.validations.append({"sqref": sq.text if sq is not None and sq.text else "", "type": dv.get("type", ""), "formula1": ""})


def name_points_at(pkg: Package, name: str, sheet: str, cell: str) -> bool:
    """Whether a defined name refers to exactly this cell (as Excel, WPS or LibreOffice write it)."""
    ref = pkg.defined_names.get(name)
    if ref is None:
        return False
    try:
        written = absolute_refs(sheet, cell)
    except ValueError:
        return False
    return ref in written or resolve_name(pkg, name) == (sheet, cell)


@functools.lru_cache(maxsize=16384)
def absolute_refs(sheet: str, cell: str) -> tuple[str, str]:
    """The usual ways a defined name writes one cell, '表'!$J$4 and 表!$J$4 (cached: every form of a
    ledger names the same cells, ~55 a file)."""
    r, c = split_ref(cell)
    target = f"${COLUMN_LETTERS[c]}${r}"
    return f"'{sheet}'!{target}", f"{sheet}!{target}"


def resolve_name(pkg: Package, name: str) -> tuple[str, str] | None:
    """A defined name's (sheet, cell) when it points at a single cell."""
    ref = pkg.defined_names.get(name)
    if not ref:
        return None
    m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]{1,3})\$?(\d+)", ref.replace("''", "'"))
    if not m:
        return None
    return m.group(1), f"{m.group(2)}{m.group(3)}"


def by_column(refs: Iterable[str]) -> dict[int, list[tuple[int, str]]]:
    """Cell references grouped by column, as (row, ref): for asking which of them a range covers."""
    out: dict[int, list[tuple[int, str]]] = {}
    for ref in refs:
        r, c = split_ref(ref)
        out.setdefault(c, []).append((r, ref))
    return out


def cells_within(rng: str, columns: dict[int, list[tuple[int, str]]]) -> list[str]:
    """Which of the cells indexed by `by_column` lie inside the range "A1:C3", without listing the range's cells."""
    a, _, b = rng.partition(":")
    (r1, c1), (r2, c2) = split_ref(a), split_ref(b or a)
    return [ref for c in range(c1, min(c2, MAX_COL) + 1) for r, ref in columns.get(c, ()) if r1 <= r <= r2]


_AZ = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# a column's letters by its number (from 1), A … XFD: made as the products of A–Z, six times faster at import
# than spelling each number out
COLUMN_LETTERS = ["", *_AZ, *map("".join, product(_AZ, repeat=2)), *map("".join, product(_AZ, repeat=3))][:16385]


# ---------------------------------------------------------------- inflating within a budget

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_INFLATE_CHUNK = 1 << 16
_XML_HEADS = (b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\x00\x00\x00<", b"\x00<")
MACRO_PARTS = ("vbaproject", "vbadata", "macrosheets/", "activex/")
# encodings in which "<!DOCTYPE" can only be written as those ASCII bytes (not UTF-7, EBCDIC, or UTF-16 declared
# by a file whose first bytes say otherwise)
_ASCII_LIKE = frozenset({"utf-8", "ascii", "latin-1", "gbk", "gb2312", "gb18030", "big5", "big5hkscs", "euc_jp", "shift_jis",
                         "euc_kr", "koi8-r"} | {f"iso8859-{i}" for i in range(1, 17)} | {f"cp{i}" for i in range(1250, 1259)})
_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_UTF8_DECLARED = b'<?xml version="1.0" encoding="UTF-8"'  # what _ENCODING_RE would find as UTF-8, said at once


class ZipRefusal(Exception):
    """A package refused before any parser sees it; `code` says why, the message is for the clerk."""

    def __init__(self, code: Code, problem: str = "", **params: str) -> None:
        super().__init__(problem or code.value)
        self.code, self.params = code, {"problem": problem, **params} if problem else params


def inflate_parts(data: bytes | memoryview, infos: Sequence[ZipEntry], budget: int) -> dict[str, bytes]:
    """Every part inflated here, with zlib and a byte budget, before any native reader sees the file; the
    XML ones (by name or by their first bytes) returned, each checked for DOCTYPE/ENTITY in its encoding.

    Each part must inflate to exactly the size and CRC its directory entry declares, from the compressed
    bytes it declares, and its stream must end there: then no reader, however it reads the zip (calamine
    inflates a whole stream whatever the directory says), can get more out of it than was checked here.
    A part saying more than the budget is refused without inflating it; one that keeps going is stopped at
    its declared size plus one byte. Macro parts and links to other workbooks are refused by name.
    """
    view = memoryview(data)
    total = 0
    xml: dict[str, bytes] = {}
    if len({i.filename.lower() for i in infos}) != len(infos):  # two parts of one name: readers may take either
        raise ZipRefusal(Code.CORRUPT, "文件内部结构异常（有重名的部件），不像是 Excel/WPS 保存的文件，已拒收")
    for info in infos:
        _refuse_by_name(info.filename)
        if info.flag_bits & 0x1:
            raise ZipRefusal(Code.ENCRYPTED, "文件设置了密码（部件已加密）")
        total += info.file_size
        if total > budget:
            raise ZipRefusal(Code.ZIP_BOMB, "解压后异常庞大")
        body = _part_body(view, info)
        out = _checked_part(body, info)
        if out is not None:
            xml[info.filename] = out
    return xml


# Parts inflated and checked before, by their name, directory entry and compressed bytes, with what they inflated to
# (None: not XML). Most of a return's parts are the same bytes in every return of a batch — the theme, the content
# types, the relationships, the instructions sheet, the styles of a template — and the same compressed bytes under the
# same entry inflate to the same checked part: found here (the bytes compared whole, never by a checksum alone), they
# are not inflated and searched again. At most _VERIFIED_MAX parts of at most _VERIFIED_BYTES each are kept, the least
# recently met dropped; only parts that passed every check are.
_VERIFIED: dict[tuple[str, int, int, int, int], tuple[bytes, bytes | None]] = {}
_VERIFIED_MAX = 64
_VERIFIED_BYTES = 1 << 16


def _checked_part(body: memoryview, info: ZipEntry) -> bytes | None:
    """A part inflated and checked (declared size and CRC, and DOCTYPE when it is XML): its bytes when it is XML,
    None when it is not; a refusal when a check fails."""
    key = (info.filename, info.compress_type, info.CRC, info.file_size, info.compress_size)
    seen = _VERIFIED.pop(key, None)
    if seen is not None and seen[0] == body:
        _VERIFIED[key] = seen  # the most recently met, last
        return seen[1]
    out = _inflate(body, info)
    if not _looks_like_xml(info.filename, out[:8]):
        checked = None
    else:
        _refuse_dtd(out)
        checked = out
    if info.file_size <= _VERIFIED_BYTES:
        if len(_VERIFIED) >= _VERIFIED_MAX:
            del _VERIFIED[next(iter(_VERIFIED))]
        _VERIFIED[key] = (bytes(body), checked)
    return checked


_MACRO_RE = re.compile("|".join(map(re.escape, MACRO_PARTS)))


def _refuse_by_name(name: str) -> None:
    low = name.lower()
    if _MACRO_RE.search(low):
        what = "VBA 宏" if "vba" in low else "宏表" if "macrosheets/" in low else "ActiveX 控件"
        raise ZipRefusal(Code.MACRO, what=what)
    if "externallinks/" in low:
        raise ZipRefusal(Code.EXTERNAL_LINK)


def _part_body(view: memoryview, info: ZipEntry) -> memoryview:
    """A part's compressed bytes: from after its local header, as many as its directory entry declares."""
    at = info.header_offset
    head = bytes(view[at : at + _LOCAL_HEADER.size])
    if len(head) < _LOCAL_HEADER.size:
        raise ZipRefusal(Code.CORRUPT, "文件已损坏（压缩包不完整）")
    sig, _v, _flags, _method, _t, _d, _crc, _csize, _usize, n_name, n_extra = _LOCAL_HEADER.unpack(head)
    if sig != b"PK\x03\x04":
        raise ZipRefusal(Code.CORRUPT, "文件已损坏（压缩包不完整）")
    start = at + _LOCAL_HEADER.size + n_name + n_extra
    if start + info.compress_size > len(view):
        raise ZipRefusal(Code.CORRUPT, "文件已损坏（压缩包不完整）")
    return view[start : start + info.compress_size]


def _inflate(body: memoryview, info: ZipEntry) -> bytes:
    """The part's bytes, or a refusal when they are not exactly what its directory entry declares."""
    size = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        out = bytes(body)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        d = _zlib.decompressobj(-15)
        pieces: list[bytes] = []
        n, pos = 0, 0
        pending: bytes | memoryview = b""
        while not d.eof:
            if not pending:
                if pos >= len(body):
                    break
                pending, pos = body[pos : pos + _INFLATE_CHUNK], pos + _INFLATE_CHUNK
            try:
                piece = d.decompress(pending, size - n + 1)
            except (zlib.error, getattr(_zlib, "error", zlib.error)) as e:  # (zlib-ng's stub types its error wrongly)
                raise ZipRefusal(Code.CORRUPT, "文件已损坏（压缩数据有误）") from e
            pending = d.unconsumed_tail
            n += len(piece)
            if n > size:
                raise ZipRefusal(Code.ZIP_BOMB, "内部声明的大小与实际内容不符")
            pieces.append(piece)
        if not d.eof:
            raise ZipRefusal(Code.CORRUPT, "文件已损坏（压缩数据不完整）")
        out = b"".join(pieces)
    else:
        raise ZipRefusal(Code.CORRUPT, "文件使用了不支持的压缩方式，不像是 Excel/WPS 保存的文件")
    if len(out) != size or _zlib.crc32(out) != info.CRC:
        raise ZipRefusal(Code.CORRUPT, "文件内部声明的大小或校验码与实际内容不符（文件已损坏或经过特殊构造），已拒收")
    return out


def _looks_like_xml(name: str, head: bytes) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml")) or head.lstrip(b" \t\r\n").startswith(_XML_HEADS)


def xml_text_for_check(data: bytes) -> bytes | str:
    """What to search for a DOCTYPE: the bytes when the part is in an ASCII-compatible encoding, else the
    decoded text (UTF-16/32 by BOM, by the pattern of "<?" or by declaration); refused when it cannot be
    decoded or names an encoding in which "<!DOCTYPE" would not be written in ASCII (UTF-7, EBCDIC…)."""
    if data.startswith(_UTF8_DECLARED):  # how Excel, WPS and LibreOffice begin every part: nothing more to decide
        return data
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
                     (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                     (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
                     (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be")):
        if data.startswith(bom):
            if enc == "utf-8":
                break
            try:
                return data.decode(enc)
            except UnicodeDecodeError as e:
                raise ZipRefusal(Code.XML_ENCODING, "编码有误") from e
    m = _ENCODING_RE.match(data.lstrip(codecs.BOM_UTF8))
    if m:
        enc = m.group(1).decode("ascii").lower()
        try:
            ascii_like = codecs.lookup(enc).name in _ASCII_LIKE
        except LookupError:
            ascii_like = False
        if not ascii_like:
            raise ZipRefusal(Code.XML_ENCODING, f"使用了不支持的编码（{enc}）")
    return data


def _refuse_dtd(data: bytes) -> None:
    text = xml_text_for_check(data)
    if isinstance(text, str):
        found = "<!DOCTYPE" in text or "<!ENTITY" in text
    else:  # "!" is absent from most Office XML: memchr for it first; from there on (defined names hold one each),
        # look for "<!" itself
        found, at = False, text.find(b"!")
        at = text.find(b"<!", max(at - 1, 0)) if at >= 0 else at
        while at >= 0 and not found:
            found = text.startswith((b"DOCTYPE", b"ENTITY"), at + 2)
            at = text.find(b"<!", at + 2)
    if found:
        raise ZipRefusal(Code.XML_DOCTYPE, "文件内含不安全的 XML 声明（DOCTYPE/ENTITY）")
