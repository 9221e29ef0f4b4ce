"""The working folder: config, the definition, the store, inbox/, archive/, outputs/."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .codes import Code
from .findings import LedgerError
from .fsutil import PRIVATE_FILE_MODE, write_text_atomic
from .model import DEFAULT_DEADLINE_DAYS, DEFAULT_ISSUER, DeadlineRule, Ledger, Period

if TYPE_CHECKING:
    from .store import Store

CONFIG_NAME = "ledger-xl.toml"
DEFINITION_NAME = "ledger.xlsx"
STORE_NAME = "ledger.sqlite"
KEY_NAME = "ledger-xl.key"  # the template signing key, beside the store so that losing one never loses the other

DEFAULT_CONFIG = """\
# ledger-xl 工作目录配置。改完保存即可，下次运行命令时生效。

[ledger]
definition = "ledger.xlsx"        # 台账定义表
timezone = "Asia/Shanghai"        # 办公所在时区：截止时间、收到时间、所发邮件的时间都按它计

[templates]
deadline_days = {days}                # 报送截止：报送期结束后第几天（台账定义表“设置”写明“报送截止”的，以定义表为准）
deadline = ""                     # 或在这里写明规则（优先于定义表），例如 "次月28日前" 或 "报送期结束后15日内"
contact = ""                      # 填报说明里的联系人和电话，例如 "张三 0377-12345678"
issuer = "{issuer}"          # 发文单位

[deadlines]                       # 个别报送期另定的截止日期（优先于规则），例如 2025M07 = 2025-08-28

[report]
font_profile = "gb2312"           # gb2312：仿宋_GB2312 等公文字体；windows：仿宋、楷体、黑体等系统自带字体
issuer = "{issuer}"          # 正文中的简称（“领导小组办公室对各成员单位……”）
issuer_full = ""                  # 落款署名（全称），如 "南阳市绿色货运配送示范工程创建工作领导小组办公室"；留空则用 issuer
addressee = ""                    # 主送机关，如 "市人民政府"（标题下一行顶格，后加全角冒号）；留空则不写
letterhead = ""                   # 版头文件（办公室提供的 .docx，含红头、红线），如 "版头.docx"（相对本目录）；留空则不加

[mail]
host = ""
port = 465
security = "ssl"                  # ssl（465 端口）或 starttls（587 端口）
user = ""
sender = ""                       # 发件地址
sender_name = "{issuer}"
password_env = "LEDGER_XL_SMTP_PASSWORD"   # 密码或授权码从这个环境变量读取，不写在文件里
ca_file = ""                      # 内部邮件服务器的 CA 证书（可选）
report_recipients = []            # 报告收件人，例如 ["领导 <leader@example.gov.cn>"]

