"""One reader for every ledger table, whether it came from Word or Excel (see tablemodel).

Offices write the same few shapes: a 政府工作报告 目标任务分解表 (牵头市领导 beside 牵头单位, no year
columns, targets in the text, 完成时限), a 三年行动计划 重点任务清单 (category rows, 具体目标, a 年度目标 group
of year columns), a county 附件 table (附件1 above the title, group units, 责任人 with titles), and
Nanyang's 台账. Columns are found by their header text, never by position; rows are told apart by what
they hold. Every guess and every dropped item is a finding naming its row (Word) or cell (Excel); what
cannot be understood is refused whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .bureaus import is_group, is_office, split_bureaus_noted, split_persons, unique_short_names
from .codes import Code
from .findings import Finding, LedgerError
from .model import ALL_MEMBERS, PERIOD_KIND_LABEL, Bureau, Indicator, Ledger, Metric, Task
from .tablemodel import TableModel, TCell, merged_across
from .targets import (
    accumulation_of,
    cell_indicator,
    clean,
    is_none_mark,
    parse_deadline,
    parse_deliverable,
    parse_frequency,
    parse_indicators,
    parse_metrics,
    text_metrics,
    yearly_thresholds,
    years_in,
)

_YEAR_HEAD_RE = re.compile(r"((?:19|20)\d{2})\s*年?(?:度)?(?:目标值?|计划|任务|工作分解|工作目标)?(?:[(（](?P<unit>[^)）]{1,10})[)）])?")
# (role, pattern), tried in order on a column's header text: a leader column says 牵头 too, so it comes first.
ROLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("id", re.compile(r"序号|编号")),
    ("leader", re.compile(r"领导|责任人|联系人|负责人")),
    ("deadline", re.compile(r"时限|时间节点|完成时间|时间要求|完成期限|进度安排")),
    ("category", re.compile(r"指标分类|分类|类别|领域|板块")),
    ("lead", re.compile(r"牵头|主责单位|主办单位")),
    ("responsible", re.compile(r"责任单位|配合单位|参与单位|协同单位|责任部门|配合部门|协办单位|责任主体|实施主体")),
    ("note", re.compile(r"备注|说明")),
    ("target", re.compile(r"具体目标|工作目标|预期目标|目标值|主要目标|目标要求|量化指标|考核指标|^目标$|年度目标$")),
    ("task", re.compile(r"任务|工作内容|重点工作|主要内容|建设内容|指标名称|项目名称|工作事项")),
]
ROLE_LABEL = {
    "id": "序号", "leader": "责任领导（人员，不作为单位）", "deadline": "完成时限", "category": "分类", "lead": "牵头单位",
    "responsible": "责任单位", "note": "备注", "target": "具体目标", "task": "任务", "year": "年度目标",
    "lead-first": "责任单位（无牵头单位列：每格第一个单位作牵头单位）", "extra": "其他（并入备注）",
    "persons": "（人员，不作为单位，记入备注）",
}
_ENUM_RE = re.compile(r"^\s*(?:第?[一二三四五六七八九十]+[、.．部分]|[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+)\s*")
_ENUM_HEAD_RE = re.compile(r"^\s*(?:第?[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)])")  # not 一季度
_LEVEL2_RE = re.compile(r"^\s*[（(][一二三四五六七八九十]+[）)]")
_HEADER_CELL_MAX = 16
_SCAN_ROWS = 12


@dataclass
class Columns:
    id: int | None = None
    category: int | None = None
    task: list[int] = field(default_factory=list)
    target: int | None = None
    years: dict[int, int] = field(default_factory=dict)  # year → grid column
    year_unit: str = ""  # a unit written in the year headers, "2025年（个）", for cells that hold bare numbers
    lead: int | None = None
    responsible: int | None = None
    leader: int | None = None
    deadline: int | None = None
    note: int | None = None
    lead_first: bool = False  # only 责任单位: its first unit leads
    extra: dict[int, str] = field(default_factory=dict)
    persons: set[int] = field(default_factory=set)  # extra columns of persons (a second 责任人/联系人 column)
    roles: list[tuple[int, str, str]] = field(default_factory=list)  # (column, header, role) for the summary


@dataclass
class ImportResult:
    ledger: Ledger
    findings: list[Finding]
    columns: list[tuple[str, str]] = field(default_factory=list)  # (header as written, what it was taken as)


@dataclass
class _Ctx:
    """What one pass over the rows carries from row to row."""

    tm: TableModel
    cols: Columns
    years: list[int]
    findings: list[Finding]
    category: str = ""
    top_category: str = ""
    group: str = ""
    restored: dict[str, tuple[str, int, int | None]] = field(default_factory=dict)  # written → (full, row, column)
    seen_at: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # unit → where it first appears

    def find(self, code: Code, row: int, col: int | None = None, value: str | None = None, **params: Any) -> None:
        if col is None and self.cols.task:
            col = self.cols.task[0]
        self.findings.append(Finding.of(code, file=self.tm.file, sheet=self.tm.sheet, cell=self.tm.place(row, col), value=value,
                                        **params))


# ---------------------------------------------------------------- header and columns


def _role_of(text: str) -> str | None:
    for role, pat in ROLE_PATTERNS:
        if pat.search(text):
            return role
    return None


def _year_of(texts: list[str]) -> int | None:
    for t in texts:
        m = _YEAR_HEAD_RE.fullmatch(clean(t).replace(" ", ""))
        if m:
            return int(m.group(1))
    return None


def _headerish(cell: TCell) -> bool:
    t = clean(cell.text)
    return bool(t) and len(t) <= _HEADER_CELL_MAX and not t[0].isdigit() or _year_of([t]) is not None


def _map_columns(header_rows: list[list[TCell]]) -> Columns:
    """Each grid column's role from its header text in one or two header rows."""
    cols = Columns()
    width = max(len(r) for r in header_rows)
    for ci in range(width):
        texts = list(dict.fromkeys(clean(r[ci].text) for r in header_rows if ci < len(r) and r[ci].text.strip()))
        joined = " ".join(texts)
        year = _year_of(texts)
        if year is not None:
            cols.years[year] = ci
            unit = next((m.group("unit") for t in texts if (m := _YEAR_HEAD_RE.fullmatch(clean(t).replace(" ", "")))), None)
            cols.year_unit = unit or cols.year_unit
            cols.roles.append((ci, joined, "year"))
            continue
        role = _role_of(texts[-1]) if texts else None
        role = role or (_role_of(joined) if joined else None)
        _assign(cols, ci, joined, role)
    if not cols.task:  # no 任务 column: a 工作措施/具体事项 column holds the tasks
        measure = next((c for c, h in cols.extra.items() if _MEASURE_RE.search(h)), None)
        if measure is not None:
            del cols.extra[measure]
            cols.task.append(measure)
            cols.roles = [(c, h, "task" if c == measure else r) for c, h, r in cols.roles]
    if cols.lead is None and cols.responsible is not None:
        second = next((c for c, h, r in cols.roles if r == "extra" and _role_of(h) == "responsible"), None)
        if second is not None:  # 责任单位 and 配合单位 with no 牵头单位: the first is the lead column
            cols.lead, cols.responsible = cols.responsible, second
            del cols.extra[second]
            cols.roles = [(c, h, "lead" if c == cols.lead else "responsible" if c == second else r) for c, h, r in cols.roles]
        else:
            cols.lead, cols.responsible, cols.lead_first = cols.responsible, None, True
            cols.roles = [(c, h, "lead-first" if r == "responsible" else r) for c, h, r in cols.roles]
    return cols


