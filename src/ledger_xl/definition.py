"""The ledger definition workbook: the clerk's editable source of truth (a spreadsheet as the schema).

Sheets: 设置 (programme settings), 任务 (one row per task, parsed fields beside the original text),
数量指标 and 比例指标 (one row per metric / indicator, with the text they were read from), 单位 (bureaus).
Columns are found by header text, so a clerk may reorder them. A wrong edit becomes a finding naming
sheet and cell; loading never guesses.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .addresses import address_problem, split_addresses
from .codes import Code
from .findings import Finding, LedgerError, Severity
from .fsutil import XLSXWRITER_OPTIONS, atomic_path, check_ooxml
from .model import (
    ALL_MEMBERS,
    CHANGE_LABEL,
    DEFINITION_RULE_SOURCE,
    FREQUENCY_LABEL,
    LABEL_CHANGE,
    LABEL_FREQUENCY,
    LABEL_PERIOD_KIND,
    OP_SYMBOL,
    PERIOD_KIND_ALIASES,
    PERIOD_KIND_LABEL,
    SYMBOL_OP,
    Bureau,
    DeadlineRule,
    Indicator,
    Ledger,
    Metric,
    Target,
    Task,
    fmt_number,
)

S_SETTINGS, S_TASKS, S_METRICS, S_INDICATORS, S_BUREAUS, S_HELP = "设置", "任务", "数量指标", "比例指标", "单位", "说明"
YES, NO = "是", "否"
RATIO_LABEL = "比值"

K_TITLE, K_YEARS, K_KIND, K_OFFICE = "台账标题", "年份", "报送周期", "领导小组办公室"
K_DEADLINE = "报送截止"  # the office's rule, e.g. 次月28日前; blank: ledger-xl.toml's deadline_days

TASK_HEAD = ["序号", "指标分类", "重点任务", "子项"]  # then one column per year, then TASK_TAIL
TASK_TAIL = ["牵头单位", "责任单位", "频次", "每期次数", "成果（文件名称）", "备注", "具体目标", "责任领导", "完成时限"]
METRIC_HEAD = ["序号", "原文（重点任务）", "指标名称", "单位"]  # then years, then
METRIC_TAIL = ["比较", "总目标", "累计方式"]
IND_HEAD = ["序号", "原文", "指标内容", "比较", "阈值", "单位", "对照期初", "变化方向"]  # then one 年阈值 column per year
BUREAU_HEAD = ["单位名称", "简称", "领导小组成员", "联系人", "电子邮箱", "联系电话", "包含单位"]
ACCUMULATION_LABEL: dict[str, str] = {"additions": "逐年新增", "year_end": "年末累计", "per_year": "当年数"}
LABEL_ACCUMULATION: dict[str, str] = {v: k for k, v in ACCUMULATION_LABEL.items()}

HELP_LINES = [
    "本工作簿是台账的“定义表”，ledger-xl 的所有模板、汇总和报告都以它为准。",
    "“任务”表每行一项任务；“频次”“每期次数”“成果”是程序从原文读出的结果，读错了直接改。“责任领导”填人名（不是单位），"
    "“完成时限”填日期，如 2025-06-30，没有就留空。",
    "“数量指标”表每行一个数量指标；“累计方式”：逐年新增（各年数字是当年新增量，总数为各年之和）、年末累计（各年数字是"
    "年末应达到的水平，总数为最后一年）、当年数（各年数字是当年自身的量，如当年营业收入，逐年考核）。"
    "“比较”填 ≥、≤ 或 =，“总目标”填数字。",
    "“比例指标”表每行一个比例/比值指标：单位填 % 或 比值；按期初对比的在“对照期初”填“是”；阈值逐年提高的，在各“年阈值”列"
    "填当年的阈值（留空则各年都按“阈值”）。",
    "“单位”表列出所有单位；牵头、责任单位须与这里的名称完全一致。“领导小组成员”为“是”的单位包含在“各成员单位”中。"
    "“各县（市、区）政府”这类统称，可在“包含单位”列填写具体单位（顿号分隔，且都列在本表中），模板就发给这些单位。",
    "多个单位之间用顿号“、”分隔。改完保存后，运行 ledger-xl ledger show 检查。",
]


def _year_label(y: int) -> str:
    return f"{y}年"


def _threshold_label(y: int) -> str:
    return f"{y}年阈值"


class _Writer:
    """The definition workbook's formats and the typed writes every sheet shares."""

    def __init__(self, wb: object) -> None:
        self.wb = wb
        add = wb.add_format  # type: ignore[attr-defined]
        base = {"bold": True, "border": 1, "text_wrap": True, "valign": "vcenter", "align": "center"}
        self.head = add({**base, "bg_color": "#DDEBF7"})
        self.parsed_head = add({**base, "bg_color": "#FFF2CC"})
        self.wrap = add({"text_wrap": True, "valign": "top", "border": 1})
        self.num = add({"valign": "top", "border": 1, "num_format": "General"})

    def sheet(self, name: str, headers: list[str], widths: list[int], parsed: set[int] | frozenset[int] = frozenset()) -> object:
        ws = self.wb.add_worksheet(name)  # type: ignore[attr-defined]
        for ci, (h, w) in enumerate(zip(headers, widths, strict=True)):
            ws.write_string(0, ci, h, self.parsed_head if ci in parsed else self.head)
            ws.set_column(ci, ci, w)
        ws.freeze_panes(1, 0)
        ws.set_row(0, 30)
        return ws

    def put(self, ws: object, r: int, c: int, v: object) -> None:
        if v is None or v == "":
            ws.write_blank(r, c, None, self.wrap)  # type: ignore[attr-defined]
        elif isinstance(v, int | float) and not isinstance(v, bool):
            ws.write_number(r, c, v, self.num)  # type: ignore[attr-defined]
        else:
            ws.write_string(r, c, str(v), self.wrap)  # type: ignore[attr-defined]

    def rows(self, ws: object, rows: Sequence[Sequence[object]]) -> None:
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                self.put(ws, r, c, v)