[imap]                            # ledger-xl fetch：从办公邮箱收取各单位报来的报表（设置示例见 README）
host = ""                         # 收件服务器，例如 imap.qq.com、imap.163.com
port = 993
security = "ssl"                  # ssl（993 端口）或 starttls（143 端口）
user = ""                         # 邮箱账号
password_env = "LEDGER_XL_IMAP_PASSWORD"   # 授权码从这个环境变量读取，不写在文件里
folder = "INBOX"                  # 从哪个文件夹收取
ca_file = ""                      # 内部邮件服务器的 CA 证书（可选）
sent_folder = ""                  # 所发邮件另存一份到这个文件夹（例如 "Sent Messages"），留空则不存
processed_folder = ""             # 处理过的邮件移到这个文件夹；留空则只加标记 $LedgerXL。邮件从不删除
""".replace("{days}", str(DEFAULT_DEADLINE_DAYS)).replace("{issuer}", DEFAULT_ISSUER)


@dataclass
class Workspace:
    root: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def definition_path(self) -> Path:
        return self.root / str(self.config.get("ledger", {}).get("definition", DEFINITION_NAME))

    @property
    def store_path(self) -> Path:
        return self.root / STORE_NAME

    @property
    def key_path(self) -> Path:
        return self.root / KEY_NAME

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    def folder(self, path: Path) -> Path:
        """A folder of the workspace, made if missing; refused in plain words when something else has its name."""
        if (path.exists() or path.is_symlink()) and not path.is_dir():
            raise LedgerError.of(Code.PATH_KIND, problem=f"工作目录中的 {path.name} 应是文件夹，现在却是文件或失效的链接（{path}）",
                                 fix="请把它改名或移走（里面如有报表请另存），再重新运行")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.config.get(name, {}))

    @property
    def timezone(self) -> dt.tzinfo:
        """The office's time zone ([ledger] timezone): deadlines, received times and sent mail are in it."""
        return office_timezone(str(self.section("ledger").get("timezone") or DEFAULT_TIMEZONE))

    def now(self) -> dt.datetime:
        """The office's wall-clock time now (naive, as received times are stored)."""
        return dt.datetime.now(self.timezone).replace(tzinfo=None, microsecond=0)

    def deadline_rule(self, ledger: Ledger) -> DeadlineRule:
        """When returns are due: the rule written in ledger-xl.toml ([templates] deadline), else the one the
        definition's 设置 states, else deadline_days after the period ends; [deadlines] dates win for their periods."""
        cfg = self.section("templates")
        where = f"{CONFIG_NAME} › [templates] deadline"
        if str(cfg.get("deadline") or "").strip():
            rule = DeadlineRule.parse(cfg["deadline"], where=where, source=CONFIG_NAME)
        elif ledger.deadline_rule is not None:
            rule = replace(ledger.deadline_rule, dates={})
        else:
            rule = DeadlineRule.parse(cfg.get("deadline_days", DEFAULT_DEADLINE_DAYS), where=f"{CONFIG_NAME} › [templates] deadline_days",
                                      source=CONFIG_NAME)
        rule.dates = _explicit_deadlines(self.section("deadlines"))
        return rule


def ws_ledger(ws: Workspace) -> Ledger:
    """The workspace's ledger, through the load cache in outputs/.cache."""
    from .definition import load_ledger

    return load_ledger(ws.definition_path, cache_dir=ws.outputs / ".cache")


def template_settings(ws: Workspace, ledger: Ledger) -> dict[str, Any]:
    """What the workspace says every template (and annotated copy) carries: deadline, contact, issuer."""
    cfg = ws.section("templates")
    return {"deadline_rule": ws.deadline_rule(ledger), "contact": str(cfg.get("contact", "")), "issuer": str(cfg.get("issuer", ""))}


DEFAULT_TIMEZONE = "Asia/Shanghai"


def office_timezone(name: str) -> dt.tzinfo:
    """A time zone by its IANA name; a wrong one is refused in plain Chinese."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise LedgerError.of(Code.TIMEZONE, name=name) from e


def local_time(moment: dt.datetime | float, tz: dt.tzinfo) -> dt.datetime:
    """A moment (aware datetime, or a POSIX timestamp) as the office's naive wall-clock time, to the second."""
    # a naive datetime is taken as this machine's local time
    aware = dt.datetime.fromtimestamp(moment, tz) if isinstance(moment, int | float) else moment.astimezone(tz)
    return aware.replace(tzinfo=None, microsecond=0)


def _explicit_deadlines(table: dict[str, Any]) -> dict[str, dt.date]:
    """[deadlines] in ledger-xl.toml: period (any spelling) → date (a TOML date or '2025-08-28' / '2025年8月28日')."""
    out: dict[str, dt.date] = {}
    for key, value in table.items():
        where = f"{CONFIG_NAME} › [deadlines] {key}"
        try:
            period = Period.parse(str(key))
        except LedgerError as e:
            raise LedgerError.of(Code.CONFIG_VALUE, file=where, problem=e.message.rstrip("。"), fix="") from e
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            m = re.fullmatch(r"\s*(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?\s*", str(value))
            try:
                value = dt.date(*map(int, m.groups())) if m else None
            except ValueError:
                value = None
        if value is None:
            raise LedgerError.of(Code.CONFIG_VALUE, file=where, problem="截止日期无法识别", fix="请写成 2025-08-28。")
        out[period.code] = value
    return out


def open_workspace(root: Path | str = ".") -> Workspace:
    root = Path(root).resolve()
    cfg_path = root / CONFIG_NAME
    if not cfg_path.exists():
        raise LedgerError.of(Code.NO_WORKSPACE, root=root, config=CONFIG_NAME)
    try:
        config = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise LedgerError.of(Code.CONFIG, file=CONFIG_NAME, error=e) from e
    defaults = tomllib.loads(DEFAULT_CONFIG)
    for k, v in defaults.items():
        config.setdefault(k, {})
        for kk, vv in v.items():
            config[k].setdefault(kk, vv)
    return Workspace(root, config)


