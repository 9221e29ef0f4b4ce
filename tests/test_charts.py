"""The report's charts are Word's own chart parts: what each one says (every bar labelled in words, each
status its own pattern, the plan per bar, the legend), how it is laid out (nothing cut, the page's type
area), that it is a well-formed part of the document, and that LibreOffice draws it so."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import soffice
from lxml import etree

from ledger_xl import charts
from ledger_xl.charts import C_NS, CONTENT_TYPE, PATTERNS, PLAN_SERIES, MetricBar, bar_label, shown_share
from ledger_xl.charts import text_pt as text_pt_of
from ledger_xl.model import pct
from ledger_xl.report import FONT_PROFILES, Writer, chart_room_mm
from ledger_xl.status import SHOWN_ORDER, Status

NS = {"c": C_NS, "a": charts.A_NS}
STATUSES = [str(s) for s in SHOWN_ORDER]
FONT = FONT_PROFILES["gb2312"]["table"]
# 30 bars (the report's most), long labels, shares from far behind plan to past the chart's end
BARS = [MetricBar(f"C{i:02d}-{i % 7 + 1}.新增新能源城市配送营运车辆及充电设施", i / 40, (i * 7 % 19) / 10, STATUSES[i % len(STATUSES)])
        for i in range(30)]
# a bar ending just short of its plan mark, one far past the chart's end
EDGES = [MetricBar("C12-12.新增新能源城市配送营运车辆", 1.0, 0.95, "滞后"), MetricBar("C01-13.充电桩", 1.0, 2.44, "已完成")]
MIX = ({s: (k * 37) % 230 + 1 for k, s in enumerate(STATUSES)}, "2025年12月重点任务进展状态")
ROOM_MM = chart_room_mm(Writer(FONT_PROFILES["gb2312"]).text_area_mm()[1])
CASES = {"8-statuses": BARS, "30-bars-long-last": BARS[:25] + EDGES, "5-bars": BARS[:3] + EDGES, "2-bars": EDGES,
         "one-status": [EDGES[1]] * 30, "below-zero": [MetricBar("C03-2.新增充电桩", 0.5, -0.2, "滞后"), EDGES[0]], "longer-labels": [MetricBar(b.label + b.label[:10], b.planned_share, b.actual_share, b.status)
                                                          for b in BARS],
         # shares as a report prints them, two decimals: the widest labels ("116.38%（超额完成）")
         "decimal-shares": [MetricBar(b.label, b.planned_share, round(b.actual_share + 0.00375, 6), b.status) for b in BARS]}


def _metric(bars: list[MetricBar]) -> tuple[charts.Chart, Any]:
    chart = charts.metric_progress(bars, "进度最落后的30个数量指标", FONT, ROOM_MM)
    assert chart is not None
    return chart, etree.fromstring(chart.xml)


def _series(root: Any) -> list[tuple[str, Any]]:
    return [(s.findtext("c:tx//c:v", namespaces=NS), s) for s in root.iterfind(".//c:ser", NS)]


def _values(ser: Any, n: int) -> list[float | None]:
    got = {int(p.get("idx")): float(p.findtext("c:v", namespaces=NS)) for p in ser.iterfind("c:val//c:pt", NS)}
    return [got.get(i) for i in range(n)]


def _fill(sppr: Any) -> tuple[str | None, str | None]:
    """(pattern preset or None for a solid fill, fill colour) of a c:spPr."""
    patt = sppr.find("a:pattFill", NS)
    if patt is not None:
        return patt.get("prst"), patt.find("a:bgClr/a:srgbClr", NS).get("val")
    solid = sppr.find("a:solidFill/a:srgbClr", NS)
    return None, None if solid is None else solid.get("val")


@pytest.mark.parametrize("bars", CASES.values(), ids=CASES.keys())
def test_every_bar_is_labelled_with_its_share_and_status_and_patterned_by_status(bars):  # type: ignore[no-untyped-def]
    """One series per status, each bar in the series of its status, filled with that status's colour and
    pattern (DONE solid); the label series carries every bar's "108%（已完成）" in order."""
    _, root = _metric(bars)
    named = _series(root)
    for status in {b.status for b in bars}:
        ser = dict(named)[status]
        s = Status(status)
        assert _fill(ser.find("c:spPr", NS)) == (PATTERNS[s], s.chart_color.lstrip("#").upper())
        assert _values(ser, len(bars)) == [shown_share(b) if b.status == status else None for b in bars]
    carriers = [ser for _, ser in named if ser.find("c:dLbls", NS) is not None]
    assert len(carriers) == 1
    texts = [d.findtext("c:tx//a:t", namespaces=NS) for d in carriers[0].iterfind("c:dLbls/c:dLbl", NS)]
    assert texts == [bar_label(b) for b in bars]
    assert carriers[0].find("c:spPr/a:noFill", NS) is not None and carriers[0].find("c:spPr/a:ln/a:noFill", NS) is not None


