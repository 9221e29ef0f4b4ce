"""A monthly ledger through the whole cycle — init → templates → ingest → status → check → report → mail
drafts — with its periods written three ways (2025-06, 2025M07, 2025年8月), built inline from a definition.

The office states 各单位于每月28日前报送上月完成情况: July is due 2025-08-28.
Task 1: 充电站 12 座 in 2025, lead 市交通局 (countable: whole numbers only). June's return says 6 (on plan:
12 × 6/12). July's says 2.5 → refused (被退回, 1 problem).
Task 2: 考核办法, 完成时限 2025-06-30, lead 市商务局: still 推进中 in July → 滞后, "截至本期末已到完成时限 2025-06-30，尚未完成".
Task 3: 每季度 1 次, lead 市公安局: reports June, sends nothing for July (未报（已过截止）).
Task 4: nothing to measure, 完成时限 2025-09-30, lead 市商务局: its template asks for 完成情况 (推进中 in July).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from email import message_from_bytes, policy
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from conftest import complete_values

from ledger_xl.cli import cli
from ledger_xl.definition import save_definition
from ledger_xl.model import Bureau, DeadlineRule, Ledger, Metric, Target, Task
from ledger_xl.testing.fill import fill_template

TRAFFIC, COMMERCE, POLICE, OFFICE = "市交通运输局", "市商务局", "市公安局", "市领导小组办公室"


def monthly_ledger() -> Ledger:
    def task(tid: str, text: str, lead: str, **kw: object) -> Task:
        return Task(id=tid, category="月度任务", task=text, item=None, breakdown={2025: text}, lead=[lead], responsible=[],
                    **kw)  # type: ignore[arg-type]

    return Ledger(
        title="测试市月度重点任务台账", years=[2025], period_kind="month", office=OFFICE,
        deadline_rule=DeadlineRule.parse("各单位于每月28日前报送上月完成情况"),
        bureaus=[Bureau(OFFICE, member=False, email="office@example.gov.cn"), Bureau(TRAFFIC, email="jt@example.gov.cn"),
                 Bureau(COMMERCE, email="sw@example.gov.cn"), Bureau(POLICE, email="ga@example.gov.cn")],
        tasks=[task("1", "建设公共充电站", TRAFFIC, metrics=[Metric("充电站", "座", {2025: 12}, Target(">=", 12))]),
               task("2", "出台配送企业考核办法", COMMERCE, deliverable="考核办法", deadline=dt.date(2025, 6, 30)),
               task("3", "开展货运秩序联合检查", POLICE, frequency="quarter", frequency_count=1),
               task("4", "完成城市配送车辆通行管理改革", COMMERCE, deadline=dt.date(2025, 9, 30))],
    )


def run(*args: str, code: int | None = 0) -> str:
    """The command's output; its exit code must be `code` (None: 0 or 1, for checks whose findings vary)."""
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == code if code is not None else r.exit_code in (0, 1), r.output
    return r.output


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("monthly")
    definition = tmp / "月报台账.xlsx"
    save_definition(monthly_ledger(), definition)
    ws = tmp / "ws"
    run("init", str(ws), "--ledger", str(definition))
    cfg = ws / "ledger-xl.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("report_recipients = []", 'report_recipients = ["领导 <leader@example.gov.cn>"]'),
                   encoding="utf-8")
    for spelling in ("2025-06", "2025M07", "2025年8月"):
        out = run("templates", "-w", str(ws), "--period", spelling)
        assert "已生成 2025年" in out
    tpl = ws / "outputs" / "templates"
    inbox = ws / "inbox"
    june = {TRAFFIC: {("1", "metric", 0): 6}, COMMERCE: {("2", "deliv_status", 0): "推进中"}, POLICE: {("3", "duty_count", 0): 1}}
    for bureau, values in june.items():
        src = tpl / "2025M06" / f"{bureau}.xlsx"
        fill_template(src, inbox / f"{bureau}_6月.xlsx", complete_values(src, values), mtime=dt.datetime(2025, 7, 20, 9))
    run("ingest", "-w", str(ws))
    july = {TRAFFIC: {("1", "metric", 0): 2.5}, COMMERCE: {("2", "deliv_status", 0): "推进中"}}
    for bureau, values in july.items():
        src = tpl / "2025M07" / f"{bureau}.xlsx"
        fill_template(src, inbox / f"{bureau}_7月.xlsx", complete_values(src, values), mtime=dt.datetime(2025, 8, 20, 9))
    return ws