def save_definition(ledger: Ledger, path: Path) -> None:
    """Write the definition workbook atomically (xlsxwriter: typed writes, no formulas from text)."""
    import xlsxwriter

    with atomic_path(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)
        w = _Writer(wb)
        hs = wb.add_worksheet(S_HELP)
        hs.set_column(0, 0, 110)
        for i, line in enumerate(HELP_LINES):
            hs.write_string(i, 0, line, wb.add_format({"text_wrap": True}) if i else wb.add_format({"bold": True, "font_size": 12}))
        _save_settings(w, ledger)
        _save_tasks(w, ledger)
        _save_metrics(w, ledger)
        _save_indicators(w, ledger)
        _save_bureaus(w, ledger)
        wb.worksheets_objs.sort(key=lambda s: [S_HELP, S_SETTINGS, S_TASKS, S_METRICS, S_INDICATORS, S_BUREAUS].index(s.name))
        wb.get_worksheet_by_name(S_TASKS).activate()
        wb.close()


def _save_settings(w: _Writer, ledger: Ledger) -> None:
    ws = w.sheet(S_SETTINGS, ["项目", "值"], [18, 60])
    w.rows(ws, [[K_TITLE, ledger.title], [K_YEARS, "、".join(str(y) for y in ledger.years)],
                [K_KIND, PERIOD_KIND_LABEL[ledger.period_kind]], [K_OFFICE, ledger.office],
                [K_DEADLINE, ledger.deadline_rule.text if ledger.deadline_rule else ""]])
    ws.data_validation(3, 1, 3, 1, {"validate": "list", "source": list(LABEL_PERIOD_KIND)})  # type: ignore[attr-defined]


def _save_tasks(w: _Writer, ledger: Ledger) -> None:
    years = ledger.years
    headers = TASK_HEAD + [f"{_year_label(y)}工作分解" for y in years] + TASK_TAIL
    widths = [6, 14, 26, 22] + [24] * len(years) + [18, 28, 9, 8, 24, 16, 28, 14, 12]
    first_parsed = len(TASK_HEAD) + len(years) + 2
    ws = w.sheet(S_TASKS, headers, widths, parsed={first_parsed, first_parsed + 1, first_parsed + 2, len(headers) - 1})
    w.rows(ws, [[t.id, t.category, t.task, t.item or ""] + [t.breakdown.get(y, "") for y in years] + [
        "、".join(t.lead), "、".join(t.responsible), FREQUENCY_LABEL.get(t.frequency or "", ""),
        t.frequency_count if t.frequency else "", t.deliverable or "", t.note, t.target_text or "", "、".join(t.leaders),
        t.deadline.isoformat() if t.deadline else ""] for t in ledger.tasks])
    n = max(len(ledger.tasks), 1) + 200
    ws.data_validation(1, first_parsed, n, first_parsed, {"validate": "list", "source": list(LABEL_FREQUENCY)})  # type: ignore[attr-defined]
    ws.data_validation(1, first_parsed + 1, n, first_parsed + 1, {"validate": "integer", "criteria": ">=", "value": 1})  # type: ignore[attr-defined]


