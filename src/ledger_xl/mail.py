"""Mail: templates to bureaus, reminders to the late, the report to its readers.

Messages are built with the email package's header objects (Address), so a name holding a comma or a
line break can never add a recipient. Attachment names carry both an RFC 2231 filename* and RFC 2047
name=/filename= parameters, unsplit, so Outlook, Foxmail and QQ/163 web mail all show the Chinese name.
TLS always verifies certificates (a CA file may be configured for an internal server); there is no
switch to turn that off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .addresses import address_problem, split_addresses
from .codes import Code
from .crashpoint import crash_point
from .findings import LedgerError
from .fsutil import write_bytes_atomic

if TYPE_CHECKING:
    from .mailtext import AnswerItem
    from .store import Store

# unlimited line length: long parameters stay whole instead of being split into name*0*, name*1*…
WIRE_POLICY = policy.SMTP.clone(max_line_length=None)
MIME_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              ".zip": "application/zip", ".pdf": "application/pdf"}
_CTRL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Outgoing:
    kind: str  # templates / remind / report
    period: str
    bureau: str | None
    to: list[Address]
    subject: str
    body: str
    attachment: Path | None = None
    attachment_name: str | None = None
    # an answer to a message received: its Message-ID and the thread before it (well-formed ids only)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    key: str | None = None  # the content key it was queued under, kept whatever is attached when it is sent

    def to_json(self) -> str:
        """The message as kept in the store's queue until it is sent."""
        import json

        return json.dumps({"kind": self.kind, "period": self.period, "bureau": self.bureau, "to": [str(a) for a in self.to],
                           "to_parts": [[a.display_name, a.addr_spec] for a in self.to], "subject": self.subject,
                           "body": self.body, "attachment": str(self.attachment) if self.attachment else None,
                           "attachment_name": self.attachment_name, "in_reply_to": self.in_reply_to,
                           "references": self.references, "key": self.content_key}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Outgoing:
        import json

        d = json.loads(text)
        to = [address(name, addr, who="收件人") for name, addr in d["to_parts"]]
        return cls(d["kind"], d["period"], d["bureau"], to, d["subject"], d["body"],
                   Path(d["attachment"]) if d["attachment"] else None, d["attachment_name"], d["in_reply_to"], list(d["references"]),
                   d.get("key"))

    @property
    def attachment_sha256(self) -> str | None:
        if self.attachment is None or not self.attachment.is_file():  # an answer's copy not written yet
            return None
        return hashlib.sha256(self.attachment.read_bytes()).hexdigest()

    @property
    def content_key(self) -> str:
        """Same kind, period, recipients, words and attachment: the same message (sent once)."""
        if self.key:
            return self.key
        h = hashlib.sha256()
        for part in (self.kind, self.period, ",".join(sorted(a.addr_spec for a in self.to)), self.subject, self.body,
                     self.attachment_sha256 or ""):
            h.update(part.encode("utf-8") + b"\0")
        if self.in_reply_to:  # answers to two messages are two messages, even in the same words
            h.update(self.in_reply_to.encode("ascii", "replace"))
        return h.hexdigest()


@dataclass
class MailPlan:
    kind: str
    period: str
    messages: list[Outgoing] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (who, why)


@dataclass
class SendResult:
    message: Outgoing
    outcome: str  # sent / failed / already-sent / draft
    detail: str = ""


@dataclass
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str
    sender: str
    sender_name: str
    ca_file: str = ""
    timezone: dt.tzinfo | None = None  # the office's: the Date of every message sent

    @classmethod
    def from_config(cls, cfg: dict[str, object]) -> SmtpSettings:
        return cls(host=str(cfg.get("host") or ""), port=int(str(cfg.get("port") or 465)), security=str(cfg.get("security") or "ssl"),
                   user=str(cfg.get("user") or ""), sender=str(cfg.get("sender") or cfg.get("user") or ""),
                   sender_name=str(cfg.get("sender_name") or ""), ca_file=str(cfg.get("ca_file") or ""))

    def check(self) -> None:
        """Refuse settings that cannot send, before anyone is asked to confirm a send (no connection made)."""
        if not self.host:
            raise LedgerError.of(Code.MAIL_CONFIG, problem="ledger-xl.toml 的 [mail] 中没有填写邮件服务器（host）",
                                 fix="请补填后重试，或先用 --dry-run")
        if self.security not in ("ssl", "starttls"):
            raise LedgerError.of(Code.MAIL_CONFIG, problem=f"security = “{self.security}”无法识别",
                                 fix="请填 ssl（465 端口）或 starttls（587 端口）")
        if self.ca_file and not Path(self.ca_file).exists():
            raise LedgerError.of(Code.MAIL_CONFIG, problem=f"找不到配置的 CA 证书文件 {self.ca_file}", fix="请检查 ledger-xl.toml 的 ca_file")
        self.sender_address()

    def sender_address(self) -> Address:
        if not self.sender:
            raise LedgerError.of(Code.MAIL_CONFIG, problem="ledger-xl.toml 的 [mail] 中没有填写发件地址（sender）", fix="请补填后重试")
        return address(self.sender_name, self.sender, who="发件人")


def clean_name(name: str) -> str:
    """A display name without control characters: a line break can never start a new header."""
    return " ".join(_CTRL_RE.sub(" ", name or "").split())


def address(name: str, addr: str, *, who: str) -> Address:
    """An address judged by the one rule the definition also uses (addresses.address_problem), in Chinese."""
    addr = addr.strip()
    why = address_problem(addr)
    if why:
        raise LedgerError.of(Code.BAD_ADDRESS, who=who, address=addr, why=why)
    try:
        return Address(display_name=clean_name(name), addr_spec=addr)
    except (ValueError, IndexError, TypeError) as e:
        raise LedgerError.of(Code.BAD_ADDRESS, who=who, address=addr, why="格式不对") from e


def bureau_addresses(name: str, contact: str, emails: str) -> list[Address]:
    label = f"{name} {contact}".strip()
    return [address(label, e, who=name) for e in split_addresses(emails)]


_NAMED_RE = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<addr>[^<>]+)>\s*$")


