"""Mail planning: who gets which message — templates to every bureau, reminders to the missing and the
refused, the report to its readers — and handing the plan to drafts or to the SMTP server.

Why apart from mail.py and mailtext.py: mail.py builds and sends messages, mailtext.py holds their
wording; this stage reads the workspace, the store and the period's standing to decide what is sent to
whom, with which attachment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .codes import Code
from .findings import LedgerError
from .model import DEFAULT_ISSUER, Ledger, Period, check_period_in
from .reporting import MISSING, REFUSED, StatusReport, period_status
from .workspace import Workspace, open_store, workspace_lock

if TYPE_CHECKING:
    from email.headerregistry import Address

    from .mail import MailPlan, SendResult, SmtpSettings


@dataclass
class _MailRun:
    """What every kind of message needs: the workspace, the period, the office's signature."""

    ws: Workspace
    ledger: Ledger
    period: Period
    plan: MailPlan
    due: str
    contact: str
    sign: str

    def addresses_of(self, name: str) -> list[Address]:
        """A bureau's addresses from the 单位 sheet; a bureau without a usable one is listed as skipped."""
        from .mail import bureau_addresses

        b = self.ledger.bureau(name)
        if b is None or not b.email.strip():
            self.plan.skipped.append((name, "“单位”表中没有电子邮箱，未发送"))
            return []
        try:
            return bureau_addresses(b.name, b.contact, b.email)
        except LedgerError as e:
            self.plan.skipped.append((name, e.message))
            return []

    def template_of(self, name: str) -> tuple[Path, str]:
        """The bureau's template for the period (written if missing) and the name it is attached under."""
        from .templates import safe_filename, workspace_templates

        path = self.ws.outputs / "templates" / self.period.code / f"{safe_filename(name)}.xlsx"
        if not path.exists():
            workspace_templates(self.ws, self.ledger, self.period, bureaus=[name])
        return path, f"{safe_filename(name)}_{self.period.code}_填报模板.xlsx"


def plan_mail(ws: Workspace, ledger: Ledger, kind: str, period: Period) -> MailPlan:
    """Who gets what: templates to every bureau, reminders to the missing and refused, the report to its readers."""
    from .mail import MailPlan
    from .mailtext import signature
    from .report import cn_date

    planners = {"templates": _plan_templates, "remind": _plan_reminders, "report": _plan_report}
    if kind not in planners:
        raise LedgerError.of(Code.USAGE_MAIL_KIND, kind=kind)
    cfg_t, cfg_m = ws.section("templates"), ws.section("mail")
    sender_name = str(cfg_m.get("sender_name") or cfg_t.get("issuer") or DEFAULT_ISSUER)
    run = _MailRun(ws, ledger, period, MailPlan(kind, period.code), cn_date(ws.deadline_rule(ledger).due(period)),
                   str(cfg_t.get("contact") or ""), signature(sender_name, cn_date(dt.date.today())))
    planners[kind](run)
    return run.plan


def _plan_templates(run: _MailRun) -> None:
    """Every bureau with a task gets its own template and the notice."""
    from .mail import Outgoing
    from .mailtext import template_notice

    index = run.ledger.role_index()
    for name in run.ledger.bureaus_with_tasks():
        to = run.addresses_of(name)
        if not to:
            continue
        roles = index.get(name, [])
        n_lead = sum(1 for _, r in roles if r == "lead")
        subject, body = template_notice(name, ledger_title=run.ledger.title, period_label=run.period.label, n_lead=n_lead,
                                        n_responsible=len(roles) - n_lead, due=run.due, contact=run.contact, sign=run.sign)
        run.plan.messages.append(Outgoing("templates", run.period.code, name, to, subject, body, *run.template_of(name)))


def _plan_reminders(run: _MailRun) -> None:
    """Bureaus that have not submitted, or whose file was refused (with its findings), get their template again."""
    from .mail import Outgoing
    from .mailtext import missing_reminder, refused_reminder
    from .returns import annotated_copy
    from .templates import safe_filename

    st = _standing(run.ws, run.ledger, run.period)
    with open_store(run.ws) as store:
        for b in st.bureaus:
            if b.submitted:
                continue
            to = run.addresses_of(b.name)
            if not to:
                continue
            attachment: tuple[Path, str] | None = None
            if b.state == REFUSED:
                sub = store.returns_of(b.name, run.period.code)[-1]
                found = [f for f in store.submission_findings(sub.id) if str(f.severity) == "error"]
                copy = annotated_copy(run.ws, b.name, run.period.code)
                if copy is not None:  # their own return, findings marked: only those cells to correct
                    attachment = copy, f"{safe_filename(b.name)}_{run.period.code}_退回修改.xlsx"
                subject, body = refused_reminder(b.name, period_label=run.period.label, received=sub.received_at[:10],
                                                 file_name=sub.file_name, due=run.due, findings=found, sign=run.sign,
                                                 annotated=copy is not None)
            else:
                subject, body = missing_reminder(b.name, period_label=run.period.label, due=run.due, contact=run.contact,
                                                 sign=run.sign)
            run.plan.messages.append(Outgoing("remind", run.period.code, b.name, to, subject, body,
                                              *(attachment or run.template_of(b.name))))


