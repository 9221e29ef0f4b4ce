"""Reading returned workbooks: identify, verify, normalise every input, and report findings as values.

Nothing here writes; the store merges what this module accepted. A file with any error is refused
whole, so partly-valid data never lands.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from itertools import repeat
from operator import countOf, is_not, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import jsontext
from .codes import Code
from .findings import Finding, LedgerError, Severity
from .fsutil import (
    MAX_FILE_BYTES,
    archive_bytes,
    archive_copy,
    display_name,
    open_regular_stat,
    read_regular_within,
    sniff_bytes,
)
from .layout import (
    DELIVERABLE_DONE,
    FORM_SHEET,
    HELP_SHEET,
    KINDS,
    META_SHEET,
    RETURN_SHEET,
    STATUS_CHOICES,
    FieldSpec,
    TemplateMeta,
    canonical,
)
from .model import Ledger, Period, is_countable
from .targets import (
    NumberError,
    parse_percent,
    parse_ratio,
    ratio_of_time,
    read_count,
    time_of_serial,
    time_of_text,
)
from .xlsxread import (
    COLUMN_LETTERS,
    Cell,
    GridCells,
    Package,
    Sheet,
    XlsxError,
    absolute_refs,
    by_column,
    cell_formula,
    cells_within,
    exact_cell,
    name_points_at,
    percent_cell,
    read_package,
    split_ref,
)

if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.context import BaseContext


def read_meta(pkg: Package) -> TemplateMeta | None:
    """The template metadata from the hidden sheet, or None when the file is not one of ours."""
    return meta_from_rows(meta_rows(pkg))


def meta_from_rows(rows: list[tuple[str, str]] | None) -> TemplateMeta | None:
    if rows is None:
        return None
    try:
        return TemplateMeta.from_rows(rows)
    except (ValueError, TypeError, KeyError):
        return None


def meta_rows(pkg: Package) -> list[tuple[str, str]] | None:
    sheet = pkg.sheets.get(META_SHEET)
    if sheet is None:
        return None
    rows: list[tuple[str, str]] = []
    r = 1
    while (k := sheet.cells.get(f"A{r}")) is not None:
        v = sheet.cells.get(f"B{r}")
        rows.append((str(k.value), str(v.value) if v is not None else ""))
        r += 1
    if not rows or rows[0] != ("format", "ledger-xl-template"):
        return None
    return rows



class Value(NamedTuple):
    """One accepted input, with where it came from (a tuple: thousands cross from the reading workers)."""

    task_id: str | None
    role: str | None
    kind: str
    index: int  # type: ignore[assignment]  # a field named index hides tuple.index, which nothing here calls
    num: float | None
    text: str | None
    cell: str


_AS_VALUE = functools.partial(tuple.__new__, Value)  # a tuple as a Value, as Value._make does it (in C)
_META_FIELDS = tuple(f.name for f in dataclass_fields(TemplateMeta))


def _read_from_wire(path: str, sha256: str, received_at: dt.datetime, archived: str | None, meta: tuple[Any, ...] | None,
                    values: bytes | list[tuple[Any, ...]], findings: list[Finding], typed: str | None, error: OSError | None = None,
                    modified: float = 0.0) -> ReturnRead:
    """A ReturnRead again, from what its __reduce__ sent."""
    rows = jsontext.loads(values) if type(values) is bytes else values
    return ReturnRead(Path(path), sha256, received_at, None if archived is None else Path(archived),
                      None if meta is None else TemplateMeta(*meta), list(map(_AS_VALUE, rows)), findings, typed, error, modified)


_NUM = itemgetter(Value._fields.index("num"))
_IS_NUMBER = functools.partial(is_not, None)


def _values_on_wire(values: list[Value]) -> bytes | list[tuple[Any, ...]]:
    """A read's ~55 values as they travel to ingest: one JSON text, which pickle's ~400 objects cost twice as much to
    send and half as much again to receive (mostly Chinese text); as tuples when a number is not finite (JSON has
    none such: its sum says, in C) or orjson is absent."""
    rows = list(map(tuple, values))
    if math.isfinite(sum(filter(_IS_NUMBER, map(_NUM, values)), 0.0)):
        packed = jsontext.dumps_bytes(rows)
        if packed is not None:
            return packed
    return rows


@dataclass
class ReturnRead:
    path: Path
    sha256: str
    received_at: dt.datetime
    archived: Path | None = None  # where the original was kept, when read with an archive
    meta: TemplateMeta | None = None
    values: list[Value] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # what the bureau typed, field by field, as JSON (see typed_entry); None when the form was never read
    typed: str | None = None
    # why the file could not be read at all (gone, a link, not a regular file, not allowed): ingest skips it
    error: OSError | None = None
    modified: float = 0.0  # the file's modification time (POSIX) as it was read; 0 when it was not

    @property
    def ok(self) -> bool:
        return self.meta is not None and not any(f.severity is Severity.ERROR for f in self.findings)

    # from a reading worker to ingest, a read travels as one flat tuple of plain values: pickled as objects,
    # its ~55 named tuples (each rebuilt by a Python function), its paths and its metadata (a slots
    # dataclass) cost more than the rest of sending it
    def __reduce__(self) -> tuple[Callable[..., ReturnRead], tuple[object, ...]]:
        meta = self.meta
        return (_read_from_wire, (str(self.path), self.sha256, self.received_at, None if self.archived is None else str(self.archived),
                                  None if meta is None else tuple(getattr(meta, f) for f in _META_FIELDS),
                                  _values_on_wire(self.values), self.findings, self.typed, self.error, self.modified))

    @property
    def bureau(self) -> str | None:
        return self.meta.bureau if self.meta else None

    @property
    def period(self) -> str | None:
        return self.meta.period if self.meta else None


_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# bidi controls and zero-width characters: invisible, and they reorder or hide what a reader sees
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_HIDDEN_RE = re.compile(_CTRL_RE.pattern[:-1] + _INVISIBLE_RE.pattern[1:])  # either kind: the fast path's test
_PHONE_RE = re.compile(r"^[+()\d][\d\s()+\-－—转]{5,24}$")
_DATE_RES = [
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
EXCEL_EPOCH = dt.date(1899, 12, 30)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read without following a link (see fsutil.open_regular)."""
    h = hashlib.sha256()
    fd, st = open_regular_stat(path)
    try:
        want = min(st.st_size + 1, 1 << 20)  # a return in one read (no 1 MiB buffer for 20 KB), a big file by the MiB
        while chunk := os.read(fd, want):
            h.update(chunk)
    finally:
        os.close(fd)
    return h.hexdigest()


