"""The report's charts as Word's own chart parts (DrawingML `c:chartSpace`, what Word writes in
word/charts/chartN.xml): drawn by Word, WPS and LibreOffice themselves — vector, so sharp in print, editable
there, and no drawing library in the report's process.

Laid out here in points, so that no renderer's own layout can cut or crowd a label: the plot area's place
is fixed (manual layout), the label column is as wide as the longest label line, the value axis leaves room
right of every bar for its label, and the frame is as tall as the rows, title, axis and legend need. Text
sizes shrink (down to MIN_PT) only where 30 long labels would otherwise not fit the page.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .model import pct
from .status import SHOWN_ORDER, Status

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NSMAP = {"c": C_NS, "a": A_NS, "r": R_NS}
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"

# readable on a black-and-white printer: grey levels far apart (Status.chart_color), each status its own
# DrawingML preset pattern (a:pattFill, black lines on the status's colour), and every bar labelled in words
PATTERNS: dict[Status, str | None] = {
    Status.DONE: None, Status.AHEAD: "smGrid", Status.ON_TRACK: "wdUpDiag", Status.WARNING: "pct20",
    Status.BEHIND: "diagCross", Status.NOT_MET: "wdDnDiag", Status.REFUSED: "ltVert", Status.NOT_REPORTED: "ltHorz"}
STATUS_STYLE = {str(s): (s.chart_color.lstrip("#").upper(), PATTERNS[s]) for s in SHOWN_ORDER}
PLAN_SERIES = "计划进度（截至本期）"
INK = "212121"  # pattern lines and bar outlines

WIDTH_MM = 150.0
PT_PER_MM = 72 / 25.4
METRIC_PT = 8.0  # labels, ticks, axis title and legend of the metrics chart, unless the page forces less
MIN_PT = 3.0  # as small as a picture scaled to fit the page would print it; 30 ordinary labels print at 8 pt
TITLE_PT = 10.5
LINE = 1.45  # a text line's height per point of size in a CJK font (Noto CJK: ascent + descent 1.448 em)
TITLE_TOP_PT = 4.0  # the title's top, from the frame's
TOP_PT = TITLE_TOP_PT + TITLE_PT * LINE + 8  # the plot area's top
LABEL_GAP_PT = 6.0  # between a bar's end (or plan box) and its label; between a label column and the axis
MAX_GAP = 500  # c:gapWidth's most (ECMA-376 ST_GapAmount): Word calls a chart with more "unreadable content"


@dataclass(frozen=True)
class MetricBar:
    label: str
    planned_share: float  # cumulative plan now / total, 0..1+
    actual_share: float  # cumulative actual / total
    status: str


@dataclass(frozen=True)
class Chart:
    """A chart part's XML and the size of the frame it is shown in (mm)."""
    xml: bytes
    width_mm: float
    height_mm: float


def text_pt(text: str, size: float) -> float:
    """A text's width in points at `size` in a CJK font: a CJK, full-width or ambiguous character is one em,
    any other half (digits and Latin letters are no wider than that in the report's fonts)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WFA" else size / 2 for ch in text)


def wrap_to(text: str, width_pt: float, size: float) -> list[str]:
    """`text` in lines no wider than width_pt (CJK text has no spaces to break at); never cut."""
    lines, line, used = [], "", 0.0
    for ch in text:
        w = text_pt(ch, size)
        if line and used + w > width_pt:
            lines.append(line)
            line, used = "", 0.0
        line, used = line + ch, used + w
    return [*lines, line] if line or not lines else lines


def gap_width(pitch: float, bar: float) -> int:
    """The gap between bars as a percentage of a bar, as c:gapWidth takes it: in a row far taller than its
    bar (a label of many lines, a tall chart of few statuses) the bar grows to keep it within MAX_GAP."""
    return min(MAX_GAP, round((pitch - bar) / bar * 100))


def bar_label(b: MetricBar) -> str:
    """The share as the report's table beside the chart writes it (a bar at 99.6% never reads 100%)."""
    return f"{pct(b.actual_share)}（{b.status}）"


