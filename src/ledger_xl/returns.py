"""Returns handed back: a refused form sent back filled in and marked, and what each return changed.

A bureau whose return is refused gets its own form back — a fresh, signed template for its period with
every value it typed in place (the unreadable ones exactly as typed), each cell with a finding red with
the message in a comment, and a first sheet 退回说明 listing them with links — so it corrects a few
cells instead of retyping the form; the corrected copy is an ordinary template to ingest. A return
refused for the whole file (old format, another ledger, changed layout) cannot be handed back: its
message says what to do instead.

What each return typed is stored with it (`Store.typed_of`, see `ingest.typed_entry`), accepted or
refused; the history of a bureau's returns for a period compares each with the one before.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .codes import Code
from .findings import Finding, Severity
from .layout import FORM_SHEET, KINDS, META_SHEET, RETURN_SHEET, FieldSpec
from .model import Ledger, Period, fmt_number
from .templates import (
    HELP_LINE_PT,
    LINE_PT,
    MAX_ROW_PT,
    break_text,
    cn_date,
    print_width,
    safe_filename,
    write_template,
)

if TYPE_CHECKING:
    from .store import Store, Submission
    from .workspace import Workspace

FieldKey = tuple[str | None, str, int]  # (task id, kind, index): the same field in any copy of a unit's form
# one typed field: [task id, kind, index, cell, cell kind, value] (see ingest.typed_entry)
Entry = list[Any]
SUFFIX = "_退回修改.xlsx"
RED = "#FF9B9B"
ORANGE = "#FFD08A"


def key_of(entry: Entry) -> FieldKey:
    return (entry[0], entry[1], int(entry[2]))


def entries_of(typed: str | None) -> list[Entry] | None:
    return None if typed is None else json.loads(typed)


def annotated_path(outputs: Path, bureau: str, period: str) -> Path:
    """Where a unit's annotated copy for a period is written: outputs/returns/<period>/<unit>_退回修改.xlsx."""
    return Path(outputs) / "returns" / period / f"{safe_filename(bureau)}{SUFFIX}"


def annotatable(findings: Iterable[Finding], entries: list[Entry] | None) -> bool:
    """Whether a refused return can be handed back filled in: its form was read, and every error is about
    one of its input cells. Refusals of the whole file (not our template, another ledger, locked content
    changed, data on another sheet) cannot: there is no form of theirs to hand back."""
    if entries is None:
        return False
    cells = {e[3] for e in entries}
    errors = [f for f in findings if f.severity is Severity.ERROR]
    return bool(errors) and all(f.sheet == FORM_SHEET and f.cell in cells for f in errors)


def shown(entry: Entry | None, ledger: Ledger | None = None) -> str:
    """A typed value as a person sees it in the cell ("" when blank): 18% for 0.18 in a percentage cell."""
    if entry is None or entry[4] == "":
        return ""
    kind, value = entry[4], entry[5]
    if kind == "n":
        if entry[1] == "ind_value" and ledger is not None and _is_percent(ledger, entry):
            return f"{fmt_number(float(value) * 100)}%"
        return fmt_number(float(value))
    if kind == "b":
        return "TRUE" if value else "FALSE"
    if kind == "d":  # ISO text: a date, or a date and time
        text = str(value)
        return text[:10] if text.endswith("T00:00:00") else text.replace("T", " ")
    return str(value)


def _is_percent(ledger: Ledger, entry: Entry) -> bool:
    task = next((t for t in ledger.tasks if t.id == entry[0]), None)
    idx = int(entry[2])
    return task is not None and idx < len(task.indicators) and task.indicators[idx].unit == "%"


# ---------------------------------------------------------------- the annotated copy