def init_workspace(root: Path, definition: Path, *, identity: dict[str, str] | None = None) -> Workspace:
    """Make a working folder from a definition workbook; refuses to overwrite an existing one.

    `identity` (ledger id and template key) is for the bundled samples only, whose returned workbooks were
    signed with a published demo key; a real workspace gets a fresh random one.
    """
    from .definition import load_ledger, remember_ledger
    from .store import Store

    root = Path(root)
    if (root / CONFIG_NAME).exists():
        raise LedgerError.of(Code.EXISTS, path=root, what=f"已经是工作目录（已有 {CONFIG_NAME}）", fix="")
    if (root / STORE_NAME).exists() or (root / KEY_NAME).exists():
        raise LedgerError.of(Code.EXISTS, path=root, what=f"中已有数据库或密钥文件（{STORE_NAME}、{KEY_NAME}）",
                             fix="请换一个空文件夹，或用 ledger-xl restore 从备份恢复。")
    ledger = load_ledger(definition)  # refuse a broken definition before creating anything
    root.mkdir(parents=True, exist_ok=True)
    for d in ("inbox", "archive", "outputs"):
        (root / d).mkdir(exist_ok=True)
    target = root / DEFINITION_NAME
    if Path(definition).resolve() != target.resolve():
        shutil.copyfile(definition, target)
    write_text_atomic(root / CONFIG_NAME, DEFAULT_CONFIG)
    ws = open_workspace(root)
    with Store(ws.store_path, identity=identity, create=True) as store:
        write_key(ws, {"ledger_id": store.ledger_id, "template_key": store.template_key.hex()})
    remember_ledger(target, ledger, ws.outputs / ".cache")  # the first command after init need not read the workbook again
    return ws


def explain_failure(e: BaseException) -> LedgerError | None:
    """A known cause of failure in one plain-Chinese line (full disk, read-only, a folder where a file should
    be, a damaged store), or None when the cause is not known. Never claims that data is unaffected."""
    import errno
    import sqlite3

    if isinstance(e, sqlite3.Error):
        from .store import store_error

        return store_error(Path(STORE_NAME), e)
    if not isinstance(e, OSError):
        return None
    where = display_path(e.filename) if e.filename else "文件"
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return LedgerError.of(Code.DISK_FULL, what=where, why="磁盘已满")
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return LedgerError.of(Code.READ_ONLY, what=where, why="磁盘或文件夹是只读的，或没有写入权限")
    if e.errno == errno.EISDIR:
        return LedgerError.of(Code.PATH_KIND, problem=f"{where} 是一个文件夹，不是文件", fix="请换一个文件名，或把这个文件夹改名后重试")
    if e.errno == errno.EEXIST:
        return LedgerError.of(Code.PATH_KIND, problem=f"{where} 应是文件夹，却是一个文件", fix="请把它改名或移走后重试")
    if e.errno == errno.ENOTDIR:
        return LedgerError.of(Code.PATH_KIND, problem=f"{where} 的路径中有一处应是文件夹，却是文件",
                              fix="请检查路径（例如 archive、outputs 是否被文件占了名字）")
    if e.errno == errno.ENOENT:
        return LedgerError.of(Code.NOT_FOUND, what="", path=f"{where}（可能已被移走或删除）", fix="请检查后重新运行")
    return None


def display_path(name: object) -> str:
    from .fsutil import display_name

    return display_name(os.fsdecode(name) if isinstance(name, bytes | str) else str(name))