def _assign(cols: Columns, ci: int, joined: str, role: str | None) -> None:
    if role == "task":
        cols.task.append(ci)
    elif role is not None and getattr(cols, role) is None:
        setattr(cols, role, ci)
    elif joined:  # a second column of a role taken already: kept in the notes, a person column said as such
        cols.extra[ci] = joined
        role = "persons" if role == "leader" else "extra"
        if role == "persons":
            cols.persons.add(ci)
    else:
        return
    cols.roles.append((ci, joined, role))


_MEASURE_RE = re.compile(r"措施|举措|事项|工作要求|项目")


def _is_header_start(row: list[TCell]) -> bool:
    roles = {_role_of(clean(c.text)) for c in row if _headerish(c)}
    has_task = "task" in roles or any(_MEASURE_RE.search(clean(c.text)) for c in row if _headerish(c))
    return has_task and bool(roles & {"lead", "responsible"})


def _header_rows(tm: TableModel, start: int) -> int:
    """How many rows from `start` form the header: a second row of years, or of sub-headers under merged ones."""
    n = 1
    while start + n < len(tm.rows) and n < 3:
        row, above = tm.rows[start + n], tm.rows[start + n - 1]
        cells = [(c, above[i] if i < len(above) else None) for i, c in enumerate(row) if c.text.strip()]
        if not cells or _never_header(row):
            break
        years = any(_year_of([c.text]) is not None for c, _ in cells)
        sub = all((a is not None and c.key is a.key) or (_headerish(c) and _role_of(clean(c.text))) for c, a in cells)
        if not (years or sub) or all(a is not None and c.key is a.key for c, a in cells):
            break
        n += 1
    return n