def test_templates_for_each_spelling_land_under_one_code(cycle):
    folders = sorted(p.name for p in (cycle / "outputs" / "templates").iterdir() if p.is_dir())
    assert folders == ["2025M06", "2025M07", "2025M08"]
    wb = openpyxl.load_workbook(cycle / "outputs" / "templates" / "2025M07" / f"{TRAFFIC}.xlsx")
    help_text = " ".join(str(c.value) for row in wb["填报说明"].iter_rows() for c in row if c.value)
    assert "2025年7月" in help_text and "2025年8月28日前" in help_text  # the office's rule: 次月28日
    form = wb["填报表"]
    rules = [dv for dv in form.data_validations.dataValidation if dv.type == "whole" and "座" in (dv.prompt or "")]
    assert rules, "the 座 count takes whole numbers only"


def test_a_task_with_only_a_deadline_asks_for_its_completion(cycle):
    from ledger_xl.testing.fill import template_fields

    fields = {(f.task_id, f.kind): f for f in template_fields(cycle / "outputs" / "templates" / "2025M07" / f"{COMMERCE}.xlsx")}
    assert fields[("4", "deliv_status")].label == "完成情况（完成时限 2025-09-30，下拉选择）"


def test_ingest_refuses_a_fraction_of_a_countable_thing(cycle):
    out = run("ingest", "-w", str(cycle), code=1)
    assert f"[拒收] {TRAFFIC}_7月.xlsx" in out and "按座计数，请填写整数" in out
    assert f"[已汇入] {COMMERCE}_7月.xlsx" in out


def test_status_tells_refused_from_missing(cycle):
    out = run("status", "-w", str(cycle), "--period", "2025年7月")
    assert out.splitlines()[0].startswith("2025年7月 报送情况（截止 2025-08-28，报送期结束后次月28日前")
    data = {b["name"]: b for b in json.loads(run("status", "-w", str(cycle), "--period", "2025-07", "--json"))["bureaus"]}
    assert data[COMMERCE]["state"] == "按时"
    assert (data[TRAFFIC]["state"], data[TRAFFIC]["findings"], data[TRAFFIC]["submitted"]) == ("被退回", 1, False)
    assert data[POLICE]["state"] == "未报（已过截止）"  # today is long after 2025-08-28
    assert "被退回（1处问题，已过截止）" in out and "未报（已过截止）" in out


def test_check_says_refused_and_missing(cycle):
    out = run("check", "-w", str(cycle), "--period", "2025M07", code=None)
    assert f"牵头单位{TRAFFIC}报送的表格被退回（1处问题），待修改后重报" in out
    assert f"本期被退回待重报：{TRAFFIC}（1处问题，已过截止）" in out and f"本期未报送：{POLICE}（已过截止）" in out
    res = json.loads(run("check", "-w", str(cycle), "--period", "2025年7月", "--json", code=None))
    by = {t["id"]: t for t in res["tasks"]}
    assert (by["1"]["status"], by["3"]["status"]) == ("被退回", "未报")
    june = {t["id"]: t for t in json.loads(run("check", "-w", str(cycle), "--period", "2025-06", "--json", code=None))["tasks"]}
    assert june["1"]["status"] == "按进度" and june["1"]["metrics"][0]["planned"] == 6  # 12 座 × 6/12


def test_check_judges_the_task_deadline(cycle):
    out = run("check", "-w", str(cycle), "--period", "2025M07", code=1)
    assert "截至本期末已到完成时限 2025-06-30，尚未完成" in out
    by = {t["id"]: t for t in json.loads(run("check", "-w", str(cycle), "--period", "2025年7月", "--json", code=1))["tasks"]}
    assert by["2"]["status"] == "滞后"
    june = {t["id"]: t for t in json.loads(run("check", "-w", str(cycle), "--period", "2025-06", "--json", code=1))["tasks"]}
    assert june["2"]["status"] == "滞后"  # due 06-30, the last day of June: passed at the period's end


def test_master_ledger_shows_months_and_states(cycle):
    wb = openpyxl.load_workbook(cycle / "outputs" / "master_ledger.xlsx")
    ws = wb["报送情况"]
    header = [c.value for c in ws[1]]
    assert header[2:] == [f"2025年{m}月" for m in range(1, 8)]  # every month up to the latest with returns
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    july = header.index("2025年7月")
    assert rows[TRAFFIC][july] == f"被退回（1处问题，已过截止）｜{TRAFFIC}_7月.xlsx"
    assert rows[POLICE][july] == "未报（已过截止）" and rows[COMMERCE][july].startswith("按时｜")
    assert rows[POLICE][header.index("2025年6月")].startswith("按时｜")


def test_master_ledger_shows_the_task_deadline(cycle):
    run("check", "-w", str(cycle), "--period", "2025M07", code=None)
    main = openpyxl.load_workbook(cycle / "outputs" / "master_ledger.xlsx")["总台账"]
    head = [c.value for c in main[2]]
    task2 = next(r for r in main.iter_rows(min_row=3, values_only=True) if r[0] == 2)  # 序号 is stored as a number
    assert task2[head.index("完成时限")] == "2025-06-30" and head.index("完成时限") == head.index("牵头单位") + 1