def shown_share(b: MetricBar) -> float:
    """How long a bar is drawn: its share, from 0 up to 150 % (its label says how far past that it is)."""
    return min(max(b.actual_share, 0.0), 1.5)


# ---------------------------------------------------------------- XML building (lxml, in schema order)


class _X:
    """Elements of a chart part, each child added in the order ECMA-376's CT_* sequences list them (Word
    refuses a chart whose elements are out of order)."""

    def __init__(self, font: str) -> None:
        from lxml import etree

        self.etree, self.font = etree, font

    def el(self, parent: Any, tag: str, val: object = None, **attrs: object) -> Any:
        prefix, name = tag.split(":")
        qname = f"{{{NSMAP[prefix]}}}{name}"
        node = self.etree.Element(qname, nsmap=NSMAP) if parent is None else self.etree.SubElement(parent, qname)
        if val is not None:
            node.set("val", str(val))
        for k, v in attrs.items():
            node.set(k, str(v))
        return node

    def fonts(self, rpr: Any) -> None:
        """Every script's typeface: Latin, East Asian (a:ea, what Chinese text is set in) and complex."""
        for tag in ("a:latin", "a:ea", "a:cs"):
            self.el(rpr, tag, typeface=self.font)

    def txpr(self, parent: Any, size: float) -> Any:
        """Text properties of an axis, a legend or the whole chart: size, black, the report's font."""
        t = self.el(parent, "c:txPr")
        self.el(t, "a:bodyPr")
        self.el(t, "a:lstStyle")
        p = self.el(t, "a:p")
        d = self.el(self.el(p, "a:pPr"), "a:defRPr", sz=round(size * 100), b=0)
        self.el(self.el(d, "a:solidFill"), "a:srgbClr", "000000")
        self.fonts(d)
        self.el(p, "a:endParaRPr", lang="zh-CN")
        return t

    def rich(self, parent: Any, text: str, size: float) -> None:
        """A text of its own (a title or one bar's label) in the report's font, on one line."""
        body = self.el(self.el(parent, "c:tx"), "c:rich")
        self.el(body, "a:bodyPr", wrap="none")
        self.el(body, "a:lstStyle")
        p = self.el(body, "a:p")
        d = self.el(self.el(p, "a:pPr"), "a:defRPr", sz=round(size * 100), b=0)
        self.fonts(d)
        r = self.el(p, "a:r")
        rpr = self.el(r, "a:rPr", lang="zh-CN", altLang="en-US", sz=round(size * 100), b=0)
        self.el(self.el(rpr, "a:solidFill"), "a:srgbClr", "000000")
        self.fonts(rpr)
        self.el(r, "a:t").text = text

    def sppr(self, parent: Any, fill: str | None, pattern: str | None = None, line: str | None = INK,
             width_pt: float = 0.6, dash: str | None = None) -> None:
        """Shape properties: a solid or patterned fill (or none) and an outline (or none)."""
        s = self.el(parent, "c:spPr")
        if fill is None:
            self.el(s, "a:noFill")
        elif pattern:
            pf = self.el(s, "a:pattFill", prst=pattern)
            self.el(self.el(pf, "a:fgClr"), "a:srgbClr", INK)
            self.el(self.el(pf, "a:bgClr"), "a:srgbClr", fill)
        else:
            self.el(self.el(s, "a:solidFill"), "a:srgbClr", fill)
        ln = self.el(s, "a:ln", w=round(width_pt * 12700))
        if line is None:
            self.el(ln, "a:noFill")
        else:
            self.el(self.el(ln, "a:solidFill"), "a:srgbClr", line)
            if dash:
                self.el(ln, "a:prstDash", dash)

    def strings(self, parent: Any, tag: str, ref: str, texts: list[str]) -> None:
        cache = self.el(self.el(self.el(parent, tag), "c:strRef"), "c:f")
        cache.text = ref
        cache = self.el(cache.getparent(), "c:strCache")
        self.el(cache, "c:ptCount", len(texts))
        for i, s in enumerate(texts):
            self.el(self.el(cache, "c:pt", idx=i), "c:v").text = s

    def numbers(self, parent: Any, ref: str, values: Sequence[float | None], fmt: str) -> None:
        """A series' values; a None is left out of the cache (a gap: no bar in that row)."""
        f = self.el(self.el(self.el(parent, "c:val"), "c:numRef"), "c:f")
        f.text = ref
        cache = self.el(f.getparent(), "c:numCache")
        self.el(cache, "c:formatCode").text = fmt
        self.el(cache, "c:ptCount", len(values))
        for i, v in enumerate(values):
            if v is not None:
                self.el(self.el(cache, "c:pt", idx=i), "c:v").text = repr(round(float(v), 6))

    def labels(self, ser: Any, texts: list[str | None], size: float) -> None:
        """Each point's own label text (a None: no label), right of the bar's end."""
        d = self.el(ser, "c:dLbls")
        for i, text in enumerate(texts):
            dl = self.el(d, "c:dLbl")
            self.el(dl, "c:idx", i)
            if text is None:
                self.el(dl, "c:delete", 1)
                continue
            self.rich(dl, text, size)
            self.sppr(dl, "FFFFFF", line=None)  # white behind the words: a gridline never runs through a label
            self.el(dl, "c:dLblPos", "outEnd")
            self._shown(dl, value=True)
        self.txpr(d, size)
        self.el(d, "c:dLblPos", "outEnd")
        self._shown(d, value=True)

    def _shown(self, parent: Any, *, value: bool) -> None:
        for tag in ("showLegendKey", "showVal", "showCatName", "showSerName", "showPercent", "showBubbleSize"):
            self.el(parent, f"c:{tag}", int(value and tag == "showVal"))

    def tostring(self, root: Any) -> bytes:
        data: bytes = self.etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return data


