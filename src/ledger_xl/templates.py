"""The bureau template: one Excel workbook per bureau per reporting period.

Written with xlsxwriter (typed writes only). Staff open it in Excel or WPS: a 填报说明 sheet in plain
Chinese, a protected 填报表 with only this bureau's tasks, unlocked and validated input cells, and a
very hidden metadata sheet signed with the workspace key so ingest can match and verify the file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .codes import Code
from .findings import LedgerError
from .fsutil import XLSXWRITER_OPTIONS, atomic_path, clear_stale_temps
from .layout import (
    FORM_SHEET,
    HELP_SHEET,
    META_SHEET,
    ROLE_LABEL,
    STATUS_CHOICES,
    FieldSpec,
    TemplateMeta,
    canonical,
)
from .model import (
    CHANGE_LABEL,
    DEFAULT_DEADLINE_DAYS,
    FREQUENCY_LABEL,
    DeadlineRule,
    Ledger,
    Metric,
    Period,
    Task,
    check_period_in,
    fmt_number,
    is_countable,
)
from .textui import width

if TYPE_CHECKING:
    from .workspace import Workspace

# column: (header, width)
COLUMNS = [
    ("序号", 5), ("职责", 5), ("指标分类", 10), ("重点任务", 24), ("本年度计划", 16), ("总体目标", 15),
    ("截至上期累计", 8), ("填报项目", 17), ("本期填报", 17),
    ("工作进展", 26), ("存在问题", 16), ("下一步计划", 16), ("佐证材料", 13),
]
C_ID, C_ROLE, C_CAT, C_TASK, C_YEAR, C_TOTAL, C_CUM, C_LABEL, C_VALUE, C_PROGRESS, C_PROBLEMS, C_PLAN, C_EVIDENCE = range(13)
TEXT_COLUMNS = {C_PROGRESS: "progress", C_PROBLEMS: "problems", C_PLAN: "plan", C_EVIDENCE: "evidence"}
HEADER_ROW = 2
FIRST_ROW = 3
# a line of 10 pt text: Excel's and WPS's 宋体 take 13.5 pt, LibreOffice's Noto CJK 14.2 pt (it grew a row
# of 9 lines to 129.1 pt); the taller, so that a row holds its lines wherever it is printed
LINE_PT = 14.25
# the written answers' row of an empty form holds four lines (a short answer; 16 characters in 下一步计划): room
# to write by hand on a printout, and pages planned for a form filled in, not an empty one. A longer answer
# grows the row as it is typed, a shorter one shrinks it.
ANSWER_PT = 4 * LINE_PT + 4
MAX_ROW_PT = 409  # the tallest row Excel keeps
ANSWERS_BELOW = "本项的文字情况填在下面一行"  # over the answer columns of a task's number rows


def period_end(period: Period) -> dt.date:
    return period.end_date


def deadline(period: Period, rule: DeadlineRule | int | None = None) -> dt.date:
    """The period's due date under the office's rule (an int: that many days after the period ends)."""
    if rule is None or isinstance(rule, int):
        rule = DeadlineRule(days=DEFAULT_DEADLINE_DAYS if rule is None else rule)
    return rule.due(period)


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def safe_filename(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .") or "单位"


@dataclass(slots=True)
class _Measure:
    kind: str
    index: int
    label: str
    unit: str
    cumulative: float | None = None
    accumulation: str = "additions"


def _measures(ledger: Ledger, task: Task, role: str, prior: dict[tuple[str, int], float]) -> list[_Measure]:
    if role != "lead":
        return []
    out: list[_Measure] = []
    for i, m in enumerate(task.metrics):
        out.append(_Measure("metric", i, _metric_label(m), m.unit, prior.get((task.id, i), 0.0), m.accumulation))
    for i, ind in enumerate(task.indicators):
        short = f"指标{i + 1}" if len(task.indicators) > 1 else "指标"
        if ind.baseline:
            # how the two figures make the indicator, said where they are typed (期初 2,000 and 本期 2,400 are 20% more
            # than at the start when it rises, 120% when it is a share)
            how = (f"与期初同口径，按较期初{CHANGE_LABEL[ind.change]}的比例计算" if ind.change else "比例的分子")
            out.append(_Measure("ind_baseline", i, f"{short}：期初基数（数值{'' if ind.change else '，比例的分母'}）", ""))
            out.append(_Measure("ind_current", i, f"{short}：本期实际数（数值，{how}）", ""))
        if ind.unit == "%":
            out.append(_Measure("ind_value", i, f"{short}：当前值（%）", "%"))
        else:
            out.append(_Measure("ind_value", i, f"{short}：当前比值（如 3.5:1）", "ratio"))
    if task.frequency:
        out.append(_Measure("duty_count", 0, f"本期完成次数（{FREQUENCY_LABEL[task.frequency]}不少于{task.frequency_count}次）", "次"))
    if task.deadline is not None and not (task.metrics or task.indicators or task.frequency or task.deliverable):
        # nothing else says whether it is done: the lead bureau says so, judged against its 完成时限
        out.append(_Measure("deliv_status", 0, f"完成情况（完成时限 {task.deadline.isoformat()}，下拉选择）", ""))
    if task.deliverable:
        out += [
            _Measure("deliv_status", 0, "成果进展（下拉选择）", ""),
            _Measure("deliv_date", 0, "完成日期（已完成时填）", ""),
            _Measure("deliv_name", 0, "文件名称", ""),
            _Measure("deliv_no", 0, "文号", ""),
        ]
    return out


def _metric_label(m: Metric) -> str:
    """What the bureau types for a metric: this period's new amount, the level reached, or this period's own figure."""
    if m.accumulation == "year_end":
        return f"{m.name}：截至本期末达到的总量（{m.unit}）"
    if m.accumulation == "per_year":
        return f"{m.name}：本期完成（{m.unit}，计入当年）"
    return f"{m.name}：本期新增（{m.unit}）"


def _year_plan(task: Task, year: int) -> str:
    if task.metrics:
        return "；".join(f"{m.name if len(task.metrics) > 1 else ''}{fmt_number(m.yearly.get(year, 0))}{m.unit}" for m in task.metrics)
    return task.breakdown.get(year, "")


def _total_plan(task: Task) -> str:
    parts = []
    for m in task.metrics:
        total = m.target.label(m.unit) if m.target else f"{fmt_number(m.planned_total())}{m.unit}"
        if m.accumulation == "additions":
            parts.append(f"{m.name if len(task.metrics) > 1 else '累计'}{total}")
        else:
            word = "年末达到" if m.accumulation == "year_end" else f"{max(m.yearly, default='')}年当年"
            parts.append(f"{m.name if len(task.metrics) > 1 else ''}{word}{total}")
    parts += [i.text for i in task.indicators]
    if task.frequency:
        parts.append(f"{FREQUENCY_LABEL[task.frequency]}{task.frequency_count}次")
    if task.deliverable:
        parts.append(f"成果：{task.deliverable}")
    return "\n".join(parts)


def wrapped_lines(text: str, col_width: float) -> int:
    """Lines a text takes in a column of that width; CJK characters count two (3 UTF-8 bytes ↦ width 2)."""
    if not text:
        return 1
    usable = max(col_width - 1, 2)
    if type(text) is str and "\n" not in text:  # one paragraph (most cells): the sum below over one line, without splitting
        return max(1, math.ceil((len(text.encode("utf-8")) + len(text)) / 2 / usable))
    return sum(max(1, math.ceil((len(line.encode("utf-8")) + len(line)) / 2 / usable)) for line in str(text).split("\n"))


CELL_PAD_PT = 5  # what a cell keeps free of text across its width (Excel ~3 px a side; LibreOffice less)
OPENING = frozenset("（(《“‘〔[【")  # never ends a line: goes with what follows
CLOSING = frozenset("）)》”’〕]】，。、；：！？,.;:!?%")  # never starts a line: goes with what precedes
BREAK_BEFORE = frozenset("（(《〔[【")  # a good place for a line to end: before a bracket…
BREAK_AFTER = frozenset("：，、；:;, ")  # …or after a colon, comma or space


def _label_tokens(text: str) -> list[str]:
    """The pieces a line may break between: a Chinese character, or a run of Latin letters, digits and marks
    (2025-12-31, 3.5:1), each carrying the opening marks before it and the closing marks after it."""
    tokens: list[str] = []
    pending = ""
    for ch in text:
        if ch in OPENING:
            pending += ch
        elif tokens and not pending and (ch in CLOSING or _latin(ch) and _latin(tokens[-1][-1])):
            tokens[-1] += ch
        else:
            tokens.append(pending + ch)
            pending = ""
    if pending:
        tokens.append(pending)
    return tokens


def _latin(ch: str) -> bool:
    """Part of a Latin word or a figure (2025-12-31, 3.5:1, A/B): a printable ASCII character but a space."""
    return ch.isascii() and ch.isprintable() and not ch.isspace()


def text_width(text: str) -> int:
    """Width in half-character units in a Chinese font: a CJK or full-width character counts two, and so do
    “ ” … — (East Asian ambiguous: full-width in 宋体 and Noto CJK), as the master ledger measures them."""
    return width(text, 2)


def break_label(text: str, col_width: float, font_pt: float = 10) -> str:
    """The label with explicit line breaks for a column that wide (Excel's character units), so Excel, WPS and
    LibreOffice all show the same lines and none starts with a closing mark or ends with an opening one. A
    break anywhere but before a bracket or after a colon or comma ("完成时|限") costs more than a line: a label
    takes one line more rather than two such breaks; a character alone on a line costs more still. A label that fits, or holds its own breaks, is left alone."""
    usable = max(int((column_points(col_width) - CELL_PAD_PT) / (font_pt / 2)), 2)  # half-characters a line holds
    if "\n" in text or text_width(text) <= usable:
        return text
    tokens = _label_tokens(text)
    widths = [text_width(t) for t in tokens]
    # best[i]: (cost, start of the last line) for the first i tokens; a line costs 1, a poor break 1.5 more
    best: list[tuple[float, int] | None] = [(0.0, 0)] + [None] * len(tokens)
    for i in range(1, len(tokens) + 1):
        for j in range(i - 1, -1, -1):
            if sum(widths[j:i]) > usable and j < i - 1:
                break  # a token wider than a line stands alone
            prev = best[j]
            if prev is None:
                continue
            good = j == 0 or tokens[j][0] in BREAK_BEFORE or tokens[j - 1][-1] in BREAK_AFTER
            alone = sum(widths[j:i]) <= 2  # one character on a line of its own ("配送" | "站")
            cost = prev[0] + 1 + (0 if good else 1.5) + (2 if alone else 0)
            if best[i] is None or cost < best[i][0]:  # type: ignore[index]
                best[i] = (cost, j)
    lines, i = [], len(tokens)
    while i > 0:
        j = best[i][1]  # type: ignore[index]
        lines.append("".join(tokens[j:i]).strip())
        i = j
    return "\n".join(reversed(lines))


def print_width(text: str) -> float:
    """Width in half-characters as the widest of the fonts the text is printed in: a CJK or full-width
    character (and “ ” … —) two, as in 宋体; a Latin letter or digit a little more than one, as LibreOffice's Noto
    CJK draws them (1.1), % and m two (1.85, 1.95); spaces and marks one."""
    total = 0.0
    for ch in text:
        if not ch.isascii():
            total += width(ch, 2)
        elif ch in "%@mwMW":
            total += 2
        elif ch.isupper():
            total += 1.5
        elif ch.isalnum():
            total += 1.15
        else:
            total += 1
    return total


def line_room(col_width: float, font_pt: float = 10) -> float:
    """Half-characters of a font that one line of a column that wide holds in Excel (LibreOffice's is wider)."""
    return (column_points(col_width) - CELL_PAD_PT) / (font_pt / 2)


def break_text(text: str, col_width: float, font_pt: float = 10) -> str:
    """Running text (a plan, an instruction) with explicit line breaks for a column that wide, so that no line
    starts with a closing mark (，。、）” …) or ends with an opening one (避头尾) whatever program shows or prints
    it: LibreOffice breaks before a lone “。”, and Excel or WPS would break where their own widths say. Each
    line fits the column in Excel, WPS and LibreOffice (measured with print_width), so none of them breaks it
    again; a line is filled as far as it goes, a figure or date (2024-6-30) is never cut, and the last line is
    never one character alone when the line before can spare one. A text that fits is left alone."""
    room = line_room(col_width, font_pt)
    out = []
    for para in text.split("\n"):
        out += [para] if print_width(para) <= room else ["".join(line).strip() for line in _fill(_label_tokens(para), room)]
    return "\n".join(out)


def _fill(tokens: list[str], room: float) -> list[list[str]]:
    """Tokens in lines of at most `room` half-characters, each line as full as it goes; a token wider than a line
    (a long web address) is cut where the line ends."""
    lines: list[list[str]] = [[]]
    used = 0.0
    for tok in tokens:
        w = print_width(tok)
        if lines[-1] and used + w > room:
            if not tok.strip():
                lines[-1].append(tok)  # a space where a line ends: the break replaces it (the line is stripped)
                continue
            lines.append([])
            used = 0.0
            if tok.lstrip()[:1] in CLOSING and len(lines[-2]) > 1:  # a mark a word starts with (".xls"): a word goes down too
                while len(lines[-2]) > 1 and not lines[-2][-1].strip():
                    lines[-1].insert(0, lines[-2].pop())
                if len(lines[-2]) > 1:
                    lines[-1].insert(0, lines[-2].pop())
                elif len(word := lines[-2][0]) > 1 and not word[-1].isascii():  # one run of 汉字 on the line: its last goes down
                    lines[-2][0], lines[-1][:0] = word[:-1], [word[-1]]
                used = print_width("".join(lines[-1]))
            else:
                tok = tok.lstrip()
            w = print_width(tok)
        while w > room:  # alone wider than a line: cut by characters
            k = 1
            while k < len(tok) and print_width(tok[: k + 1]) <= room:
                k += 1
            lines[-1].append(tok[:k])
            lines.append([])
            tok = tok[k:]
            w = print_width(tok)
        lines[-1].append(tok)
        used += w
    lines = [line for line in lines if "".join(line).strip()]
    if len(lines) >= 2 and len(lines[-1]) == 1 and len(lines[-2]) >= 3 and len(lines[-1][0].strip()) <= 2:
        _take_down(lines[-2], lines[-1], room)  # "计。" alone on the last line: one more character goes down with it
    return lines


def _take_down(above: list[str], last: list[str], room: float) -> None:
    """Move the end of the line above to the start of the last line: one token, or as many as it takes for the
    moved part not to start with a space or a closing mark (" ，" carries a comma), when they fit there."""
    k = 1
    while k < len(above) - 1 and (not above[-k].strip() or above[-k].lstrip()[:1] in CLOSING):
        k += 1
    moved = above[-k:]
    first = "".join(moved).lstrip()
    if first[:1] not in CLOSING and print_width("".join(moved + last)) <= room:
        del above[-k:]
        last[:0] = moved


# page geometry of the printed 填报表: landscape A4, margins in inches as set in _print_setup
PAGE_W_PT, PAGE_H_PT = 841.9, 595.3
MARGIN_LR_IN, MARGIN_TB_IN = 0.4, 0.6
PAGE_FILL = 0.94  # of the printable height: room for the renderer's rounding and the footer
WIDTH_FILL = 0.93  # of the printable width: LibreOffice lays columns out ~5% wider than Excel (measured)


def column_points(width_chars: float) -> float:
    """A column's printed width in points, as Excel sizes it (7 px a character plus 5 px padding, 0.75 pt a px)."""
    return (int(width_chars * 7 + 5) if width_chars >= 1 else int(width_chars * 12)) * 0.75


def print_scale(widths: list[float]) -> int:
    """The print scale (%) that fits every column on one page width; an explicit scale, not fit-to-page,
    because Excel ignores manual page breaks under fit-to-page."""
    usable = (PAGE_W_PT - 2 * MARGIN_LR_IN * 72) * WIDTH_FILL
    return max(10, min(100, int(usable / sum(column_points(w) for w in widths) * 100)))


def page_breaks(head_pt: float, repeat_pt: float, blocks: list[tuple[int, float]], scale: int) -> list[int]:
    """Rows before which a page must break so that no task block is split: `blocks` are (first row,
    height in points) in order; the first page starts with `head_pt` of title and header, later pages
    with the repeated header row (`repeat_pt`). A block taller than a page starts a page and runs on."""
    usable = (PAGE_H_PT - 2 * MARGIN_TB_IN * 72) * PAGE_FILL * 100 / scale
    breaks, used, on_page = [], head_pt, 0
    for row, height in blocks:
        if used + height > usable and on_page:
            breaks.append(row)
            used, on_page = repeat_pt, 0
        used += height
        on_page += 1
    return breaks


@dataclass
class _Formats:
    """The cell formats of a template, made once per workbook."""

    title: object
    note: object
    head: object
    head_in: object
    lock: object
    lock_c: object
    lock_num: object
    na: object
    in_text: object
    in_num: object
    in_pct: object
    in_txtfmt: object
    in_date: object
    foot: object
    aside: object

    @classmethod
    def make(cls, wb: object) -> _Formats:
        add = wb.add_format  # type: ignore[attr-defined]
        base = {"font_name": "宋体", "font_size": 10, "text_wrap": True, "valign": "vcenter", "border": 1}
        grey, yellow = {"bg_color": "#F2F2F2"}, {"locked": False, "bg_color": "#FFF9DB"}
        return cls(
            title=add({"font_name": "黑体", "font_size": 15, "align": "center", "valign": "vcenter", "locked": True}),
            note=add({"font_name": "宋体", "font_size": 10, "text_wrap": True, "valign": "vcenter", "font_color": "#444444"}),
            head=add({**base, "bold": True, "align": "center", "bg_color": "#D9E1F2"}),
            head_in=add({**base, "bold": True, "align": "center", "bg_color": "#FFE699"}),
            lock=add({**base, **grey}),
            lock_c=add({**base, **grey, "align": "center"}),
            # General, not 0.##: Excel and WPS show 5 under 0.## as "5."
            lock_num=add({**base, **grey, "align": "center", "num_format": "General"}),
            na=add({**base, "bg_color": "#D9D9D9", "pattern": 1}),
            in_text=add({**base, **yellow, "valign": "top"}),
            in_num=add({**base, **yellow, "align": "center", "num_format": "General"}),
            in_pct=add({**base, **yellow, "align": "center", "num_format": "0.00%"}),
            in_txtfmt=add({**base, **yellow, "align": "center", "num_format": "@"}),
            in_date=add({**base, **yellow, "align": "center", "num_format": "yyyy-mm-dd"}),
            foot=add({**base, "bold": True, "align": "right", **grey}),
            aside=add({**base, **grey, "align": "center", "font_color": "#808080"}),
        )


HELP_WIDTH = 72  # the 填报说明 sheet's text column
HELP_LINE_PT = 16  # a line of 11 pt text (宋体 14.9 pt, Noto CJK 15.6 pt)


def _write_help_sheet(wb: object, ledger: Ledger, bureau: str, period: Period, rows: list[tuple[Task, str]],
                      due: dt.date, contact: str, issuer: str, f_title: object) -> object:
    """The 填报说明 sheet: period, bureau, deadline, whom to call and how to fill in, in plain Chinese."""
    hs = wb.add_worksheet(HELP_SHEET)  # type: ignore[attr-defined]
    hs.set_column(0, 0, 16)
    hs.set_column(1, 1, HELP_WIDTH)
    hs.merge_range(0, 0, 0, 1, f"{ledger.title}", f_title)
    hs.set_row(0, 30)
    f_k = wb.add_format({"font_name": "黑体", "font_size": 11, "valign": "top"})  # type: ignore[attr-defined]
    f_v = wb.add_format({"font_name": "宋体", "font_size": 11, "text_wrap": True, "valign": "top"})  # type: ignore[attr-defined]
    n_lead = sum(1 for _, r in rows if r == "lead")
    info = [
        ("报送期", period.label),
        ("填报单位", bureau),
        ("任务数", f"共 {len(rows)} 项（牵头 {n_lead} 项，责任 {len(rows) - n_lead} 项）"),
        ("报送截止", f"{cn_date(due)}前，将本表发回{issuer or '领导小组办公室'}"),
        ("联系人", contact or "（见通知）"),
        ("怎么填", "1. 打开“填报表”，黄色格子是要填写的地方，灰色格子是计划内容，不能修改。\n"
                   "2. “本期填报”只填本报送期内新增或完成的数字，不要填累计数；系统会自动累计。\n"
                   "3. 数字直接填阿拉伯数字，如 5、12.5；不要写“约”“余”等字，也不要写单位。\n"
                   "4. 百分数直接填，如 18%；比值填成 3.5:1 的样子。日期填成 2024-6-30、2024.6.30 或 2024年6月30日 都可以。\n"
                   "5. 牵头任务请填写数字和文字；责任（配合）任务只需填写配合工作进展等文字。\n"
                   "6. 没有进展也请如实填写“暂无”，不要留空；佐证材料写文件名或链接。\n"
                   "7. 工作进展、存在问题、下一步计划和佐证材料每项任务各填一格；一项任务占几行的，文字填在该项最下面一行。"
                   "字多时这一行会自动加高，打印出来也是完整的。\n"
                   "8. 表格最下方填写填报人、联系电话、审核人（单位负责人）和填报日期。"),
        ("注意", "请勿增删行列、改动工作表名称或另存为其他格式（如 .xls、.et、.csv）；保存为 .xlsx 后原文件发回即可。"),
    ]
    for r, (k, v) in enumerate(info, start=2):
        hs.write_string(r, 0, k, f_k)
        v = break_text(v, HELP_WIDTH, 11)
        hs.write_string(r, 1, v, f_v)
        hs.set_row(r, max(18, HELP_LINE_PT * (v.count("\n") + 1) + 2))
    hs.set_paper(9)
    hs.fit_to_pages(1, 0)
    hs.set_margins(left=0.6, right=0.6, top=0.8, bottom=0.8)
    hs.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    return hs


class _Form:
    """The 填报表 being written: its cells, the locked content and the input fields it collects."""

    def __init__(self, wb: Any, ws: Any, fmt: _Formats) -> None:
        self.wb, self.ws, self.fmt = wb, ws, fmt
        self.locked: list[tuple[str, str]] = []
        self.fields: list[FieldSpec] = []
        self.heights: dict[int, float] = {}
        self.auto_rows: set[int] = set()  # rows a spreadsheet program may make taller as text is typed
        self.typed: dict[tuple[str | None, str, int], str] = {}  # what was typed, by field (a copy handed back)
        self.rules: dict[str, tuple[dict[str, object], list[tuple[int, int]]]] = {}  # validation → its cells

    def validate(self, r: int, c: int, rule: dict[str, object]) -> None:
        """A cell's data validation, written with every other cell of the same rule by write_validations."""
        self.rules.setdefault(repr(sorted(rule.items())), (rule, []))[1].append((r, c))

    def write_validations(self) -> None:
        """One data validation per distinct rule, over all its cells (sqref="J4 J9 K4 …"), in the order first met: a
        form's ~50 inputs have ~8 rules, each with its prompt and message, and written one a cell they were two
        thirds of the form sheet's XML, which every return carries back and ingest reads through."""
        from xlsxwriter.utility import xl_rowcol_to_cell

        for rule, cells in self.rules.values():
            (r, c), cover = cells[0], " ".join(xl_rowcol_to_cell(rr, cc) for rr, cc in cells)
            self.ws.data_validation(r, c, r, c, {**rule, "multi_range": cover} if len(cells) > 1 else rule)

    def row_height(self, r: int, height: float) -> None:
        height = min(height, MAX_ROW_PT)
        self.heights[r] = height
        self.ws.set_row(r, height)

    def lock(self, r: int, c: int, value: object, fmt: object, r2: int | None = None, c2: int | None = None) -> None:
        """A locked cell (or merged range) whose content ingest compares with the signed copy."""
        from xlsxwriter.utility import xl_rowcol_to_cell

        ws = self.ws
        r2 = r if r2 is None else r2
        c2 = c if c2 is None else c2
        if (r2, c2) != (r, c):
            ws.merge_range(r, c, r2, c2, "" if isinstance(value, int | float) else str(value), fmt)
            if isinstance(value, int | float):
                ws.write_number(r, c, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, fmt)
        elif value in (None, ""):
            ws.write_blank(r, c, None, fmt)
        else:
            ws.write_string(r, c, str(value), fmt)
        if value not in (None, ""):
            self.locked.append((xl_rowcol_to_cell(r, c), canonical(value)))

    def add_field(self, kind: str, task: Task | None, role: str | None, index: int, label: str, unit: str, r: int, c: int) -> None:
        from xlsxwriter.utility import xl_rowcol_to_cell

        name = f"lx_{len(self.fields) + 1:03d}_{kind}"
        self.fields.append(FieldSpec(name, task.id if task else None, role, kind, index, label, unit, xl_rowcol_to_cell(r, c)))
        self.wb.define_name(name, f"='{FORM_SHEET}'!{xl_rowcol_to_cell(r, c, row_abs=True, col_abs=True)}")

    def head(self, ledger: Ledger, bureau: str, period: Period, due: dt.date) -> None:
        ncol, f = len(COLUMNS), self.fmt
        self.lock(0, 0, f"{ledger.title}  {period.label}填报表", f.title, 0, ncol - 1)
        self.row_height(0, 28)
        self.lock(1, 0, f"填报单位：{bureau}    报送截止：{cn_date(due)}    黄色格为填写区，灰色格为计划内容（已锁定）。", f.note, 1, ncol - 1)
        self.row_height(1, 20)
        heads = [break_label(f"{period.year}年计划" if c == C_YEAR else h, w) for c, (h, w) in enumerate(COLUMNS)]
        for c, h in enumerate(heads):
            self.lock(HEADER_ROW, c, h, f.head_in if c >= C_VALUE else f.head)
        self.row_height(HEADER_ROW, max(30, max(h.count("\n") + 1 for h in heads) * LINE_PT + 6))

    def task_block(self, ledger: Ledger, task: Task, role: str, period: Period, prior: dict[tuple[str, int], float], r: int) -> int:
        """One task's rows: the plan locked and merged down the block, one input row per measure, and the written
        answers (工作进展…佐证材料) in a row of their own that grows with them. Returns the next row."""
        f = self.fmt
        measures: list[_Measure | None] = list(_measures(ledger, task, role, prior)) or [None]
        text_row = r + len(measures) if len(measures) > 1 else r  # one measure: its row takes the answers too
        plan = {C_CAT: task.category, C_TASK: task.title, C_YEAR: _year_plan(task, period.year), C_TOTAL: _total_plan(task)}
        plan = {c: break_text(t, COLUMNS[c][1]) for c, t in plan.items()}
        n_fields = len(self.fields)
        self.lock(r, C_ID, task.id, f.lock_c, text_row, C_ID)
        self.lock(r, C_ROLE, ROLE_LABEL[role], f.lock_c, text_row, C_ROLE)
        for c, text in plan.items():
            self.lock(r, c, text, f.lock, text_row, c)
        for k, m in enumerate(measures):
            self._measure_row(task, role, m, r + k)
        if text_row > r:
            self._measure_row(task, role, None, text_row)
            self.lock(r, C_PROGRESS, ANSWERS_BELOW, f.aside, text_row - 1, C_EVIDENCE)
        self._text_cells(task, role, text_row)
        # the fixed rows hold the plan by themselves: the answers' row may shrink to what is typed
        need = max(t.count("\n") + 1 for t in plan.values()) * LINE_PT + 4
        per_row = [_measure_height(m) for m in measures]
        extra = max(0.0, need - sum(per_row)) / len(per_row)
        for k, h in enumerate(per_row):
            self.row_height(r + k, h + extra)
        self.row_height(text_row, max(self.heights[text_row] if text_row == r else _measure_height(None), ANSWER_PT))
        self.auto_rows.add(text_row)  # see _auto_height
        self._fit_typed(n_fields)
        return text_row + 1

    def _fit_typed(self, since: int) -> None:
        """Rows tall enough for what was typed into the fields from `since` on (a copy handed back filled in):
        Excel and WPS show a row at the height the file gives it until someone types into it."""
        for spec in self.fields[since:]:
            text = self.typed.get((spec.task_id, spec.kind, spec.index))
            if text:
                row, col = _cell_rc(spec.cell)
                self.row_height(row, max(self.heights[row], wrapped_lines(text, COLUMNS[col][1]) * LINE_PT + 4))

    def _measure_row(self, task: Task, role: str, m: _Measure | None, rr: int) -> None:
        f = self.fmt
        if m is None:
            self.lock(rr, C_CUM, "", f.lock_c)
            label = "文字填报（配合工作进展）" if role == "responsible" else "文字填报"
            self.lock(rr, C_LABEL, break_label(label, COLUMNS[C_LABEL][1]), f.lock)
            self.ws.write_blank(rr, C_VALUE, None, f.na)
            return
        self.lock(rr, C_CUM, m.cumulative if m.kind == "metric" else "", f.lock_num if m.kind == "metric" else f.lock_c)
        self.lock(rr, C_LABEL, break_label(m.label, COLUMNS[C_LABEL][1]), f.lock)
        self.add_field(m.kind, task, role, m.index, m.label, m.unit, rr, C_VALUE)
        self.validate(rr, C_VALUE, _input_cell(self.ws, rr, C_VALUE, m, f))

    def _text_cells(self, task: Task, role: str, r: int) -> None:
        """The written answers, one cell each in one row: never merged, so the row grows with them."""
        f, ws = self.fmt, self.ws
        for c, kind in TEXT_COLUMNS.items():
            label = COLUMNS[c][0] if not (role == "responsible" and kind == "progress") else "配合工作进展"
            ws.write_blank(r, c, None, f.in_text)
            self.add_field(kind, task, role, 0, label, "", r, c)
            self.validate(r, c, {"validate": "length", "criteria": "<=", "value": 2000,
                                 "input_title": label[:31], "input_message": _TEXT_HELP[kind],
                                 "error_title": "文字过长", "error_message": "每格最多 2000 字，较长的材料请写在佐证材料中。"})

    def footer(self, r: int) -> int:
        """Who filled, phone, who signed off, date; returns the last row."""
        f, ws = self.fmt, self.ws
        foot = [("填报人", "filler", f.in_text, None), ("联系电话", "phone", f.in_txtfmt, "phone"),
                ("审核人（单位负责人）", "reviewer", f.in_text, None), ("填报日期", "fill_date", f.in_date, "date")]
        for k, (label, kind, fmt, check) in enumerate(foot):
            rr = r + k // 2
            c0 = 0 if k % 2 == 0 else 6
            self.lock(rr, c0, label, f.foot, rr, c0 + 2)
            ws.merge_range(rr, c0 + 3, rr, c0 + 4, "", fmt)
            self.add_field(kind, None, None, 0, label, "", rr, c0 + 3)
            if check == "phone":
                rule = {"validate": "length", "criteria": "between", "minimum": 7, "maximum": 20,
                        "input_title": "联系电话", "input_message": "手机或座机号码，如 13800000000 或 0377-12345678",
                        "error_title": "电话号码不对", "error_message": "请填写 7 到 20 位的电话号码，如 0377-12345678。"}
            elif check == "date":
                rule = _date_rule(rr, c0 + 3)
            else:
                rule = {"validate": "length", "criteria": "between", "minimum": 1, "maximum": 50,
                        "input_title": label[:31], "input_message": "填写姓名（和职务）。",
                        "error_title": "内容过长", "error_message": "最多 50 字。"}
            self.validate(rr, c0 + 3, rule)
            self.row_height(rr, 24)
        return r + 1

    def print_setup(self, bureau: str, period: Period, blocks: list[tuple[int, float]], last_row: int) -> None:
        """Landscape A4, one page wide, header row repeated, and page breaks only between task blocks."""
        ws = self.ws
        ws.freeze_panes(FIRST_ROW, C_CAT)
        ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True,
                        "format_rows": True})
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=MARGIN_LR_IN, right=MARGIN_LR_IN, top=MARGIN_TB_IN, bottom=MARGIN_TB_IN)
        scale = print_scale([w for _, w in COLUMNS])
        ws.set_print_scale(scale)
        head = sum(self.heights.get(r, 15) for r in range(FIRST_ROW))
        ws.set_h_pagebreaks(page_breaks(head, self.heights.get(HEADER_ROW, 30), blocks, scale))
        ws.repeat_rows(HEADER_ROW)
        ws.print_area(0, 0, last_row, len(COLUMNS) - 1)
        ws.set_footer(f"&C{safe_filename(bureau)}  {period.label}  第 &P 页，共 &N 页")


