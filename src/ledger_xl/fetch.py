"""`ledger-xl fetch`: take the returns from the office mailbox, ingest them, answer every sender.

Exactly once, whenever the process is killed: messages are recorded as taken (mailbox, UIDVALIDITY, UID)
in the same store transaction as the files they carried, and the answers to send are queued in that
transaction too. Only after the commit are the messages marked on the server (keyword or move) and the
answers sent. Killed before the commit, nothing was taken and a rerun takes them all; killed after it,
a rerun finds them recorded, marks them, and sends what is still queued.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .codes import Code
from .findings import LedgerError
from .fsutil import write_bytes_atomic
from .imapfetch import ImapSettings, Incoming
from .intake import Arrival, FileOutcome, IngestReport, ingest_files
from .model import DEFAULT_ISSUER, Period
from .workspace import Workspace, open_store, open_workspace, workspace_lock, ws_ledger

if TYPE_CHECKING:
    from imapclient import IMAPClient

    from .mail import Outgoing, SendResult
    from .store import Store

FETCH_LOCK = ".ledger-xl.fetch.lock"


@dataclass
class Fetched:
    """One message and what became of it: taken (its files' outcomes), already taken, or left for later."""

    incoming: Incoming
    state: str = "taken"  # taken / already / left
    outcomes: list[FileOutcome] = field(default_factory=list)
    answer: Outgoing | None = None
    note: str = ""


@dataclass
class FetchReport:
    mailbox: str
    messages: list[Fetched]
    ingest: IngestReport | None = None
    sent: list[SendResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False


def imap_settings(ws: Workspace) -> ImapSettings:
    return ImapSettings.from_config(ws.section("imap"))


def fetch(root: Path, *, period_text: str | None = None, dry_run: bool = False, reply: bool = True,
          password: str | None = None, smtp_password: str | None = None) -> FetchReport:
    """Take every message not taken before; with `period_text`, returns for other periods wait for a later fetch."""
    from .imapfetch import connect, fetch_bodies, new_messages, select, take_apart

    ws = open_workspace(root)
    settings = imap_settings(ws)
    period = Period.parse(period_text) if period_text else None
    if reply and not dry_run:
        _smtp_ready(ws)
    with workspace_lock(ws, what="收取邮件", name=FETCH_LOCK):
        client = connect(settings, password)
        try:
            uidvalidity = select(client, settings.folder, readonly=dry_run)
            with open_store(ws) as store:
                taken = store.taken_uids(settings.mailbox, uidvalidity)
            with _connection_lost(settings, "尚未收取任何邮件"):
                fresh, unmarked = new_messages(client, taken, settings.keyword, ws.timezone)
                got = [Fetched(take_apart(m, raw, whole)) for m, raw, whole in fetch_bodies(client, fresh)]
            got.sort(key=lambda f: (f.incoming.received_at, f.incoming.uid))
            if period is not None:
                _leave_other_periods(got, period)
            report = FetchReport(f"{settings.user}（{settings.folder}）", got, dry_run=dry_run)
            if dry_run:
                return report
            report.ingest = _take(ws, settings, uidvalidity, got, reply=reply)
            _mark(client, settings, report, unmarked)
        finally:
            _logout(client)
    if reply:
        report.sent = send_queued(ws, smtp_password, report.notes)
    return report


@contextlib.contextmanager
def _connection_lost(settings: ImapSettings, state: str) -> Iterator[None]:
    """The server or network failing mid-way: one line saying what state things are in."""
    from imapclient.exceptions import IMAPClientError

    try:
        yield
    except (OSError, IMAPClientError) as e:
        raise LedgerError.of(Code.IMAP_LOST, host=f"{settings.host}:{settings.port}", why=f"{type(e).__name__}: {e}", state=state) from e


def _smtp_ready(ws: Workspace) -> None:
    cfg = ws.section("mail")
    missing = [what for key, what in (("host", "发信服务器（host）"), ("sender", "发件地址（sender）"))
               if not str(cfg.get(key) or (cfg.get("user") if key == "sender" else "") or "").strip()]
    if missing:
        raise LedgerError.of(Code.MAIL_CONFIG_TEXT, missing="和".join(missing))


def _take(ws: Workspace, settings: ImapSettings, uidvalidity: int, got: list[Fetched], *, reply: bool) -> IngestReport:
    """Save the workbooks, ingest them with each message's time and sender, and record the messages taken and
    the answers to send — all in the ingest's one transaction."""
    folder = ws.root / "mail" / f"{uidvalidity}"
    arrivals: dict[Path, Arrival] = {}
    for f in got:
        if f.state != "taken" or f.incoming.refusal:
            continue
        for a in f.incoming.attachments:
            a.saved = _save(folder / f"{f.incoming.uid}", a.name, a.data, f.incoming.received_at, ws.timezone)
            arrivals[a.saved] = Arrival(f.incoming.received_at, "mail", f.incoming.sender)

    def record(store: Store, outcomes: list[FileOutcome]) -> None:
        by_path = {o.path: o for o in outcomes}
        for f in got:
            if f.state != "taken":
                continue
            m = f.incoming
            if not store.record_taken(mailbox=settings.mailbox, uidvalidity=uidvalidity, uid=m.uid, received_at=m.received_at,
                                      sender=m.sender, message_id=m.message_id, subject=m.subject, outcome=_summary(m)):
                f.state = "already"  # another fetch took it meanwhile
                continue
            f.outcomes = [by_path[a.saved] for a in m.attachments if a.saved in by_path]
            if reply and m.sender and not m.automatic and not _own(ws, m.sender):
                try:
                    f.answer = compose_answer(ws, f)
                except LedgerError as e:  # an address we cannot write to: taken all the same, not answered
                    f.note = f"未回复：{e.message}"
                    continue
                store.queue_mail(f.answer.content_key, f.answer.to_json())

    return ingest_files(ws, ws_ledger(ws), list(arrivals), arrivals=arrivals, before_commit=record)


def _save(folder: Path, name: str, data: bytes, when: dt.datetime, tz: dt.tzinfo) -> Path:
    """Keep an attachment under the name it was sent with (a clash gets (2), (3)…), dated when it arrived, so
    that ingest reads a message's files in the order they came."""
    from .templates import safe_filename

    folder.mkdir(parents=True, exist_ok=True)
    base = safe_filename(name)
    path, n = folder / base, 1
    while path.exists() and path.read_bytes() != data:
        n += 1
        path = folder / f"{Path(base).stem}({n}){Path(base).suffix}"
    write_bytes_atomic(path, data)
    t = when.replace(tzinfo=tz).timestamp()
    os.utime(path, (t, t))
    return path


def _summary(m: Incoming) -> str:
    if m.refusal:
        return "refused"
    if m.automatic:
        return "automatic"
    return "returns" if m.attachments else "no-returns"


def _own(ws: Workspace, addr: str) -> bool:
    """A message from the office's own address is never answered (no loop through our own mailbox)."""
    mine = {str(ws.section("mail").get(k) or "").strip().lower() for k in ("sender", "user")}
    mine.add(str(ws.section("imap").get("user") or "").strip().lower())
    return addr.strip().lower() in mine - {""}


def _leave_other_periods(got: list[Fetched], period: Period) -> None:
    """With --period: a message carrying a return of another period is left untaken, for a later fetch."""
    from .ingest import read_meta
    from .xlsxread import XlsxError, read_package

    for f in got:
        for a in f.incoming.attachments:
            if a.suffix not in (".xlsx", ".xlsm"):
                continue
            try:
                meta = read_meta(read_package(Path(a.name), data=a.data))
            except (XlsxError, OSError, ValueError):
                continue
            if meta is not None and meta.period != period.code:
                f.state, f.note = "left", f"报送期为 {meta.period}，不是 {period.code}，留待以后收取"
                break


def _mark(client: IMAPClient, settings: ImapSettings, report: FetchReport, unmarked: list[int]) -> None:
    from imapclient.exceptions import IMAPClientError

    from .imapfetch import mark_taken

    uids = [f.incoming.uid for f in report.messages if f.state in ("taken", "already")] + unmarked
    try:
        mark_taken(client, settings, sorted(set(uids)))
    except LedgerError as e:
        report.notes.append(e.message)
    except (OSError, IMAPClientError) as e:  # taken and recorded already: the next fetch marks them
        report.notes.append(f"邮件已收取并记录，但未能在服务器上标记（{type(e).__name__}: {e}）；下次 fetch 时补标，不会重复收取。")


def _logout(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):  # the work is done and recorded; a failing goodbye changes nothing
        client.logout()


# ---------------------------------------------------------------- answers


def compose_answer(ws: Workspace, f: Fetched) -> Outgoing:
    """The answer to one message taken, in the words of `mail.answer`."""
    from .mail import address, answer
    from .mailtext import SUPERSEDED_NOTE, AnswerItem

    m = f.incoming
    items = []
    for o in f.outcomes:
        label = Period.parse(o.period).label if o.period else None
        findings = tuple(x.render().removeprefix("[错误] ") for x in o.findings if str(x.severity) == "error")
        note = SUPERSEDED_NOTE if o.superseded else ""
        items.append(AnswerItem(_sent_name(m, o.path), o.status, o.bureau, label, findings, o.note or note))
    items += [AnswerItem(name, "not-return", note=why) for name, why in m.not_returns]
    cfg_t, cfg_m = ws.section("templates"), ws.section("mail")
    office = str(cfg_m.get("sender_name") or cfg_t.get("issuer") or DEFAULT_ISSUER)
    return answer([address(m.sender_name, m.sender or "", who="发件人")], subject=m.subject, in_reply_to=m.message_id,
                  references=m.references, received=m.received_at, items=items, refusal=m.refusal, office=office,
                  contact=str(cfg_t.get("contact") or ""), today=ws.now().date(), attachment=_annotated_copy(ws, f))


def _sent_name(m: Incoming, path: Path) -> str:
    return next((a.name for a in m.attachments if a.saved == path), path.name)


def _annotated_copy(ws: Workspace, f: Fetched) -> Path | None:
    """Where the refused return's annotated copy (outputs/returns/<period>/<unit>_退回修改.xlsx) is written. It is
    written just after the transaction this answer is queued in; a copy that was not made is left out at sending."""
    from .returns import annotated_path

    for o in f.outcomes:
        if o.status == "refused" and o.bureau and o.period:
            return annotated_path(ws.outputs, o.bureau, o.period)
    return None


def _without_missing_copy(m: Outgoing) -> Outgoing:
    """An answer whose annotated copy was not made (a file refused as a whole) goes without it."""
    from .mailtext import ANSWER_COPY_LINE

    if m.attachment is not None and not m.attachment.is_file():
        m.attachment, m.attachment_name = None, None
        m.body = m.body.replace(ANSWER_COPY_LINE, "")
    return m


def send_queued(ws: Workspace, password: str | None, notes: list[str]) -> list[SendResult]:
    """Send every queued answer not yet sent (this run's, and a killed run's); each sent one kept in sent_folder."""
    from .imapfetch import sent_keeper
    from .mail import MailPlan, Outgoing, SmtpSettings, send_all

    settings = SmtpSettings.from_config(ws.section("mail"))
    settings.timezone = ws.timezone
    with workspace_lock(ws, what="发送回复"), open_store(ws) as store:
        plan = MailPlan("reply", "", [_without_missing_copy(Outgoing.from_json(q)) for q in store.queued_mail()])
        if not plan.messages:
            return []
        keep, close = sent_keeper(imap_settings(ws), ws.timezone)
        try:
            return send_all(plan, settings, password, store, on_sent=keep)
        except LedgerError as e:
            notes.append(f"回复未能发出（{e.message}）；已记下，下次 fetch 时补发。")
            return []
        finally:
            close()
