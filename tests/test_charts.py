"""The report's charts: what is saved is everything drawn (no label cut), found in one layout pass; a chart
drawn ahead by the chart process is the one the report gets."""

from __future__ import annotations

import io
from typing import Any

import pytest

from ledger_xl import charts
from ledger_xl.charts import MetricBar, cjk_font
from ledger_xl.status import SHOWN_ORDER

pytestmark = pytest.mark.skipif(cjk_font() is None, reason="no CJK font installed: charts are left out rather than drawn with empty boxes")

STATUSES = [str(s) for s in SHOWN_ORDER]
# 30 bars (the report's most), labels wrapped onto two lines, shares from far behind plan to past the chart's end
BARS = [MetricBar(f"C{i:02d}-{i % 7 + 1}.新增新能源城市配送营运车辆及充电设施", i / 40, (i * 7 % 19) / 10, STATUSES[i % len(STATUSES)])
        for i in range(30)]
MIX = ({s: (k * 37) % 230 + 1 for k, s in enumerate(STATUSES)}, "2025年12月重点任务进展状态", 2.2)


def _drawn(monkeypatch: pytest.MonkeyPatch, draw: Any) -> tuple[Any, Any, bytes]:
    """(the figure, the box saved of it, its PNG) of one chart as the report draws it."""
    kept = []
    real = charts._png

    def keep(fig: Any) -> bytes:
        kept.append((fig, charts.saved_box(fig)))
        return real(fig)

    monkeypatch.setattr(charts, "_png", keep)
    png = draw()
    assert png is not None and len(kept) == 1
    return *kept[0], png


@pytest.mark.parametrize("chart", ["metric_progress", "status_mix"])
def test_no_text_is_cut_off(monkeypatch, chart):  # type: ignore[no-untyped-def]
    """Every text drawn — two-line metric labels, the share and status beside each bar, title, axis label,
    legend — lies inside the saved picture, and the picture is the saved box at the chart's dpi."""
    from matplotlib.text import Text
    from PIL import Image

    draw = (lambda: charts.metric_progress(BARS, "进度最落后的30个数量指标")) if chart == "metric_progress" else (lambda: charts.status_mix(*MIX))
    fig, box, png = _drawn(monkeypatch, draw)
    fig.canvas.draw()  # everything placed on the whole figure (the legend's texts are placed when drawn)
    assert charts.saved_box(fig).bounds == box.bounds
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text() and t not in _unshown_tick_labels(fig)]
    labels = {t.get_text() for t in texts}
    if chart == "metric_progress":
        assert {charts.wrap_label(b.label) for b in BARS} <= labels and all("\n" in charts.wrap_label(b.label) for b in BARS)
        assert {f"{b.actual_share * 100:.0f}%（{b.status}）" for b in BARS} <= labels
    for t in texts:
        ext = t.get_window_extent(renderer)
        inches = [v / fig.dpi for v in (ext.x0, ext.y0, ext.x1, ext.y1)]
        assert box.x0 < inches[0] and inches[2] < box.x1 and box.y0 < inches[1] and inches[3] < box.y1, t.get_text()
    image = Image.open(io.BytesIO(png)).convert("L")
    assert abs(image.width - box.width * charts.DPI) <= 1 and abs(image.height - box.height * charts.DPI) <= 1
    edge = round(charts.PAD_IN * charts.DPI / 2)  # nothing drawn reaches into the margin: nothing runs off it
    inner = image.crop((edge, edge, image.width - edge, image.height - edge))
    assert image.getextrema() != (255, 255) and sum(image.histogram()[:255]) == sum(inner.histogram()[:255])


def _unshown_tick_labels(fig: Any) -> set[Any]:
    """Labels of ticks outside an axis's limits: matplotlib keeps them but does not draw them."""
    out = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            out |= {t.label1 for t in axis.get_major_ticks() if not lo <= t.get_loc() <= hi}
    return out


@pytest.mark.parametrize("chart", ["metric_progress", "status_mix"])
def test_one_layout_pass_saves_what_savefig_tight_saves(monkeypatch, chart):  # type: ignore[no-untyped-def]
    """The saved box is measured once instead of savefig(bbox_inches="tight")'s extra full draw: the PNG is
    the same, byte for byte."""
    draw = (lambda: charts.metric_progress(BARS, "数量指标完成进度")) if chart == "metric_progress" else (lambda: charts.status_mix(*MIX))
    fig, _, png = _drawn(monkeypatch, draw)
    tight = io.BytesIO()
    fig.savefig(tight, format="png", dpi=charts.DPI, bbox_inches="tight", pil_kwargs={"compress_level": 1})
    assert png == tight.getvalue()


