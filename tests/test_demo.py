"""End to end: the README's first command on the bundled sample."""

from __future__ import annotations

import email
import os
import shutil
from email import policy

import docx
import openpyxl
from click.testing import CliRunner

from ledger_xl.cli import cli
from ledger_xl.demo import default_samples


def test_demo_runs_the_whole_cycle_on_the_bundled_sample(tmp_path):
    # a fresh git checkout gives every file the checkout time: arrival times must not depend on it
    samples = tmp_path / "samples"
    shutil.copytree(default_samples(), samples)
    for f in samples.rglob("*"):
        os.utime(f)
    target = tmp_path / "demo"
    r = CliRunner().invoke(cli, ["demo", str(target), "--samples", str(samples)])
    assert r.exit_code == 0, r.output
    for step in ("1/6", "2/6", "3/6", "4/6", "5/6", "6/6", "完成。"):
        assert step in r.output
    assert "1 份为更正后重报" in r.output and "逾期" in r.output and "未报" in r.output
    out = target / "workspace" / "outputs"
    wb = openpyxl.load_workbook(out / "master_ledger.xlsx")
    assert wb.sheetnames == ["一览表", "总台账", "报送情况", "提交记录", "问题清单"]
    states = [c.value for row in wb["报送情况"].iter_rows(min_row=2, min_col=3) for c in row]
    assert {"按时", "逾期", "未报（已过截止）"} <= {str(v).split("｜")[0] for v in states}
    outcomes = {row[4].value for row in wb["提交记录"].iter_rows(min_row=2)}
    assert outcomes == {"已汇入", "已被新文件取代", "拒收"}
    statuses = {row[0]: row for row in wb["总台账"].iter_rows(min_row=3, values_only=True)}
    assert len(statuses) == 29
    report = out / "reports" / "2025H2_总结报告.docx"
    text = "\n".join(p.text for p in docx.Document(str(report)).paragraphs)
    assert "2025年下半年工作进展情况报告" in text and "三、各单位报送情况" in text
    emls = sorted((out / "mail" / "2025H2").glob("*.eml"))
    kinds = {e.name.split("_")[1] for e in emls}
    assert kinds == {"remind", "report"}
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec.endswith("@example.com")
    assert len(list((target / "workspace" / "archive").iterdir())) >= 79
    # a second run replaces the demo folder cleanly
    again = CliRunner().invoke(cli, ["demo", str(target)])
    assert again.exit_code == 0, again.output


def test_demo_never_overwrites_a_folder_that_is_not_a_demo(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    r = CliRunner().invoke(cli, ["demo", str(tmp_path)])
    assert r.exit_code == 2 and "不是演示目录" in r.output
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