def _never_header(row: list[TCell]) -> bool:
    """A row that is one text spanning every column, or whose one text begins with an enumeration (一、,
    （一）), is a category row under the header, never a second header row: "一、主要预期目标" merged across
    a header was once joined into every column's header and every column was lost."""
    texts = {id(c.key): c for c in row if c.text.strip()}
    if len(texts) != 1:
        return False
    only = next(iter(texts.values()))
    return all(c.key is only.key for c in row) or bool(_ENUM_HEAD_RE.match(only.text))


def find_header(tm: TableModel) -> tuple[int, int, Columns] | None:
    """(first header row, header row count, columns) of the first header with a task and a unit column."""
    for start in range(min(len(tm.rows), _SCAN_ROWS)):
        if _is_header_start(tm.rows[start]):
            n = _header_rows(tm, start)
            return start, n, _map_columns(tm.rows[start : start + n])
    return None


def refuse_no_header(tm: TableModel) -> LedgerError:
    """Why no header was found, naming the row that came closest and what it lacks."""
    best, best_roles = 0, set[str | None]()
    for ri, row in enumerate(tm.rows[:_SCAN_ROWS]):
        roles = {_role_of(clean(c.text)) for c in row if _headerish(c)} - {None}
        if len(roles) > len(best_roles):
            best, best_roles = ri, roles
    lack = [w for w, ok in (("任务列（重点任务/目标任务/工作任务）", "task" in best_roles),
                            ("单位列（牵头单位/责任单位）", bool(best_roles & {"lead", "responsible"}))) if not ok]
    where = f"{tm.file} › {tm.sheet} › {tm.place(best)}" if best_roles else tm.file
    return LedgerError.of(Code.NO_LEDGER_TABLE, file=where, problem=f"没有找到任务台账的表头，缺少{'和'.join(lack)}",
                          fix="请确认表头写有“重点任务”和“牵头单位”或“责任单位”，或把台账所在的表格/工作表单独另存后再导入。")


# ---------------------------------------------------------------- rows


def _text(row: list[TCell], ci: int | None) -> str:
    return row[ci].text.strip() if ci is not None and ci < len(row) else ""


def _is_repeated_header(row: list[TCell], header: list[list[TCell]]) -> bool:
    same = sum(1 for hr in header for i, c in enumerate(row) if c.text.strip() and i < len(hr) and clean(c.text) == clean(hr[i].text))
    return same >= 2


def _category_of_row(row: list[TCell], cols: Columns) -> str | None:
    """The category a category row names (merged across, or an enumeration with nothing else), else None."""
    if merged_across(row):
        return _ENUM_RE.sub("", next(c.text for c in row if c.text.strip())).strip()
    enum = _text(row, cols.id)
    id_key = row[cols.id].key if cols.id is not None and cols.id < len(row) else None
    others: dict[int, str] = {}
    for c in row:
        if c.text.strip() and c.key is not id_key:
            others.setdefault(id(c.key), c.text.strip())
    texts = list(others.values())
    if enum and _ENUM_RE.fullmatch(enum) and len(texts) <= 1:
        return _ENUM_RE.sub("", texts[0]).strip() if texts else None
    if not enum and len(texts) == 1 and _ENUM_RE.match(texts[0]) and not re.match(r"^\d", texts[0]):
        return _ENUM_RE.sub("", texts[0]).strip()
    return None


def _is_total_row(row: list[TCell], cols: Columns) -> bool:
    first = clean(_text(row, cols.id) or (_text(row, cols.task[0]) if cols.task else "")).replace(" ", "")
    return first in ("合计", "总计", "小计", "总体")


def _set_category(ctx: _Ctx, row: list[TCell], name: str) -> None:
    first = next((c.text for c in row if c.text.strip()), "")
    level2 = bool(_LEVEL2_RE.match(_text(row, ctx.cols.id) or first))
    if level2:
        ctx.category = name
    else:
        ctx.top_category = ctx.category = name
    ctx.group = ""


