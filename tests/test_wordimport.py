from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import make_docx

from ledger_xl.findings import LedgerError
from ledger_xl.model import Indicator, Target
from ledger_xl.wordimport import import_docx

# ------------------------------------------------------------------ the seed, task by task


def test_seed__all_29_tasks_with_categories_carried_through_merges(seed_ledger):
    ledger = seed_ledger
    assert ledger.title == "南阳市绿色货运配送示范工程创建重点任务台账"
    assert ledger.years == [2023, 2024, 2025]
    assert [t.id for t in ledger.tasks] == [str(i) for i in range(1, 30)]
    cats = {t.id: t.category for t in ledger.tasks}
    assert all(cats[str(i)] == "体制机制保障" for i in range(1, 9))
    assert all(cats[str(i)] == "城市配送物流基础设施" for i in range(9, 12))
    assert all(cats[str(i)] == "城市货运配送车辆更新及配套设施建设" for i in range(12, 17))
    assert all(cats[str(i)] == "便利通行政策" for i in range(17, 22))
    assert cats["22"] == "先进配送组织模式"
    assert cats["23"] == cats["24"] == "信息化建设"
    assert cats["26"] == cats["27"] == "物流降本增效"
    assert cats["29"] == "违规主体查处"


def test_seed__two_level_task_column(seed_ledger):
    t = {t.id: t for t in seed_ledger.tasks}
    assert (t["1"].task, t["1"].item) == ("城市货运配送多部门协同机制建设", "制定工作计划")
    assert (t["4"].task, t["4"].item) == ("城市货运配送多部门协同机制建设", "编写总结报告")
    assert (t["17"].task, t["17"].item) == ("新能源物流配送车辆便利通行政策", "综合性政策")
    assert t["9"].item is None and t["9"].task.startswith("投入运营的干支衔接货运枢纽")
    assert t["26"].task == "城市货运配送成本" and t["26"].item is None


def test_seed__quantity_metrics(seed_ledger):
    t = {t.id: t for t in seed_ledger.tasks}
    m9 = t["9"].metrics
    assert len(m9) == 1 and m9[0].unit == "个" and m9[0].yearly == {2023: 0, 2024: 2, 2025: 3}
    assert m9[0].target == Target(">=", 5)
    assert t["11"].metrics[0].target == Target(">=", 80)
    assert t["12"].metrics[0].target == Target("==", 400) and t["12"].metrics[0].unit == "辆"
    assert t["12"].metrics[0].name == "新增新能源城市配送营运车辆"
    station, pile = t["13"].metrics
    assert (station.name, station.unit, station.yearly, station.target) == ("充电站", "座", {2023: 1, 2024: 2, 2025: 3}, Target("==", 6))
    assert (pile.name, pile.unit, pile.yearly, pile.target) == ("充电桩", "个", {2023: 30, 2024: 85, 2025: 85}, Target("==", 200))
    assert t["14"].metrics[0].yearly == {2023: 5, 2024: 10, 2025: 10} and t["14"].metrics[0].target is None
    assert t["23"].metrics[0].yearly == {2023: 0, 2024: 0, 2025: 1}  # "1 个" with a space
    assert t["25"].metrics[0].unit == "家" and t["25"].metrics[0].target == Target(">=", 3)
    with_metrics = sorted((x.id for x in seed_ledger.tasks if x.metrics), key=int)
    assert with_metrics == ["9", "10", "11", "12", "13", "14", "19", "23", "24", "25"]


def test_seed__indicator_thresholds(seed_ledger):
    t = {t.id: t for t in seed_ledger.tasks}

    def one(tid: str) -> Indicator:
        assert len(t[tid].indicators) == 1, tid
        return t[tid].indicators[0]

    assert (one("12").op, one("12").value, one("12").unit, one("12").baseline) == (">=", 20, "%", True)
    assert (one("13").op, one("13").value, one("13").unit) == ("<=", 4, "ratio")
    assert (one("14").op, one("14").value, one("14").unit, one("14").baseline) == (">=", 0.5, "%", False)
    assert (one("22").op, one("22").value) == (">=", 50)
    assert (one("26").value, one("26").baseline, one("26").change) == (10, True, "decrease")
    assert (one("27").value, one("27").baseline, one("27").change) == (20, True, "increase")
    assert (one("28").value, one("28").baseline, one("28").change) == (3, True, "decrease")
    assert sorted((x.id for x in seed_ledger.tasks if x.indicators), key=int) == ["12", "13", "14", "22", "26", "27", "28"]