@dataclass
class Annotation:
    """The template hook that fills a fresh form with what a bureau typed and marks its findings."""

    ledger: Ledger
    bureau: str
    period: Period
    file_name: str
    received_at: str
    entries: list[Entry]
    findings: list[Finding]
    sheet: Any = None

    def before(self, wb: Any) -> None:
        self.sheet = wb.add_worksheet(RETURN_SHEET)

    def typed(self) -> dict[FieldKey, str]:
        return {key_of(e): shown(e, self.ledger) for e in self.entries if e[4] != ""}

    def after(self, wb: Any, form: Any, fields: list[FieldSpec]) -> None:
        new_cell = {(f.task_id, f.kind, f.index): f for f in fields}
        for e in self.entries:
            spec = new_cell.get(key_of(e))
            if spec is not None:
                _prefill(form, spec, e)
        rows = self._rows(new_cell)
        _mark(wb, form, rows)
        _explain(wb, self.sheet, self, rows)

    def _rows(self, new_cell: dict[FieldKey, FieldSpec]) -> list[_Row]:
        """One row per finding: where it now is, the field, what was typed, the message."""
        by_old_cell = {e[3]: e for e in self.entries}
        out = []
        for f in self.findings:
            e = by_old_cell.get(f.cell or "") if f.sheet == FORM_SHEET else None
            spec = new_cell.get(key_of(e)) if e is not None else None
            label = (f"第 {spec.task_id} 项 {spec.label}" if spec.task_id else spec.label) if spec else ""
            out.append(_Row(f, spec.cell if spec else None, label, shown(e, self.ledger) if e else (f.value or "")))
        for e in self.entries:  # a field the ledger no longer has: its value is said, never dropped unseen
            if e[4] != "" and key_of(e) not in new_cell:
                gone = Finding.of(Code.FIELD_GONE, sheet=FORM_SHEET, cell=e[3])
                out.append(_Row(gone, None, _generic_label(key_of(e)), shown(e, self.ledger)))
        return out


@dataclass
class _Row:
    finding: Finding
    cell: str | None  # in the new copy
    label: str
    typed: str


def _prefill(form: Any, spec: FieldSpec, entry: Entry) -> None:
    """Write what was typed into the new form's cell, keeping the cell's own format (unlocked, number
    format): xlsxwriter keeps each written cell with its format in Worksheet.table."""
    from xlsxwriter.utility import xl_cell_to_rowcol

    r, c = xl_cell_to_rowcol(spec.cell)
    fmt = form.table.get(r, {}).get(c)
    fmt = getattr(fmt, "format", None)
    kind, value = entry[4], entry[5]
    if kind == "":
        return
    if kind == "n":
        form.write_number(r, c, float(value), fmt)
    elif kind == "b":
        form.write_boolean(r, c, bool(value), fmt)
    elif kind == "d" and KINDS.get(spec.kind) == "date":
        form.write_datetime(r, c, dt.datetime.fromisoformat(str(value)), fmt)
    else:
        form.write_string(r, c, shown(entry) if kind == "d" else str(value), fmt)


def _merged_extent(form: Any, r: int, c: int) -> tuple[int, int, int, int]:
    for r1, c1, r2, c2 in getattr(form, "merge", []):
        if r1 == r and c1 == c:
            return r1, c1, r2, c2
    return r, c, r, c


def _mark(wb: Any, form: Any, rows: list[_Row]) -> None:
    """Each cell with a finding: filled red (orange for a mere 提示) and a comment with what to do."""
    from xlsxwriter.utility import xl_cell_to_rowcol

    red = wb.add_format({"bg_color": RED, "pattern": 1})
    orange = wb.add_format({"bg_color": ORANGE, "pattern": 1})
    notes: dict[str, list[Finding]] = {}
    for row in rows:
        if row.cell:
            notes.setdefault(row.cell, []).append(row.finding)
    for cell, found in notes.items():
        r, c = xl_cell_to_rowcol(cell)
        error = any(f.severity is Severity.ERROR for f in found)
        r1, c1, r2, c2 = _merged_extent(form, r, c)
        # a conditional fill overlays the cell's own format (unlocked, number format, validation) unchanged
        form.conditional_format(r1, c1, r2, c2, {"type": "formula", "criteria": "=TRUE", "format": red if error else orange})
        text = "\n".join(f"{'【需修改】' if f.severity is Severity.ERROR else '【提示】'}{f.message}" for f in found)[:30000]
        form.write_comment(r, c, text, {"author": "ledger-xl", **comment_scale(text), "font_name": "宋体", "font_size": 10})


