from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import complete_values, fields_of, soffice, uno_python

from ledger_xl.findings import Finding, Severity
from ledger_xl.layout import FieldSpec
from ledger_xl.pipeline import ingest, status
from ledger_xl.store import Store
from ledger_xl.testing.fill import fill_template
from ledger_xl.workspace import open_workspace, ws_ledger

ON_TIME = dt.datetime(2024, 7, 5, 9, 0)
LATE = dt.datetime(2024, 7, 20, 9, 0)
ON_TIME_DAY, LATE_DAY = "2024-07-05", "2024-07-20"


def fill(templates: Path, bureau: str, out_dir: Path, overrides: dict | None = None, *, name: str | None = None,  # type: ignore[type-arg]
         when: dt.datetime = ON_TIME, number: object = 1) -> Path:
    src = templates / f"{bureau}.xlsx"
    return fill_template(src, out_dir / (name or f"{bureau}_返回.xlsx"), complete_values(src, overrides, number=number), mtime=when)


def master_rows(ws_root: Path, sheet: str = "总台账") -> list[dict]:  # type: ignore[type-arg]
    wb = openpyxl.load_workbook(ws_root / "outputs" / "master_ledger.xlsx")
    ws = wb[sheet]
    header_row = 2 if sheet == "总台账" else 1
    headers = [c.value for c in ws[header_row]]
    rows = [dict(zip(headers, [c.value for c in row], strict=False)) for row in ws.iter_rows(min_row=header_row + 1)]
    for r in rows:  # 序号 is stored as a number; the tests name tasks by their text id
        if isinstance(r.get("序号"), int):
            r["序号"] = str(r["序号"])
    return rows


def test_merge__master_ledger_matches_what_was_typed_cell_for_cell(workspace, templates_2024h1):
    inbox = workspace / "inbox"
    fill(templates_2024h1, "市发展改革委", inbox, {("13", "metric", 0): "１座", ("13", "metric", 1): "1,200个"})
    fill(templates_2024h1, "市交通运输局", inbox, {("9", "metric", 0): " 2 ", ("12", "metric", 0): "60辆", ("10", "metric", 0): 3.0})
    report = ingest(workspace)
    assert [o.status for o in report.outcomes] == ["merged", "merged"], [f.render() for o in report.outcomes for f in o.findings]
    rows = {(r["序号"], r["指标"]): r for r in master_rows(workspace) if r["指标"]}
    assert rows[("13", "充电站")]["2024年实际"] == 1 and rows[("13", "充电桩")]["2024年实际"] == 1200
    assert rows[("9", "投入运营的干支衔接货运枢纽（物流园区）")]["2024年实际"] == 2
    assert rows[("10", "投入运营的公共配送中心")]["累计实际"] == 3  # 个 are whole: 3.5 would be refused
    assert rows[("12", "新增新能源城市配送营运车辆")]["2024年计划"] == 150
    assert rows[("12", "新增新能源城市配送营运车辆")]["累计实际"] == 60
    assert rows[("13", "充电桩")]["数据来源"].startswith("市发展改革委_返回.xlsx › 填报表 › I")
    assert rows[("11", "建设末端公共配送站（货物装卸点）")]["累计实际"] is None  # 市商务局 has not reported
    t13 = next(r for r in master_rows(workspace) if r["序号"] == "13")
    assert "最新 3.5:1" in t13["其他指标（最新）"]
    assert "第13项进展" in t13["牵头单位最新进展"]
    # every value kept with its provenance
    with Store(workspace / "ledger.sqlite") as store:
        vals = {(v.bureau, v.task_id, v.kind, v.idx): v for v in store.current_values()}
    assert vals[("市发展改革委", "13", "metric", 1)].num == 1200
    assert vals[("市发展改革委", "13", "ind_value", 0)].num == 3.5
    assert vals[("市交通运输局", "12", "ind_value", 0)].num == pytest.approx(18)  # 0.18 in a % cell


@pytest.mark.parametrize("typed, expected", [
    ("１２", 12), ("12个", 12), ("1,200", 1200), (" 7 ", 7), ("3 个", 3), ("0", 0), (4.0, 4), ("１２个", 12),
])
def test_normalise__quantities(workspace, templates_2024h1, typed, expected):
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", {("9", "metric", 0): typed})
    report = ingest(workspace)
    assert report.outcomes[0].status == "merged"
    with Store(workspace / "ledger.sqlite") as store:
        (v,) = [v for v in store.current_values() if v.task_id == "9" and v.kind == "metric"]
    assert v.num == expected


@pytest.mark.parametrize("task, typed, expected", [
    ("12", 0.18, 18), ("12", "18%", 18), ("12", "18", 18), ("12", "１８％", 18), ("26", 0.105, 10.5),
])
def test_normalise__percentages(workspace, templates_2024h1, task, typed, expected):
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", {(task, "ind_value", 0): typed})
    assert ingest(workspace).outcomes[0].status == "merged"
    with Store(workspace / "ledger.sqlite") as store:
        (v,) = [v for v in store.current_values() if v.task_id == task and v.kind == "ind_value"]
    assert v.num == pytest.approx(expected)


@pytest.mark.parametrize("typed, expected", [("3.5:1", 3.5), ("3.5：1", 3.5), ("４：１", 4), (3.2, 3.2)])
def test_normalise__ratios(workspace, templates_2024h1, typed, expected):
    fill(templates_2024h1, "市发展改革委", workspace / "inbox", {("13", "ind_value", 0): typed})
    assert ingest(workspace).outcomes[0].status == "merged"
    with Store(workspace / "ledger.sqlite") as store:
        (v,) = [v for v in store.current_values() if v.task_id == "13" and v.kind == "ind_value"]
    assert v.num == pytest.approx(expected)


@pytest.mark.parametrize("typed, expected", [
    ("2024-06-30", "2024-06-30"), ("2024年6月30日", "2024-06-30"), ("2024/6/3", "2024-06-03"), (dt.datetime(2024, 6, 30), "2024-06-30"),
    ("2024-6-30", "2024-06-30"), ("2024.6.30", "2024-06-30"), ("2024/6/30", "2024-06-30"), ("２０２４．６．３０", "2024-06-30"),
])
def test_normalise__dates(workspace, templates_2024h1, typed, expected):
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", {("6", "deliv_status", 0): "已完成", ("6", "deliv_date", 0): typed,
                                                            ("6", "deliv_name", 0): "考核管理办法"})
    assert ingest(workspace).outcomes[0].status == "merged"
    with Store(workspace / "ledger.sqlite") as store:
        (v,) = [v for v in store.current_values() if v.task_id == "6" and v.kind == "deliv_date"]
    assert v.text == expected


@pytest.mark.parametrize("key, typed, code, words", [
    (("9", "metric", 0), "约5个", "bad-value", "约数"),
    (("9", "metric", 0), "三", "bad-value", "阿拉伯数字"),
    (("9", "metric", 0), "-2", "bad-value", "负数"),
    (("9", "metric", 0), "已完成两个", "bad-value", "不是数字"),
    (("9", "metric", 0), "12吨", "bad-value", "不是本栏的单位（个）"),  # another unit is refused, never dropped
    (("12", "metric", 0), "200元", "bad-value", "不是本栏的单位（辆）"),
    (("9", "metric", 0), "=1+1", "formula-no-value", "公式"),
    (("9", "progress", 0), "=问题", "formula-no-value", "请去掉“=”"),  # text typed with "=": not told to write a number
    (("9", "metric", 0), None, "missing", "未填写"),
    (("7", "duty_count", 0), "1.5", "bad-value", "整数"),
    (("6", "deliv_status", 0), "差不多了", "bad-value", "可选的进展"),
    ((None, "phone", 0), "打电话找我", "bad-value", "电话号码"),
    ((None, "fill_date", 0), "七月五日", "bad-value", "日期"),
])
def test_unreadable_values_become_findings_and_the_file_is_not_merged(workspace, templates_2024h1, key, typed, code, words):
    src = templates_2024h1 / "市交通运输局.xlsx"
    values = complete_values(src)
    if typed is None or typed.startswith("="):
        values.pop(key)
    else:
        values[key] = typed
    out = fill_template(src, workspace / "inbox" / "交通.xlsx", values)
    if isinstance(typed, str) and typed.startswith("="):
        wb = openpyxl.load_workbook(out)
        cell = next(f.cell for f in fields_of(src) if (f.task_id, f.kind, f.index) == key)
        wb["填报表"][cell] = typed  # a live formula, saved without a cached value
        wb.save(out)
    report = ingest(workspace)
    (o,) = report.outcomes
    assert o.status == "refused"
    errors = [f for f in o.findings if f.severity is Severity.ERROR]
    assert len(errors) == 1 and errors[0].code == code and words in errors[0].message
    cell = next(f.cell for f in fields_of(src) if (f.task_id, f.kind, f.index) == key)
    assert (errors[0].file, errors[0].sheet, errors[0].cell) == ("交通.xlsx", "填报表", cell)
    if typed and not typed.startswith("="):
        assert errors[0].value == typed
    with Store(workspace / "ledger.sqlite") as store:
        assert store.current_values() == []  # nothing half-merged


