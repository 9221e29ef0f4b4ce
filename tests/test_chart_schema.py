"""The report's charts are valid Office Open XML, as Word demands (LibreOffice forgives what Word calls
"unreadable content"): every chart part validates whole against ECMA-376's transitional dml-chart.xsd, the
inline frame showing it against dml-wordprocessingDrawing.xsd, [Content_Types].xml and the relationships
against the OPC schemas; each chart part has its override and the chart relationship, and every wp:docPr
id in the document is unique. The schemas are vendored under tests/schemas/ooxml (see its README)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ledger_xl import charts
from ledger_xl.charts import C_NS, CONTENT_TYPE, MetricBar
from ledger_xl.report import FONT_PROFILES, Writer, chart_room_mm
from ledger_xl.status import SHOWN_ORDER

SCHEMAS = Path(__file__).parent / "schemas" / "ooxml"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
CHART_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
FONT = FONT_PROFILES["gb2312"]["table"]
ROOM_MM = chart_room_mm(Writer(FONT_PROFILES["gb2312"]).text_area_mm()[1])
STATUSES = [str(s) for s in SHOWN_ORDER]
LONG = "C{:02d}-{}.新增新能源城市配送营运车辆及充电设施建设和老旧车辆淘汰更新"
METRIC_CASES = {
    "few": [MetricBar("C01-1.充电桩", 0.5, 0.4, "滞后"), MetricBar("C02-1.公交车", 1.0, 1.0, "已完成")],
    "30-long": [MetricBar(LONG.format(i, i % 7 + 1), i / 40, (i * 7 % 19) / 10, STATUSES[i % len(STATUSES)])
                for i in range(30)],
    "below-0-and-over-150%": [MetricBar("C03-2.新增充电桩", 0.5, -0.2, "滞后"),
                              MetricBar("C01-13.充电桩", 1.0, 2.44, "已完成")],
    # a label wrapped to many lines: rows so tall that the gap between bars would pass the schema's 500 %
    "one-very-long-label": [MetricBar("很长的指标名称" * 25, 0.5, 0.3, "滞后")],
}


def _schema(name: str) -> Any:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


@pytest.fixture(scope="module")
def chart_xsd() -> Any:
    return _schema("dml-chart.xsd")


def _assert_valid(schema: Any, doc: Any, what: str) -> None:
    assert schema.validate(doc), f"{what}: " + "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
    if getattr(doc, "tag", None) == f"{{{C_NS}}}chartSpace":
        _assert_consistent(doc, what)


def _vals(parent: Any, path: str) -> list[int]:
    return [int(e.get("val")) for e in parent.findall(path, {"c": C_NS})]


def _assert_consistent(root: Any, what: str) -> None:
    """What the schema cannot say and Word still repairs or refuses: the series, axes, points, labels and
    legend entries each numbered once and pointing at what exists, a label position a bar chart allows."""
    axes = _vals(root, ".//c:plotArea/*/c:axId")
    for chart in root.iterfind(".//c:barChart", {"c": C_NS}):
        assert set(_vals(chart, "c:axId")) <= set(axes), what
        grouping = chart.find(f"{{{C_NS}}}grouping").get("val")
        allowed = {"ctr", "inEnd", "inBase"} | ({"outEnd"} if grouping == "clustered" else set())
        assert {p.get("val") for p in chart.iter(f"{{{C_NS}}}dLblPos")} <= allowed, what
    for axis in root.find(f".//{{{C_NS}}}plotArea"):
        if axis.find(f"{{{C_NS}}}crossAx") is not None:
            assert set(_vals(axis, "c:crossAx")) <= set(axes) - set(_vals(axis, "c:axId")), what
    series = root.findall(f".//{{{C_NS}}}ser")
    assert len(set(_vals(root, ".//c:ser/c:idx"))) == len(series), what
    for ser in series:
        for path in ("c:dPt/c:idx", "c:dLbls/c:dLbl/c:idx"):
            idx = _vals(ser, path)
            assert idx == sorted(set(idx)), (what, path)
        for cache in [*ser.iter(f"{{{C_NS}}}numCache"), *ser.iter(f"{{{C_NS}}}strCache")]:
            count = _vals(cache, "c:ptCount")[0]
            assert all(0 <= int(p.get("idx")) < count for p in cache.iterfind("c:pt", {"c": C_NS})), what
    entries = _vals(root, ".//c:legend/c:legendEntry/c:idx")
    assert entries == sorted(set(entries)) and all(i < len(series) for i in entries), what


@pytest.mark.parametrize("case", METRIC_CASES)
def test_the_metrics_chart_validates_against_dml_chart_xsd(chart_xsd, case):  # type: ignore[no-untyped-def]
    chart = charts.metric_progress(METRIC_CASES[case], "进度最落后的30个数量指标", FONT, ROOM_MM)
    assert chart is not None
    _assert_valid(chart_xsd, etree.fromstring(chart.xml), case)


@pytest.mark.parametrize("counts,height_mm", [
    ({s: (k * 37) % 230 + 1 for k, s in enumerate(STATUSES)}, 46.0),  # every status
    ({"已完成": 3}, 67.0),  # one status, as tall as page 1 lets it be
    ({"已完成": 3, "滞后": 1}, 200.0),  # rows far taller than a bar
])
def test_the_status_chart_validates_against_dml_chart_xsd(chart_xsd, counts, height_mm):  # type: ignore[no-untyped-def]
    chart = charts.status_mix(counts, "2025年下半年重点任务进展状态", FONT, height_mm)
    assert chart is not None
    _assert_valid(chart_xsd, etree.fromstring(chart.xml), f"{counts} {height_mm}")


def test_the_schema_check_fails_on_a_part_word_would_refuse(chart_xsd):  # type: ignore[no-untyped-def]
    """The check can fail: an element out of its sequence, a missing required one, a value out of range, an
    axis crossing an axis that is not there."""
    chart = charts.metric_progress(METRIC_CASES["few"], "x", FONT, ROOM_MM)
    assert chart is not None
    for breakage in ("order", "missing", "range"):
        root = etree.fromstring(chart.xml)
        ax = root.find(f".//{{{C_NS}}}catAx")
        if breakage == "order":
            ax.append(ax.find(f"{{{C_NS}}}axPos"))
        elif breakage == "missing":
            ax.remove(ax.find(f"{{{C_NS}}}crossAx"))
        else:
            root.find(f".//{{{C_NS}}}gapWidth").set("val", "501")
        assert not chart_xsd.validate(root), breakage
    root = etree.fromstring(chart.xml)  # valid to the schema, yet an axis crossing one that is not there
    root.find(f".//{{{C_NS}}}catAx/{{{C_NS}}}crossAx").set("val", "7")
    assert chart_xsd.validate(root)
    with pytest.raises(AssertionError):
        _assert_consistent(root, "crossAx")


def _check_package(path: Path, chart_xsd: Any) -> int:
    """Validate a docx's chart parts, their content types and relationships, and its inline chart frames;
    the number of charts."""
    with zipfile.ZipFile(path) as z:
        types = etree.fromstring(z.read("[Content_Types].xml"))
        rels = etree.fromstring(z.read("word/_rels/document.xml.rels"))
        body = etree.fromstring(z.read("word/document.xml"))
        parts = {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.startswith("word/charts/")}
    _assert_valid(_schema("opc-contentTypes.xsd"), types, "[Content_Types].xml")
    _assert_valid(_schema("opc-relationships.xsd"), rels, "document.xml.rels")
    for name, part in parts.items():
        _assert_valid(chart_xsd, part, name)
    overrides = {o.get("PartName"): o.get("ContentType") for o in types if o.tag.endswith("Override")}
    assert {n: overrides.get(f"/{n}") for n in parts} == {n: CONTENT_TYPE for n in parts}
    targets = {r.get("Id"): r.get("Target") for r in rels if r.get("Type") == CHART_REL}
    inline_xsd = _schema("wordprocessingDrawing-with-xml.xsd")
    frames = [i for i in body.iter(f"{WP}inline") if i.find(f".//{{{C_NS}}}chart") is not None]
    for inline in frames:
        _assert_valid(inline_xsd, etree.ElementTree(inline), "wp:inline")
        assert inline.find(f"{WP}cNvGraphicFramePr") is not None  # what Word writes before a:graphic
        assert inline.find(f"{A}graphic/{A}graphicData").get("uri") == C_NS
        rid = inline.find(f".//{{{C_NS}}}chart").get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
        assert f"word/{targets[rid]}" in parts
    ids = [d.get("id") for d in body.iter(f"{WP}docPr")]
    assert all(i and i.isdigit() and int(i) > 0 for i in ids) and len(set(ids)) == len(ids), ids
    assert len(frames) == len(parts) == len(targets)
    return len(parts)


def test_a_document_of_charts_is_a_valid_package(tmp_path, chart_xsd):  # type: ignore[no-untyped-def]
    w = Writer(FONT_PROFILES["gb2312"])
    for k, bars in enumerate(METRIC_CASES.values()):
        w.fill_chart(w.picture_slot(), charts.metric_progress(bars, "数量指标完成进度", FONT, ROOM_MM), f"图{k + 1}")
    w.fill_chart(w.picture_slot(), charts.status_mix({"已完成": 3, "滞后": 1}, "x", FONT, 46), "图5")
    path = tmp_path / "charts.docx"
    w.doc.save(str(path))
    assert _check_package(path, chart_xsd) == 5


def test_the_period_reports_charts_are_valid(programme, tmp_path, chart_xsd):  # type: ignore[no-untyped-def]
    """The report itself, as the clerk gets it: its two charts and the frames showing them."""
    from ledger_xl.pipeline import make_report

    ws, _, _ = programme
    path, _ = make_report(ws, "2024H2", tmp_path / "report.docx", date=dt.date(2025, 1, 10))
    assert _check_package(path, chart_xsd) == 2


def test_a_letterhead_with_a_picture_keeps_every_drawing_id_unique(programme, tmp_path, chart_xsd):  # type: ignore[no-untyped-def]
    """The letterhead is put on top after the charts: its emblem arrives with its own wp:docPr id 1, the
    same as the first chart's, and must not keep it (Word reports a duplicate id as unreadable content)."""
    import docx
    from docx.shared import Mm
    from PIL import Image

    from ledger_xl.pipeline import make_report
    from ledger_xl.testing.letterhead import make_letterhead

    ws, _, _ = programme
    emblem = tmp_path / "emblem.png"
    Image.new("RGB", (40, 40), (230, 0, 0)).save(emblem)
    head = docx.Document(str(make_letterhead(tmp_path / "head.docx", "领导小组办公室")))
    head.add_picture(str(emblem), width=Mm(15))
    head.save(str(ws / "版头_图.docx"))
    assert [d.get("id") for d in head.element.body.iter(f"{WP}docPr")] == ["1"]
    cfg = ws / "ledger-xl.toml"
    original = cfg.read_text(encoding="utf-8")
    cfg.write_text(original.replace('letterhead = ""', 'letterhead = "版头_图.docx"'), encoding="utf-8")
    try:
        path, _ = make_report(ws, "2024H2", tmp_path / "report.docx", date=dt.date(2025, 1, 10))
    finally:
        cfg.write_text(original, encoding="utf-8")
    with zipfile.ZipFile(path) as z:
        body = etree.fromstring(z.read("word/document.xml"))
    assert len(list(body.iter(f"{WP}docPr"))) == 3  # the emblem and the two charts
    assert _check_package(path, chart_xsd) == 2