def _save_metrics(w: _Writer, ledger: Ledger) -> None:
    years = ledger.years
    headers = METRIC_HEAD + [_year_label(y) for y in years] + METRIC_TAIL
    ws = w.sheet(S_METRICS, headers, [6, 40, 26, 6] + [9] * len(years) + [6, 9, 10], parsed=set(range(2, len(headers))))
    w.rows(ws, [[t.id, t.task if not t.item else f"{t.task}—{t.item}", m.name, m.unit] + [m.yearly.get(y, 0) for y in years]
                + [OP_SYMBOL[m.target.op] if m.target else "", m.target.value if m.target else "", ACCUMULATION_LABEL[m.accumulation]]
                for t in ledger.tasks for m in t.metrics])
    col = len(METRIC_HEAD) + len(years)
    ws.data_validation(1, col, 500, col, {"validate": "list", "source": list(SYMBOL_OP)})  # type: ignore[attr-defined]
    ws.data_validation(1, col + 2, 500, col + 2, {"validate": "list", "source": list(LABEL_ACCUMULATION)})  # type: ignore[attr-defined]


def _save_indicators(w: _Writer, ledger: Ledger) -> None:
    years = ledger.years
    headers = IND_HEAD + [_threshold_label(y) for y in years]
    ws = w.sheet(S_INDICATORS, headers, [6, 40, 36, 6, 8, 6, 9, 9] + [9] * len(years), parsed=set(range(2, len(headers))))
    rows = []
    for t in ledger.tasks:
        source = "\n".join(dict.fromkeys(x for x in [t.task, t.item or "", *t.breakdown.values()] if x))
        for i in t.indicators:
            rows.append([t.id, source, i.text, OP_SYMBOL[i.op], i.value, "%" if i.unit == "%" else RATIO_LABEL,
                         YES if i.baseline else NO, CHANGE_LABEL.get(i.change or "", "")]
                        + [i.yearly[y].value if y in i.yearly else "" for y in years])
    w.rows(ws, rows)
    for c, src in ((3, ["≥", "≤"]), (5, ["%", RATIO_LABEL]), (6, [YES, NO]), (7, list(LABEL_CHANGE))):
        ws.data_validation(1, c, 500, c, {"validate": "list", "source": src})  # type: ignore[attr-defined]


def _save_bureaus(w: _Writer, ledger: Ledger) -> None:
    ws = w.sheet(S_BUREAUS, BUREAU_HEAD, [28, 18, 12, 10, 28, 16, 36])
    w.rows(ws, [[b.name, b.short_name, YES if b.member else NO, b.contact, b.email, b.phone, "、".join(b.includes)]
                for b in ledger.bureaus])
    ws.data_validation(1, 2, 500, 2, {"validate": "list", "source": [YES, NO]})  # type: ignore[attr-defined]


# ---------------------------------------------------------------- loading


@dataclass
class LoadResult:
    ledger: Ledger
    findings: list[Finding]


class _Sheet:
    """Rows of a sheet as dicts by header, remembering each value's cell address."""

    def __init__(self, ws: Any, file: str) -> None:
        from openpyxl.utils import get_column_letter

        self.name: str = ws.title
        self.file = file
        rows = list(ws.iter_rows(values_only=True))
        self.headers = [str(h).strip() if h is not None else "" for h in (rows[0] if rows else [])]
        self.col = {h: i for i, h in enumerate(self.headers) if h}
        self.letters = [get_column_letter(i + 1) for i in range(len(self.headers))]
        self.rows = [(ri, r) for ri, r in enumerate(rows[1:], start=2) if any(v not in (None, "") for v in r)]

    def cell(self, row: int, header: str) -> str:
        i = self.col.get(header)
        return f"{self.letters[i]}{row}" if i is not None else f"第{row}行"

    def get(self, row: tuple[object, ...], header: str) -> object:
        i = self.col.get(header)
        if i is None or i >= len(row):
            return None
        v = row[i]
        return v.strip() if isinstance(v, str) else v

    def text(self, row: tuple[object, ...], header: str) -> str:
        v = self.get(row, header)
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)


