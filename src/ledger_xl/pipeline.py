"""Workspace-level operations: each opens the workspace, the definition and the store, and calls a stage.

The CLI calls these; so can a script. Data flows one way: definition → templates → ingest → store →
checks → report/mail.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .codes import Code
from .definition import load_ledger
from .findings import Finding, LedgerError
from .fsutil import NotARegularFile, clear_archive_temps, display_name
from .ingest import ReturnRead, read_many, sha256_of
from .model import DEFAULT_ISSUER, DeadlineRule, Ledger, Period, check_period_in
from .reporting import MISSING, REFUSED, StatusReport, period_status
from .store import Store, StoredValue, Submission
from .templates import TemplateRun, write_templates
from .workspace import Workspace, local_time, open_store, open_workspace, record_arrivals, workspace_lock

if TYPE_CHECKING:
    from email.headerregistry import Address

    from .checks import CheckResult
    from .mail import MailPlan, SendResult, SmtpSettings
    from .returns import History


def ws_ledger(ws: Workspace) -> Ledger:
    """The workspace's ledger, through the load cache in outputs/.cache."""
    return load_ledger(ws.definition_path, cache_dir=ws.outputs / ".cache")


def make_templates(root: Path, period_text: str, *, bureaus: list[str] | None = None, make_zip: bool = False) -> TemplateRun:
    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    period = Period.parse(period_text)
    check_period_in(ledger, period)
    with open_store(ws) as store:
        prior = store.cumulative_before(ledger, period)
        return write_templates(
            ledger, period, ws.outputs / "templates" / period.code, key=store.template_key, ledger_id=store.ledger_id,
            bureaus=bureaus, prior=prior, make_zip=make_zip, **template_settings(ws, ledger),
        )


def template_settings(ws: Workspace, ledger: Ledger) -> dict[str, Any]:
    """What the workspace says every template (and annotated copy) carries: deadline, contact, issuer."""
    cfg = ws.section("templates")
    return {"deadline_rule": ws.deadline_rule(ledger), "contact": str(cfg.get("contact", "")), "issuer": str(cfg.get("issuer", ""))}


def annotated_copy(root: Path, bureau: str, period_text: str) -> Path | None:
    """The annotated copy of a unit's return for a period (outputs/returns/<period>/<unit>_退回修改.xlsx) when
    its latest return was refused and can be handed back — written again if it is missing —, else None.
    Mail attaches this instead of a blank template."""
    from .returns import annotated_path, hand_back, latest_return

    ws = open_workspace(root)
    code = Period.parse(period_text).code
    with open_store(ws, readonly=True) as store:
        latest = latest_return(store, bureau, code)
        if latest is None or latest.outcome != "refused":
            return None
        path = annotated_path(ws.outputs, bureau, code)
        if path.exists():
            return path
        ledger = ws_ledger(ws)
        return hand_back(ws.outputs, ledger, store, latest, template_settings(ws, ledger))


# ---------------------------------------------------------------- ingest

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
    to_read: list[tuple[int, Path, str]] = field(default_factory=list)
    forms: list[tuple[int, int, object]] = field(default_factory=list)  # (slot, submission id, read): refused forms read
    merged_units: list[tuple[str, str]] = field(default_factory=list)


def _screen(files: list[Path], store: Store) -> _Batch:
    """Skip what is not a spreadsheet, hash the rest (without following a link) and set aside duplicates."""
    batch = _Batch()
    known = store.known_digests()
    seen: dict[str, Path] = {}
    for path in files:
        if path.name.startswith("~$"):
            batch.outcomes.append(FileOutcome(path, "skipped", note="Excel/WPS 临时文件（~$ 开头），不是报表，已跳过。"))
            continue
        if path.suffix.lower() not in ACCEPTED_SUFFIXES:
            batch.outcomes.append(FileOutcome(path, "skipped", note=f"不是电子表格文件（{path.suffix or '无扩展名'}），已跳过。"))
            continue
        try:
            digest = sha256_of(path)
        except OSError as e:
            batch.outcomes.append(FileOutcome(path, "skipped", note=_unreadable_note(e)))
            continue
        prior = store.known(digest) if digest in known else None
        if prior is not None:
            # its received time stays the one recorded when this content was first seen
            batch.outcomes.append(FileOutcome(path, "duplicate", prior.bureau, prior.period, received_at=prior.received_at,
                                              received_source=prior.received_source,
                                              note=f"与 {prior.received_at[:16].replace('T', ' ')} 收到的 {prior.file_name} 内容相同，未做改动。"))
        elif digest in seen:
            batch.outcomes.append(FileOutcome(path, "duplicate", note=f"与本批中的 {display_name(seen[digest].name)} 内容相同，未做改动。"))
        else:
            seen[digest] = path
            batch.to_read.append((len(batch.outcomes), path, digest))
            batch.outcomes.append(None)  # filled in after reading, in the same order
    return batch


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