def _column(k: int) -> str:
    """The worksheet column a series' values would sit in (B, C, …), for the series' formula."""
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[k + 1] if k < 25 else "Z"


@dataclass
class _Series:
    name: str
    values: Sequence[float | None]
    fill: str | None = None
    pattern: str | None = None
    line: str | None = INK
    width_pt: float = 0.6
    labels: list[str | None] | None = None
    points: list[tuple[str, str | None]] | None = None  # each point's own (fill, pattern)


def _bar_series(x: _X, chart: Any, k: int, s: _Series, cats: list[str], size: float) -> None:
    ser = x.el(chart, "c:ser")
    x.el(ser, "c:idx", k)
    x.el(ser, "c:order", k)
    col, last = _column(k), len(cats) + 1
    x.strings(ser, "c:tx", f"Sheet1!${col}$1", [s.name])
    x.sppr(ser, s.fill, s.pattern, s.line, s.width_pt)
    x.el(ser, "c:invertIfNegative", 0)
    for i, (fill, pattern) in enumerate(s.points or []):
        dpt = x.el(ser, "c:dPt")
        x.el(dpt, "c:idx", i)
        x.el(dpt, "c:invertIfNegative", 0)
        x.el(dpt, "c:bubble3D", 0)
        x.sppr(dpt, fill, pattern, s.line, s.width_pt)
    if s.labels is not None:
        x.labels(ser, s.labels, size)
    x.strings(ser, "c:cat", f"Sheet1!$A$2:$A${last}", cats)
    x.numbers(ser, f"Sheet1!${col}$2:${col}${last}", s.values, "0%" if s.points is None else "0")


@dataclass(frozen=True)
class _Frame:
    """Where things go, in points: the frame, the plot area inside it, the text size."""
    width: float
    height: float
    plot: tuple[float, float, float, float]  # x, y, w, h from the frame's top left
    size: float
    x_max: float
    gap_width: int