@pytest.mark.parametrize("typed, expected", [("2万辆", 20000), ("1.2万", 12000), ("300辆", 300), ("3个", 3)])
def test_a_count_typed_in_wan_is_read_in_the_fields_unit_and_said(workspace, templates_2024h1, typed, expected):
    """"2万辆" where vehicles are counted is 20000 of them (it was read as 2), with a 提示 at its cell saying so;
    the field's own unit, or 个 for a count of things, is simply read."""
    src = templates_2024h1 / "市交通运输局.xlsx"
    key = ("12", "metric", 0)
    (spec,) = [f for f in fields_of(src) if (f.task_id, f.kind, f.index) == key]
    assert spec.unit == "辆"
    values = complete_values(src)
    values[key] = typed
    fill_template(src, workspace / "inbox" / "交通.xlsx", values)
    (o,) = ingest(workspace).outcomes
    assert o.status == "merged"
    said = [f for f in o.findings if f.code == "unit-converted"]
    if "万" in typed:
        assert [(f.cell, f.severity) for f in said] == [(spec.cell, Severity.WARNING)]
        assert f"折算为 {expected}" in said[0].message and typed in said[0].message
    else:
        assert said == []
    with Store(workspace / "ledger.sqlite") as store:
        (v,) = [v for v in store.current_values() if (v.task_id, v.kind, v.idx) == key]
    assert v.num == expected


def _bad_files(tmp: Path, templates: Path) -> dict[str, tuple[Path, str, str]]:
    """name → (file, expected code, words in the message)."""
    src = templates / "市财政局.xlsx"
    out: dict[str, tuple[Path, str, str]] = {}
    p = tmp / "旧格式.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000)
    out["xls"] = (p, "old-format", "另存为” .xlsx")
    p = tmp / "金山.et"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\1" * 2000)
    out["et"] = (p, "old-format", "另存为” .xlsx")
    p = tmp / "导出.csv"
    p.write_text("序号,本期新增\n9,2\n", encoding="utf-8")
    out["csv"] = (p, "csv-or-text", "CSV")
    p = tmp / "另存为Unicode文本.xlsx"  # Excel's "Unicode text": UTF-16 with its byte-order mark
    p.write_bytes("序号\t本期新增\r\n9\t2\r\n".encode("utf-16"))
    out["utf16"] = (p, "csv-or-text", "CSV")
    p = tmp / "乱码.xlsx"  # binary that is no zip, no old workbook, no text: not told it is a CSV file
    p.write_bytes(bytes(range(256)) * 8)
    out["binary"] = (p, "corrupt", "既不是 .xlsx 工作簿，也不是 CSV/文本")
    p = tmp / "网页.xls"
    p.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    out["html"] = (p, "html-as-xls", "网页格式")
    from msoffcrypto.format.ooxml import OOXMLFile

    p = tmp / "加密.xlsx"
    with open(src, "rb") as fh, open(p, "wb") as o:
        OOXMLFile(fh).encrypt("secret", o)
    out["encrypted"] = (p, "encrypted", "取消密码")
    p = tmp / "损坏.xlsx"
    p.write_bytes(src.read_bytes()[:2500])
    out["corrupt"] = (p, "corrupt", "损坏")
    p = tmp / "空.xlsx"
    p.write_bytes(b"")
    out["empty"] = (p, "empty-file", "空的")
    p = tmp / "新建.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 5
    wb.save(p)
    out["not-template"] = (p, "not-template", "不是本系统下发的填报模板")
    return out


def test_refusals__each_bad_file_named_with_what_to_do(workspace, templates_2024h1, tmp_path):
    bad = _bad_files(tmp_path, templates_2024h1)
    good = fill(templates_2024h1, "市商务局", tmp_path)
    report = ingest(workspace, [p for p, _, _ in bad.values()] + [good])
    by_name = {o.path.name: o for o in report.outcomes}
    assert by_name[good.name].status == "merged"  # the other files go on
    for kind, (p, code, words) in bad.items():
        o = by_name[p.name]
        assert o.status == "refused", kind
        assert [f.code for f in o.findings] == [code], kind
        assert words in o.findings[0].message and o.findings[0].file == p.name, kind
    # every original kept, under its SHA-256
    archived = {q.stem for q in (workspace / "archive").iterdir() if not q.name.startswith(".")}  # .arrivals.jsonl: names and times
    from ledger_xl.ingest import sha256_of

    assert {sha256_of(p) for p, _, _ in bad.values()} | {sha256_of(good)} == archived


def test_refusal__template_of_another_ledger_or_of_this_ledger_from_another_workspace(workspace, tmp_path, seed_definition):
    """Another ledger's template, and this ledger's signed by another workspace (init run again on a new PC),
    are told apart: the second says to restore the workspace from its backup."""
    from ledger_xl.definition import load_ledger, save_definition
    from ledger_xl.pipeline import make_templates
    from ledger_xl.workspace import init_workspace

    renamed = load_ledger(seed_definition)
    renamed.title = "别的重点任务台账"
    save_definition(renamed, tmp_path / "renamed.xlsx")
    for name, definition, code in (("other", tmp_path / "renamed.xlsx", "other-ledger"), ("again", seed_definition, "other-workspace")):
        init_workspace(tmp_path / name, definition)
        make_templates(tmp_path / name, "2024H1", bureaus=["市商务局"])
        f = fill(tmp_path / name / "outputs" / "templates" / "2024H1", "市商务局", tmp_path, name=f"{name}.xlsx")
        (o,) = ingest(workspace, [f]).outcomes
        assert o.status == "refused" and o.findings[0].code == code, (name, o.findings)
    assert "ledger-xl restore" in o.findings[0].message and "另一个工作目录" in o.findings[0].message


def test_refusal__tampered_task_text_and_moved_rows(workspace, templates_2024h1, tmp_path):
    f = fill(templates_2024h1, "市商务局", tmp_path, name="改了任务.xlsx")
    wb = openpyxl.load_workbook(f)
    wb["填报表"]["D4"] = "我改了任务文字"
    wb.save(f)
    g = fill(templates_2024h1, "市商务局", tmp_path, name="删了行.xlsx", number=2)
    wb = openpyxl.load_workbook(g)
    wb["填报表"].delete_rows(5, 1)
    wb.save(g)
    h = fill(templates_2024h1, "市商务局", tmp_path, name="改了隐藏页.xlsx", number=3)
    wb = openpyxl.load_workbook(h)
    meta_sheet = wb["_ledger_xl"]
    meta_sheet["B3"] = "市财政局"
    data_row = next(r for r in range(1, meta_sheet.max_row + 1) if meta_sheet.cell(r, 1).value == "data0")
    data = meta_sheet.cell(data_row, 2).value
    assert '"bureau":"市商务局"' in data
    meta_sheet.cell(data_row, 2).value = data.replace('"bureau":"市商务局"', '"bureau":"市财政局"')
    wb.save(h)
    outcomes = {o.path.name: o for o in ingest(workspace, [f, g, h]).outcomes}
    o = outcomes["改了任务.xlsx"]
    assert o.status == "refused" and o.findings[0].code == "tampered" and o.findings[0].cell == "D4"
    assert "我改了任务文字" in o.findings[0].message
    assert outcomes["删了行.xlsx"].findings[0].code == "tampered"
    assert outcomes["改了隐藏页.xlsx"].findings[0].code == "meta-tampered"


