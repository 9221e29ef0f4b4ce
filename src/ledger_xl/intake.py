"""Intake: the returned files found, screened (not a spreadsheet, unreadable, a duplicate), read in worker
processes, recorded in one transaction with their arrival times, handed back when refused, and the master
ledger rebuilt.

Why its own stage: ingest (the module) reads one workbook; this decides which files are read, when each
arrived, and what the store and the master ledger say afterwards — for the inbox, for fetch (mailbox
messages' times) and for recovery (arrivals as first recorded).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .codes import Code
from .findings import Finding, LedgerError
from .fsutil import NotARegularFile, clear_archive_temps, display_name
from .ingest import ReturnRead, read_many
from .master import MASTER_OWED, rebuild_master
from .model import Ledger
from .store import Store
from .workspace import Workspace, local_time, open_store, record_arrivals, template_settings, workspace_lock

# what a bureau might send back as its form; anything else in a folder (a PDF of evidence, a note) is skipped
ACCEPTED_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".ett", ".csv", ".xltx", ".xlsb", ".ods", ".txt", ""}


@dataclass
class FileOutcome:
    path: Path
    status: str  # merged / refused / duplicate / skipped
    bureau: str | None = None
    period: str | None = None
    findings: list[Finding] = field(default_factory=list)
    superseded: bool = False
    note: str = ""
    returned: Path | None = None  # the annotated copy to send back, for a refused return that can be corrected
    received_at: str | None = None  # office time, ISO
    received_source: str | None = None  # mail / given / file
    submission_id: int | None = None


@dataclass
class IngestReport:
    outcomes: list[FileOutcome]
    master_ledger: Path | None = None
    master_note: str = ""
    # wall time of the two steps: reading, checking and storing every file (originals archived, store
    # committed), then rebuilding the master ledger from the store
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "refused"]


# why a file or folder found was not read (each is reported, and counted in the summary)
SKIP_HIDDEN = "隐藏文件，未读取。"
SKIP_LINK = "链接（快捷方式），不跟随链接读取。如是报表，请把文件本身放进来。"
SKIP_SPECIAL = "不是普通文件（管道、设备等），未读取。"
SKIP_UNSAFE = "文件名不安全（含有 \\ 或以 .. 开头），未读取。如是报表，请改名后重新放入。"


def _skip_reason(name: str, is_link: bool, is_dir: bool, is_file: bool) -> str | None:
    if "\\" in name or name.startswith(".."):
        return SKIP_UNSAFE
    if is_link:
        return SKIP_LINK
    if name.startswith("."):
        return SKIP_HIDDEN
    if not (is_dir or is_file):
        return SKIP_SPECIAL
    return None


def collect_files(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to ingest, each folder walked, ordered by arrival (modification time), then name; and what was
    found but not read, with why. No link is followed: one in a folder or named on the command line is
    skipped (a link planted in the inbox could otherwise copy any file the clerk can read into archive/)."""
    found: dict[str, tuple[float, str, Path]] = {}
    skipped: dict[str, tuple[Path, str]] = {}

    def walk(folder: str) -> None:
        real = os.path.realpath(folder)  # a file found here (never a link) is this plus its name
        with os.scandir(folder) as it:
            for entry in it:
                is_dir = entry.is_dir(follow_symlinks=False)
                why = _skip_reason(entry.name, entry.is_symlink(), is_dir, entry.is_file(follow_symlinks=False))
                if why:
                    skipped.setdefault(os.path.join(real, entry.name), (Path(entry.path), why))
                elif is_dir:
                    walk(entry.path)
                else:
                    found.setdefault(os.path.join(real, entry.name), (entry.stat(follow_symlinks=False).st_mtime, entry.name, Path(entry.path)))

    for p in map(Path, paths):
        if not p.is_symlink() and p.is_dir():
            walk(str(p))
        elif p.is_symlink() or p.exists():
            why = _skip_reason(p.name, p.is_symlink(), False, p.is_file())
            if why:
                skipped.setdefault(os.path.abspath(p), (p, why))
            else:
                found.setdefault(os.path.realpath(p), (p.stat().st_mtime, p.name, p))
        else:
            raise LedgerError.of(Code.NOT_FOUND, what="", path=display_name(str(p)), fix="请检查路径")
    return [p for _, _, p in sorted(found.values(), key=lambda x: (x[0], x[1]))], list(skipped.values())


@dataclass
class _Batch:
    """What ingest decided before reading: an outcome per file in order (None: to be read), and those to read."""

    outcomes: list[FileOutcome | None] = field(default_factory=list)
    to_read: list[tuple[int, Path]] = field(default_factory=list)  # (slot in outcomes, file)
    forms: list[tuple[int, int, object]] = field(default_factory=list)  # (slot, submission id, read): refused forms read
    merged_units: list[tuple[str, str]] = field(default_factory=list)


