"""The half-year summary report (总结报告) as a Word document in official format (GB/T 9704-2012).

Composed only from the check results and the stored values: nothing is typed by hand. Layout: A4,
margins 37/35/28/26 mm, body 仿宋_GB2312 16 pt on a fixed 28.95 pt line (22 lines of 28 characters),
title 方正小标宋简体 22 pt, 一、 黑体, （一） 楷体_GB2312, page numbers "— 1 —" 宋体 14 pt, odd right and even
left. Every run and style carries its East Asian font; the document language is zh-CN, and every figure is a
run of its own in en-US, so no renderer breaks a line inside a number.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checks import CheckResult, TaskCheck
from .codes import Code
from .findings import LedgerError
from .fsutil import atomic_path
from .model import DEFAULT_ISSUER, Ledger, Period, fmt_number, pct
from .reporting import LATE, MISSING, MISSING_OVERDUE, ON_TIME, REFUSED
from .status import BEHIND, NO_DATA, SHOWN_ORDER, Status

if TYPE_CHECKING:
    from .charts import Chart
    from .reporting import StatusReport
    from .store import Store, StoredValue
    from .workspace import Workspace

FONT_PROFILES: dict[str, dict[str, str]] = {
    # the fonts government PCs install for official documents
    "gb2312": {"title": "方正小标宋简体", "body": "仿宋_GB2312", "h1": "黑体", "h2": "楷体_GB2312", "page": "宋体",
               "table": "仿宋_GB2312", "table_head": "黑体"},
    # what every Windows PC has: Word substitutes nothing
    "windows": {"title": "华文中宋", "body": "仿宋", "h1": "黑体", "h2": "楷体", "page": "宋体", "table": "仿宋",
                "table_head": "黑体"},
}
# a figure or a Latin word (432, 2025-06-30, 12.5, 3.5:1, 108%, 5G, A0): never broken across lines
FIGURE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.,:/_-]*[A-Za-z0-9])?%?")
FIGURE_LANG = "en-US"  # LibreOffice breaks text tagged zh-CN anywhere, digits included ("累计4|32辆"); en-US keeps a number whole
ZWSP = "\u200b"  # a line may break here (Word and LibreOffice), nothing shows
LIST_MARK = "、"  # 第9、10、11项: where a list of figures may break
LINE_TWIPS = 579  # 28.95 pt: 22 lines on the GB/T 9704 type area
MAX_BARS = 30
MAX_IDS = 10  # task numbers named in one sentence of the summary
TITLE_CHARS = 20  # what one line of 22 pt holds on the GB/T type area
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
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
    issuer: str = DEFAULT_ISSUER  # the short name the text uses ("领导小组办公室对各成员单位…")
    date: dt.date = field(default_factory=dt.date.today)
    font_profile: str = "gb2312"
    addressee: str = ""  # 主送机关, e.g. 市人民政府: printed after the title, flush left, with a full-width colon
    issuer_full: str = ""  # the full office name that signs (署名); the short issuer when empty
    letterhead: Path | None = None  # the office's own .docx 版头, placed above the title as supplied


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


@functools.cache
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
        insert_in_order(parent, node)
    node.set(_qn("w:val"), value)


def _ppr_set(paragraph: object, tag: str, **attrs: str) -> None:
    _ppr_set_el(paragraph._p, tag, **attrs)  # type: ignore[attr-defined]


def _ppr_set_el(p: Any, tag: str, **attrs: str) -> None:
    from docx.oxml import OxmlElement

    ppr = p.get_or_add_pPr()
    node = ppr.find(_qn(tag))
    if node is None:
        node = OxmlElement(tag)
        insert_in_order(ppr, node)
    for k, v in attrs.items():
        node.set(_qn(f"w:{k}"), v)


# the schema's order of pPr and rPr children (ECMA-376 CT_PPr, CT_RPr), as python-docx declares them
PPR_ORDER = ["w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
             "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
             "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
             "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
             "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
             "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"]
RPR_ORDER = ["w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
             "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
             "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs",
             "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
             "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath"]


def insert_in_order(props: Any, node: Any) -> None:
    """Add a child to a pPr or rPr where the schema puts it: Word refuses a file whose property elements
    are out of order."""
    seq = PPR_ORDER if props.tag == _qn("w:pPr") else RPR_ORDER
    tag = next((t for t in seq if _qn(t) == node.tag), None)
    if tag is None:
        props.append(node)
        return
    props.insert_element_before(node, *seq[seq.index(tag) + 1:])


def _line_grid(section: object) -> None:
    """22 lines a page on Word's line grid (文档网格 › 只指定行网格, linePitch 579 twips = 28.95 pt).

    Not linesAndChars: LibreOffice puts a 16 pt character into two cells of a character grid narrower than
    16 pt, and 28 characters on 156 mm need a 15.79 pt cell, so it printed 14 characters a line (measured,
    LibreOffice 7.4/7.5). The 28 characters come from -0.25 pt character spacing in the Normal style instead
    (Word and LibreOffice alike: 156 mm / 15.75 pt = 28.07)."""
    from docx.oxml import OxmlElement

    sect_pr = section._sectPr  # type: ignore[attr-defined]
    grid = sect_pr.find(_qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.attrib.clear()
    grid.set(_qn("w:type"), "lines")
    grid.set(_qn("w:linePitch"), str(LINE_TWIPS))


def _figure_parts(text: str) -> list[tuple[str, bool]]:
    """`text` cut into (part, is a figure) in order. In a list of figures (第9、10、11项) a zero-width space
    follows each 、: LibreOffice breaks no line between 、 and an en-US figure, so the list would stay whole
    and stretch the line before it (Word breaks there anyway)."""
    parts: list[tuple[str, bool]] = []
    at = 0
    for m in FIGURE.finditer(text):
        if m.start() > at:
            before = text[at:m.start()]
            parts.append((before + ZWSP if before == LIST_MARK else before, False))
        parts.append((m.group(), True))
        at = m.end()
    if at < len(text) or not parts:
        parts.append((text[at:], False))
    return parts


def text_chars(text: str) -> float:
    """How many characters (字) wide a text is in a Chinese font: a CJK, full-width or East Asian ambiguous
    character (“ ” — ≥ …) is one, any other half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in text)


