"""The report an office sends unchanged: its letterhead on top, 主送机关, signature and date laid out per
GB/T 9704-2012 §7.3.5.2, 22 lines of 28 characters, tables whose rows never split and whose headers never
wrap mid-word, nothing cut with "…", alike statements said once, numbers as people write them."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import soffice
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from ledger_xl.findings import LedgerError
from ledger_xl.pipeline import make_report
from ledger_xl.report import (
    CHAR_PT,
    LINE_CHARS,
    PPR_ORDER,
    RPR_ORDER,
    TABLE_CHAR_MM,
    group_alike,
    line_chars,
    pct,
    said_by,
    signature_layout,
    text_chars,
)
from ledger_xl.testing.letterhead import make_letterhead

FULL = "南阳市绿色货运配送示范工程创建工作领导小组办公室"


def letterhead(path: Path) -> Path:
    """An office's 版头 as Word makes it: the red 发文机关标志 in 方正小标宋 and a red rule under it."""
    return make_letterhead(path, FULL)


@pytest.fixture(scope="module")
def sent(programme, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The 2024H2 report with the office's settings: addressee, full issuer, letterhead."""
    ws, _, _ = programme
    letterhead(ws / "版头.docx")
    cfg = ws / "ledger-xl.toml"
    original = cfg.read_text(encoding="utf-8")
    cfg.write_text(original.replace('addressee = ""', 'addressee = "市人民政府"')
                   .replace('issuer_full = ""', f'issuer_full = "{FULL}"').replace('letterhead = ""', 'letterhead = "版头.docx"'),
                   encoding="utf-8")
    try:
        path, _ = make_report(ws, "2024H2", tmp_path_factory.mktemp("sent") / "r.docx", date=dt.date(2025, 1, 10))
    finally:
        cfg.write_text(original, encoding="utf-8")
    return path


def test_letterhead_on_top_as_supplied_then_title_and_addressee(sent):
    doc = docx.Document(str(sent))
    paras = doc.paragraphs
    assert paras[0].text == "南阳市绿色货运配送示范工程创建工作领导小组办公室文件"
    run = paras[0].runs[0]
    assert run.font.size == Pt(26) and run.font.color.rgb == RGBColor(0xE6, 0, 0)
    assert paras[1]._p.pPr.find(qn("w:pBdr")) is not None  # the red rule
    assert paras[0]._p.pPr.find(qn("w:snapToGrid")).get(qn("w:val")) == "0"  # off the report's line grid
    title = next(i for i, p in enumerate(paras) if "工作进展情况报告" in p.text)
    assert paras[title + 1].text == "市人民政府："
    ind = paras[title + 1]._p.pPr.find(qn("w:ind"))
    assert ind is None or ind.get(qn("w:firstLineChars")) in (None, "0")  # flush left
    assert doc.sections[0].left_margin.mm == pytest.approx(28, abs=0.1)  # the report's page, not the letterhead's


def test_signature_and_date_per_gbt9704_without_seal(sent):
    paras = docx.Document(str(sent)).paragraphs
    issuer, date = paras[-2], paras[-1]
    assert paras[-3].text == "" and (issuer.text, date.text) == (FULL, "2025年1月10日")
    left = [int(p._p.pPr.find(qn("w:ind")).get(qn("w:left"))) / 20 / CHAR_PT for p in (issuer, date)]  # in characters
    assert [p.alignment for p in (issuer, date)] == [0, 0]  # placed by where they start
    assert left[0] + text_chars(FULL) == pytest.approx(LINE_CHARS - 2, abs=0.01)  # 署名右空二字
    assert left[1] - left[0] == pytest.approx(2, abs=0.01)  # 成文日期首字比署名首字右移二字


@pytest.mark.parametrize("issuer, date", [(FULL, "2025年1月10日"), ("办公室", "2025年12月31日"), ("领导小组办公室", "2025年1月1日"),
                                          ("市政府办公室", "2025年10月10日")])
def test_signature_layout_rule(issuer, date):
    start_issuer, start_date = signature_layout(issuer, date)
    n, d = text_chars(issuer), line_chars(date)
    assert start_date - start_issuer == 2  # 成文日期首字比署名首字右移二字
    if d > n:
        assert start_date + d == LINE_CHARS - 2 and start_issuer + n < LINE_CHARS - 2  # the date 右空二字, the issuer left
    else:
        assert start_issuer + n == LINE_CHARS - 2 and start_date + d <= LINE_CHARS  # the issuer 右空二字


def test_22_lines_on_the_line_grid_and_28_characters_a_line(sent):
    doc = docx.Document(str(sent))
    grid = doc.sections[0]._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"
    spacing = doc.styles["Normal"].element.rPr.find(qn("w:spacing"))
    assert spacing.get(qn("w:val")) == "-5"
    width_pt = (210 - 28 - 26) / 25.4 * 72
    assert int(width_pt / (16 - 0.25)) == 28 and int((297 - 37 - 35) / 25.4 * 72 / 28.95) == 22


def test_table_rows_never_split_and_headers_fit(sent):
    doc = docx.Document(str(sent))
    assert doc.tables
    for t in doc.tables:
        for i, row in enumerate(t.rows):
            tr_pr = row._tr.trPr
            assert tr_pr is not None and tr_pr.find(qn("w:cantSplit")) is not None
            assert (tr_pr.find(qn("w:tblHeader")) is not None) == (i == 0)
        grid = [int(c.get(qn("w:w"))) / 1440 * 25.4 for c in t._tbl.tblGrid.iter(qn("w:gridCol"))]
        assert sum(grid) <= 156.5
        for head, width in zip([c.text for c in t.rows[0].cells], grid, strict=True):
            assert width >= text_chars(head) * TABLE_CHAR_MM + 3.8, (head, width)  # one line, no 累计计/划


def test_nothing_is_cut_and_numbers_read_as_people_write_them(sent):
    doc = docx.Document(str(sent))
    texts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert not [t for t in texts if "…" in t and "“" not in t]  # the report's own text is never cut
    assert not [t for t in texts if re.search(r"\d\.0%|\.\d*0%", t)]
    assert pct(1) == "100%" and pct(0.875) == "87.5%" and pct(0.0871) == "8.71%" and pct(None) == "—"
    assert pct(0.99996) == "99.99%" and pct(1.00004) == "100%"  # short of the whole never reads 100%


def test_properties_are_in_schema_order(sent):
    """Word refuses a document whose pPr/rPr children are out of order."""
    with zipfile.ZipFile(sent) as z:
        xml = z.read("word/document.xml").decode("utf-8") + z.read("word/styles.xml").decode("utf-8")
    for props, order in (("pPr", PPR_ORDER), ("rPr", RPR_ORDER)):
        rank = {t.split(":")[1]: i for i, t in enumerate(order)}
        for block in re.findall(rf"<w:{props}>(.*?)</w:{props}>", xml, re.S):
            tags = [t for t in re.findall(r"<w:(\w+)[ />]", block) if t in rank]
            top = [t for t in tags if t != "rPr"] if props == "pPr" else tags
            if props == "pPr" and "rPr" in tags:
                continue  # a paragraph mark's rPr nests run properties: checked as rPr
            assert top == sorted(top, key=rank.get), (props, top)


FIGURE = re.compile(r"\d(?:[\d.,:]*\d)?%?")  # 432, 2025, 12.5, 3.5:1, 108%
BREAKABLE = "[ \t\u1680\u2000-\u200b\u205f\u3000]"  # spaces a renderer may break a line at (not U+00A0, U+202F)


def _paragraphs(doc):  # type: ignore[no-untyped-def]
    """Every paragraph of the body and of its tables."""
    yield from doc.paragraphs
    for t in doc.tables:
        for row in t.rows:
            for cell in row.cells:
                yield from cell.paragraphs


def _latin_language(doc, p, r) -> str:  # type: ignore[no-untyped-def]
    """The language Word and LibreOffice apply to a run's digits and Latin letters (w:lang w:val): the run's,
    else its paragraph style's (and what that is based on), else the document default's."""
    default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    chain, style = [], p.style
    while style is not None:
        chain.append(style.element.rPr)
        style = style.base_style
    for rpr in (r._r.rPr, *chain, default):
        lang = rpr.find(qn("w:lang")) if rpr is not None else None
        if lang is not None and lang.get(qn("w:val")):
            return lang.get(qn("w:val"))
    return ""


def test_no_figure_can_break_across_lines(sent):
    """A figure with its unit stays on one line. LibreOffice printed "累计4|32辆": it breaks text tagged with a
    CJK language anywhere, digits included, so digits must be tagged with a Latin language; and no figure may
    hold or touch a breakable space, or be cut into runs."""
    doc = docx.Document(str(sent))
    figures = 0
    for p in _paragraphs(doc):
        text = p.text
        assert not re.search(rf"\d{BREAKABLE}+[\d%]", text), text  # inside a figure
        if p.style.name != "Caption":  # "图1  …": the caption's number is set off by spaces, as is the practice
            assert not re.search(rf"\d{BREAKABLE}+[\u4e00-\u9fff]", text), text  # between a figure and its unit
        spans, at = [], 0
        for r in p.runs:
            spans.append((at, at + len(r.text)))
            at += len(r.text)
            if any(ch.isdigit() for ch in r.text):
                lang = _latin_language(doc, p, r)
                assert lang and lang.split("-")[0].lower() not in ("zh", "ja", "ko"), (lang, r.text)
        for m in FIGURE.finditer(text):
            figures += 1
            assert any(a <= m.start() and m.end() <= b for a, b in spans), (m.group(), text)
    assert figures > 50


def test_alike_statements_are_said_once_naming_every_unit():
    said = {"市交通运输局": ["用地审批周期较长", "部分企业参与积极性不高"], "市商务局": ["用地审批周期较长。"],
            "市发展改革委": ["用地审批周期较长", "项目资金到位较慢"], "市财政局": ["部分企业参与积极性不高"]}
    groups = group_alike(said)
    assert (["市交通运输局", "市商务局", "市发展改革委"], ["用地审批周期较长"]) in groups
    assert (["市交通运输局", "市财政局"], ["部分企业参与积极性不高"]) in groups
    assert (["市发展改革委"], ["项目资金到位较慢"]) in groups
    assert sum(len(items) for _, items in groups) == 3
    assert said_by(["市交通运输局", "市商务局", "市发展改革委"]) == "市交通运输局、市商务局等3个单位"
    assert said_by(["市交通运输局", "市商务局"]) == "市交通运输局、市商务局"


def test_report_groups_what_units_reported_alike(sent):
    text = [p.text for p in docx.Document(str(sent)).paragraphs]
    start, end = text.index("四、存在的主要问题"), text.index("五、下一步工作安排")
    said = [t for t in text[start:end] if "反映：" in t]
    statements = [t.split("反映：", 1)[1] for t in said]
    assert said and len(statements) == len(set(statements))
    assert any(re.match(r"^.+、.+等\d+个单位反映：", t) for t in said), said


def test_a_missing_or_unsafe_letterhead_is_refused_with_what_to_do(programme, tmp_path):
    ws, _, _ = programme
    cfg = ws / "ledger-xl.toml"
    original = cfg.read_text(encoding="utf-8")
    bad = tmp_path / "bad.docx"
    with zipfile.ZipFile(letterhead(tmp_path / "ok.docx")) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
            zout.writestr(info, data)
    try:
        for value, message in (("没有这个.docx", "找不到"), (str(bad), "DOCTYPE"), (str(tmp_path), "找不到")):
            cfg.write_text(original.replace('letterhead = ""', f'letterhead = "{value}"'), encoding="utf-8")
            with pytest.raises(LedgerError, match=message) as e:
                make_report(ws, "2024H2", tmp_path / "r.docx")
            assert "letterhead" in e.value.message and not (tmp_path / "r.docx").exists()
    finally:
        cfg.write_text(original, encoding="utf-8")


@pytest.mark.libreoffice
def test_printed_report_has_28_characters_a_line_and_a_full_first_page(sent, tmp_path):
    """LibreOffice prints it: a full body line holds 28 characters, never more."""
    from ledger_xl.testing.office import convert

    assert soffice()
    pdf = convert(sent, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = [line.replace(" ", "") for line in text.splitlines() if line.strip()]
    widths = [text_chars(line.rstrip("，。；：、”）")) for line in lines]  # LibreOffice hangs a closing mark past the edge
    assert 28 in widths and max(widths) <= 28, sorted(widths)[-5:]
    split = [(a, b) for a, b in zip(lines, lines[1:], strict=False)
             if text_chars(a) >= 27 and re.search(r"\d$", a) and re.match(r"[\d.%]", b)]
    assert not split, split  # a full line never ends inside a figure ("累计4|32辆")