def test_seed__frequencies_and_deliverables(seed_ledger):
    t = {t.id: t for t in seed_ledger.tasks}
    assert [(i, t[i].frequency, t[i].frequency_count) for i in "12347"] == [
        ("1", "year", 1), ("2", "half-year", 1), ("3", "year", 1), ("4", "half-year", 1), ("7", "year", 1)]
    assert sorted((x.id for x in seed_ledger.tasks if x.frequency), key=int) == ["1", "2", "3", "4", "7"]
    assert t["6"].deliverable == "城市配送企业考核管理办法"
    assert t["29"].deliverable == "《南阳市城市配送市场整治方案》"
    assert t["17"].deliverable == "综合性政策"


def test_seed__bureaus_normalised(seed_ledger):
    t = {t.id: t for t in seed_ledger.tasks}
    assert t["5"].responsible == ["市公安局", "市交通运输局"]
    assert t["25"].responsible == ["市商务局", "市邮政管理局", "市市场监管局"]
    assert t["29"].lead == ["市交通运输局", "市公安局"]
    assert t["13"].responsible == ["市自然资源和规划局", "市交通运输局", "市城市管理局", "市住房城乡建设局"]
    names = seed_ledger.bureau_names()
    assert len(names) == 14 and "市市场监管局" in names and "市场监管局" not in names
    assert seed_ledger.office == "领导小组办公室"
    assert not seed_ledger.bureau("领导小组办公室").member
    # 各成员单位 expands to every member, never the office
    expanded = seed_ledger.responsible_of(t["1"])
    assert len(expanded) == 13 and "领导小组办公室" not in expanded


# ------------------------------------------------------------------ other layouts, built here

HEAD2 = [
    ["序号", "指标分类", "重点任务", "年度工作分解", "年度工作分解", "牵头单位", "责任单位", "备注"],
    ["序号", "指标分类", "重点任务", "2026年", "2027年", "牵头单位", "责任单位", "备注"],
]


def test_layout__two_header_rows_other_years_fullwidth_and_note(tmp_path):
    rows = HEAD2 + [
        ["1", "基础设施", "建成停车场不少于５处。", "２处", "3处", "县交通局", "县公安局、财政局、市场监管局", "重点"],
        ["2", "", "新增充电桩≥100个。", "40个", "60个", "县发改委", "县交通局", "—"],
        ["3", "机制", "每季度召开\n2次调度会。", "每季度召开2次调度会。", "每季度召开2次调度会。", "县政府办", "各成员单位", ""],
    ]
    p = make_docx(tmp_path / "a.docx", rows, header_rows=2,
                  merges=[(0, 3, 0, 4), (0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 1, 2), (0, 5, 1, 5), (0, 6, 1, 6), (0, 7, 1, 7), (4, 3, 4, 4)])
    ledger = import_docx(p).ledger
    assert ledger.years == [2026, 2027]
    t1, t2, t3 = ledger.tasks
    assert t1.metrics[0].yearly == {2026: 2, 2027: 3} and t1.metrics[0].target == Target(">=", 5) and t1.metrics[0].unit == "处"
    assert t2.category == "基础设施"  # empty category cell carries the one above
    assert t2.metrics[0].target == Target(">=", 100)
    assert t1.note == "重点"
    assert t1.responsible == ["县公安局", "县财政局", "县市场监管局"]
    assert (t3.frequency, t3.frequency_count) == ("quarter", 2)
    assert t3.breakdown[2026] == t3.breakdown[2027] == "每季度召开2次调度会。"