def _chart_space(x: _X, frame: _Frame, title: str, cats: list[str], series: list[_Series],
                 *, axis_title: str, percent: bool, legend_deleted: list[int] | None) -> bytes:
    """The whole c:chartSpace of a horizontal bar chart: categories top down, series overlapping in each row."""
    cs = x.el(None, "c:chartSpace")
    x.el(cs, "c:date1904", 0)
    x.el(cs, "c:lang", "zh-CN")
    x.el(cs, "c:roundedCorners", 0)
    chart = x.el(cs, "c:chart")
    t = x.el(chart, "c:title")
    x.rich(t, title, TITLE_PT)
    _place(x, t, (frame.width - text_pt(title, TITLE_PT)) / 2 / frame.width, TITLE_TOP_PT / frame.height)
    x.el(t, "c:overlay", 0)
    x.el(chart, "c:autoTitleDeleted", 0)
    plot = x.el(chart, "c:plotArea")
    _manual_layout(x, plot, frame)
    bars = x.el(plot, "c:barChart")
    x.el(bars, "c:barDir", "bar")
    x.el(bars, "c:grouping", "clustered")
    x.el(bars, "c:varyColors", 0)
    for k, s in enumerate(series):
        _bar_series(x, bars, k, s, cats, frame.size)
    x.el(bars, "c:gapWidth", frame.gap_width)
    x.el(bars, "c:overlap", 100)
    x.el(bars, "c:axId", 1001)
    x.el(bars, "c:axId", 1002)
    _category_axis(x, plot, frame.size)
    _value_axis(x, plot, frame, axis_title, percent)
    x.sppr(plot, None, line=None)
    if legend_deleted is not None:
        legend = x.el(chart, "c:legend")
        x.el(legend, "c:legendPos", "b")
        for idx in legend_deleted:
            entry = x.el(legend, "c:legendEntry")
            x.el(entry, "c:idx", idx)
            x.el(entry, "c:delete", 1)
        x.el(legend, "c:overlay", 0)
        x.txpr(legend, frame.size)
    x.el(chart, "c:plotVisOnly", 1)
    x.el(chart, "c:dispBlanksAs", "gap")
    x.sppr(cs, "FFFFFF", line=None)
    x.txpr(cs, frame.size)
    return x.tostring(cs)


def _place(x: _X, parent: Any, left: float, top: float) -> None:
    """A title's or legend's top left corner, as fractions of the frame."""
    m = x.el(x.el(parent, "c:layout"), "c:manualLayout")
    x.el(m, "c:xMode", "edge")
    x.el(m, "c:yMode", "edge")
    x.el(m, "c:x", round(max(left, 0.0), 5))
    x.el(m, "c:y", round(top, 5))


def _manual_layout(x: _X, plot: Any, frame: _Frame) -> None:
    """The plot area's inner rectangle (axes excluded) as fractions of the frame: where the layout put it."""
    m = x.el(x.el(plot, "c:layout"), "c:manualLayout")
    x.el(m, "c:layoutTarget", "inner")
    x.el(m, "c:xMode", "edge")
    x.el(m, "c:yMode", "edge")
    px, py, pw, ph = frame.plot
    for tag, v in (("c:x", px / frame.width), ("c:y", py / frame.height), ("c:w", pw / frame.width),
                   ("c:h", ph / frame.height)):
        x.el(m, tag, round(v, 5))


def _category_axis(x: _X, plot: Any, size: float) -> None:
    """The categories down the left, the first at the top (orientation maxMin), every label shown."""
    ax = x.el(plot, "c:catAx")
    x.el(ax, "c:axId", 1001)
    x.el(x.el(ax, "c:scaling"), "c:orientation", "maxMin")
    x.el(ax, "c:delete", 0)
    x.el(ax, "c:axPos", "l")
    x.el(ax, "c:numFmt", formatCode="General", sourceLinked=0)
    x.el(ax, "c:majorTickMark", "none")
    x.el(ax, "c:minorTickMark", "none")
    x.el(ax, "c:tickLblPos", "nextTo")
    x.sppr(ax, None, line="000000", width_pt=0.75)
    x.txpr(ax, size)
    x.el(ax, "c:crossAx", 1002)
    x.el(ax, "c:crosses", "autoZero")
    x.el(ax, "c:auto", 1)
    x.el(ax, "c:lblAlgn", "ctr")
    x.el(ax, "c:lblOffset", 100)
    x.el(ax, "c:tickLblSkip", 1)  # never skip a label to make room
    x.el(ax, "c:tickMarkSkip", 1)
    x.el(ax, "c:noMultiLvlLbl", 0)