def test_same_file_twice_changes_nothing(workspace, templates_2024h1):
    fill(templates_2024h1, "市商务局", workspace / "inbox")
    ingest(workspace)
    db = workspace / "ledger.sqlite"
    with Store(db) as store:
        before = (store.submissions(), store.current_values())
    report = ingest(workspace)
    assert [o.status for o in report.outcomes] == ["duplicate"]
    with Store(db) as store:
        assert (store.submissions(), store.current_values()) == before


def test_later_file_supersedes_earlier_which_stays_in_history(workspace, templates_2024h1, tmp_path):
    first = fill(templates_2024h1, "市商务局", tmp_path, {("11", "metric", 0): 5}, name="v1.xlsx", when=ON_TIME)
    ingest(workspace, [first])
    second = fill(templates_2024h1, "市商务局", tmp_path, {("11", "metric", 0): 7}, name="v2.xlsx", when=LATE)
    (o,) = ingest(workspace, [second]).outcomes
    assert o.status == "merged" and o.superseded
    rows = {(r["序号"]): r for r in master_rows(workspace) if r["指标"]}
    assert rows["11"]["累计实际"] == 7
    history = master_rows(workspace, "提交记录")
    assert [(r["文件名"], r["结果"]) for r in history] == [("v1.xlsx", "已被新文件取代"), ("v2.xlsx", "已汇入")]
    # on time by its first accepted return: the correction after the deadline does not make it late
    st = {b.name: b for b in status(workspace, "2024H1").bureaus}
    assert st["市商务局"].state == "按时" and st["市商务局"].file_name == "v2.xlsx"
    assert st["市商务局"].received_at.startswith(ON_TIME_DAY) and st["市商务局"].corrected_at.startswith(LATE_DAY)
    assert [r["收到时间"][:10] for r in history] == [ON_TIME_DAY, LATE_DAY]
    (row,) = [r for r in master_rows(workspace, "报送情况") if "市商务局" in r.values()]
    assert "按时｜v2.xlsx" in row.values()


def test_status_json_and_submission_sheet(workspace, templates_2024h1):
    from click.testing import CliRunner

    from ledger_xl.cli import cli

    fill(templates_2024h1, "市商务局", workspace / "inbox", when=ON_TIME)
    fill(templates_2024h1, "市财政局", workspace / "inbox", when=LATE)
    src = templates_2024h1 / "市公安局.xlsx"
    values = complete_values(src)
    values.pop(next(k for k in values if k[1] == "deliv_status"))
    fill_template(src, workspace / "inbox" / "公安.xlsx", values)
    r = CliRunner().invoke(cli, ["ingest", "-w", str(workspace)])
    assert r.exit_code == 1 and "[拒收] 公安.xlsx" in r.output
    r = CliRunner().invoke(cli, ["status", "-w", str(workspace), "--period", "2024H1", "--json"])
    assert r.exit_code == 0
    data = {b["name"]: b for b in json.loads(r.stdout)["bureaus"]}
    assert (data["市商务局"]["state"], data["市商务局"]["submitted"], data["市商务局"]["late"]) == ("按时", True, False)
    assert (data["市财政局"]["state"], data["市财政局"]["late"]) == ("逾期", True)
    # refused is not missing: 被退回 with its count of problems; nothing received after the deadline is 未报（已过截止）
    assert (data["市公安局"]["state"], data["市公安局"]["submitted"], data["市公安局"]["findings"]) == ("被退回", False, 1)
    assert data["市公安局"]["label"] == "被退回（1处问题，已过截止）"
    assert data["市邮政管理局"]["state"] == "未报（已过截止）" and len(data) == 14
    sheet = {r["单位"]: r for r in master_rows(workspace, "报送情况")}
    assert sheet["市商务局"]["2024年上半年"].startswith("按时｜") and sheet["市财政局"]["2024年上半年"].startswith("逾期｜")
    assert sheet["市公安局"]["2024年上半年"] == "被退回（1处问题，已过截止）｜公安.xlsx"
    assert sheet["市邮政管理局"]["2024年上半年"] == "未报（已过截止）"
    problems = master_rows(workspace, "问题清单")
    assert any(p["文件"] == "公安.xlsx" and p["级别"] == "错误" for p in problems)
    # the master ledger and the report judge status from submissions they fetched once: the same judgement
    from ledger_xl.model import DeadlineRule, Period
    from ledger_xl.reporting import period_status

    ledger, period = ws_ledger(open_workspace(workspace)), Period.parse("2024H1")
    with Store(workspace / "ledger.sqlite") as store:
        asked, given = (period_status(ledger, store, period, DeadlineRule(), subs=subs) for subs in (None, store.submissions()))
    assert [vars(b) for b in asked.bureaus] == [vars(b) for b in given.bureaus]


def test_bureau_text_is_never_a_formula_in_the_master_ledger(workspace, templates_2024h1):
    fill(templates_2024h1, "市商务局", workspace / "inbox", {("11", "progress", 0): "=HYPERLINK(\"http://x\",\"点我\")",
                                                           ("11", "problems", 0): "@SUM(A1)", ("11", "plan", 0): "=cmd|' /C calc'!A0"})
    assert ingest(workspace).outcomes[0].status == "merged"
    with zipfile.ZipFile(workspace / "outputs" / "master_ledger.xlsx") as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name), name
    row = next(r for r in master_rows(workspace) if r["序号"] == "11")
    assert row["牵头单位最新进展"].endswith('=HYPERLINK("http://x","点我")')


def test_master_ledger_that_cannot_be_replaced_loses_nothing(workspace, templates_2024h1, monkeypatch):
    real_replace = os.replace

    def busy(src, dst):  # type: ignore[no-untyped-def]
        if str(dst).endswith("master_ledger.xlsx"):
            raise PermissionError(13, "in use")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", busy)
    fill(templates_2024h1, "市商务局", workspace / "inbox")
    report = ingest(workspace)
    assert report.outcomes[0].status == "merged" and report.master_ledger is None
    assert "正在 Excel/WPS 中打开" in report.master_note
    with Store(workspace / "ledger.sqlite") as store:
        assert len(store.current_values()) > 0
    assert not [p for p in (workspace / "outputs").iterdir() if p.name.endswith(".tmp")]
    # closed in Excel, the next ingest writes it, even with nothing new to merge (the message says so)
    monkeypatch.setattr(os, "replace", real_replace)
    again = ingest(workspace)
    assert [o.status for o in again.outcomes] == ["duplicate"] and again.master_ledger is not None
    assert any(r["单位"] == "市商务局" and r["2024年上半年"].startswith("按时") for r in master_rows(workspace, "报送情况"))


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from ledger_xl import store as store_mod
    from ledger_xl.pipeline import ingest
    real = store_mod.Store.add_submission
    calls = [0]
    def add(self, **kw):
        calls[0] += 1
        if calls[0] == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, **kw)
    store_mod.Store.add_submission = add
    ingest(sys.argv[1])