def read_rows(ctx: _Ctx, first: int, header: list[list[TCell]]) -> list[Task]:
    tasks: list[Task] = []
    for ri in range(first, len(ctx.tm.rows)):
        row = ctx.tm.rows[ri]
        if not any(c.text.strip() for c in row) or _is_repeated_header(row, header):
            continue
        if merged_across(row) and _is_note_line(next(c.text for c in row if c.text.strip())):
            ctx.tm.below.append(next(c.text for c in row if c.text.strip()))  # a 填报说明/备注 row inside the table
            continue
        if _is_total_row(row, ctx.cols):
            ctx.find(Code.TOTAL_ROW, ri)
            continue
        name = _category_of_row(row, ctx.cols)
        if name is not None:
            if name:
                _set_category(ctx, row, name)
                ctx.find(Code.CATEGORY_ROW, ri, name=name)
            continue
        task = _task_of_row(ctx, ri, row, len(tasks))
        if task is not None:
            tasks.append(task)
    return tasks


def _task_texts(ctx: _Ctx, row: list[TCell]) -> tuple[str, str | None]:
    """(task, item) from a one- or two-level task column; an empty group carries the one above."""
    cells = [row[ci] for ci in ctx.cols.task if ci < len(row)]
    group, item = "", None
    if len(cells) >= 2 and cells[0].key is not cells[1].key:
        group, item = cells[0].text.strip(), cells[1].text.strip() or None
        if not group and item:
            group = ctx.group
    elif cells:
        group = cells[0].text.strip()
    ctx.group = group
    if not group and item:
        group, item = item, None
    return group, item


def _task_of_row(ctx: _Ctx, ri: int, row: list[TCell], n_before: int) -> Task | None:
    cols = ctx.cols
    group, item = _task_texts(ctx, row)
    target_text = _text(row, cols.target) or None
    if not group:
        if target_text:
            group = target_text
        else:
            ctx.find(Code.ROW_DROPPED, ri, value="；".join(dict.fromkeys(c.text.strip() for c in row if c.text.strip()))[:60])
            return None
    tid = clean(_text(row, cols.id)).rstrip(".、．") or str(n_before + 1)
    category = _text(row, cols.category) or ctx.category
    if cols.category is not None and _text(row, cols.category):
        ctx.category = category
    lead, responsible = _units_of_row(ctx, ri, row)
    leaders = split_persons(_text(row, cols.leader)) if cols.leader is not None else []
    notes = [_text(row, cols.note)] + [f"{h}：{'、'.join(split_persons(_text(row, ci))) if ci in cols.persons else _text(row, ci)}"
                                       for ci, h in cols.extra.items() if _text(row, ci)]
    breakdown = {y: _with_unit(_text(row, ci), cols.year_unit, target_text or group, item or group) for y, ci in cols.years.items()}
    task = Task(id=tid, category=category, task=group, item=item, breakdown=breakdown,
                lead=lead, responsible=responsible, note="；".join(p for p in notes if p), leaders=leaders,
                target_text=target_text)
    each_year = _deadline_of_row(ctx, ri, row, task)
    _plan_of_row(ctx, ri, task, each_year)
    if not lead:
        ctx.find(Code.NO_LEAD, ri, cols.lead, task=tid)
    return task


_BARE_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")


def _with_unit(text: str, header_unit: str, plan: str, name: str = "") -> str:
    """A year cell holding a bare number (typed as a number in Excel) gets the unit of its column header, else
    the unit its task's name gives in brackets ("新建保障性租赁住房（套）"), else the unit of the plan's quantity
    ("新建5G基站3000个" → 个); anything else is kept as written."""
    from .targets import UNITS, named_unit

    t = clean(text)
    if not _BARE_NUMBER_RE.fullmatch(t):
        return text
    unit = header_unit if header_unit in UNITS else named_unit(name) or ""
    if not unit:
        m = re.search(r"\d(?:\.\d+)?\s*(" + "|".join(map(re.escape, UNITS)) + ")", clean(plan))
        unit = m.group(1) if m else ""
    return t + unit if unit else text