def test_layout__single_header_row_repeated_on_each_page_and_vertical_merge(tmp_path):
    head = ["序号", "指标分类", "重点任务", "2023年", "2024年", "牵头单位", "责任单位"]
    rows = [head,
            ["1", "设施", "建设配送中心3个。", "1个", "2个", "市商务局", "市交通运输局"],
            head,  # the header repeated at a page break
            ["2", "设施", "建设驿站10个。", "5个", "5个", "市商务局", "邮政管理局"]]
    p = make_docx(tmp_path / "b.docx", rows, merges=[(1, 1, 3, 1)], repeat_header=True)
    ledger = import_docx(p).ledger
    assert [t.id for t in ledger.tasks] == ["1", "2"]
    assert ledger.tasks[1].category == "设施"
    assert ledger.tasks[1].metrics[0].target == Target("==", 10)


def test_layout__two_level_task_column_with_vertically_merged_group(tmp_path):
    rows = [["序号", "指标分类", "重点任务", "重点任务", "2024年", "2025年", "牵头单位", "责任单位"],
            ["1", "机制", "协同机制", "制定计划", "每年制定计划。", "每年制定计划。", "办公室", "各成员单位"],
            ["2", "", "", "召开会议", "每半年召开1次会议。", "每半年召开1次会议。", "办公室", "各成员单位"],
            ["3", "设施", "建设驿站不少于4个。", "", "2个", "—", "市商务局", "—"]]
    p = make_docx(tmp_path / "c.docx", rows, merges=[(0, 2, 0, 3), (1, 2, 2, 2), (1, 1, 2, 1), (3, 2, 3, 3)])
    ledger = import_docx(p).ledger
    t1, t2, t3 = ledger.tasks
    assert (t1.task, t1.item) == ("协同机制", "制定计划")
    assert (t2.task, t2.item) == ("协同机制", "召开会议")
    assert t2.frequency == "half-year"
    assert t3.item is None and t3.metrics[0].yearly == {2024: 2, 2025: 0}
    assert t3.responsible == []


def test_layout__first_table_that_is_not_a_ledger_is_skipped(tmp_path):
    rows = [["序号", "重点任务", "2024年", "牵头单位"], ["1", "建设驿站2个。", "2个", "市商务局"]]
    p = make_docx(tmp_path / "d.docx", rows, before_tables=[[["签发", "张三"], ["日期", "2024年1月1日"]]])
    assert [t.id for t in import_docx(p).ledger.tasks] == ["1"]


# ------------------------------------------------------------------ bad input


def _code(path: Path) -> str:
    with pytest.raises(LedgerError) as e:
        import_docx(path)
    assert path.name in e.value.message or "没有找到" in e.value.message
    return e.value.code


def test_bad__no_ledger_table(tmp_path):
    p = make_docx(tmp_path / "x.docx", [["姓名", "电话"], ["张三", "123"]])
    assert _code(p) == "no-ledger-table"


def test_bad__old_doc_extension(tmp_path):
    p = tmp_path / "台账.doc"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert _code(p) == "old-format"


def test_bad__encrypted_docx_is_an_ole_container(tmp_path):
    p = tmp_path / "加密.docx"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert _code(p) == "old-or-encrypted"


def test_bad__corrupt_zip(tmp_path, seed_docx):
    p = tmp_path / "坏.docx"
    p.write_bytes(seed_docx.read_bytes()[:3000])
    assert _code(p) == "corrupt"


def test_bad__zip_without_document(tmp_path):
    p = tmp_path / "空.docx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "hi")
    assert _code(p) == "not-docx"


def test_bad__doctype_in_a_part_is_refused(tmp_path, seed_docx):
    p = tmp_path / "xxe.docx"
    with zipfile.ZipFile(seed_docx) as src, zipfile.ZipFile(p, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
            dst.writestr(info, data)
    assert _code(p) == "xml-doctype"


def test_bad__text_file_named_docx(tmp_path):
    p = tmp_path / "t.docx"
    p.write_text("序号 重点任务", encoding="utf-8")
    assert _code(p) == "not-ooxml"


def test_bad__empty_file(tmp_path):
    p = tmp_path / "e.docx"
    p.write_bytes(b"")
    assert _code(p) == "empty-file"