def _screen(files: list[Path], batch: _Batch) -> None:
    """Skip what is not a spreadsheet, recording an outcome per file in `batch`; the files to read go to
    batch.to_read, each with its slot (filled in after reading, in the same order)."""
    for path in files:
        if path.name.startswith("~$"):
            batch.outcomes.append(FileOutcome(path, "skipped", note="Excel/WPS 临时文件（~$ 开头），不是报表，已跳过。"))
        elif path.suffix.lower() not in ACCEPTED_SUFFIXES:
            batch.outcomes.append(FileOutcome(path, "skipped", note=f"不是电子表格文件（{path.suffix or '无扩展名'}），已跳过。"))
        else:
            batch.to_read.append((len(batch.outcomes), path))
            batch.outcomes.append(None)


def _set_aside(store: Store, known: set[str], seen: dict[str, Path], path: Path, read: ReturnRead) -> FileOutcome | None:
    """The outcome of a file not to be recorded — it could not be read, or it is a copy of a return stored
    before or of one earlier in this batch (decided in arrival order: files come back in it) — else None."""
    if read.error is not None:
        return FileOutcome(path, "skipped", note=_unreadable_note(read.error))
    digest = read.sha256
    prior = store.known(digest) if digest in known else None
    if prior is not None:
        # its received time stays the one recorded when this content was first seen
        return FileOutcome(path, "duplicate", prior.bureau, prior.period, received_at=prior.received_at,
                           received_source=prior.received_source,
                           note=f"与 {prior.received_at[:16].replace('T', ' ')} 收到的 {prior.file_name} 内容相同，未做改动。")
    if digest in seen:
        return FileOutcome(path, "duplicate", note=f"与本批中的 {display_name(seen[digest].name)} 内容相同，未做改动。")
    seen[digest] = path
    return None


def _unreadable_note(e: OSError) -> str:
    import errno

    if e.errno == errno.ELOOP:
        return SKIP_LINK
    if e.errno in (errno.ENXIO, errno.EISDIR) or isinstance(e, NotARegularFile):
        return SKIP_SPECIAL
    if e.errno == errno.ENOENT:
        return "文件在汇总过程中被移走或删除，未读取。"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "没有读取这个文件的权限，未读取。请检查文件权限（或关闭占用它的程序）后重新运行汇总。"
    return f"无法读取（{e.strerror or type(e).__name__}），未读取。请关闭占用它的程序后重新运行汇总。"


def _merge(ws: Workspace, store: Store, ledger: Ledger, batch: _Batch, arrival_of: Callable[[Path, float], Arrival],
           before_commit: Callable[[Store, list[FileOutcome]], None] | None = None) -> None:
    """Read the files to read (in worker processes, each hashed once and archived as it is read), set aside
    the copies, and record every other outcome in one transaction, each with its arrival (`arrival_of` the
    file and its modification time); `before_commit` records what the caller must commit with them."""
    key, ledger_id = store.template_key, store.ledger_id
    known = store.known_digests()  # before the workers start: they are given it
    current: dict[tuple[str, str], tuple[str, str]] | None = None  # read when first needed, while the workers read
    seen: dict[str, Path] = {}
    arrivals: list[dict[str, str]] = []
    recorded = False
    with store.transaction():
        reads = read_many([p for _, p in batch.to_read], key=key, ledger_id=ledger_id, ledger=ledger, archive=ws.archive, known=known)
        for k, (_, read) in enumerate(reads):
            slot, path = batch.to_read[k]
            batch.outcomes[slot] = _set_aside(store, known, seen, path, read)
            if batch.outcomes[slot] is not None:
                continue
            recorded = True
            digest, archived, arrival = read.sha256, read.archived, arrival_of(path, read.modified)
            read.received_at = arrival.at  # the message's, the clerk's or the file's time, in the office's zone
            outcome = "merged" if read.ok else "refused"
            meta = read.meta
            name = display_name(path.name)
            if outcome == "merged" and current is None:
                current = store.current_receipts()
            superseded, note = _arrival(current, read, name) if current is not None and outcome == "merged" else (False, "")
            kept = str(archived.relative_to(ws.root)) if archived is not None else ""
            sid = store.add_submission(
                sha256=digest, file_name=name, archive_path=kept,
                bureau=read.bureau, period=read.period, received_at=read.received_at, outcome=outcome,
                findings=read.findings, values=read.values if read.ok else [],
                template_generated_at=meta.generated_at if meta else None, typed=read.typed,
                received_source=arrival.source, sender=arrival.sender)
            batch.outcomes[slot] = FileOutcome(path, outcome, read.bureau, read.period, read.findings, superseded=superseded, note=note,
                                               received_at=arrival.at.isoformat(), received_source=arrival.source, submission_id=sid)
            if outcome == "refused" and read.typed is not None and read.bureau:
                batch.forms.append((slot, sid, read))
            elif outcome == "merged":
                batch.merged_units.append((read.bureau, read.period))  # type: ignore[arg-type]
            if archived is not None:
                arrivals.append({"sha256": digest, "file_name": name, "received_at": read.received_at.isoformat(),
                                 "received_source": arrival.source, "sender": arrival.sender or "",
                                 "archive_path": kept})
        record_arrivals(ws, arrivals)
        if recorded:  # the master ledger must show what was recorded: owed until a rebuild succeeds
            store.set_meta(MASTER_OWED, "1")
        if before_commit is not None:
            before_commit(store, [o for o in batch.outcomes if o is not None])
        if recorded and hasattr(os, "sync"):
            os.sync()  # every archived original is on disk before the store says it was received


