"""The ledger definition workbook: the clerk's editable source of truth (a spreadsheet as the schema).

Sheets: 设置 (programme settings), 任务 (one row per task, parsed fields beside the original text),
数量指标 and 比例指标 (one row per metric / indicator, with the text they were read from), 单位 (bureaus).
Columns are found by header text, so a clerk may reorder them. A wrong edit becomes a finding naming
sheet and cell; loading never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
from .targets import NumberError, parse_count

S_SETTINGS, S_TASKS, S_METRICS, S_INDICATORS, S_BUREAUS, S_HELP = "设置", "任务", "数量指标", "比例指标", "单位", "说明"
YES, NO = "是", "否"
RATIO_LABEL = "比值"

K_TITLE, K_YEARS, K_KIND, K_OFFICE = "台账标题", "年份", "报送周期", "领导小组办公室"
K_DEADLINE = "报送截止"  # the office's rule, e.g. 次月28日前; blank: ledger-xl.toml's deadline_days

TASK_HEAD = ["序号", "指标分类", "重点任务", "子项"]  # then one column per year, then TASK_TAIL
TASK_TAIL = ["牵头单位", "责任单位", "频次", "每期次数", "成果（文件名称）", "备注"]
METRIC_HEAD = ["序号", "原文（重点任务）", "指标名称", "单位"]  # then years, then
METRIC_TAIL = ["比较", "总目标"]
IND_HEAD = ["序号", "原文", "指标内容", "比较", "阈值", "单位", "对照期初", "变化方向"]
BUREAU_HEAD = ["单位名称", "简称", "领导小组成员", "联系人", "电子邮箱", "联系电话"]

HELP_LINES = [
    "本工作簿是台账的“定义表”，ledger-xl 的所有模板、汇总和报告都以它为准。",
    "“任务”表每行一项任务；“频次”“每期次数”“成果”是程序从原文读出的结果，读错了直接改。",
    "“数量指标”表每行一个数量指标：各年数字是当年新增量；“比较”填 ≥、≤ 或 =，“总目标”填数字。",
    "“比例指标”表每行一个比例/比值指标：单位填 % 或 比值；按期初对比的在“对照期初”填“是”。",
    "“单位”表列出所有单位；牵头、责任单位须与这里的名称完全一致。“领导小组成员”为“是”的单位包含在“各成员单位”中。",
    "多个单位之间用顿号“、”分隔。改完保存后，运行 ledger-xl ledger show 检查。",
]


def _year_label(y: int) -> str:
    return f"{y}年"


def save_definition(ledger: Ledger, path: Path) -> None:
    """Write the definition workbook atomically (xlsxwriter: typed writes, no formulas from text)."""
    import xlsxwriter

    years = ledger.years
    with atomic_path(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter", "align": "center"})
        parsed_head = wb.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True, "valign": "vcenter", "align": "center"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        num = wb.add_format({"valign": "top", "border": 1, "num_format": "General"})

        def sheet(name: str, headers: list[str], widths: list[int], parsed: set[int] = frozenset()) -> object:  # type: ignore[assignment]
            ws = wb.add_worksheet(name)
            for ci, (h, w) in enumerate(zip(headers, widths, strict=True)):
                ws.write_string(0, ci, h, parsed_head if ci in parsed else head)
                ws.set_column(ci, ci, w)
            ws.freeze_panes(1, 0)
            ws.set_row(0, 30)
            return ws

        def put(ws: object, r: int, c: int, v: object) -> None:
            if v is None or v == "":
                ws.write_blank(r, c, None, wrap)  # type: ignore[attr-defined]
            elif isinstance(v, int | float) and not isinstance(v, bool):
                ws.write_number(r, c, v, num)  # type: ignore[attr-defined]
            else:
                ws.write_string(r, c, str(v), wrap)  # type: ignore[attr-defined]

        hs = wb.add_worksheet(S_HELP)
        hs.set_column(0, 0, 110)
        for i, line in enumerate(HELP_LINES):
            hs.write_string(i, 0, line, wb.add_format({"text_wrap": True}) if i else wb.add_format({"bold": True, "font_size": 12}))

        ws = sheet(S_SETTINGS, ["项目", "值"], [18, 60])
        settings = [
            (K_TITLE, ledger.title),
            (K_YEARS, "、".join(str(y) for y in years)),
            (K_KIND, PERIOD_KIND_LABEL[ledger.period_kind]),
            (K_OFFICE, ledger.office),
            (K_DEADLINE, ledger.deadline_rule.text if ledger.deadline_rule else ""),
        ]
        for r, (k, v) in enumerate(settings, start=1):
            put(ws, r, 0, k)
            put(ws, r, 1, v)
        ws.data_validation(3, 1, 3, 1, {"validate": "list", "source": list(LABEL_PERIOD_KIND)})  # type: ignore[attr-defined]

        headers = TASK_HEAD + [f"{_year_label(y)}工作分解" for y in years] + TASK_TAIL
        widths = [6, 14, 26, 22] + [24] * len(years) + [18, 28, 9, 8, 24, 16]
        first_parsed = len(TASK_HEAD) + len(years) + 2
        ws = sheet(S_TASKS, headers, widths, parsed={first_parsed, first_parsed + 1, first_parsed + 2})
        for r, t in enumerate(ledger.tasks, start=1):
            row = [t.id, t.category, t.task, t.item or ""] + [t.breakdown.get(y, "") for y in years] + [
                "、".join(t.lead),
                "、".join(t.responsible),
                FREQUENCY_LABEL.get(t.frequency or "", ""),
                t.frequency_count if t.frequency else "",
                t.deliverable or "",
                t.note,
            ]
            for c, v in enumerate(row):
                put(ws, r, c, v)
        n = max(len(ledger.tasks), 1) + 200
        ws.data_validation(1, first_parsed, n, first_parsed, {"validate": "list", "source": list(LABEL_FREQUENCY)})  # type: ignore[attr-defined]
        ws.data_validation(1, first_parsed + 1, n, first_parsed + 1, {"validate": "integer", "criteria": ">=", "value": 1})  # type: ignore[attr-defined]

        headers = METRIC_HEAD + [_year_label(y) for y in years] + METRIC_TAIL
        ws = sheet(S_METRICS, headers, [6, 40, 26, 6] + [9] * len(years) + [6, 9], parsed=set(range(2, len(headers))))
        r = 1
        for t in ledger.tasks:
            for m in t.metrics:
                row = [t.id, t.task if not t.item else f"{t.task}—{t.item}", m.name, m.unit] + [m.yearly.get(y, 0) for y in years]
                row += [OP_SYMBOL[m.target.op] if m.target else "", m.target.value if m.target else ""]
                for c, v in enumerate(row):
                    put(ws, r, c, v)
                r += 1
        col = len(METRIC_HEAD) + len(years)
        ws.data_validation(1, col, 500, col, {"validate": "list", "source": list(SYMBOL_OP)})  # type: ignore[attr-defined]

        ws = sheet(S_INDICATORS, IND_HEAD, [6, 40, 36, 6, 8, 6, 9, 9], parsed=set(range(2, len(IND_HEAD))))
        r = 1
        for t in ledger.tasks:
            source = "\n".join(dict.fromkeys(x for x in [t.task, t.item or "", *t.breakdown.values()] if x))
            for i in t.indicators:
                row = [t.id, source, i.text, OP_SYMBOL[i.op], i.value, "%" if i.unit == "%" else RATIO_LABEL,
                       YES if i.baseline else NO, CHANGE_LABEL.get(i.change or "", "")]
                for c, v in enumerate(row):
                    put(ws, r, c, v)
                r += 1
        for c, src in ((3, ["≥", "≤"]), (5, ["%", RATIO_LABEL]), (6, [YES, NO]), (7, list(LABEL_CHANGE))):
            ws.data_validation(1, c, 500, c, {"validate": "list", "source": src})  # type: ignore[attr-defined]

        ws = sheet(S_BUREAUS, BUREAU_HEAD, [28, 18, 12, 10, 28, 16])
        for r, b in enumerate(ledger.bureaus, start=1):
            for c, v in enumerate([b.name, b.short_name, YES if b.member else NO, b.contact, b.email, b.phone]):
                put(ws, r, c, v)
        ws.data_validation(1, 2, 500, 2, {"validate": "list", "source": [YES, NO]})  # type: ignore[attr-defined]
        wb.worksheets_objs.sort(key=lambda s: [S_HELP, S_SETTINGS, S_TASKS, S_METRICS, S_INDICATORS, S_BUREAUS].index(s.name))
        wb.get_worksheet_by_name(S_TASKS).activate()
        wb.close()


# ---------------------------------------------------------------- loading


@dataclass
class LoadResult:
    ledger: Ledger
    findings: list[Finding]


class _Sheet:
    """Rows of a sheet as dicts by header, remembering each value's cell address."""

    def __init__(self, ws: object, file: str) -> None:
        from openpyxl.utils import get_column_letter

        self.name = ws.title  # type: ignore[attr-defined]
        self.file = file
        rows = list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]
        self.headers = [str(h).strip() if h is not None else "" for h in (rows[0] if rows else [])]
        self.col = {h: i for i, h in enumerate(self.headers) if h}
        self.letters = [get_column_letter(i + 1) for i in range(len(self.headers))]
        self.rows = [(ri, r) for ri, r in enumerate(rows[1:], start=2) if any(v not in (None, "") for v in r)]

    def cell(self, row: int, header: str) -> str:
        return f"{self.letters[self.col[header]]}{row}"

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