# a comment box as xlsxwriter draws it at scale 1: 128 × 74 px (96 px to the inch), its text 10 pt 宋体
COMMENT_W_PX, COMMENT_H_PX, COMMENT_INSET_PT = 128, 74, 8


def comment_scale(text: str) -> dict[str, float]:
    """The size of a finding's comment box (x_scale, y_scale) holding its whole text: Excel and WPS show a
    comment at the size the file gives it and cut what does not fit (a box 1.6 tall, 0.4 more a finding, cut
    two long findings on one cell after seven lines). Twice the width for a text of more than twelve lines."""
    for x_scale in (2.4, 4.8):
        room = (COMMENT_W_PX * x_scale * 0.75 - COMMENT_INSET_PT) / 5 * 0.9  # half-characters a line, with slack
        lines = sum(max(1, math.ceil(print_width(p) / room)) for p in text.split("\n"))
        if lines <= 12:
            break
    height_pt = lines * LINE_PT + COMMENT_INSET_PT
    return {"x_scale": x_scale, "y_scale": round(min(40.0, max(1.6, height_pt / 0.75 / COMMENT_H_PX)), 2)}


def _explain(wb: Any, sh: Any, note: Annotation, rows: list[_Row]) -> None:
    """The first sheet, 退回说明: why the form came back, how to correct it, and every finding with a link."""
    title = wb.add_format({"font_name": "黑体", "font_size": 15, "align": "center", "valign": "vcenter"})
    k_f = wb.add_format({"font_name": "黑体", "font_size": 11, "valign": "top"})
    v_f = wb.add_format({"font_name": "宋体", "font_size": 11, "text_wrap": True, "valign": "top"})
    cell_base = {"font_name": "宋体", "font_size": 10, "text_wrap": True, "valign": "top", "border": 1}
    head = wb.add_format({**cell_base, "bold": True, "align": "center", "bg_color": "#D9E1F2"})
    body = wb.add_format(cell_base)
    centred = wb.add_format({**cell_base, "align": "center"})
    link = wb.add_format({**cell_base, "font_color": "#0563C1", "underline": 1, "align": "center"})
    widths = [6, 10, 30, 18, 60, 8]
    for c, w in enumerate(widths):
        sh.set_column(c, c, w)
    sh.merge_range(0, 0, 0, len(widths) - 1, "退回修改说明", title)
    sh.set_row(0, 30)
    n_err = sum(1 for r in rows if r.finding.severity is Severity.ERROR)
    n_warn = len(rows) - n_err
    received = note.received_at.replace("T", " ")[:16]
    info = [
        ("报送单位", note.bureau),
        ("报送期", note.period.label),
        ("退回的文件", f"{note.file_name}（收到于 {received}）"),
        ("退回原因", f"有 {n_err} 处需要修改" + (f"，另有 {n_warn} 处提示" if n_warn else "") + "，见下表；表格中标红的格子就是这些地方。"),
        ("怎么改", "1. 点下表“位置”一列的链接，或打开“填报表”：红色格子必须修改，橙色格子请核对；鼠标移到格子上可看到说明。\n"
                 "2. 贵单位原来填写的内容都已保留在表中，只需修改标出的格子，不必重填。\n"
                 "3. 改好后保存（仍为 .xlsx 格式），把本文件直接发回即可，不必删除本页。"),
    ]
    for r, (k, v) in enumerate(info, start=2):  # the label over 序号 and 位置, the text over the rest
        sh.merge_range(r, 0, r, 1, k, k_f)
        v = break_text(v, sum(widths[2:]), 11)
        sh.merge_range(r, 2, r, len(widths) - 1, v, v_f)
        sh.set_row(r, max(18, HELP_LINE_PT * (v.count("\n") + 1) + 2))
    r0 = len(info) + 3
    for c, h in enumerate(["序号", "位置", "填报项目", "原填内容", "问题和修改方法", "级别"]):
        sh.write_string(r0, c, h, head)
    for i, row in enumerate(rows, start=1):
        r = r0 + i
        f = row.finding
        sh.write_number(r, 0, i, centred)
        if row.cell:
            sh.write_url(r, 1, f"internal:'{FORM_SHEET}'!{row.cell}", link, row.cell, f"转到填报表 {row.cell}")
        else:
            sh.write_string(r, 1, f.sheet or "整个文件", body)
        texts = [break_text(t, widths[c]) for c, t in ((2, row.label), (3, row.typed or ("（未填）" if row.cell else "")),
                                                       (4, f.message))]
        for c, text in enumerate(texts, start=2):
            sh.write_string(r, c, text, body)
        sh.write_string(r, 5, "需修改" if f.severity is Severity.ERROR else "提示", centred)
        sh.set_row(r, min(MAX_ROW_PT, LINE_PT * max(t.count("\n") + 1 for t in texts) + 4))
    sh.set_landscape()
    sh.set_paper(9)
    sh.fit_to_pages(1, 0)
    sh.repeat_rows(r0)
    sh.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    sh.activate()
    sh.set_first_sheet()