@dataclass(frozen=True)
class Arrival:
    """When a file arrived, in the office's time, and how that is known: 'mail' (the message's INTERNALDATE),
    'given' (ingest --received) or 'file' (its modification time); and who sent it, when it came by mail."""

    at: dt.datetime
    source: str = "file"
    sender: str | None = None


def parse_received(text: str) -> dt.datetime:
    """`ingest --received "2024-07-05 09:30"`: a time in the office's time zone (a date alone is its midnight)."""
    t = " ".join(text.replace("T", " ").split())
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(t, fmt)
        except ValueError:
            continue
    raise LedgerError.of(Code.RECEIVED_FORMAT, typed=text)


def ingest_files(ws: Workspace, ledger: Ledger, paths: list[Path], *, wait: float = 120.0,
                 received_at: dt.datetime | None = None, arrivals: Mapping[Path, Arrival] | None = None,
                 before_commit: Callable[[Store, list[FileOutcome]], None] | None = None) -> IngestReport:
    """Validate returned workbooks and merge the valid ones into the store in one transaction.

    A file's received time is, in this order: its `arrivals` entry (a mail message's time), `received_at`
    (the clerk's word), or its modification time — in the office's time zone, fixed when its content is
    first seen. `before_commit` runs inside the transaction with the outcomes, so what a caller records
    about them (a mail message taken) commits, or is lost, together with them."""
    started = time.perf_counter()
    files, skipped = collect_files(paths)  # []: nothing (fetch with no workbooks)
    with workspace_lock(ws, wait=wait, what="汇总"), open_store(ws) as store:
        clear_archive_temps(ws.folder(ws.archive))
        given = Arrival(received_at, "given") if received_at is not None else None

        zone = functools.cache(lambda: ws.timezone)  # read from the settings once, when a file's own time is needed

        def arrival_of(path: Path, modified: float) -> Arrival:
            return (arrivals or {}).get(path) or given or Arrival(local_time(modified, zone()))

        batch = _Batch()
        _screen(files, batch)
        store.checkpoint_later()  # the commit's copy into the store file: behind the hand-back and the rebuild
        _merge(ws, store, ledger, batch, arrival_of, before_commit)
        with store.checkpoint_behind():
            for slot, copy in _hand_back(ws, ledger, store, batch.forms, batch.merged_units).items():
                if isinstance(copy, Path):
                    batch.outcomes[slot].returned = copy  # type: ignore[union-attr]
                else:
                    batch.outcomes[slot].note = copy  # type: ignore[union-attr]
            report = IngestReport([o for o in batch.outcomes if o is not None] + [FileOutcome(p, "skipped", note=why) for p, why in skipped])
            merged = time.perf_counter()
            report.seconds["validate_merge"] = merged - started
            if store.meta(MASTER_OWED) or not (ws.outputs / "master_ledger.xlsx").exists():
                report.master_ledger, report.master_note = rebuild_master(ws, ledger, store)
                report.seconds["master_ledger"] = time.perf_counter() - merged
    return report


def _hand_back(ws: Workspace, ledger: Ledger, store: Store, forms: list[tuple[int, int, object]],
               merged_units: list[tuple[str, str]]) -> dict[int, Path | str]:
    """Annotated copies of this ingest's refused returns (slot → copy); stale copies of units now accepted removed."""
    if not forms and not (ws.outputs / "returns").is_dir():
        return {}
    from .returns import after_ingest

    subs = {s.id: s for s in store.submissions_by_id([sid for _, sid, _ in forms])}
    refused = [(subs[sid], read.typed, read.findings) for _, sid, read in forms]  # type: ignore[attr-defined]
    written = after_ingest(ws.outputs, ledger, store, refused, merged_units, template_settings(ws, ledger))
    return {slot: written[sid] for slot, sid, _ in forms if sid in written}


def _arrival(current: dict[tuple[str, str], tuple[str, str]], read: ReturnRead, name: str) -> tuple[bool, str]:
    """Whether a merged file supersedes the current one of its bureau and period, or is an older version
    (received earlier than the current one, whatever order they were ingested in): (superseded, note)."""
    key = (read.bureau or "", read.period or "")
    received = read.received_at.isoformat()
    cur = current.get(key)
    if cur is not None and received < cur[0]:
        return False, f"较早的版本，未取代 {cur[1]}（{cur[0].replace('T', ' ')} 收到）；已存入提交记录。"
    current[key] = (received, name)
    return cur is not None, ""