def config_recipients(entries: list[str]) -> list[Address]:
    """Each entry is one recipient, "name <addr>" or a bare address: a comma in a name never splits it."""
    out = []
    for entry in entries:
        m = _NAMED_RE.match(str(entry))
        name, addr = (m.group("name").strip().strip('"'), m.group("addr")) if m else ("", str(entry))
        out.append(address(name, addr, who=f"收件人“{entry}”"))
    return out


_MSGID_RE = re.compile(r"^<[!-;=?-~]{1,250}>$")


def build_message(out: Outgoing, sender: Address, tz: dt.tzinfo | None = None) -> EmailMessage:
    """The message, dated in the office's time zone `tz`; an answer threads to what it answers."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = out.to
    msg["Subject"] = " ".join(clean_name(out.subject).split())
    msg["Date"] = format_datetime(dt.datetime.now(tz).replace(microsecond=0)) if tz is not None else formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.domain or None)
    if out.in_reply_to and _MSGID_RE.match(out.in_reply_to):
        msg["In-Reply-To"] = out.in_reply_to
        msg["References"] = " ".join([r for r in out.references if _MSGID_RE.match(r)] + [out.in_reply_to])
    msg.set_content(out.body, charset="utf-8", cte="base64")
    if out.attachment is not None:
        name = out.attachment_name or out.attachment.name
        ctype = MIME_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
        maintype, subtype = ctype.split("/")
        msg.add_attachment(out.attachment.read_bytes(), maintype=maintype, subtype=subtype, filename=name)
        part = next(iter(msg.iter_attachments()))
        encoded = Header(name, "utf-8").encode(maxlinelen=10_000)
        del part["Content-Type"]
        del part["Content-Disposition"]
        part.set_raw("Content-Type", f'{ctype}; name="{encoded}"')
        part.set_raw("Content-Disposition", f"attachment; filename=\"{encoded}\"; filename*=utf-8''{quote(name)}")
    return msg


def wire_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=WIRE_POLICY)


def write_drafts(plan: MailPlan, out_dir: Path, sender: Address, tz: dt.tzinfo | None = None) -> list[SendResult]:
    """--dry-run: each message as an .eml file, nothing sent."""
    from .templates import safe_filename

    results = []
    for i, m in enumerate(plan.messages, start=1):
        path = Path(out_dir) / f"{i:02d}_{plan.kind}_{safe_filename(m.bureau or '报告')}.eml"
        write_bytes_atomic(path, wire_bytes(build_message(m, sender, tz)))
        results.append(SendResult(m, "draft", str(path)))
    return results


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Always verifying: the system store, or the configured CA file for an internal server."""
    if ca_file and not Path(ca_file).exists():
        raise LedgerError.of(Code.MAIL_CONFIG, problem=f"找不到配置的 CA 证书文件 {ca_file}", fix="请检查 ledger-xl.toml 的 ca_file")
    ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def connect(settings: SmtpSettings, password: str | None, *, timeout: float = 30) -> smtplib.SMTP:
    if not settings.host:
        raise LedgerError.of(Code.MAIL_CONFIG, problem="ledger-xl.toml 的 [mail] 中没有填写邮件服务器（host）",
                             fix="请补填后重试，或先用 --dry-run")
    ctx = tls_context(settings.ca_file)
    try:
        if settings.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=ctx)
        elif settings.security == "starttls":
            server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
            server.ehlo()
            server.starttls(context=ctx)
            server.ehlo()
        else:
            raise LedgerError.of(Code.MAIL_CONFIG, problem=f"security = “{settings.security}”无法识别",
                                 fix="请填 ssl（465 端口）或 starttls（587 端口）")
        if settings.user:
            if not (password or "").isascii():
                raise LedgerError.of(Code.MAIL_AUTH, problem="密码或授权码中含有中文或全角字符，邮件服务器无法接受",
                                     fix="请重新复制授权码（只含字母和数字）")
            server.login(settings.user, password or "")
    except ssl.SSLCertVerificationError as e:
        raise LedgerError.of(Code.MAIL_TLS, host=settings.host, why=e.verify_message) from e
    except smtplib.SMTPAuthenticationError as e:
        raise LedgerError.of(Code.MAIL_AUTH, problem=f"邮件服务器拒绝登录（{e.smtp_code}）", fix="请检查用户名和授权码") from e
    except (OSError, smtplib.SMTPException) as e:
        raise LedgerError.of(Code.MAIL_CONNECT, host=settings.host, port=settings.port, why=e) from e
    return server