@pytest.mark.parametrize("bars", CASES.values(), ids=CASES.keys())
def test_the_plan_box_and_the_label_overlap_each_bar_and_the_label_starts_past_both(bars):  # type: ignore[no-untyped-def]
    """The plan is an unfilled outlined bar in the bar's own row (overlap 100 %), drawn last (on top); the
    label series is as long as the bar or the plan, whichever is longer, and its label goes outside its end."""
    _, root = _metric(bars)
    named = _series(root)
    name, plan = named[-1]
    assert name == PLAN_SERIES and plan.find("c:spPr/a:noFill", NS) is not None
    assert plan.find("c:spPr/a:ln/a:solidFill", NS) is not None
    assert _values(plan, len(bars)) == pytest.approx([b.planned_share for b in bars])
    assert root.find(".//c:overlap", NS).get("val") == "100"
    carrier = next(ser for _, ser in named if ser.find("c:dLbls", NS) is not None)
    assert _values(carrier, len(bars)) == pytest.approx([max(shown_share(b), b.planned_share) for b in bars])
    assert {d.get("val") for d in carrier.iterfind("c:dLbls//c:dLblPos", NS)} == {"outEnd"}
    # each label on white, so the light gridlines every 20 % and the dashed 100 % line never run through its words
    shown = [d for d in carrier.iterfind("c:dLbls/c:dLbl", NS) if d.find("c:delete", NS) is None]
    assert shown and [d.find("c:spPr/a:solidFill/a:srgbClr", NS).get("val") for d in shown] == ["FFFFFF"] * len(shown)


@pytest.mark.parametrize("bars", CASES.values(), ids=CASES.keys())
def test_nothing_is_cut_and_the_chart_and_caption_fit_the_type_area(bars):  # type: ignore[no-untyped-def]
    """Laid out from the text sizes: every category label line fits the column left of the plot area; every
    bar label, from the end of its bar or plan box, fits inside the plot area; each category label is whole
    (its lines joined give the label); and the frame plus a caption line fit the page's type area."""
    chart, root = _metric(bars)
    layout = root.find("c:chart/c:plotArea/c:layout/c:manualLayout", NS)
    width_pt, height_pt = chart.width_mm * charts.PT_PER_MM, chart.height_mm * charts.PT_PER_MM
    x, w = (float(layout.find(f"c:{k}", NS).get("val")) * width_pt for k in "xw")
    size = int(root.find("c:chart/c:plotArea/c:catAx/c:txPr//a:defRPr", NS).get("sz")) / 100
    cats = [p.findtext("c:v", namespaces=NS) for p in root.iterfind(".//c:ser[1]/c:cat//c:pt", NS)]
    assert [c.replace("\n", "") for c in cats] == [b.label for b in bars]
    assert max(text_pt_of(line, size) for c in cats for line in c.split("\n")) + charts.LABEL_GAP_PT <= x
    x_max = float(root.find(".//c:valAx/c:scaling/c:max", NS).get("val"))
    for b in bars:
        end = max(shown_share(b), b.planned_share) / x_max * w
        assert end + charts.LABEL_GAP_PT + text_pt_of(bar_label(b), size) + size <= w, bar_label(b)
    assert x + w <= width_pt and chart.width_mm <= 156
    line_mm = 28.95 / 72 * 25.4
    assert chart.height_mm <= ROOM_MM and ROOM_MM + line_mm <= 225 and height_pt > 0
    if bars is BARS:
        assert size == charts.METRIC_PT  # 30 bars of an ordinary label print at the full 8 pt


@pytest.mark.parametrize("bars", CASES.values(), ids=CASES.keys())
def test_the_legend_names_the_plan_and_each_status_shown_and_nothing_else(bars):  # type: ignore[no-untyped-def]
    """The legend's deleted entries are exactly the unseen series, as a set symmetric about the middle (Word
    counts c:legendEntry's idx from the first series, LibreOffice 7.4 from the last: both delete the same);
    it sits below the plot area, whose bottom leaves room for the tick labels and the axis title."""
    chart, root = _metric(bars)
    named = _series(root)
    unseen = {k for k, (_, ser) in enumerate(named) if ser.find("c:spPr/a:noFill", NS) is not None
              and ser.find("c:spPr/a:ln/a:noFill", NS) is not None}
    deleted = {int(e.find("c:idx", NS).get("val")) for e in root.iterfind(".//c:legend/c:legendEntry", NS)
               if e.find("c:delete", NS).get("val") == "1"}
    assert deleted == unseen == {len(named) - 1 - k for k in unseen} and unseen
    shown = [name for k, (name, _) in enumerate(named) if k not in unseen]
    assert sorted(shown) == sorted([PLAN_SERIES, *{b.status for b in bars}])
    assert root.find(".//c:legend/c:legendPos", NS).get("val") == "b"
    layout = root.find("c:chart/c:plotArea/c:layout/c:manualLayout", NS)
    y, h = (float(layout.find(f"c:{k}", NS).get("val")) for k in "yh")
    size = int(root.find("c:chart/c:plotArea/c:catAx/c:txPr//a:defRPr", NS).get("sz")) / 100
    below = (1 - y - h) * chart.height_mm * charts.PT_PER_MM
    assert below >= 2 * size * charts.LINE + (len(shown) > 0) * size * charts.LINE