class _Loader:
    """One load of a definition workbook: the findings so far and the checks every sheet shares."""

    def __init__(self, wb: object, file: str) -> None:
        self.wb = wb
        self.file = file
        self.findings: list[Finding] = []
        self.years: list[int] = []
        self.known: set[str] = {ALL_MEMBERS}
        self.by_id: dict[str, Task] = {}
        self.office_cell = "B5"

    def find(self, code: Code, sheet: str | None = None, cell: str | None = None, value: object = None, **params: Any) -> None:
        self.findings.append(Finding.of(code, file=self.file, sheet=sheet, cell=cell,
                                        value=None if value is None else str(value), **params))

    def yes_no(self, sheet: _Sheet, ri: int, row: tuple[object, ...], header: str, default: str) -> str:
        """The 是/否 in a column (default when blank); anything else is a finding."""
        raw = sheet.text(row, header) or default
        if raw not in (YES, NO):
            self.find(Code.DEF_CHOICE, sheet.name, sheet.cell(ri, header), raw, field=header, raw=raw, fix="填“是”或“否”")
        return raw

    def number(self, sheet: _Sheet, ri: int, row: tuple[object, ...], header: str, *, required: bool) -> float | None:
        v = sheet.get(row, header)
        if v in (None, ""):
            if required:
                self.find(Code.DEF_REQUIRED, sheet.name, sheet.cell(ri, header), what=f"“{header}”为空", fix="请填写数字（没有就填 0）")
            return None
        # imported here, as below: only reading the workbook parses numbers; a command loading the cached model needs none
        from .targets import NumberError, parse_count

        try:
            return parse_count(v)
        except NumberError as e:
            self.find(Code.DEF_NOT_NUMBER, sheet.name, sheet.cell(ri, header), v, field=f"“{header}”的值", raw=v, problem=e,
                      fix="请填写数字，例如 5")
            return None

    def task_of(self, sheet: _Sheet, ri: int, row: tuple[object, ...]) -> Task | None:
        tid = sheet.text(row, "序号")
        task = self.by_id.get(tid)
        if task is None:
            self.find(Code.DEF_UNKNOWN_TASK, sheet.name, sheet.cell(ri, "序号"), tid, task=tid)
        return task

    def year_columns(self, sheet: _Sheet, label: Callable[[int], str], *, required: bool = True) -> None:
        """Every year of the 设置 sheet needs its column; a missing one is refused at the header row."""
        for y in self.years:
            if label(y) not in sheet.col and required:
                self.find(Code.DEF_MISSING_COLUMN, sheet.name, "第1行", header=label(y), year=y)


def load_definition(path: Path) -> LoadResult:
    """Read the definition workbook into a Ledger; every wrong edit is a finding with its cell."""
    path = Path(path)
    wb = _open_definition(path)
    ld = _Loader(wb, path.name)
    title, kind, office, rule = _load_settings(ld)
    bureaus = _load_bureaus(ld)
    tasks = _load_tasks(ld)
    if S_METRICS in wb.sheetnames:  # type: ignore[attr-defined]
        _load_metrics(ld)
    if S_INDICATORS in wb.sheetnames:  # type: ignore[attr-defined]
        _load_indicators(ld)
    if office and office not in ld.known:
        ld.find(Code.DEF_UNKNOWN_BUREAU, S_SETTINGS, ld.office_cell, office, role="领导小组办公室", name=office, note="", fix="请检查名称")
    _expand_groups(bureaus, tasks)
    ledger = Ledger(title=title, years=ld.years, bureaus=bureaus, tasks=tasks, period_kind=kind, office=office,  # type: ignore[arg-type]
                    deadline_rule=rule)
    return LoadResult(ledger, ld.findings + plan_findings(ledger, file=path.name))


def _open_definition(path: Path) -> object:
    from openpyxl import load_workbook

    if not path.exists():
        raise LedgerError.of(Code.NOT_FOUND, what="台账定义表", path=path, fix="请先运行 ledger-xl import-ledger 生成，或用 -w 指定工作目录")
    check_ooxml(path, kind="Excel")
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as e:
        raise LedgerError.of(Code.CORRUPT, file=path.name, problem=f"无法打开台账定义表（{type(e).__name__}）",
                             fix="请用 Excel/WPS 另存为 .xlsx 后重试") from e
    missing = [s for s in (S_SETTINGS, S_TASKS, S_BUREAUS) if s not in wb.sheetnames]
    if missing:
        raise LedgerError.of(Code.DEF_MISSING_SHEET, file=path.name, sheets="”“".join(missing))
    return wb


