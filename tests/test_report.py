from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile

import docx
import pytest
from conftest import soffice
from docx.oxml.ns import qn
from docx.shared import Mm

from ledger_xl.model import Period, fmt_number
from ledger_xl.pipeline import make_report
from ledger_xl.store import Store

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def report(programme, tmp_path_factory):  # type: ignore[no-untyped-def]
    ws, run, ledger = programme
    out = tmp_path_factory.mktemp("report") / "2024H2_总结报告.docx"
    path, result = make_report(ws, "2024H2", out, date=dt.date(2025, 1, 10))
    return path, result, ws, run, ledger


def paragraphs(path):  # type: ignore[no-untyped-def]
    return [p.text for p in docx.Document(str(path)).paragraphs]


def test_sections_title_and_signature(report):
    path, *_ = report
    text = paragraphs(path)
    assert text[0] == "南阳市绿色货运配送示范工程创建\n2024年下半年工作进展情况报告"  # broken between its two parts
    heads = [t for t in text if t[:2] in ("一、", "二、", "三、", "四、", "五、")]
    assert heads == ["一、总体进展", "二、重点指标完成情况", "三、各单位报送情况", "四、存在的主要问题", "五、下一步工作安排"]
    assert text[-2:] == ["领导小组办公室", "2025年1月10日"]
    assert any(t.startswith("截至2024年下半年，台账共有重点任务29项，其中") for t in text)


def test_metric_tables_match_the_store(report):
    path, result, ws, run, ledger = report
    period = Period.parse("2024H2")
    with Store(ws / "ledger.sqlite") as store:
        series = store.metric_series(ledger, period)
    rows = []
    for table in docx.Document(str(path)).tables:
        head = [c.text for c in table.rows[0].cells]
        if head[:2] == ["序号", "指标"] and "累计完成" in head:
            rows += [[c.text for c in r.cells] for r in table.rows[1:]]
    tasks = {t.id: t for t in ledger.tasks}
    expected_rows = sum(len(t.metrics) for t in ledger.tasks)
    assert len(rows) == expected_rows
    seen: dict[str, int] = {}
    for tid, name, year_plan, cum_plan, cum_actual, rate, status in rows:
        i = seen.get(tid, 0)
        seen[tid] = i + 1
        m = tasks[tid].metrics[i]
        assert name == f"{m.name}（{m.unit}）"
        assert float(year_plan) == m.yearly[2024]
        assert float(cum_plan) == sum(v for y, v in m.yearly.items() if y <= 2024)
        actual = sum(x[0] for x in series.get((tid, i), {}).values())
        assert float(cum_actual) == actual, (tid, i)
        total = m.target.value if m.target else m.planned_total()
        assert rate == f"{fmt_number(round(actual / total * 100, 2))}%"  # 100%, 87.5%: as people write them
        assert status == next(t for t in result.tasks if t.id == tid).metrics[i].status


def test_indicator_table_and_submission_section(report):
    path, result, ws, run, ledger = report
    doc = docx.Document(str(path))
    ind = next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["序号", "指标", "目标", "最新值", "状态"])
    assert [r.cells[0].text for r in ind.rows[1:]] == ["12", "13", "14", "22", "26", "27", "28"]
    assert ind.rows[2].cells[2].text == "≤4:1"
    missing = run.missing["2024H2"]
    # the report is dated 2025-01-10, 2024H2's deadline (10 days after it ends): not yet overdue
    assert f"尚未报送的单位（未到截止日期）：{missing}。" in paragraphs(path)


def test_gbt9704_page_margins_fonts_and_page_numbers(report):
    path, *_ = report
    doc = docx.Document(str(path))
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [37, 35, 28, 26]
    normal = doc.styles["Normal"].element.rPr
    assert normal.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    ppr = doc.styles["Normal"].element.pPr
    assert ppr.find(qn("w:spacing")).get(qn("w:line")) == "579" and ppr.find(qn("w:spacing")).get(qn("w:lineRule")) == "exact"
    assert normal.find(qn("w:spacing")).get(qn("w:val")) == "-5"
    # every run names its East Asian font, and no theme font overrides it
    body = doc.element.body
    runs = body.iter(qn("w:r"))
    for r in runs:
        if r.find(qn("w:t")) is None:
            continue
        fonts = r.find(qn("w:rPr")).find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")), r.xml[:200]
        assert fonts.get(qn("w:eastAsiaTheme")) is None
    title_run = doc.paragraphs[0].runs[0]
    assert title_run._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体" and title_run.font.size.pt == 22
    h1 = next(p for p in doc.paragraphs if p.text == "一、总体进展")
    assert h1.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    h2 = next(p for p in doc.paragraphs if p.text.startswith("（一）"))
    assert h2.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "楷体_GB2312"
    first_body = doc.paragraphs[1]
    assert first_body._p.pPr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
    with zipfile.ZipFile(path) as z:
        styles = z.read("word/styles.xml").decode()
        settings = z.read("word/settings.xml").decode()
        footers = [z.read(n).decode() for n in z.namelist() if n.startswith("word/footer")]
    assert 'w:eastAsia="zh-CN"' in styles and "evenAndOddHeaders" in settings
    page_footers = [f for f in footers if "PAGE" in f]
    assert len(page_footers) == 2
    for f in page_footers:
        assert 'w:fldCharType="begin"' in f and 'w:fldCharType="end"' in f and "— " in f and " —" in f
        assert 'w:eastAsia="宋体"' in f and 'w:val="28"' in f  # 14 pt
    assert {'w:val="right"' in f for f in page_footers} == {True, False}
    assert sec.even_page_footer.paragraphs[0].alignment is not None