@pytest.mark.parametrize("chart", ["metric_progress", "status_mix"])
def test_every_text_is_set_in_the_reports_font(chart):  # type: ignore[no-untyped-def]
    """What replaces "drawn only with a CJK font": the renderer (Word, WPS, LibreOffice) draws the text, so
    every text property in the chart names the report's font for Chinese (a:ea) as for Latin, and the chart's
    language is zh-CN — the same fonts the report's body names, substituted by the same rules."""
    made = charts.metric_progress(BARS, "数量指标完成进度", FONT, ROOM_MM) if chart == "metric_progress" else \
        charts.status_mix(*MIX, FONT, 46)
    assert made is not None
    root = etree.fromstring(made.xml)
    props = [*root.iter(f"{{{charts.A_NS}}}defRPr"), *root.iter(f"{{{charts.A_NS}}}rPr")]
    assert len(props) > 10
    for rpr in props:
        assert [rpr.find(f"a:{k}", NS).get("typeface") for k in ("latin", "ea", "cs")] == [FONT] * 3
    assert root.find("c:lang", NS).get("val") == "zh-CN"


def test_a_bar_reads_its_share_as_the_report_writes_it():
    """The bar's label and the report's table say the same share (116.25%, not 116% beside 116.25%), and a bar
    short of its total never reads 100%."""
    from ledger_xl.report import pct

    assert bar_label(MetricBar("x", 1.0, 1.1625, "超额完成")) == "116.25%（超额完成）" == pct(1.1625) + "（超额完成）"
    assert bar_label(MetricBar("x", 1.0, 0.996, "滞后")) == "99.6%（滞后）"
    assert bar_label(MetricBar("x", 1.0, 0.99996, "滞后")) == "99.99%（滞后）"
    assert bar_label(MetricBar("x", 1.0, 1.0, "已完成")) == "100%（已完成）"


def test_status_chart_labels_and_patterns_each_status():
    """A bar per status with tasks, in the report's order, each its own pattern, labelled "N项（P%）"."""
    made = charts.status_mix(*MIX, FONT, 46)
    few = charts.status_mix({"已完成": 20, "按进度": 7, "滞后": 2}, "x", FONT, 46)
    assert made is not None and few is not None and abs(few.height_mm - 46) < 0.01  # fills what page 1 leaves
    assert made.height_mm >= 46  # eight statuses: each row at least as tall as its name
    root = etree.fromstring(made.xml)
    (_, ser), = _series(root)
    counts = MIX[0]
    total = sum(counts.values())
    cats = [p.findtext("c:v", namespaces=NS) for p in ser.iterfind("c:cat//c:pt", NS)]
    assert cats == STATUSES
    assert [_fill(d.find("c:spPr", NS)) for d in ser.iterfind("c:dPt", NS)] == \
        [(PATTERNS[s], s.chart_color.lstrip("#").upper()) for s in SHOWN_ORDER]
    texts = [d.findtext("c:tx//a:t", namespaces=NS) for d in ser.iterfind("c:dLbls/c:dLbl", NS)]
    assert texts == [f"{counts[s]}项（{pct(counts[s] / total)}）" for s in STATUSES]
    nearly = charts.status_mix({"已完成": 579, "滞后": 1}, "x", FONT, 46)  # a province's 580 tasks, one late
    assert nearly is not None
    (_, ser), = _series(etree.fromstring(nearly.xml))
    assert [d.findtext("c:tx//a:t", namespaces=NS) for d in ser.iterfind("c:dLbls/c:dLbl", NS)] == \
        ["579项（99.83%）", "1项（0.17%）"]  # not 100% beside 0%, as whole percents had it
    assert charts.status_mix({s: 0 for s in STATUSES}, "x", FONT, 46) is None
    assert charts.metric_progress([], "x", FONT, ROOM_MM) is None


def _chart_docx(tmp_path: Path, bars: list[MetricBar]) -> Path:
    tmp_path.mkdir(exist_ok=True)
    w = Writer(FONT_PROFILES["gb2312"])
    w.fill_chart(w.picture_slot(), charts.metric_progress(bars, "进度最落后的30个数量指标", FONT, ROOM_MM),
                 "图1  进度最落后的30个数量指标（占总目标）")
    w.fill_chart(w.picture_slot(), charts.status_mix(*MIX, FONT, 46), "图2  重点任务进展状态分布")
    path = tmp_path / "charts.docx"
    w.doc.save(str(path))
    return path


