"""Atomic writes and file sniffing: a user-visible file is either the old one or the new one, never half."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .codes import Code
from .crashpoint import crash_point
from .findings import LedgerError
from .safety import MAX_FILE_BYTES, MAX_PARTS, MAX_RATIO, MAX_UNCOMPRESSED, zip_directory, zip_problem

__all__ = ["MAX_FILE_BYTES", "MAX_PARTS", "MAX_RATIO", "MAX_UNCOMPRESSED"]  # the limits live in safety; said here too

# Government returns and what is read from them (archive/ originals, the store, arrivals) are for the office:
# owner read/write, group read, nothing for others — the process umask may take away more (077 gives 0600).
PRIVATE_FILE_MODE = 0o640


def create_private(path: Path) -> None:
    """Make `path` an empty file with PRIVATE_FILE_MODE (umask applied), or leave an existing one as it is;
    writers that open it later ("wb", O_TRUNC) keep that mode, and so does the os.replace that follows."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE_MODE)
    os.close(fd)


def _open_private(path: str) -> int:
    """A descriptor for writing `path` from its start, made with PRIVATE_FILE_MODE when new (never through a link)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                   | getattr(os, "O_BINARY", 0), PRIVATE_FILE_MODE)


# every workbook we write: text stays text (a bureau's "=HYPERLINK(…)" is never a formula), and xlsxwriter
# assembles the file in memory rather than through temporary files (no churn in /tmp, nothing left behind)
XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True}


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside target; on success it replaces target in one rename."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".~{target.stem[:40]}.{os.getpid()}."
    _remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=target.suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        crash_point("replace")
        try:
            os.replace(tmp_path, target)
        except IsADirectoryError as e:
            raise LedgerError.of(Code.PATH_KIND, problem=f"{target} 是一个文件夹，不是文件", fix="请把这个文件夹改名或移走后重试") from e
        except PermissionError as e:
            raise LedgerError.of(Code.FILE_BUSY, name=target.name) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


class _CopyChanged(Exception):
    """The copy being archived does not hash to the digest it is to be kept under."""


def archive_copy(src: Path, digest: str, archive: Path) -> Path | None:
    """Copy an original too big to hold in memory into `archive` under its SHA-256 (see _archive), hashing
    the bytes as they are copied; None, and nothing kept, when they are not the ones hashed before."""
    import hashlib

    def copy(fd: int) -> None:
        h = hashlib.sha256()
        with os.fdopen(open_regular(src), "rb") as fin, os.fdopen(os.dup(fd), "wb") as fout:
            while chunk := fin.read(1 << 20):
                h.update(chunk)
                fout.write(chunk)
        if h.hexdigest() != digest:
            raise _CopyChanged

    try:
        return _archive(digest, src.suffix, archive, copy)
    except _CopyChanged:
        return None


def archive_bytes(data: bytes, digest: str, suffix: str, archive: Path) -> Path:
    """Keep exactly the bytes that were hashed and read, under their SHA-256 (see _archive).

    Writing what is already in memory, rather than copying the file again, means the archived copy can
    never differ from what was read, even if the file in the inbox changes meanwhile.
    """
    def write(fd: int) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return _archive(digest, suffix, archive, write)


def _archive(digest: str, suffix: str, archive: Path, write: Callable[[int], object]) -> Path:
    """Write through a temporary file named by process (clear_archive_temps removes a killed one's) and
    rename: the same content under the same name, so replacing an existing copy is harmless.

    Not fsynced one by one: ingest syncs once before the store records the batch. Four system calls a
    file (open, write, close, rename; a buffered file object and a separate create took ten, twice the time).
    """
    suffix = suffix.lower() if len(suffix) <= 6 else ""
    folder = os.fspath(archive)
    target = os.path.join(folder, f"{digest}{suffix}")
    tmp = os.path.join(folder, f".{digest}.{os.getpid()}.tmp")
    try:
        fd = _open_private(tmp)  # an original is the office's: not readable by every account on the machine
        try:
            write(fd)
        finally:
            os.close(fd)
        crash_point("archive-copy")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(target)


def clear_archive_temps(archive: Path) -> None:
    """Remove copies a killed ingest left half-made in `archive`.

    Call only under the workspace lock: then no ingest is running, and the readers of a killed one die
    with it, so every temporary file there is a leftover (whatever its process id says).
    """
    for tmp in Path(archive).glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _remove_stale_temps(target: Path) -> None:
    """Temporary files a killed writer left beside target (its process no longer exists) are removed."""
    _clear(target.parent.glob(f".~{glob.escape(target.stem[:40])}.*{glob.escape(target.suffix)}.tmp"))


def clear_stale_temps(folder: Path) -> None:
    """Every temporary file a killed writer left in `folder` (a template half written, or half locked:
    .~name.pid.xlsx.tmp, .~name.pid.xlsx.lock.tmp), so that nothing half-made is mailed or zipped."""
    if Path(folder).is_dir():
        _clear(Path(folder).glob(".~*.tmp"))


def _clear(temps: Iterator[Path]) -> None:
    for tmp in temps:
        parts = tmp.name.split(".")
        pid = next((int(p) for p in parts if p.isdigit()), None)
        if pid is None or not _alive(pid):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate the process there: keep the file, it is only a leftover
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class NotARegularFile(OSError):
    """A path that is a FIFO, a device, a folder: never opened for reading as a return."""


def open_regular(path: Path) -> int:
    """A read-only descriptor on a regular file, never through a link (O_NOFOLLOW; elsewhere the path is
    checked first) and never blocking on a FIFO; raises OSError (ELOOP for a link) or NotARegularFile."""
    return open_regular_stat(path)[0]


def open_regular_stat(path: Path) -> tuple[int, os.stat_result]:
    """open_regular's descriptor, and the status of the file it is open on."""
    if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):  # Windows
        import errno

        raise OSError(errno.ELOOP, "link", str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotARegularFile(0, "not a regular file", str(path))
    return fd, st


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file, opened as open_regular does."""
    data, _, _ = read_regular_within(path, None)
    assert data is not None
    return data


def read_regular_within(path: Path, limit: int | None) -> tuple[bytes | None, os.stat_result, bool]:
    """The bytes of a regular file, opened as open_regular does (None when it is larger than `limit`: not
    read), its status, and whether it held still while it was read: as many bytes as its status said, and
    its size, modification and change times the same after the read as before (a writer at work changes
    them). Read straight from the descriptor: open, status, read to the end, status, close (a buffered file
    object added four more system calls a file)."""
    fd, st = open_regular_stat(path)
    try:
        if limit is not None and st.st_size > limit:
            return None, st, True
        chunks: list[bytes] = []
        want = st.st_size + 1
        while chunk := os.read(fd, want):  # to the end, should it have grown
            chunks.append(chunk)
            want = 1 << 16
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        after = os.fstat(fd)
        steady = (len(data) == st.st_size == after.st_size and after.st_mtime_ns == st.st_mtime_ns
                  and after.st_ctime_ns == st.st_ctime_ns)
        return data, st, steady
    finally:
        os.close(fd)


# shown instead of raw: control characters (an escape sequence retitles the terminal, a CR overwrites the line),
# bidi and zero-width characters (reorder what is shown), and bytes the file system name could not decode
_UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\udc80-\udcff]")


def display_name(name: str) -> str:
    """A file name safe to print and to record: what could act on a terminal is written as \\xNN / \\uNNNN."""
    if not _UNPRINTABLE_RE.search(name):
        return name

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")

    return _UNPRINTABLE_RE.sub(esc, name)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def sniff(path: Path) -> str:
    """What a file really is, from its first bytes: zip, ole, html, text, binary (none of these), empty."""
    with open(path, "rb") as fh:
        return sniff_bytes(fh.read(512))


def sniff_bytes(head: bytes) -> str:
    head = head[:512]
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    low = head.lstrip().lower()
    if low.startswith((b"<html", b"<!doctype html", b"<?xml", b"<table", b"mime-version")) or b"<html" in low:
        return "html"
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return "text"  # a text export with its byte-order mark (Excel's "Unicode text" is UTF-16)
    if any(b < 0x20 and b not in b"\t\n\r\f\x1a" for b in head):
        return "binary"  # control bytes no CSV or text file holds: some other binary (or a damaged file)
    return "text"


def check_ooxml(path: Path, *, kind: str) -> None:
    """Refuse a package that is not a sound Office zip before python-docx or openpyxl sees it.

    (Ingest does not come here: xlsxread checks the zip itself, by the same inflate_parts.)
    """
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as e:
        raise LedgerError.of(Code.UNREADABLE, file=name, problem=f"无法读取文件（{e.strerror}）", fix="请检查文件是否存在、能否打开") from e
    if size > MAX_FILE_BYTES:
        raise LedgerError.of(Code.TOO_LARGE, file=name, mb=size // 1024 // 1024, kind=f"{kind}文件", action="提供")
    what = sniff(path)
    if what == "empty":
        raise LedgerError.of(Code.EMPTY_FILE, file=name, why="", action="提供")
    if what == "ole":
        raise LedgerError.of(Code.OLD_OR_ENCRYPTED, file=name, ext=".docx" if kind == "Word" else ".xlsx")
    if what != "zip":
        raise LedgerError.of(Code.NOT_OOXML, file=name, kind=kind, ext=".docx" if kind == "Word" else ".xlsx")
    from .xlsxread import ZipRefusal, inflate_parts, resave_advice

    advice = resave_advice(kind, "提供", f"请用{kind}/WPS 打开后重新保存，再提供")
    data = path.read_bytes()
    try:
        infos = zip_directory(data)
    except zipfile.BadZipFile as e:
        raise LedgerError.of(Code.CORRUPT, file=name, problem="文件已损坏，无法打开（压缩包不完整）", fix="请重新保存或重新发送") from e
    problem = zip_problem(infos)
    if problem:
        raise LedgerError.of(Code.ZIP_BOMB, file=name, problem=problem, fix=advice["fix"])
    try:
        inflate_parts(data, infos, MAX_UNCOMPRESSED)  # every part, within the budget, DOCTYPE in any encoding
    except ZipRefusal as e:
        raise LedgerError.of(e.code, file=name, **{**advice, **e.params}) from e
