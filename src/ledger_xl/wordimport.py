"""The Word 台账 table → the ledger model.

Offices circulate the ledger as a Word table whose layout varies: one or two header rows, headers repeated
on every page, a text spanning the year columns, categories merged down several rows, a one- or
two-level task column, extra columns. This module only turns the document into the shared table model
(tablemodel) with the lines above and below each table; ledgerimport reads it, as it reads Excel ledgers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .codes import Code
from .findings import LedgerError
from .fsutil import check_ooxml
from .ledgerimport import ImportResult
from .tablemodel import TableModel, TCell

if TYPE_CHECKING:
    from docx.table import Table

def open_docx(path: Path) -> object:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    path = Path(path)
    if not path.exists():
        raise LedgerError.of(Code.NOT_FOUND, what="文件", path=path, fix="请检查路径")
    if path.suffix.lower() in (".doc", ".wps"):
        raise LedgerError.of(Code.OLD_FORMAT, file=path.name, what="旧版 Word（.doc/.wps）", app="Word 或 WPS", ext=".docx", then="再导入")
    check_ooxml(path, kind="Word")
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as e:
        raise LedgerError.of(Code.NOT_DOCX, file=path.name) from e
    except Exception as e:  # lxml or zip errors in a damaged package
        raise LedgerError.of(Code.CORRUPT, file=path.name, problem=f"文件已损坏，无法读取（{type(e).__name__}）",
                             fix="请重新保存后再导入") from e


def _body_items(doc: object) -> list[tuple[str, object]]:
    """The document body in order: ("p", text) for a paragraph, ("t", Table) for a table."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[tuple[str, object]] = []
    body = doc.element.body  # type: ignore[attr-defined]
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            out.append(("p", Paragraph(child, doc).text))  # type: ignore[arg-type]
        elif tag == "tbl":
            out.append(("t", Table(child, doc)))  # type: ignore[arg-type]
    return out


def table_model(table: Table, file: str) -> TableModel:
    """A Word table as the shared table model: merged cells (gridSpan, vMerge) repeat with one key."""
    rows = []
    for row in table.rows:
        rows.append([TCell(c.text.strip(), c._tc, "") for c in row.cells])
    return TableModel(file=file, sheet="表格", rows=rows, word=True)


def models_of(doc: object, file: str) -> list[TableModel]:
    """Every table of the document with the paragraphs between it and its neighbours as lines above/below."""
    items = _body_items(doc)
    models: list[TableModel] = []
    lines: list[str] = []
    for kind, value in items:
        if kind == "p":
            if str(value).strip():
                lines.append(str(value).strip())
            continue
        tm = table_model(value, file)  # type: ignore[arg-type]
        tm.above = lines
        if models:
            models[-1].below = lines
        models.append(tm)
        lines = []
    if models:
        models[-1].below = lines
    return models


def import_docx(path: Path) -> ImportResult:
    """Read the first ledger-shaped table of a .docx into a Ledger, with findings for what looked odd.

    A ledger split into several tables (one per category, or continued after a page) is read as one: a
    following table of the same width continues it, its header (if repeated) skipped and a heading line
    between the tables ("二、城乡建设") kept as a category row.
    """
    from .ledgerimport import find_header, read_table, refuse_no_header

    path = Path(path)
    doc = open_docx(path)
    models = [tm for tm in models_of(doc, path.name) if len(tm.rows) >= 2]
    for k, tm in enumerate(models):
        found = find_header(tm)
        if found is not None:
            _join_continuations(tm, found[0] + found[1], models[k + 1 :])
            return read_table(tm, fallback_title=path.stem)
    if models:
        raise refuse_no_header(models[0])
    raise LedgerError.of(Code.NO_LEDGER_TABLE, file=path.name,
                         problem="文档中没有找到任务台账表格（需要含“重点任务”和“牵头单位”或“责任单位”表头的表格）", fix="")



def _join_continuations(tm: TableModel, n_head: int, rest: list[TableModel]) -> None:
    """Append the rows of the tables that continue `tm` (same width; same header or none)."""
    from .ledgerimport import find_header

    header = [[c.text for c in row] for row in tm.rows[n_head - 1 : n_head]]
    for nxt in rest:
        if nxt.width != tm.width:
            break
        found = find_header(nxt)
        if found is not None and [[c.text for c in row] for row in nxt.rows[found[0] + found[1] - 1 : found[0] + found[1]]] != header:
            break
        skip = found[0] + found[1] if found is not None else 0
        headings = [line for line in nxt.above if len(line) <= 30]
        for line in headings[-1:]:  # the heading just above the table names its category
            key = object()
            tm.rows.append([TCell(line, key, "") for _ in range(tm.width)])
        tm.rows.extend(nxt.rows[skip:])
        tm.below = nxt.below