def write_annotated_copy(ledger: Ledger, bureau: str, period: Period, path: Path, *, entries: list[Entry],
                         findings: list[Finding], file_name: str, received_at: str, key: bytes, ledger_id: str,
                         prior: dict[tuple[str, int], float] | None = None, **settings: Any) -> Path:
    """Write the annotated copy atomically with the same writer as `templates` (`settings`: deadline_rule,
    contact, issuer, as for a template)."""
    hook = Annotation(ledger, bureau, period, file_name, received_at, entries, findings)
    write_template(ledger, bureau, period, path, key=key, ledger_id=ledger_id, prior=prior, hook=hook, **settings)
    return path


def hand_back(outputs: Path, ledger: Ledger, store: Store, sub: Submission, settings: dict[str, Any], *,
              typed: str | None = None, findings: list[Finding] | None = None) -> Path | None:
    """Write the annotated copy of a refused submission into `outputs`; None when it was refused for the
    whole file. `settings`: deadline_rule, contact, issuer, as for the unit's template."""
    if sub.bureau is None or sub.period is None or sub.outcome != "refused":
        return None
    entries = entries_of(typed if typed is not None else store.typed_of([sub.id]).get(sub.id))
    found = findings if findings is not None else store.submission_findings(sub.id)
    if not annotatable(found, entries) or ledger.bureau(sub.bureau) is None:
        return None
    period = Period.parse(sub.period)
    if period.year not in ledger.years:
        return None
    path = annotated_path(outputs, sub.bureau, sub.period)
    return write_annotated_copy(ledger, sub.bureau, period, path, entries=entries or [], findings=found, file_name=sub.file_name,
                                received_at=sub.received_at, key=store.template_key, ledger_id=store.ledger_id,
                                prior=store.cumulative_before(ledger, period), **settings)


def annotated_copy(ws: Workspace, bureau: str, period: str) -> Path | None:
    """The annotated copy of a unit's return for a period (outputs/returns/<period>/<unit>_退回修改.xlsx) when
    its latest return was refused and can be handed back — written again if it is missing —, else None.
    Mail attaches this instead of a blank template."""
    from .workspace import open_store, template_settings, ws_ledger

    with open_store(ws, readonly=True) as store:
        latest = latest_return(store, bureau, period)
        if latest is None or latest.outcome != "refused":
            return None
        path = annotated_path(ws.outputs, bureau, period)
        if path.exists():
            return path
        ledger = ws_ledger(ws)
        return hand_back(ws.outputs, ledger, store, latest, template_settings(ws, ledger))


