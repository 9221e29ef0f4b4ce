"""The half-year summary report (总结报告) as a Word document in official format (GB/T 9704-2012).

Composed only from the check results and the stored values: nothing is typed by hand. Layout: A4,
margins 37/35/28/26 mm, body 仿宋_GB2312 16 pt on a fixed 28.95 pt line (22 lines of 28 characters),
title 方正小标宋简体 22 pt, 一、 黑体, （一） 楷体_GB2312, page numbers "— 1 —" 宋体 14 pt, odd right and even
left. Every run and style carries its East Asian font; the document language is zh-CN.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checks import CheckResult, TaskCheck
from .fsutil import atomic_path
from .model import DEFAULT_ISSUER, Ledger, Period, fmt_number
from .reporting import LATE, MISSING, MISSING_OVERDUE, ON_TIME, REFUSED
from .status import BEHIND, NO_DATA, SHOWN_ORDER, Status

if TYPE_CHECKING:
    from .charts import Rendering
    from .reporting import StatusReport
    from .store import StoredValue

FONT_PROFILES: dict[str, dict[str, str]] = {
    # the fonts government PCs install for official documents
    "gb2312": {"title": "方正小标宋简体", "body": "仿宋_GB2312", "h1": "黑体", "h2": "楷体_GB2312", "page": "宋体",
               "table": "仿宋_GB2312", "table_head": "黑体"},
    # what every Windows PC has: Word substitutes nothing
    "windows": {"title": "华文中宋", "body": "仿宋", "h1": "黑体", "h2": "楷体", "page": "宋体", "table": "仿宋",
                "table_head": "黑体"},
}
LINE_TWIPS = 579  # 28.95 pt: 22 lines on the GB/T 9704 type area
MAX_BARS = 30
MAX_IDS = 10  # task numbers named in one sentence of the summary
TITLE_CHARS = 20  # what one line of 22 pt holds on the GB/T type area
NOTHING = {"", "无", "暂无", "没有", "无。", "暂无。", "-", "—", "/"}


@dataclass
class ReportData:
    ledger: Ledger
    period: Period
    checks: CheckResult
    previous: CheckResult | None
    status: StatusReport
    values: list[StoredValue]  # current values of this period
    cumulative_before: dict[tuple[str, int], float] = field(default_factory=dict)
    issuer: str = DEFAULT_ISSUER
    date: dt.date = field(default_factory=dt.date.today)
    font_profile: str = "gb2312"


def _deadline_table(w: Writer, ledger: Ledger, tc_of: dict[str, Any], k: int) -> int:
    """Tasks with a 完成时限: each beside its deadline and its status this period (none: nothing is written)."""
    rows = [[t.id, _short(t.title, 40), "、".join(t.lead), t.deadline.isoformat(), tc_of[t.id].status]
            for t in ledger.tasks if t.deadline is not None]
    if rows:
        k += 1
        w.h2(f"（{cn_seq(k)}）有完成时限的任务")
        w.table(["序号", "任务", "牵头单位", "完成时限", "状态"], rows, [12, 64, 36, 24, 18])
    return k


def _submission_section(w: Writer, st: StatusReport) -> None:
    """三、各单位报送情况: the same states as `status` and the master ledger — refused is not missing."""
    def named(state: str) -> list[str]:
        return [b.name for b in st.bureaus if b.state == state]

    refused = [b for b in st.bureaus if b.state == REFUSED]
    missing, overdue = named(MISSING), named(MISSING_OVERDUE)
    w.body(f"本期应报送单位{len(st.bureaus)}个，报送截止日期为{cn_date(dt.date.fromisoformat(st.deadline))}。按时报送{len(named(ON_TIME))}个，"
           f"逾期报送{len(named(LATE))}个，报送材料不合格被退回{len(refused)}个，未报送{len(missing) + len(overdue)}个。")
    if named(ON_TIME):
        w.body(f"按时报送的单位：{_list(named(ON_TIME))}。")
    if named(LATE):
        w.body(f"逾期报送的单位：{_list(named(LATE))}。")
    if refused:
        w.body(f"报送材料不合格、已退回尚未重新报送的单位：{_list([f'{b.name}（{b.n_findings}处问题）' for b in refused])}。")
    if overdue:
        w.body(f"截止日期已过仍未报送的单位：{_list(overdue)}。")
    if missing:
        w.body(f"尚未报送的单位（未到截止日期）：{_list(missing)}。")


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def cn_seq(i: int) -> str:
    """1 → 一, 12 → 十二, 105 → 一百零五, 110 → 一百一十 (section numbers; up to 9999)."""
    if i <= 0:
        return str(i)
    digits = "零一二三四五六七八九"
    if i < 10:
        return digits[i]
    if i < 20:
        return "十" + (digits[i - 10] if i > 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = i // value % 10
        if d:
            out += ("零" if zero and out else "") + digits[d] + unit
            zero = False
        elif out:
            zero = True
    return out


def report_title(ledger: Ledger, period: Period) -> str:
    base = ledger.title
    for suffix in ("重点任务台账", "任务台账", "工作台账", "台账"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return f"{base}{period.label}工作进展情况报告"


# ---------------------------------------------------------------- low-level docx helpers


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def set_fonts(rpr_owner: Any, name: str, size_pt: float | None = None, *, bold: bool | None = None) -> None:
    """Set every script's font on a run or style rPr and drop theme fonts that would override it."""
    el = rpr_owner._element if hasattr(rpr_owner, "_element") else rpr_owner
    rpr = el.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(_qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(_qn(attr), name)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            _child_val(rpr, tag, str(int(round(size_pt * 2))))
    if bold is not None:
        for tag in ("w:b", "w:bCs"):
            _child_val(rpr, tag, "1" if bold else "0")


def _child_val(parent: object, tag: str, value: str) -> None:
    """Set w:val on parent's child `tag`, adding the child when it is missing."""
    from docx.oxml import OxmlElement

    node = parent.find(_qn(tag))  # type: ignore[attr-defined]
    if node is None:
        node = OxmlElement(tag)
        parent.append(node)  # type: ignore[attr-defined]
    node.set(_qn("w:val"), value)


def _ppr_set(paragraph: object, tag: str, **attrs: str) -> None:
    from docx.oxml import OxmlElement

    ppr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    node = ppr.find(_qn(tag))
    if node is None:
        node = OxmlElement(tag)
        ppr.append(node)
    for k, v in attrs.items():
        node.set(_qn(f"w:{k}"), v)


class Writer:
    """Paragraph kinds of an official document, each with its fonts set on the run itself."""

    def __init__(self, fonts: dict[str, str]) -> None:
        import docx
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Mm, Pt

        self.fonts = fonts
        self._rpr_cache: dict[tuple[str, float, bool], object] = {}
        self.doc = docx.Document()
        self.Pt, self.Mm = Pt, Mm
        doc = self.doc
        sec = doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
        sec.header_distance, sec.footer_distance = Mm(15), Mm(26)
        # document defaults and styles: East Asian font everywhere, language zh-CN, no theme fonts
        defaults = doc.styles.element.find(_qn("w:docDefaults"))
        rpr_default = defaults.find(_qn("w:rPrDefault")).find(_qn("w:rPr"))
        lang = rpr_default.find(_qn("w:lang"))
        if lang is None:
            from docx.oxml import OxmlElement

            lang = OxmlElement("w:lang")
            rpr_default.append(lang)
        lang.set(_qn("w:val"), "zh-CN")
        lang.set(_qn("w:eastAsia"), "zh-CN")
        lang.set(_qn("w:bidi"), "ar-SA")
        fonts_default = rpr_default.find(_qn("w:rFonts"))
        if fonts_default is not None:
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts_default.attrib.pop(_qn(attr), None)
            for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                fonts_default.set(_qn(attr), fonts["body"])
        normal = doc.styles["Normal"]
        set_fonts(normal, fonts["body"], 16)
        from docx.oxml import OxmlElement

        spacing = OxmlElement("w:spacing")
        spacing.set(_qn("w:val"), "-5")  # -0.25 pt: 28 characters a line at 16 pt
        normal.element.get_or_add_rPr().append(spacing)
        pf = normal.paragraph_format
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(LINE_TWIPS / 20)
        pf.space_before = pf.space_after = Pt(0)
        pf.widow_control = False
        for style_name, key, size in (("Heading 1", "h1", 16), ("Heading 2", "h2", 16), ("Title", "title", 22),
                                      ("Caption", "body", 14), ("Table Grid", "table", 10.5)):
            try:
                st = doc.styles[style_name]
            except KeyError:
                continue
            set_fonts(st, fonts[key], size, bold=False)
            if hasattr(st, "font"):
                st.font.color.rgb = None
        self._page_numbers()

    # -------------------------------------------------------------- paragraphs

    def run(self, p: object, text: str, font: str, size: float, *, bold: bool = False) -> object:
        """A run whose rPr is a copy of one built once per (font, size, bold): thousands of runs stay cheap."""
        import copy

        key = (font, size, bold)
        rpr = self._rpr_cache.get(key)
        if rpr is None:
            probe = self.doc.add_paragraph().add_run("")
            set_fonts(probe, font, size, bold=bold)
            rpr = probe._r.rPr
            probe._r.getparent().getparent().remove(probe._r.getparent())  # drop the probe paragraph
            self._rpr_cache[key] = rpr
        r = p.add_run()  # type: ignore[attr-defined]
        r._r.insert(0, copy.deepcopy(rpr))
        r.text = text
        return r

    def title(self, text: str, *, second_line: str = "") -> None:
        """The title, centred; a long one breaks where its second part begins, not mid-phrase."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING

        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = self.Pt(35)
        p.paragraph_format.space_after = self.Pt(LINE_TWIPS / 20)
        first = self.run(p, text, self.fonts["title"], 22)
        if second_line:
            first.add_break(WD_BREAK.LINE)  # type: ignore[attr-defined]
            self.run(p, second_line, self.fonts["title"], 22)

    def body(self, text: str, *, indent: bool = True, lead: str | None = None) -> object:
        """A body paragraph, first line indented two characters; `lead` is a bold-less 楷体 lead-in."""
        p = self.doc.add_paragraph()
        if indent:
            _ppr_set(p, "w:ind", firstLineChars="200", firstLine="640")
        _ppr_set(p, "w:jc", val="both")
        if lead:
            self.run(p, lead, self.fonts["h2"], 16)
        self.run(p, text, self.fonts["body"], 16)
        return p

    def h1(self, text: str) -> None:
        p = self.doc.add_paragraph(style="Heading 1")
        _ppr_set(p, "w:ind", firstLineChars="200", firstLine="640")
        self._heading_spacing(p)
        self.run(p, text, self.fonts["h1"], 16)

    def h2(self, text: str) -> None:
        p = self.doc.add_paragraph(style="Heading 2")
        _ppr_set(p, "w:ind", firstLineChars="200", firstLine="640")
        self._heading_spacing(p)
        self.run(p, text, self.fonts["h2"], 16)

    def _heading_spacing(self, p: object) -> None:
        from docx.enum.text import WD_LINE_SPACING

        pf = p.paragraph_format  # type: ignore[attr-defined]
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = self.Pt(LINE_TWIPS / 20)
        pf.space_before = pf.space_after = self.Pt(0)
        pf.keep_with_next = True

    def signature(self, issuer: str, date: dt.date) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        self.doc.add_paragraph()
        for text, right_chars in ((issuer, 4), (cn_date(date), 4)):
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _ppr_set(p, "w:ind", rightChars=str(right_chars * 100), right=str(right_chars * 320))
            self.run(p, text, self.fonts["body"], 16)

    def picture_slot(self) -> tuple[object, object]:
        """The paragraphs of a figure and its caption, filled in by fill_picture once the chart is drawn."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING

        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        p.paragraph_format.keep_with_next = True
        c = self.doc.add_paragraph(style="Caption")
        c.alignment = WD_ALIGN_PARAGRAPH.CENTER
        return p, c

    def fill_picture(self, slot: tuple[object, object], png: bytes | None, caption: str) -> None:
        """Put the chart and its caption into their slot; without a chart the slot goes."""
        p, c = slot
        if png is None:
            for para in (p, c):
                el = para._element  # type: ignore[attr-defined]
                el.getparent().remove(el)
            return
        p.add_run().add_picture(io.BytesIO(png), width=self.Mm(150))  # type: ignore[attr-defined]
        self.run(c, caption, self.fonts["h2"], 14)

    def table(self, headers: list[str], rows: list[list[str]], widths_mm: Sequence[float]) -> object:
        """A grid table in the table font; the header row repeats on every page.

        The header and the first body row are formatted through python-docx; every further row is a copy
        of that first one with its texts replaced (python-docx's per-cell API is quadratic on long tables).
        """
        import copy

        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.oxml import OxmlElement

        t = self.doc.add_table(rows=1 + min(len(rows), 1), cols=len(headers))
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        for ci, width in enumerate(widths_mm):
            t.columns[ci].width = self.Mm(width)  # the grid: what LibreOffice and WPS lay out by
        tr_pr = t.rows[0]._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:tblHeader"))  # repeat the header row on every page
        for ri, (row, values) in enumerate(zip(t.rows, [headers, *rows[:1]], strict=True)):
            for ci, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
                cell.width = self.Mm(widths_mm[ci])
                p = cell.paragraphs[0]
                pf = p.paragraph_format
                pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                pf.line_spacing = self.Pt(15)
                pf.first_line_indent = self.Pt(0)
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER if ri == 0 or ci != 1 else WD_ALIGN_PARAGRAPH.LEFT
                self.run(p, str(value), self.fonts["table_head" if ri == 0 else "table"], 10.5)
        if len(rows) > 1:
            proto = t.rows[1]._tr
            tbl = proto.getparent()
            t_tag = _qn("w:t")
            for values in rows[1:]:
                tr = copy.deepcopy(proto)
                for node, value in zip(tr.iter(t_tag), values, strict=True):
                    node.text = str(value)
                tbl.append(tr)
        self.doc.add_paragraph()
        return t

    def _page_numbers(self) -> None:
        """"— 1 —" in 宋体 14 pt: odd pages right, even pages left, one character in from the edge."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement

        self.doc.settings.odd_and_even_pages_header_footer = True
        sec = self.doc.sections[0]
        for footer, align, side in ((sec.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
                                    (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left")):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.alignment = align
            _ppr_set(p, "w:ind", **{f"{side}Chars": "100", side: "280"})
            self.run(p, "— ", self.fonts["page"], 14)
            for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
                r = p.add_run()
                set_fonts(r, self.fonts["page"], 14)
                if kind:
                    fld = OxmlElement("w:fldChar")
                    fld.set(_qn("w:fldCharType"), kind)
                    r._r.append(fld)
                elif text == " PAGE ":
                    instr = OxmlElement("w:instrText")
                    instr.set(_qn("xml:space"), "preserve")
                    instr.text = text
                    r._r.append(instr)
                else:
                    r.text = text
            self.run(p, " —", self.fonts["page"], 14)


# ---------------------------------------------------------------- content


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _list(names: list[str]) -> str:
    return "、".join(names) if names else "无"


def _chart_jobs(data: ReportData) -> list[tuple[str, tuple[Any, ...], str]]:
    """The report's charts as (chart, arguments, caption): the status mix, then metrics against plan."""
    from .charts import MetricBar
    from .checks import planned_at

    ledger, period, checks = data.ledger, data.period, data.checks
    if not any(b.submitted for b in data.status.bureaus):
        return []
    counts = checks.counts()
    tc_of = {t.id: t for t in checks.tasks}
    bars = []
    for t in ledger.tasks:
        for i, m in enumerate(t.metrics):
            mc = tc_of[t.id].metrics[i]
            total = m.goal_value(period.year)
            if total:
                label = f"{t.id}.{m.name}"
                bars.append(MetricBar(label if len(label) <= 16 else label[:15] + "…", planned_at(m, period) / total,
                                      (mc.actual or 0) / total, mc.status))
    title, caption = "数量指标完成进度", "数量指标累计完成情况（占总目标）"
    if len(bars) > MAX_BARS:  # a chart of hundreds of bars helps no one: show those furthest behind plan
        bars = sorted(bars, key=lambda b: b.actual_share - b.planned_share)[:MAX_BARS]
        title, caption = f"进度最落后的{MAX_BARS}个数量指标", f"进度最落后的{MAX_BARS}个数量指标（占总目标）"
    return [("status_mix", ({str(s): counts.get(s, 0) for s in SHOWN_ORDER}, f"{period.label}重点任务进展状态"), "重点任务进展状态分布"),
            ("metric_progress", (bars, title), caption)]


def compose(data: ReportData, drawing: Rendering | None = None) -> Writer:
    """The report as a document, section by section. `drawing`: a chart process the caller started early
    (see charts.Rendering)."""
    from .charts import Rendering

    charts = _chart_jobs(data)
    drawing = drawing or Rendering()
    drawing.draw([(name, args) for name, args, _ in charts])  # drawn meanwhile, in another process
    w = Writer(FONT_PROFILES.get(data.font_profile, FONT_PROFILES["gb2312"]))
    got_any = any(b.submitted for b in data.status.bureaus)
    _title(w, data)
    slots = _overview_section(w, data, len(charts), got_any)
    _indicators_section(w, data)
    w.h1("三、各单位报送情况")
    _submission_section(w, data.status)
    trouble = _problems_section(w, data, got_any)
    _next_steps_section(w, data, trouble)
    w.signature(data.issuer, data.date)
    pngs = drawing.result()
    figure = 0
    for slot, png, (_, _, caption) in zip(slots, pngs if slots else [], charts, strict=False):
        figure += png is not None
        w.fill_picture(slot, png, f"图{figure}  {caption}")
    return w


def _title(w: Writer, data: ReportData) -> None:
    """The title (on two lines when it is too long for one) and the opening sentence."""
    title = report_title(data.ledger, data.period)
    tail = f"{data.period.label}工作进展情况报告"
    head = title[: -len(tail)]
    if len(title) > TITLE_CHARS and 0 < len(head) <= TITLE_CHARS and len(tail) <= TITLE_CHARS:
        w.title(head, second_line=tail)
    else:
        w.title(title)
    w.body(f"按照工作安排，领导小组办公室对各成员单位{data.period.label}重点任务推进情况进行了汇总核对，现将有关情况报告如下。")


def _overview_section(w: Writer, data: ReportData, n_charts: int, got_any: bool) -> list[tuple[object, object]]:
    """一、总体进展: the status counts, what moved since the previous period, and a slot per chart."""
    ledger, period = data.ledger, data.period
    w.h1("一、总体进展")
    counts = data.checks.counts()
    parts = [f"{s.phrase}{counts[s]}项" for s in SHOWN_ORDER if counts.get(s)]
    if not got_any:
        w.body(f"截至{period.label}，本期尚未收到任何单位报送的数据。台账共有重点任务{len(ledger.tasks)}项，均暂无本期进展可供汇总。")
        return []
    w.body(f"截至{period.label}，台账共有重点任务{len(ledger.tasks)}项，其中{'，'.join(parts)}。")
    for sentence in _movements(data):
        w.body(sentence)
    return [w.picture_slot() for _ in range(n_charts)]


def _indicators_section(w: Writer, data: ReportData) -> None:
    """二、重点指标完成情况: a table of quantity metrics per category, the indicator table, the deadlines."""
    ledger, period = data.ledger, data.period
    tc_of = {t.id: t for t in data.checks.tasks}
    w.h1("二、重点指标完成情况")
    by_cat: dict[str, list[list[str]]] = defaultdict(list)
    for t in ledger.tasks:
        tc = tc_of[t.id]
        for i, m in enumerate(t.metrics):
            mc = tc.metrics[i]
            total = m.goal_value(period.year)
            basis = {"year_end": "，年末水平", "per_year": "，当年数"}.get(m.accumulation, "")
            by_cat[t.category].append([t.id, f"{m.name}（{m.unit}{basis}）", fmt_number(m.yearly.get(period.year, 0)),
                                       fmt_number(round(mc.planned, 2)), "—" if mc.actual is None else fmt_number(mc.actual),
                                       _pct((mc.actual / total) if (mc.actual is not None and total) else None), mc.status])
    k = 0
    headers = ["序号", "指标", f"{period.year}年计划", "累计计划", "累计完成", "完成率", "状态"]
    widths = [12, 52, 18, 18, 18, 18, 18]
    for cat, rows in by_cat.items():
        k += 1
        w.h2(f"（{cn_seq(k)}）{cat}")
        w.table(headers, rows, widths)
    ind_rows = []
    for t in ledger.tasks:
        for ic in tc_of[t.id].indicators:
            shown = str(Status.NOT_REPORTED) if ic.value is None else (f"{ic.value:.2f}".rstrip("0").rstrip(".") + ("%" if ic.unit == "%" else ":1"))
            ind_rows.append([t.id, ic.text, ic.target, shown, ic.status])
    if ind_rows:
        k += 1
        w.h2(f"（{cn_seq(k)}）比例指标")
        w.table(["序号", "指标", "目标", "最新值", "状态"], ind_rows, [12, 86, 18, 20, 18])
    if not by_cat and not ind_rows:
        w.body("本台账没有设定数量或比例指标。")
    _deadline_table(w, ledger, tc_of, k)


def _problems_section(w: Writer, data: ReportData, got_any: bool) -> list[TaskCheck]:
    """四、存在的主要问题: tasks behind, tasks that cannot be judged, and what bureaus reported; returns the
    tasks behind (the next section names their lead bureaus)."""
    checks = data.checks
    tasks = {t.id: t for t in data.ledger.tasks}
    w.h1("四、存在的主要问题")
    trouble = [tc for tc in checks.tasks if tc.status.needs_attention]
    not_reported = [tc for tc in checks.tasks if tc.status in NO_DATA]
    k = 0
    if trouble:
        k += 1
        w.h2(f"（{cn_seq(k)}）部分任务进度滞后")
        for n, tc in enumerate(trouble, start=1):
            t = tasks[tc.id]
            detail = "；".join(r for r in tc.reasons if r and ("差" in r or "未" in r or "缺少" in r)) or "；".join(tc.reasons)
            due = f"；完成时限：{t.deadline.isoformat()}" if t.deadline else ""
            w.body(f"{n}.第{t.id}项“{_short(t.title, 30)}”（牵头单位：{'、'.join(t.lead)}{due}），{tc.status}：{detail}。")
    if not_reported and got_any:
        k += 1
        w.h2(f"（{cn_seq(k)}）部分任务无法核对进度")
        for state, why in ((Status.REFUSED, "报送的表格被退回、尚未重新报送"), (Status.NOT_REPORTED, "本期未报送")):
            these = [tc for tc in not_reported if tc.status == state]
            if these:
                silent = {b.name for b in data.status.bureaus if not b.submitted}
                leads = sorted({b for tc in these for b in tasks[tc.id].lead if b in silent})
                w.body(f"{_list(leads)}{why}，第{'、'.join(tc.id for tc in these)}项共{len(these)}项任务无法核对进度。")
    problems = _texts(data.values, "problems")
    if problems:
        k += 1
        w.h2(f"（{cn_seq(k)}）各单位反映的问题")
        for bureau, items in problems.items():
            w.body("；".join(items) + "。", lead=f"{bureau}：")
    if k == 0:
        w.body("本期未发现进度滞后的任务，各单位未反映需要协调解决的问题。" if got_any else "各单位尚未报送，暂无问题汇总。")
    return trouble


def _next_steps_section(w: Writer, data: ReportData, trouble: list[TaskCheck]) -> None:
    """五、下一步工作安排: the bureaus' own plans, then who must catch up and who must report."""
    tasks = {t.id: t for t in data.ledger.tasks}
    w.h1("五、下一步工作安排")
    plans = _texts(data.values, "plan", lead_only=True)
    if plans:
        for n, (bureau, items) in enumerate(plans.items(), start=1):
            w.body("；".join(items[:4]) + "。", lead=f"（{cn_seq(n)}）{bureau}：")
    if trouble:
        names = sorted({b for tc in trouble for b in tasks[tc.id].lead})
        w.body(f"领导小组办公室将加强对进度滞后任务的跟踪督办，请{_list(names)}对照计划查找原因，加快推进。")
    refused = [b.name for b in data.status.bureaus if b.state == REFUSED]
    missing = [b.name for b in data.status.bureaus if b.state in (MISSING, MISSING_OVERDUE)]
    if missing:
        w.body(f"请{_list(missing)}尽快报送本期材料。")
    if refused:
        w.body(f"请{_list(refused)}按退回意见修改后重新报送。")
    if not plans and not trouble and not (missing or refused):
        w.body("各单位继续按计划推进各项重点任务。")


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _texts(values: list[StoredValue], kind: str, *, lead_only: bool = False) -> dict[str, list[str]]:
    """Texts of one kind per bureau, without "无" and duplicates, in task order."""
    out: dict[str, list[str]] = defaultdict(list)
    for v in values:
        if v.kind != kind or not v.text or (lead_only and v.role != "lead"):
            continue
        t = v.text.strip().rstrip("。；;")
        if t in NOTHING or t in out[v.bureau]:
            continue
        out[v.bureau].append(t)
    return dict(out)


def _ids(ids: list[str]) -> str:
    """Task numbers for a sentence; a long list is cut (the tables and section 四 list every task)."""
    return "、".join(ids) if len(ids) <= MAX_IDS else "、".join(ids[:MAX_IDS]) + "等"


def _movements(data: ReportData) -> list[str]:
    """One sentence each on what moved most since the previous period."""
    out = []
    tasks = {t.id: t for t in data.ledger.tasks}
    if data.previous is not None:
        prev = {t.id: t.status for t in data.previous.tasks}
        done = [t.id for t in data.checks.tasks if t.status is Status.DONE and prev.get(t.id) is not Status.DONE]
        fell = [t.id for t in data.checks.tasks if t.status in BEHIND and prev.get(t.id) not in BEHIND]
        if done:
            out.append(f"与上期相比，本期新完成第{_ids(done)}项共{len(done)}项任务。")
        if fell:
            kinds = sorted({_status(data.checks, t) for t in fell}, key=[Status.BEHIND, Status.NOT_MET].index)
            whole = f"共{len(fell)}项" if len(fell) > MAX_IDS else ""
            out.append(f"第{_ids(fell)}项{whole}任务本期转为{'或'.join(kinds)}，需重点关注（详见第四部分）。")
    reporting: dict[str, set[str]] = defaultdict(set)
    for v in data.values:
        if v.role == "lead" and v.task_id:
            reporting[v.task_id].add(v.bureau)
    gains = []
    for v in data.values:
        if v.kind != "metric" or v.role != "lead" or not v.num or v.task_id not in tasks:
            continue
        t = tasks[v.task_id]
        first = next((b for b in t.lead if b in reporting[t.id]), None)
        if v.bureau != first or v.idx >= len(t.metrics):
            continue
        m = t.metrics[v.idx]
        if m.accumulation != "additions":  # a level or a year's own figure does not add up
            continue
        total = m.target.value if m.target else m.planned_total()
        if total:
            cum = data.cumulative_before.get((t.id, v.idx), 0) + v.num
            gains.append((v.num / total, m, v.num, cum, total))
    gains.sort(key=lambda g: -g[0])
    for _, m, add, cum, total in gains[:3]:
        out.append(f"“{m.name}”本期新增{fmt_number(add)}{m.unit}，累计{fmt_number(cum)}{m.unit}，完成总目标的{cum / total * 100:.1f}%。")
    return out


def _status(checks: CheckResult, tid: str) -> Status:
    tc: TaskCheck = next(t for t in checks.tasks if t.id == tid)
    return tc.status


def write_report(data: ReportData, path: Path, drawing: Rendering | None = None) -> Path:
    w = compose(data, drawing)
    with atomic_path(Path(path)) as tmp:
        w.doc.save(str(tmp))
    return Path(path)