""")


def test_ingest_killed_at_its_3rd_store_write_1_kill_leaves_the_store_unchanged_and_rerun_finishes(workspace, templates_2024h1):
    for b in ("市商务局", "市财政局", "市公安局"):
        fill(templates_2024h1, b, workspace / "inbox")
    db = workspace / "ledger.sqlite"
    with Store(db) as store:
        before = store.submissions()
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(workspace), "3"], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    from ledger_xl.workspace import open_workspace, workspace_lock

    with workspace_lock(open_workspace(workspace), wait=5):  # the reading workers died with ingest: the lock is free
        pass
    with Store(db) as store:
        assert store.submissions() == before and store.current_values() == []
    for p in (workspace / "archive").iterdir():  # what was archived is whole
        from ledger_xl.ingest import sha256_of

        assert sha256_of(p) == p.stem
    report = ingest(workspace)
    assert sorted(o.status for o in report.outcomes) == ["merged"] * 3


def test_two_ingests_at_once_lose_nothing(workspace, templates_2024h1, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for bureau in ("市商务局", "市财政局", "市公安局"):
        fill(templates_2024h1, bureau, a)
    for bureau in ("市邮政管理局", "市交通运输局", "市发展改革委"):
        fill(templates_2024h1, bureau, b)
    cmd = [sys.executable, "-m", "ledger_xl.cli", "ingest", "-w", str(workspace)]
    procs = [subprocess.Popen(cmd + [str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for d in (a, b)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with Store(workspace / "ledger.sqlite") as store:
        assert len(store.current_submissions()) == 6
    sheet = {r["单位"]: r["2024年上半年"] for r in master_rows(workspace, "报送情况")}
    assert sum(1 for v in sheet.values() if v.startswith("按时")) == 6


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None or uno_python() is None,
                    reason="LibreOffice with its Python bridge (uno; Debian: python3-uno) is not installed")
def test_filled_and_saved_by_libreoffice_gives_exactly_the_typed_values(workspace, templates_2024h1, tmp_path):
    src = templates_2024h1 / "市发展改革委.xlsx"
    typed = {("13", "metric", 0): 2, ("13", "metric", 1): "１２", ("13", "ind_value", 0): "3.5:1",
             ("20", "deliv_status", 0): "已完成", ("20", "deliv_date", 0): "2024-06-30", ("20", "deliv_name", 0): "停车优惠政策",
             ("20", "deliv_no", 0): "宛发改〔2024〕12号", ("13", "progress", 0): "=HYPERLINK(\"x\")",
             (None, "phone", 0): "13800000000", (None, "filler", 0): "王五", (None, "fill_date", 0): "2024-07-05"}
    by_key = {(f.task_id, f.kind, f.index): f.name for f in fields_of(src)}
    values = {by_key[k]: v for k, v in complete_values(src, typed).items()}
    vj = tmp_path / "v.json"
    vj.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
    out = workspace / "inbox" / "发改委_LibreOffice.xlsx"
    lo_fill = Path(__file__).resolve().parents[1] / "src" / "ledger_xl" / "testing" / "lo_fill.py"
    subprocess.run([uno_python(), str(lo_fill), str(src), str(out), str(vj)], check=True, timeout=180,
                   env={**os.environ, "SOFFICE": soffice()})
    (o,) = ingest(workspace).outcomes
    assert o.status == "merged", [f.render() for f in o.findings]
    with Store(workspace / "ledger.sqlite") as store:
        got = {(v.task_id, v.kind, v.idx): (v.num if v.num is not None else v.text) for v in store.current_values()}
    assert got[("13", "metric", 0)] == 2 and got[("13", "metric", 1)] == 12 and got[("13", "ind_value", 0)] == 3.5
    assert got[("20", "deliv_status", 0)] == "已完成" and got[("20", "deliv_date", 0)] == "2024-06-30"
    assert got[("20", "deliv_no", 0)] == "宛发改〔2024〕12号" and got[("13", "progress", 0)] == "=HYPERLINK(\"x\")"
    assert got[(None, "phone", 0)] == "13800000000" and got[(None, "fill_date", 0)] == "2024-07-05"
    expected_text = {k: v for k, v in complete_values(src, typed).items() if k[1] in ("progress", "plan", "problems", "evidence")}
    for k, v in expected_text.items():
        assert got[(k[0], k[1], k[2])] == v


def _lo_filled(src: Path, typed: dict, out: Path, tmp_path: Path) -> Path:  # type: ignore[type-arg]
    """The template filled through LibreOffice (UNO setFormula: parsed as typed input), saved as .xlsx."""
    by_key = {(f.task_id, f.kind, f.index): f.name for f in fields_of(src)}
    vj = tmp_path / f"{out.stem}.json"
    vj.write_text(json.dumps({by_key[k]: v for k, v in complete_values(src, typed).items()}, ensure_ascii=False), encoding="utf-8")
    lo_fill = Path(__file__).resolve().parents[1] / "src" / "ledger_xl" / "testing" / "lo_fill.py"
    subprocess.run([uno_python(), str(lo_fill), str(src), str(out), str(vj)], check=True, timeout=180,
                   env={**os.environ, "SOFFICE": soffice()})
    return out


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None or uno_python() is None,
                    reason="LibreOffice with its Python bridge (uno; Debian: python3-uno) is not installed")
def test_a_ratio_typed_3_1_in_libreoffice_is_read_as_3_and_a_time_in_a_number_field_is_refused(workspace, templates_2024h1,
                                                                                            tmp_path):
    """LibreOffice stores "3:1" typed into a cell as the time 3:01 (0.125694…, the cell keeps its format):
    a ratio field reads it as the ratio 3:1 and says so; a percentage or number field refuses it."""
    inbox = workspace / "inbox"
    _lo_filled(templates_2024h1 / "市发展改革委.xlsx", {("13", "ind_value", 0): "3:1"}, inbox / "发改委.xlsx", tmp_path)
    _lo_filled(templates_2024h1 / "市交通运输局.xlsx", {("12", "ind_value", 0): "3:1", ("12", "ind_current", 0): "12:30"},
               inbox / "交通局.xlsx", tmp_path)
    got = {o.path.name: o for o in ingest(workspace).outcomes}
    ndrc, transport = got["发改委.xlsx"], got["交通局.xlsx"]
    assert ndrc.status == "merged", [f.render() for f in ndrc.findings]
    (note,) = [f for f in ndrc.findings if f.code == "time-as-ratio"]
    assert note.severity is Severity.WARNING and note.cell == "I14" and "3:01" in note.message and "比值 3:1" in note.message
    with Store(workspace / "ledger.sqlite") as store:
        (v,) = [v for v in store.current_values() if v.task_id == "13" and v.kind == "ind_value"]
    assert v.num == 3
    assert transport.status == "refused"
    refused = {f.cell: f for f in transport.findings if f.code == "time-value"}
    assert len(refused) == 2 and all(f.severity is Severity.ERROR for f in refused.values())
    pct, num = sorted(refused.values(), key=lambda f: "百分数" not in f.message)
    assert "3:01" in pct.message and "18%" in pct.message and "交通局.xlsx" in pct.render() and "填报表" in pct.render()
    assert "12:30" in num.message and "不能当作数字" in num.message


def test_a_time_cell_written_by_a_program_is_a_ratio_in_a_ratio_field_and_refused_elsewhere(workspace, templates_2024h1):
    """openpyxl writes a time as a number formatted h:mm:ss (Excel does so for 3:1 typed in a General cell);
    a number LibreOffice stored for a typed time carries no time format and is recognised by its value."""
    inbox = workspace / "inbox"
    fill(templates_2024h1, "市发展改革委", inbox, {("13", "ind_value", 0): dt.time(10, 3)})
    fill(templates_2024h1, "市交通运输局", inbox, {("12", "ind_value", 0): dt.time(3, 1),
                                                 ("14", "ind_value", 0): dt.timedelta(hours=25, minutes=1),
                                                 ("9", "metric", 0): 0.125694444444444, ("10", "metric", 0): 0.125})
    got = {o.bureau: o for o in ingest(workspace).outcomes}
    ndrc, transport = got["市发展改革委"], got["市交通运输局"]
    assert ndrc.status == "merged" and [f.code for f in ndrc.findings if f.code.startswith("time")] == ["time-as-ratio"]
    with Store(workspace / "ledger.sqlite") as store:
        (v,) = [v for v in store.current_values() if v.task_id == "13" and v.kind == "ind_value"]
    assert v.num == pytest.approx(10 / 3)
    assert transport.status == "refused"
    by_cell = {f.cell: f for f in transport.findings}
    times = sorted(f.message for f in transport.findings if f.code == "time-value")
    assert len(times) == 3 and any("25:01" in m for m in times) and any("3:01" in m for m in times)
    assert by_cell[next(c for c, f in by_cell.items() if "第 10 项" in f.message)].code == "bad-value"  # 0.125 is no time


@pytest.mark.parametrize("umask, mode", [(0o022, 0o640), (0o077, 0o600)])
def test_originals_store_and_key_are_not_readable_by_other_accounts(tmp_path, seed_definition, umask, mode):
    """archive/ copies, archive/.arrivals.jsonl and the store (with its -wal/-shm) are made 0640 — owner and the
    office's group —, less when the umask says so; the signing key is 0600."""
    import stat

    from ledger_xl.pipeline import make_templates
    from ledger_xl.workspace import init_workspace

    old = os.umask(umask)
    try:
        ws = tmp_path / "ws"
        init_workspace(ws, seed_definition)
        make_templates(ws, "2024H1")
        fill(ws / "outputs" / "templates" / "2024H1", "市商务局", ws / "inbox")
        (o,) = ingest(ws).outcomes
        assert o.status == "merged"
    finally:
        os.umask(old)
    kept = [p for p in (ws / "archive").iterdir()]
    assert len(kept) == 2 and {p.suffix for p in kept} == {".xlsx", ".jsonl"}
    for p in kept + [ws / "ledger.sqlite"]:
        assert stat.S_IMODE(p.stat().st_mode) == mode, p
    with Store(ws / "ledger.sqlite") as store:  # while open, WAL mode keeps -wal and -shm beside it: made alike
        store.db.execute("CREATE TEMP TABLE t(x)")
        for p in (ws / "ledger.sqlite-wal", ws / "ledger.sqlite-shm"):
            assert stat.S_IMODE(p.stat().st_mode) == mode, p
    assert stat.S_IMODE((ws / "ledger-xl.key").stat().st_mode) == 0o600


