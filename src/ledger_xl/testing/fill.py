"""Filling a template programmatically, as a script standing in for bureau staff (samples, tests, benchmarks).

Values are addressed by field (task id, kind, index), never by guessed position. openpyxl keeps the
template's validations, defined names, protection and hidden sheet when it saves.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..fsutil import atomic_path
from ..ingest import read_meta
from ..layout import FORM_SHEET, FieldSpec
from ..xlsxread import read_package

FieldKey = tuple[str | None, str, int]  # (task id, kind, index)


def template_fields(path: Path) -> list[FieldSpec]:
    meta = read_meta(read_package(path, sheets={"_ledger_xl"}))
    if meta is None:
        raise ValueError(f"{path} is not a ledger-xl template")
    return meta.fields


def fill_template(path: Path, out: Path, values: dict[FieldKey, object], *, mtime: dt.datetime | None = None) -> Path:
    """Write `values` into the template's input cells and save to `out` (atomically)."""
    import openpyxl

    fields = {(f.task_id, f.kind, f.index): f for f in template_fields(path)}
    wb = openpyxl.load_workbook(path)
    ws = wb[FORM_SHEET]
    for key, value in values.items():
        spec = fields.get(key)
        if spec is None:
            raise KeyError(f"no field {key} in {path.name}")
        cell = ws[spec.cell]
        if isinstance(value, str):
            cell.value = value
            cell.data_type = "s"  # never let openpyxl read "=…" as a formula
        else:
            cell.value = value
    _grow_rows(ws, auto_rows(path, wb.sheetnames.index(FORM_SHEET)), {fields[k].cell for k in values})
    with atomic_path(Path(out)) as tmp:
        wb.save(tmp)
    if mtime is not None:
        import os

        if mtime.tzinfo is None:  # a naive time is the office's wall clock (ledger-xl's default time zone)
            from zoneinfo import ZoneInfo

            from ..workspace import DEFAULT_TIMEZONE

            mtime = mtime.replace(tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
        ts = mtime.timestamp()
        os.utime(out, (ts, ts))
    return Path(out)


def auto_rows(path: Path, index: int) -> set[int]:
    """The rows (1-based) of the index-th sheet that have a height nobody fixed (no customHeight): Excel,
    WPS and LibreOffice grow such a row to what is typed into it."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        xml = z.read(f"xl/worksheets/sheet{index + 1}.xml").decode("utf-8")
    return {int(m.group(1)) for m in re.finditer(r'<row r="(\d+)"([^>]*)>', xml)
            if "customHeight" not in m.group(2) and "ht=" in m.group(2)}


def _grow_rows(ws: object, rows: set[int], cells: set[str]) -> None:
    """What the spreadsheet program does as the typist presses Enter: a free row grows to its tallest wrapped
    cell (merged cells never count). openpyxl does not, so this stands in for it."""
    from openpyxl.utils.cell import coordinate_from_string

    from ..templates import LINE_PT, wrapped_lines

    merged = {rc for rng in ws.merged_cells.ranges for rc in rng.cells}  # type: ignore[attr-defined]
    for row in sorted({coordinate_from_string(c)[1] for c in cells} & rows):
        need = 0.0
        for cell in ws[row]:  # type: ignore[index]
            if isinstance(cell.value, str) and cell.alignment.wrap_text and (row, cell.column) not in merged:
                # a locked text (a plan, a label) carries the template's own line breaks, fitted to its column
                lines = cell.value.count("\n") + 1 if cell.protection.locked else wrapped_lines(cell.value, _width(ws, cell.column))
                need = max(need, lines * LINE_PT + 4)
        dim = ws.row_dimensions[row]  # type: ignore[attr-defined]
        dim.height = max(dim.height or 15, need)


def _width(ws: object, col: int) -> float:
    """A column's width (openpyxl files a run of equal columns under the first one's letter)."""
    for dim in ws.column_dimensions.values():  # type: ignore[attr-defined]
        if dim.min and dim.max and dim.min <= col <= dim.max and dim.width:
            return float(dim.width)
    return 8.43