def _merge(ws: Workspace, store: Store, ledger: Ledger, batch: _Batch, when: Mapping[Path, Arrival],
           before_commit: Callable[[Store, list[FileOutcome]], None] | None = None) -> None:
    """Read the files (in worker processes, each archived first) and record every outcome in one transaction,
    each with its arrival (`when`); `before_commit` records what the caller must commit with them."""
    key, ledger_id = store.template_key, store.ledger_id
    current = {k: (s.received_at, s.file_name) for k, s in store.current_submissions().items()}
    arrivals: list[dict[str, str]] = []
    with store.transaction():
        reads = read_many([(p, d) for _, p, d in batch.to_read], key=key, ledger_id=ledger_id, ledger=ledger, archive=ws.archive)
        for (slot, path, digest), (_, read) in zip(batch.to_read, reads, strict=True):
            archived, arrival = read.archived, when[path]
            read.received_at = arrival.at  # the message's, the clerk's or the file's time, in the office's zone
            outcome = "merged" if read.ok else "refused"
            meta = read.meta
            name = display_name(path.name)
            superseded, note = _arrival(current, read, name) if outcome == "merged" else (False, "")
            sid = store.add_submission(
                sha256=digest, file_name=name, archive_path=str(archived.relative_to(ws.root)) if archived else "",
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
                                 "archive_path": str(archived.relative_to(ws.root))})
        record_arrivals(ws, arrivals)
        if batch.to_read:  # the master ledger must show what was recorded: owed until a rebuild succeeds
            store.set_meta(MASTER_OWED, "1")
        if before_commit is not None:
            before_commit(store, [o for o in batch.outcomes if o is not None])
        if batch.to_read and hasattr(os, "sync"):
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
    raise LedgerError.of(Code.RECEIVED_FORMAT, text=f"收到时间“{text}”写法不对，请写成 2024-07-05 09:30（按办公所在时区）。")


def ingest(root: Path, paths: list[Path] | None = None, *, wait: float = 120.0, received_at: dt.datetime | None = None,
           arrivals: Mapping[Path, Arrival] | None = None,
           before_commit: Callable[[Store, list[FileOutcome]], None] | None = None) -> IngestReport:
    """Validate returned workbooks and merge the valid ones into the store in one transaction.

    A file's received time is, in this order: its `arrivals` entry (a mail message's time), `received_at`
    (the clerk's word), or its modification time — in the office's time zone, fixed when its content is
    first seen. `before_commit` runs inside the transaction with the outcomes, so what a caller records
    about them (a mail message taken) commits, or is lost, together with them."""
    started = time.perf_counter()
    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    files, skipped = collect_files(paths if paths is not None else [ws.inbox])  # []: nothing (fetch with no workbooks)
    with workspace_lock(ws, wait=wait, what="汇总"), open_store(ws) as store:
        clear_archive_temps(ws.folder(ws.archive))
        batch = _screen(files, store)
        given = Arrival(received_at, "given") if received_at is not None else None
        when = {path: (arrivals or {}).get(path) or given or Arrival(local_time(path.stat().st_mtime, ws.timezone))
                for _, path, _ in batch.to_read}
        _merge(ws, store, ledger, batch, when, before_commit)
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


def latest_period(ledger: Ledger, store: Store, subs: list[Submission] | None = None) -> Period | None:
    """The latest period of the programme for which anything was received."""
    got = {s.period for s in (subs if subs is not None else store.submissions()) if s.period}
    periods = [p for p in ledger.periods() if p.code in got]
    return max(periods) if periods else None