def _load_settings(ld: _Loader) -> tuple[str, str, str, DeadlineRule | None]:
    st = _Sheet(ld.wb[S_SETTINGS], ld.file)  # type: ignore[index]
    settings: dict[str, tuple[object, str]] = {}
    for ri, row in st.rows:
        key = str(row[0]).strip() if row and row[0] is not None else ""
        settings[key] = (row[1] if len(row) > 1 else None, f"B{ri}")
    title = str(settings.get(K_TITLE, ("", ""))[0] or "").strip()
    years_raw, years_cell = settings.get(K_YEARS, ("", "B3"))
    ld.years = sorted({int(y) for y in re.findall(r"(?:19|20)\d{2}", str(years_raw or ""))})
    if not ld.years:
        ld.find(Code.DEF_YEARS, S_SETTINGS, years_cell, years_raw)
    kind_raw, kind_cell = settings.get(K_KIND, ("半年", ""))
    kind = PERIOD_KIND_ALIASES.get(str(kind_raw or "半年").strip())
    if kind is None:
        ld.find(Code.DEF_CHOICE, S_SETTINGS, kind_cell, kind_raw, field="报送周期", raw=kind_raw, fix="选择：月、季度、半年或年度")
        kind = "half-year"
    rule_raw, rule_cell = settings.get(K_DEADLINE, ("", ""))
    rule = None
    if str(rule_raw or "").strip():
        try:
            rule = DeadlineRule.parse(rule_raw, source=DEFINITION_RULE_SOURCE)
        except LedgerError as e:
            ld.find(Code.DEF_DEADLINE_RULE, S_SETTINGS, rule_cell, rule_raw, detail=e.message)
    office_raw, ld.office_cell = settings.get(K_OFFICE, ("", "B5"))
    return title, kind, str(office_raw or "").strip(), rule


def _load_bureaus(ld: _Loader) -> list[Bureau]:
    from .bureaus import is_group, split_list

    bs = _Sheet(ld.wb[S_BUREAUS], ld.file)  # type: ignore[index]
    bureaus: list[Bureau] = []
    includes_at: list[tuple[Bureau, int]] = []
    for ri, row in bs.rows:
        name = bs.text(row, "单位名称")
        if not name:
            ld.find(Code.DEF_REQUIRED, S_BUREAUS, bs.cell(ri, "单位名称"), what="单位名称为空", fix="请填写单位全称，或删除整行")
            continue
        if any(b.name == name for b in bureaus):
            ld.find(Code.DEF_DUPLICATE, S_BUREAUS, bs.cell(ri, "单位名称"), name, what=f"单位“{name}”", where="出现", fix="删除重复的行")
            continue
        member_raw = ld.yes_no(bs, ri, row, "领导小组成员", YES)
        email = bs.text(row, "电子邮箱")
        for addr in split_addresses(email):  # several may be given, separated by ; or ，(checked here once, for mail too)
            why = address_problem(addr)
            if why:
                ld.find(Code.DEF_EMAIL, S_BUREAUS, bs.cell(ri, "电子邮箱"), email, address=addr, why=why)
        includes = split_list(bs.text(row, "包含单位"))
        b = Bureau(name=name, short_name=bs.text(row, "简称"), member=member_raw != NO, contact=bs.text(row, "联系人"),
                   email=email, phone=bs.text(row, "联系电话"), group=is_group(name) or bool(includes), includes=includes)
        bureaus.append(b)
        if includes:
            includes_at.append((b, ri))
    ld.known |= {b.name for b in bureaus}
    for b, ri in includes_at:
        for n in b.includes:
            if n not in ld.known or n == b.name:
                ld.find(Code.DEF_UNKNOWN_BUREAU, S_BUREAUS, bs.cell(ri, "包含单位"), n, role="“包含单位”中的", name=n,
                        note="（或就是本单位）", fix="请先在“单位”表中添加该单位")
    return bureaus