def test_tables_are_smaller_and_repeat_their_header_row(report):
    path, *_ = report
    doc = docx.Document(str(path))
    for t in doc.tables:
        assert t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        run = t.rows[1].cells[1].paragraphs[0].runs[0]
        assert run.font.size.pt == 10.5


def test_two_charts_embedded(report):
    """Both charts are Word chart parts shown inline, as wide as the type area allows, each with its caption."""
    path, *_ = report
    doc = docx.Document(str(path))
    assert len(doc.inline_shapes) == 2
    assert all(s.width <= Mm(151) for s in doc.inline_shapes)
    captions = [p.text for p in doc.paragraphs if p.text.startswith("图")]
    assert captions == ["图1  重点任务进展状态分布", "图2  数量指标累计完成情况（占总目标）"]
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        parts = [n for n in names if n.startswith("word/charts/")]
        assert sorted(parts) == ["word/charts/chart1.xml", "word/charts/chart2.xml"]
        assert not [n for n in names if n.startswith("word/media/")]  # no pictures: the charts are Word's own
        assert "重点任务进展状态" in z.read("word/charts/chart1.xml").decode("utf-8")
        assert "数量指标完成进度" in z.read("word/charts/chart2.xml").decode("utf-8")


def test_a_period_with_no_data_gives_a_sensible_report(workspace, tmp_path):
    path, result = make_report(workspace, "2023H1", tmp_path / "empty.docx", date=dt.date(2023, 7, 15))
    text = paragraphs(path)
    assert any("本期尚未收到任何单位报送的数据" in t for t in text)
    assert any(t.startswith("截止日期已过仍未报送的单位：") for t in text)
    assert all(t.status == "未报" for t in result.tasks)
    assert not docx.Document(str(path)).inline_shapes


def test_a_ledger_with_no_categories_gets_a_named_heading_not_an_empty_one(workspace, tmp_path):
    import openpyxl

    from ledger_xl.definition import S_TASKS

    definition = workspace / "ledger.xlsx"
    wb = openpyxl.load_workbook(definition)
    ws = wb[S_TASKS]
    col = [c.value for c in ws[1]].index("指标分类") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col).value = None
    wb.save(definition)
    path, _ = make_report(workspace, "2023H1", tmp_path / "r.docx", date=dt.date(2023, 7, 15))
    text = paragraphs(path)
    assert "（一）数量指标" in text and "（一）" not in text


def test_font_profile_for_plain_windows(workspace, tmp_path):
    cfg = workspace / "ledger-xl.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('font_profile = "gb2312"', 'font_profile = "windows"'), encoding="utf-8")
    path, _ = make_report(workspace, "2023H1", tmp_path / "win.docx")
    doc = docx.Document(str(path))
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    assert doc.paragraphs[0].runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "华文中宋"


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_the_report_to_pdf(report, tmp_path):
    from ledger_xl.testing.office import convert

    assert shutil.which("pdftotext"), "pdftotext is missing: run scripts/setup-system.sh (poppler-utils)"
    path, *_ = report
    pdf = convert(path, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "一、总体进展" in text and "五、下一步工作安排" in text
    assert "— 1 —" in text or "—1—" in text.replace(" ", "")
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "A4" in pages


@pytest.mark.parametrize("n, text", [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五"), (100, "一百"),
                                     (105, "一百零五"), (110, "一百一十"), (280, "二百八十"), (1001, "一千零一")])
def test_section_numbers(n, text):
    from ledger_xl.report import cn_seq

    assert cn_seq(n) == text


def test_a_long_list_of_task_numbers_is_cut_in_the_summary_sentence():
    """At province scale hundreds of tasks can move in one period: the sentence names ten, the tables all."""
    from ledger_xl.report import MAX_IDS, _ids

    assert _ids(["1", "2", "3"]) == "1、2、3"
    many = [f"C{i:02d}-5" for i in range(40)]
    cut = _ids(many)
    assert cut.endswith("等") and cut.count("、") == MAX_IDS - 1 and "C39-5" not in cut