def test_lock_file_is_skipped(workspace, templates_2024h1):
    shutil.copy(templates_2024h1 / "市商务局.xlsx", workspace / "inbox" / "~$市商务局.xlsx")
    (o,) = ingest(workspace).outcomes
    assert o.status == "skipped" and "临时文件" in o.note


class _RewrittenWhileRead:
    """fsutil's `os`, except that the first read of `target` is followed, before the next, by a writer saving
    other bytes over it: the reader gets the start of the old file and the rest of the new one. `touch`
    instead writes the same bytes again (its times change, its content does not)."""

    def __init__(self, target: Path, new: bytes, *, touch: bool = False) -> None:
        self.target, self.new, self.touch, self.done = target, new, touch, False

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def read(self, fd: int, n: int) -> bytes:
        chunk = os.read(fd, n)
        if not self.done and os.readlink(f"/proc/self/fd/{fd}") == str(self.target.resolve()):
            self.done = True
            old = self.target.read_bytes()
            self.target.write_bytes(old if self.touch else self.new)
        return chunk


def test_a_file_that_changes_while_it_is_read_is_refused_and_nothing_kept(workspace, templates_2024h1, tmp_path, monkeypatch):
    """Each file is read once, hashed, archived and checked from those bytes; when its status says it
    changed during the read and a second read gives other bytes, it is refused and nothing is kept. A file
    only touched meanwhile (its times changed, its bytes not) is read as usual; one gone is said to be."""
    from ledger_xl import fsutil
    from ledger_xl.definition import load_ledger
    from ledger_xl.ingest import read_many, sha256_of

    src = fill(templates_2024h1, "市交通运输局", tmp_path)
    before = src.read_bytes()
    other = fill(templates_2024h1, "市财政局", tmp_path).read_bytes()  # saved over it, half way through its read
    gone = tmp_path / "已删除.xlsx"
    archive = tmp_path / "archive"
    archive.mkdir()
    with Store(workspace / "ledger.sqlite") as store:
        key, ledger_id = store.template_key, store.ledger_id
    ledger = load_ledger(workspace / "ledger.xlsx")
    monkeypatch.setattr(fsutil, "os", _RewrittenWhileRead(src, other + b"\0" * 70000))
    reads = dict(read_many([src, gone], key=key, ledger_id=ledger_id, ledger=ledger, archive=archive, workers=0))
    assert [f.code for f in reads[src].findings] == ["changed-while-reading"] and not reads[src].ok
    assert reads[src].archived is None and list(archive.iterdir()) == []
    assert isinstance(reads[gone].error, FileNotFoundError) and not reads[gone].ok and reads[gone].findings == []
    # touched while read: the same bytes, read as usual and kept byte for byte under their digest
    src.write_bytes(before)
    monkeypatch.setattr(fsutil, "os", _RewrittenWhileRead(src, b"", touch=True))
    (_, read), = read_many([src], key=key, ledger_id=ledger_id, ledger=ledger, archive=archive, workers=0)
    assert read.findings == [] and read.archived is not None and read.archived.read_bytes() == before == src.read_bytes()
    assert read.archived.stem == read.sha256 == sha256_of(src)


def test_files_found_once_however_they_are_reached(tmp_path):
    """A folder named twice, through a link, or a file also named on its own: each file is read once."""
    from ledger_xl.intake import collect_files

    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    for name in ("a.xlsx", "sub/b.xlsx", ".hidden.xlsx"):
        (inbox / name).write_bytes(b"x")
    os.symlink(inbox, tmp_path / "link")
    found, skipped = collect_files([inbox, tmp_path / "link", inbox / "a.xlsx", tmp_path / "link" / "sub"])
    assert sorted(p.name for p in found) == ["a.xlsx", "b.xlsx"]
    assert sorted((p.name, why[:4]) for p, why in skipped) == [(".hidden.xlsx", "隐藏文件"), ("link", "链接（快")]


@pytest.mark.parametrize("order", ["draft_first", "correction_first", "one_batch"])
def test_the_current_return_is_the_one_received_last_whatever_the_ingest_order(workspace, templates_2024h1, tmp_path, order):
    """A stale draft ingested after its correction never replaces it: it is kept in the history, and ingest
    says it is an older version."""
    draft = fill(templates_2024h1, "市商务局", tmp_path, name="商务局_初稿.xlsx", number=1, when=ON_TIME - dt.timedelta(days=2))
    correction = fill(templates_2024h1, "市商务局", tmp_path, name="商务局_更正.xlsx", number=2, when=ON_TIME)
    runs = {"draft_first": [[draft], [correction]], "correction_first": [[correction], [draft]],
            "one_batch": [[correction, draft]]}[order]
    outcomes = [o for files in runs for o in ingest(workspace, files).outcomes]
    by_name = {o.path.name: o for o in outcomes}
    assert all(o.status == "merged" for o in outcomes)
    with Store(workspace / "ledger.sqlite") as store:
        cur = store.current_submissions()[("市商务局", "2024H1")]
        assert cur.file_name == "商务局_更正.xlsx"
        assert {v.num for v in store.current_values() if v.bureau == "市商务局" and v.kind == "metric"} == {2.0}
        assert [s.current for s in store.submissions()].count(True) == 1 and len(store.submissions()) == 2
    if order == "correction_first":
        assert "较早的版本，未取代 商务局_更正.xlsx" in by_name["商务局_初稿.xlsx"].note
        assert not by_name["商务局_初稿.xlsx"].superseded
    else:
        assert by_name["商务局_更正.xlsx"].superseded and not by_name["商务局_更正.xlsx"].note
    rows = master_rows(workspace, "提交记录")
    assert len(rows) == 2


def test_a_file_that_changes_while_it_is_read_is_refused_by_ingest_itself(workspace, templates_2024h1, monkeypatch):
    """The whole command, its reading workers included: the refused file is recorded with nothing archived,
    the others merge."""
    from ledger_xl import fsutil

    fill(templates_2024h1, "市商务局", workspace / "inbox")
    changed = fill(templates_2024h1, "市财政局", workspace / "inbox")
    monkeypatch.setattr(fsutil, "os", _RewrittenWhileRead(changed, b"PK" + b"\0" * 90000))  # the workers inherit it
    by_name = {o.path.name: o for o in ingest(workspace).outcomes}
    assert by_name[changed.name].status == "refused"
    assert [f.code for f in by_name[changed.name].findings] == ["changed-while-reading"]
    assert by_name["市商务局_返回.xlsx"].status == "merged"
    with Store(workspace / "ledger.sqlite") as store:
        rows = {s.file_name: s for s in store.submissions()}
    assert rows[changed.name].outcome == "refused" and rows[changed.name].archive_path == ""
    assert sorted(p.name for p in (workspace / "archive").iterdir() if not p.name.startswith(".")) == [
        rows["市商务局_返回.xlsx"].sha256 + ".xlsx"]