def _value_axis(x: _X, plot: Any, frame: _Frame, title: str, percent: bool) -> None:
    """The value axis along the bottom (crossing at the last category). For shares: a dashed line at each
    whole 100 % (the total target) and light lines every 20 %."""
    ax = x.el(plot, "c:valAx")
    x.el(ax, "c:axId", 1002)
    scaling = x.el(ax, "c:scaling")
    x.el(scaling, "c:orientation", "minMax")
    x.el(scaling, "c:max", round(frame.x_max, 4))
    x.el(scaling, "c:min", 0)
    x.el(ax, "c:delete", 0)
    x.el(ax, "c:axPos", "b")
    x.sppr(x.el(ax, "c:majorGridlines"), None, line="424242" if percent else "BDBDBD",
           width_pt=1.0 if percent else 0.5, dash="dash" if percent else None)
    if percent:
        x.sppr(x.el(ax, "c:minorGridlines"), None, line="D0D0D0", width_pt=0.4)
    t = x.el(ax, "c:title")
    x.rich(t, title, frame.size)
    x.el(t, "c:overlay", 0)
    x.el(ax, "c:numFmt", formatCode="0%" if percent else "0", sourceLinked=0)
    x.el(ax, "c:majorTickMark", "out")
    x.el(ax, "c:minorTickMark", "out" if percent else "none")
    x.el(ax, "c:tickLblPos", "nextTo")
    x.sppr(ax, None, line="000000", width_pt=0.75)
    x.txpr(ax, frame.size)
    x.el(ax, "c:crossAx", 1001)
    x.el(ax, "c:crosses", "max")
    x.el(ax, "c:crossBetween", "between")
    x.el(ax, "c:majorUnit", 1 if percent else _nice_unit(frame.x_max))
    if percent:
        x.el(ax, "c:minorUnit", 0.2)


def _nice_unit(top: float) -> float:
    """A step of 1, 2 or 5 × 10ⁿ giving four to ten steps up to `top`."""
    raw = max(top, 1) / 6
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


# ---------------------------------------------------------------- the metrics chart


