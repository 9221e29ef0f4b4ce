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