def test_copies_are_duplicates_of_the_first_to_arrive_whichever_read_finishes_first(workspace, templates_2024h1, tmp_path):
    """Each worker hashes the files it reads, and the copies are found as the reads come back: a copy in the
    same batch is a duplicate of the copy that arrived first (by arrival, not by which read finishes first), and a
    copy of a return stored before is a duplicate of that one; every outcome is listed in arrival order."""
    stored = fill(templates_2024h1, "市商务局", tmp_path, name="商务局_上次.xlsx", when=ON_TIME - dt.timedelta(days=3))
    assert [o.status for o in ingest(workspace, [stored]).outcomes] == ["merged"]
    inbox = workspace / "inbox"
    second = fill(templates_2024h1, "市财政局", inbox, name="a_财政局.xlsx", when=ON_TIME)
    for name, days in (("z_财政局_最早.xlsx", -2), ("b_财政局_副本.xlsx", 1)):
        shutil.copy(second, inbox / name)
        t = (ON_TIME + dt.timedelta(days=days)).timestamp()
        os.utime(inbox / name, (t, t))
    shutil.copy(stored, inbox / "商务局_再发.xlsx")
    others = [fill(templates_2024h1, b, inbox, when=ON_TIME - dt.timedelta(days=1)) for b in ("市发展改革委", "市交通运输局", "市公安局")]
    outcomes = ingest(workspace).outcomes
    by_name = {o.path.name: o for o in outcomes}
    assert by_name["z_财政局_最早.xlsx"].status == "merged"
    for name in ("a_财政局.xlsx", "b_财政局_副本.xlsx"):
        assert by_name[name].status == "duplicate" and "本批中的 z_财政局_最早.xlsx" in by_name[name].note
    assert by_name["商务局_再发.xlsx"].status == "duplicate" and "商务局_上次.xlsx" in by_name["商务局_再发.xlsx"].note
    assert all(by_name[p.name].status == "merged" for p in others)
    assert [o.path.name for o in outcomes] == [p.name for p in sorted(inbox.iterdir(), key=lambda p: (p.stat().st_mtime, p.name))]
    with Store(workspace / "ledger.sqlite") as store:
        assert sorted(s.file_name for s in store.submissions()) == sorted(
            ["商务局_上次.xlsx", "z_财政局_最早.xlsx", *(p.name for p in others)])


def test_master_ledger_lists_the_files_and_problems_of_the_latest_periods_only(programme, tmp_path, monkeypatch):
    """Bounded so that the rebuild after every ingest does not grow with every file ever received; the
    sheets say how many older records are left out and where they are."""
    from ledger_xl import ledger_book
    from ledger_xl.master import rebuild_master

    ws = tmp_path / "ws"
    shutil.copytree(programme[0], ws)
    monkeypatch.setattr(ledger_book, "RECENT_PERIODS", 2)
    w = open_workspace(ws)
    with Store(w.store_path) as store:
        subs = store.submissions()
        found = store.all_findings()
        rebuild_master(w, ws_ledger(w), store)
    recent = sorted({s.period for s in subs if s.period})[-2:]
    files = master_rows(ws, "提交记录")
    assert {r["报送期"] for r in files[:-1]} == set(recent)
    assert len(files) - 1 == sum(1 for s in subs if s.period in recent) < len(subs)
    assert f"更早的 {len(subs) - len(files) + 1} 个文件" in files[-1]["收到时间"]
    problems = master_rows(ws, "问题清单")
    kept = [p for p in problems if not str(p["来源"]).startswith("（")]
    assert {p["报送期"] for p in kept} <= set(recent)
    assert len(kept) == sum(1 for _, _, period, _ in found if period in recent)


@pytest.mark.parametrize("cap_over_latest", [0, 1, 10**6])
def test_master_ledger_lists_whole_periods_up_to_a_number_of_files(programme, tmp_path, monkeypatch, cap_over_latest):
    """提交记录 takes whole periods, newest first, while they hold at most RECENT_FILES files together — always
    the latest period, however many files it has —; 报送情况 the latest STATUS_PERIODS periods, with a row
    saying how many earlier ones are left out and where to see them."""
    from ledger_xl import ledger_book
    from ledger_xl.master import rebuild_master
    from ledger_xl.model import Period

    ws = tmp_path / "ws"
    shutil.copytree(programme[0], ws)
    w = open_workspace(ws)
    with Store(w.store_path) as store:
        subs = store.submissions()
    periods = sorted({Period.parse(s.period) for s in subs if s.period}, reverse=True)
    n_of = {p: sum(1 for s in subs if s.period == p.code) for p in periods}
    # a cap of the latest period's files plus 0 or 1: the latest period alone; unbounded: RECENT_PERIODS of them
    monkeypatch.setattr(ledger_book, "RECENT_FILES", n_of[periods[0]] + cap_over_latest if cap_over_latest < 10**6 else 10**6)
    monkeypatch.setattr(ledger_book, "STATUS_PERIODS", 2)
    with Store(w.store_path) as store:
        rebuild_master(w, ws_ledger(w), store)
    files = master_rows(ws, "提交记录")
    expect = [periods[0]] if cap_over_latest < 10**6 else periods[: ledger_book.RECENT_PERIODS]
    listed = [r for r in files if r["报送期"]]
    assert {r["报送期"] for r in listed} == {p.code for p in expect} and len(listed) == sum(n_of[p] for p in expect)
    if len(expect) < len(periods):
        assert files[-1]["收到时间"].startswith(f"（另有更早的 {len(subs) - len(listed)} 个文件未列出：本表只列最近 {len(expect)} 个报送期")
    status = openpyxl.load_workbook(ws / "outputs" / "master_ledger.xlsx")["报送情况"]
    header = [c.value for c in status[1]]
    assert header[2:] == [p.label for p in reversed(periods[:2])]
    last = [c.value for c in status[status.max_row]]
    assert last[0] == f"（更早的 {len(periods) - 2} 个报送期未列出：本表只列最近 2 个报送期。任一报送期的报送情况可用 ledger-xl status --period 报送期 查看。）"


def test_a_read_crosses_from_a_reading_worker_unchanged():
    """A read travels from a worker as a flat tuple (ReturnRead.__reduce__): it must arrive equal, with its
    values as Values, its paths as Paths and its metadata whole."""
    import pickle

    from ledger_xl.codes import Code
    from ledger_xl.findings import Finding
    from ledger_xl.ingest import ReturnRead, Value
    from ledger_xl.layout import FieldSpec, TemplateMeta

    meta = TemplateMeta("台账", "L1", "市交通运输局", "2024H1", "2024-06-01T08:00:00", [("A1", "标题")],
                        [FieldSpec("lx_001", "1", "lead", "metric", 0, "充电站", "座", "J4")], signature="s" * 64)
    read = ReturnRead(Path("收件箱/回执.xlsx"), "d" * 64, dt.datetime(2024, 7, 1, 9, 30), Path("archive/x.xlsx"), meta,
                      [Value("1", "lead", "metric", 0, 3.0, None, "J4"), Value(None, None, "filler", 0, None, "张伟", "B30")],
                      [Finding.of(Code.MISSING_TEXT, file="回执.xlsx", sheet="填报表", cell="J5", where="第 1 项“进展”")], '[["1","metric",0,"J4","n",3.0]]')
    for original in (read, ReturnRead(Path("a.xlsx"), "e" * 64, dt.datetime(2024, 7, 2))):
        back = pickle.loads(pickle.dumps(original))
        assert back == original
        assert all(type(v) is Value for v in back.values) and isinstance(back.path, Path)
    assert back.meta is None and back.archived is None
    # the values travel as one JSON text; numbers JSON has not (infinite, not a number) and texts it cannot hold (a
    # lone surrogate) make them travel as tuples, and arrive as they were, not as null
    import math

    for odd in (Value("2", "lead", "metric", 0, math.inf, None, "J6"), Value("2", "lead", "metric", 0, math.nan, None, "J6"),
                Value("2", "lead", "metric", 0, 1e308, None, "J6"), Value("2", "lead", "progress", 0, None, "\ud800", "K6")):
        read.values.append(odd)
        back = pickle.loads(pickle.dumps(read))
        assert back.values[:-1] == read.values[:-1] and all(type(v) is Value for v in back.values)
        got = back.values[-1]
        assert got[:4] == odd[:4] and got.text == odd.text and (math.isnan(got.num) if odd.num != odd.num else got.num == odd.num)
        read.values.pop()