def _plan_report(run: _MailRun) -> None:
    """The period's report (written if missing) to report_recipients."""
    from .checks import check_store
    from .mail import Outgoing, config_recipients
    from .mailtext import report_cover
    from .report import report_title, write_period_report

    recipients = list(run.ws.section("mail").get("report_recipients") or [])
    if not recipients:
        run.plan.skipped.append(("报告收件人", "ledger-xl.toml 的 [mail] report_recipients 为空，未发送"))
        return
    try:
        to = config_recipients(recipients)
    except LedgerError as e:
        raise LedgerError.of(Code.MAIL_CONFIG, problem=f"ledger-xl.toml 的 report_recipients 有误：{e.message.rstrip('。')}",
                             fix="请改正后重试") from e
    path = run.ws.outputs / "reports" / f"{run.period.code}_总结报告.docx"
    if not path.exists():
        path, _ = write_period_report(run.ws, run.ledger, run.period)
    title = report_title(run.ledger, run.period)
    with open_store(run.ws) as store:
        counts = check_store(run.ledger, store, run.period, run.ws.deadline_rule(run.ledger)).counts()
    subject, body = report_cover(title, n_tasks=len(run.ledger.tasks), counts=counts, sign=run.sign)
    run.plan.messages.append(Outgoing("report", run.period.code, None, to, subject, body, path, f"{title}.docx"))


def plan_early_reminders(ws: Workspace, ledger: Ledger, days: int, period_text: str | None = None) -> MailPlan:
    """`mail remind --before-deadline N`: from N days before the deadline until it, remind the bureaus that have
    sent nothing — each once a period, so a daily scheduled run sends each reminder once."""
    from .mail import MailPlan

    rule = ws.deadline_rule(ledger)
    today = ws.now().date()
    if period_text:
        period: Period | None = Period.parse(period_text)
    else:  # the period whose deadline comes next
        period = min((p for p in ledger.periods() if rule.due(p) >= today), key=rule.due, default=None)
    if period is None:
        plan = MailPlan("remind", "")
        plan.skipped.append(("全部报送期", "没有尚未截止的报送期，不需要提前提醒"))
        return plan
    due = rule.due(period)
    plan = MailPlan("remind", period.code)
    if today < due - dt.timedelta(days=days):
        plan.skipped.append((period.label, f"截止日期为 {due}，还有 {(due - today).days} 天；截止前 {days} 天起才提醒"))
        return plan
    if today > due:
        plan.skipped.append((period.label, f"已过截止日期 {due}，提前提醒不再发送；催报请用 ledger-xl mail remind --period {period.code}"))
        return plan
    check_period_in(ledger, period)
    full = plan_mail(ws, ledger, "remind", period)
    missing = {b.name for b in _standing(ws, ledger, period).bureaus if b.state == MISSING}
    with open_store(ws, readonly=True) as store:
        reminded = store.mailed_bureaus("remind-early", period.code)
    for m in full.messages:
        if m.bureau not in missing:
            continue
        if m.bureau in reminded:
            plan.skipped.append((m.bureau, "本期已提前提醒过"))
            continue
        m.kind = "remind-early"
        plan.messages.append(m)
    plan.skipped += full.skipped
    return plan


def _standing(ws: Workspace, ledger: Ledger, period: Period) -> StatusReport:
    """Where each bureau's return for the period stands today."""
    with open_store(ws, readonly=True) as store:
        return period_status(ledger, store, period, ws.deadline_rule(ledger), today=ws.now().date())


def mail_drafts(ws: Workspace, plan: MailPlan) -> list[SendResult]:
    """The plan written as .eml drafts under outputs/mail/<period>, to open and send by hand."""
    from .mail import SmtpSettings, write_drafts

    settings = SmtpSettings.from_config(ws.section("mail"))
    sender = settings.sender_address() if settings.sender else _placeholder_sender(settings)
    return write_drafts(plan, ws.outputs / "mail" / plan.period, sender, ws.timezone)


def _placeholder_sender(settings: SmtpSettings) -> Address:
    from .mail import address

    return address(settings.sender_name or DEFAULT_ISSUER, "office@example.invalid", who="发件人")


def check_mail_settings(ws: Workspace) -> None:
    """The [mail] settings that sending needs, checked before the clerk is asked to confirm."""
    from .mail import SmtpSettings

    SmtpSettings.from_config(ws.section("mail")).check()


def mail_send(ws: Workspace, plan: MailPlan, password: str | None) -> list[SendResult]:
    """Send the plan through the SMTP server (each message logged in the store), a copy of each in sent_folder."""
    from .imapfetch import ImapSettings, sent_keeper
    from .mail import SmtpSettings, send_all

    settings = SmtpSettings.from_config(ws.section("mail"))
    settings.timezone = ws.timezone
    keep, close = sent_keeper(ImapSettings.from_config(ws.section("imap")), ws.timezone)  # a copy of each in sent_folder
    try:
        with workspace_lock(ws, what="发送邮件"), open_store(ws) as store:
            return send_all(plan, settings, password, store, on_sent=keep)
    finally:
        close()
