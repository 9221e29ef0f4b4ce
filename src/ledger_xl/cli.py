"""The command line: parse arguments, call one library function, print, exit (0 ok, 1 findings, 2 refused).

Heavy libraries are imported inside the commands so that `ledger-xl --help` stays instant.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .cli_zh import ZhGroup, install
from .codes import Code
from .findings import Finding, LedgerError, Severity

if TYPE_CHECKING:
    from .fetch import FetchReport
    from .reporting import BureauStatus

install()  # click's own texts (usage errors, help labels) in Chinese

EXIT_OK, EXIT_FINDINGS, EXIT_REFUSED = 0, 1, 2


def workspace_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-w", "--workspace", "workspace", type=click.Path(file_okay=False, path_type=Path),
                        default=Path("."), show_default=True, help="工作目录。")(f)


def period_option(example: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--period", default=None, help=f"报送期，如 {example}；月报写 2025M07、2025-07 或 2025年7月。"
                        "不写时取截止日期已过的最近一期（模板和催报取已结束的最近一期），并在第一行说明。")


def pick_period(workspace: Path, period: str | None, *, collecting: bool = False, err: bool = False) -> str:
    """The period to work on; when it was left out, the first line says which was taken (on stderr under --json)."""
    from .pipeline import choose_period

    code, why = choose_period(workspace, period, collecting=collecting)
    if why:
        click.echo(why, err=err)
    return code


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（便于脚本处理）。")(f)


def print_findings(findings: Iterable[Finding], *, err: bool = True) -> None:
    for x in findings:
        click.echo(x.render(), err=err)


def _dump(obj: object) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def _finish(master: Path | None, label: str, note: str, findings: bool) -> None:
    """The end of a command that rebuilt the master ledger: where it is, why it could not be written, exit code."""
    if master:
        click.echo(f"{label}：{master}")
    if note:
        click.echo("注意：" + note, err=True)
    if findings or note:  # a master ledger not replaced is something to fix: exit 1, never 0
        sys.exit(EXIT_FINDINGS)


def guarded(f: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library refusals into a Chinese message and exit code 2, never a traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except LedgerError as e:
            click.echo(f"错误：{e.message}", err=True)
            sys.exit(EXIT_REFUSED)
        except BrokenPipeError:
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - output piped into `head`; nothing to report
            sys.exit(EXIT_OK)
        except KeyboardInterrupt:
            click.echo("已中断。已写入的文件保持完整，可重新运行。", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as e:
            if os.environ.get("LEDGER_XL_DEBUG"):
                raise
            from .workspace import explain_failure

            known = explain_failure(e)
            if known is not None:
                click.echo(f"错误：{known.message}", err=True)
                sys.exit(EXIT_REFUSED)
            click.echo(f"内部错误（{type(e).__name__}: {e}）。请把这条信息和所用文件发给维护人员；"
                       "设置环境变量 LEDGER_XL_DEBUG=1 可看到详细信息。", err=True)
            sys.exit(EXIT_REFUSED)

    return wrapper


@click.group(cls=ZhGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ledger-xl", message="%(prog)s 版本 %(version)s")
def cli() -> None:
    """ledger-xl：用 Excel 和 Word 运转重点任务台账。

    \b
    先看演示：ledger-xl demo（用自带示例跑一遍完整流程）
    典型流程：
      ledger-xl import-ledger 台账.docx -o ledger.xlsx   导入 Word 或 Excel 台账
      ledger-xl init 工作目录 --ledger ledger.xlsx       建立工作目录
      ledger-xl templates --period 2024H1              生成各单位填报模板
      ledger-xl fetch                                  从办公邮箱收取报表、汇总并回复发件人
      ledger-xl ingest                                 汇总 inbox/ 中收回的报表
      ledger-xl check --period 2024H1                  对照计划核对进度
      ledger-xl report --period 2024H1                 生成总结报告
      ledger-xl mail remind --period 2024H1            催报未报送的单位
      ledger-xl history --period 2024H1 --bureau 单位   查看某单位各次报送改了什么
    """


@cli.command("import-ledger")
@click.argument("ledger_path", metavar="台账.docx|台账.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="写出的台账定义表（.xlsx）。")
@click.option("--sheet", default=None, help="Excel 台账有多张工作表像台账时，指定导入哪一张。")
@guarded
def import_ledger_cmd(ledger_path: Path, output: Path, sheet: str | None) -> None:
    """从 Word 或 Excel 台账表格导入，写出可编辑的台账定义表。"""
    from .definition import plan_findings, save_definition
    from .model import PERIOD_KIND_LABEL
    from .xlsximport import import_ledger

    result = import_ledger(ledger_path, sheet=sheet)
    ledger = result.ledger
    save_definition(ledger, output)
    findings = result.findings + plan_findings(ledger, file=output.name)
    n_metrics = sum(len(t.metrics) for t in ledger.tasks)
    n_ind = sum(len(t.indicators) for t in ledger.tasks)
    n_freq = sum(1 for t in ledger.tasks if t.frequency)
    n_del = sum(1 for t in ledger.tasks if t.deliverable)
    click.echo(f"已导入《{ledger.title}》：{len(ledger.tasks)} 项任务，{len(ledger.bureaus)} 个单位，"
               f"年份 {'、'.join(map(str, ledger.years))}，按{PERIOD_KIND_LABEL[ledger.period_kind]}报送。")
    click.echo(f"识别出 数量指标 {n_metrics} 个、比例指标 {n_ind} 个、定期工作 {n_freq} 项、成果文件 {n_del} 项。")
    click.echo("各列的读法：" + "；".join(f"{header} → {role}" for header, role in result.columns))
    click.echo(f"已写出定义表：{output}（请打开核对黄色表头的列，读错的直接改）")
    print_findings(findings, err=False)


@cli.group("ledger")
def ledger_group() -> None:
    """查看台账定义。"""


@ledger_group.command("show")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), help="台账定义表；默认用工作目录中的。")
@workspace_option
@json_option
@guarded
def ledger_show_cmd(ledger_path: Path | None, workspace: Path, as_json: bool) -> None:
    """显示台账定义（任务、指标、单位），并检查其中的错误。"""
    from .definition import load_definition
    from .model import FREQUENCY_LABEL, PERIOD_KIND_LABEL, fmt_number
    from .textui import table

    if ledger_path is None:
        from .workspace import open_workspace

        ledger_path = open_workspace(workspace).definition_path
    result = load_definition(ledger_path)
    ledger = result.ledger
    if as_json:
        _dump(ledger.to_json())
    else:
        click.echo(f"{ledger.title}（{'、'.join(map(str, ledger.years))}年；按{PERIOD_KIND_LABEL[ledger.period_kind]}报送"
                   + (f"，{ledger.deadline_rule.text}" if ledger.deadline_rule else "") + "）")
        rows = []
        for t in ledger.tasks:
            plan = "；".join(
                f"{m.name}：{'/'.join(fmt_number(m.yearly[y]) for y in ledger.years)}{m.unit}"
                + (f"（总 {m.target.label(m.unit)}）" if m.target else "") for m in t.metrics)
            plan = "；".join(p for p in [plan, *(i.threshold_label() for i in t.indicators),
                                          FREQUENCY_LABEL.get(t.frequency or "", "") + (f"{t.frequency_count}次" if t.frequency else ""),
                                          t.deliverable or "",
                                          f"完成时限 {t.deadline.isoformat()}" if t.deadline else ""] if p)
            rows.append([t.id, t.category, t.title, plan, "、".join(t.lead), "、".join(ledger.responsible_of(t))])
        click.echo(table(["序号", "指标分类", "重点任务", "计划", "牵头", "责任"], rows, max_width=34))
        click.echo("")
        click.echo(table(["单位", "成员", "联系人", "邮箱"], [[b.name, "是" if b.member else "否", b.contact, b.email] for b in ledger.bureaus]))
    print_findings(result.findings)
    if any(x.severity is Severity.ERROR for x in result.findings):
        sys.exit(EXIT_FINDINGS)


@cli.command("init")
@click.argument("directory", metavar="目录", type=click.Path(file_okay=False, path_type=Path))
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="台账定义表。")
@guarded
def init_cmd(directory: Path, ledger_path: Path) -> None:
    """建立工作目录（配置、定义表、数据库、inbox/、archive/、outputs/）。"""
    from .workspace import CONFIG_NAME, init_workspace

    ws = init_workspace(directory, ledger_path)
    click.echo(f"已建立工作目录：{ws.root}")
    click.echo(f"  配置：{CONFIG_NAME}（邮件、截止日期、联系人在这里改）")
    click.echo("  收回的报表放入 inbox/，原件存档在 archive/，生成的文件在 outputs/")


@cli.command("templates")
@period_option("2024H1、2024上半年、2024Q1")
@click.option("--bureau", "bureaus", multiple=True, help="只生成这个单位的模板（可重复）。")
@click.option("--zip", "make_zip", is_flag=True, help="另外打包成一个 zip，便于邮寄。")
@workspace_option
@guarded
def templates_cmd(period: str | None, bureaus: tuple[str, ...], make_zip: bool, workspace: Path) -> None:
    """为每个有任务的单位生成本期填报模板。"""
    from .pipeline import make_templates

    period = pick_period(workspace, period, collecting=True)
    run = make_templates(workspace, period, bureaus=list(bureaus), make_zip=make_zip)
    for name, path, meta in run.written:
        n = len({f.task_id for f in meta.fields if f.task_id})
        click.echo(f"  {name}：{n} 项任务 → {path}")
    click.echo(f"已生成 {run.period.label} 模板 {len(run.written)} 份。")
    if run.zip_path:
        click.echo(f"打包：{run.zip_path}")


@cli.command("ingest")
@click.argument("paths", metavar="[文件或目录]...", nargs=-1, type=click.Path(path_type=Path))
@click.option("--received", "received_text", metavar="时间",
              help="这些文件的收到时间，如 \"2024-07-05 09:30\"（办公所在时区）；不指定则用文件的修改时间。")
@workspace_option
@json_option
@guarded
def ingest_cmd(paths: tuple[Path, ...], received_text: str | None, workspace: Path, as_json: bool) -> None:
    """汇总收回的报表（默认：inbox/ 中的全部文件），合格的并入总台账。"""
    from .fsutil import display_name
    from .intake import parse_received
    from .pipeline import ingest

    received = parse_received(received_text) if received_text else None
    report = ingest(workspace, list(paths) or None, received_at=received)
    if as_json:
        _dump({"files": [{"file": str(o.path), "status": o.status, "bureau": o.bureau, "period": o.period,
                          "superseded_earlier": o.superseded, "note": o.note,
                          "annotated_copy": str(o.returned) if o.returned else None, "received_at": o.received_at,
                          "received_source": o.received_source,
                          "findings": [f.to_dict() for f in o.findings]} for o in report.outcomes],
               "master_ledger": str(report.master_ledger) if report.master_ledger else None,
               "seconds": {k: round(v, 3) for k, v in report.seconds.items()}})
    else:
        label = {"merged": "已汇入", "refused": "拒收", "duplicate": "重复", "skipped": "跳过"}
        for o in report.outcomes:
            who = f"{o.bureau} {o.period}" if o.bureau else ""
            extra = "（取代此前报送的文件）" if o.superseded else ""
            click.echo(" ".join(x for x in (f"[{label[o.status]}]", display_name(o.path.name), who + extra, o.note) if x))
            for f in o.findings:
                click.echo("    " + f.render())
            if o.returned:
                click.echo(f"    退回修改表（已填好原内容、标出问题，发回该单位改正后重报）：{o.returned}")
        n = {k: sum(1 for o in report.outcomes if o.status == k) for k in label}
        took = sum(report.seconds.values())
        click.echo(f"共 {len(report.outcomes)} 个文件：已汇入 {n['merged']}，拒收 {n['refused']}，重复 {n['duplicate']}，"
                   f"跳过 {n['skipped']}。" + (f"用时 {took:.1f} 秒。" if took >= 0.1 else ""))
    _finish(report.master_ledger if not as_json else None, "总台账", report.master_note, bool(report.refused))


def _secret(env: str, what: str, *, needed: bool = True) -> str | None:
    """A password or 授权码 from its environment variable, or asked for at a terminal; never from a file."""
    value = os.environ.get(env)
    if value is None and needed:
        if not sys.stdin.isatty():
            raise LedgerError.of(Code.SECRET_MISSING, what=what, env=env)
        value = click.prompt(f"{what}（密码或授权码）", hide_input=True)
    return value


@cli.command("fetch")
@click.option("--period", help="只收取这一报送期的报表；其他报送期的邮件留待以后收取。")
@click.option("--dry-run", is_flag=True, help="只列出将要收取的邮件和附件：不汇总、不标记、不回复。")
@click.option("--no-reply", is_flag=True, help="不给发件人回复。")
@workspace_option
@guarded
def fetch_cmd(period: str | None, dry_run: bool, no_reply: bool, workspace: Path) -> None:
    """从办公邮箱（IMAP）收取各单位报来的报表并汇总，收到时间以邮件到达时间为准，并回复每位发件人。"""
    from .fetch import fetch, imap_settings
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    settings = imap_settings(ws)
    password = _secret(settings.password_env, "收件邮箱授权码")
    smtp_env = str(ws.section("mail").get("password_env") or "LEDGER_XL_SMTP_PASSWORD")
    reply = not no_reply
    smtp_password = _secret(smtp_env, "发件邮箱授权码", needed=reply and not dry_run and bool(ws.section("mail").get("user")))
    rep = fetch(workspace, period_text=period, dry_run=dry_run, reply=reply, password=password, smtp_password=smtp_password)
    _print_fetch(rep)
    if rep.ingest is not None:
        _finish(rep.ingest.master_ledger, "总台账", rep.ingest.master_note, bool(rep.ingest.refused))


def _print_fetch(rep: FetchReport) -> None:
    label = {"merged": "已汇入", "refused": "拒收", "duplicate": "重复", "skipped": "跳过"}
    taken = [f for f in rep.messages if f.state == "taken"]
    click.echo(f"收件箱 {rep.mailbox}：新邮件 {len(rep.messages)} 封" + ("（试运行：未汇总、未标记、未回复）" if rep.dry_run else "") + "。")
    for f in rep.messages:
        m = f.incoming
        click.echo(f"{m.received_at:%Y-%m-%d %H:%M}  {m.sender or '（发件人无法识别）'}  《{m.subject or '（无主题）'}》"
                   + {"already": "  已由另一次收取处理", "left": f"  {f.note}"}.get(f.state, ""))
        if m.refusal:
            click.echo(f"    [未处理] 整封邮件：{m.refusal}")
        for o in f.outcomes:
            who = f" {o.bureau} {o.period}" if o.bureau else ""
            click.echo(f"    [{label[o.status]}] {o.path.name}{who}{(' ' + o.note) if o.note else ''}")
            for x in o.findings:
                click.echo("        " + x.render())
        if rep.dry_run or f.state != "taken":
            click.echo("".join(f"    附件 {a.name}\n" for a in m.attachments), nl=False)
        for name, why in m.not_returns:
            click.echo(f"    [未处理] {name}：{why}")
    sent = [r for r in rep.sent if r.outcome == "sent"]
    failed = [r for r in rep.sent if r.outcome == "failed"]
    if not rep.dry_run:
        click.echo(f"收取 {len(taken)} 封；回复已发送 {len(sent)} 封" + (f"，失败 {len(failed)} 封（下次 fetch 时补发）" if failed else "") + "。")
    for r in failed:
        click.echo(f"  回复 {'、'.join(a.addr_spec for a in r.message.to)} 失败：{r.detail}", err=True)
    for r in sent:
        if r.detail:
            click.echo(f"  注意：{r.detail}", err=True)
    for note in rep.notes:
        click.echo("注意：" + note, err=True)


@cli.command("status")
@period_option("2024H1")
@workspace_option
@json_option
@guarded
def status_cmd(period: str | None, workspace: Path, as_json: bool) -> None:
    """本期谁按时、逾期报送，谁被退回、谁未报（是否已过截止），各有多少问题。"""
    from .pipeline import status
    from .textui import table

    period = pick_period(workspace, period, err=as_json)
    rep = status(workspace, period)
    if as_json:
        _dump(rep.to_json())
        return
    click.echo(f"{rep.period.label} 报送情况（截止 {rep.deadline}，{rep.rule}）")
    from .store import RECEIVED_SOURCE_CN

    def when(b: BureauStatus) -> str:
        at = (b.received_at or "")[:16].replace("T", " ")
        return at + (f"（{b.corrected_at[:16].replace('T', ' ')} 更正）" if b.corrected_at else "")

    click.echo(table(["单位", "状态", "文件", "收到时间", "时间来源", "问题数"],
                     [[b.name, b.label, b.file_name or "", when(b), RECEIVED_SOURCE_CN.get(b.received_source or "", ""), b.n_findings]
                      for b in rep.bureaus]))
    click.echo("按时与否以首次通过校验的报表为准；收到时间为办公所在时区。")
    n = sum(1 for b in rep.bureaus if b.submitted)
    click.echo(f"已报 {n}/{len(rep.bureaus)}。")


@cli.command("history")
@click.option("--period", required=True, help="报送期，如 2024H1。")
@click.option("--bureau", required=True, help="单位全称，如 市交通运输局。")
@workspace_option
@json_option
@guarded
def history_cmd(period: str, bureau: str, workspace: Path, as_json: bool) -> None:
    """某单位本期报送过的每一份文件（先收到的在前）：收到时间、结果、问题数，与上一份相比改了什么。"""
    from .pipeline import history
    from .returns import when_shown

    h = history(workspace, period, bureau)
    if as_json:
        _dump(h.to_json())
        return
    if not h.returns:
        click.echo(f"{h.bureau} {h.period.label} 尚未收到报表。")
        return
    click.echo(f"{h.bureau} {h.period.label} 共收到 {len(h.returns)} 份：")
    for i, r in enumerate(h.returns, start=1):
        outcome = "已汇入" if r.outcome == "merged" else "拒收"
        click.echo(f"{i}. {when_shown(r.received_at)}  {r.file}  {outcome}（问题 {r.findings} 处）")
        if r.compared:
            click.echo(f"   与上一份相比改动 {len(r.changes)} 处" + ("：" if r.changes else "。"))
        elif not r.readable:
            click.echo("   整份文件被拒收，表中内容未能读取。")
        for c in r.changes:
            click.echo(f"     {c.cell} {c.field}：{c.old or '（空）'} → {c.new or '（空）'}")


@cli.command("check")
@period_option("2024H2")
@workspace_option
@json_option
@guarded
def check_cmd(period: str | None, workspace: Path, as_json: bool) -> None:
    """对照计划核对截至本期的进度；有滞后或未达标时退出码为 1。"""
    from .pipeline import check
    from .reporting import REFUSED
    from .textui import table

    period = pick_period(workspace, period, err=as_json)
    run = check(workspace, period)
    res = run.result
    if as_json:
        _dump(res.to_json())
    else:
        click.echo(f"{res.period.label} 进度核对")
        click.echo(table(["序号", "状态", "说明"], [[t.id, t.status, "；".join(t.reasons)] for t in res.tasks], max_width=90))
        counts = res.counts()
        click.echo("合计：" + "，".join(f"{k} {v}" for k, v in counts.items() if v))
        refused = [b.name + b.label.removeprefix(REFUSED) for b in res.bureaus if b.state == REFUSED]
        missing = [b.name + ("（已过截止）" if b.late else "") for b in res.bureaus if not b.submitted and b.state != REFUSED]
        if refused:
            click.echo(f"本期被退回待重报：{'、'.join(refused)}")
        if missing:
            click.echo(f"本期未报送：{'、'.join(missing)}")
    _finish(run.master_ledger if not as_json else None, "已写入总台账", run.master_note, bool(res.behind))


@cli.command("report")
@period_option("2024H2")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="报告文件（.docx）；默认 outputs/reports/。")
@click.option("--date", "date_text", help="成文日期，如 2024-07-15；默认今天。")
@workspace_option
@guarded
def report_cmd(period: str | None, output: Path | None, date_text: str | None, workspace: Path) -> None:
    """生成本期总结报告（Word，公文格式，含图表）。"""
    import datetime as dt

    from .pipeline import make_report

    try:
        date = dt.date.fromisoformat(date_text) if date_text else None
    except ValueError:
        raise LedgerError.of(Code.DATE_FORMAT, text=date_text) from None
    # the period is chosen inside, after the chart process has started
    path, result = make_report(workspace, period, output, date=date, said=click.echo)
    counts = "，".join(f"{k} {v}" for k, v in result.counts().items() if v)
    click.echo(f"已生成总结报告：{path}")
    click.echo(f"{result.period.label}：{counts}。")


@cli.command("export")
@click.option("--period", help="只导出这一报送期，如 2024H1。")
@click.option("--all", "all_periods", is_flag=True, help="导出全部报送期。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="导出文件：.xlsx 或 .csv（UTF-8，Excel 可直接打开）。")
@workspace_option
@guarded
def export_cmd(period: str | None, all_periods: bool, output: Path, workspace: Path) -> None:
    """导出已汇总的数据，每个填报值一行（单位、报送期、任务、项目、值、来源），便于分析。"""
    from .pipeline import export_values

    if bool(period) == all_periods:
        raise LedgerError.of(Code.USAGE_EXPORT_PERIOD)
    path, n = export_values(workspace, output, period)
    click.echo(f"已导出 {n} 行：{path}")


@cli.group("mail")
def mail_group() -> None:
    """发送邮件：模板、催报、报告（--dry-run 只写出 .eml，不发送）。"""


def _confirmed(question: str) -> bool:
    """y/n from the clerk; "n", Ctrl-D or an empty input all mean no."""
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        return False


def _before_deadline_option(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if kind != "remind":
        return lambda f: f
    return click.option("--before-deadline", "before_deadline", type=click.IntRange(min=0), metavar="天数",
                        help="截止前这么多天起，提醒尚未报送的单位（每个单位每期只提醒一次，适合每天定时运行）；"
                             "不写 --period 时取下一个截止的报送期。")


def _mail_command(kind: str, help_text: str) -> None:
    @mail_group.command(kind, help=help_text)
    @period_option("2024H1")
    @_before_deadline_option(kind)
    @click.option("--dry-run", is_flag=True, help="只把邮件写成 outputs/mail/<报送期>/*.eml，不发送。")
    @click.option("--yes", is_flag=True, help="不再询问，直接发送（用于脚本）。")
    @workspace_option
    @guarded
    def command(period: str | None, dry_run: bool, yes: bool, workspace: Path, before_deadline: int | None = None) -> None:
        from .pipeline import check_mail_settings, mail_drafts, mail_send, plan_early_reminders, plan_mail
        from .textui import table

        if before_deadline is not None:  # without --period: the period whose deadline comes next
            plan, ws = plan_early_reminders(workspace, before_deadline, period)
        else:
            period = pick_period(workspace, period, collecting=kind != "report")
            plan, ws = plan_mail(workspace, kind, period)
        rows = [[m.bureau or "—", "、".join(a.addr_spec for a in m.to), m.subject, m.attachment_name or ""] for m in plan.messages]
        click.echo(table(["单位", "收件人", "主题", "附件"], rows, max_width=46) if rows else "没有需要发送的邮件。")
        for who, why in plan.skipped:
            click.echo(f"  跳过 {who}：{why}")
        if not plan.messages:
            return
        if dry_run:
            results = mail_drafts(workspace, plan)
            click.echo(f"已写出 {len(results)} 封邮件草稿（未发送）：{Path(results[0].detail).parent}")
            return
        check_mail_settings(workspace)
        if not yes and not _confirmed(f"确认发送以上 {len(plan.messages)} 封邮件？"):
            click.echo("已取消，未发送。")
            return
        env = str(ws.section("mail").get("password_env") or "LEDGER_XL_SMTP_PASSWORD")
        password = os.environ.get(env)
        if password is None and ws.section("mail").get("user"):
            if yes or not sys.stdin.isatty():
                raise LedgerError.of(Code.MAIL_PASSWORD, env=env)
            password = click.prompt("邮箱密码或授权码", hide_input=True)
        results = mail_send(workspace, plan, password)
        label = {"sent": "已发送", "failed": "失败", "already-sent": "此前已发送"}
        click.echo(table(["单位", "结果", "说明"], [[r.message.bureau or "—", label[r.outcome], r.detail] for r in results], max_width=60))
        failed = [r for r in results if r.outcome == "failed"]
        if failed:
            click.echo(f"{len(failed)} 封发送失败；修正后再次运行同一命令，只会补发未发出的邮件。", err=True)
            sys.exit(EXIT_FINDINGS)


_mail_command("templates", "把本期模板发给各单位。")
_mail_command("remind", "提醒未报送或被退回的单位（附退回原因和模板）。")
_mail_command("report", "把本期总结报告发给配置中的收件人。")


@cli.command("backup")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="备份文件（.zip）；默认 outputs/backups/台账备份_<时间>.zip。")
@workspace_option
@guarded
def backup_cmd(output: Path | None, workspace: Path) -> None:
    """备份工作目录：数据库、签名密钥、配置、定义表和存档清单，合成一个文件。"""
    from .recovery import backup

    rep = backup(workspace, output)
    click.echo(f"已备份：{rep.path}（提交记录 {rep.n_submissions} 条，存档原件清单 {rep.n_archived} 份）")
    click.echo("请把备份文件另存到 U 盘或其他电脑；恢复时运行 ledger-xl restore 备份文件。")


@cli.command("restore")
@click.argument("backup_file", metavar="BACKUP.zip", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
@guarded
def restore_cmd(backup_file: Path, workspace: Path) -> None:
    """从备份恢复工作目录（原有的数据库等文件改名保留，不删除）。"""
    from .recovery import restore

    rep = restore(workspace, backup_file)
    click.echo(f"已恢复到 {rep.root}：提交记录 {rep.n_submissions} 条。")
    for p in rep.set_aside:
        click.echo(f"  原有文件已改名保留：{p.name}")
    if rep.missing_originals:
        click.echo(f"注意：archive/ 中缺少 {len(rep.missing_originals)} 份原件（如 {rep.missing_originals[0]}）；"
                   "数据已在数据库中，缺少的只是原件存档。如有原件备份，请放回 archive/。", err=True)
    click.echo("请运行 ledger-xl status 核对，再运行 ledger-xl check 重新生成总台账。")


@cli.command("rebuild")
@workspace_option
@guarded
def rebuild_cmd(workspace: Path) -> None:
    """数据库丢失或损坏时，用 archive/ 中的原件按收到顺序重建数据库。"""
    from .recovery import rebuild

    rep = rebuild(workspace)
    if rep.set_aside:
        click.echo(f"损坏的数据库已改名保留：{rep.set_aside.name}")
    click.echo(f"已用 archive/ 中的 {rep.n_files} 份原件重建数据库。")
    if rep.without_record:
        click.echo(f"注意：其中 {rep.without_record} 份没有收件记录，文件名和收到时间按存档文件计。", err=True)
    click.echo("邮件发送记录无法重建；请运行 ledger-xl check 重新核对。")


@cli.command("demo")
@click.argument("directory", metavar="[目录]", required=False, type=click.Path(file_okay=False, path_type=Path), default=Path("outputs/demo"))
@click.option("--samples", type=click.Path(file_okay=False, path_type=Path), help="示例数据目录（默认：源码中的 samples/）。")
@guarded
def demo_cmd(directory: Path, samples: Path | None) -> None:
    """用自带的南阳示例数据演示完整流程（默认写到 outputs/demo）。"""
    from .demo import run_demo

    result = run_demo(directory, samples=samples, log=click.echo)
    click.echo("")
    click.echo("完成。生成的文件：")
    for what, where, shows in result.lines:
        click.echo(f"  {what}：{where}\n      {shows}")


def main() -> None:
    cli(prog_name="ledger-xl")


if __name__ == "__main__":
    main()
