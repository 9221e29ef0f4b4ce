"""Stored values taken out for analysis: one tidy row per value, as .xlsx or .csv (pandas).

Each row says who reported what, for which period and task, and where it came from (file, sheet,
cell, received time), so a pivot table or a pandas script needs nothing else. The CSV is UTF-8 with a
byte-order mark, so Excel on a Chinese Windows opens it without garbling; every text cell that a
spreadsheet would take for a formula (starting with = + - @, a tab or a carriage return) gets a
leading ', as OWASP advises for CSV injection, in the .xlsx too (a cell edited there is parsed again).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .codes import Code
from .findings import LedgerError
from .fsutil import XLSXWRITER_OPTIONS, atomic_path
from .layout import FORM_SHEET
from .model import FREQUENCY_LABEL, Ledger, Period, Task

if TYPE_CHECKING:
    import pandas as pd

    from .store import Store, StoredValue

COLUMNS = ["单位", "报送期", "任务序号", "重点任务", "职责", "填报项目", "值", "计量单位", "收到时间", "文件", "工作表", "单元格"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_LABELS = {"progress": "工作进展", "problems": "存在问题", "plan": "下一步计划", "evidence": "佐证材料",
               "filler": "填报人", "phone": "联系电话", "reviewer": "审核人", "fill_date": "填报日期",
               "deliv_status": "成果进展", "deliv_date": "完成日期", "deliv_name": "文件名称", "deliv_no": "文号",
               "ind_baseline": "期初基数", "ind_current": "本期实际数"}
ROLE_CN = {"lead": "牵头", "responsible": "责任"}


def formula_safe(text: str) -> str:
    """A text a spreadsheet will show as typed, never evaluate."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def field_label(task: Task | None, kind: str, idx: int) -> tuple[str, str]:
    """(what the value is, its unit of measure), in the words of the template."""
    if task is not None and kind == "metric" and idx < len(task.metrics):
        m = task.metrics[idx]
        return f"{m.name}：本期新增", m.unit
    if task is not None and kind.startswith("ind_") and idx < len(task.indicators):
        ind = task.indicators[idx]
        if kind == "ind_value":
            return f"{ind.text}：当前值", "%" if ind.unit == "%" else "比值"
        return f"{ind.text}：{TEXT_LABELS[kind]}", ""
    if task is not None and kind == "duty_count":
        return f"本期完成次数（{FREQUENCY_LABEL.get(task.frequency or '', '')}）", "次"
    return TEXT_LABELS.get(kind, kind), ""


def tidy_rows(ledger: Ledger, store: Store, period: Period | None) -> list[list[Any]]:
    """One row per value of each bureau's current submission (of `period`, or of every period)."""
    received = {s.id: s.received_at.replace("T", " ") for s in store.submissions(merged_only=True)}
    values: list[StoredValue] = store.current_values()
    if period is not None:
        values = [v for v in values if v.period == period.code]
    tasks = {t.id: t for t in ledger.tasks}
    rows: list[list[Any]] = []
    for v in values:
        if v.num is None and not v.text:
            continue
        task = tasks.get(v.task_id) if v.task_id else None
        label, unit = field_label(task, v.kind, v.idx)
        value: Any = formula_safe(v.text or "") if v.num is None else int(v.num) if v.num.is_integer() else v.num
        rows.append([v.bureau, v.period, v.task_id or "", task.title if task else "", ROLE_CN.get(v.role or "", ""),
                     label, value, unit, received.get(v.submission_id, ""), v.file_name, FORM_SHEET, v.cell])
    return [[formula_safe(c) if isinstance(c, str) else c for c in row] for row in rows]


def frame(rows: list[list[Any]]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(rows, columns=COLUMNS)
    df["值"] = df["值"].astype(object)  # numbers stay numbers, texts stay texts
    return df


def write_export(df: pd.DataFrame, path: Path) -> Path:
    """Write .csv (UTF-8 with BOM) or .xlsx (typed cells, header frozen), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise LedgerError.of(Code.EXPORT_FORMAT, name=path.name)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        else:
            _write_xlsx(df, tmp)
    return path


def _write_xlsx(df: pd.DataFrame, tmp: Path) -> None:
    import pandas as pd

    from .textui import width

    options = {k: v for k, v in XLSXWRITER_OPTIONS.items() if k != "in_memory"}
    with pd.ExcelWriter(tmp, engine="xlsxwriter", engine_kwargs={"options": options}) as xw:
        df.to_excel(xw, sheet_name="数据", index=False)
        ws = xw.sheets["数据"]
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
        for c, name in enumerate(df.columns):
            longest = max([width(str(x), 2) for x in df[name].head(500)] + [width(name, 2)])
            ws.set_column(c, c, min(max(longest + 2, 6), 50))