def latest_return(store: Store, bureau: str, period: str) -> Submission | None:
    subs = store.returns_of(bureau, period)
    return subs[-1] if subs else None


def after_ingest(outputs: Path, ledger: Ledger, store: Store, refused: list[tuple[Submission, str | None, list[Finding]]],
                 merged: Iterable[tuple[str, str]], settings: dict[str, Any]) -> dict[int, Path | str]:
    """After an ingest: the annotated copy of each unit whose latest return was refused in it, and no stale
    copy left for a unit whose latest return is now accepted. Returns submission id → the copy written, or
    why it could not be (the store has what it needs: `annotated_copy` writes it again later)."""
    from .findings import LedgerError

    out: dict[int, Path | str] = {}
    for sub, typed, findings in refused:
        assert sub.bureau is not None and sub.period is not None
        latest = latest_return(store, sub.bureau, sub.period)
        if latest is None or latest.id != sub.id:
            continue  # a later return of this unit and period was received already
        try:
            path = hand_back(outputs, ledger, store, sub, settings, typed=typed, findings=findings)
            if path is None:
                annotated_path(outputs, sub.bureau, sub.period).unlink(missing_ok=True)
        except LedgerError as e:
            out[sub.id] = f"退回修改表未能写出：{e.message}"
        except OSError as e:
            out[sub.id] = f"退回修改表未能写出（{e.strerror or type(e).__name__}）。运行 ledger-xl mail remind 时会再次生成。"
        else:
            if path is not None:
                out[sub.id] = path
    if (Path(outputs) / "returns").is_dir():
        for bureau, period in set(merged):
            path = annotated_path(outputs, bureau, period)
            if path.exists() and (latest := latest_return(store, bureau, period)) is not None and latest.outcome == "merged":
                path.unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------- history


@dataclass(frozen=True, slots=True)
class Change:
    cell: str
    field: str  # the field's label, e.g. "第 9 项 投入运营的……：本期新增（个）"
    old: str | None  # as shown in the cell; None when blank
    new: str | None
    kind: str = ""

    def to_json(self) -> dict[str, str | None]:
        return {"cell": self.cell, "field": self.field, "old": self.old, "new": self.new}

    @property
    def short(self) -> str:
        """"I15 3→5", or "J9 文字修改" for a text field."""
        if KINDS.get(self.kind) == "text":
            return f"{self.cell} 文字修改"
        return f"{self.cell} {_cut(self.old) or '空'}→{_cut(self.new) or '空'}"


def _cut(text: str | None, n: int = 12) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def changes_between(before: list[Entry], after: list[Entry], ledger: Ledger | None = None,
                    labels: dict[FieldKey, str] | None = None) -> list[Change]:
    """What a return changed against the one before, field by field, in the later form's order."""
    old = {key_of(e): e for e in before if e[4] != ""}
    new = {key_of(e): e for e in after if e[4] != ""}
    cells = {key_of(e): e[3] for e in before} | {key_of(e): e[3] for e in after}
    order = [key_of(e) for e in after] + [key_of(e) for e in before]
    out: list[Change] = []
    seen: set[FieldKey] = set()
    for k in order:
        if k in seen:
            continue
        seen.add(k)
        a, b = shown(old.get(k), ledger), shown(new.get(k), ledger)
        if a != b:
            label = (labels or {}).get(k) or _generic_label(k)
            out.append(Change(cells[k], label, a or None, b or None, k[1]))
    return out


_KIND_LABEL = {"metric": "本期新增", "ind_value": "指标当前值", "ind_baseline": "期初基数", "ind_current": "本期实际数",
               "duty_count": "本期完成次数", "deliv_status": "成果进展", "deliv_date": "完成日期", "deliv_name": "文件名称",
               "deliv_no": "文号", "progress": "工作进展", "problems": "存在问题", "plan": "下一步计划", "evidence": "佐证材料",
               "filler": "填报人", "phone": "联系电话", "reviewer": "审核人（单位负责人）", "fill_date": "填报日期"}