def _load_tasks(ld: _Loader) -> list[Task]:
    ts = _Sheet(ld.wb[S_TASKS], ld.file)  # type: ignore[index]
    year_cols = {y: f"{_year_label(y)}工作分解" for y in ld.years}
    ld.year_columns(ts, lambda y: f"{_year_label(y)}工作分解")
    tasks: list[Task] = []
    for ri, row in ts.rows:
        tid = ts.text(row, "序号")
        if not tid:
            ld.find(Code.DEF_REQUIRED, S_TASKS, ts.cell(ri, "序号"), what="序号为空", fix="每项任务需要唯一的序号")
            continue
        if tid in ld.by_id:
            ld.find(Code.DEF_DUPLICATE, S_TASKS, ts.cell(ri, "序号"), tid, what=f"序号 {tid} ", where="", fix="改为不同的序号")
            continue
        task = Task(id=tid, category=ts.text(row, "指标分类"), task=ts.text(row, "重点任务"), item=ts.text(row, "子项") or None,
                    breakdown={y: ts.text(row, h) for y, h in year_cols.items()}, lead=[], responsible=[],
                    deliverable=ts.text(row, "成果（文件名称）") or None, note=ts.text(row, "备注"),
                    target_text=ts.text(row, "具体目标") or None)
        _task_units(ld, ts, ri, row, task)
        _task_frequency(ld, ts, ri, row, task)
        _task_leaders_deadline(ld, ts, ri, row, task)
        tasks.append(task)
        ld.by_id[tid] = task
    return tasks


def _task_units(ld: _Loader, ts: _Sheet, ri: int, row: tuple[object, ...], task: Task) -> None:
    from .bureaus import split_bureaus

    task.lead = split_bureaus(ts.text(row, "牵头单位"), ld.known)
    task.responsible = split_bureaus(ts.text(row, "责任单位"), ld.known)
    if not task.lead:
        ld.find(Code.DEF_REQUIRED, S_TASKS, ts.cell(ri, "牵头单位"), what=f"第 {task.id} 项任务没有牵头单位", fix="请填写")
    for header, names in (("牵头单位", task.lead), ("责任单位", task.responsible)):
        for n in names:
            if n not in ld.known:
                ld.find(Code.DEF_UNKNOWN_BUREAU, S_TASKS, ts.cell(ri, header), n, role="单位", name=n, note="",
                        fix="请检查名称是否写错，或在“单位”表中添加该单位")


def _task_frequency(ld: _Loader, ts: _Sheet, ri: int, row: tuple[object, ...], task: Task) -> None:
    freq_raw = ts.text(row, "频次")
    frequency = LABEL_FREQUENCY.get(freq_raw) if freq_raw else None
    if freq_raw and frequency is None:
        ld.find(Code.DEF_CHOICE, S_TASKS, ts.cell(ri, "频次"), freq_raw, field="频次", raw=freq_raw, fix="选择：每半年、每季度、每年，或留空")
    task.frequency = frequency
    count_raw = ts.get(row, "每期次数")
    if count_raw not in (None, ""):
        from .targets import NumberError, parse_count

        try:
            task.frequency_count = int(parse_count(count_raw, integer=True))
            if task.frequency_count < 1:
                raise NumberError("应不小于 1")
        except NumberError as e:
            task.frequency_count = 1
            ld.find(Code.DEF_NOT_NUMBER, S_TASKS, ts.cell(ri, "每期次数"), count_raw, field="每期次数", raw=count_raw, problem=e,
                    fix="请填写 1、2 这样的整数")


