"""Intake from the office mailbox over IMAP: the messages not taken before, their attachments and arrival times.

This stage only reads the mailbox and takes messages apart; `fetch.fetch` hands the workbooks to ingest
(with each message's INTERNALDATE — the server's receipt time — as the received time), records each
message as taken in the same transaction, and answers the senders through `mail`. Nothing here deletes
mail: a message taken is marked with a keyword, or moved to a folder the config names.

TLS always verifies the server's certificate (a CA file may be configured for an internal server). The
IMAP ID command is sent after login: 163/126 mailboxes refuse SELECT without it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import mailtext
from .codes import Code
from .findings import LedgerError
from .fsutil import MAX_FILE_BYTES

if TYPE_CHECKING:
    from imapclient import IMAPClient

MAX_ATTACHMENTS = 10  # a bureau sends its own return: more than this in one message is not a return
MAX_MESSAGE_BYTES = 30 * 1024 * 1024  # a bigger message is not downloaded (a return is well under 1 MB)
DEFAULT_KEYWORD = "$LedgerXL"
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".ett", ".csv", ".xltx", ".xlsb", ".ods"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".heic", ".webp", ".tif", ".tiff"}
ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".gz", ".tar"}
_CTRL_RE = re.compile(r"[\x00-\x1f\x7f]")
_MSGID_RE = re.compile(r"<[!-;=?-~]{1,250}>")  # one msg-id: printable ASCII without < > or spaces


@dataclass
class ImapSettings:
    host: str
    port: int
    security: str  # ssl / starttls
    user: str
    password_env: str = "LEDGER_XL_IMAP_PASSWORD"
    folder: str = "INBOX"
    ca_file: str = ""
    sent_folder: str = ""
    processed_folder: str = ""  # move taken messages here instead of marking them with the keyword
    keyword: str = DEFAULT_KEYWORD

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> ImapSettings:
        security = str(cfg.get("security") or "ssl")
        return cls(host=str(cfg.get("host") or "").strip(), port=int(cfg.get("port") or (993 if security == "ssl" else 143)),
                   security=security, user=str(cfg.get("user") or "").strip(),
                   password_env=str(cfg.get("password_env") or "LEDGER_XL_IMAP_PASSWORD"),
                   folder=str(cfg.get("folder") or "INBOX"), ca_file=str(cfg.get("ca_file") or ""),
                   sent_folder=str(cfg.get("sent_folder") or ""), processed_folder=str(cfg.get("processed_folder") or ""),
                   keyword=str(cfg.get("keyword") or DEFAULT_KEYWORD))

    @property
    def mailbox(self) -> str:
        """What the store records a message's UID against: the account and folder."""
        return f"{self.user}@{self.host}/{self.folder}"


