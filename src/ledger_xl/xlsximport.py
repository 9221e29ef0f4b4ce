"""An Excel 台账 (.xlsx) → the shared table model, read as the Word table is (see ledgerimport).

The workbook is checked as every Office file is before a parser sees it (fsutil.check_ooxml: type by
bytes, zip bomb, DOCTYPE/ENTITY in any part), opened by openpyxl with defusedxml, and bounded in size.
Values are taken as Excel shows them: 0.95 in a % format is 95%, an Excel date is a date, a whole
number has no ".0". Formulas are never evaluated: a formula's cached result is taken (and said), a formula
without one is refused at its cell. Merged cells are expanded as in Word tables; line breaks are kept.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .codes import Code
from .findings import Finding, LedgerError
from .fsutil import check_ooxml
from .ledgerimport import ImportResult
from .model import fmt_number
from .tablemodel import TableModel, TCell

MAX_ROWS, MAX_COLS = 5000, 60


def open_xlsx(path: Path) -> tuple[object, object]:
    """(values workbook, formulas workbook) of a sound .xlsx, or a refusal that says what to do."""
    from openpyxl import load_workbook

    path = Path(path)
    if not path.exists():
        raise LedgerError.of(Code.NOT_FOUND, what="文件", path=path, fix="请检查路径")
    if path.suffix.lower() in (".xls", ".et"):
        raise LedgerError.of(Code.OLD_FORMAT, file=path.name, what=f"旧版 Excel/WPS 表格（{path.suffix}）", app="Excel 或 WPS",
                             ext=".xlsx", then="再导入")
    check_ooxml(path, kind="Excel")
    try:
        values = load_workbook(path, data_only=True)
        formulas = load_workbook(path, data_only=False)
    except Exception as e:  # a damaged package: zip, XML or openpyxl's own complaint
        raise LedgerError.of(Code.NOT_XLSX, file=path.name, why=type(e).__name__) from e
    return values, formulas


def cell_text(value: object, number_format: str) -> str:
    """What Excel shows: 0.95 in a % format → "95%", a date → "2025年6月30日", 12.0 → "12", text as typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime | dt.date):
        d = value.date() if isinstance(value, dt.datetime) else value
        return f"{d.year}年{d.month}月{d.day}日"
    if isinstance(value, int | float):
        if "%" in (number_format or ""):
            return f"{fmt_number(round(float(value) * 100, 6))}%"
        return fmt_number(round(float(value), 10))
    return str(value).replace("\r\n", "\n").strip()


def sheet_model(ws: object, fws: object, file: str, findings: list[Finding]) -> TableModel:
    """One sheet as the table model: merged ranges repeat their top-left text under one key."""
    from openpyxl.utils import get_column_letter

    name = ws.title  # type: ignore[attr-defined]
    nrows, ncols = ws.max_row, ws.max_column  # type: ignore[attr-defined]
    if nrows > MAX_ROWS or ncols > MAX_COLS:
        raise LedgerError.of(Code.ABSURD_EXTENT, file=f"{file} › {name}", problem=f"表格范围异常（{nrows} 行 × {ncols} 列），不像是一张台账",
                             fix="请删除多余内容，或把台账单独另存为一个工作簿后再导入")
    merged: dict[tuple[int, int], tuple[int, int]] = {}
    for rng in ws.merged_cells.ranges:  # type: ignore[attr-defined]
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                merged[(r, c)] = (rng.min_row, rng.min_col)
    keys: dict[tuple[int, int], object] = {}
    rows: list[list[TCell]] = []
    for r in range(1, nrows + 1):
        row = []
        for c in range(1, ncols + 1):
            top = merged.get((r, c), (r, c))
            key = keys.setdefault(top, object())
            row.append(TCell(_value_at(ws, fws, top, file, findings), key, f"{get_column_letter(c)}{r}"))
        rows.append(row)
    return TableModel(file=file, sheet=name, rows=rows, word=False)


def _value_at(ws: object, fws: object, at: tuple[int, int], file: str, findings: list[Finding]) -> str:
    cell = ws.cell(row=at[0], column=at[1])  # type: ignore[attr-defined]
    fcell = fws.cell(row=at[0], column=at[1])  # type: ignore[attr-defined]
    if fcell.data_type == "f":
        where = f"{file} › {ws.title} › {fcell.coordinate}"  # type: ignore[attr-defined]
        if cell.value is None:
            raise LedgerError.of(Code.FORMULA_NO_VALUE, file=where, where="", fix="请在 Excel 中打开并保存一次，或把公式改为数值后再导入")
        note = Finding.of(Code.FORMULA_CACHED, file=file, sheet=ws.title, cell=fcell.coordinate, shown=cell.value)  # type: ignore[attr-defined]
        if note not in findings:
            findings.append(note)
    if cell.data_type == "e":
        raise LedgerError.of(Code.ERROR_CELL, file=f"{file} › {ws.title} › {cell.coordinate}", where="", shown=cell.value,  # type: ignore[attr-defined]
                             fix="请改正后再导入")
    return cell_text(cell.value, cell.number_format)


def import_xlsx(path: Path, *, sheet: str | None = None) -> ImportResult:
    """Read the sheet that holds a ledger table (or the one named) into a Ledger, as a Word ledger is read."""
    from .ledgerimport import find_header, read_table, refuse_no_header

    path = Path(path)
    values, formulas = open_xlsx(path)
    names = [ws.title for ws in values.worksheets if ws.sheet_state == "visible"]  # type: ignore[attr-defined]
    if sheet is not None and sheet not in values.sheetnames:  # type: ignore[attr-defined]
        raise LedgerError.of(Code.NO_SUCH_SHEET, file=path.name, sheet_name=sheet, names="、".join(names))
    findings: list[Finding] = []
    models = [sheet_model(values[n], formulas[n], path.name, findings) for n in ([sheet] if sheet else names)]  # type: ignore[index]
    found = [tm for tm in models if find_header(tm) is not None]
    if not found:
        raise refuse_no_header(models[0]) if models else LedgerError.of(Code.NO_LEDGER_TABLE, file=path.name,
                                                                        problem="工作簿中没有可见的工作表", fix="")
    if len(found) > 1:
        raise LedgerError.of(Code.SEVERAL_SHEETS, file=path.name, n=len(found), names="、".join(tm.sheet for tm in found),
                             first=found[0].sheet)
    result = read_table(found[0], fallback_title=path.stem)
    result.findings[:0] = findings
    return result


def import_ledger(path: Path, *, sheet: str | None = None) -> ImportResult:
    """A Word (.docx) or Excel (.xlsx) ledger, told apart by its name and then its contents."""
    from .wordimport import import_docx

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".et"):
        return import_xlsx(path, sheet=sheet)
    if suffix not in (".docx", ".doc", ".wps") and path.exists() and _is_workbook(path):
        return import_xlsx(path, sheet=sheet)
    if sheet is not None:
        raise LedgerError.of(Code.SHEET_NOT_EXCEL, file=path.name)
    return import_docx(path)


def _is_workbook(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