def _metric_frame(bars: list[MetricBar], size: float, legend_names: list[str]) -> tuple[_Frame, list[str]]:
    """The metrics chart's layout at text size `size`, and its category labels (wrapped, never cut)."""
    width = WIDTH_MM * PT_PER_MM
    label_w = max(text_pt(bar_label(b), size) for b in bars) + 1.5 * size + LABEL_GAP_PT  # + the space renderers put between 108% and （
    col_max = width - label_w - 0.34 * width - 8
    lines = [wrap_to(b.label, col_max, size) for b in bars]
    col = max(text_pt(line, size) for ls in lines for line in ls) + LABEL_GAP_PT + 4
    n_lines = max(len(ls) for ls in lines)
    pitch = n_lines * LINE * size + max(3.0, 0.5 * size)
    bar = min(11.0, 0.62 * pitch)
    top = TOP_PT
    entry = max(text_pt(n, size) for n in legend_names) + 3.5 * size
    per_row = max(1, int(width * 0.8 // entry))
    legend_rows = -(-len(legend_names) // per_row)
    below = 4 + size * LINE + 4 + size * LINE + 8 + legend_rows * (size * LINE + 3) + 6
    plot_w = width - col - 10
    room = 1 - (label_w + 2) / plot_w  # the share of the plot's width left of the labels
    ends = [max(shown_share(b), b.planned_share) for b in bars]
    x_max = max(1.25, max(ends) / room)
    frame = _Frame(width, top + len(bars) * pitch + below, (col, top, plot_w, len(bars) * pitch), size,
                   math.ceil(x_max * 100) / 100, gap_width(pitch, bar))
    return frame, ["\n".join(ls) for ls in lines]


def metric_progress(bars: list[MetricBar], title: str, font: str, max_height_mm: float) -> Chart | None:
    """Horizontal bars: actual against total target, each hatched by its status and labelled with its
    share and status in words, with an outlined box to where the plan stands now; a dashed line at 100 %.

    One series per status (so the legend names each status with its hatching), the plan as an unfilled
    outlined series in the same row (overlap 100 %), and an invisible series as long as the bar or the plan
    box, whichever is longer, carrying the labels: a label always starts past both."""
    if not bars:
        return None
    statuses = [s for s in STATUS_STYLE if s in {b.status for b in bars}]
    size = METRIC_PT
    frame, cats = _metric_frame(bars, size, [PLAN_SERIES, *statuses])
    while frame.height > max_height_mm * PT_PER_MM and size > MIN_PT:
        size -= 0.5
        frame, cats = _metric_frame(bars, size, [PLAN_SERIES, *statuses])
    series = [_Series(s, [shown_share(b) if b.status == s else None for b in bars], *STATUS_STYLE[s])
              for s in statuses]
    ends = [max(shown_share(b), b.planned_share) for b in bars]
    carrier = _Series(" ", ends, None, line=None, labels=[bar_label(b) for b in bars])
    hidden = _hidden_positions(len(series) + 1)
    for k in hidden:  # the label carrier, and an empty series where two are needed (see _hidden_positions)
        series.insert(k, carrier if k == hidden[0] else _Series(" ", [None] * len(bars), None, line=None))
    series.append(_Series(PLAN_SERIES, [b.planned_share for b in bars], None, line="000000", width_pt=1.25))
    xml = _chart_space(_X(font), frame, title, cats, series, percent=True, legend_deleted=hidden,
                       axis_title="占总目标的比例（100%处的虚线为总目标）")
    return Chart(xml, WIDTH_MM, frame.height / PT_PER_MM)


def _hidden_positions(shown: int) -> list[int]:
    """Where the unseen series go among `shown` seen ones so that their legend entries are deleted whichever
    way a renderer counts c:legendEntry's idx: Word counts series from the first, LibreOffice 7.4 (measured)
    from the last in a horizontal bar chart. A set symmetric about the middle is the same both ways: with an
    odd total, the middle series alone; else two series, either side of the middle one."""
    if shown % 2 == 0:
        return [shown // 2]  # shown + 1 series
    return [(shown + 1) // 2 - 1, (shown + 1) // 2 + 1]  # shown + 2 series, the middle one seen


# ---------------------------------------------------------------- the status chart


def status_mix(counts: dict[str, int], title: str, font: str, height_mm: float) -> Chart | None:
    """How many tasks are in each status: a bar per status, hatched, named and labelled with its count and
    share, so that even the smallest is read in grey print; `height_mm` fills what is left of page 1."""
    items = [(s, n) for s, n in counts.items() if n]
    if not items:
        return None
    total = sum(n for _, n in items)
    width, size, label_size = WIDTH_MM * PT_PER_MM, 9.0, 9.0
    texts = [f"{n}项（{pct(n / total)}）" for _, n in items]  # as every share is written: 579 of 580 is not 100%
    col = max(text_pt(s, size) for s, _ in items) + LABEL_GAP_PT + 8
    label_w = max(text_pt(t, label_size) for t in texts) + 1.5 * label_size + LABEL_GAP_PT
    top, below = TOP_PT, 4 + 9 * LINE + 4 + 9 * LINE + 8
    height = max(height_mm * PT_PER_MM, top + below + len(items) * (size * LINE + 2))  # never a row lower than its name
    plot_w = width - col - 12
    x_max = max(n for _, n in items) / (1 - label_w / plot_w)
    pitch = (height - top - below) / len(items)
    bar = min(0.62 * pitch, 22)
    frame = _Frame(width, height, (col, top, plot_w, height - top - below), size, _round_up(x_max),
                   gap_width(pitch, bar))
    styles = [STATUS_STYLE.get(s, ("BDBDBD", None)) for s, _ in items]
    series = [_Series("任务数", [float(n) for _, n in items], "BDBDBD", labels=list(texts), points=styles)]
    xml = _chart_space(_X(font), frame, title, [s for s, _ in items], series, percent=False, legend_deleted=None,
                       axis_title=f"任务数（共 {total} 项）")
    return Chart(xml, WIDTH_MM, height / PT_PER_MM)


def _round_up(top: float) -> float:
    unit = _nice_unit(top)
    return math.ceil(top / unit) * unit if top > 0 else 1.0