def load_definition(path: Path) -> LoadResult:
    """Read the definition workbook into a Ledger; every wrong edit is a finding with its cell."""
    from openpyxl import load_workbook

    from .bureaus import split_bureaus

    path = Path(path)
    if not path.exists():
        raise LedgerError(f"找不到台账定义表 {path}。请先运行 ledger-xl import-ledger 生成，或用 -w 指定工作目录。", code="not-found")
    check_ooxml(path, kind="Excel")
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as e:
        raise LedgerError(f"{path.name}：无法打开台账定义表（{type(e).__name__}）。请用 Excel/WPS 另存为 .xlsx 后重试。", code="corrupt") from e
    f = path.name
    findings: list[Finding] = []

    def find(code: str, msg: str, sheet: str | None = None, cell: str | None = None, value: object = None,
             severity: Severity = Severity.ERROR) -> None:
        findings.append(Finding(code, msg, severity, file=f, sheet=sheet, cell=cell, value=None if value is None else str(value)))

    def yes_no(sheet: _Sheet, ri: int, row: tuple[object, ...], header: str, default: str) -> str:
        """The 是/否 in a column (default when blank); anything else is a finding."""
        raw = sheet.text(row, header) or default
        if raw not in (YES, NO):
            find("def-choice", f"“{header}”应填“是”或“否”，现为“{raw}”。", sheet.name, sheet.cell(ri, header), raw)
        return raw

    missing = [s for s in (S_SETTINGS, S_TASKS, S_BUREAUS) if s not in wb.sheetnames]
    if missing:
        raise LedgerError(f"{f}：缺少工作表“{'”“'.join(missing)}”，不是 ledger-xl 的台账定义表。", code="def-missing-sheet")

    # settings
    st = _Sheet(wb[S_SETTINGS], f)
    settings: dict[str, tuple[object, str]] = {}
    for ri, row in st.rows:
        key = str(row[0]).strip() if row and row[0] is not None else ""
        settings[key] = (row[1] if len(row) > 1 else None, f"B{ri}")
    title = str(settings.get(K_TITLE, ("", ""))[0] or "").strip()
    years_raw, years_cell = settings.get(K_YEARS, ("", "B3"))
    years = sorted({int(y) for y in re.findall(r"(?:19|20)\d{2}", str(years_raw or ""))})
    if not years:
        find("def-years", "年份没有填写或无法识别。请填写如“2023、2024、2025”。", S_SETTINGS, years_cell, years_raw)
    kind_raw, kind_cell = settings.get(K_KIND, ("半年", ""))
    kind = PERIOD_KIND_ALIASES.get(str(kind_raw or "半年").strip())
    if kind is None:
        find("def-choice", f"报送周期“{kind_raw}”无法识别。请选择：月、季度、半年或年度。", S_SETTINGS, kind_cell, kind_raw)
        kind = "half-year"
    rule_raw, rule_cell = settings.get(K_DEADLINE, ("", ""))
    rule = None
    if str(rule_raw or "").strip():
        try:
            rule = DeadlineRule.parse(rule_raw, source=DEFINITION_RULE_SOURCE)
        except LedgerError as e:
            find("def-deadline-rule", e.message, S_SETTINGS, rule_cell, rule_raw)
    office = str(settings.get(K_OFFICE, ("", ""))[0] or "").strip()

    # bureaus
    bs = _Sheet(wb[S_BUREAUS], f)
    bureaus: list[Bureau] = []
    for ri, row in bs.rows:
        name = bs.text(row, "单位名称")
        if not name:
            find("def-required", "单位名称为空。请填写单位全称，或删除整行。", S_BUREAUS, bs.cell(ri, "单位名称"))
            continue
        if any(b.name == name for b in bureaus):
            find("def-duplicate", f"单位“{name}”重复出现。请删除重复的行。", S_BUREAUS, bs.cell(ri, "单位名称"), name)
            continue
        member_raw = yes_no(bs, ri, row, "领导小组成员", YES)
        email = bs.text(row, "电子邮箱")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            find("def-email", f"电子邮箱“{email}”格式不对。请填写如 name@example.gov.cn。", S_BUREAUS, bs.cell(ri, "电子邮箱"), email)
        bureaus.append(Bureau(name=name, short_name=bs.text(row, "简称"), member=member_raw != NO,
                              contact=bs.text(row, "联系人"), email=email, phone=bs.text(row, "联系电话")))
    known = {b.name for b in bureaus} | {ALL_MEMBERS}

    # tasks
    ts = _Sheet(wb[S_TASKS], f)
    year_cols = {y: f"{_year_label(y)}工作分解" for y in years}
    for y, h in year_cols.items():
        if h not in ts.col:
            find("def-missing-column", f"缺少“{h}”列（设置中的年份为 {y}）。请补上该列或修改设置中的年份。", S_TASKS, "第1行")
    tasks: list[Task] = []
    by_id: dict[str, Task] = {}
    for ri, row in ts.rows:
        tid = ts.text(row, "序号")
        if not tid:
            find("def-required", "序号为空。每项任务需要唯一的序号。", S_TASKS, ts.cell(ri, "序号"))
            continue
        if tid in by_id:
            find("def-duplicate", f"序号 {tid} 重复。请改为不同的序号。", S_TASKS, ts.cell(ri, "序号"), tid)
            continue
        lead = split_bureaus(ts.text(row, "牵头单位"))
        responsible = split_bureaus(ts.text(row, "责任单位"))
        if not lead:
            find("def-required", f"第 {tid} 项任务没有牵头单位。请填写。", S_TASKS, ts.cell(ri, "牵头单位"))
        for header, names in (("牵头单位", lead), ("责任单位", responsible)):
            for n in names:
                if n not in known:
                    find("def-unknown-bureau", f"单位“{n}”不在“单位”表中。请检查名称是否写错，或在“单位”表中添加该单位。",
                         S_TASKS, ts.cell(ri, header), n)
        freq_raw = ts.text(row, "频次")
        frequency = LABEL_FREQUENCY.get(freq_raw) if freq_raw else None
        if freq_raw and frequency is None:
            find("def-choice", f"频次“{freq_raw}”无法识别。请选择：每半年、每季度、每年，或留空。", S_TASKS, ts.cell(ri, "频次"), freq_raw)
        count = 1
        count_raw = ts.get(row, "每期次数")
        if count_raw not in (None, ""):
            try:
                count = int(parse_count(count_raw, integer=True))
                if count < 1:
                    raise NumberError("应不小于 1")
            except NumberError as e:
                find("def-not-number", f"每期次数“{count_raw}”{e}。请填写 1、2 这样的整数。", S_TASKS, ts.cell(ri, "每期次数"), count_raw)
        task = Task(
            id=tid,
            category=ts.text(row, "指标分类"),
            task=ts.text(row, "重点任务"),
            item=ts.text(row, "子项") or None,
            breakdown={y: ts.text(row, h) for y, h in year_cols.items()},
            lead=lead,
            responsible=responsible,
            frequency=frequency,  # type: ignore[arg-type]
            frequency_count=count,
            deliverable=ts.text(row, "成果（文件名称）") or None,
            note=ts.text(row, "备注"),
        )
        tasks.append(task)
        by_id[tid] = task

    def number(sheet: _Sheet, ri: int, row: tuple[object, ...], header: str, *, required: bool) -> float | None:
        v = sheet.get(row, header)
        if v in (None, ""):
            if required:
                find("def-required", f"“{header}”为空。请填写数字（没有就填 0）。", sheet.name, sheet.cell(ri, header))
            return None
        try:
            return parse_count(v)
        except NumberError as e:
            find("def-not-number", f"“{header}”的值“{v}”{e}。请填写数字，例如 5。", sheet.name, sheet.cell(ri, header), v)
            return None

    def task_of(sheet: _Sheet, ri: int, row: tuple[object, ...]) -> Task | None:
        tid = sheet.text(row, "序号")
        task = by_id.get(tid)
        if task is None:
            find("def-unknown-task", f"序号“{tid}”在“任务”表中不存在。请改为正确的序号。", sheet.name, sheet.cell(ri, "序号"), tid)
        return task

    if S_METRICS in wb.sheetnames:
        ms = _Sheet(wb[S_METRICS], f)
        for ri, row in ms.rows:
            task = task_of(ms, ri, row)
            if task is None:
                continue
            yearly = {}
            for y in years:
                v = number(ms, ri, row, _year_label(y), required=True) if _year_label(y) in ms.col else None
                yearly[y] = v if v is not None else 0.0
            op_raw = ms.text(row, "比较")
            total = number(ms, ri, row, "总目标", required=False)
            target = None
            if op_raw or total is not None:
                op = SYMBOL_OP.get(op_raw or "=")
                if op is None:
                    find("def-choice", f"比较“{op_raw}”无法识别。请选择 ≥、≤ 或 =。", S_METRICS, ms.cell(ri, "比较"), op_raw)
                elif total is None:
                    find("def-required", "填写了“比较”但没有“总目标”。请补填数字或清空“比较”。", S_METRICS, ms.cell(ri, "总目标"))
                else:
                    target = Target(op, total)  # type: ignore[arg-type]
            unit = ms.text(row, "单位")
            if not unit:
                find("def-required", "单位为空。请填写计量单位，例如 个、辆。", S_METRICS, ms.cell(ri, "单位"))
            task.metrics.append(Metric(name=ms.text(row, "指标名称") or task.task, unit=unit, yearly=yearly, target=target))

    if S_INDICATORS in wb.sheetnames:
        ins = _Sheet(wb[S_INDICATORS], f)
        for ri, row in ins.rows:
            task = task_of(ins, ri, row)
            if task is None:
                continue
            op = SYMBOL_OP.get(ins.text(row, "比较"))
            if op not in (">=", "<="):
                find("def-choice", f"比较“{ins.text(row, '比较')}”无法识别。请选择 ≥ 或 ≤。", S_INDICATORS, ins.cell(ri, "比较"), ins.text(row, "比较"))
                continue
            value = number(ins, ri, row, "阈值", required=True)
            unit_raw = ins.text(row, "单位")
            if unit_raw not in ("%", RATIO_LABEL):
                find("def-choice", f"单位“{unit_raw}”无法识别。请选择 % 或 比值。", S_INDICATORS, ins.cell(ri, "单位"), unit_raw)
                continue
            base_raw = yes_no(ins, ri, row, "对照期初", NO)
            change_raw = ins.text(row, "变化方向")
            change = LABEL_CHANGE.get(change_raw) if change_raw else None
            if change_raw and change is None:
                find("def-choice", f"变化方向“{change_raw}”无法识别。请选择 降低、提高，或留空。", S_INDICATORS, ins.cell(ri, "变化方向"), change_raw)
            if value is None:
                continue
            task.indicators.append(Indicator(text=ins.text(row, "指标内容"), op=op, value=value,  # type: ignore[arg-type]
                                             unit="%" if unit_raw == "%" else "ratio", baseline=base_raw == YES,
                                             change=change))  # type: ignore[arg-type]

    if office and office not in known:
        find("def-unknown-bureau", f"领导小组办公室“{office}”不在“单位”表中。请检查名称。", S_SETTINGS, "B5", office)
    ledger = Ledger(title=title, years=years, bureaus=bureaus, tasks=tasks, period_kind=kind, office=office,  # type: ignore[arg-type]
                    deadline_rule=rule)
    findings += plan_findings(ledger, file=f)
    return LoadResult(ledger, findings)


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
                out.append(Finding(
                    "plan-sum", f"第 {t.id} 项“{m.name}”各年分解 {parts} = {fmt_number(total)}{m.unit}，与总目标 "
                    f"{m.target.label(m.unit)} 不一致。请核对原台账。", Severity.WARNING, file=file, sheet=S_METRICS))
    return out