def _generic_label(k: FieldKey) -> str:
    task, kind, idx = k
    what = _KIND_LABEL.get(kind, kind) + (f"（第 {idx + 1} 个）" if idx else "")
    return f"第 {task} 项 {what}" if task else what


def summary(changes: list[Change], limit: int = 8) -> str:
    """The changes in one cell of the master ledger: "I15 3→5；J9 文字修改"."""
    parts = [c.short for c in changes[:limit]]
    if len(changes) > limit:
        parts.append(f"等共 {len(changes)} 处")
    return "；".join(parts)


def change_notes(store: Store, subs: list[Submission]) -> dict[int, str]:
    """Submission id → what it changed against the unit's return before it (for 提交记录). Only units with
    more than one return for a period are looked at: most have one, and nothing to compare."""
    groups: dict[tuple[str, str], list[Submission]] = {}
    for s in subs:
        if s.bureau and s.period:
            groups.setdefault((s.bureau, s.period), []).append(s)
    several = [sorted(g, key=lambda s: (s.received_at, s.id)) for g in groups.values() if len(g) > 1]
    typed = store.typed_of(s.id for g in several for s in g)
    out: dict[int, str] = {}
    for g in several:
        prev: list[Entry] | None = None
        for s in g:
            cur = entries_of(typed.get(s.id))
            if cur is None:
                continue
            if prev is not None:
                out[s.id] = summary(changes_between(prev, cur)) or "无改动"
            prev = cur
    return out


@dataclass
class ReturnRecord:
    file: str
    sha256: str
    received_at: str
    outcome: str  # merged / refused
    findings: int
    changes: list[Change]
    compared: bool  # False for the first readable return, and for one whose form could not be read
    readable: bool = True  # False: refused as a whole file, its form never read

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "sha256": self.sha256, "received_at": self.received_at, "outcome": self.outcome,
                "findings": self.findings, "changes": [c.to_json() for c in self.changes]}


@dataclass
class History:
    bureau: str
    period: Period
    returns: list[ReturnRecord]

    def to_json(self) -> dict[str, object]:
        return {"bureau": self.bureau, "period": self.period.code, "submissions": [r.to_json() for r in self.returns]}


def bureau_history(root: Path, ledger: Ledger, store: Store, bureau: str, period: Period) -> History:
    """A unit's returns for a period, oldest first, each with what it changed against the readable one before
    (`root`: the workspace, where the kept originals' archive paths start)."""
    subs = store.returns_of(bureau, period.code)
    typed = store.typed_of(s.id for s in subs)
    records: list[ReturnRecord] = []
    prev: list[Entry] | None = None
    for s in subs:
        cur = entries_of(typed.get(s.id))
        changes: list[Change] = []
        if cur is not None and prev is not None:
            changes = changes_between(prev, cur, ledger, _labels(Path(root) / s.archive_path))
        records.append(ReturnRecord(s.file_name, s.sha256, s.received_at, s.outcome, s.n_errors + s.n_warnings, changes,
                                    cur is not None and prev is not None, cur is not None))
        prev = cur if cur is not None else prev
    return History(bureau, period, records)


def _labels(archived: Path) -> dict[FieldKey, str]:
    """The field labels of the form as it was sent (from the kept original's metadata); {} if unreadable."""
    from .ingest import read_meta
    from .xlsxread import XlsxError, read_package

    try:
        meta = read_meta(read_package(archived, sheets={META_SHEET}))
    except (XlsxError, OSError, ValueError):
        return {}
    if meta is None:
        return {}
    return {(f.task_id, f.kind, f.index): (f"第 {f.task_id} 项 {f.label}" if f.task_id else f.label) for f in meta.fields}


def when_shown(received_at: str) -> str:
    try:
        t = dt.datetime.fromisoformat(received_at)
    except ValueError:
        return received_at
    return f"{cn_date(t.date())} {t:%H:%M}"