def _units_of_row(ctx: _Ctx, ri: int, row: list[TCell]) -> tuple[list[str], list[str]]:
    cols = ctx.cols
    lead, restored, noted = split_bureaus_noted(_text(row, cols.lead))
    responsible, restored2, noted2 = split_bureaus_noted(_text(row, cols.responsible))
    for col, found in ((cols.lead, restored), (cols.responsible, restored2)):
        for written, full in found:
            ctx.restored.setdefault(written, (full, ri, col))
    for col, names in ((cols.lead, lead), (cols.responsible, responsible)):
        for n in names:
            ctx.seen_at.setdefault(n, (ri, col))
    if cols.lead_first:
        marked = noted or noted2
        if marked:
            lead, responsible = marked, [n for n in lead if n not in marked]
        elif len(lead) > 1:
            lead, responsible = lead[:1], lead[1:]
    else:
        if noted and len(noted) < len(lead):  # "A牵头，B、C配合" in the lead column: B and C are not leads
            lead, responsible = noted, [n for n in lead if n not in noted] + responsible
        if noted2:
            lead += [n for n in noted2 if n not in lead]
            responsible = [n for n in responsible if n not in noted2]
    return lead, [n for n in responsible if n not in lead]


def _deadline_of_row(ctx: _Ctx, ri: int, row: list[TCell], task: Task) -> bool:
    """The task's deadline, and a frequency the deadline names alone (每季度); True when it names a date each
    year (每年6月底前), which makes a task with no figure a yearly duty (see _plan_of_row)."""
    raw = _text(row, ctx.cols.deadline)
    if not raw:
        return False
    date, freq, understood = parse_deadline(raw, max(ctx.years) if ctx.years else 0)
    if date is not None and date.year < 1900:
        date, understood = None, False
    task.deadline = date
    if freq in ("half-year", "quarter", "year") and task.frequency is None and date is None:
        task.frequency = freq  # type: ignore[assignment]
    if not understood:
        ctx.find(Code.DEADLINE_UNREAD, ri, ctx.cols.deadline, raw, task=task.id, raw=raw)
    return date is not None and freq == "year"


def _plan_of_row(ctx: _Ctx, ri: int, task: Task, each_year: bool = False) -> None:
    """Metrics, thresholds, duties and deliverables from the plan's words and year cells; `each_year`: the deadline
    names a date each year ("每年6月底前报送"), so that a task with no figure is a yearly duty due by then."""
    texts = [t for t in (task.task, task.item or "", task.target_text or "") if t]
    plan_text = "\n".join(dict.fromkeys(t for t in (task.task, task.item or "") if t))
    if task.target_text and task.target_text not in (task.task, task.item):
        plan_text += "。" + task.target_text
    breakdown = task.breakdown
    break_texts = list(dict.fromkeys(t for t in breakdown.values() if not is_none_mark(t)))
    row = ctx.tm.rows[ri]
    spans = len(ctx.cols.years) > 1 and len({id(row[ci].key) for ci in ctx.cols.years.values() if ci < len(row)}) == 1
    if ctx.cols.years:
        task.metrics = [] if spans else parse_metrics(plan_text, breakdown, name_text=task.item or task.task)
        _metric_semantics(ctx, ri, task, texts + break_texts + [task.note])
        task.indicators = _indicators(plan_text, breakdown, break_texts, spans, task.item or task.task)
    else:
        _text_targets(ctx, ri, task, plan_text)
    _percent_cells(task, [task.target_text or ""])
    _percent_cells(task, break_texts)
    if task.metrics:
        freq_text = ""
    elif ctx.cols.years:
        freq_text = "。".join([task.item or "", task.target_text or ""] + break_texts)
    else:
        freq_text = plan_text
    frequency, count = parse_frequency(freq_text)
    if frequency is not None:
        task.frequency, task.frequency_count = frequency, count  # type: ignore[assignment]
    elif each_year and task.frequency is None and not (task.metrics or task.indicators):
        task.frequency = "year"
    if not task.metrics and task.frequency is None:
        said = break_texts + ([task.target_text] if task.target_text else []) + ([] if ctx.cols.years else [task.task])
        task.deliverable = parse_deliverable(said, [task.item or "", task.task])
    if not (task.metrics or task.indicators or task.frequency):
        _unread_figures(ctx, ri, task)


# a figure that may be a target: not part of a date, a document's number or title, an ordinal or a count of years
_FIGURE_RE = re.compile(r"(?<![\d.第前A-Za-z+＋])\d+(?:\.\d+)?(?![\d.A-Za-z+＋])(?!\s*(?:年|月|日|号|时|季度|届|周岁|个?百分点))")
_NOT_FIGURES_RE = re.compile(r"《[^》]*》|〔[^〕]*〕|\[[^]]*\]|（[^）]*号）")