@pytest.mark.parametrize("workers", ["forked", "in-process"])
def test_a_chart_drawn_ahead_is_delivered_only_when_asked_for_as_drawn(monkeypatch, workers):  # type: ignore[no-untyped-def]
    """A chart started ahead is the one result() gives when draw() asks for the same chart with the same
    arguments; asked with other arguments, it is drawn anew. In draw()'s order either way."""
    if workers == "in-process":
        monkeypatch.setenv("LEDGER_XL_WORKERS", "0")
    few = BARS[:3]
    jobs = [("status_mix", MIX), ("metric_progress", (few, "数量指标完成进度"))]
    expected = charts.render(jobs)
    drawing = charts.Rendering()
    try:
        drawing.ahead("metric_progress", (few[:2], "数量指标完成进度"))  # not asked for: never delivered
        drawing.ahead("metric_progress", (few, "数量指标完成进度"))
        drawing.draw(jobs)
        got = drawing.result()
    finally:
        drawing.close()
    assert got == expected and len(got) == 2 and all(got)


def _metric_figure(monkeypatch: pytest.MonkeyPatch, bars: list[MetricBar]) -> tuple[Any, Any]:
    """(figure, renderer) of the metrics chart as saved, everything placed."""
    fig, _, _ = _drawn(monkeypatch, lambda: charts.metric_progress(bars, "进度最落后的30个数量指标"))
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


# a bar ending just short of its plan mark, one far past the chart's end: the labels the plan mark and the
# legend used to cover
EDGES = [MetricBar("C12-12.新增新能源城市配送营运车辆", 1.0, 0.95, "滞后"), MetricBar("C01-13.充电桩", 1.0, 2.44, "已完成")]


@pytest.mark.parametrize("bars", [BARS, BARS[:25] + EDGES, BARS[:3] + EDGES, EDGES, [EDGES[1]] * 30],
                         ids=["8-statuses", "30-bars-long-last", "5-bars", "2-bars", "one-status"])
def test_the_legend_covers_no_bar_and_no_label(monkeypatch, bars):  # type: ignore[no-untyped-def]
    """Wherever the bars end and however many statuses there are, the legend lies clear of every bar, plan
    mark, bar label, tick label and the axis label (measured from what is drawn)."""
    fig, renderer = _metric_figure(monkeypatch, bars)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    drawn = [*ax.patches, *ax.lines, *ax.texts, ax.xaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels()]
    assert len(ax.patches) == len(ax.texts) == len(bars)
    for artist in drawn:
        assert not legend.overlaps(artist.get_window_extent(renderer)), getattr(artist, "get_text", str)()


@pytest.mark.parametrize("bars", [BARS, BARS[:25] + EDGES, EDGES], ids=["30-bars", "30-bars-edges", "2-bars"])
def test_every_bar_label_starts_past_its_bar_and_its_plan_mark(monkeypatch, bars):  # type: ignore[no-untyped-def]
    """A label starts right of its bar's end and of the black plan mark (its line width included), so the
    mark never runs through "95%（滞后）"."""
    fig, renderer = _metric_figure(monkeypatch, bars)
    ax = fig.axes[0]
    marks = ax.lines[:len(bars)]  # one plan mark per bar, in the bars' order; then the 100 % line
    for bar, mark, label, b in zip(ax.patches, marks, ax.texts, bars, strict=True):
        start = label.get_window_extent(renderer).x0
        mark_right = mark.get_window_extent(renderer).x1 + mark.get_linewidth() / 2 * fig.dpi / 72
        assert start > bar.get_window_extent(renderer).x1 and start > mark_right, label.get_text()
        assert label.get_text() == f"{b.actual_share * 100:.0f}%（{b.status}）"


@pytest.mark.parametrize("lines", [2, 3])
def test_a_chart_and_its_caption_fit_the_type_area(tmp_path, lines):  # type: ignore[no-untyped-def]
    """The 30-bar chart (labels of two lines, and of three) as inserted in the report, plus its one-line
    caption, is no taller than the type area of the report's page (page less margins, read from the docx), and
    no wider; with two-line labels, the y labels print at close to their drawn 8 pt."""
    import docx
    from docx.shared import Pt

    from ledger_xl.report import FONT_PROFILES, LINE_TWIPS, Writer

    bars = [MetricBar(b.label + b.label[:10] * (lines - 2), b.planned_share, b.actual_share, b.status) for b in BARS]
    png = charts.metric_progress(bars, "进度最落后的30个数量指标")
    assert png is not None and charts.wrap_label(bars[0].label).count("\n") == lines - 1
    w = Writer(FONT_PROFILES["gb2312"])
    w.fill_picture(w.picture_slot(), png, "图2  进度最落后的30个数量指标（占总目标）")
    w.doc.save(str(tmp_path / "r.docx"))
    doc = docx.Document(str(tmp_path / "r.docx"))
    sec, shape = doc.sections[0], doc.inline_shapes[0]
    assert shape.height + Pt(LINE_TWIPS / 20) <= sec.page_height - sec.top_margin - sec.bottom_margin
    assert shape.width <= sec.page_width - sec.left_margin - sec.right_margin
    drawn_width_emu = int.from_bytes(png[16:20], "big") / charts.DPI * 914400
    printed_pt = charts.METRIC_PT * shape.width / drawn_width_emu
    if lines == 2:
        assert printed_pt >= 7.5, printed_pt