LINE_CHARS = 28
CHAR_PT = 16 - 0.25  # a body character's advance: 16 pt less the Normal style's -0.25 pt spacing


def signature_layout(issuer: str, date_text: str) -> tuple[float, float]:
    """Where the issuer and the date start (characters from the left edge of the type area) under
    GB/T 9704-2012 §7.3.5.2 (no seal): the issuer 右空二字; the date's first character two characters right
    of the issuer's; a date longer than the issuer 右空二字 itself, the issuer moved left by as much
    ("相应增加发文机关署名右空字数"). Placed by their starts, so that digits drawn wider or narrower than
    half a character (fonts differ) move only the date's end, never the two-character step."""
    n, d = text_chars(issuer), line_chars(date_text)
    if d > n:
        date_start = LINE_CHARS - 2 - d
        return date_start - 2, date_start
    start = LINE_CHARS - 2 - n
    return start, start + 2


def line_chars(text: str) -> float:
    """A line's width in characters as printed: text_chars plus the quarter character Word and LibreOffice
    put where Latin letters or digits meet Chinese."""
    kinds = [ch.isascii() and ch.isalnum() for ch in text if not ch.isspace()]
    return text_chars(text) + 0.25 * sum(a != b for a, b in zip(kinds, kinds[1:], strict=False))


def _cell_chars(text: str) -> float:
    """A cell text's width in characters, with the quarter character Word and LibreOffice put between
    Latin letters or digits and Chinese (2025年计划 is 5.5 characters wide, not 5)."""
    mixed = any(ch.isascii() and ch.isalnum() for ch in text) and any(not ch.isascii() for ch in text)
    return text_chars(text) + (0.5 if mixed else 0)


TABLE_CHAR_MM = 10.5 * 25.4 / 72  # one 10.5 pt character
CELL_PAD_MM = 2 * 1.9 + 1.0  # Table Grid's cell margins (0.19 cm a side) and a little room
TYPE_AREA_MM = 156.0


def table_widths(headers: list[str], rows: list[list[str]], flex: int, *, total: float = TYPE_AREA_MM,
                 cap_chars: float = 9) -> list[float]:
    """Column widths (mm): each column fits its header on one line and its values up to `cap_chars`
    characters; column `flex` (the indicator's name) takes what is left of the type area."""
    widths = []
    for c, head in enumerate(headers):
        longest = max([_cell_chars(str(r[c])) for r in rows[:500]] or [0])
        widths.append(max(_cell_chars(head), min(longest, cap_chars)) * TABLE_CHAR_MM + CELL_PAD_MM)
    rest = total - (sum(widths) - widths[flex])
    widths[flex] = max(rest, 8 * TABLE_CHAR_MM + CELL_PAD_MM)
    if sum(widths) > total:  # many columns: the others share what the type area has, in proportion
        scale = (total - widths[flex]) / (sum(widths) - widths[flex])
        widths = [w if c == flex else w * scale for c, w in enumerate(widths)]
    return widths