def _cell_rc(cell: str) -> tuple[int, int]:
    from xlsxwriter.utility import xl_cell_to_rowcol

    return xl_cell_to_rowcol(cell)


def _measure_height(m: _Measure | None) -> float:
    """A measure row's height: its label's lines, as broken by break_label."""
    if m is None:
        return 30
    lines = break_label(m.label, COLUMNS[C_LABEL][1]).count("\n") + 1
    if m.kind in ("deliv_name", "deliv_no"):
        lines = max(lines, 3)  # room to read a document's name or 文号 as typed: the cell wraps
    return max(lines * LINE_PT + 4, 20)


class TemplateHook(Protocol):
    """More in a template than the form (returns.py: a copy handed back to a bureau, filled in and marked)."""

    def before(self, wb: Any) -> None:
        """Add the sheets that come before 填报说明."""

    def typed(self) -> dict[tuple[str | None, str, int], str]:
        """What will be written into the input cells, as shown, by (task id, kind, index): rows are sized for it."""

    def after(self, wb: Any, form: Any, fields: list[FieldSpec]) -> None:
        """Write into the finished form's input cells (`fields` say where each one is)."""


def write_template(
    ledger: Ledger,
    bureau: str,
    period: Period,
    path: Path,
    *,
    key: bytes,
    ledger_id: str,
    deadline_rule: DeadlineRule | None = None,
    contact: str = "",
    issuer: str = "",
    prior: dict[tuple[str, int], float] | None = None,
    now: dt.datetime | None = None,
    rows: list[tuple[Task, str]] | None = None,
    hook: TemplateHook | None = None,
) -> TemplateMeta:
    """Write one bureau's template atomically and return its (signed) metadata; `hook` adds to it."""
    import xlsxwriter

    check_period_in(ledger, period)
    rows = rows if rows is not None else ledger.tasks_for(bureau)
    if not rows:
        raise LedgerError.of(Code.NO_TASKS_FOR_BUREAU, bureau=bureau)
    prior = prior or {}
    now = now or dt.datetime.now().replace(microsecond=0)
    due = deadline(period, deadline_rule)
    with atomic_path(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)
        wb.set_properties({"title": f"{ledger.title} {period.label} 填报表", "author": issuer or "ledger-xl", "company": issuer,
                           "created": now})
        if hook is not None:
            hook.before(wb)
        fmt = _Formats.make(wb)
        hs = _write_help_sheet(wb, ledger, bureau, period, rows, due, contact, issuer, fmt.title)
        ws = wb.add_worksheet(FORM_SHEET)
        for c, (_, w) in enumerate(COLUMNS):
            ws.set_column(c, c, w)
        form = _Form(wb, ws, fmt)
        if hook is not None:
            form.typed = hook.typed()
        form.head(ledger, bureau, period, due)
        r, blocks = FIRST_ROW, []
        for task, role in rows:
            nxt = form.task_block(ledger, task, role, period, prior or {}, r)
            blocks.append((r, sum(form.heights[k] for k in range(r, nxt))))
            r = nxt
        last_row = form.footer(r + 1)
        form.write_validations()
        blocks[-1] = (blocks[-1][0], blocks[-1][1] + 15)  # the blank row before the footer ends the last task's page
        blocks.append((r + 1, sum(form.heights.get(k, 15) for k in range(r + 1, last_row + 1))))  # the footer stays whole
        form.print_setup(bureau, period, blocks, last_row)
        ws.activate()
        hs.set_first_sheet()  # type: ignore[attr-defined]
        if hook is not None:
            hook.after(wb, ws, form.fields)
        meta = TemplateMeta(ledger_title=ledger.title, ledger_id=ledger_id, bureau=bureau, period=period.code,
                            generated_at=now.isoformat(), locked=form.locked, fields=form.fields)
        meta.sign(key)
        _write_meta_sheet(wb, meta)
        wb.close()
        _lock_structure(tmp, f"xl/worksheets/sheet{ws.index + 1}.xml", form.auto_rows)
    return meta


