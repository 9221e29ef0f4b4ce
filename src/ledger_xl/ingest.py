"""Reading returned workbooks: identify, verify, normalise every input, and report findings as values.

Nothing here writes; the store merges what this module accepted. A file with any error is refused
whole, so partly-valid data never lands.
"""

from __future__ import annotations

from .layout import META_SHEET, TemplateMeta
from .xlsxread import Package


def read_meta(pkg: Package) -> TemplateMeta | None:
    """The template metadata from the hidden sheet, or None when the file is not one of ours."""
    sheet = pkg.sheets.get(META_SHEET)
    if sheet is None:
        return None
    rows: list[tuple[str, str]] = []
    r = 1
    while f"A{r}" in sheet.cells:
        k, v = sheet.cells[f"A{r}"], sheet.cells.get(f"B{r}")
        rows.append((str(k.value), str(v.value) if v is not None else ""))
        r += 1
    if not rows or rows[0] != ("format", "ledger-xl-template"):
        return None
    try:
        return TemplateMeta.from_rows(rows)
    except (ValueError, TypeError, KeyError):
        return None