class Writer:
    """Paragraph kinds of an official document, each with its fonts set on the run itself."""

    def __init__(self, fonts: dict[str, str]) -> None:
        import docx
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Mm, Pt

        self.fonts = fonts
        self._rpr_cache: dict[tuple[str, float, bool, bool], object] = {}
        self._run_cache: dict[tuple[str, float, bool, bool], Any] = {}
        self._para_cache: dict[bool, Any] = {}
        self.doc = docx.Document()
        self.Pt, self.Mm = Pt, Mm
        doc = self.doc
        sec = doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
        sec.header_distance, sec.footer_distance = Mm(15), Mm(26)
        _line_grid(sec)
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
        insert_in_order(normal.element.get_or_add_rPr(), spacing)
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

    def run(self, p: object, text: str, font: str, size: float, *, bold: bool = False, one_run: bool = False) -> object:
        """The runs of `text` (the last one returned), each figure a run of its own in en-US: with the rest in
        zh-CN, lines still break between Chinese characters, never inside a number. `one_run` (a table cell,
        whose rows are cloned): one run, all in en-US. Each run is a copy of one built once per (font, size,
        bold, figure) with its text put in: thousands of runs stay cheap (python-docx's Run.text rebuilds the
        run's content through XPath each time, which was a fifth of a large report's time)."""
        import copy

        from docx.text.run import Run

        r = None
        for part, figure in [(text, True)] if one_run else _figure_parts(text):
            r = copy.deepcopy(self._run_proto(font, size, bold, figure))
            p._p.append(r)  # type: ignore[attr-defined]
            if "\t" in part or "\n" in part or "\r" in part:
                Run(r, p).text = part  # type: ignore[arg-type]  # tabs and breaks as python-docx writes them
            elif part:  # as python-docx writes a text: one w:t, spaces kept where it has them at an end
                t = r.makeelement(_qn("w:t"), {})
                t.text = part
                if len(part.strip()) < len(part):
                    t.set(_qn("xml:space"), "preserve")
                r.append(t)
        return Run(r, p) if r is not None else None  # type: ignore[arg-type]

    def _run_proto(self, font: str, size: float, bold: bool, figure: bool) -> Any:
        """An empty w:r carrying the rPr of (font, size, bold, figure)."""
        key = (font, size, bold, figure)
        proto = self._run_cache.get(key)
        if proto is None:
            import copy

            from docx.oxml import OxmlElement

            proto = OxmlElement("w:r")
            proto.append(copy.deepcopy(self._rpr(font, size, bold, figure)))
            self._run_cache[key] = proto
        return proto

    def _rpr(self, font: str, size: float, bold: bool, figure: bool) -> Any:
        key = (font, size, bold, figure)
        rpr = self._rpr_cache.get(key)
        if rpr is None:
            from docx.oxml import OxmlElement

            probe = self.doc.add_paragraph().add_run("")
            set_fonts(probe, font, size, bold=bold)
            rpr = probe._r.rPr
            probe._r.getparent().getparent().remove(probe._r.getparent())  # drop the probe paragraph
            if figure:
                lang = OxmlElement("w:lang")
                lang.set(_qn("w:val"), FIGURE_LANG)
                lang.set(_qn("w:eastAsia"), "zh-CN")
                insert_in_order(rpr, lang)
            self._rpr_cache[key] = rpr
        return rpr

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
        p = self._body_paragraph(indent)
        if lead:
            self.run(p, lead, self.fonts["h2"], 16)
        self.run(p, text, self.fonts["body"], 16)
        return p

    def _body_paragraph(self, indent: bool) -> Any:
        """A new paragraph at the body's end, justified, indented or not: a copy of the first one made so
        (python-docx's add_paragraph and pPr setters look their place up by XPath each time)."""
        import copy

        from docx.text.paragraph import Paragraph

        proto = self._para_cache.get(indent)
        if proto is None:
            first = self.doc.add_paragraph()
            if indent:
                _ppr_set(first, "w:ind", firstLineChars="200", firstLine="640")
            _ppr_set(first, "w:jc", val="both")
            self._para_cache[indent] = copy.deepcopy(first._p)
            return first
        p = copy.deepcopy(proto)
        body = self.doc.element.body
        sect = body.find(_qn("w:sectPr"))  # where python-docx's add_paragraph puts it: before the section's properties
        if sect is None:
            body.append(p)
        else:
            sect.addprevious(p)
        return Paragraph(p, self.doc._body)

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

    def addressee(self, text: str) -> None:
        """主送机关: the line after the title, flush left (no indent), ending in a full-width colon."""
        p = self.doc.add_paragraph()
        _ppr_set(p, "w:jc", val="left")
        self.run(p, text.rstrip(":：") + "：", self.fonts["body"], 16)

    def signature(self, issuer: str, date: dt.date) -> None:
        """署名 and 成文日期 of a document without a seal (GB/T 9704-2012 §7.3.5.2): one empty line after the
        text; the issuer 右空二字; the date on the next line, its first character two characters right of the
        issuer's; a date longer than the issuer is 右空二字 and the issuer moves left (see signature_layout)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        self.doc.add_paragraph()
        for text, start in zip((issuer, cn_date(date)), signature_layout(issuer, cn_date(date)), strict=True):
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            _ppr_set(p, "w:ind", left=str(round(max(start, 0) * CHAR_PT * 20)), firstLine="0")
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

    def fill_chart(self, slot: tuple[object, object], chart: Chart | None, caption: str) -> None:
        """Put the chart (a chart part of the document, shown inline) and its caption into their slot;
        without a chart the slot goes."""
        p, c = slot
        if chart is None:
            for para in (p, c):
                el = para._element  # type: ignore[attr-defined]
                el.getparent().remove(el)
            return
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.opc.part import Part
        from docx.oxml import parse_xml

        from .charts import A_NS, C_NS, CONTENT_TYPE

        package = self.doc.part.package
        part = Part(package.next_partname("/word/charts/chart%d.xml"), CONTENT_TYPE, chart.xml, package)
        rid = self.doc.part.relate_to(part, RT.CHART)
        n = self.doc.part.next_id
        inline = (f'<w:drawing xmlns:w="{_W_NS}" xmlns:wp="{_WP_NS}" xmlns:a="{A_NS}" xmlns:c="{C_NS}" xmlns:r="{_R_NS}">'
                  f'<wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{int(self.Mm(chart.width_mm))}" '
                  f'cy="{int(self.Mm(chart.height_mm))}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
                  f'<wp:docPr id="{n}" name="图表 {n}"/><wp:cNvGraphicFramePr/><a:graphic><a:graphicData uri="{C_NS}">'
                  f'<c:chart r:id="{rid}"/></a:graphicData></a:graphic></wp:inline></w:drawing>')
        p.add_run()._r.append(parse_xml(inline))  # type: ignore[attr-defined]
        self.run(c, caption, self.fonts["h2"], 14)

    def text_area_mm(self) -> tuple[float, float]:
        """Width and height of the type area (版心): the page less its margins."""
        sec = self.doc.sections[0]
        width, height, left, right, top, bottom = (int(v or 0) for v in (
            sec.page_width, sec.page_height, sec.left_margin, sec.right_margin, sec.top_margin, sec.bottom_margin))
        return (width - left - right) / 36000, (height - top - bottom) / 36000  # EMU per mm

    def table(self, headers: list[str], rows: list[list[str]], flex: int = 1) -> object:
        """A grid table in the table font: columns as wide as their header (never wrapped mid-word) and values,
        column `flex` taking the rest of the type area; the header row repeats on every page and no row is
        split across pages.

        The header and the first body row are formatted through python-docx; every further row is a copy
        of that first one with its texts replaced (python-docx's per-cell API is quadratic on long tables).
        """
        import copy

        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.oxml import OxmlElement

        widths_mm = table_widths(headers, rows, flex)
        t = self.doc.add_table(rows=1 + min(len(rows), 1), cols=len(headers))
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        for ci, width in enumerate(widths_mm):
            t.columns[ci].width = self.Mm(width)  # the grid: what LibreOffice and WPS lay out by
        for ri, (row, values) in enumerate(zip(t.rows, [headers, *rows[:1]], strict=True)):
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(OxmlElement("w:cantSplit"))  # a row is never split across pages
            if ri == 0:
                tr_pr.append(OxmlElement("w:tblHeader"))  # the header row repeats on every page
            for ci, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
                cell.width = self.Mm(widths_mm[ci])
                p = cell.paragraphs[0]
                pf = p.paragraph_format
                pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                pf.line_spacing = self.Pt(15)
                pf.first_line_indent = self.Pt(0)
                _ppr_set(p, "w:snapToGrid", val="0")  # 15 pt table lines, not the body's 28.95 pt grid
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER if ri == 0 or ci != flex else WD_ALIGN_PARAGRAPH.LEFT
                self.run(p, str(value), self.fonts["table_head" if ri == 0 else "table"], 10.5, one_run=True)
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


def _list(names: list[str]) -> str:
    return "、".join(names) if names else "无"


def _charts(data: ReportData, w: Writer, first_height_mm: float) -> list[tuple[Chart | None, str]]:
    """The report's charts and their captions: the status mix, sized to what is left of page 1, then metrics
    against plan as tall as its rows need (no taller than the type area leaves beside its caption)."""
    from .charts import status_mix

    if not any(b.submitted for b in data.status.bureaus):
        return []
    counts = data.checks.counts()
    font = w.fonts["table"]
    mix = status_mix({str(s): counts.get(s, 0) for s in SHOWN_ORDER}, f"{data.period.label}重点任务进展状态", font,
                     first_height_mm)
    return [(mix, "重点任务进展状态分布"), _metric_chart(data.ledger, data.period, data.checks, font,
                                                        chart_room_mm(w.text_area_mm()[1]))]


def _metric_chart(ledger: Ledger, period: Period, checks: CheckResult, font: str,
                  max_height_mm: float) -> tuple[Chart | None, str]:
    """Metrics against plan (the chart, its caption); past MAX_BARS metrics, those furthest behind plan."""
    from .charts import MetricBar, metric_progress
    from .checks import planned_at

    tc_of = {t.id: t for t in checks.tasks}
    bars = []
    for t in ledger.tasks:
        for i, m in enumerate(t.metrics):
            mc = tc_of[t.id].metrics[i]
            total = m.goal_value(period.year)
            if total:
                bars.append(MetricBar(f"{t.id}.{m.name}", planned_at(m, period) / total, (mc.actual or 0) / total, mc.status))
    title, caption = "数量指标完成进度", "数量指标累计完成情况（占总目标）"
    if len(bars) > MAX_BARS:  # a chart of hundreds of bars helps no one: show those furthest behind plan
        bars = sorted(bars, key=lambda b: b.actual_share - b.planned_share)[:MAX_BARS]
        title, caption = f"进度最落后的{MAX_BARS}个数量指标", f"进度最落后的{MAX_BARS}个数量指标（占总目标）"
    return metric_progress(bars, title, font, max_height_mm), caption


CHART_WIDTH_MM = 150
BODY_LINES = 22


def chart_room_mm(text_height_mm: float) -> float:
    """The tallest a chart may be: the type area less a line for its one-line caption (a chart running into
    the footer, its caption on the next page, helps no one). The chart's own paragraph snaps to the line
    grid, so it is kept to whole lines less a margin."""
    line_mm = LINE_TWIPS / 20 / 72 * 25.4
    return (math.floor(text_height_mm / line_mm) - 1) * line_mm - 1


def _lines_of(text: str, indent: bool = True) -> int:
    """Lines a body paragraph takes: 28 characters a line, the first two of the first line indented."""
    return max(1, math.ceil((text_chars(text) + (2 if indent else 0)) / 28))


def _page1_room_mm(data: ReportData, opening: list[str]) -> float:
    """Height (mm) left on page 1 for the first chart and its caption, after the title, the addressee, the
    opening paragraphs and the heading: the chart fills page 1 instead of leaving it half empty (between
    33 and 67 mm)."""
    title_lines = 3 if len(report_title(data.ledger, data.period)) > TITLE_CHARS else 2  # 22 pt on 35 pt lines + space
    used = title_lines + (1 if data.addressee else 0) + 1 + sum(_lines_of(t) for t in opening) + 1  # caption line
    room_lines = BODY_LINES - used
    if data.letterhead is not None or room_lines < 5:
        return 46.0  # page 1 is the letterhead's, or too full: the chart goes to page 2 at its usual size
    height_mm = (room_lines * LINE_TWIPS / 20 - 6) / 72 * 25.4
    return max(33.0, min(67.0, height_mm))


def compose(data: ReportData) -> Writer:
    """The report as a document."""
    opening = _opening(data)
    w = Writer(FONT_PROFILES.get(data.font_profile, FONT_PROFILES["gb2312"]))
    _title(w, data)
    w.body(opening[0])
    w.h1("一、总体进展")
    for sentence in opening[1:]:
        w.body(sentence)
    figure = 0
    for chart, caption in _charts(data, w, _page1_room_mm(data, opening)):
        figure += chart is not None
        w.fill_chart(w.picture_slot(), chart, f"图{figure}  {caption}")
    _section_metrics(w, data)
    _section_submissions(w, data)
    trouble = _section_problems(w, data)
    _section_next(w, data, trouble)
    w.signature(data.issuer_full or data.issuer, data.date)
    return w


def _title(w: Writer, data: ReportData) -> None:
    """The title (a long one in two lines, broken where its period part begins), then the 主送机关."""
    title = report_title(data.ledger, data.period)
    tail = f"{data.period.label}工作进展情况报告"
    head = title[: -len(tail)]
    if len(title) > TITLE_CHARS and 0 < len(head) <= TITLE_CHARS and len(tail) <= TITLE_CHARS:
        w.title(head, second_line=tail)
    else:
        w.title(title)
    if data.addressee:
        w.addressee(data.addressee)


def _opening(data: ReportData) -> list[str]:
    """The opening paragraph, then what 一、总体进展 says before its charts."""
    period, checks = data.period, data.checks
    out = [f"按照工作安排，{data.issuer}对各成员单位{period.label}重点任务推进情况进行了汇总核对，现将有关情况报告如下。"]
    if not any(b.submitted for b in data.status.bureaus):
        out.append(f"截至{period.label}，本期尚未收到任何单位报送的数据。台账共有重点任务{len(data.ledger.tasks)}项，均暂无本期进展可供汇总。")
        return out
    counts = checks.counts()
    parts = [f"{s.phrase}{counts[s]}项" for s in SHOWN_ORDER if counts.get(s)]
    out.append(f"截至{period.label}，台账共有重点任务{len(data.ledger.tasks)}项，其中{'，'.join(parts)}。")
    return out + _movements(data)


def _section_metrics(w: Writer, data: ReportData) -> None:
    """二、重点指标完成情况: a table of quantity metrics per category, then the indicators."""
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
                                       pct((mc.actual / total) if (mc.actual is not None and total) else None), mc.status])
    k = 0
    headers = ["序号", "指标", f"{period.year}年计划", "累计计划", "累计完成", "完成率", "状态"]
    for cat, rows in by_cat.items():
        k += 1
        w.h2(f"（{cn_seq(k)}）{cat or '数量指标'}")  # a ledger with no 分类: not an empty heading
        w.table(headers, rows)
    ind_rows = []
    for t in ledger.tasks:
        for ic in tc_of[t.id].indicators:
            shown = str(Status.NOT_REPORTED) if ic.value is None else (fmt_number(round(ic.value, 2)) + ("%" if ic.unit == "%" else ":1"))
            ind_rows.append([t.id, ic.text, ic.target, shown, ic.status])
    if ind_rows:
        k += 1
        w.h2(f"（{cn_seq(k)}）比例指标")
        w.table(["序号", "指标", "目标", "最新值", "状态"], ind_rows)
    if not by_cat and not ind_rows:
        w.body("本台账没有设定数量或比例指标。")
    _deadline_table(w, ledger, tc_of, k)


def _deadline_table(w: Writer, ledger: Ledger, tc_of: dict[str, Any], k: int) -> int:
    """Tasks with a 完成时限: each beside its deadline and its status this period (none: nothing is written)."""
    rows = [[t.id, t.title.rstrip("。；;"), "、".join(t.lead), t.deadline.isoformat(), tc_of[t.id].status]
            for t in ledger.tasks if t.deadline is not None]
    if rows:
        k += 1
        w.h2(f"（{cn_seq(k)}）有完成时限的任务")
        w.table(["序号", "任务", "牵头单位", "完成时限", "状态"], rows)
    return k


def _section_submissions(w: Writer, data: ReportData) -> None:
    """三、各单位报送情况: the same states as `status` and the master ledger — refused is not missing."""
    w.h1("三、各单位报送情况")
    st = data.status

    def named(state: str) -> list[str]:
        return [b.name for b in st.bureaus if b.state == state]

    refused = [b for b in st.bureaus if b.state == REFUSED]
    missing, overdue = named(MISSING), named(MISSING_OVERDUE)
    w.body(f"本期应报送单位{len(st.bureaus)}个，报送截止日期为{cn_date(dt.date.fromisoformat(st.deadline))}。按时报送{len(named(ON_TIME))}个，"
           f"逾期报送{len(named(LATE))}个，报送材料不合格被退回{len(refused)}个，未报送{len(missing) + len(overdue)}个。")
    for names, text in ((named(ON_TIME), "按时报送的单位"), (named(LATE), "逾期报送的单位"),
                        ([f"{b.name}（{b.n_findings}处问题）" for b in refused], "报送材料不合格、已退回尚未重新报送的单位"),
                        (overdue, "截止日期已过仍未报送的单位"), (missing, "尚未报送的单位（未到截止日期）")):
        if names:
            w.body(f"{text}：{_list(names)}。")


def _section_problems(w: Writer, data: ReportData) -> list[TaskCheck]:
    """四、存在的主要问题: tasks behind (named in full), tasks that cannot be checked, and what units reported,
    alike statements from several units said once. Returns the tasks behind."""
    tasks = {t.id: t for t in data.ledger.tasks}
    got_any = any(b.submitted for b in data.status.bureaus)
    w.h1("四、存在的主要问题")
    trouble = [tc for tc in data.checks.tasks if tc.status.needs_attention]
    not_reported = [tc for tc in data.checks.tasks if tc.status in NO_DATA]
    k = 0
    if trouble:
        k += 1
        w.h2(f"（{cn_seq(k)}）部分任务进度滞后")
        for n, tc in enumerate(trouble, start=1):
            t = tasks[tc.id]
            detail = "；".join(r for r in tc.reasons if r and ("差" in r or "未" in r or "缺少" in r)) or "；".join(tc.reasons)
            due = f"；完成时限：{t.deadline.isoformat()}" if t.deadline else ""
            w.body(f"{n}.第{t.id}项“{t.title.rstrip('。；;')}”（牵头单位：{'、'.join(t.lead)}{due}），{tc.status}：{detail}。")
    if not_reported and got_any:
        k += 1
        w.h2(f"（{cn_seq(k)}）部分任务无法核对进度")
        silent = {b.name for b in data.status.bureaus if not b.submitted}
        for state, why in ((Status.REFUSED, "报送的表格被退回、尚未重新报送"), (Status.NOT_REPORTED, "本期未报送")):
            these = [tc for tc in not_reported if tc.status == state]
            if these:
                leads = sorted({b for tc in these for b in tasks[tc.id].lead if b in silent})
                w.body(f"{_list(leads)}{why}，第{'、'.join(tc.id for tc in these)}项共{len(these)}项任务无法核对进度。")
    problems = group_alike(_texts(data.values, "problems"))
    if problems:
        k += 1
        w.h2(f"（{cn_seq(k)}）各单位反映的问题")
        for units, items in problems:
            w.body("；".join(items) + "。", lead=f"{said_by(units)}反映：")
    if k == 0:
        w.body("本期未发现进度滞后的任务，各单位未反映需要协调解决的问题。" if got_any else "各单位尚未报送，暂无问题汇总。")
    return trouble


def _section_next(w: Writer, data: ReportData, trouble: list[TaskCheck]) -> None:
    """五、下一步工作安排: the units' plans (alike plans said once), then what the office will follow up."""
    tasks = {t.id: t for t in data.ledger.tasks}
    w.h1("五、下一步工作安排")
    plans = group_alike(_texts(data.values, "plan", lead_only=True))
    for n, (units, items) in enumerate(plans, start=1):
        w.body("；".join(items[:4]) + "。", lead=f"（{cn_seq(n)}）{said_by(units)}：")
    if trouble:
        names = sorted({b for tc in trouble for b in tasks[tc.id].lead})
        w.body(f"{data.issuer}将加强对进度滞后任务的跟踪督办，请{_list(names)}对照计划查找原因，加快推进。")
    refused = [b.name for b in data.status.bureaus if b.state == REFUSED]
    missing = [b.name for b in data.status.bureaus if b.state in (MISSING, MISSING_OVERDUE)]
    if missing:
        w.body(f"请{_list(missing)}尽快报送本期材料。")
    if refused:
        w.body(f"请{_list(refused)}按退回意见修改后重新报送。")
    if not plans and not trouble and not (missing or refused):
        w.body("各单位继续按计划推进各项重点任务。")


def said_by(units: list[str]) -> str:
    """市交通运输局; 市交通运输局、市商务局; 市交通运输局、市商务局等3个单位."""
    if len(units) <= 2:
        return "、".join(units)
    return f"{'、'.join(units[:2])}等{len(units)}个单位"


def _key(text: str) -> str:
    """A text with punctuation and spaces dropped, for telling alike statements."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


def group_alike(by_unit: dict[str, list[str]], *, alike: float = 0.85) -> list[tuple[list[str], list[str]]]:
    """Statements grouped so that what several units said alike is said once, with all of them named.

    Two statements are alike when they are equal once punctuation and spaces are dropped, or nearly so
    (difflib ratio ≥ `alike`). Units that said exactly the same alike statements form one group, in the
    order the units first appear; each group keeps the first wording it met."""
    import difflib

    canon: list[tuple[str, str]] = []  # (key, first wording) of each distinct statement

    def find(text: str) -> int:
        key = _key(text)
        for i, (k, _) in enumerate(canon):
            if k == key or (len(key) > 6 and difflib.SequenceMatcher(None, k, key).ratio() >= alike):
                return i
        canon.append((key, text))
        return len(canon) - 1

    said: dict[int, list[str]] = {}  # statement → units, in order
    for unit, items in by_unit.items():
        for text in items:
            units = said.setdefault(find(text), [])
            if unit not in units:
                units.append(unit)
    groups: dict[tuple[str, ...], list[str]] = {}
    for i, units in said.items():
        groups.setdefault(tuple(units), []).append(canon[i][1])
    return [(list(units), items) for units, items in groups.items()]


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
    """Task numbers for a sentence; a long list ends in 等 (the tables and section 四 list every task)."""
    return "、".join(ids) if len(ids) <= MAX_IDS else "、".join(ids[:MAX_IDS]) + "等"


def _movements(data: ReportData) -> list[str]:
    """One sentence each on what moved most since the previous period."""
    out = []
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
    for _, m, add, cum, total in _gains(data)[:3]:
        out.append(f"“{m.name}”本期新增{fmt_number(add)}{m.unit}，累计{fmt_number(cum)}{m.unit}，完成总目标的{pct(cum / total)}。")
    return out


def _gains(data: ReportData) -> list[tuple[float, Any, float, float, float]]:
    """(share of the total, metric, this period's addition, cumulative, total) per metric, largest share first."""
    tasks = {t.id: t for t in data.ledger.tasks}
    reporting: dict[str, set[str]] = defaultdict(set)
    nums: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)  # (task, metric) → the leads' figures
    for v in data.values:
        if v.role == "lead" and v.task_id:
            reporting[v.task_id].add(v.bureau)
            if v.kind == "metric" and v.num is not None:
                nums[(v.task_id, v.idx)][v.bureau] = v.num
    gains = []
    for (tid, idx), per in nums.items():
        t = tasks.get(tid)
        if t is None or idx >= len(t.metrics):
            continue
        # the first lead that reported anything this period speaks for the task (or the shared leads, added up)
        first = next((b for b in t.lead if b in reporting[t.id]), None)
        got = t.lead_figure(per) if t.shared else per.get(first) if first else None
        m = t.metrics[idx]
        if not got or m.accumulation != "additions":  # a level or a year's own figure does not add up
            continue
        total = m.target.value if m.target else m.planned_total()
        if total:
            cum = data.cumulative_before.get((t.id, idx), 0) + got
            gains.append((got / total, m, got, cum, total))
    gains.sort(key=lambda g: -g[0])
    return gains


def _status(checks: CheckResult, tid: str) -> Status:
    tc: TaskCheck = next(t for t in checks.tasks if t.id == tid)
    return tc.status


def write_report(data: ReportData, path: Path) -> Path:
    """Compose, put the office's letterhead on top when one is configured, and write atomically."""
    w = compose(data)
    if data.letterhead is not None:
        place_letterhead(w.doc, Path(data.letterhead))
    with atomic_path(Path(path)) as tmp:
        w.doc.save(str(tmp))
    return Path(path)


def write_period_report(ws: Workspace, ledger: Ledger, period: Period, out: Path | None = None, *,
                        date: dt.date | None = None) -> tuple[Path, CheckResult]:
    """Write the period's summary report from the store and the checks (atomically), by default to
    outputs/reports/<period>_总结报告.docx; the checks it was written from come back with it."""
    from .workspace import open_store

    with open_store(ws) as store:
        data = report_data(ws, ledger, store, period, date)
    target = out or ws.outputs / "reports" / f"{period.code}_总结报告.docx"
    return write_report(data, target), data.checks


def report_data(ws: Workspace, ledger: Ledger, store: Store, period: Period, date: dt.date | None = None) -> ReportData:
    """What the report says, gathered from the store: the checks at the period (and at the one before, for
    the comparison), where each return stands as of the report's date, the period's values and texts, and
    the office's [report] settings."""
    from .checks import CHECKED_KINDS, check_store
    from .reporting import period_status
    from .store import metric_series

    cfg = ws.section("report")
    rule = ws.deadline_rule(ledger)
    # one fetch of what the checks read serves both checks and the cumulative figures; texts only for this period
    values = store.current_values(period, kinds=CHECKED_KINDS)
    # no list of every submission: each check reads its period's files and which bureaus have a current return
    history = store.history_values(resubmitted_only=True)
    status = period_status(ledger, store, period, rule, today=date)  # as of the report's date
    result = check_store(ledger, store, period, rule, values, status=status, history=history)
    texts = store.current_values(kinds={"problems", "plan"}, periods={period.code})
    prev_period = period.previous()
    # the previous period's task statuses only (see _movements): no history, whose findings never change one
    previous = (check_store(ledger, store, prev_period, rule, values, history=[])
                if prev_period.year in ledger.years else None)
    before = metric_series(ledger, values, prev_period)
    code = period.code
    return ReportData(
        ledger=ledger, period=period, checks=result, previous=previous,
        status=status,
        values=[v for v in values if v.period == code] + texts,
        cumulative_before={k: sum(x[0] for x in s.values()) for k, s in before.items()},
        issuer=str(cfg.get("issuer") or DEFAULT_ISSUER), date=date or dt.date.today(),
        font_profile=str(cfg.get("font_profile", "gb2312")),
        addressee=str(cfg.get("addressee") or ""), issuer_full=str(cfg.get("issuer_full") or ""),
        letterhead=(ws.root / str(cfg["letterhead"])) if cfg.get("letterhead") else None,
    )


def place_letterhead(doc: Any, letterhead: Path) -> None:
    """Put the body of the office's letterhead (版头: 发文机关标志, 红线…) above the title, as supplied.

    docxcompose copies its paragraphs, tables, pictures and shapes with their styles; what the
    letterhead's paragraphs inherited from its own default style (size, spacing, alignment) is made
    explicit first, so the report's Normal style (16 pt on a fixed 28.95 pt line) cannot change them,
    and they are kept off the report's line grid."""
    from docxcompose.composer import Composer

    head = _open_letterhead(letterhead)
    _inline_default_style(head)
    for p in head.element.body.iter(_qn("w:p")):
        _ppr_set_el(p, "w:snapToGrid", val="0")
    Composer(doc).insert(0, head)


def _open_letterhead(path: Path) -> Any:
    """The letterhead as a python-docx Document, or a refusal naming the file and what to do."""
    import zipfile

    import docx

    where = f"ledger-xl.toml 的 [report] letterhead（{path}）"
    if not path.is_file():
        raise LedgerError.of(Code.LETTERHEAD_MISSING, where=where)
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith((".xml", ".rels")) and b"<!DOCTYPE" in z.read(name)[:4096].replace(b"\x00", b""):
                    raise LedgerError.of(Code.LETTERHEAD_DOCTYPE, where=where)
        return docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LedgerError.of(Code.LETTERHEAD_UNREADABLE, where=where, why=e) from e


def _inline_default_style(head: Any) -> None:
    """Copy the letterhead's default paragraph and run properties onto its paragraphs and runs that do not
    set them, so that they look the same under the report's styles."""
    import copy

    styles = head.styles.element
    defaults = styles.find(_qn("w:docDefaults"))
    normal = next((s for s in styles.iter(_qn("w:style")) if s.get(_qn("w:default")) == "1"
                   and s.get(_qn("w:type")) == "paragraph"), None)
    ppr_sources = [x for x in (normal.find(_qn("w:pPr")) if normal is not None else None,
                               defaults.find(_qn("w:pPrDefault") + "/" + _qn("w:pPr")) if defaults is not None else None) if x is not None]
    rpr_sources = [x for x in (normal.find(_qn("w:rPr")) if normal is not None else None,
                               defaults.find(_qn("w:rPrDefault") + "/" + _qn("w:rPr")) if defaults is not None else None) if x is not None]
    for p in head.element.body.iter(_qn("w:p")):
        ppr = p.get_or_add_pPr()
        for src in ppr_sources:
            for child in src:
                if ppr.find(child.tag) is None and child.tag != _qn("w:rPr"):
                    insert_in_order(ppr, copy.deepcopy(child))
        for r in p.iter(_qn("w:r")):
            rpr = r.get_or_add_rPr()
            for src in rpr_sources:
                for child in src:
                    if rpr.find(child.tag) is None:
                        insert_in_order(rpr, copy.deepcopy(child))
        if ppr.find(_qn("w:spacing")) is None:  # Word's own default: single lines, no space around
            _ppr_set_el(p, "w:spacing", line="240", lineRule="auto", before="0", after="0")