def load_ledger(path: Path, *, cache_dir: Path | None = None) -> Ledger:
    """Load a definition that must be usable: errors stop here, with every finding in the message.

    With cache_dir, a valid definition's model is kept as JSON under the SHA-256 of the file, so later
    commands skip reading the workbook; any edit to the file changes the hash and is read afresh.
    """
    import json

    from .model import ledger_from_raw

    cached = _cache_file(path, cache_dir) if cache_dir is not None and Path(path).exists() else None
    if cached is not None and cached.exists():
        try:
            return ledger_from_raw(json.loads(cached.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError):
            cached.unlink(missing_ok=True)  # a damaged cache is only a cache
    result = load_definition(path)
    errors = [x for x in result.findings if x.severity is Severity.ERROR]
    if errors:
        lines = "\n".join(x.render() for x in errors)
        raise LedgerError(f"台账定义表有 {len(errors)} 处错误，请改正后重试：\n{lines}", code="definition-invalid")
    if cache_dir is not None:
        remember_ledger(path, result.ledger, cache_dir)
    return result.ledger


def _cache_file(path: Path, cache_dir: Path) -> Path:
    import hashlib

    return Path(cache_dir) / f"ledger-{hashlib.sha256(Path(path).read_bytes()).hexdigest()[:32]}.json"


def remember_ledger(path: Path, ledger: Ledger, cache_dir: Path) -> None:
    """Keep a valid definition's model for later loads (see load_ledger); the previous one is dropped."""
    import json

    from .fsutil import write_text_atomic
    from .model import ledger_to_raw

    cached = _cache_file(path, cache_dir)
    for old in cached.parent.glob("ledger-*.json"):
        old.unlink(missing_ok=True)
    write_text_atomic(cached, json.dumps(ledger_to_raw(ledger), ensure_ascii=False))