def _unread_figures(ctx: _Ctx, ri: int, task: Task) -> None:
    """A figure in a task's target, year cells or (without year columns) its text that became no metric,
    threshold or duty is said where it stands, never dropped unsaid: the clerk adds it in the definition."""
    cols = ctx.cols
    cells: list[tuple[int | None, str]] = [(cols.years[y], text) for y, text in task.breakdown.items()]
    if task.target_text:  # (no column: ctx.find places a finding at the task's column)
        cells.append((cols.target, task.target_text))
    if not cols.years:
        cells += [(None, t) for t in (task.task, task.item or "") if t]
    for col, text in cells:
        m = _FIGURE_RE.search(_NOT_FIGURES_RE.sub("", clean(text)))
        if m:
            ctx.find(Code.TARGET_UNREAD, ri, col, text, task=task.id, raw=clean(text)[:40], figure=m.group(0))
            return


def _indicators(plan_text: str, breakdown: dict[int, str], break_texts: list[str], spans: bool, label: str) -> list[Indicator]:
    from dataclasses import replace

    plan = parse_indicators(plan_text, label)
    rising = None if spans else yearly_thresholds(plan, breakdown)
    if rising is not None:
        if cell_indicator(rising.text, "") is not None:  # named by a year's figure ("2.2%"): name it by its task
            rising = replace(rising, text=label)
        return [rising] + [i for i in plan if i.unit != rising.unit]
    return plan + parse_indicators("。".join(break_texts))  # the year cells' own: unnamed, for _percent_cells to merge


def _percent_cells(task: Task, cells: list[str]) -> None:
    """Target or year cells holding only a percentage (60%, 达到60%, 不低于60%; one figure in all of them) are
    one indicator named by the task. Where that threshold was read already it is kept once, named."""
    from dataclasses import replace

    label = task.item or task.task
    context = "。".join([task.task, task.item or "", task.note])
    found = [cell_indicator(c, label, context) for c in cells if not is_none_mark(c)]
    if not found or any(f is None for f in found) or len({(f.op, f.value) for f in found if f}) != 1:
        return
    one = found[0]
    assert one is not None
    matches = [i for i in task.indicators if (i.unit, i.value) == (one.unit, one.value)]
    if not matches:
        task.indicators.append(one)
        return
    def unnamed(i: Indicator) -> bool:
        return cell_indicator(i.text, "") is not None

    keep = next((i for i in matches if i.yearly), None) or next((i for i in matches if not unnamed(i)), matches[0])
    task.indicators = [replace(i, text=label) if i is keep and unnamed(i) else i for i in task.indicators
                       if i is keep or not (unnamed(i) and any(i is m for m in matches))]


def _metric_semantics(ctx: _Ctx, ri: int, task: Task, texts: list[str]) -> None:
    for m in task.metrics:
        acc, guess = accumulation_of(texts, m.yearly, m.target)
        m.accumulation = acc  # type: ignore[assignment]
        if guess:
            ctx.find(Code.ACCUMULATION_GUESS, ri, task=task.id, metric=m.name, guess=guess)


def _text_targets(ctx: _Ctx, ri: int, task: Task, plan_text: str) -> None:
    """A ledger without year columns: targets are read from the task and target text for the last year."""
    year = max(ctx.years) if ctx.years else 0
    label = task.item or task.task
    indicators = parse_indicators(plan_text, label)
    metrics: list[Metric] = []
    for m, note in text_metrics(plan_text, year, label):
        if any((x.name, x.unit) == (m.name, m.unit) for x in metrics):
            continue
        metrics.append(m)
        if note:
            ctx.find(Code.TARGET_GUESS, ri, task=task.id, metric=m.name, note=note)
    task.metrics, task.indicators = metrics, indicators
    if len(ctx.years) > 1 and metrics:
        ctx.find(Code.TARGET_YEAR_GUESS, ri, task=task.id, year=year)


# ---------------------------------------------------------------- the whole table


def _years(tm: TableModel, cols: Columns, first: int, title: str) -> tuple[list[int], str]:
    """The programme's years: the year columns, else the title, else the deadlines; and where they came from."""
    if cols.years:
        return sorted(cols.years), "年度列"
    from_title = years_in(title) or next((years_in(line) for line in tm.above if years_in(line)), [])
    if from_title:
        return from_title, "标题"
    found: set[int] = set()
    for row in tm.rows[first:]:
        found.update(years_in(_text(row, cols.deadline)))
    if found:
        return sorted(found) if max(found) - min(found) < 10 else [max(found)], "完成时限"
    return [], ""


