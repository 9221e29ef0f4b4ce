"""The Word 台账 table → the ledger model.

Offices circulate the ledger as a Word table whose layout varies: one or two header rows, headers repeated
on every page, a text spanning the year columns, categories merged down several rows, a one- or
two-level task column, extra columns. Columns are found by their header text, never by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .bureaus import is_office, short_name, split_bureaus
from .findings import Finding, LedgerError, Severity
from .fsutil import check_ooxml
from .model import ALL_MEMBERS, Bureau, Ledger, Task
from .targets import clean, is_none_mark, parse_deliverable, parse_frequency, parse_indicators, parse_metrics

if TYPE_CHECKING:
    from docx.table import Table

_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年?")
_ROLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("id", re.compile(r"序号|编号")),
    ("category", re.compile(r"指标分类|分类|类别|领域")),
    ("lead", re.compile(r"牵头")),
    ("responsible", re.compile(r"责任单位|配合单位|参与单位|协同单位|责任部门|配合部门")),
    ("note", re.compile(r"备注|说明")),
    ("task", re.compile(r"任务|工作内容|重点工作|主要内容|建设内容|指标名称")),
]


@dataclass
class _Columns:
    id: int | None = None
    category: int | None = None
    task: list[int] = field(default_factory=list)
    years: dict[int, int] = field(default_factory=dict)  # year → grid column
    lead: int | None = None
    responsible: int | None = None
    note: int | None = None
    extra: dict[int, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    ledger: Ledger
    findings: list[Finding]


def _grid(table: Table) -> list[list[tuple[str, object]]]:
    """Rows of (text, cell identity) per grid column; merged cells repeat with the same identity."""
    rows = []
    for row in table.rows:
        cells = row.cells
        rows.append([(c.text.strip(), c._tc) for c in cells])
    return rows


def _map_columns(header_rows: list[list[tuple[str, object]]]) -> _Columns | None:
    ncols = max(len(r) for r in header_rows)
    cols = _Columns()
    for ci in range(ncols):
        texts = [r[ci][0] for r in header_rows if ci < len(r)]
        joined = clean(" ".join(dict.fromkeys(texts)))
        year = next((int(m.group(1)) for t in texts if (m := _YEAR_RE.fullmatch(clean(t).replace(" ", "")))), None)
        if year is not None:
            cols.years[year] = ci
            continue
        for role, pat in _ROLE_PATTERNS:
            if pat.search(joined):
                if role == "task":
                    cols.task.append(ci)
                elif getattr(cols, role) is None:
                    setattr(cols, role, ci)
                break
        else:
            if joined and not re.search(r"年度|分解|目标", joined):
                cols.extra[ci] = joined
    if not cols.task or (cols.lead is None and cols.responsible is None):
        return None
    return cols


def _is_header_row(row: list[tuple[str, object]], cols: _Columns | None = None) -> bool:
    texts = {clean(t) for t, _ in row}
    return bool(texts & {"序号", "牵头单位", "责任单位", "指标分类", "重点任务"})


def _find_ledger_table(doc: object) -> tuple[Table, _Columns, int]:
    for table in doc.tables:  # type: ignore[attr-defined]
        grid = _grid(table)
        if len(grid) < 2:
            continue
        n_header = 0
        while n_header < min(len(grid), 4) and _is_header_row(grid[n_header]):
            n_header += 1
        if n_header == 0:
            continue
        cols = _map_columns(grid[:n_header])
        if cols is not None:
            return table, cols, n_header
    raise LedgerError("文档中没有找到任务台账表格（需要含“重点任务”“牵头单位”或“责任单位”表头的表格）。", code="no-ledger-table")


def _title_of(doc: object, fallback: str) -> str:
    for p in doc.paragraphs:  # type: ignore[attr-defined]
        t = p.text.strip()
        if t:
            return t
    return fallback


def open_docx(path: Path) -> object:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    path = Path(path)
    if not path.exists():
        raise LedgerError(f"找不到文件 {path}。请检查路径。", code="not-found")
    if path.suffix.lower() in (".doc", ".wps"):
        raise LedgerError(f"{path.name}：这是旧版 Word（.doc/.wps）文件。请用 Word 或 WPS 打开后“另存为” .docx 格式再导入。", code="old-format")
    check_ooxml(path, kind="Word")
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as e:
        raise LedgerError(f"{path.name}：不是有效的 Word（.docx）文件，无法打开。请用 Word/WPS 重新保存为 .docx。", code="not-docx") from e
    except Exception as e:  # lxml or zip errors in a damaged package
        raise LedgerError(f"{path.name}：文件已损坏，无法读取（{type(e).__name__}）。请重新保存后再导入。", code="corrupt") from e


def import_docx(path: Path) -> ImportResult:
    """Read the first ledger-shaped table of a .docx into a Ledger, with findings for what looked odd."""
    path = Path(path)
    doc = open_docx(path)
    table, cols, n_header = _find_ledger_table(doc)
    grid = _grid(table)
    findings: list[Finding] = []
    years = sorted(cols.years)
    tasks: list[Task] = []
    last_category = ""
    last_group = ""
    for ri, row in enumerate(grid[n_header:], start=n_header + 1):
        if _is_header_row(row) or not any(t for t, _ in row):
            continue

        def text(ci: int | None, row: list[tuple[str, object]] = row) -> str:
            return row[ci][0] if ci is not None and ci < len(row) else ""

        tid = clean(text(cols.id)).rstrip(".、") or str(len(tasks) + 1)
        category = text(cols.category) or last_category
        last_category = category
        task_cells = [row[ci] for ci in cols.task if ci < len(row)]
        group, item = "", None
        if len(task_cells) >= 2 and task_cells[0][1] is not task_cells[1][1]:
            group, item = task_cells[0][0], task_cells[1][0] or None
            if not group and item:
                group = last_group
        elif task_cells:
            group = task_cells[0][0]
        last_group = group
        if not group and item:
            group, item = item, None
        breakdown = {y: text(ci) for y, ci in cols.years.items()}
        lead = split_bureaus(text(cols.lead))
        responsible = split_bureaus(text(cols.responsible))
        note_parts = [text(cols.note)] if cols.note is not None else []
        note_parts += [f"{h}：{text(ci)}" for ci, h in cols.extra.items() if text(ci)]
        spans = len({id(row[ci][1]) for ci in cols.years.values()}) == 1 and len(cols.years) > 1
        plan_text = "\n".join(dict.fromkeys(t for t in (group, item or "") if t))
        break_texts = list(dict.fromkeys(t for t in breakdown.values() if not is_none_mark(t)))
        metrics = [] if spans else parse_metrics(plan_text, breakdown, name_text=item or group)
        indicators = parse_indicators(plan_text + "。" + "。".join(break_texts))
        freq_text = "。".join([item or ""] + break_texts) if not metrics else ""
        frequency, count = parse_frequency(freq_text)
        deliverable = None
        if not metrics and frequency is None:
            deliverable = parse_deliverable(break_texts, [item or "", group])
        task = Task(
            id=tid,
            category=category,
            task=group,
            item=item,
            breakdown=breakdown,
            lead=lead,
            responsible=responsible,
            metrics=metrics,
            indicators=indicators,
            frequency=frequency,  # type: ignore[arg-type]
            frequency_count=count,
            deliverable=deliverable,
            note="；".join(p for p in note_parts if p),
        )
        if not lead:
            findings.append(Finding("no-lead", f"第 {tid} 项任务没有牵头单位。请在定义表中补填。", Severity.WARNING,
                                    file=path.name, sheet="表格", cell=f"第{ri}行"))
        tasks.append(task)
    if not tasks:
        raise LedgerError(f"{path.name}：台账表格中没有任务行。", code="no-tasks")
    ids = [t.id for t in tasks]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        findings.append(Finding("duplicate-id", f"序号 {dup} 出现了多次。请在定义表中改为不同的序号。", Severity.WARNING, file=path.name))
    bureaus = _bureaus_of(tasks)
    office = next((b.name for b in bureaus if is_office(b.name)), "")
    return ImportResult(
        Ledger(title=_title_of(doc, path.stem), years=years, bureaus=bureaus, tasks=tasks, office=office),
        findings,
    )


def _bureaus_of(tasks: list[Task]) -> list[Bureau]:
    seen: list[str] = []
    for t in tasks:
        for n in t.lead + t.responsible:
            if n != ALL_MEMBERS and n not in seen:
                seen.append(n)
    return [Bureau(name=n, short_name=short_name(n), member=not is_office(n)) for n in seen]