# ---------------------------------------------------------------- connecting


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Always verifying: the system store, or the configured CA file for an internal server."""
    if ca_file and not Path(ca_file).is_file():
        raise LedgerError.of(Code.IMAP_CONFIG, key="ca_file", problem=f"找不到 CA 证书文件 {ca_file}",
                             fix="请改正文件路径；公共邮箱不需要，可留空")
    ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def connect(settings: ImapSettings, password: str | None, *, timeout: float = 30) -> IMAPClient:
    """Log in (verified TLS) and identify ourselves; every failure is one plain-Chinese line."""
    from imapclient import IMAPClient
    from imapclient.exceptions import IMAPClientError, LoginError

    missing = [what for what, v in (("host", settings.host), ("user", settings.user)) if not v]
    if missing:
        said = "和".join({"host": "收件服务器地址", "user": "邮箱账号"}[k] for k in missing)
        raise LedgerError.of(Code.IMAP_CONFIG, key="、".join(missing), problem=f"没有填写{said}",
                             fix="请补填后重试（收件服务器如 imap.163.com，账号写完整的邮箱地址）")
    if settings.security not in ("ssl", "starttls"):
        raise LedgerError.of(Code.IMAP_CONFIG, key="security", problem=f"“{settings.security}”无法识别",
                             fix="请填 ssl（993 端口）或 starttls（143 端口）")
    ctx = tls_context(settings.ca_file)
    where = f"{settings.host}:{settings.port}"
    try:
        client = IMAPClient(settings.host, port=settings.port, ssl=settings.security == "ssl", ssl_context=ctx, timeout=timeout)
        client.normalise_times = False  # INTERNALDATE with its zone: converted to the office's, never the machine's
        if settings.security == "starttls":
            client.starttls(ctx)
    except ssl.SSLCertVerificationError as e:
        raise LedgerError.of(Code.IMAP_TLS, host=where, why=e.verify_message) from e
    except (OSError, IMAPClientError) as e:
        raise LedgerError.of(Code.IMAP_CONNECT, host=where, why=_why(e)) from e
    who = {"account": settings.user, "host": where, "env": settings.password_env}
    try:
        if not (password or "").isascii():
            raise LedgerError.of(Code.IMAP_AUTH, reason="授权码中含有中文或全角字符，邮件服务器无法接受（授权码只含字母和数字，"
                                                        "请重新复制）", **who)
        client.login(settings.user, password or "")
        if b"ID" in client.capabilities():
            from . import __version__

            client.id_({"name": "ledger-xl", "version": __version__})
    except LoginError as e:
        _close(client)
        raise LedgerError.of(Code.IMAP_AUTH, reason="服务器拒绝登录", **who) from e
    except (OSError, IMAPClientError) as e:
        _close(client)
        raise LedgerError.of(Code.IMAP_LOST, host=where, why=_why(e), state="未能登录，没有收取或改动任何邮件") from e
    except BaseException:
        _close(client)
        raise
    return client


def _why(e: BaseException) -> str:
    if isinstance(e, socket.timeout | TimeoutError):
        return "连接超时"
    if isinstance(e, ConnectionRefusedError):
        return "连接被拒绝，端口上没有邮件服务"
    if isinstance(e, socket.gaierror):
        return "找不到这个服务器名"
    return str(e) or type(e).__name__


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - already failing; closing is a courtesy
        with contextlib.suppress(Exception):
            client.shutdown()


def select(client: IMAPClient, folder: str, *, readonly: bool) -> int:
    """Open the folder; its UIDVALIDITY. A folder that does not exist is named, with those that do."""
    from imapclient.exceptions import IMAPClientError

    try:
        info = client.select_folder(folder, readonly=readonly)
    except IMAPClientError as e:
        try:
            have = [str(f[2]) for f in client.list_folders()]
        except IMAPClientError:
            have = []
        raise LedgerError.of(Code.IMAP_FOLDER, folder=folder, have="、".join(have[:12]) or "未能列出") from e
    return int(info[b"UIDVALIDITY"])


# ---------------------------------------------------------------- listing and taking apart


@dataclass
class Attachment:
    name: str  # as the sender named it, decoded
    data: bytes
    saved: Path | None = None  # where fetch kept it, when it goes to ingest

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @property
    def is_workbook(self) -> bool:
        return self.suffix in WORKBOOK_SUFFIXES


@dataclass
class Incoming:
    """One message: when the server received it (office time), from whom, what it carries, or why it is refused."""

    uid: int
    received_at: dt.datetime
    size: int
    flags: tuple[bytes, ...] = ()
    sender: str | None = None  # the From address, when it is one we can answer
    sender_name: str = ""
    subject: str = ""
    message_id: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    not_returns: list[tuple[str, str]] = field(default_factory=list)  # (attachment name, why it is not taken)
    refusal: str | None = None  # why the whole message is not taken apart
    automatic: bool = False  # an auto-reply or bounce: taken, never answered


def new_messages(client: IMAPClient, taken: set[int], keyword: str, tz: dt.tzinfo) -> tuple[list[Incoming], list[int]]:
    """Messages in the selected folder without the keyword and not recorded as taken, oldest first, with their
    arrival time, size and flags (bodies are fetched later); and the UIDs recorded as taken but not yet marked
    (a run killed between recording and marking)."""
    unmarked = client.search(["NOT", "KEYWORD", keyword])
    out = []
    for chunk in _chunks(sorted(u for u in unmarked if u not in taken), 200):
        for uid, data in client.fetch(chunk, ["INTERNALDATE", "RFC822.SIZE", "FLAGS"]).items():
            when = data[b"INTERNALDATE"]
            if when.tzinfo is None:  # IMAPClient gives local time when asked to normalise: ours is aware
                when = when.astimezone()
            out.append(Incoming(int(uid), when.astimezone(tz).replace(tzinfo=None, microsecond=0), int(data.get(b"RFC822.SIZE", 0)),
                                tuple(data.get(b"FLAGS", ()))))
    return sorted(out, key=lambda m: (m.received_at, m.uid)), sorted(u for u in unmarked if u in taken)


def fetch_bodies(client: IMAPClient, messages: list[Incoming]) -> Iterator[tuple[Incoming, bytes, bool]]:
    """Each message with its raw bytes (BODY.PEEK: not marked read) and True; a message too big to download
    comes with its header only (to answer its sender) and False."""
    big = [m for m in messages if m.size > MAX_MESSAGE_BYTES]
    small = [m for m in messages if m.size <= MAX_MESSAGE_BYTES]
    for chunk in _chunks(big, 20):
        got = client.fetch([m.uid for m in chunk], ["BODY.PEEK[HEADER]"])
        for m in chunk:
            yield m, got.get(m.uid, {}).get(b"BODY[HEADER]") or b"", False
    for chunk in _chunks(small, 20):
        got = client.fetch([m.uid for m in chunk], ["BODY.PEEK[]"])
        for m in chunk:
            yield m, got.get(m.uid, {}).get(b"BODY[]") or b"", True


def _chunks(items: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def take_apart(m: Incoming, raw: bytes, whole: bool = True) -> Incoming:
    """Fill in sender, subject, thread ids and attachments from the raw message (only its header when not
    `whole`: too big to download); a refusal when it cannot be taken."""
    import email
    from email import policy

    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    _read_sender(m, msg)
    if not whole and not m.refusal:
        m.refusal = mailtext.refused_too_big(m.size)
    m.subject = " ".join(_CTRL_RE.sub(" ", _header(msg, "Subject")).split())[:200]
    m.message_id = clean_msgid(_header(msg, "Message-ID"))
    m.references = [i for i in _MSGID_RE.findall(_header(msg, "References")) if clean_msgid(i)][-10:]
    m.automatic = _is_automatic(msg)
    if m.refusal:
        return m
    parts = [p for p in msg.walk() if _is_attachment(p)]
    if len(parts) > MAX_ATTACHMENTS:
        m.refusal = mailtext.refused_too_many(len(parts), MAX_ATTACHMENTS)
        return m
    for p in parts:
        name = attachment_name(p) or mailtext.UNNAMED_ATTACHMENT
        data = p.get_payload(decode=True) or b""
        if not isinstance(data, bytes):
            data = b""
        why = not_a_return(name, len(data))
        if why:
            m.not_returns.append((name, why))
        else:
            m.attachments.append(Attachment(name, data))
    return m


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return str(msg.get(name) or "")
    except (ValueError, IndexError, TypeError):  # a header the parser cannot make sense of
        return ""


def _read_sender(m: Incoming, msg: EmailMessage) -> None:
    """The From address, only when it is one plain address: a line break or a second address is refused."""
    from email.utils import getaddresses

    try:
        raw = str(msg.get("From") or "")
    except ValueError as e:  # the parser refuses an address whose decoded name or address holds CR/LF
        raw = "\n" if "CR" in str(e) or "LF" in str(e) else ""
    if _CTRL_RE.search(raw):
        m.refusal = mailtext.REFUSED_FROM_BROKEN
        return
    pairs = getaddresses([raw])
    if len(pairs) != 1 or not pairs[0][1]:
        m.refusal = mailtext.REFUSED_FROM_UNKNOWN
        return
    name, addr = pairs[0]
    if _CTRL_RE.search(addr) or _CTRL_RE.search(name) or "@" not in addr or " " in addr or addr.count("@") != 1:
        m.refusal = mailtext.REFUSED_FROM_BROKEN
        return
    m.sender, m.sender_name = addr, name


def _is_automatic(msg: EmailMessage) -> bool:
    """An auto-reply, bounce or list mail: answering it could start a loop between two robots (RFC 3834)."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    precedence = _header(msg, "Precedence").strip().lower()
    return ((auto not in ("", "no")) or precedence in ("bulk", "junk", "list", "auto_reply")
            or bool(_header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"))
            or msg.get_content_type() == "multipart/report")


def _is_attachment(part: Any) -> bool:
    if part.is_multipart():
        return False
    disposition = part.get_content_disposition()
    has_name = bool(part.get_param("filename", header="content-disposition") or part.get_param("name"))
    if disposition == "attachment":
        return True
    if not has_name:
        return False  # the message text itself
    # a picture in a signature (inline, with a Content-ID the text refers to) is not an attachment anyone sent
    return not (disposition == "inline" and part.get("Content-ID") and part.get_content_maintype() == "image")


def attachment_name(part: Any) -> str:
    """The attachment's name in whatever encoding it came: RFC 2231, RFC 2047, or raw 8-bit (GBK, UTF-8)."""
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except (ValueError, IndexError, TypeError, LookupError):
        name = ""
    if not isinstance(name, str):
        name = str(name)
    if not name or "\ufffd" in name or re.search(r"[\udc80-\udcff]", name):
        name = _raw_8bit_name(part) or name.replace("\ufffd", "_")
    return _plain_name(name)


def _raw_8bit_name(part: Any) -> str | None:
    """A name written as raw bytes in the header (old Chinese mail clients: GBK): from the undecoded header."""
    for key, value in part.raw_items():
        if key.lower() not in ("content-disposition", "content-type"):
            continue
        m = re.search(r'(?:file)?name\s*=\s*"([^"]*)"|(?:file)?name\s*=\s*([^;\s]+)', str(value), re.I)
        if not m:
            continue
        raw = (m.group(1) if m.group(1) is not None else m.group(2)).encode("utf-8", "surrogateescape")
        for enc in ("utf-8", "gb18030", "big5"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
    return None


def _plain_name(name: str) -> str:
    """Only the last path part, no control characters, at most 120 characters with the extension kept."""
    name = _CTRL_RE.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".") or mailtext.UNNAMED_ATTACHMENT
    if len(name) > 120:
        suffix = Path(name).suffix[:10]
        name = name[: 120 - len(suffix)] + suffix
    return name


def not_a_return(name: str, size: int) -> str | None:
    """Why an attachment is not a return to ingest, in the words the sender is answered with; None if it may be one."""
    suffix = Path(name).suffix.lower()
    if size > MAX_FILE_BYTES:
        return mailtext.not_return_too_big(size)
    if suffix in WORKBOOK_SUFFIXES:
        return None
    if suffix in ARCHIVE_SUFFIXES:
        return mailtext.NOT_RETURN_ARCHIVE
    if suffix in IMAGE_SUFFIXES:
        return mailtext.NOT_RETURN_IMAGE
    return mailtext.not_return_other(suffix)


def clean_msgid(text: str) -> str | None:
    """One well-formed msg-id, or None: what goes into In-Reply-To/References is never bureau text verbatim."""
    m = _MSGID_RE.search(text or "")
    return m.group(0) if m and not _CTRL_RE.search(m.group(0)) else None


# ---------------------------------------------------------------- marking and keeping


def mark_taken(client: IMAPClient, settings: ImapSettings, uids: list[int]) -> None:
    """Mark messages taken: the keyword, and a move to processed_folder when one is set. Never deleted."""
    if not uids:
        return
    client.add_flags(uids, [settings.keyword.encode()], silent=True)
    if settings.processed_folder:
        if b"MOVE" not in client.capabilities():
            raise LedgerError.of(Code.IMAP_MOVE, host=f"{settings.host}:{settings.port}", folder=settings.processed_folder,
                                 keyword=settings.keyword)
        client.move(uids, settings.processed_folder)


def append_sent(client: IMAPClient, folder: str, raw: bytes, when: dt.datetime) -> None:
    """Keep a copy of a message sent in the office mailbox's sent folder (read, with its sending time)."""
    client.append(folder, raw, flags=[b"\\Seen"], msg_time=when)


def sent_keeper(settings: ImapSettings, tz: dt.tzinfo,
                password: str | None = None) -> tuple[Callable[[bytes], str] | None, Callable[[], None]]:
    """(keep a message sent in [imap] sent_folder, close): nothing to do when no sent folder is set. The IMAP
    connection is made at the first message; a failure is a note (the message went out), never an error."""
    import os

    if not settings.sent_folder:
        return None, lambda: None
    held: list[IMAPClient] = []

    def keep(raw: bytes) -> str:
        try:
            if not held:
                held.append(connect(settings, password if password is not None else os.environ.get(settings.password_env)))
            append_sent(held[0], settings.sent_folder, raw, dt.datetime.now(tz))
        except Exception as e:  # noqa: BLE001 - the message went out; only the copy failed
            message = e.message if isinstance(e, LedgerError) else f"{type(e).__name__}: {e}"
            return f"已发出，但未能存入已发送文件夹“{settings.sent_folder}”（{message}）"
        return ""

    def close() -> None:
        for c in held:
            _close(c)

    return keep, close