@pytest.mark.parametrize("status,task,others,missing", [
    ("已完成", "T1", (), ["完成日期", "文件名称"]), ("已完成", "T1", ("deliv_date",), ["文件名称"]),
    ("已完成", "T1", ("deliv_date", "deliv_name"), []), ("推进中", "T1", (), []), ("已完成", None, (), []),
    ("已完成", "T1", ("other task",), ["完成日期", "文件名称"])])
def test_a_completed_deliverable_without_its_date_or_name_is_warned(status, task, others, missing):
    """The cross-field rule, found however the values are placed (and not for a deliverable not completed or
    for a value of no task)."""
    from ledger_xl.codes import Code
    from ledger_xl.ingest import ReturnRead, Value, _cross_checks

    values = [Value("T0", "lead", "progress", 0, None, "进展", "J3"), Value(task, "lead", "deliv_status", 0, None, status, "I9")]
    for kind in others:
        values.insert(0, Value("T2", "lead", "deliv_date", 0, None, "2024-06-30", "I8") if kind == "other task"
                      else Value(task, "lead", kind, 0, None, "2024-06-30", "I10"))
    read = ReturnRead(Path("r.xlsx"), "d" * 64, dt.datetime(2024, 7, 1), values=values)
    _cross_checks(read, "r.xlsx", [_spec(t, k, c) for t in ("T1", "T2") for k, c in (("deliv_date", "I10"), ("deliv_name", "I11"))])
    assert [(f.code, f.cell) for f in read.findings] == [(Code.DELIVERABLE_INCOMPLETE, "I9")] * len(missing)
    assert all(label in f.message for f, label in zip(read.findings, missing, strict=True))


def _spec(task: str, kind: str, cell: str) -> FieldSpec:
    return FieldSpec(f"{task}_{kind}", task, "lead", kind, 0, kind, "", cell)


def test_a_completed_deliverable_is_asked_only_for_what_its_form_has_and_once():
    """A form with no 文件名称 field (the ledger named no document) is not asked for one; a 完成日期 typed but
    refused (\"2026年3月\") gets its error, not also a 提示 that it is missing."""
    from ledger_xl.codes import Code
    from ledger_xl.ingest import ReturnRead, Value, _cross_checks

    values = [Value("T1", "lead", "deliv_status", 0, None, "已完成", "I9")]
    read = ReturnRead(Path("r.xlsx"), "d" * 64, dt.datetime(2024, 7, 1), values=values)
    read.findings.append(Finding.of(Code.BAD_VALUE, file="r.xlsx", sheet="填报表", cell="I10", where="x", typed="2026年3月",
                                    problem="不是日期", fix=""))
    _cross_checks(read, "r.xlsx", [_spec("T1", "deliv_date", "I10")])
    assert [f.code for f in read.findings] == [Code.BAD_VALUE]


@pytest.mark.parametrize("entry,ok", [(["lx_1", "T1", "lead", "progress", 0, "进展", "", "J4"], True),
                                      (["lx_1", "T1", "lead", "progress", 0, "进展", "J4"], False),
                                      (["lx_1", "T1", "lead", "progress", 0, "进展", "", "J4", "多余"], False),
                                      (5, False), (None, False)])
def test_metadata_whose_field_is_not_a_field_is_not_a_template(entry, ok):
    """A field in the hidden metadata must have exactly a FieldSpec's items (checked before the signature, as
    FieldSpec(*entry) checks them): else the file is not read as one of our templates."""
    from ledger_xl.ingest import meta_from_rows
    from ledger_xl.layout import FieldSpec, TemplateMeta

    meta = TemplateMeta("台账", "L1", "单位", "2024H1", "2024-06-01T08:00:00", [("A1", "标题")],
                        [FieldSpec("lx_0", None, None, "filler", 0, "填报人", "", "B30")], signature="s" * 64)
    data = json.loads(meta.payload())
    data["fields"].append(entry)
    rows = [(k, v) for k, v in meta.to_rows() if not k.startswith("data")] + [("data0", json.dumps(data, ensure_ascii=False))]
    back = meta_from_rows(rows)
    assert (back is not None) is ok
    if ok:
        assert back.fields == [*meta.fields, FieldSpec(*entry)] and all(type(f) is FieldSpec for f in back.fields)


def test_content_outside_the_input_cells_is_said_never_dropped_unsaid(workspace, templates_2024h1):
    """A note typed beside the table and a figure in an empty locked cell (once the sheet was unprotected) are not
    read — they are in no input cell — but each is told at its cell as a 提示, and the return is merged."""
    from ledger_xl.ingest import read_meta
    from ledger_xl.layout import FORM_SHEET, META_SHEET
    from ledger_xl.xlsxread import read_package

    src = templates_2024h1 / "市交通运输局.xlsx"
    out = fill_template(src, workspace / "inbox" / "交通.xlsx", complete_values(src))
    meta = read_meta(read_package(src, sheets={FORM_SHEET, META_SHEET}))
    assert meta is not None
    known = {ref for ref, _ in meta.locked} | {f.cell for f in meta.fields}
    wb = openpyxl.load_workbook(out)
    form = wb[FORM_SHEET]
    empty = next(f"{c.column_letter}{c.row}" for row in form.iter_rows(min_row=4, max_row=30, max_col=8) for c in row
                 if c.value in (None, "") and f"{c.column_letter}{c.row}" not in known)
    form["Z5"] = "旁注：第2项实际已完成5个"
    form[empty] = 3
    wb.save(out)
    (o,) = ingest(workspace).outcomes
    assert o.status == "merged"
    told = sorted((f.cell, f.severity, f.value) for f in o.findings if f.code == "outside-input")
    assert told == sorted([("Z5", Severity.WARNING, "旁注：第2项实际已完成5个"), (empty, Severity.WARNING, "3")])
    assert all(f.sheet == FORM_SHEET and "不在填写区" in f.message for f in o.findings if f.code == "outside-input")
    plain = workspace / "inbox" / "plain.xlsx"
    fill_template(src, plain, complete_values(src))
    from ledger_xl.ingest import read_return

    with Store(workspace / "ledger.sqlite") as store:
        ws = open_workspace(workspace)
        r = read_return(plain, key=store.template_key, ledger_id=store.ledger_id, ledger=ws_ledger(ws))
    assert not [f for f in r.findings if f.code == "outside-input"]  # a return as filled has nothing outside


@pytest.mark.parametrize("typed", [15, 2.5])
def test_a_plain_number_in_a_percentage_cell_that_shows_200_percent_or_more_is_asked_about(workspace, templates_2024h1, typed):
    """LibreOffice keeps 15 typed into a percentage cell as 1500%: never read as that, never guessed as 15%."""
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", {("12", "ind_value", 0): typed})
    (out,) = ingest(workspace).outcomes
    assert out.status == "refused"
    (f,) = [f for f in out.findings if f.cell == "I14"] or [f for f in out.findings if f.code == "bad-value"]
    shown = f"{typed * 100:g}%"
    assert f.code == "bad-value" and f"在表中是 {shown}" in f.message and f"请输入“{typed:g}%”" in f.message, f.message
    assert f"'{shown}" in f.message


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None or uno_python() is None,
                    reason="LibreOffice with its Python bridge (uno; Debian: python3-uno) is not installed")