def test_report_titles_the_month_and_names_refused(cycle):
    out = run("report", "-w", str(cycle), "--period", "2025-07", "--date", "2025-08-30", code=0)
    path = cycle / "outputs" / "reports" / "2025M07_总结报告.docx"
    assert str(path) in out
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "2025年7月工作进展情况报告" in text
    assert f"报送材料不合格、已退回尚未重新报送的单位：{TRAFFIC}（1处问题）。" in text
    assert f"截止日期已过仍未报送的单位：{POLICE}。" in text


def test_report_names_the_task_deadline(cycle):
    path = cycle / "outputs" / "reports" / "2025M07_总结报告.docx"
    run("report", "-w", str(cycle), "--period", "2025-07", "--date", "2025-08-30", "-o", str(path))
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "完成时限：2025-06-30），滞后：截至本期末已到完成时限 2025-06-30，尚未完成" in text
    table = next(t for t in docx.Document(str(path)).tables if [c.text for c in t.rows[0].cells] == ["序号", "任务", "牵头单位", "完成时限", "状态"])
    assert [[c.text for c in r.cells] for r in table.rows[1:]] == [["2", "出台配送企业考核办法", COMMERCE, "2025-06-30", "滞后"],
                                                                    ["4", "完成城市配送车辆通行管理改革", COMMERCE, "2025-09-30", "按进度"]]


def test_mail_drafts_for_monthly_periods(cycle):
    out = run("mail", "remind", "-w", str(cycle), "--period", "2025年7月", "--dry-run")
    folder = cycle / "outputs" / "mail" / "2025M07"
    mails = {m["Subject"]: m for m in (message_from_bytes(p.read_bytes(), policy=policy.default) for p in folder.glob("*.eml"))}
    assert set(mails) == {f"【请修改后重报】2025年7月重点任务进展情况（{TRAFFIC}）", f"【催报】2025年7月重点任务进展情况（{POLICE}）"}, out
    body = mails[f"【请修改后重报】2025年7月重点任务进展情况（{TRAFFIC}）"].get_body(("plain",)).get_content()
    assert "2025年8月28日前重新报送" in body and "整数" in body
    run("mail", "templates", "-w", str(cycle), "--period", "2025年8月", "--dry-run")
    aug = list((cycle / "outputs" / "mail" / "2025M08").glob("*.eml"))
    assert len(aug) == 3
    body = message_from_bytes(aug[0].read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    assert "2025年9月28日前" in body
    run("mail", "report", "-w", str(cycle), "--period", "2025M07", "--dry-run")
    subjects = {message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"] for p in folder.glob("*.eml")}
    assert "测试市月度2025年7月工作进展情况报告" in subjects and len(subjects) == 3


def test_period_left_out_is_chosen_and_said(cycle):
    from ledger_xl.pipeline import choose_period

    code, why = choose_period(cycle, None, today=dt.date(2025, 9, 1))
    assert code == "2025M07" and why == "未指定报送期，取截止日期（2025-08-28）已过的最近一期：2025年7月（2025M07）"
    code, why = choose_period(cycle, None, today=dt.date(2025, 8, 15), collecting=True)
    assert code == "2025M07" and "已结束的最近一期" in why
    out = run("status", "-w", str(cycle))
    first = out.splitlines()[0]
    assert re.fullmatch(r"未指定报送期，取截止日期（\d{4}-\d{2}-\d{2}）已过的最近一期：2025年\d+月（2025M\d\d）", first)


def test_wrong_kind_or_year_keeps_its_refusal(cycle):
    out = run("templates", "-w", str(cycle), "--period", "2025Q3", code=2)
    assert "本台账按月报送" in out and "2024M01" in out
    out = run("check", "-w", str(cycle), "--period", "2024-12", code=2)
    assert "不在本台账的年份内" in out
    out = run("status", "-w", str(cycle), "--period", "2025M13", code=2)
    assert "1—12 月" in out


def test_ledger_show_names_the_period_the_rule_and_deadlines(cycle):
    out = run("ledger", "show", "-w", str(cycle))
    assert out.splitlines()[0] == "测试市月度重点任务台账（2025年；按月报送，报送期结束后次月28日前）"
    assert "完成时限 2025-06-30" in out
    data = json.loads(run("ledger", "show", "-w", str(cycle), "--json"))
    assert (data["period_kind"], data["deadline_rule"]) == ("month", "报送期结束后次月28日前")
    assert next(t for t in data["tasks"] if t["id"] == "2")["deadline"] == "2025-06-30"