def _task_leaders_deadline(ld: _Loader, ts: _Sheet, ri: int, row: tuple[object, ...], task: Task) -> None:
    """责任领导 are persons (kept as written); 完成时限 is a date typed or stored as an Excel date."""
    import datetime as dt

    from .bureaus import split_persons

    task.leaders = split_persons(ts.text(row, "责任领导"))
    raw = ts.get(row, "完成时限")
    if raw in (None, ""):
        return
    if isinstance(raw, dt.datetime):
        task.deadline = raw.date()
        return
    if isinstance(raw, dt.date):
        task.deadline = raw
        return
    m = re.fullmatch(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", str(raw).strip())
    try:
        task.deadline = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        task.deadline = None
    if task.deadline is None:
        ld.find(Code.DEF_DATE, S_TASKS, ts.cell(ri, "完成时限"), raw, raw=raw)


def _load_metrics(ld: _Loader) -> None:
    ms = _Sheet(ld.wb[S_METRICS], ld.file)  # type: ignore[index]
    if ms.rows:
        ld.year_columns(ms, _year_label)
    for ri, row in ms.rows:
        task = ld.task_of(ms, ri, row)
        if task is None:
            continue
        yearly = {}
        for y in ld.years:
            v = ld.number(ms, ri, row, _year_label(y), required=True) if _year_label(y) in ms.col else None
            yearly[y] = v if v is not None else 0.0
        unit = ms.text(row, "单位")
        if not unit:
            ld.find(Code.DEF_REQUIRED, S_METRICS, ms.cell(ri, "单位"), what="单位为空", fix="请填写计量单位，例如 个、辆")
        acc_raw = ms.text(row, "累计方式")
        accumulation = LABEL_ACCUMULATION.get(acc_raw or ACCUMULATION_LABEL["additions"])
        if accumulation is None:
            ld.find(Code.DEF_CHOICE, S_METRICS, ms.cell(ri, "累计方式"), acc_raw, field="累计方式", raw=acc_raw,
                    fix=f"选择：{'、'.join(LABEL_ACCUMULATION)}")
            accumulation = "additions"
        task.metrics.append(Metric(name=ms.text(row, "指标名称") or task.task, unit=unit, yearly=yearly,
                                   target=_metric_target(ld, ms, ri, row), accumulation=accumulation))  # type: ignore[arg-type]


def _metric_target(ld: _Loader, ms: _Sheet, ri: int, row: tuple[object, ...]) -> Target | None:
    op_raw = ms.text(row, "比较")
    total = ld.number(ms, ri, row, "总目标", required=False)
    if not op_raw and total is None:
        return None
    op = SYMBOL_OP.get(op_raw or "=")
    if op is None:
        ld.find(Code.DEF_CHOICE, S_METRICS, ms.cell(ri, "比较"), op_raw, field="比较", raw=op_raw, fix="选择 ≥、≤ 或 =")
    elif total is None:
        ld.find(Code.DEF_REQUIRED, S_METRICS, ms.cell(ri, "总目标"), what="填写了“比较”但没有“总目标”", fix="请补填数字或清空“比较”")
    else:
        return Target(op, total)
    return None


def _load_indicators(ld: _Loader) -> None:
    ins = _Sheet(ld.wb[S_INDICATORS], ld.file)  # type: ignore[index]
    if ins.rows and any(_threshold_label(y) in ins.col for y in ld.years):
        ld.year_columns(ins, _threshold_label)
    for ri, row in ins.rows:
        task = ld.task_of(ins, ri, row)
        if task is None:
            continue
        op = SYMBOL_OP.get(ins.text(row, "比较"))
        if op not in (">=", "<="):
            ld.find(Code.DEF_CHOICE, S_INDICATORS, ins.cell(ri, "比较"), ins.text(row, "比较"), field="比较", raw=ins.text(row, "比较"),
                    fix="选择 ≥ 或 ≤")
            continue
        value = ld.number(ins, ri, row, "阈值", required=True)
        unit_raw = ins.text(row, "单位")
        if unit_raw not in ("%", RATIO_LABEL):
            ld.find(Code.DEF_CHOICE, S_INDICATORS, ins.cell(ri, "单位"), unit_raw, field="单位", raw=unit_raw, fix="选择 % 或 比值")
            continue
        base_raw = ld.yes_no(ins, ri, row, "对照期初", NO)
        change_raw = ins.text(row, "变化方向")
        change = LABEL_CHANGE.get(change_raw) if change_raw else None
        if change_raw and change is None:
            ld.find(Code.DEF_CHOICE, S_INDICATORS, ins.cell(ri, "变化方向"), change_raw, field="变化方向", raw=change_raw,
                    fix="选择 降低、提高，或留空")
        yearly = {y: Target(op, v) for y in ld.years if _threshold_label(y) in ins.col
                  and (v := ld.number(ins, ri, row, _threshold_label(y), required=False)) is not None}
        if value is None:
            continue
        task.indicators.append(Indicator(text=ins.text(row, "指标内容"), op=op, value=value,
                                         unit="%" if unit_raw == "%" else "ratio", baseline=base_raw == YES,
                                         change=change, yearly=yearly))


def _expand_groups(bureaus: list[Bureau], tasks: list[Task]) -> None:
    """A group unit the clerk expanded in the 单位 sheet stands for its units in every task."""
    includes = {b.name: b.includes for b in bureaus if b.includes}
    if not includes:
        return

    def expand(names: list[str]) -> list[str]:
        out: list[str] = []
        for n in names:
            for x in includes.get(n, [n]):
                if x not in out:
                    out.append(x)
        return out

    for t in tasks:
        t.shared = [x for n in t.lead for x in includes.get(n, [])]  # a group's units share its work: figures add up
        t.lead = expand(t.lead)
        t.responsible = [n for n in expand(t.responsible) if n not in t.lead]


def plan_findings(ledger: Ledger, *, file: str | None = None) -> list[Finding]:
    """The plan checked against itself: yearly additions that do not reach the stated total."""
    out: list[Finding] = []
    for t in ledger.tasks:
        for m in t.metrics:
            if m.target is None:
                continue
            total = m.planned_total()
            bad = (m.target.op == "==" and abs(total - m.target.value) > 1e-9) or (
                m.target.op == ">=" and total + 1e-9 < m.target.value) or (m.target.op == "<=" and total - 1e-9 > m.target.value)
            if bad:
                parts = "+".join(fmt_number(m.yearly[y]) for y in sorted(m.yearly))
                out.append(Finding.of(Code.PLAN_SUM, file=file, sheet=S_METRICS, task=t.id, metric=m.name, parts=parts,
                                      total=f"{fmt_number(total)}{m.unit}", target=m.target.label(m.unit)))
    return out


def load_ledger(path: Path, *, cache_dir: Path | None = None) -> Ledger:
    """Load a definition that must be usable: errors stop here, with every finding in the message.

    With cache_dir, a valid definition's model is kept as JSON under the SHA-256 of the file, so later
    commands skip reading the workbook; any edit to the file changes the hash and is read afresh.
    """
    import json

    from .model import ledger_from_raw

    seen = _LOADED.get(_stat_key(path, cache_dir)) if _LOADED else None
    if seen is not None:  # the same file read a moment ago by this process (a command picks its period first)
        return ledger_from_raw(json.loads(seen))
    cached = _cache_file(path, cache_dir) if cache_dir is not None and Path(path).exists() else None
    if cached is not None and cached.exists():
        try:
            text = cached.read_text(encoding="utf-8")
            ledger = ledger_from_raw(json.loads(text))
            _remember_loaded(path, cache_dir, text)
            return ledger
        except (ValueError, KeyError, TypeError):
            cached.unlink(missing_ok=True)  # a damaged cache is only a cache
    result = load_definition(path)
    errors = [x for x in result.findings if x.severity is Severity.ERROR]
    if errors:
        lines = "\n".join(x.render() for x in errors)
        raise LedgerError.of(Code.DEFINITION_INVALID, n=len(errors), lines=lines)
    if cache_dir is not None:
        with contextlib.suppress(OSError):  # only a cache: a read-only or full disk must not stop a command
            _remember_loaded(path, cache_dir, remember_ledger(path, result.ledger, cache_dir))
    return result.ledger


# (path, size, mtime, inode, cache dir) → the model's JSON, for the process's later loads of the same file.
# JSON text, not the Ledger: every caller gets a model of its own to change.
_LOADED: dict[tuple[object, ...], str] = {}


def _stat_key(path: Path, cache_dir: Path | None) -> tuple[object, ...]:
    """The file as the file system describes it; empty (never remembered) for a file changed in the last two
    seconds, whose next change could keep its size and time stamp (git's "racy" rule)."""
    import time

    try:
        st = Path(path).stat()
    except OSError:
        return ()
    if cache_dir is None or time.time_ns() - st.st_mtime_ns < 2_000_000_000:
        return ()
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino, str(cache_dir))


def _remember_loaded(path: Path, cache_dir: Path | None, text: str) -> None:
    key = _stat_key(path, cache_dir)
    if key:
        _LOADED.clear()
        _LOADED[key] = text


def _cache_file(path: Path, cache_dir: Path) -> Path:
    import hashlib

    return Path(cache_dir) / f"ledger-v{LEDGER_CACHE_FORMAT}-{hashlib.sha256(Path(path).read_bytes()).hexdigest()[:32]}.json"


# the load cache's format: a model that gains a field (2: Task.shared) is never read from a cache written without it
LEDGER_CACHE_FORMAT = 2


def remember_ledger(path: Path, ledger: Ledger, cache_dir: Path) -> str:
    """Keep a valid definition's model for later loads (see load_ledger); the previous one is dropped. The
    JSON kept comes back."""
    import json

    from .fsutil import write_text_atomic
    from .model import ledger_to_raw

    cached = _cache_file(path, cache_dir)
    for old in cached.parent.glob("ledger-*.json"):
        old.unlink(missing_ok=True)
    text = json.dumps(ledger_to_raw(ledger), ensure_ascii=False)
    write_text_atomic(cached, text)
    return text