def test_fifteen_typed_in_libreoffice_into_a_percentage_cell_is_refused_and_15_percent_or_quoted_1500_percent_are_read(
        workspace, templates_2024h1, tmp_path):
    inbox = workspace / "inbox"
    _lo_filled(templates_2024h1 / "市交通运输局.xlsx", {("12", "ind_value", 0): "15"}, inbox / "a.xlsx", tmp_path)
    (out,) = ingest(workspace).outcomes
    assert out.status == "refused" and any("在表中是 1500%" in f.message for f in out.findings), [f.render() for f in out.findings]
    for typed, expected in (("15%", 15), ("'1500%", 1500)):
        _lo_filled(templates_2024h1 / "市交通运输局.xlsx", {("12", "ind_value", 0): typed}, inbox / f"b{expected}.xlsx", tmp_path)
        (out,) = [o for o in ingest(workspace).outcomes if o.path.name == f"b{expected}.xlsx"]
        assert out.status == "merged", [f.render() for f in out.findings]
        with Store(workspace / "ledger.sqlite") as store:
            (v,) = [v for v in store.current_values() if v.task_id == "12" and v.kind == "ind_value"]
        assert v.num == pytest.approx(expected)


@pytest.mark.parametrize("stored, fmt, shown", [(0.15, "0%", "15%"), (1, "0%", "100%"), (0.5, "0.00%", "50%"), ("15%", None, "15%")])
def test_a_percentage_typed_in_a_count_field_is_refused_saying_what_was_typed(workspace, templates_2024h1, stored, fmt, shown):
    """Excel and WPS keep "15%" typed into a count cell as 0.15 and make the cell a percentage cell: never counted as
    0.15 辆 (or 1 个 for "100%"), and the bureau is told of the "15%" it typed, not of a 0.15 it never saw."""
    key = ("12", "metric", 0)
    path = fill(templates_2024h1, "市交通运输局", workspace / "inbox", {key: stored})
    if fmt:
        cell = {(f.task_id, f.kind, f.index): f.cell for f in fields_of(path)}[key]
        wb = openpyxl.load_workbook(path)
        wb["填报表"][cell].number_format = fmt
        wb.save(path)
    (out,) = ingest(workspace).outcomes
    assert out.status == "refused"
    (f,) = [f for f in out.findings if f.severity is Severity.ERROR]
    assert f.code == "bad-value" and f"填的“{shown}”是百分数" in f.message and "本栏填的是数量（辆）" in f.message, f.message
    assert "不带百分号" in f.message


@pytest.mark.parametrize("stored", [1, 0.5])
def test_a_small_number_in_a_plain_count_cell_is_read_as_the_number(workspace, templates_2024h1, stored):
    """Only a cell shown as a percentage is taken for one: 1 in a plain cell is one 辆; 0.5 is refused as 0.5."""
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", {("12", "metric", 0): stored})
    (out,) = ingest(workspace).outcomes
    assert not any("百分数" in f.message for f in out.findings), [f.render() for f in out.findings]
    assert out.status == ("merged" if stored == 1 else "refused")


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None or uno_python() is None,
                    reason="LibreOffice with its Python bridge (uno; Debian: python3-uno) is not installed")
def test_a_percentage_typed_at_the_keyboard_in_libreoffice_into_count_cells_is_refused_and_handed_back_as_typed(
        workspace, templates_2024h1, tmp_path):
    """Typed in Calc's cell as a person does ("15%", Enter), the cell becomes a percentage cell holding 0.15: refused
    saying "15%" (not 0.15, not 1 for "100%"), and the copy handed back shows what was typed."""
    from test_returns import cells_by_key

    typed = {("12", "metric", 0): "15%", ("9", "metric", 0): "100%", ("7", "duty_count", 0): "50%"}
    _lo_filled(templates_2024h1 / "市交通运输局.xlsx", {k: {"keys": v} for k, v in typed.items()}, workspace / "inbox" / "a.xlsx",
               tmp_path)
    (out,) = ingest(workspace).outcomes
    assert out.status == "refused" and out.returned, [f.render() for f in out.findings]
    cells = cells_by_key(out.returned)
    said = {f.cell: f.message for f in out.findings if f.severity is Severity.ERROR}
    assert set(said) == {cells[k] for k in typed}, said
    form = openpyxl.load_workbook(out.returned)["填报表"]
    for k, shown in typed.items():
        assert f"填的“{shown}”是百分数" in said[cells[k]], said[cells[k]]
        assert form[cells[k]].value == shown
    assert "本栏填的是次数（次）" in said[cells[("7", "duty_count", 0)]]


@pytest.mark.parametrize("typed, why", [("2001-06-30", "早于本台账的起始年份"), (None, "晚于收到本表的日期")])
def test_a_completion_date_after_arrival_or_long_before_the_programme_is_asked_about(workspace, templates_2024h1, typed, why):
    """A slip of the keyboard (2026-07-01 in a return of 2025's first half) is said at its cell; the return is kept."""
    typed = typed or (dt.date.today() + dt.timedelta(days=40)).isoformat()
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", {("6", "deliv_status", 0): "已完成", ("6", "deliv_date", 0): typed,
                                                            ("6", "deliv_name", 0): "考核管理办法"})
    (out,) = ingest(workspace).outcomes
    assert out.status == "merged"
    (f,) = [f for f in out.findings if f.code == "deliverable-date-odd"]
    assert f.severity is Severity.WARNING and f.cell and typed in f.message and why in f.message, f.message


def test_a_completion_date_before_arrival_within_the_programme_says_nothing(workspace, templates_2024h1):
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", {("6", "deliv_status", 0): "已完成", ("6", "deliv_date", 0): "2024-06-30",
                                                            ("6", "deliv_name", 0): "考核管理办法"})
    (out,) = ingest(workspace).outcomes
    assert out.status == "merged" and not [f for f in out.findings if f.code == "deliverable-date-odd"]


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None or uno_python() is None,
                    reason="LibreOffice with its Python bridge (uno; Debian: python3-uno) is not installed")
def test_text_typed_with_an_equals_sign_in_libreoffice_comes_back_as_typed_not_as_its_error(workspace, templates_2024h1, tmp_path):
    """LibreOffice keeps "=问题" typed into a cell as a formula showing #NAME?: the copy handed back shows "=问题"
    (what the bureau typed, as text), beside the advice to drop the "=", not "#NAME?"."""
    from test_returns import cells_by_key

    _lo_filled(templates_2024h1 / "市交通运输局.xlsx", {("9", "progress", 0): {"typed": "=问题"}}, workspace / "inbox" / "a.xlsx",
               tmp_path)
    (out,) = ingest(workspace).outcomes
    assert out.status == "refused" and out.returned, [f.render() for f in out.findings]
    (f,) = [f for f in out.findings if f.severity is Severity.ERROR]
    assert f.code == "error-cell" and "#NAME?" in f.message and "请去掉“=”" in f.message, f.message
    cell = openpyxl.load_workbook(out.returned)["填报表"][cells_by_key(out.returned)[("9", "progress", 0)]]
    assert (cell.value, cell.data_type) == ("=问题", "s")


def test_an_input_whose_name_points_elsewhere_is_found_however_the_names_are_written():
    """_moved_fields: names written as the templates write them, as Excel writes them back, or a mix of both, all
    pointing at their cells: none moved; one pointing elsewhere: that one; a name gone: not counted as moved."""
    from ledger_xl.ingest import _moved_fields
    from ledger_xl.xlsxread import Package

    fields = [FieldSpec(f"lx_{k:03d}_metric", "1", "lead", "metric", k, "充电站", "座", f"J{k + 4}") for k in range(6)]
    quoted = {fs.name: f"'填报表'!$J${k + 4}" for k, fs in enumerate(fields)}
    plain = {fs.name: f"填报表!$J${k + 4}" for k, fs in enumerate(fields)}
    mixed = {**quoted, fields[2].name: plain[fields[2].name]}
    elsewhere = {**plain, fields[3].name: "填报表!$J$40"}
    gone = {k: v for k, v in quoted.items() if k != fields[1].name}
    for names, moved in ((quoted, []), (plain, []), (mixed, []), (elsewhere, [fields[3]]), (gone, [])):
        pkg = Package(Path("x.xlsx"), {}, [], names, False)
        assert _moved_fields(pkg, fields) == moved, names
