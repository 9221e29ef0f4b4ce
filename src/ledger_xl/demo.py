"""The whole cycle on the bundled sample, in seconds: init, templates, ingest period by period, check,
master ledger, report, mail drafts. What a new user runs first, and what the end-to-end test runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .codes import Code
from .findings import LedgerError
from .reporting import LATE, MISSING, MISSING_OVERDUE

if TYPE_CHECKING:
    from .model import Ledger, Period
    from .workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
DEMO_MARK = ".ledger-xl-demo"
ARRIVALS = "arrivals.json"  # in the samples folder: when each sample return arrived
DEMO_CONTACTS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐斌", "孙丽", "马超", "朱琳"]


@dataclass
class DemoResult:
    root: Path
    lines: list[tuple[str, Path | None, str]] = field(default_factory=list)  # (what, where, what it shows)


def default_samples() -> Path:
    return REPO / "samples"


def default_definition() -> Path:
    return REPO / "workbook_templates" / "nanyang" / "ledger.xlsx"


def _prepare(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        if not (target / DEMO_MARK).exists():
            raise LedgerError.of(Code.EXISTS, path=target, what="已存在且不是演示目录，为避免覆盖", fix="请指定一个新目录。")
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)


def run_demo(target: Path, *, samples: Path | None = None, definition: Path | None = None,
             log: Callable[[str], None] = print) -> DemoResult:
    """The whole cycle on the bundled sample, in the six steps it prints."""
    samples = Path(samples or default_samples())
    returns = samples / "returns"
    if not returns.is_dir() or not (samples / "identity.json").exists():
        raise LedgerError.of(Code.NO_SAMPLES, problem=f"找不到示例数据 {returns}", fix="请在 ledger-xl 的源码目录中运行，或用 --samples 指定。")
    target = Path(target).resolve()
    _prepare(target)
    ws, ledger = _demo_workspace(target, samples, Path(definition or default_definition()))
    log(f"1/6 建立工作目录：{ws.root}（{len(ledger.tasks)} 项任务，{len(ledger.bureaus)} 个单位）")
    periods = [p for p in ledger.periods() if (returns / p.code).is_dir()]
    if not periods:
        raise LedgerError.of(Code.NO_SAMPLES, problem=f"{returns} 中没有任何报送期的文件夹", fix="")
    log(f"2/6 逐期生成模板并汇总收回的报表（{periods[0].label}—{periods[-1].label}）：")
    for p in periods:
        log(_collect_period(ws, returns, p))
    _show_refusals(ws, samples / "bad", log)
    report = _judge_and_write(ws, periods[-1], log)
    return DemoResult(target, _outputs(ws, periods[-1], report))


def _demo_workspace(target: Path, samples: Path, definition: Path) -> tuple[Workspace, Ledger]:
    """The sample ledger with example addresses (so the mail drafts have someone to go to), in a workspace
    signed with the samples' published demo key, its config filled in as a clerk would."""
    from .definition import load_ledger, save_definition
    from .workspace import init_workspace

    staging = target / "_definition.xlsx"
    ledger = load_ledger(definition)
    for i, b in enumerate(ledger.bureaus):
        b.contact = b.contact or DEMO_CONTACTS[i % len(DEMO_CONTACTS)]
        b.email = b.email or f"bureau{i + 1:02d}@example.com"
        b.phone = b.phone or f"139{i + 1:08d}"
    save_definition(ledger, staging)
    identity = json.loads((samples / "identity.json").read_text(encoding="utf-8"))
    ws = init_workspace(target / "workspace", staging, identity=identity)
    staging.unlink()
    (target / DEMO_MARK).write_text("ledger-xl demo\n", encoding="utf-8")
    cfg = ws.root / "ledger-xl.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8")
                   .replace('contact = ""', 'contact = "办公室 张伟 13900000001"')
                   .replace('sender = ""', 'sender = "office@example.com"')
                   .replace("report_recipients = []", 'report_recipients = ["领导 <leader@example.com>"]'), encoding="utf-8")
    return ws, ledger


def _collect_period(ws: Workspace, returns: Path, p: Period) -> str:
    """One period: its templates, its sample returns arriving when the samples say they did, ingested; the
    line that says what came in."""
    from .pipeline import ingest, make_templates, status

    arrivals_file = returns / ARRIVALS
    arrivals = json.loads(arrivals_file.read_text(encoding="utf-8")) if arrivals_file.exists() else {}
    make_templates(ws.root, p.code)
    inbox = ws.inbox / p.code
    inbox.mkdir(parents=True, exist_ok=True)
    for src in sorted((returns / p.code).iterdir()):
        dst = inbox / src.name
        shutil.copyfile(src, dst)
        when = arrivals.get(f"{p.code}/{src.name}")
        if when:
            ts = dt.datetime.fromisoformat(when).replace(tzinfo=ws.timezone).timestamp()  # the office's clock
            os.utime(dst, (ts, ts))
    rep = ingest(ws.root, [inbox])
    merged = sum(o.status == "merged" for o in rep.outcomes)
    superseded = sum(o.superseded for o in rep.outcomes)
    st = status(ws.root, p.code)
    late = [b.name for b in st.bureaus if b.state == LATE]
    missing = [b.name for b in st.bureaus if b.state in (MISSING, MISSING_OVERDUE)]
    return (f"    {p.label}：汇入 {merged} 份" + (f"（{superseded} 份为更正后重报）" if superseded else "")
            + (f"；逾期 {'、'.join(late)}" if late else "") + (f"；未报 {'、'.join(missing)}" if missing else ""))


def _show_refusals(ws: Workspace, bad: Path, log: Callable[[str], None]) -> None:
    from .pipeline import ingest

    if not bad.is_dir():
        return
    rep = ingest(ws.root, [bad])
    refused = [o for o in rep.outcomes if o.status == "refused"]
    log(f"3/6 典型错误样例：{len(refused)} 份被拒收，例如：")
    for o in refused[:3]:
        log(f"    {o.findings[0].render()}")


def _judge_and_write(ws: Workspace, latest: Period, log: Callable[[str], None]) -> Path:
    """Steps 4–6: check the latest period, write its report, draft the reminder and report mails."""
    from .pipeline import check, mail_drafts, make_report, plan_mail

    run = check(ws.root, latest.code)
    counts = "，".join(f"{k} {v}" for k, v in run.result.counts().items() if v)
    log(f"4/6 核对 {latest.label}：{counts}")
    report_date = dt.date(latest.year + (latest.end_month == 12), latest.end_month % 12 + 1, 15)
    report, _ = make_report(ws.root, latest.code, date=report_date)
    log(f"5/6 总结报告：{report}")
    drafts = []
    for kind in ("remind", "report"):
        plan, _ = plan_mail(ws.root, kind, latest.code)
        drafts += mail_drafts(ws.root, plan) if plan.messages else []
    log(f"6/6 邮件草稿（未发送）：{len(drafts)} 封")
    return report


def _outputs(ws: Workspace, latest: Period, report: Path) -> list[tuple[str, Path | None, str]]:
    return [
        ("总台账", ws.outputs / "master_ledger.xlsx", "各项任务的计划、累计完成、完成率、状态，报送情况和问题清单"),
        ("填报模板", ws.outputs / "templates" / latest.code, f"{latest.label}每个单位一份的填报表"),
        ("总结报告", report, "公文格式的进展情况报告，含图表"),
        ("邮件草稿", ws.outputs / "mail" / latest.code, "催报和报告邮件（.eml，可用邮件客户端打开）"),
        ("原件存档", ws.archive, "收到的每份文件，按 SHA-256 命名"),
    ]