def _write_meta_sheet(wb: object, meta: TemplateMeta) -> None:
    ms = wb.add_worksheet(META_SHEET)  # type: ignore[attr-defined]
    for i, (k, v) in enumerate(meta.to_rows()):
        ms.write_string(i, 0, k)
        ms.write_string(i, 1, v)
    ms.protect("", {"select_locked_cells": False, "select_unlocked_cells": False})
    ms.very_hidden()


def _date_rule(r: int, c: int) -> dict[str, object]:
    """A date typed as Excel understands it (a serial) or as people here write it (2024.6.30, 2024年6月30日,
    which Excel keeps as text): ingest reads all of them, so the cell must accept both."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    cell = xl_rowcol_to_cell(r, c)
    return {"validate": "custom", "value": f"=OR(ISNUMBER({cell}),AND(LEN({cell})>=8,LEN({cell})<=11))",
            "input_title": "日期", "input_message": "请填写日期，如 2024-6-30、2024.6.30 或 2024年6月30日",
            "error_title": "日期格式不对", "error_message": "请按 2024-6-30、2024.6.30 或 2024年6月30日 的样子填写日期。"}


_TEXT_HELP = {
    "progress": "本期做了什么、做到什么程度。没有进展请填“暂无”。",
    "problems": "遇到的困难和问题；没有请填“无”。",
    "plan": "下一期的工作打算。",
    "evidence": "佐证材料的文件名或链接，多个用顿号分隔。",
}


def _input_cell(ws: Any, r: int, c: int, m: _Measure, fmt: _Formats) -> dict[str, object]:
    """The input cell of one measure, with its number format; returns its validation, with a Chinese message."""
    kind = m.kind
    f_num, f_pct, f_txt, f_date, f_text = fmt.in_num, fmt.in_pct, fmt.in_txtfmt, fmt.in_date, fmt.in_text
    what = {"year_end": "填截至本期末达到的总量（不是本期新增）。", "per_year": "填本期完成的量，没有填 0。"}
    if kind == "metric" and is_countable(m.unit):
        ws.write_blank(r, c, None, f_num)
        rule = {"validate": "integer", "criteria": ">=", "value": 0, "input_title": "填写整数",
                "input_message": f"只填整数，单位为{m.unit}，不要写单位或“约”字。" + what.get(m.accumulation, "本期没有新增填 0。"),
                "error_title": "请输入整数", "error_message": f"这里按{m.unit}计数，只能填 0 或正整数，如 3。"}
    elif kind in ("metric", "ind_baseline", "ind_current"):
        ws.write_blank(r, c, None, f_num)
        msg = (f"只填数字，单位为{m.unit}，不要写单位或“约”字。" + what.get(m.accumulation, "本期没有新增填 0。")
               if kind == "metric" else "只填数字，如 1250 或 3.6。")
        rule = {"validate": "decimal", "criteria": ">=", "value": 0, "input_title": "填写数字", "input_message": msg,
                "error_title": "请输入数字", "error_message": "这里只能填不小于 0 的数字，如 5 或 12.5。"}
    elif kind == "ind_value" and m.unit == "%":
        ws.write_blank(r, c, None, f_pct)
        rule = {"validate": "decimal", "criteria": "between", "minimum": -10, "maximum": 100,
                "input_title": "填写百分数", "input_message": "直接输入百分数，如 18%。",
                "error_title": "请输入百分数", "error_message": "请输入百分数，如 18%。"}
    elif kind == "ind_value":
        ws.write_blank(r, c, None, f_txt)
        rule = {"validate": "length", "criteria": "between", "minimum": 1, "maximum": 20,
                "input_title": "填写比值", "input_message": "按“3.5:1”的样子填写。",
                "error_title": "比值格式不对", "error_message": "请按 3.5:1 的样子填写。"}
    elif kind == "duty_count":
        ws.write_blank(r, c, None, f_num)
        rule = {"validate": "integer", "criteria": ">=", "value": 0, "input_title": "填写次数",
                "input_message": "本报送期内完成的次数，整数，如 1。", "error_title": "请输入整数", "error_message": "请输入 0 或正整数。"}
    elif kind == "deliv_status":
        ws.write_blank(r, c, None, f_txt)
        rule = {"validate": "list", "source": STATUS_CHOICES, "input_title": "选择进展", "input_message": "从下拉列表中选择。",
                "error_title": "请从列表中选择", "error_message": "请选择：未启动、推进中或已完成。"}
    elif kind == "deliv_date":
        ws.write_blank(r, c, None, f_date)
        rule = _date_rule(r, c)
    else:
        ws.write_blank(r, c, None, f_text)
        rule = {"validate": "length", "criteria": "<=", "value": 200, "input_title": m.label[:31],
                "input_message": "如：《XX办法》、X政〔2024〕X号。", "error_title": "文字过长", "error_message": "最多 200 字。"}
    return rule


def _lock_structure(path: Path, form_part: str = "", auto_rows: set[int] | None = None) -> None:
    """Protect the workbook structure (no adding, deleting, renaming or unhiding sheets), and let the form's
    `auto_rows` grow with what is typed (_auto_height)."""
    src = Path(path)
    tmp = src.with_suffix(".lock.tmp")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>', 1)
            elif info.filename == form_part and auto_rows:
                data = _auto_height(data, auto_rows)
            zout.writestr(info, data)
    tmp.replace(src)


def _auto_height(sheet_xml: bytes, rows: set[int]) -> bytes:
    """The rows (0-based) keep their height but lose customHeight: a long answer typed into one then makes
    Excel, WPS and LibreOffice grow the row to show it whole, as they do for a row nobody sized by hand
    (xlsxwriter marks every sized row custom, which freezes it; a merged cell never grows a row, so only rows
    of a one-row task block are let go)."""
    def free(m: re.Match[bytes]) -> bytes:
        return m.group(0).replace(b' customHeight="1"', b"") if int(m.group(1)) - 1 in rows else m.group(0)

    return re.sub(rb'<row r="(\d+)"[^>]*>', free, sheet_xml)


@dataclass
class TemplateRun:
    period: Period
    written: list[tuple[str, Path, TemplateMeta]]
    zip_path: Path | None = None


def write_templates(
    ledger: Ledger,
    period: Period,
    out_dir: Path,
    *,
    key: bytes,
    ledger_id: str,
    bureaus: list[str] | None = None,
    deadline_rule: DeadlineRule | None = None,
    contact: str = "",
    issuer: str = "",
    prior: dict[tuple[str, int], float] | None = None,
    make_zip: bool = False,
    now: dt.datetime | None = None,
) -> TemplateRun:
    check_period_in(ledger, period)
    names = ledger.bureaus_with_tasks()
    if bureaus:
        unknown = [b for b in bureaus if b not in names]
        if unknown:
            raise LedgerError.of(Code.BUREAU_OPTION_UNKNOWN, names="、".join(unknown), choices="、".join(names))
        names = [n for n in names if n in bureaus]
    out_dir = Path(out_dir)
    clear_stale_temps(out_dir)  # what a killed run left half made (other bureaus' included)
    written = []
    now = now or dt.datetime.now().replace(microsecond=0)
    index = ledger.role_index()
    for name in names:
        path = out_dir / f"{safe_filename(name)}.xlsx"
        meta = write_template(ledger, name, period, path, key=key, ledger_id=ledger_id, deadline_rule=deadline_rule,
                              contact=contact, issuer=issuer, prior=prior, now=now, rows=index.get(name, []))
        written.append((name, path, meta))
    run = TemplateRun(period, written)
    if make_zip:
        run.zip_path = out_dir.parent / f"{period.code}_填报模板.zip"
        with atomic_path(run.zip_path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for _, path, _ in written:
                z.write(path, f"{period.code}/{path.name}")
    return run


def workspace_templates(ws: Workspace, ledger: Ledger, period: Period, *, bureaus: list[str] | None = None,
                        make_zip: bool = False) -> TemplateRun:
    """A period's templates into outputs/templates/<period>, signed with the workspace's key, each carrying
    the workspace's deadline, contact and issuer and what the store holds from before the period."""
    from .workspace import open_store, template_settings

    with open_store(ws) as store:
        prior = store.cumulative_before(ledger, period)
        return write_templates(
            ledger, period, ws.outputs / "templates" / period.code, key=store.template_key, ledger_id=store.ledger_id,
            bureaus=bureaus, prior=prior, make_zip=make_zip, **template_settings(ws, ledger),
        )
