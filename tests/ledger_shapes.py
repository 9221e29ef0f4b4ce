"""Ledgers of the common shapes, each written both as a Word table and as an Excel sheet (its twin).

One description per shape — the lines above and below the table, header rows, data rows and merged
ranges — is written by python-docx (real gridSpan/vMerge merges, line breaks) and by openpyxl (merged
ranges, title rows above, percentages stored as 0.75 with a % format, dates stored as Excel dates), so a
test can hold the two front ends to the same reading. `scripts/make_sample_ledgers.py` writes them to
samples/ledgers/.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class X:
    """A cell typed differently in Excel: the Word text, and the value and number format Excel stores."""

    word: str
    value: object
    number_format: str = "General"


Cell = str | X


@dataclass
class Shape:
    name: str
    above: list[str]
    rows: list[list[Cell]]  # header rows first, then data rows; a merged range keeps its first cell's text
    header_rows: int = 1
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (r1, c1, r2, c2) in `rows`
    below: list[str] = field(default_factory=list)
    excel_sheets_before: list[str] = field(default_factory=list)  # other sheets an Excel workbook holds first


def _word_text(c: Cell) -> str:
    return c.word if isinstance(c, X) else c


def write_docx(shape: Shape, path: Path) -> Path:
    import docx

    d = docx.Document()
    for line in shape.above:
        d.add_paragraph(line)
    width = max(len(r) for r in shape.rows)
    t = d.add_table(rows=len(shape.rows), cols=width)
    t.style = "Table Grid"
    for r, row in enumerate(shape.rows):
        for c, v in enumerate(row):
            t.cell(r, c).text = _word_text(v)
    for r1, c1, r2, c2 in shape.merges:
        keep = t.cell(r1, c1).text
        t.cell(r1, c1).merge(t.cell(r2, c2)).text = keep
    for line in shape.below:
        d.add_paragraph(line)
    d.save(str(path))
    return path


def write_xlsx(shape: Shape, path: Path) -> Path:
    import openpyxl
    from openpyxl.styles import Alignment

    wb = openpyxl.Workbook()
    first = wb.active
    for i, name in enumerate(shape.excel_sheets_before):
        ws = first if i == 0 else wb.create_sheet(name)
        ws.title = name
        ws["A1"] = "填报说明：本工作簿第二张表为台账。"
    ws = wb.create_sheet("台账") if shape.excel_sheets_before else first
    ws.title = "台账"
    width = max(len(r) for r in shape.rows)
    r0 = 1
    for line in shape.above:
        ws.cell(r0, 1, line)
        ws.merge_cells(start_row=r0, start_column=1, end_row=r0, end_column=width)
        r0 += 1
    for r, row in enumerate(shape.rows):
        for c, v in enumerate(row):
            cell = ws.cell(r0 + r, c + 1)
            if isinstance(v, X):
                cell.value, cell.number_format = v.value, v.number_format
            else:
                cell.value = v or None
            cell.alignment = Alignment(wrap_text=True)
    for r1, c1, r2, c2 in shape.merges:
        ws.merge_cells(start_row=r0 + r1, start_column=c1 + 1, end_row=r0 + r2, end_column=c2 + 1)
    rb = r0 + len(shape.rows)
    for line in shape.below:
        ws.cell(rb, 1, line)
        ws.merge_cells(start_row=rb, start_column=1, end_row=rb, end_column=width)
        rb += 1
    wb.save(path)
    return path


# ---------------------------------------------------------------- 政府工作报告 目标任务分解表

def gov_work_report() -> Shape:
    """One year, no year columns, 牵头市领导 beside 牵头单位, targets in the text, 完成时限; notes below."""
    head = ["序号", "目标任务", "牵头市领导", "牵头单位", "责任单位", "完成时限"]
    rows: list[list[Cell]] = [
        head,
        ["1", "全市地区生产总值增长6%左右", "王强", "市发展改革委", "市统计局、各县（市、区）政府", "2025年12月底前"],
        ["2", "城镇新增就业3.5万人", "李华", "市人力资源社会保障局", "各县（市、区）政府", X("年底前", "年底前")],
        ["3", "城镇调查失业率控制在5.5%以内", "李华", "市人力资源社会保障局", "—", "全年"],
        ["4", "新建高标准农田1.2万亩", "张伟", "市农业农村局", "市财政局、自然资源和规划局", X("2025年10月", dt.date(2025, 10, 31), "yyyy\"年\"m\"月\"")],
        ["5", "农村生活垃圾收运处置体系覆盖率稳定在95%以上", "张伟", "市住房城乡建设局", "市城市管理局", "持续推进"],
        ["6", "细颗粒物（PM2.5）平均浓度下降到40微克/立方米以下", "赵敏", "市生态环境局", "市工业和信息化局、公安局",
         X("2025年12月31日", dt.datetime(2025, 12, 31), "yyyy\"年\"m\"月\"d\"日\"")],
        ["7", "国家级高新技术企业总数达到600家", "王强", "市科技局", "", "2025年底前"],
        ["8", "组织召开经济运行分析会4次/年", "王强", "市发展改革委", "市统计局", "每季度"],
        ["9", "出台《促进民营经济高质量发展若干措施》", "王强\n李华", "市发展改革委", "市工商联", "2025年6月底前"],
    ]
    return Shape("政府工作报告目标任务分解表", ["2025年政府工作报告目标任务分解表"], rows,
                 below=["注：请各牵头单位于每季度结束后10日内报送工作进展，抄送市政府督查室。"])


# ---------------------------------------------------------------- 三年行动计划 重点任务清单

def three_year_plan() -> Shape:
    """Two header rows (a 年度目标 group over 2025年/2026年/2027年), category rows merged across and 序号 二,
    具体目标, year-end and per-year figures, a threshold rising year by year (stored as 0.75 in a % cell)."""
    h1 = ["序号", "重点任务", "具体目标", "年度目标", "年度目标", "年度目标", "牵头单位", "配合单位", "备注"]
    h2 = ["序号", "重点任务", "具体目标", "2025年", "2026年", "2027年", "牵头单位", "配合单位", "备注"]
    cat1 = ["一、数字基础设施提升行动"] * 9
    pct = "0%"
    rows: list[list[Cell]] = [
        h1, h2, cat1,
        ["1", "加快5G网络建设", "到2027年，全市5G用户达到50万户", "30万户", "40万户", "50万户", "市工业和信息化局",
         "中国移动通信集团南阳市分公司、中国联通南阳市分公司、中国电信南阳市分公司", "年末数"],
        ["2", "新建5G基站", "三年新建5G基站3000个", "800个", "1000个", "1200个", "市工业和信息化局",
         "市住房城乡建设局、自然资源和规划局", ""],
        ["3", "建设算力中心", "建成城市算力中心1个", "—", "1个", "—", "市大数据局", "市发展改革委", ""],
        ["二", "产业数字化转型行动", "", "", "", "", "", "", ""],
        ["4", "壮大软件和信息技术服务业", "软件和信息技术服务业营业收入2027年达到300亿元", "200亿元", "250亿元", "300亿元",
         "市工业和信息化局", "市统计局", "当年营业收入"],
        ["5", "推进规上工业企业数字化改造", "规上工业企业数字化改造覆盖率逐年提高，2027年达到85%以上",
         X("75%", 0.75, pct), X("80%", 0.8, pct), X("85%", 0.85, pct), "市工业和信息化局", "各县（市、区）政府", ""],
        ["6", "培育省级智能工厂", "累计培育省级智能工厂（车间）30家", "10家", "20家", "30家", "市工业和信息化局", "市科技局", ""],
        ["7", "开展工业互联网平台对接", "每半年开展1次平台应用对接活动", "每半年开展1次", "每半年开展1次", "每半年开展1次",
         "市工业和信息化局", "", ""],
        ["8", "完善数字经济政策", "制定出台《数字经济促进条例实施细则》", "完成起草", "出台实施", "—", "市司法局",
         "市工业和信息化局", ""],
        ["9", "提升政务数据共享", "政务数据共享率保持在90%以上", X("90%", 0.9, pct), X("90%", 0.9, pct), X("90%", 0.9, pct),
         "市大数据局", "市直各部门", ""],
    ]
    merges = [(0, 3, 0, 5), (0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 1, 2), (0, 6, 1, 6), (0, 7, 1, 7), (0, 8, 1, 8), (2, 0, 2, 8),
              (6, 1, 6, 8)]
    return Shape("三年行动计划重点任务清单", ["南阳市数字经济发展三年行动计划（2025—2027年）重点任务清单"], rows,
                 header_rows=2, merges=merges, below=["备注：各牵头单位每半年报送一次工作进展，于每半年结束后15日内报送。"])


# ---------------------------------------------------------------- a county 附件 table

def county_annex() -> Shape:
    """附件1 above the title; 序号 一/（一） category rows; 责任单位 alone (its first unit leads); 责任人 with titles;
    group units, a newspaper, short names that would collide; no leading group mentioned."""
    head = ["序号", "工作任务", "年度目标", "责任单位", "责任人", "完成时限", "备注"]
    rows: list[list[Cell]] = [
        head,
        ["一", "民生保障", "", "", "", "", ""],
        ["1", "新建改扩建公办幼儿园", "新建改扩建公办幼儿园5所", "市教育局、各县（市、区）政府", "周明（副局长）",
         X("2025年8月31日前", dt.date(2025, 8, 31), "yyyy\"年\"m\"月\"d\"日\"前\""), ""],
        ["2", "家庭医生签约服务", "重点人群家庭医生签约服务覆盖率稳定在95%以上", "市卫生健康委", "王芳（副主任）\n刘洋（科长）", "全年", ""],
        ["3", "城乡居民养老保险扩面", "城乡居民基本养老保险参保人数达到126万人", "市人力资源社会保障局、宛城区人力资源社会保障局",
         "陈刚（副局长）", "年底前", ""],
        ["二", "城乡建设", "", "", "", "", ""],
        ["4", "农村公路提质改造", "新改建农村公路350公里", "市交通运输局、宛城区教育局、市教育局", "赵磊（副局长）", "2025年11月", ""],
        ["5", "老旧小区改造", "改造老旧小区120个", "市住房城乡建设局、各县（市、区）政府", "孙伟（副局长）", "2025年10月底前", "含二次供水"],
        ["三", "宣传与安全", "", "", "", "", ""],
        ["6", "民生实事宣传报道", "开设专栏，全年刊发报道不少于24篇", "市委宣传部、南阳日报社、南阳广播电视台", "吴静（副部长）",
         "年底前", ""],
        ["7", "安全生产检查", "开展安全生产大检查4次/年", "市应急管理局、市直各部门", "郑涛（副局长）", "每季度", ""],
        ["8", "12345热线办理", "热线工单按时办结率达到98%以上", "市政务服务和大数据管理局", "何丽（主任）", "持续推进", ""],
    ]
    return Shape("县级附件台账", ["附件1", "2025年全市重点民生实事工作台账"], rows,
                 below=["填报说明：各责任单位每月28日前报送上月进展，联系人：市政府办公室 张三 0377-63123456。"],
                 excel_sheets_before=["说明"])


# ---------------------------------------------------------------- categories merged across under a one-row header

def report_by_category() -> Shape:
    """A one-row header with a category row merged across the whole table directly under it ("一、主要预期目标"):
    a category, never a second header row (it was once joined into every header and every column lost)."""
    head = ["序号", "目标任务", "牵头市领导", "牵头单位", "配合单位", "完成时限"]
    rows: list[list[Cell]] = [
        head,
        ["一、主要预期目标"] * 6,
        ["1", "地区生产总值增长6%左右", "王强", "市发展改革委", "市统计局", "2026年底前"],
        ["2", "城镇新增就业2.5万人", "李敏", "市人力资源社会保障局", "各县（市、区）政府", "2026年12月"],
        ["3", "城镇调查失业率控制在5.5%以内", "李敏", "市人力资源社会保障局", "", "全年"],
        ["二、重点工作任务"] * 6,
        ["4", "新建改造农村公路300公里", "赵刚", "市交通运输局", "各县（市、区）政府、市财政局", "2026年10月底前"],
        ["5", "完成老旧小区改造120个", "孙丽", "市住房城乡建设局", "市财政局；市自然资源和规划局", "2026年11月底前"],
        ["6", "出台促进民营经济发展若干措施", "王强", "市发展改革委", "市工商联", "2026年6月底前"],
        ["7", "每季度召开一次重点项目推进会", "王强", "市发展改革委", "各县（市、区）政府", "每季度"],
    ]
    return Shape("分类行紧接表头的目标任务分解表", ["附件2", "2026年政府工作报告主要目标任务分解表"], rows,
                 merges=[(1, 0, 1, 5), (5, 0, 5, 5)],
                 below=["说明：各牵头单位于每季度结束后5日前报送完成情况。"])


# ---------------------------------------------------------------- targets that are bare percentages

def percent_targets() -> Shape:
    """Indicators whose target cell is only a percentage — in Excel a number formatted 0% or 0.0% (0.4 shown as
    40%) —, or 达到96%/不低于80%; which way a bare figure binds is said beside it (备注 不高于/达到) or not at all
    (a level to reach). One figure in the target and every year cell, a year left blank, a threshold rising by
    year, a named threshold in the task text, and a quantity among them."""
    h1 = ["序号", "指标名称", "具体目标", "年度目标", "年度目标", "牵头单位", "责任单位", "备注"]
    h2 = ["序号", "指标名称", "具体目标", "2025年", "2026年", "牵头单位", "责任单位", "备注"]
    rows: list[list[Cell]] = [
        h1, h2,
        ["1", "城市建成区绿地率", X("40%", 0.4, "0%"), X("40%", 0.4, "0%"), X("40%", 0.4, "0%"), "市城市管理局",
         "各县（市、区）政府", ""],
        ["2", "城镇生活污水集中处理率", "达到96%", "—", "—", "市住房城乡建设局", "", ""],
        ["3", "农村卫生厕所普及率", "不低于80%", X("78%", 0.78, "0%"), X("80%", 0.8, "0%"), "市农业农村局", "市卫生健康委", ""],
        ["4", "城镇调查失业率", "", X("5.5%", 0.055, "0.0%"), X("5.5%", 0.055, "0.0%"), "市人力资源社会保障局", "",
         "控制目标，不高于"],
        ["5", "森林覆盖率", "", X("25.5%", 0.255, "0.0%"), "—", "市林业局", "", "达到"],
        ["6", "空气质量优良天数比例稳定在80%以上", "", X("80%", 0.8, "0%"), X("80%", 0.8, "0%"), "市生态环境局", "", ""],
        ["7", "城镇新增就业", "两年新增3.5万人", "1.5万人", "2万人", "市人力资源社会保障局", "各县（市、区）政府", ""],
    ]
    merges = [(0, 3, 0, 4)] + [(0, c, 1, c) for c in (0, 1, 2, 5, 6, 7)]
    return Shape("百分数目标的指标台账", ["2025—2026年生态环境和民生指标台账"], rows, header_rows=2, merges=merges,
                 below=["各牵头单位每半年结束后10日内报送进展。"])


SHAPES = {"gov": gov_work_report, "plan": three_year_plan, "county": county_annex, "report": report_by_category,
          "percent": percent_targets}