def received_time(path: Path) -> dt.datetime:
    """When the file arrived: its modification time (the moment it was saved into the inbox)."""
    return dt.datetime.fromtimestamp(Path(path).stat().st_mtime).replace(microsecond=0)


def refusal_for(path: Path, data: bytes) -> tuple[Code, dict[str, str]] | None:
    """(code, message) when the file (`data`, named by `path`) is not an .xlsx/.xlsm we can read, judged by
    its bytes first."""
    name = path.name
    if name.startswith("~$"):
        return Code.LOCK_FILE, {}
    what = sniff_bytes(data)
    if what == "empty":
        return Code.EMPTY_FILE, {"why": "，可能没有保存完整", "action": "报送"}
    if what == "ole":
        if _is_encrypted(data):
            return Code.ENCRYPTED, {}
        return Code.OLD_FORMAT, {"what": "旧格式（.xls/.et）", "app": "Excel/WPS", "ext": ".xlsx", "then": "，重新报送"}
    if what == "html":
        return Code.HTML_AS_XLS, {}
    if what == "text":
        return Code.CSV_OR_TEXT, {}
    if what == "binary":
        return Code.CORRUPT, {"problem": "文件内容既不是 .xlsx 工作簿，也不是 CSV/文本，可能已损坏或不是电子表格",
                              "fix": "请在下发的模板中填写，保存为 .xlsx 后重新报送"}
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return Code.WRONG_EXTENSION, {"suffix": path.suffix or "（无）"}
    return None


def _is_encrypted(data: bytes) -> bool:
    import io

    try:
        import msoffcrypto

        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:
        # an OLE file msoffcrypto cannot classify: an old .xls or .et, or a damaged one
        return b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data[: 1 << 20]


class _Refused(Exception):
    """A step of read_return that refuses the whole file: the finding, without its file name."""

    def __init__(self, code: Code, cell: str | None = None, sheet: str | None = None, **params: Any) -> None:
        super().__init__(code.message(**params))
        self.code, self.params, self.cell, self.sheet = code, params, cell, sheet


class _TimeValue(NumberError):
    """A number field holding a time Excel, WPS or LibreOffice made of what was typed (see _from_time)."""

    def __init__(self, **params: str) -> None:
        super().__init__(f"是时间 {params['time']}")
        self.params = params


def read_return(path: Path, *, key: bytes, ledger_id: str, ledger: Ledger, sha256: str | None = None,
                data: bytes | None = None, received_at: dt.datetime | None = None) -> ReturnRead:
    """Identify, verify and normalise one returned workbook. Never raises for a bad file: findings say why.

    `data`: the file's bytes when the caller has read them already (ingest reads each file once);
    `received_at`: its received_time, when the caller knows it (from the status of the file it read).
    The steps, each refusing the whole file when it must: the bytes (size, kind), the package (zip and
    XML guards), whose template it is (ledger, workspace, signature, bureau, period), whether its layout
    is the template's (locked content, input cells not merged), then every input field.
    """
    path = Path(path)
    size = len(data) if data is not None else path.stat().st_size
    if data is None and size <= MAX_FILE_BYTES:
        data = path.read_bytes()
    digest = sha256 or (hashlib.sha256(data).hexdigest() if data is not None else sha256_of(path))
    result = ReturnRead(path, digest, received_at or received_time(path))
    f = display_name(path.name)
    try:
        pkg = _package(path, data, size)
        meta, form = _identify(pkg, key, ledger_id, ledger, result)
        _check_layout(pkg, form, meta)
    except _Refused as r:
        result.findings.append(Finding.of(r.code, file=f, sheet=r.sheet, cell=r.cell, **r.params))
        return result
    typed = _read_fields(pkg, form.cells, meta.fields, result, f)
    for ref, shown in _outside_fields(form.cells, meta, len(typed))[:_OUTSIDE_SHOWN]:
        result.findings.append(Finding.of(Code.OUTSIDE_INPUT, file=f, sheet=FORM_SHEET, cell=ref, value=shown, shown=_short(shown)))
    extra = [n for n in pkg.order if n not in (FORM_SHEET, META_SHEET, HELP_SHEET, RETURN_SHEET)]
    if extra and data is not None:
        _check_other_sheets(path, data, extra, meta, result, f)
    _cross_checks(result, f, meta.fields)
    _date_checks(result, f, min(ledger.years, default=0))
    result.typed = _typed_json(typed, meta.fields, result.findings)
    return result