def send_all(plan: MailPlan, settings: SmtpSettings, password: str | None, store: Store,
             on_sent: Callable[[bytes], str] | None = None) -> list[SendResult]:
    """Send each message on its own; a failure is reported and the rest go out. Already-sent ones are skipped.

    `on_sent` gets each message as sent (to keep a copy in the sent folder) and returns a note, or ""."""
    sender = settings.sender_address()
    results: list[SendResult] = []
    todo = []
    for m in plan.messages:
        when = store.mail_sent(m.content_key)
        if when:
            results.append(SendResult(m, "already-sent", f"已于 {when.replace('T', ' ')} 发送"))
        else:
            todo.append(m)
    if not todo:
        return results
    server = connect(settings, password)
    try:
        for m in todo:
            msg = build_message(m, sender, settings.timezone)
            raw = wire_bytes(msg)
            try:
                refused = server.sendmail(sender.addr_spec, [a.addr_spec for a in m.to], raw)
            except smtplib.SMTPRecipientsRefused as e:
                why = "；".join(f"{addr} 被拒收（{code} {resp.decode('utf-8', 'replace') if isinstance(resp, bytes) else resp}）"
                               for addr, (code, resp) in e.recipients.items())
                results.append(SendResult(m, "failed", why))
                continue
            except (smtplib.SMTPException, OSError) as e:
                results.append(SendResult(m, "failed", f"{type(e).__name__}: {e}"))
                if isinstance(e, smtplib.SMTPServerDisconnected | OSError):
                    try:
                        server = connect(settings, password)
                    except LedgerError as again:
                        results += [SendResult(x, "failed", again.message) for x in todo[todo.index(m) + 1 :]]
                        return results
                continue
            crash_point("mail-sent")
            for a in m.to:
                if a.addr_spec not in refused:
                    store.record_mail(kind=m.kind, period=m.period, bureau=m.bureau, recipient=str(a), subject=m.subject,
                                      attachment_sha256=m.attachment_sha256, message_id=str(msg["Message-ID"]),
                                      content_key=m.content_key)
            crash_point("mail-recorded")
            detail = "部分收件人被拒收：" + "、".join(refused) if refused else ""
            kept = on_sent(raw) if on_sent is not None else ""
            results.append(SendResult(m, "sent", "；".join(x for x in (detail, kept) if x)))
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()
    return results


# ---------------------------------------------------------------- answers to mail received (ledger-xl fetch)


def answer(to: list[Address], *, subject: str, in_reply_to: str | None, references: list[str], received: dt.datetime,
           items: list[AnswerItem], refusal: str | None, office: str, contact: str, today: dt.date,
           attachment: Path | None = None) -> Outgoing:
    """The answer to one message, threaded under it, in the words of `mailtext.answer_text`."""
    from .mailtext import answer_text

    title, body = answer_text(to[0].display_name or to[0].addr_spec, original=clean_name(subject), received=received,
                              items=items, refusal=refusal, office=office, contact=contact, today=today,
                              with_copy=attachment is not None)
    first = next((i for i in items if i.bureau), None)
    return Outgoing("reply", next((i.period_label or "" for i in items if i.period_label), ""), first.bureau if first else None,
                    to, title, body, attachment, attachment.name if attachment is not None else None, in_reply_to, references)
