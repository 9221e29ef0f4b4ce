"""Getting a workspace back: a backup in one file, restoring it, and rebuilding a lost store from archive/.

The store holds what was merged; the key file holds the template signing key; archive/ holds every
original under its SHA-256 with .arrivals.jsonl saying what each was called and when it came. Losing the
store alone is repaired by `rebuild`; losing more is repaired from a backup (`backup` / `restore`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .codes import Code
from .findings import LedgerError

if TYPE_CHECKING:
    from .intake import Arrival
from .fsutil import atomic_path, write_bytes_atomic
from .workspace import (
    ARRIVALS_NAME,
    CONFIG_NAME,
    DEFINITION_NAME,
    KEY_NAME,
    STORE_NAME,
    Workspace,
    open_store,
    open_workspace,
    read_arrivals,
    read_key,
    workspace_lock,
)

BACKUP_FORMAT = "ledger-xl-backup"
ARRIVALS_MEMBER = "archive/arrivals.jsonl"


@dataclass
class BackupReport:
    path: Path
    n_submissions: int
    n_archived: int


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def backup(root: Path | str, out: Path | None = None) -> BackupReport:
    """One zip holding a consistent copy of the store (SQLite's backup API, safe while others read), the key
    file, the config, the definition and a manifest of archive/ (name, size and SHA-256 of each original)."""
    ws = open_workspace(root)
    target = Path(out) if out else ws.outputs / "backups" / f"台账备份_{_stamp()}.zip"
    if target.is_dir():
        raise LedgerError.of(Code.PATH_KIND, problem=f"{target} 是一个文件夹", fix=f"请给出备份文件的名字，例如 {target / '台账备份.zip'}")
    with tempfile.TemporaryDirectory(prefix="lx-backup-") as tmp:
        snapshot = Path(tmp) / STORE_NAME
        with open_store(ws, readonly=True) as store:
            dst = sqlite3.connect(snapshot)
            try:
                store.db.backup(dst)
            finally:
                dst.close()
            subs = store.submissions()
        manifest = {"format": BACKUP_FORMAT, "created": dt.datetime.now().replace(microsecond=0).isoformat(),
                    "definition": ws.definition_path.name,
                    "archive": [{"sha256": s.sha256, "file_name": s.file_name, "archive_path": s.archive_path,
                                 "received_at": s.received_at, "bureau": s.bureau, "period": s.period}
                                for s in subs if s.archive_path]}
        with atomic_path(target) as part, zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(snapshot, STORE_NAME)
            for path, name in ((ws.key_path, KEY_NAME), (ws.root / CONFIG_NAME, CONFIG_NAME),
                               (ws.definition_path, "definition.xlsx")):
                if path.is_file():
                    z.write(path, name)
            arrivals = ws.archive / ARRIVALS_NAME
            if arrivals.is_file():
                z.write(arrivals, ARRIVALS_MEMBER)
            z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return BackupReport(target, len(subs), len(manifest["archive"]))


@dataclass
class RestoreReport:
    root: Path
    n_submissions: int
    set_aside: list[Path] = field(default_factory=list)
    missing_originals: list[str] = field(default_factory=list)


def _read_backup(path: Path) -> tuple[zipfile.ZipFile, dict[str, object]]:
    """The backup zip and its manifest, or a refusal saying what the file is not."""
    name = Path(path).name
    if not Path(path).is_file():
        raise LedgerError.of(Code.NOT_FOUND, what="备份文件", path=path, fix="请检查路径")
    try:
        z = zipfile.ZipFile(path)
        manifest = json.loads(z.read("manifest.json"))
        if manifest.get("format") != BACKUP_FORMAT or not {STORE_NAME, KEY_NAME} <= set(z.namelist()):
            raise KeyError("format")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, AttributeError) as e:
        raise LedgerError.of(Code.NOT_BACKUP, problem=f"{name} 不是 ledger-xl 的备份文件，或已损坏",
                             fix="请选用 ledger-xl backup 生成的 .zip 文件") from e
    return z, manifest


def _checked_store(z: zipfile.ZipFile, dest: Path, key: dict[str, str], name: str) -> int:
    """Extract the backup's store to `dest` and prove it whole and of the backup's key; its submission count."""
    with z.open(STORE_NAME) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
    db = sqlite3.connect(dest)
    try:
        ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        n = db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.DatabaseError:
        ok, meta, n = False, {}, 0
    finally:
        db.close()
    if not ok or meta.get("ledger_id") != key["ledger_id"] or meta.get("template_key") != key["template_key"]:
        raise LedgerError.of(Code.NOT_BACKUP, problem=f"备份文件 {name} 中的数据库已损坏或与其中的密钥不符，未做任何改动",
                             fix="请换一份备份")
    return int(n)


def _set_aside(path: Path, stamp: str) -> Path | None:
    """Keep a file that is about to be replaced, under a name saying so (with a store's -wal/-shm)."""
    kept = path.with_name(f"{path.name}.恢复前-{stamp}")
    for suffix in ("-wal", "-shm"):  # even without the store: an old journal must never be replayed into a new one
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, kept.with_name(kept.name + suffix))
    if not path.exists():
        return None
    os.replace(path, kept)
    return kept


def restore(root: Path | str, backup_path: Path) -> RestoreReport:
    """Put a backup's store, key, config and definition into `root` (made a workspace when it is not one).

    Nothing is deleted: a store, key, config or definition already there is kept beside, renamed
    …恢复前-<time>. The restored store is checked whole before it replaces anything.
    """
    root = Path(root)
    z, manifest = _read_backup(backup_path)
    with z:
        key = json.loads(z.read(KEY_NAME))
        with tempfile.TemporaryDirectory(prefix="lx-restore-") as tmp:  # proved whole before anything is touched
            _checked_store(z, Path(tmp) / STORE_NAME, key, Path(backup_path).name)
        root.mkdir(parents=True, exist_ok=True)
        ws = Workspace(root.resolve())
        for d in (ws.inbox, ws.archive, ws.outputs):
            ws.folder(d)
        with workspace_lock(ws, what="恢复"):
            staged = root / f".restore-{os.getpid()}.sqlite"
            try:
                n = _checked_store(z, staged, key, Path(backup_path).name)
                report = RestoreReport(ws.root, n)
                stamp = _stamp()
                definition = str(manifest.get("definition") or DEFINITION_NAME)
                for name, member in ((STORE_NAME, None), (KEY_NAME, KEY_NAME), (CONFIG_NAME, CONFIG_NAME),
                                     (definition, "definition.xlsx")):
                    data = z.read(member) if member and member in z.namelist() else None
                    if member and data is None:
                        continue
                    if data is not None and (root / name).is_file() and (root / name).read_bytes() == data:
                        continue
                    kept = _set_aside(root / name, stamp)
                    if kept:
                        report.set_aside.append(kept)
                    if data is None:
                        os.replace(staged, root / name)
                    else:
                        write_bytes_atomic(root / name, data)
                _merge_arrivals(ws, z)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    staged.unlink()
    archive = manifest.get("archive") or []
    report.missing_originals = [str(a["file_name"]) for a in archive  # type: ignore[attr-defined]
                                if a.get("archive_path") and not (ws.root / str(a["archive_path"])).is_file()]
    return report


def _merge_arrivals(ws: Workspace, z: zipfile.ZipFile) -> None:
    """The backup's arrival records join archive/.arrivals.jsonl (first arrival of a file wins when read)."""
    if ARRIVALS_MEMBER not in z.namelist():
        return
    mine = ws.archive / ARRIVALS_NAME
    theirs = z.read(ARRIVALS_MEMBER)
    if mine.is_file() and mine.read_bytes().startswith(theirs):
        return
    old = mine.read_bytes() if mine.is_file() else b""
    write_bytes_atomic(mine, theirs + (b"\n" if theirs and not theirs.endswith(b"\n") else b"") + old)


@dataclass
class RebuildReport:
    n_files: int
    without_record: int
    set_aside: Path | None
    ingest: object = None  # the IngestReport of re-reading archive/


def rebuild(root: Path | str) -> RebuildReport:
    """A new store from the key file and archive/: every original read again, in the order it arrived.

    Refused when the store is sound (nothing to rebuild) or the key is gone (then only a backup helps).
    A damaged store is kept beside, renamed …恢复前-<time>. Sent mail and check results are not in
    archive/: run check again; the mail log starts empty.
    """
    from .intake import ingest_files
    from .store import Store
    from .workspace import ws_ledger

    ws = open_workspace(root)
    with workspace_lock(ws, what="重建数据库"):
        identity = read_key(ws)
        if identity is None:
            raise LedgerError.of(Code.KEY_MISSING, key=KEY_NAME)
        _refuse_sound_store(ws)
        kept = _set_aside(ws.store_path, _stamp())
        Store(ws.store_path, identity=identity, create=True).close()
        staging = Path(tempfile.mkdtemp(prefix=".rebuild-", dir=ws.root))
    try:
        n, without, arrivals = _stage_archive(ws, staging)
        result = ingest_files(ws, ws_ledger(ws), [staging], arrivals=arrivals) if n else None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RebuildReport(n, without, kept, result)


def _refuse_sound_store(ws: Workspace) -> None:
    if not ws.store_path.exists():
        return
    try:
        with open_store(ws, readonly=True) as store:
            ok = store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except LedgerError as e:
        if e.code == "key-mismatch":
            raise
        return
    except sqlite3.DatabaseError:
        return
    if ok:
        raise LedgerError.of(Code.STORE_SOUND, store=STORE_NAME)


def _stage_archive(ws: Workspace, staging: Path) -> tuple[int, int, dict[Path, Arrival]]:
    """Copy each original into `staging` under the name it arrived with, its time set to when it arrived
    (plus its order in microseconds, which ingest's received time drops): ingest then reads them in order."""
    arrivals = read_arrivals(ws)
    order = {digest: i for i, digest in enumerate(arrivals)}
    entries = []
    for p in ws.archive.iterdir() if ws.archive.is_dir() else ():
        digest = p.stem
        if p.name.startswith(".") or not p.is_file() or p.is_symlink() or len(digest) != 64:
            continue
        a = arrivals.get(digest)
        when = dt.datetime.fromisoformat(a["received_at"]) if a else dt.datetime.fromtimestamp(p.stat().st_mtime)
        name = str(a["file_name"]) if a else p.name
        if "/" in name or name.startswith(".") or name in ("", ".", ".."):
            name = p.name
        entries.append((when, a is None, name, p))
    entries.sort(key=lambda e: (e[0], order.get(e[3].stem, len(order))))
    from .intake import Arrival

    known: dict[Path, Arrival] = {}  # each recorded arrival's time, source and sender, exactly as first recorded
    for k, (when, _, name, p) in enumerate(entries):
        d = staging / f"{k:06d}"
        d.mkdir()
        copy = d / name
        shutil.copyfile(p, copy)
        t = when.timestamp() + k * 1e-6
        os.utime(copy, (t, t))
        a = arrivals.get(p.stem)
        if a:
            known[copy] = Arrival(when, str(a.get("received_source") or "file"), str(a.get("sender") or "") or None)
    return len(entries), sum(1 for e in entries if e[1]), known
