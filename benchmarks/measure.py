"""What the province benchmark runs in its fresh interpreters: the two floors, the naive reader, ingest with
its memory watched across processes, and ingest split into stages. Imported by those children (and by
run.py), so each function here is a plain module-level function.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHUNK = 8  # files per round trip to a worker, as ingest sends them


# ------------------------------------------------------------------ imports, before every timer

# Every reader is timed after its imports, in its own fresh interpreter, as the issue asks of the naive one: the
# naive reader's pandas and openpyxl (and one file read, for read_excel's own lazy imports), the floors' pool and
# calamine, ingest's stages, pool and master-ledger writer. What these imports take is reported beside.


def import_floor() -> float:
    """The floors' imports (the process pool, calamine, lxml): seconds."""
    t = time.perf_counter()
    import concurrent.futures.process  # noqa: F401
    import multiprocessing  # noqa: F401
    import zipfile  # noqa: F401

    import python_calamine  # noqa: F401
    from lxml import etree  # noqa: F401

    return time.perf_counter() - t


def import_ingest() -> float:
    """What `ingest` imports on its first call (its stages, the worker pool, the master ledger's writer): seconds."""
    t = time.perf_counter()
    import concurrent.futures.process  # noqa: F401
    import multiprocessing  # noqa: F401
    import zoneinfo  # noqa: F401

    import xlsxwriter  # noqa: F401

    import ledger_xl.intake  # noqa: F401
    import ledger_xl.ledger_book  # noqa: F401
    import ledger_xl.returns  # noqa: F401
    import ledger_xl.status  # noqa: F401

    return time.perf_counter() - t


# ------------------------------------------------------------------ floors


def floor_single(files: list[Path]) -> None:
    """The single-core floor: unzip each file and parse every sheet (and the shared strings) with lxml."""
    import zipfile

    from lxml import etree

    for f in files:
        with zipfile.ZipFile(f) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/sheet") or name in ("xl/sharedStrings.xml", "xl/workbook.xml"):
                    root = etree.fromstring(z.read(name))
                    for v in root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}v"):
                        _ = v.text


def archive_copies(files: list[Path], folder: Path) -> dict[str, float]:
    """The archive copies alone, as ingest makes them (fsutil.archive_bytes: open, write, rename; one process),
    into an empty folder: seconds of wall, user and system time. Part of validate + merge that no floor does;
    on ext4 its system time grows for minutes after many files were deleted nearby (the inode allocator skips
    inodes freed within the last few minutes, reading their tables), so it says what the file system cost."""
    import resource

    from ledger_xl.fsutil import archive_bytes

    folder.mkdir(parents=True, exist_ok=False)
    datas = [f.read_bytes() for f in files]
    digests = [hashlib.sha256(d).hexdigest() for d in datas]
    r0, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for data, digest in zip(datas, digests, strict=True):
        archive_bytes(data, digest, ".xlsx", folder)
    wall, r1 = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF)
    return {"wall": wall, "user": r1.ru_utime - r0.ru_utime, "sys": r1.ru_stime - r0.ru_stime}


def _floor_chunk(chunk: list[str]) -> int:
    """Read each file once, SHA-256 it, and have calamine return every sheet's values."""
    from python_calamine import CalamineWorkbook

    for f in chunk:
        data = Path(f).read_bytes()
        hashlib.sha256(data).hexdigest()
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return len(chunk)