def test_a_chart_is_a_part_of_the_document_with_its_content_type_and_relationship(tmp_path):  # type: ignore[no-untyped-def]
    """word/charts/chartN.xml, declared with the chart content type, related from the document by the chart
    relationship, shown by an inline graphic frame whose c:chart names that relationship; python-docx reads
    both as inline shapes of the page's width."""
    import docx
    from docx.shared import Mm

    path = _chart_docx(tmp_path, BARS)
    with zipfile.ZipFile(path) as z:
        types = etree.fromstring(z.read("[Content_Types].xml"))
        rels = etree.fromstring(z.read("word/_rels/document.xml.rels"))
        body = etree.fromstring(z.read("word/document.xml"))
        parts = {n: z.read(n) for n in z.namelist() if n.startswith("word/charts/")}
    assert sorted(parts) == ["word/charts/chart1.xml", "word/charts/chart2.xml"]
    declared = {o.get("PartName"): o.get("ContentType") for o in types}
    assert all(declared[f"/{n}"] == CONTENT_TYPE for n in parts)
    chart_rels = {r.get("Id"): r.get("Target") for r in rels
                  if r.get("Type") == "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"}
    used = [c.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
            for c in body.iter(f"{{{C_NS}}}chart")]
    assert sorted(chart_rels[r] for r in used) == ["charts/chart1.xml", "charts/chart2.xml"]
    assert all(etree.fromstring(x).tag == f"{{{C_NS}}}chartSpace" for x in parts.values())
    ids = [d.get("id") for d in body.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
    assert len(set(ids)) == 2
    shapes = docx.Document(str(path)).inline_shapes
    assert len(shapes) == 2 and all(Mm(149) < s.width <= Mm(151) for s in shapes)


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_draws_the_charts_with_every_label_whole_inside_the_frame(tmp_path):  # type: ignore[no-untyped-def]
    """LibreOffice prints both charts: its PDF holds every category label, every bar label ("108%（已完成）")
    and every legend entry as text, each inside the chart's frame (the type area), no two overlapping; the
    page image has ink across the chart's box (the bars, hatched)."""
    from ledger_xl.testing.office import convert

    assert shutil.which("pdftotext"), "pdftotext is missing: run scripts/setup-system.sh (poppler-utils)"
    bars = BARS[:25] + EDGES
    pdf = convert(_chart_docx(tmp_path, bars), "pdf", tmp_path)
    html = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in
             re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', html)]
    lines: dict[float, list[tuple[float, str]]] = {}
    for x0, y0, _, _, t in words:
        lines.setdefault(round(y0), []).append((x0, t))
    joined = "\n".join("".join(t for _, t in sorted(ws)) for _, ws in sorted(lines.items()))
    for b in bars:
        assert b.label in joined, b.label
        assert bar_label(b) in joined.replace(" ", ""), bar_label(b)
    for name in [PLAN_SERIES, *{b.status for b in bars}]:
        assert name in joined
    left, right = (28 + 3) / 25.4 * 72 - 1, (28 + 3 + 150) / 25.4 * 72 + 1  # the frame, centred in the type area
    bottom = 841.89 - 35 / 25.4 * 72  # the type area's foot: the page number is below it
    chart_words = [w for w in words if w[3] < bottom and not w[4].startswith("图")]
    assert all(left <= x0 and x1 <= right for x0, _, x1, _, _ in chart_words)
    for i, a in enumerate(chart_words):
        for b in chart_words[i + 1:]:
            assert not (a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5), (a, b)
    assert _ink(pdf, tmp_path / "drawn", words, left, right) > 1.5 * _ink(
        convert(_chart_docx(tmp_path / "bare", [MetricBar(b.label, 0, 0, b.status) for b in bars]), "pdf", tmp_path / "bare"),
        tmp_path / "bare", words, left, right)  # the bars drawn: twice the ink of the same chart with every bar at 0


def _ink(pdf: Path, prefix: Path, words: list[tuple[float, float, float, float, str]], left: float, right: float) -> float:
    """The share of dark pixels on page 1 in the chart's box (from its first text to its last)."""
    from PIL import Image

    from ledger_xl.testing.office import pdf_to_png

    page = Image.open(pdf_to_png(pdf, prefix / "page", dpi=60, first=1, last=1)[0]).convert("L")
    scale = 60 / 72
    box = page.crop((int(left * scale), int(words[0][1] * scale), int(right * scale), int(max(w[3] for w in words) * scale)))
    return sum(box.histogram()[:200]) / (box.width * box.height)
