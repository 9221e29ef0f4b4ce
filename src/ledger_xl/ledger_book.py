"""The master ledger workbook (outputs/master_ledger.xlsx): the clerk's view, rebuilt from the store.

Never loaded and saved: it is written anew each time (xlsxwriter, typed writes, so bureau text that looks
like a formula stays text), atomically.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .crashpoint import crash_point
from .fsutil import XLSXWRITER_OPTIONS, atomic_path
from .model import FREQUENCY_LABEL, DeadlineRule, Ledger, Metric, Period, Task
from .reporting import LATE, MISSING, ON_TIME, REFUSED, bureau_status
from .status import SHOWN_ORDER, Status
from .templates import wrapped_lines
from .textui import width as text_width

if TYPE_CHECKING:
    from .checks import CheckResult, TaskCheck
    from .store import Store, StoredValue, Submission

MAX_ROW_LINES = 6  # longer texts stay whole in the cell; the row stops growing so the sheet stays scannable
SEVERITY_CN = {"error": "错误", "warning": "提示", "info": "说明"}
STATUS_COLORS = {str(s): s.fill_color for s in SHOWN_ORDER}
# where a bureau's return stands, in 报送情况
STATE_COLORS = {ON_TIME: "#C6EFCE", LATE: "#FFEB9C", MISSING: "#FFC7CE", REFUSED: "#FFC7CE"}


# the stored kinds the master ledger shows as they were reported (progress texts: only the latest, read apart)
MASTER_KINDS = frozenset({"metric", "ind_value", "duty_count", "deliv_status"})


EXCEL_CELL_LIMIT = 32767


def fit_cell(text: str) -> str:
    """A text as one Excel cell can hold it: over 32,767 characters it is cut with a visible pointer to the
    full text (kept whole in the store and the archived original), never cut silently."""
    if len(text) <= EXCEL_CELL_LIMIT:
        return text
    pointer = (f"……（全文共 {len(text)} 字，超出 Excel 单元格上限，此处只显示前一部分；全文见原件 archive/ 中的报表，"
               "或 ledger-xl export 导出的 .csv）")
    return text[: EXCEL_CELL_LIMIT - len(pointer)] + pointer


class _Book:
    """The workbook being written, its formats, and the one way every sheet writes a table."""

    def __init__(self, wb: Any) -> None:
        add = wb.add_format
        self.wb = wb
        self.head = add({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "border": 1, "text_wrap": True,
                         "align": "center", "valign": "vcenter", "font_name": "黑体"})
        self.text = add({"text_wrap": True, "valign": "top", "border": 1, "font_size": 10})
        # General, not 0.##: Excel and WPS show 5 under 0.## as "5."
        self.num = add({"valign": "top", "border": 1, "num_format": "General", "font_size": 10})
        self.pct = add({"valign": "top", "border": 1, "num_format": "0.0%", "font_size": 10})
        self.title = add({"bold": True, "font_size": 14, "font_name": "黑体"})

    def put(self, ws: Any, r: int, c: int, v: object, fmt: object = None) -> None:
        """One cell, typed: numbers as numbers, text as text (never a formula), nothing as blank."""
        fmt = fmt or self.text
        if type(v) is str and v:  # most cells: tested first
            ws.write_string(r, c, v if len(v) <= EXCEL_CELL_LIMIT else fit_cell(v), fmt)
        elif v is None or v == "":
            ws.write_blank(r, c, None, fmt)
        elif isinstance(v, bool):
            ws.write_string(r, c, "是" if v else "否", fmt)
        elif isinstance(v, int | float):
            ws.write_number(r, c, v, self.num if fmt is self.text else fmt)
        else:
            ws.write_string(r, c, fit_cell(str(v)), fmt)

    def table(self, ws: Any, r0: int, headers: list[str], widths: list[int], rows: list[list[object]],
              formats: dict[int, object] | None = None, *, freeze_cols: int = 0) -> None:
        """A table with its header at row r0: columns fitted to their texts (headers included, CJK counted
        two), rows tall enough for wrapped texts, panes frozen below the header and right of `freeze_cols`."""
        for c, h in enumerate(headers):
            ws.write_string(r0, c, h, self.head)
        col_w = _fit_columns(ws, headers, widths, rows)
        n_cols = max([len(headers), *map(len, rows)])
        self._rows(ws, r0, rows, [(formats or {}).get(c, self.text) for c in range(n_cols)], col_w)
        ws.freeze_panes(r0 + 1, freeze_cols)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(r0)
        ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.5)
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.autofilter(r0, 0, r0 + max(len(rows), 1), len(headers) - 1)
        ws.set_row(r0, 32)

    def _rows(self, ws: Any, r0: int, rows: list[list[object]], fmts: list[object], col_w: list[int]) -> None:
        """The rows below the header at r0, each as tall as its most wrapped text (up to MAX_ROW_LINES), in one
        pass: a rebuild writes ~28,000 cells, most of them short text, written here without put's dispatch."""
        # a text fits one line when its width (see wrapped_lines: at most 2.5 a character) is within its column's:
        # seen from its length (most cells) or measured here in one step, and by wrapped_lines only when it wraps
        room = [2 * max(w - 1, 2) for w in col_w]
        one_line = [r // 5 for r in room]
        write_string, write_blank, write_number, put = ws.write_string, ws.write_blank, ws.write_number, self.put
        nums = [self.num if f is self.text else f for f in fmts]  # a figure in a text column: as put writes it
        for r, row in enumerate(rows, start=r0 + 1):
            lines = 1
            for c, v in enumerate(row):
                if type(v) is str:
                    if not v:
                        write_blank(r, c, None, fmts[c])
                        continue
                    write_string(r, c, v if len(v) <= EXCEL_CELL_LIMIT else fit_cell(v), fmts[c])
                    shown = v
                elif v is None:
                    write_blank(r, c, None, fmts[c])
                    continue
                elif type(v) is float or type(v) is int:  # a figure (not a bool: put writes 是/否)
                    write_number(r, c, v, nums[c])
                    shown = str(v)
                else:
                    put(ws, r, c, v, fmts[c])
                    shown = str(v)
                if "\n" in shown or len(shown) > one_line[c] and len(shown.encode()) + len(shown) > room[c]:
                    lines = max(lines, wrapped_lines(shown, col_w[c]))
            ws.set_row(r, 15 * min(lines, MAX_ROW_LINES) + 2)


def _fit_columns(ws: Any, headers: list[str], widths: list[int], rows: list[list[object]]) -> list[int]:
    """Each column as wide as its longest text up to its cap, and never narrower than its header's longest word."""
    col_w = []
    for c, w in enumerate(widths):
        longest = max([text_width(str(row[c] if row[c] is not None else ""), 2) for row in rows[:50]] or [0])
        head = text_width(headers[c], 2)
        # a header wraps at most once, and never inside a word: 累计计划 stays whole
        col_w.append(max(6, min(w, longest + 2), (head + 1) // 2 + 2 if head > 8 else head + 2))
        ws.set_column(c, c, col_w[-1])
    return col_w


def task_number(task_id: str) -> int | str:
    """序号 as a number when it is a whole number, so that it sorts and filters as one; 1.10 stays text."""
    return int(task_id) if task_id.isdigit() and task_id.isascii() else task_id


# the kinds 其他指标 shows the latest of (see _other_measures): indicators, duty counts, deliverables
_SHOWN_LATEST = frozenset({"ind_value", "duty_count", "deliv_status"})


def _latest_of_leads(values: list[StoredValue]) -> dict[tuple[str, str], tuple[str, str]]:
    """(task, kind+idx) → (period, shown) of the latest value a lead bureau reported."""
    latest: dict[tuple[str, str, int], StoredValue] = {}
    for v in values:  # keyed as stored; kind+idx made once a key, not once a value
        if v.kind in _SHOWN_LATEST and v.task_id and v.role == "lead" and (v.text is not None or v.num is not None):
            latest[(v.task_id, v.kind, v.idx)] = v
    return {(t, kind + str(i)): (v.period, v.text if v.text is not None else _num(v.num)) for (t, kind, i), v in latest.items()}


def _latest_progress(ledger: Ledger, store: Store) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(task, bureau, 'progress') → (period, text): the latest progress each lead and responsible bureau wrote."""
    wanted = {(t.id, b) for t in ledger.tasks for b in (*t.lead, *ledger.responsible_of(t))}
    return {(t, b, "progress"): got for (t, b), got in store.latest_texts("progress", wanted).items()}


@dataclass
class _TaskLine:
    """One metric of a task (or the task itself when it has none), as the 总台账 and the 一览表 show it."""

    task: Task
    metric: Metric | None
    first: bool  # the task's first line: its texts are shown here
    by_year: dict[int, float]
    planned: float | None
    actual: float | None
    target: float | None
    rate: float | None
    source: str
    others: list[tuple[str, str, str]]  # (as the 总台账 shows it, plan, latest) of indicators, duty and deliverable


def _task_lines(ledger: Ledger, series: dict[tuple[str, int], dict[str, tuple[float, str, str, str]]],
                latest_any: dict[tuple[str, str], tuple[str, str]]) -> list[_TaskLine]:
    out = []
    for t in ledger.tasks:
        others = _other_measures(t, latest_any)
        for i, m in enumerate(t.metrics or [None]):
            s = series.get((t.id, i), {}) if m else {}
            by_year = _actual_by_year(m, s) if m else {}
            planned, actual, target = _totals(m, by_year)
            rate = (actual / target) if (actual is not None and target) else None
            src = ""
            if s:
                last = max(s, key=_when)
                src = f"{s[last][2]} › 填报表 › {s[last][3]}（{last}）"
            out.append(_TaskLine(t, m, i == 0, by_year, planned, actual, target, rate, src, others))
    return out


def _other_measures(t: Task, latest_any: dict[tuple[str, str], tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The task's indicators, duty and deliverable as (what the 总台账 shows, the plan, the latest value)."""
    out = []
    for i, ind in enumerate(t.indicators):
        got = latest_any.get((t.id, f"ind_value{i}"))
        shown = (got[1] + ("%" if ind.unit == "%" else ":1")) if got else str(Status.NOT_REPORTED)
        out.append((f"{ind.threshold_label()}，最新 {shown}", ind.threshold_label(), shown))
    if t.frequency:
        got = latest_any.get((t.id, "duty_count0"))
        plan = f"{FREQUENCY_LABEL[t.frequency]}{t.frequency_count}次"
        out.append((f"最新次数 {got[1]}（{got[0]}）" if got else "次数：未报", plan, f"{got[1]}次（{got[0]}）" if got else str(Status.NOT_REPORTED)))
    if t.deliverable:
        got = latest_any.get((t.id, "deliv_status0"))
        not_reported = str(Status.NOT_REPORTED)
        out.append((f"成果：{got[1] if got else not_reported}", t.deliverable, got[1] if got else not_reported))
    return out


def write_master_ledger(ledger: Ledger, store: Store, path: Path, *, deadline_rule: DeadlineRule | None = None,
                        checks: CheckResult | None = None, values: list[StoredValue] | None = None) -> None:
    """`values` (current values including MASTER_KINDS): when the caller has fetched them already. The
    submissions and findings are read as the bounded sheets show them (a count per period, then the files of
    the periods shown): their cost stays that of a few periods however many the store holds."""
    import xlsxwriter

    from .store import metric_series

    rule = deadline_rule or DeadlineRule()
    values = values if values is not None else store.current_values(kinds=MASTER_KINDS)
    counts = store.submission_counts()
    latest_any = _latest_of_leads(values)
    latest_text = _latest_progress(ledger, store)
    lines = _task_lines(ledger, metric_series(ledger, values), latest_any)
    status_of = {t.id: t for t in checks.tasks} if checks else {}
    with atomic_path(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)
        wb.set_properties({"title": f"{ledger.title} 总台账", "author": "ledger-xl"})
        book = _Book(wb)
        overview = _sheet_overview(book, ledger, lines, status_of)
        _sheet_master(book, ledger, lines, latest_text, status_of)
        _sheet_submissions_by_period(book, ledger, store, counts, rule)
        recent = _recent_periods(counts)
        first = store.first_submission_of(recent) if recent is not None else 0
        _sheet_history(book, store, counts, recent, first)
        _sheet_findings(book, store, recent, first)
        overview.activate()
        crash_point("master-ledger")
        wb.close()


def _sheet_overview(book: _Book, ledger: Ledger, lines: list[_TaskLine], status_of: dict[str, TaskCheck]) -> Any:
    """一览表, the leaders' page: task, lead unit, plan, actual, rate and status in 11 pt on portrait A4,
    one page wide, so a programme of some thirty tasks prints on one or two pages."""
    ws = book.wb.add_worksheet("一览表")
    f = {k: book.wb.add_format({"font_size": 11, "border": 1, "valign": "vcenter", "text_wrap": True, **extra})
         for k, extra in (("text", {}), ("center", {"align": "center"}), ("num", {"align": "right", "num_format": "General"}),
                          ("pct", {"align": "right", "num_format": "0%"}))}
    head = book.wb.add_format({"bold": True, "font_size": 11, "border": 1, "align": "center", "valign": "vcenter",
                               "text_wrap": True, "bg_color": "#D9E1F2", "font_name": "黑体"})
    ws.merge_range(0, 0, 0, 6, f"{ledger.title}  重点任务一览表", book.wb.add_format(
        {"bold": True, "font_size": 14, "font_name": "黑体", "align": "center", "valign": "vcenter"}))
    ws.set_row(0, 30)
    headers = ["序号", "重点任务", "牵头单位", "计划", "实际", "完成率", "状态"]
    widths = [5, 31, 14, 14, 12, 7, 7]
    for c, (h, w) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(1, c, h, head)
        ws.set_column(c, c, w)
    ws.set_row(1, 22)
    r = 2
    for line in lines:
        t, m = line.task, line.metric
        check = status_of.get(t.id)
        name = t.title.rstrip("。；;") + (f"（{m.name}）" if m and len(t.metrics) > 1 else "")
        if m:
            plan = f"{_num(line.target)}{m.unit}" if line.target is not None else ""
            actual = f"{_num(line.actual)}{m.unit}" if line.actual is not None else str(Status.NOT_REPORTED)
        else:
            plan = "\n".join(o[1] for o in line.others)
            actual = "\n".join(o[2] for o in line.others)
        cells: list[tuple[object, object]] = [
            (task_number(t.id), f["center"]), (name, f["text"]), ("、".join(t.lead), f["text"]), (plan, f["text"]),
            (actual, f["text"]), (line.rate, f["pct"]), (check.status if check else "", f["center"])]
        for c, (v, fmt) in enumerate(cells):
            book.put(ws, r, c, v, fmt)
        need = max(wrapped_lines(str(v), widths[c] * 0.95) for c, (v, _) in enumerate(cells) if v is not None)
        ws.set_row(r, 15 * need + 5)
        r += 1
    for status, color in STATUS_COLORS.items():
        ws.conditional_format(2, 6, r - 1, 6, {"type": "cell", "criteria": "==", "value": f'"{status}"',
                                               "format": book.wb.add_format({"bg_color": color})})
    ws.freeze_panes(2, 2)
    ws.repeat_rows(1)
    ws.set_portrait()
    ws.set_paper(9)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.print_area(0, 0, r - 1, 6)
    return ws


def _sheet_master(book: _Book, ledger: Ledger, lines: list[_TaskLine], latest_text: dict[tuple[str, str, str], tuple[str, str]],
                  status_of: dict[str, TaskCheck]) -> None:
    """总台账: plan and actual per metric and year, rate, status, the bureaus' latest progress and the source cell."""
    ws = book.wb.add_worksheet("总台账")
    ws.write_string(0, 0, f"{ledger.title} 总台账（生成于 {dt.datetime.now():%Y-%m-%d %H:%M}）", book.title)
    years = ledger.years
    headers = ["序号", "指标分类", "重点任务", "牵头单位", "完成时限", "指标", "单位"]
    for y in years:
        headers += [f"{y}年计划", f"{y}年实际"]
    headers += ["累计计划", "累计实际", "完成率", "其他指标（最新）", "状态", "状态说明", "牵头单位最新进展", "责任单位进展", "数据来源"]
    rows: list[list[object]] = []
    for line in lines:
        t, m = line.task, line.metric
        check = status_of.get(t.id)
        first = line.first
        lead_progress = resp_progress = ""  # shown on the task's first line only
        if first:
            lead_progress = "；".join(f"{b}（{latest_text[(t.id, b, 'progress')][0]}）：{latest_text[(t.id, b, 'progress')][1]}"
                                     for b in t.lead if (t.id, b, "progress") in latest_text)
            resp_progress = "\n".join(f"{b}：{latest_text[(t.id, b, 'progress')][1]}" for b in ledger.responsible_of(t)
                                      if (t.id, b, "progress") in latest_text)
        label = (m.name + {"year_end": "（年末水平）", "per_year": "（当年数）"}.get(m.accumulation, "")) if m else ""
        row: list[object] = [task_number(t.id), t.category, t.title, "、".join(t.lead), t.deadline.isoformat() if t.deadline else "",
                             label, m.unit if m else ""]
        for y in years:
            row += [m.yearly.get(y, 0) if m else None, line.by_year.get(y)]
        row += [line.planned, line.actual, line.rate, "\n".join(o[0] for o in line.others) if first else "", check.status if check else "",
                "；".join(check.reasons) if check and first else "", lead_progress if first else "",
                resp_progress if first else "", line.source]
        rows.append(row)
    widths = [5, 12, 30, 14, 10, 16, 5] + [8] * (2 * len(years)) + [8, 8, 8, 24, 7, 24, 36, 36, 30]
    rate_col = 7 + 2 * len(years) + 2
    status_col = rate_col + 2
    book.table(ws, 1, headers, widths, rows, {rate_col: book.pct}, freeze_cols=3)  # 序号, 分类 and the task stay in view
    for status, color in STATUS_COLORS.items():
        ws.conditional_format(2, status_col, 1 + len(rows), status_col,
                              {"type": "cell", "criteria": "==", "value": f'"{status}"', "format": book.wb.add_format({"bg_color": color})})
    ws.conditional_format(2, rate_col, 1 + len(rows), rate_col, {"type": "data_bar", "bar_color": "#63BE7B", "bar_solid": True,
                                                                 "min_type": "num", "min_value": 0, "max_type": "num", "max_value": 1})


def _sheet_submissions_by_period(book: _Book, ledger: Ledger, store: Store, counts: dict[str | None, int],
                                 rule: DeadlineRule) -> None:
    """报送情况: bureaus × periods (the latest STATUS_PERIODS up to the latest with data), 按时 / 逾期 / 被退回 /
    未报 with the file name; `counts` (files per period) says which periods have data."""
    periods_with_data = sorted(Period.parse(p) for p in counts if p)
    all_periods = ledger.periods()
    up_to_latest = [p for p in all_periods if not periods_with_data or p <= max(periods_with_data)] or all_periods[:1]
    shown_periods = up_to_latest[-STATUS_PERIODS:]
    ws = book.wb.add_worksheet("报送情况")
    index = ledger.role_index()
    headers = ["单位", "任务（牵头/责任）"] + [p.label for p in shown_periods]
    rows: list[list[object]] = []
    of_cell: dict[tuple[str | None, str | None], list[Submission]] = {}
    for one in store.submissions_of_periods(p.code for p in shown_periods):
        of_cell.setdefault((one.bureau, one.period), []).append(one)
    today = dt.date.today()
    dues = [(p.code, rule.due(p)) for p in shown_periods]
    for b in ledger.bureaus_with_tasks():
        tasks = index.get(b, [])
        n_lead = sum(1 for _, r in tasks if r == "lead")
        row: list[object] = [b, f"{n_lead}/{len(tasks) - n_lead}"]
        for code, due in dues:
            st = bureau_status(b, of_cell.get((b, code), []), due, today)
            row.append(f"{st.label}｜{st.file_name}" if st.file_name else st.label)
        rows.append(row)
    n_rows = len(rows)
    if len(up_to_latest) > len(shown_periods):
        note: list[object] = [f"（更早的 {len(up_to_latest) - len(shown_periods)} 个报送期未列出：本表只列最近 {len(shown_periods)} 个"
                              "报送期。任一报送期的报送情况可用 ledger-xl status --period 报送期 查看。）"]
        rows.append(note + [""] * (len(headers) - 1))
    book.table(ws, 0, headers, [26, 10] + [30] * len(shown_periods), rows, freeze_cols=1)
    for word, color in STATE_COLORS.items():
        ws.conditional_format(1, 2, n_rows, 1 + len(shown_periods),
                              {"type": "text", "criteria": "begins with", "value": word, "format": book.wb.add_format({"bg_color": color})})


def _sheet_history(book: _Book, store: Store, counts: dict[str | None, int], recent: set[str] | None, first: int) -> None:
    """提交记录: the files of the recent periods (see RECENT_FILES) and the files with no period received after
    the first of them (submission id `first`), with what changed from the unit's previous return."""
    from .returns import change_notes

    ws = book.wb.add_worksheet("提交记录")
    from .store import RECEIVED_SOURCE_CN

    headers = ["收到时间", "文件名", "单位", "报送期", "结果", "错误", "提示", "改动（与上一份相比）", "SHA-256", "存档位置",
               "时间来源", "发件人"]
    shown_subs = (store.submissions() if recent is None
                  else store.submissions_of_periods(recent, unidentified_after=first))
    changed = change_notes(store, shown_subs)  # a unit's returns of a period are all shown, or none
    rows: list[list[object]] = [[s.received_at.replace("T", " "), s.file_name, s.bureau or "（未识别）", s.period or "",
                                 ("已汇入" if s.current else "已被新文件取代") if s.outcome == "merged" else "拒收",
                                 s.n_errors, s.n_warnings, changed.get(s.id, ""), s.sha256, s.archive_path,
                                 RECEIVED_SOURCE_CN.get(s.received_source, s.received_source), s.sender or ""]
                                for s in shown_subs]
    rows += _older_note(sum(counts.values()) - len(shown_subs), "个文件", len(headers), len(recent or ()))
    book.table(ws, 0, headers, [18, 30, 22, 9, 14, 6, 6, 36, 66, 40, 12, 26], rows, freeze_cols=2)
    ws.conditional_format(1, 4, max(len(rows), 1), 4, {"type": "text", "criteria": "begins with", "value": "拒收",
                                                       "format": book.wb.add_format({"bg_color": "#FFC7CE"})})


def _sheet_findings(book: _Book, store: Store, recent: set[str] | None, first: int) -> None:
    """问题清单: the findings of the files and periods listed in 提交记录 (read as such, not every finding
    stored), with where each is."""
    ws = book.wb.add_worksheet("问题清单")
    headers = ["来源", "报送期", "文件", "工作表", "单元格", "级别", "代码", "说明", "原值"]
    kept = [(source, period, f) for _, source, period, f in store.all_findings(recent, unidentified_after=first)]
    rows: list[list[object]] = [["核对" if source == "check" else "汇总", period or "", f.file or "", f.sheet or "", f.cell or "",
                                 SEVERITY_CN[str(f.severity)], f.code, f.message, f.value or ""] for source, period, f in kept]
    rows += _older_note(store.count_findings() - len(kept), "条问题", len(headers), len(recent or ()))
    book.table(ws, 0, headers, [6, 9, 30, 10, 8, 6, 18, 70, 20], rows, freeze_cols=3)
    ws.conditional_format(1, 5, max(len(rows), 1), 5, {"type": "cell", "criteria": "==", "value": '"错误"',
                                                       "format": book.wb.add_format({"bg_color": "#FFC7CE"})})


# The master ledger is rebuilt after every ingest and every check, so no sheet may grow with every file ever
# received (the store keeps them all; ledger-xl history, status and export --all show any of them):
# 提交记录 and 问题清单 list the files and problems of the latest periods with data, whole periods newest first,
# at most RECENT_PERIODS of them holding at most RECENT_FILES files together (always the latest period): all of
# a 15-unit half-yearly programme's three years, the latest two periods of a 280-unit province, monthly or not.
RECENT_PERIODS = 6
RECENT_FILES = 600
# 报送情况 has a column per period: the latest STATUS_PERIODS up to the latest with data (a monthly programme's
# last year; every period of a quarterly or half-yearly three-year programme)
STATUS_PERIODS = 12


def _recent_periods(counts: dict[str | None, int]) -> set[str] | None:
    """The codes of the periods 提交记录 and 问题清单 list (see RECENT_FILES), or None when every period is
    shown; `counts`: files per period."""
    files = {Period.parse(p): n for p, n in counts.items() if p}
    shown: list[Period] = []
    total = 0
    for p in sorted(files, reverse=True):
        if len(shown) == RECENT_PERIODS or (shown and total + files[p] > RECENT_FILES):
            break
        shown.append(p)
        total += files[p]
    return None if len(shown) == len(files) else {p.code for p in shown}


def _older_note(n: int, what: str, width: int, n_periods: int) -> list[list[object]]:
    if not n:
        return []
    note: list[object] = [f"（另有更早的 {n} {what}未列出：本表只列最近 {n_periods} 个报送期。全部记录保存在"
                          "数据库 ledger.sqlite 中；ledger-xl export --all 可导出全部填报值及其来源文件。）"]
    return [note + [""] * (width - 1)]


@functools.lru_cache(maxsize=1024)
def _when(code: str) -> tuple[int, str, int]:
    """A period code's place in time, as Period orders periods (year, kind, index), as a tuple: compared in C;
    cached, as Period.parse is (a handful of codes, each looked up for every metric)."""
    p = Period.parse(code)
    return p.year, p.kind, p.index


def _num(v: float | None) -> str:
    from .model import fmt_number

    return fmt_number(v)



def _actual_by_year(m: Metric, s: dict[str, tuple[float, str, str, str]]) -> dict[int, float]:
    """What was reached each year with any report: the year's additions (or own figure) added up, or for a
    year-end level the last level reported in that year."""
    out: dict[int, float] = {}
    for p in sorted(s, key=_when):
        y = _when(p)[0]
        out[y] = s[p][0] if m.accumulation == "year_end" else out.get(y, 0) + s[p][0]
    return out


def _totals(m: Metric | None, by_year: dict[int, float]) -> tuple[float | None, float | None, float | None]:
    """(planned, actual, target) for the 累计 columns: the programme's total, what was reached, the goal;
    for a per-year metric the latest year's own figure and that year's plan."""
    if m is None:
        return None, None, None
    if m.accumulation == "per_year":
        y = max(by_year, default=max(m.yearly, default=0))
        planned = m.yearly.get(y, 0.0)
        return planned, by_year.get(y), planned
    actual = (by_year[max(by_year)] if m.accumulation == "year_end" else sum(by_year.values())) if by_year else None
    return m.planned_total(), actual, m.target.value if m.target else m.planned_total()