_ATTACHMENT_RE = re.compile(r"^附\s*件\s*[0-9一二三四五六七八九十]*\s*[：:]?\s*$|^附\s*表\s*[0-9一二三四五六七八九十]*\s*$")
_NOTE_LINE_RE = re.compile(r"^(填报说明|说明|备注|注)\s*[：:]|^\d+[.、]|报送|填报")  # searched in a line's first characters


def _is_note_line(text: str) -> bool:
    """A 填报说明/备注 line, or a sentence about reporting (a category name is short and says neither)."""
    t = text.strip()
    return bool(_NOTE_LINE_RE.search(t[:8])) or (len(t) > 12 and bool(re.search(r"报送|填报|上报", t)))


def title_of(tm: TableModel, fallback: str) -> str:
    """The table's title: the first line above it that is not an 附件 line, a 填报说明 or a unit/date line."""
    for line in tm.above:
        t = line.strip()
        if not t or _ATTACHMENT_RE.match(clean(t)) or _NOTE_LINE_RE.search(t[:6]):
            continue
        if re.match(r"^(填报单位|单位|制表|日期)\s*[：:]", t):
            continue
        return re.sub(r"\s+", "", t) if len(t) <= 60 else t
    return fallback


_KIND_WORDS = [("每月", "month"), ("每季度", "quarter"), ("每季", "quarter"), ("每半年", "half-year"), ("每年", "year")]
_RULE_RE = re.compile(r"(?:每月|次月|每季度|每季|每半年|每年|季度末|季末|半年末|结束后|期满后)[^，。；;,]{0,16}?\d{1,3}\s*[日天](?:前|之前|以前|内|以内)?")


def reporting_of(lines: list[str]) -> tuple[str | None, str]:
    """The reporting frequency and deadline rule a document's notes state ("每季度末月25日前报送")."""
    kind = None
    rule = ""
    for line in lines:
        t = clean(line)
        if not re.search(r"报送|上报|报告|填报|调度", t):
            continue
        for word, k in _KIND_WORDS:
            if word in t and kind is None:
                kind = k
        m = _RULE_RE.search(t)
        if m and not rule:
            rule = m.group(0)
            # "每月25日前报送当月进展": the month reported on, said after the day, is the period's own
            if re.search(r"(?:报送|上报|报告|填报)(?:当月|本月|当季|本季)", t[m.end() : m.end() + 8]) and "当月" not in rule:
                rule += "（当月）"
    return kind, rule


def read_table(tm: TableModel, *, fallback_title: str) -> ImportResult:
    """The ledger in a table model: columns by role, rows by kind, units, years, deadlines, targets."""
    located = find_header(tm)
    if located is None:
        raise refuse_no_header(tm)
    start, n_header, cols = located
    tm.above = tm.above + [line for row in tm.rows[:start] for line in dict.fromkeys(c.text.strip() for c in row) if line]
    findings: list[Finding] = []
    title = title_of(tm, fallback_title)
    years, years_from = _years(tm, cols, start + n_header, title)
    ctx = _Ctx(tm, cols, years, findings)
    heading = next((line for line in reversed(tm.above) if line != title and _ENUM_RE.match(line) and len(line) <= 30), "")
    ctx.category = ctx.top_category = _ENUM_RE.sub("", heading).strip()  # "一、民生保障" just above the table
    tasks = read_rows(ctx, start + n_header, tm.rows[start : start + n_header])
    if not tasks:
        raise LedgerError.of(Code.NO_TASKS, file=f"{tm.file} › {tm.sheet}", header_at=tm.place(start))
    _check_ids(ctx, tasks)
    for t in tasks:
        t.breakdown = {y: t.breakdown.get(y, "") for y in years}  # the definition has a column per year
    if not years:
        raise LedgerError.of(Code.IMPORT_NO_YEARS, file=tm.file)
    ledger = Ledger(title=title, years=years, bureaus=[], tasks=tasks)
    ledger.bureaus = _bureaus(ctx, tasks, title)
    ledger.office = next((b.name for b in ledger.bureaus if is_office(b.name)), "")
    _reporting(ctx, ledger)
    columns = _column_summary(tm, cols, years_from, years)
    return ImportResult(ledger, findings, columns)