def floor_parallel(files: list[Path], workers: int | None = None) -> None:
    """The parallel floor: the fastest way ingest could read the same files — calamine values and SHA-256 of
    each file, one forked worker per core, CHUNK files a round trip; the pool's start is included, as it is
    in ingest's validate + merge."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    n = workers or os.cpu_count() or 1
    chunks = [[str(f) for f in files[k : k + CHUNK]] for k in range(0, len(files), CHUNK)]
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as pool:
        assert sum(pool.map(_floor_chunk, chunks)) == len(files)


def warm_naive(sample: Path) -> None:
    """pandas and openpyxl imported, and one file read, before the timer starts (the lazy imports inside
    read_excel happen here, not in the timed reads)."""
    import openpyxl  # noqa: F401
    import pandas as pd

    pd.read_excel(sample, sheet_name=None, engine="openpyxl")


def naive(files: list[Path]) -> None:
    """The naive way, single process: pandas.read_excel(engine="openpyxl") of every sheet of every file."""
    import pandas as pd

    for f in files:
        pd.read_excel(f, sheet_name=None, engine="openpyxl")


# ------------------------------------------------------------------ memory across processes


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith(field)), 0)
    except OSError:
        return 0


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        return out
    return out + [d for c in out for d in _descendants(c)]


def ingest_with_memory(ws: Path, src: Path) -> dict[str, float]:
    """Ingest src into ws, watching the peak memory of this process and every worker it starts.

    Reading phase (validate + merge): the sum of each process's peak RSS (VmHWM: sampled every 5 ms, it only
    grows) — an upper bound, since the forked workers share the parent's pages. Rebuild phase (the master
    ledger, one process): this process's peak RSS after its high-water mark is reset (/proc/self/clear_refs)
    at the start of the rebuild.
    """
    from ledger_xl import intake, pipeline

    me = os.getpid()
    peak: dict[int, int] = {}
    stop = threading.Event()
    out: dict[str, float] = {}

    def sample() -> None:
        while not stop.is_set():
            for pid in [me, *_descendants(me)]:
                peak[pid] = max(peak.get(pid, 0), _status_kib(pid, "VmHWM:"))
            stop.wait(0.005)

    real = intake.rebuild_master

    def rebuild(*a: Any, **k: Any) -> Any:
        peak[me] = max(peak.get(me, 0), _status_kib(me, "VmHWM:"))
        out["read_mib"] = sum(peak.values()) / 1024
        out["read_main_mib"] = peak[me] / 1024
        out["read_processes"] = len(peak)
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")  # reset VmHWM to the current RSS
            out["rebuild_reset"] = 1
        except OSError:
            out["rebuild_reset"] = 0
        result = real(*a, **k)
        out["rebuild_mib"] = _status_kib(me, "VmHWM:") / 1024
        return result

    intake.rebuild_master = rebuild  # type: ignore[assignment]
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        report = pipeline.ingest(ws, [src])
    finally:
        stop.set()
        watcher.join()
        intake.rebuild_master = real  # type: ignore[assignment]
    out["merged"] = sum(o.status == "merged" for o in report.outcomes)
    return out


# ------------------------------------------------------------------ where the time goes


def stage_times(ws: Path, src: Path) -> dict[str, float]:
    """Ingest src into ws in one process (the reading serial, in-process), timing its steps: seconds each.

    Nested steps are named "a › b" (b is part of a). In the real ingest the reader's steps run in the
    workers, on every core, while the main process stores.
    """
    import functools

    from ledger_xl import fsutil, intake, pipeline, store
    from ledger_xl import ingest as ing

    acc: dict[str, float] = defaultdict(float)
    undo: list[tuple[object, str, object]] = []

    def wrap(owner: object, name: str, label: str, *, static: bool = False) -> None:
        real = getattr(owner, name)

        def timed(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                acc[label] += time.perf_counter() - t

        undo.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else real))
        setattr(owner, name, staticmethod(timed) if static else timed)

    wrap(ing, "_take", "reader: read the bytes once and hash them (SHA-256)")
    wrap(fsutil, "archive_bytes", "reader: archive copy")
    wrap(ing, "read_return", "reader: read and check")
    wrap(ing, "read_package", "reader: read and check › zip guards, calamine, workbook.xml")
    wrap(ing, "meta_rows", "reader: read and check › hidden metadata")
    wrap(ing.TemplateMeta, "rows_signed", "reader: read and check › signature (HMAC)", static=True)
    wrap(ing, "_changed_locked", "reader: read and check › ~100 locked cells compared")
    wrap(store.Store, "add_submission", "main: store inserts")
    wrap(intake, "record_arrivals", "main: arrivals log")
    wrap(os, "sync", "main: os.sync (archived originals on disk before the commit)")
    wrap(intake, "rebuild_master", "master ledger rebuild")
    real_many = intake.read_many
    intake.read_many = functools.partial(ing.read_many, workers=0)  # type: ignore[assignment]
    t = time.perf_counter()
    try:
        report = pipeline.ingest(ws, [src])
    finally:
        total = time.perf_counter() - t
        intake.read_many = real_many  # type: ignore[assignment]
        for owner, name, real in reversed(undo):
            setattr(owner, name, real)
    parts = {k: v for k, v in acc.items() if " › " not in k}
    acc["reader: read and check › fields normalised and checked, the rest"] = (
        acc["reader: read and check"] - sum(v for k, v in acc.items() if k.startswith("reader: read and check › ")))
    acc["other (lock, listing, transaction, commit)"] = total - sum(parts.values())
    acc["total"] = total
    acc["files"] = len(report.outcomes)
    return dict(acc)


def timed_call(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