def _package(path: Path, data: bytes | None, size: int) -> Package:
    """The workbook's form and metadata sheets, once its bytes say it can be one (read_package guards the rest)."""
    if size > MAX_FILE_BYTES or data is None:
        raise _Refused(Code.TOO_LARGE, mb=size // 1024 // 1024, kind="填报模板", action="报送")
    refusal = refusal_for(path, data)
    if refusal:
        raise _Refused(refusal[0], **refusal[1])
    try:
        return read_package(path, sheets={FORM_SHEET, META_SHEET}, fast=True, data=data)
    except XlsxError as e:
        raise _Refused(e.code, **e.params) from e


def _identify(pkg: Package, key: bytes, ledger_id: str, ledger: Ledger, result: ReturnRead) -> tuple[TemplateMeta, Sheet]:
    """Whose template this is, from the signed hidden metadata: this ledger, this workspace, unchanged."""
    rows = meta_rows(pkg)
    meta = meta_from_rows(rows)
    if meta is None:
        if FORM_SHEET not in pkg.sheets:
            raise _Refused(Code.NOT_TEMPLATE, problem=f"不是本系统下发的填报模板（找不到“{FORM_SHEET}”和隐藏的模板信息）", which="")
        raise _Refused(Code.NOT_TEMPLATE, problem="找不到模板的隐藏信息，可能是把内容复制到了新建的工作簿", which="原")
    if meta.ledger_id != ledger_id:
        if meta.ledger_title == ledger.title:
            raise _Refused(Code.OTHER_WORKSPACE, title=meta.ledger_title)
        raise _Refused(Code.OTHER_LEDGER, title=meta.ledger_title)
    if not TemplateMeta.rows_signed(rows or [], key):
        raise _Refused(Code.META_TAMPERED)
    result.meta = meta
    if ledger.bureau(meta.bureau) is None:
        raise _Refused(Code.TEMPLATE_BUREAU_UNKNOWN, bureau=meta.bureau)
    try:
        Period.parse(meta.period)
    except LedgerError as e:
        raise _Refused(Code.BAD_PERIOD, period=meta.period) from e
    form = pkg.sheets.get(FORM_SHEET)
    if form is None:
        raise _Refused(Code.MISSING_SHEET, form=FORM_SHEET)
    return meta, form


def _check_layout(pkg: Package, form: Sheet, meta: TemplateMeta) -> None:
    """The form is the template's: locked content unchanged, input cells where they were and not merged."""
    changed = _changed_locked(form.cells, meta.locked)
    moved = _moved_fields(pkg, meta.fields)
    if changed or moved:
        detail = "；".join(f"{c} 原为“{a_}”，现为“{b_}”" for c, e, a in changed[:5] for a_, b_ in [_diff(e, a)])
        if len(changed) > 5:
            detail += f"；等共 {len(changed)} 处"
        if moved and not changed:
            detail = f"填写区位置被移动（{moved[0].label}）"
        raise _Refused(Code.TAMPERED, cell=changed[0][0] if changed else moved[0].cell, sheet=FORM_SHEET, detail=detail)
    merged = _merged_over_fields(form.merged, meta.fields)
    if merged:
        rng, inside = merged
        raise _Refused(Code.MERGED_INPUT, cell=inside[0], sheet=FORM_SHEET, range=rng)


def _moved_fields(pkg: Package, fields: list[FieldSpec]) -> list[FieldSpec]:
    """The input fields whose defined name no longer points at their cell (a row inserted, a range cut and pasted).
    Most often every name is there, written as the templates write it ('填报表'!$J$4) or as Excel writes it back
    (填报表!$J$4): that is found by comparing the lists whole, in C; the rest is asked name by name."""
    got = list(map(pkg.defined_names.get, map(_FIELD_NAME, fields)))
    try:
        written = list(map(absolute_refs, repeat(FORM_SHEET), map(_FIELD_CELL, fields)))  # (quoted, plain) a cell
        if got == list(map(_QUOTED, written)) or got == list(map(_PLAIN, written)):
            return []
    except ValueError:  # a cell that is not one (name_points_at says, name by name)
        pass
    return [fs for fs in fields if fs.name in pkg.defined_names and not name_points_at(pkg, fs.name, FORM_SHEET, fs.cell)]


_FIELD_NAME, _FIELD_CELL = itemgetter(FieldSpec._fields.index("name")), itemgetter(FieldSpec._fields.index("cell"))
_QUOTED, _PLAIN = itemgetter(0), itemgetter(1)


_OUTSIDE_SHOWN = 5  # cells told of, at most, with content outside the input cells
_LOCKED_TEXT = itemgetter(1)


def _outside_fields(cells: Mapping[str, Cell], meta: TemplateMeta, filled: int) -> list[tuple[str, str]]:
    """(cell, text) of what the form holds outside its locked content and its input cells (a note typed beside the
    table, a figure in an empty locked cell once the sheet was unprotected): never read, so said, never dropped
    unsaid. The form's cells that hold anything are counted in C first (`filled`: the input cells read as not
    blank); only a form holding more than its template's content and its filled inputs is searched."""
    content = len(meta.locked) - countOf(map(_LOCKED_TEXT, meta.locked), "")
    if isinstance(cells, GridCells):
        rows = cells.rows
        held = sum(map(len, rows)) - sum(map(countOf, rows, repeat("")))
        if held <= content + filled:
            return []
        found = ((f"{COLUMN_LETTERS[c + 1]}{r + 1}", v) for r, row in enumerate(rows) for c, v in enumerate(row) if v != "")
    else:
        found = ((ref, c.value) for ref, c in cells.items())
    known = {ref for ref, _ in meta.locked} | {fs.cell for fs in meta.fields}
    return [(ref, shown) for ref, v in found if ref not in known and v is not None and (shown := canonical(v))]


def _read_fields(pkg: Package, cells: Mapping[str, Cell], fields: list[FieldSpec], result: ReturnRead, file: str) -> list[list[object]]:
    """Read every input field into `result`; returns what was typed in each (see typed_entry).

    Nine fields in ten are text filled in plainly: those are taken straight from the fast reader's grid
    (no Cell, no method call), the rest go through _read_field."""
    rows = cells.rows if isinstance(cells, GridCells) else None
    n = len(rows) if rows is not None else 0
    typed: list[list[object]] = []
    values = result.values
    for fs in fields:
        if rows is not None and fs.kind in _PLAIN_TEXT_KINDS:  # most fields: text, kept as it is
            r, c = split_ref(fs.cell)
            row = rows[r - 1] if 0 < r <= n else ()
            raw = row[c - 1] if 0 < c <= len(row) else ""
            # (a printable text holds no control or format character, which is all _HIDDEN_RE looks for; a text
            # with a line break is not printable, and is searched)
            if type(raw) is str and (raw.isprintable() or not _HIDDEN_RE.search(raw)) and (text := raw.strip()):
                values.append(_AS_VALUE((fs.task_id, fs.role, fs.kind, fs.index, None, text, fs.cell)))
                typed.append([fs.task_id, fs.kind, fs.index, fs.cell, "s", raw])
                continue
        cell = cells.get(fs.cell)
        if cell is None:
            cell = exact_cell(pkg, FORM_SHEET, fs.cell)  # blank to the fast reader: a formula or an error?
        elif fs.kind in _COUNTED and cell.kind == "n" and 0 < abs(cell.value) <= 10 and fs.unit != "%":  # type: ignore[arg-type]
            cell = _as_typed_percent(pkg, fs, cell)
        _read_field(fs, cell, result, file)
        if (entry := typed_entry(fs, cell)) is not None:
            if entry[4] == "e" and (formula := cell_formula(pkg, FORM_SHEET, fs.cell)) is not None:
                entry[4:] = ["f", f"={formula}"]  # what was typed ("=问题"), not the error it shows, handed back
            typed.append(entry)
    return typed


_COUNTED = frozenset({"metric", "duty_count"})  # fields that count things or times: a percentage is never one


def _as_typed_percent(pkg: Package, fs: FieldSpec, cell: Cell) -> Cell:
    """A small number in a count field, as what was typed when the cell shows it as a percentage: "15%" typed
    there is kept by Excel, WPS and LibreOffice as 0.15 in a cell made percent-formatted; read as 0.15 (or 1 for
    100%) it would count what nobody counted. As text "15%", it is refused saying so, and handed back as typed."""
    if not percent_cell(pkg, FORM_SHEET, fs.cell):
        return cell
    return Cell("s", canonical(float(cell.value) * 100) + "%")  # type: ignore[arg-type]


def typed_entry(fs: FieldSpec, cell: Cell | None) -> list[object] | None:
    """What a bureau typed in a field, exactly: [task id, kind, index, cell, cell kind, value], None when blank.

    The cell kind is the reader's (n number, s text, b bool, d date, e error, f formula without a result);
    a date is kept as ISO text and a formula as its text with "=". Kept for every return, accepted or
    refused, so a refused one can be handed back filled in and a resubmission compared with the last."""
    if cell is None or (cell.kind == "s" and cell.value == ""):
        return None
    kind, v = cell.kind, cell.value
    if kind == "n":
        value: object = float(v)  # type: ignore[arg-type]
        if not math.isfinite(value):  # type: ignore[arg-type]  # (NaN in a cell's XML): kept as the text it was
            value = str(v)
    elif kind == "b":
        value = bool(v)
    elif kind == "d":
        value = v.isoformat()  # type: ignore[attr-defined]
    elif kind == "f":
        value = f"={v}" if v else ""
    else:
        value = str(v)
    return [fs.task_id, fs.kind, fs.index, fs.cell, kind, value]


def _typed_json(typed: list[list[object]], fields: list[FieldSpec], findings: list[Finding]) -> str:
    """`typed` as compact JSON, with an empty entry for each blank field a finding points at (so the
    finding can be placed on a later copy of the form)."""
    at = {x.cell for x in findings if x.cell and x.sheet == FORM_SHEET}
    if at:
        have = {e[3] for e in typed}
        typed += [[fs.task_id, fs.kind, fs.index, fs.cell, "", ""] for fs in fields if fs.cell in at and fs.cell not in have]
    return jsontext.dumps(typed)


_PLAIN_TEXT_KINDS = frozenset(k for k, how in KINDS.items() if how == "text")


def _merged_over_fields(merged: list[str], fields: list[FieldSpec]) -> tuple[str, list[str]] | None:
    """The first merged range covering more than one input cell, and those cells."""
    if not merged:
        return None
    return _merged_over_cells(tuple(merged), tuple(map(_CELL_OF_FIELD, fields)))


_CELL_OF_FIELD = itemgetter(FieldSpec._fields.index("cell"))


@functools.lru_cache(maxsize=256)
def _merged_over_cells(merged: tuple[str, ...], cells: tuple[str, ...]) -> tuple[str, list[str]] | None:
    """_merged_over_fields for these merged ranges and input cells: the same for every return of a template
    left as it was, so worked out once per process."""
    from bisect import bisect_left, bisect_right

    by_row: dict[int, list[int]] = {}
    for r, c in set(map(split_ref, cells)):
        by_row.setdefault(r, []).append(c)
    rows = sorted(by_row)
    for rng in merged:
        a, _, b = rng.partition(":")
        if not b:
            continue
        (r1, c1), (r2, c2) = split_ref(a), split_ref(b)
        hits = 0
        for r in rows[bisect_left(rows, r1) : bisect_right(rows, r2)]:  # only the rows that hold input cells
            for c in by_row[r]:
                hits += c1 <= c <= c2
        if hits > 1:
            return rng, cells_within(rng, by_column(cells))
    return None


def _changed_locked(cells: Mapping[str, Cell], locked: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(cell, expected, found) of each locked cell whose content is not the template's.

    About a hundred locked cells a file, most of them text the fast reader holds as it was written: those
    are compared straight from its grid (a Cell for each, or a call per cell, cost 10–20% of reading).
    Both sides are compared canonical: the expected text is made so here (the templates write it so, but
    it is read back from the returned file), else a locked " " would be unchanged on the grid and changed
    to "" cell by cell."""
    if not isinstance(cells, GridCells):
        return [(ref, want, found) for ref, expected in locked if (found := _locked_text(cells, ref)) != (want := canonical(expected))]
    rows = cells.rows
    n = len(rows)
    changed = []
    for ref, expected in locked:
        r, c = split_ref(ref)
        row = rows[r - 1] if 0 < r <= n else ()
        raw = row[c - 1] if 0 < c <= len(row) else ""
        if raw == expected:  # the very text the template wrote (most cells): canonical alike, nothing more to do
            continue
        want = canonical(expected)
        if raw == want:
            continue
        found = canonical(raw) if type(raw) is str else _locked_text(cells, ref)
        if found != want:
            changed.append((ref, want, found))
    return changed


def _locked_text(cells: Mapping[str, Cell], ref: str) -> str:
    """A locked cell's content as compared with the template's digest."""
    c = cells.get(ref)
    return canonical(c.value) if c is not None and c.kind in ("s", "n", "b", "d", "t") else ""


def _diff(old: str, new: str, n: int = 12) -> tuple[str, str]:
    """The two texts around where they first differ, so a person sees what changed."""
    old, new = " ".join(old.split()), " ".join(new.split())
    i = next((k for k, (x, y) in enumerate(zip(old, new, strict=False)) if x != y), min(len(old), len(new)))
    start = max(0, i - 4)

    def cut(t: str) -> str:
        part = t[start : start + n]
        return ("…" if start else "") + part + ("…" if start + n < len(t) else "")

    return cut(old) or "（空）", cut(new) or "（空）"


def _check_other_sheets(path: Path, data: bytes, names: list[str], meta: TemplateMeta, result: ReturnRead, file: str) -> None:
    """A sheet the template does not have: data pasted onto the wrong sheet, or only an extra sheet."""
    try:
        pkg = read_package(path, sheets=set(names), data=data)
    except XlsxError:
        return
    with_content = [n for n in names if pkg.sheets[n].cells]
    if not with_content:
        return
    filled = [v for v in result.values if v.kind not in ("filler", "phone", "reviewer", "fill_date")]
    where = "、".join(f"“{n}”" for n in with_content)
    if not filled:
        result.findings.append(Finding.of(Code.WRONG_SHEET, file=file, sheet=with_content[0], form=FORM_SHEET, where=where))
    else:
        result.findings.append(Finding.of(Code.EXTRA_SHEET, file=file, sheet=with_content[0], form=FORM_SHEET, where=where))


def _short(text: str, n: int = 20) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _raw_text(cell: Cell | None) -> str:
    if cell is None:
        return ""
    if cell.kind in ("n", "d"):
        return canonical(cell.value)
    return str(cell.value)


def _read_field(fs: FieldSpec, cell: Cell | None, result: ReturnRead, file: str) -> None:
    """One input field: a Value, or a finding at its cell (an error refuses the file, a warning does not)."""
    def finding(code: Code, **params: Any) -> None:
        where = f"第 {fs.task_id} 项“{fs.label}”" if fs.task_id else f"“{fs.label}”"  # said only when there is a finding
        result.findings.append(Finding.of(code, file=file, sheet=FORM_SHEET, cell=fs.cell, value=_raw_text(cell) or None,
                                          where=where, **params))

    kind = KINDS[fs.kind]
    problem = _unusable(fs, kind, cell)
    if problem is not None:
        if problem[0] is not None:
            finding(problem[0], **problem[1])
        return
    assert cell is not None
    try:
        num, text = _parse_field(fs, kind, cell, finding)
    except _TimeValue as e:
        return finding(Code.TIME_VALUE, **e.params)
    except NumberError as e:
        return finding(Code.BAD_VALUE, **_bad_value(kind, _short(_raw_text(cell), 30), str(e)))
    result.values.append(Value(fs.task_id, fs.role, fs.kind, fs.index, num, text, fs.cell))


_TEXT_NOT_FORMULA = "请直接填写文字；以“=”开头的内容，请去掉“=”或在它前面加英文单引号（'）"


def _unusable(fs: FieldSpec, kind: str, cell: Cell | None) -> tuple[Code | None, dict[str, Any]] | None:
    """A cell that holds no value to read: (code, its parameters) to report, (None, {}) when a blank is
    fine, None when there is a value."""
    if cell is not None and cell.kind in ("f", "e"):
        # text typed starting with "=" (=问题) is taken for a formula: say how to type it, not to write a number
        texty = kind in ("text", "phone")
        if cell.kind == "e":
            return Code.ERROR_CELL, {"shown": cell.value, "fix": _TEXT_NOT_FORMULA if texty else "请改为直接填写数值"}
        return Code.FORMULA_NO_VALUE, {"fix": _TEXT_NOT_FORMULA if texty else "请删除公式，直接填写数值"}
    if cell is None or (cell.kind == "s" and not str(cell.value).strip()):
        if kind in ("number", "integer") and fs.kind in ("metric", "duty_count"):
            return Code.MISSING, {"problem": "未填写", "fix": "本期没有新增或没有开展请填 0"}
        if fs.kind == "deliv_status":
            return Code.MISSING, {"problem": "未选择", "fix": f"请从下拉列表中选择{'、'.join(STATUS_CHOICES[:-1])}或{STATUS_CHOICES[-1]}"}
        if fs.kind in ("ind_value", "ind_baseline", "ind_current"):
            return Code.MISSING_OPTIONAL, {}
        if fs.kind in ("progress", "filler", "phone") and fs.role != "responsible":
            return Code.MISSING_TEXT, {}
        return None, {}
    if cell.kind == "n" and abs(float(cell.value)) >= 1e15:  # type: ignore[arg-type]
        return Code.PRECISION_LOST, {"digits": canonical(cell.value)}
    return None


def _parse_field(fs: FieldSpec, kind: str, cell: Cell, finding: Callable[..., None]) -> tuple[float | None, str | None]:
    """(number, text) of a filled cell by its field's kind; NumberError says why it cannot be read."""
    if kind in ("number", "integer", "percent-or-ratio") and (time := _typed_time(cell)) is not None:
        return _from_time(fs, kind, time, finding), None
    if kind in ("number", "integer"):
        num, converted = read_count(cell.value, fs.unit, integer=kind == "integer")
        if kind == "number" and fs.kind == "metric" and is_countable(fs.unit) and not num.is_integer():  # 个、家、座…
            raise NumberError(f"不是整数：按{fs.unit}计数，请填写整数，例如 {int(num)}")
        if converted:  # "2万辆" where 辆 are counted: 20000, said
            finding(Code.UNIT_CONVERTED, typed=_short(_raw_text(cell), 30), note=converted)
        return num, None
    if kind == "percent-or-ratio" and fs.unit == "%":
        # the template formats this cell as a percentage: a number there is a fraction (0.18 = 18%)
        pct = parse_percent(cell.value, cell_is_percent_formatted=cell.kind == "n")
        if cell.kind == "n" and 2 <= float(cell.value) <= 100:  # type: ignore[arg-type]
            raise NumberError(_percent_times_100(cell.value, pct))
        return pct, None
    if kind == "percent-or-ratio":
        return parse_ratio(cell.value), None
    if kind == "date":
        return None, _parse_date(cell).isoformat()
    if kind == "choice":
        t = str(cell.value).strip()
        if t not in STATUS_CHOICES:
            raise NumberError(f"不是可选的进展（{'、'.join(STATUS_CHOICES)}）")
        return None, t
    if kind == "phone":
        t = _raw_text(cell).strip()
        if not _PHONE_RE.match(t) or sum(ch.isdigit() for ch in t) < 7:
            raise NumberError("不是电话号码，请填写如 13800000000 或 0377-12345678")
        return None, t
    t = _raw_text(cell)
    if _CTRL_RE.search(t):
        t = _CTRL_RE.sub("", t)
        finding(Code.CONTROL_CHARS)
    if _INVISIBLE_RE.search(t):
        t = _INVISIBLE_RE.sub("", t)
        finding(Code.INVISIBLE_CHARS)
    return None, t.strip()


def _percent_times_100(typed: object, pct: float) -> str:
    """Why 15 in a percentage cell is refused: LibreOffice (and Excel with automatic percent entry off) keep
    a plain 15 typed there as 1500%. Read as typed it would put 1500% before the leaders; read as 15% it
    would guess. The bureau says which, once (a figure of 200% or more really meant is typed as text)."""
    shown, meant = canonical(pct), canonical(typed)
    return (f"在表中是 {shown}%（百分数格里的数字 {meant} 即 {shown}%）。如要填 {meant}%，请输入“{meant}%”（带百分号）；"
            f"确实是 {shown}% 的，请先输入英文单引号再输入（如 '{shown}%）")


def _typed_time(cell: Cell) -> tuple[str, tuple[int, int, int] | None] | None:
    """(the time as shown, its hours, minutes and seconds when it has them) where Excel, WPS or LibreOffice
    took what was typed (3:1) for a time: a time-formatted cell (kind "t"), or a number that can only be a
    stored time (see time_of_serial); None for anything else."""
    if cell.kind == "t":
        return str(cell.value), time_of_text(str(cell.value))
    if cell.kind == "n" and (hms := time_of_serial(float(cell.value))) is not None:  # type: ignore[arg-type]
        h, m, s = hms
        return (f"{h}:{m:02d}:{s:02d}" if s else f"{h}:{m:02d}"), hms
    return None


def _from_time(fs: FieldSpec, kind: str, time: tuple[str, tuple[int, int, int] | None], finding: Callable[..., None]) -> float:
    """A ratio typed as h:m and stored as a time is read as that ratio, and said; any other time in a
    number field is refused, saying what happened and what to type — never read as a day fraction."""
    shown, hms = time
    ratio = ratio_of_time(hms) if hms is not None and kind == "percent-or-ratio" and fs.unit != "%" else None
    if ratio is not None and hms is not None:
        finding(Code.TIME_AS_RATIO, time=shown, ratio=f"{hms[0]}:{hms[1]}", read=canonical(ratio))
        return ratio
    what, fix = ({"number": ("数字", "改填数字，例如 5"), "integer": ("整数", "改填整数，例如 1")}.get(kind)
                 or (("百分数", "改填百分数，例如 18%") if fs.unit == "%"
                     else ("比值", "按 3.5:1 的样子填写比值，并在前面加英文单引号，如 '3.5:1")))
    raise _TimeValue(time=shown, what=what, fix=fix)


def _bad_value(kind: str, typed: str, why: str) -> dict[str, str]:
    """How a value that cannot be read is told: the reader's own words, and advice when they give none."""
    if why.startswith("请"):
        return {"typed": typed, "problem": f"不对：{why}", "fix": ""}
    if "请" in why:
        return {"typed": typed, "problem": why, "fix": ""}
    advice = {"number": "请填写数字，例如 5", "integer": "请填写整数，例如 1",
              "date": "请按 2024-6-30、2024.6.30 或 2024年6月30日 的样子填写"}.get(kind, "请改正")
    return {"typed": typed, "problem": why, "fix": f"{advice}。"}


def _parse_date(cell: Cell) -> dt.date:
    if cell.kind == "d":
        v = cell.value
        return v.date() if isinstance(v, dt.datetime) else v  # type: ignore[return-value]
    if cell.kind == "n":
        serial = float(cell.value)  # type: ignore[arg-type]
        if not 1 <= serial < 2958466:
            raise NumberError("不是有效日期")
        return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    t = str(cell.value).strip()
    import unicodedata

    t = unicodedata.normalize("NFKC", t)
    t = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", t)
    for rx in _DATE_RES:
        m = rx.match(t)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as e:
                raise NumberError("不是有效日期") from e
    raise NumberError("不是日期")


def _cross_checks(result: ReturnRead, file: str, fields: list[FieldSpec]) -> None:
    """Rules that span fields: a completed deliverable needs its date and document name (a warning here) — when
    its form asks for them, and not again when what was typed there is already refused."""
    if (_DELIVERABLE_STATUS, DELIVERABLE_DONE) not in map(_KIND_AND_TEXT, result.values):
        return  # no deliverable completed (most returns): nothing to look for, found in one pass in C
    by_task: dict[str, dict[str, Value]] = {}
    for v in result.values:
        if v.task_id:
            by_task.setdefault(v.task_id, {})[v.kind] = v
    asked = {(fs.task_id, fs.kind): fs.cell for fs in fields}
    told = {f.cell for f in result.findings if f.sheet == FORM_SHEET}
    for tid, vals in by_task.items():
        status = vals.get(_DELIVERABLE_STATUS)
        if status and status.text == DELIVERABLE_DONE:
            for need, label in (("deliv_date", "完成日期"), ("deliv_name", "文件名称")):
                cell = asked.get((tid, need))
                if need not in vals and cell is not None and cell not in told:
                    result.findings.append(Finding.of(Code.DELIVERABLE_INCOMPLETE, file=file, sheet=FORM_SHEET, cell=status.cell,
                                                      task=tid, label=label))


def _date_checks(result: ReturnRead, file: str, first_year: int) -> None:
    """A completion date later than the day the return arrived, or a year or more before the programme began, is
    a slip of the keyboard more often than a fact (2026-07-01 in a return of 2025's first half): said, kept."""
    if _DELIVERABLE_DATE not in map(_KIND, result.values):
        return
    received = result.received_at.date()
    for v in result.values:
        if v.kind != _DELIVERABLE_DATE or not v.text:
            continue
        day = dt.date.fromisoformat(v.text)
        why = (f"晚于收到本表的日期 {received.isoformat()}" if day > received else
               f"早于本台账的起始年份（{first_year} 年）一年以上" if first_year and day.year < first_year - 1 else "")
        if why:
            result.findings.append(Finding.of(Code.DELIVERABLE_DATE_ODD, file=file, sheet=FORM_SHEET, cell=v.cell, value=v.text,
                                              task=v.task_id, date=v.text, why=why))


_KIND = itemgetter(Value._fields.index("kind"))
_DELIVERABLE_DATE = "deliv_date"
_KIND_AND_TEXT = itemgetter(Value._fields.index("kind"), Value._fields.index("text"))
_DELIVERABLE_STATUS = "deliv_status"


# ---------------------------------------------------------------- reading many files


_WORKER: dict[str, object] = {}
CHUNK_FILES = 8  # files per round trip to a reading worker
MEMORY_LIMIT = 4 * 1024**3  # a worker that tries to allocate more fails instead of taking the machine down


WorkerInit = tuple[bytes, str, Ledger, Path | None, int, Collection[str]]  # _init_worker's arguments


def _init_worker(key: bytes, ledger_id: str, ledger: Ledger, archive: Path | None = None, parent: int = 0,
                 known: Collection[str] = frozenset()) -> None:

    try:
        import resource
    except ImportError:  # Windows: no memory limit, the process boundary still isolates the reader
        resource = None  # type: ignore[assignment]

    from .workspace import forked_child

    forked_child(parent)
    _quiet()
    try:
        if resource is None:
            raise AttributeError("no resource module")
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError, AttributeError):
        pass
    _WORKER.update(key=key, ledger_id=ledger_id, ledger=ledger, archive=archive, known=known)


def _quiet() -> None:
    """A worker prints nothing: a native reader that panics must not leave a traceback on the clerk's screen."""
    import faulthandler
    import os

    faulthandler.disable()
    if os.name == "nt":
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _read_in_worker(path: Path) -> ReturnRead:
    w = _WORKER
    return _read_and_keep(path, w["key"], w["ledger_id"], w["ledger"], w["archive"], w["known"])  # type: ignore[arg-type]


def _read_chunk_in_worker(chunk: list[Path]) -> list[ReturnRead]:
    return [_read_in_worker(path) for path in chunk]


def _read_and_keep(path: Path, key: bytes, ledger_id: str, ledger: Ledger, archive: Path | None,
                   known: Collection[str] = frozenset()) -> ReturnRead:
    """Read the file once and hash those bytes, keep them (so even a file that crashes the reader is
    archived), then check them.

    The archive gets, and the reader sees, exactly the bytes whose SHA-256 names the return; a file that
    changed while it was read is refused, and nothing kept. A copy of a return stored before (its digest in
    `known`) is neither kept nor checked: ingest reports it as a duplicate. A file that cannot be read at
    all comes back with `error` set, for ingest to skip.
    """
    try:
        data, digest, st, changed = _take(path)
    except OSError as e:
        return ReturnRead(path, "", dt.datetime.now().replace(microsecond=0), error=e)
    read = ReturnRead(path, digest, dt.datetime.fromtimestamp(st.st_mtime).replace(microsecond=0), modified=st.st_mtime)
    if digest in known:
        return read
    kept = None if changed or archive is None else _keep(path, data, digest, archive)
    if changed or (archive is not None and kept is None):
        read.findings.append(Finding.of(Code.CHANGED_WHILE_READING, file=display_name(path.name)))
        return read
    read = read_return(path, key=key, ledger_id=ledger_id, ledger=ledger, sha256=digest, data=data, received_at=read.received_at)
    read.archived, read.modified = kept, st.st_mtime
    if read.meta is not None:  # verified already: the caller needs who, when and for which period, not the layout
        read.meta.fields, read.meta.locked = [], []
    return read


def _take(path: Path) -> tuple[bytes | None, str, os.stat_result, bool]:
    """(the file's bytes, their SHA-256, the file's status, whether it changed while it was read): one read,
    never through a link. A file too big to hold in memory is hashed as it streams past (its bytes None:
    copied for the record, refused by the reader). When the file's status says it changed during the read,
    it is read again: the same bytes then are a file touched, not changed; others are a change."""
    data, st, steady = read_regular_within(path, MAX_FILE_BYTES)
    if data is None:
        return None, sha256_of(path), st, False
    if not steady:
        try:
            again, _, _ = read_regular_within(path, MAX_FILE_BYTES)
        except OSError:
            again = None
        steady = again == data
    return data, hashlib.sha256(data).hexdigest(), st, not steady


def _keep(path: Path, data: bytes | None, digest: str, archive: Path) -> Path | None:
    """Where the bytes read were archived under their digest; None when the file was too big to hold and its
    copy did not hash to `digest` (it changed after it was hashed)."""
    if data is None:
        return archive_copy(path, digest, archive)
    return archive_bytes(data, digest, path.suffix, archive)


def _crashed(path: Path, why: str, archive: Path | None) -> ReturnRead:
    """A file whose reader died: read, hashed and kept here (not checked), and refused saying why."""
    try:
        data, digest, st, changed = _take(path)
    except OSError as e:
        return ReturnRead(path, "", dt.datetime.now().replace(microsecond=0), error=e)
    kept = None if changed or archive is None else _keep(path, data, digest, archive)
    r = ReturnRead(path, digest, dt.datetime.fromtimestamp(st.st_mtime).replace(microsecond=0), kept, modified=st.st_mtime)
    r.findings.append(Finding.of(Code.READER_CRASH, file=display_name(path.name), why=why))
    return r


def read_many(items: Sequence[Path], *, key: bytes, ledger_id: str, ledger: Ledger, archive: Path | None = None,
              workers: int | None = None, known: Collection[str] = frozenset()) -> Iterator[tuple[Path, ReturnRead]]:
    """Yield (path, ReturnRead) for the files `items` names, in their order, reading in worker processes.

    `known`: the digests of returns stored before, whose copies are neither kept nor checked.

    Each file is read once, by the process that checks it: it hashes the bytes, copies them into `archive`
    (when given), so that I/O overlaps with reading, and checks them (see _read_and_keep).

    Reading always happens in worker processes under a memory limit: a reader that aborts its process (a
    native library on a hostile file) cannot take ingest down — that file is refused, the others go on —
    and the workers use every core. At most a few files per worker are in flight, so memory stays flat.
    """
    import gc
    import os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from itertools import islice

    # a worker per core: the main process's share (unpacking, inserting) fits beside them, and the
    # archive copy no longer waits on the disk; a third worker on two cores cost 7–10% more CPU for the same
    # files (each warms its own caches, and the three contend for two cores) and was no faster
    n = workers if workers is not None else int(os.environ.get("LEDGER_XL_WORKERS", 0) or min(os.cpu_count() or 1, 8))
    if n <= 0:  # in-process, for callers that already run in a disposable process
        for path in items:
            yield path, _read_and_keep(path, key, ledger_id, ledger, archive, known)
        return
    total = len(items)
    if not total:
        return
    n = min(n, total)
    import multiprocessing

    # fork where there is one (fast: the ledger is already in memory); spawn on Windows
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    # files go to the workers a few at a time: one round trip per chunk instead of per file, while a
    # small batch still spreads over every worker
    size = max(1, min(CHUNK_FILES, total // (4 * n)))
    source = iter(items)
    window = 3 * n
    init: WorkerInit = (key, ledger_id, ledger, archive, os.getpid(), known)
    # the ledger, the known digests and everything else already in memory is shared with the forked workers: keep their
    # garbage collector off those objects, so it neither walks them for every file nor copies their pages
    gc.freeze()
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker, initargs=init)
    try:
        in_flight: list[tuple[list[Path], Future[list[ReturnRead]]]] = []
        chunk, sent = list(islice(source, size)), 0
        while chunk or in_flight:
            while chunk and len(in_flight) < window:
                in_flight.append((chunk, pool.submit(_read_chunk_in_worker, chunk)))
                sent += len(chunk)
                chunk = list(islice(source, _chunk_size(size, total - sent, n)))  # the next files, taken while the workers read
            head, fut = in_flight.pop(0)
            try:
                reads = fut.result()
            except BrokenProcessPool:
                # a worker died: read these files and the others in flight one at a time, each in its own process
                pool.shutdown(wait=False, cancel_futures=True)
                for it in head + [q for c, _ in in_flight for q in c]:
                    yield it, _read_isolated(it, init, ctx)
                in_flight = []
                pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker, initargs=init)
                continue
            yield from zip(head, reads, strict=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def _chunk_size(size: int, left: int, workers: int) -> int:
    """Files in the next round trip: `size`, fewer as the batch runs out (half a worker's share of what is
    left), so that the last chunks are short and no worker reads a long one while the others wait idle."""
    return max(1, min(size, left // (2 * workers)))


def _read_isolated(item: Path, init: WorkerInit, ctx: BaseContext) -> ReturnRead:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_worker, initargs=init) as one:
        try:
            return one.submit(_read_in_worker, item).result(timeout=300)
        except BrokenProcessPool:
            return _crashed(item, "进程被终止", init[3])
        except TimeoutError:
            return _crashed(item, "超过 300 秒", init[3])