def _check_ids(ctx: _Ctx, tasks: list[Task]) -> None:
    """Task numbers must be unique; numbering restarting under each category is renumbered 1…n, with a finding."""
    ids = [t.id for t in tasks]
    if len(set(ids)) == len(ids):
        return
    for i, t in enumerate(tasks, start=1):
        t.note = "；".join(p for p in (f"原序号：{t.id}", t.note) if p)
        t.id = str(i)
    ctx.findings.append(Finding.of(Code.DUPLICATE_ID, file=ctx.tm.file, sheet=ctx.tm.sheet, n=len(tasks)))


def _bureaus(ctx: _Ctx, tasks: list[Task], title: str) -> list[Bureau]:
    """Units in order of appearance; groups marked; membership of a leading group read, not assumed."""
    seen: list[str] = []
    for t in tasks:
        for n in t.lead + t.responsible:
            if n != ALL_MEMBERS and n not in seen:
                seen.append(n)
    members = _members(ctx, tasks, seen, title)
    shorts = unique_short_names(seen)
    out = []
    for n in seen:
        group = is_group(n)
        out.append(Bureau(name=n, short_name=shorts[n], member=n in members, group=group))
        if group:
            ri, col = ctx.seen_at.get(n, (0, None))
            ctx.find(Code.GROUP_UNIT, ri, col, n, name=n)
    for written, (full, ri, col) in ctx.restored.items():
        ctx.find(Code.UNIT_PREFIX, ri, col, written, written=written, full=full)
    return out


_MEMBER_LIST_RE = re.compile(r"成员单位(?:为|包括|有)?\s*[：:]\s*(?P<list>.+)$")


def _members(ctx: _Ctx, tasks: list[Task], seen: list[str], title: str) -> set[str]:
    """The leading group's members: a list the notes give ("成员单位：A、B"); else, where the document has a
    leading group (its office, 各成员单位, or 领导小组 in the title or notes), every unit but the office and
    groups — said as a finding; else none."""
    from .bureaus import split_list

    lines = [title, *ctx.tm.above, *ctx.tm.below]
    listed = next((split_list(m.group("list")) for line in lines if (m := _MEMBER_LIST_RE.search(clean(line)))), None)
    if listed:
        return {n for n in seen if n in listed}
    has_group = any(ALL_MEMBERS in t.responsible + t.lead for t in tasks) or any(is_office(n) for n in seen) or any(
        "领导小组" in line for line in lines)
    if not has_group:
        ctx.findings.append(Finding.of(Code.NO_LEADING_GROUP, file=ctx.tm.file, sheet=ctx.tm.sheet))
        return set()
    ctx.findings.append(Finding.of(Code.MEMBERS_ASSUMED, file=ctx.tm.file, sheet=ctx.tm.sheet))
    return {n for n in seen if not is_office(n) and not is_group(n)}


def _reporting(ctx: _Ctx, ledger: Ledger) -> None:
    """The reporting period kind and deadline rule the document's notes state, each said as a finding."""
    from .model import DEFINITION_RULE_SOURCE, DeadlineRule

    kind, rule = reporting_of(ctx.tm.above + ctx.tm.below)
    if kind in ("month", "quarter", "half-year", "year"):
        ledger.period_kind = kind  # type: ignore[assignment]
    said = f"报送周期设为“{PERIOD_KIND_LABEL[ledger.period_kind]}”" if kind else ""
    if rule:
        try:
            ledger.deadline_rule = DeadlineRule.parse(rule, source=DEFINITION_RULE_SOURCE)
            said += ("，" if said else "") + f"报送截止“{rule}”（{ledger.deadline_rule.text}）"
        except LedgerError:
            ctx.findings.append(Finding.of(Code.DEADLINE_RULE_UNREAD, file=ctx.tm.file, rule=rule))
    if said:
        ctx.findings.append(Finding.of(Code.REPORTING_READ, file=ctx.tm.file, said=said))


def _column_summary(tm: TableModel, cols: Columns, years_from: str, years: list[int]) -> list[tuple[str, str]]:
    out = []
    year_of = {ci: y for y, ci in cols.years.items()}
    for ci, header, role in sorted(cols.roles):
        label = f"{year_of[ci]}年的年度目标" if role == "year" else ROLE_LABEL[role]
        if role == "persons":  # 责任人（人员，不作为单位，记入备注）
            label = (header or "人员") + label
        if role == "task" and len(cols.task) > 1:
            label = "任务（第一级）" if ci == cols.task[0] else "任务（第二级，子项）"
        out.append((header or f"第{ci + 1}列", label))
    if years_from and years_from != "年度列":
        out.append(("（年份）", f"{'、'.join(map(str, years))}，取自{years_from}"))
    return out