def check_store(ledger: Ledger, store: Store, period: Period, rule: DeadlineRule,
                values: list[StoredValue] | None = None, *, status: StatusReport | None = None,
                subs: list[Submission] | None = None, history: list[tuple[StoredValue, bool]] | None = None) -> CheckResult:
    """The checks at a period. A caller judging several periods passes what they share, fetched once:
    `values` (current values of the kinds checks read), the period's `status`, the store's `subs` and `history`."""
    from .checks import CHECKED_KINDS, run_checks

    st = status or period_status(ledger, store, period, rule, subs=subs)
    values = values if values is not None else store.current_values(kinds=CHECKED_KINDS)
    upto = period.codes_up_to()
    return run_checks(ledger, period, [v for v in values if v.period in upto],
                      subs if subs is not None else store.submissions(),
                      history=history if history is not None else store.history_values(),
                      status=st)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector. A rebuild makes some 200,000 short-lived objects without cycles
    (stored values, rows, cells), freed as they go; the collector, set off by them, walked everything
    else in the process again and again: a tenth of the rebuild after a province-sized ingest."""
    import gc

    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


# set in the store with the records an ingest adds, cleared once the master ledger shows them: an ingest
# killed (or a master ledger held open) between the two is made good by the next ingest, even of nothing new
MASTER_OWED = "master_ledger_owed"


def rebuild_master(ws: Workspace, ledger: Ledger, store: Store, checks: CheckResult | None = None, *,
                   values: list[StoredValue] | None = None, subs: list[Submission] | None = None) -> tuple[Path | None, str]:
    """Rebuild outputs/master_ledger.xlsx from the store; an open (locked) file is reported, never fatal.

    Statuses are those of the given check, or of the latest period with data. `values` (current values of
    CHECKED_KINDS | MASTER_KINDS) and `subs` (every submission): when the caller has fetched them already.
    """
    from .checks import CHECKED_KINDS
    from .ledger_book import MASTER_KINDS, write_master_ledger

    rule = ws.deadline_rule(ledger)
    target = ws.outputs / "master_ledger.xlsx"
    with _collector_paused():
        values = values if values is not None else store.current_values(kinds=CHECKED_KINDS | MASTER_KINDS)
        subs = subs if subs is not None else store.submissions()
        if checks is None:
            latest = latest_period(ledger, store, subs)
            checks = check_store(ledger, store, latest, rule, values, subs=subs) if latest else None
        try:
            write_master_ledger(ledger, store, target, deadline_rule=rule, checks=checks, values=values, subs=subs)
        except (LedgerError, OSError) as e:
            from .workspace import explain_failure

            why = e if isinstance(e, LedgerError) else explain_failure(e)
            if why is None:
                raise
            # the store is committed before the rebuild: what was merged is in it, and the next rebuild writes it
            return None, (f"总台账 {target.name} 未能更新：{why.message} 已汇入的数据已保存在数据库中；"
                          "处理后运行 ledger-xl check --period 报送期（或再次 ingest）即可重新生成总台账。")
    if store.meta(MASTER_OWED):
        with store.transaction():
            store.set_meta(MASTER_OWED, None)
    return target, ""



# ---------------------------------------------------------------- status


def choose_period(root: Path, period_text: str | None, *, collecting: bool = False,
                  today: dt.date | None = None) -> tuple[str, str]:
    """The period a command works on, and what to say about it: the one asked for (checked against the
    ledger: its years, its kind), or — left out — the latest whose deadline has passed, else the current
    one (`collecting`: the latest that has ended, for templates and reminders). The sentence is empty when
    the period was given."""
    from .model import default_period

    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    if period_text is not None and period_text.strip():
        period = Period.parse(period_text)
        check_period_in(ledger, period)
        return period.code, ""
    period, why = default_period(ledger, ws.deadline_rule(ledger), today or dt.date.today(), collecting=collecting)
    return period.code, why


def _open(root: Path, period_text: str) -> tuple[Workspace, Ledger, Period]:
    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    period = Period.parse(period_text)
    check_period_in(ledger, period)
    return ws, ledger, period


def status(root: Path, period_text: str) -> StatusReport:
    ws, ledger, period = _open(root, period_text)
    with open_store(ws, readonly=True) as store:
        return period_status(ledger, store, period, ws.deadline_rule(ledger), today=ws.now().date())


@dataclass
class CheckRun:
    result: CheckResult
    master_ledger: Path | None
    master_note: str


def check(root: Path, period_text: str) -> CheckRun:
    """Judge the period, keep its findings in the store, and write the statuses into the master ledger."""
    from .checks import CHECKED_KINDS
    from .ledger_book import MASTER_KINDS

    ws, ledger, period = _open(root, period_text)
    with workspace_lock(ws, what="核对"), open_store(ws) as store:
        with _collector_paused():  # one fetch of the values and submissions serves the checks and the master ledger
            values, subs = store.current_values(kinds=CHECKED_KINDS | MASTER_KINDS), store.submissions()
        result = check_store(ledger, store, period, ws.deadline_rule(ledger), values, subs=subs)
        store.replace_check_findings(period.code, result.findings)
        path, note = rebuild_master(ws, ledger, store, result, values=values, subs=subs)
    return CheckRun(result, path, note)


def history(root: Path, period_text: str, bureau: str) -> History:
    """A unit's returns for a period, oldest first, with what each changed against the one before."""
    from .returns import bureau_history

    ws, ledger, period = _open(root, period_text)
    if ledger.bureau(bureau) is None:
        names = "、".join(ledger.bureaus_with_tasks())
        raise LedgerError.of(Code.BUREAU_OPTION_UNKNOWN, names=bureau, choices=names)
    with open_store(ws, readonly=True) as store:
        return bureau_history(ws.root, ledger, store, bureau, period)