def read_key(ws: Workspace) -> dict[str, str] | None:
    """The workspace's identity (ledger id and template signing key) from its key file, None when absent."""
    import json

    try:
        data = json.loads(ws.key_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise LedgerError.of(Code.KEY_DAMAGED, key=KEY_NAME, problem=f"已损坏，无法读取（{e}）") from e
    if not isinstance(data, dict) or not data.get("ledger_id") or not data.get("template_key"):
        raise LedgerError.of(Code.KEY_DAMAGED, key=KEY_NAME, problem="内容不完整")
    return {"ledger_id": str(data["ledger_id"]), "template_key": str(data["template_key"])}


def write_key(ws: Workspace, identity: dict[str, str]) -> None:
    """Keep the signing key in its own file, readable by its owner only."""
    import json

    text = json.dumps({"format": "ledger-xl-key", "ledger_id": identity["ledger_id"], "template_key": identity["template_key"],
                       "note": "模板签名密钥。请勿删除或外传；丢失后已下发的模板将无法汇总。"}, ensure_ascii=False, indent=2)
    write_text_atomic(ws.key_path, text + "\n")
    with contextlib.suppress(OSError):
        os.chmod(ws.key_path, 0o600)


def open_store(ws: Workspace, *, readonly: bool = False) -> Store:
    """The workspace's store, never a new one; its key agrees with the key file (an older workspace, whose key
    lived only in the store, gets its key file now)."""
    from .store import Store

    store = Store(ws.store_path, readonly=readonly)
    try:
        key = read_key(ws)
        try:
            mine = {"ledger_id": store.ledger_id, "template_key": store.template_key.hex()}
        except ValueError:  # a key that is not hex: the store is damaged
            mine = {}
        if (key is not None and key != mine) or not mine.get("template_key"):
            store.refuse_if_damaged()
        if key is None and not readonly:
            write_key(ws, mine)
        elif key is not None and key != mine:
            raise LedgerError.of(Code.KEY_MISMATCH, store=STORE_NAME, key=KEY_NAME)
    except BaseException:
        store.close()
        raise
    return store


LOCK_NAME = ".ledger-xl.lock"


def _try_lock(fd: int) -> None:
    """An exclusive OS lock, released by the OS when the process ends however it ends."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
HELD_LOCK_FDS: set[int] = set()  # forked helpers close their inherited copies (see forked_child)


def forked_child(parent: int) -> None:
    """Set up a forked helper (a reading worker, the chart process): it ends when its parent ends, even
    when the parent is killed (Linux: the kernel sends SIGKILL), and it does not keep the workspace lock."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent and os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    for fd in list(HELD_LOCK_FDS):  # a forked copy of the workspace lock must not outlive the parent's
        with contextlib.suppress(OSError):
            os.close(fd)
    HELD_LOCK_FDS.clear()


@contextlib.contextmanager
def workspace_lock(ws: Workspace, *, wait: float = 120.0, what: str = "", name: str = LOCK_NAME) -> Iterator[None]:
    """One writer at a time: a second ingest waits up to `wait` seconds, then says the workspace is busy.

    The lock is an OS file lock, so a killed process releases it at once.
    """
    path = ws.root / name  # another name: another lock (fetch holds its own around the ingest's)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                _try_lock(fd)
                break
            except (BlockingIOError, PermissionError):
                if time.monotonic() >= deadline:
                    raise LedgerError.of(Code.BUSY, root=ws.root, what=what or "处理中") from None
                time.sleep(0.05)
        if os.name != "nt":  # on Windows the locked byte cannot be rewritten; the pid is only a courtesy
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        HELD_LOCK_FDS.add(fd)
        yield
    finally:
        HELD_LOCK_FDS.discard(fd)
        os.close(fd)


ARRIVALS_NAME = ".arrivals.jsonl"  # in archive/ (a dot: not an original): what each original was called and when it arrived, for a rebuild


def record_arrivals(ws: Workspace, entries: list[dict[str, str]]) -> None:
    """Append one line per file received to archive/.arrivals.jsonl (synced with the archive copies).

    Without it, a lost store would leave archive/ a heap of SHA-256 names: no file names, no received
    times, no order in which corrections arrived. A line of a killed run is harmless: its file comes again.
    """
    import json

    if not entries:
        return
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
    fd = os.open(ws.archive / ARRIVALS_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                 PRIVATE_FILE_MODE)
    try:
        os.write(fd, text)
    finally:
        os.close(fd)


def read_arrivals(ws: Workspace) -> dict[str, dict[str, str]]:
    """sha256 → its first arrival (file name, received time, order), from archive/.arrivals.jsonl."""
    import json

    out: dict[str, dict[str, str]] = {}
    try:
        lines = (ws.archive / ARRIVALS_NAME).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed run
        if isinstance(e, dict) and isinstance(e.get("sha256"), str):
            out.setdefault(e["sha256"], e)
    return out