# ---------------------------------------------------------------- report


def make_report(root: Path, period_text: str, out: Path | None = None, *, date: dt.date | None = None) -> tuple[Path, CheckResult]:
    """Write the period's summary report from the store and the checks (atomically)."""
    from .charts import Rendering
    from .report import ReportData, write_report
    from .store import metric_series

    ws, ledger, period = _open(root, period_text)
    drawing = Rendering()  # the chart process gets matplotlib ready while the checks run
    try:
        cfg = ws.section("report")
        with open_store(ws) as store:
            rule = ws.deadline_rule(ledger)
            # one fetch of what the checks read serves both checks and the cumulative figures; texts only for this period
            from .checks import CHECKED_KINDS

            values = store.current_values(period, kinds=CHECKED_KINDS)
            texts = [v for v in store.current_values(period, kinds={"problems", "plan"}) if v.period == period.code]
            subs, history = store.submissions(), store.history_values()
            status = period_status(ledger, store, period, rule, subs=subs, today=date)  # as of the report's date
            result = check_store(ledger, store, period, rule, values, status=status, subs=subs, history=history)
            prev_period = period.previous()
            previous = (check_store(ledger, store, prev_period, rule, values, subs=subs, history=history)
                        if prev_period.year in ledger.years else None)
            before = metric_series(ledger, values, prev_period)
            data = ReportData(
                ledger=ledger, period=period, checks=result, previous=previous,
                status=status,
                values=[v for v in values if v.period == period.code] + texts,
                cumulative_before={k: sum(x[0] for x in s.values()) for k, s in before.items()},
                issuer=str(cfg.get("issuer") or DEFAULT_ISSUER), date=date or dt.date.today(),
                font_profile=str(cfg.get("font_profile", "gb2312")),
                addressee=str(cfg.get("addressee") or ""), issuer_full=str(cfg.get("issuer_full") or ""),
                letterhead=(ws.root / str(cfg["letterhead"])) if cfg.get("letterhead") else None,
            )
        target = out or ws.outputs / "reports" / f"{period.code}_总结报告.docx"
        return write_report(data, target, drawing), result
    finally:
        drawing.close()


# ---------------------------------------------------------------- export


def export_values(root: Path, out: Path, period_text: str | None) -> tuple[Path, int]:
    """Write the stored values (of one period, or of all when `period_text` is None) as .xlsx or .csv."""
    from .export import frame, tidy_rows, write_export

    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    period = None
    if period_text is not None:
        period = Period.parse(period_text)
        check_period_in(ledger, period)
    with open_store(ws, readonly=True) as store:
        rows = tidy_rows(ledger, store, period)
    return write_export(frame(rows), out), len(rows)


# ---------------------------------------------------------------- mail


@dataclass
class _MailRun:
    """What every kind of message needs: the workspace, the period, the office's signature."""

    root: Path
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
        from .templates import safe_filename

        path = self.ws.outputs / "templates" / self.period.code / f"{safe_filename(name)}.xlsx"
        if not path.exists():
            make_templates(self.root, self.period.code, bureaus=[name])
        return path, f"{safe_filename(name)}_{self.period.code}_填报模板.xlsx"


def plan_mail(root: Path, kind: str, period_text: str) -> tuple[MailPlan, Workspace]:
    """Who gets what: templates to every bureau, reminders to the missing and refused, the report to its readers."""
    from .mail import MailPlan
    from .mailtext import signature
    from .report import cn_date

    planners = {"templates": _plan_templates, "remind": _plan_reminders, "report": _plan_report}
    if kind not in planners:
        raise LedgerError.of(Code.USAGE_MAIL_KIND, kind=kind)
    ws, ledger, period = _open(root, period_text)
    cfg_t, cfg_m = ws.section("templates"), ws.section("mail")
    sender_name = str(cfg_m.get("sender_name") or cfg_t.get("issuer") or DEFAULT_ISSUER)
    run = _MailRun(root, ws, ledger, period, MailPlan(kind, period.code), cn_date(ws.deadline_rule(ledger).due(period)),
                   str(cfg_t.get("contact") or ""), signature(sender_name, cn_date(dt.date.today())))
    planners[kind](run)
    return run.plan, ws


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
    from .templates import safe_filename

    st = status(run.root, run.period.code)
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
                copy = annotated_copy(run.root, b.name, run.period.code)
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
    from .mail import Outgoing, config_recipients
    from .mailtext import report_cover
    from .report import report_title

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
        path, _ = make_report(run.root, run.period.code)
    title = report_title(run.ledger, run.period)
    with open_store(run.ws) as store:
        counts = check_store(run.ledger, store, run.period, run.ws.deadline_rule(run.ledger)).counts()
    subject, body = report_cover(title, n_tasks=len(run.ledger.tasks), counts=counts, sign=run.sign)
    run.plan.messages.append(Outgoing("report", run.period.code, None, to, subject, body, path, f"{title}.docx"))


def plan_early_reminders(root: Path, days: int, period_text: str | None = None) -> tuple[MailPlan, Workspace]:
    """`mail remind --before-deadline N`: from N days before the deadline until it, remind the bureaus that have
    sent nothing — each once a period, so a daily scheduled run sends each reminder once."""
    from .mail import MailPlan

    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    rule = ws.deadline_rule(ledger)
    today = ws.now().date()
    if period_text:
        period: Period | None = Period.parse(period_text)
    else:  # the period whose deadline comes next
        period = min((p for p in ledger.periods() if rule.due(p) >= today), key=rule.due, default=None)
    if period is None:
        plan = MailPlan("remind", "")
        plan.skipped.append(("全部报送期", "没有尚未截止的报送期，不需要提前提醒"))
        return plan, ws
    due = rule.due(period)
    plan = MailPlan("remind", period.code)
    if today < due - dt.timedelta(days=days):
        plan.skipped.append((period.label, f"截止日期为 {due}，还有 {(due - today).days} 天；截止前 {days} 天起才提醒"))
        return plan, ws
    if today > due:
        plan.skipped.append((period.label, f"已过截止日期 {due}，提前提醒不再发送；催报请用 ledger-xl mail remind --period {period.code}"))
        return plan, ws
    full, _ = plan_mail(root, "remind", period.code)
    missing = {b.name for b in status(root, period.code).bureaus if b.state == MISSING}
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
    return plan, ws


def mail_drafts(root: Path, plan: MailPlan) -> list[SendResult]:
    from .mail import SmtpSettings, write_drafts

    ws = open_workspace(root)
    settings = SmtpSettings.from_config(ws.section("mail"))
    sender = settings.sender_address() if settings.sender else _placeholder_sender(settings)
    return write_drafts(plan, ws.outputs / "mail" / plan.period, sender, ws.timezone)


def _placeholder_sender(settings: SmtpSettings) -> Address:
    from .mail import address

    return address(settings.sender_name or DEFAULT_ISSUER, "office@example.invalid", who="发件人")


def check_mail_settings(root: Path) -> None:
    """The [mail] settings that sending needs, checked before the clerk is asked to confirm."""
    from .mail import SmtpSettings

    SmtpSettings.from_config(open_workspace(root).section("mail")).check()


def mail_send(root: Path, plan: MailPlan, password: str | None) -> list[SendResult]:
    from .imapfetch import ImapSettings, sent_keeper
    from .mail import SmtpSettings, send_all

    ws = open_workspace(root)
    settings = SmtpSettings.from_config(ws.section("mail"))
    settings.timezone = ws.timezone
    keep, close = sent_keeper(ImapSettings.from_config(ws.section("imap")), ws.timezone)  # a copy of each in sent_folder
    try:
        with workspace_lock(ws, what="发送邮件"), open_store(ws) as store:
            return send_all(plan, settings, password, store, on_sent=keep)
    finally:
        close()
