"""ledger-xl benchmarks: figures and ratios measured in one run (the machines are shared and noisy).

    python -m benchmarks.run [--only templates,ingest,...] [--cities N]

Every section prints what it measured and, where the issue sets a target, the ratio against it.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "samples" / "nanyang_key_task_ledger.docx"


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of fn over repeat runs."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_templates(tmp: Path, args: argparse.Namespace) -> None:
    from ledger_xl.model import Period
    from ledger_xl.templates import write_templates
    from ledger_xl.wordimport import import_docx

    ledger = import_docx(SEED).ledger
    period = Period(ledger.years[1], "half-year", 1)
    n = len(ledger.bureaus_with_tasks())
    t = timed(lambda: write_templates(ledger, period, tmp / "tpl", key=b"k" * 32, ledger_id="bench"))
    print(f"templates: {n} templates for {period.code} in {t:.3f} s — {t / n * 1000:.1f} ms per template "
          f"(target: {n} well under 1 s; ratio to target {t / 1.0:.2f})")


def _settle() -> None:
    """Write back what earlier steps left dirty (the corpus, the last workspace) so that the kernel's
    flushing does not compete with the next measurement for the same cores."""
    import os

    if hasattr(os, "sync"):
        os.sync()
    time.sleep(0.5)


def _child_run(setup: str, stmt: str) -> tuple[float, list[str]]:
    """Wall time of stmt in a fresh interpreter, after setup (imports) has run there untimed; and what
    stmt printed."""
    import subprocess

    code = setup + "\nimport time\nt = time.perf_counter()\n" + stmt + "\nprint(time.perf_counter() - t)"
    _settle()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    return float(lines[-1]), lines[:-1]


def _child_seconds(setup: str, stmt: str) -> float:
    return _child_run(setup, stmt)[0]


def _cli_seconds(args: list[str], env: dict[str, str] | None = None) -> float:
    import subprocess

    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ledger_xl.cli", *args], capture_output=True, text=True, check=False, cwd=REPO,
                          env=env)
    elapsed = time.perf_counter() - t
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]  # 1: findings (tasks behind), not a failure
    return elapsed


# Peak RSS of this process image only. Not ru_maxrss: on Linux a child started by fork + exec inherits
# its parent's high-water mark, so every child of a big parent would report the parent's size.
_PEAK = """
def _peak_kib():
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def _rss_child(code: str) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of a fresh interpreter running code."""
    import subprocess

    wrapper = ("import json, sys, time\n" + _PEAK + "t = time.perf_counter()\n" + code +
               "\nprint(json.dumps([time.perf_counter() - t, _peak_kib()]))")
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True, cwd=REPO).stdout
    t, rss = json.loads(out.strip().splitlines()[-1])
    return float(t), int(rss)


def _load(listing: Path) -> str:
    return (f"import json\nfrom pathlib import Path\nfrom benchmarks import measure\n"
            f"L = json.loads(Path({str(listing)!r}).read_text())\nALL = [Path(f) for f in L['all']]\n"
            "SAMPLE = [Path(f) for f in L['sample']]\n")


def _conditions() -> dict[str, object]:
    import os

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cores": os.cpu_count(), "load_1min": round(load[0], 2), "host_ms": host_ms()}


def host_ms() -> float:
    """How fast the host runs a fixed piece of work now (Python arithmetic, SHA-256 and deflate of 1 MiB; ms, the
    best of three). On a shared machine the same CPU work can take half as long again at one hour as at another,
    with no steal time reported and a quiet load average: this figure, kept beside each measurement, says
    which hour a figure was taken in."""
    import hashlib
    import zlib

    data = bytes(range(256)) * 4096
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        sum(i * i for i in range(200_000))
        hashlib.sha256(data).digest()
        zlib.compress(data, 6)
        best = min(best, time.perf_counter() - t)
    return round(best * 1000, 1)


def _ingest_round(tmp: Path, definition: Path, returns: Path, n: int, i: int, listing: Path) -> dict[str, float]:
    """One round: ingest (whole, and validate + merge as it reports itself), both floors, naive — each in a
    fresh interpreter, timed after its imports, the disk synced before each."""
    ws = _fresh(tmp / f"ingest-{i}", definition)
    t_whole, said = _child_run("from pathlib import Path\nfrom benchmarks import measure\nfrom ledger_xl.pipeline import ingest\n"
                               "imported = measure.import_ingest()\n",
                               f"r = ingest(Path({str(ws)!r}), [Path({str(returns)!r})])\n"
                               f"assert sum(o.status == 'merged' for o in r.outcomes) == {n}\n"
                               "print(r.seconds['validate_merge'], imported)")
    load = _load(listing)
    floors = load + "measure.import_floor()\n"
    t_par = _child_seconds(floors, "measure.floor_parallel(ALL)")
    t_single = _child_seconds(floors, "measure.floor_single(ALL)")
    t_naive = _child_seconds(load + "measure.warm_naive(Path(L['warm']))\n", "measure.naive(SAMPLE)")
    k = len(json.loads(listing.read_text())["sample"])
    validate_merge, imported = map(float, said[-1].split())
    return {"validate_merge": validate_merge, "whole": t_whole, "floor_parallel": t_par, "floor_single": t_single,
            "naive": t_naive * n / k, "ingest_imports": imported}


def _fresh(ws: Path, definition: Path) -> Path:
    import shutil

    from ledger_xl.testing.samples import DEMO_IDENTITY
    from ledger_xl.workspace import init_workspace

    shutil.rmtree(ws, ignore_errors=True)
    init_workspace(ws, definition, identity=DEMO_IDENTITY)
    return ws


def bench_province(tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    """Ingest of a province corpus against the parallel floor, the single-core floor and the naive reader,
    taking turns in one run; memory across processes; where the time goes."""
    from benchmarks.corpus import build

    t0 = time.perf_counter()
    root, files = build(tmp / "province", args.cities, strings=args.strings, log=lambda *_: None)
    n = len(files)
    returns = tmp / "province" / "returns"
    definition = root.parent / "ledger.xlsx"
    print(f"province corpus: {args.cities} cities × 14 bureaus × 6 half-years = {n} workbooks "
          f"({args.strings} strings), built in {time.perf_counter() - t0:.1f} s")
    listing = tmp / "files.json"
    sample = files[1 :: max(1, n // 140)]
    listing.write_text(json.dumps({"all": [str(f) for f in files], "sample": [str(f) for f in sample], "warm": str(files[0])}))
    before = _conditions()
    rounds = [_ingest_round(tmp, definition, returns, n, i, listing) for i in range(args.rounds)]
    after = _conditions()
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    cores = before["cores"]
    print(f"ingest, validate + merge (read, check, archive, store, commit): {med['validate_merge']:.2f} s, "
          f"{n / med['validate_merge']:.0f} workbooks/s; the whole `ingest` (master ledger rebuilt after): {med['whole']:.2f} s")
    print(f"  parallel floor (calamine values + SHA-256 of each file, {cores} workers, one per core): {med['floor_parallel']:.2f} s"
          f" — validate + merge ÷ parallel floor = {med['validate_merge'] / med['floor_parallel']:.2f}× (target ≤ 3×)")
    print(f"  single-core floor (unzip + lxml parse of every sheet, one process): {med['floor_single']:.2f} s"
          f" — validate + merge ÷ it = {med['validate_merge'] / med['floor_single']:.2f}×")
    print(f"  naive, single process: pandas.read_excel(engine='openpyxl') of every sheet, pandas and openpyxl imported and "
          f"warmed up before the timer, {len(sample)} files scaled to {n}: {med['naive']:.1f} s — naive ÷ whole ingest = "
          f"{med['naive'] / med['whole']:.1f}× (target ≥ 10×); naive ÷ validate + merge = {med['naive'] / med['validate_merge']:.1f}×")
    print("  by round (validate + merge, whole, parallel floor, single floor, naive → ratios): " + "; ".join(
        f"{r['validate_merge']:.2f}, {r['whole']:.2f}, {r['floor_parallel']:.2f}, {r['floor_single']:.2f}, {r['naive']:.1f} s → "
        f"{r['validate_merge'] / r['floor_parallel']:.2f}× floor, {r['naive'] / r['whole']:.1f}× naive" for r in rounds))
    print(f"  every reader timed after its imports, each in a fresh interpreter; ingest's took {med['ingest_imports']:.2f} s "
          f"(naive ÷ (whole ingest + them) = {med['naive'] / (med['whole'] + med['ingest_imports']):.1f}×; the cold command "
          "below includes them and the interpreter's start)")
    print(f"  conditions: {cores} cores; load average (1 min) {before['load_1min']} before, {after['load_1min']} after; "
          f"host speed (fixed work, see host_ms) {before['host_ms']} ms before, {after['host_ms']} ms after")
    copies = subprocess_json(_load(listing) + f"print(json.dumps(measure.archive_copies(ALL, Path({str(tmp / 'copies')!r}))))")
    print(f"  of validate + merge, the archive copies alone (open, write, rename; one process, an empty folder): "
          f"{copies['wall']:.2f} s, {copies['sys'] * 1000 / n:.2f} ms of system time a file — the file system's share, "
          "which no floor pays (on ext4 it grows for minutes after many files were deleted nearby)")
    mem = _memory(tmp, definition, returns)
    stages = _stages(tmp, definition, returns, n)
    cold = _cli_seconds(["ingest", "-w", str(_fresh(tmp / "ingest-cli", definition)), str(returns)])
    print(f"  the same as the clerk runs it (`ledger-xl ingest`, a new process: imports and workers started cold): {cold:.2f} s")
    return {
        "cities": args.cities, "workbooks": n, "strings": args.strings, "rounds": args.rounds, **before,
        "load_1min_after": after["load_1min"], "host_ms_after": after["host_ms"],
        "ingest_validate_merge_s": round(med["validate_merge"], 3), "ingest_whole_s": round(med["whole"], 3),
        "ingest_cli_s": round(cold, 3),
        "floor_parallel_s": round(med["floor_parallel"], 3), "floor_single_s": round(med["floor_single"], 3),
        "naive_s": round(med["naive"], 2), "naive_sampled_files": len(sample),
        "ratio_floor_parallel": round(med["validate_merge"] / med["floor_parallel"], 2),
        "ratio_floor_single": round(med["validate_merge"] / med["floor_single"], 2),
        "ratio_naive_whole": round(med["naive"] / med["whole"], 2),
        "ratio_naive_validate_merge": round(med["naive"] / med["validate_merge"], 2),
        "ingest_imports_s": round(med["ingest_imports"], 3),
        "ratio_naive_whole_with_imports": round(med["naive"] / (med["whole"] + med["ingest_imports"]), 2),
        "targets_met": med["validate_merge"] <= 3 * med["floor_parallel"] and med["naive"] >= 10 * med["whole"],
        "rounds_detail": [{k: round(v, 3) for k, v in r.items()} for r in rounds],
        "archive_copies_s": round(copies["wall"], 3), "archive_copies_sys_ms_per_file": round(copies["sys"] * 1000 / n, 3),
        "peak_rss_mib": round(mem["read_mib"], 1), "peak_rss_read_processes": mem["read_processes"],
        "peak_rss_read_main_mib": round(mem["read_main_mib"], 1), "peak_rss_rebuild_mib": round(mem["rebuild_mib"], 1),
        "stages_ms_per_workbook": {k: round(v * 1000 / n, 3) for k, v in stages.items() if k not in ("files",)},
    }


def _memory(tmp: Path, definition: Path, returns: Path) -> dict[str, float]:
    ws = _fresh(tmp / "mem", definition)
    _settle()
    out = subprocess_json(f"from pathlib import Path\nfrom benchmarks import measure\n"
                          f"print(json.dumps(measure.ingest_with_memory(Path({str(ws)!r}), Path({str(returns)!r}))))")
    print(f"  peak memory of ingest: reading (validate + merge) {out['read_mib']:.0f} MiB summed over "
          f"{out['read_processes']:.0f} processes (main {out['read_main_mib']:.0f} MiB; each worker's peak RSS added, so "
          f"the pages they share with the main process count once per process); master ledger rebuild "
          f"{out['rebuild_mib']:.0f} MiB (main process, its peak reset as the rebuild starts)")
    return out


def subprocess_json(code: str) -> dict[str, float]:
    import subprocess

    done = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _stages(tmp: Path, definition: Path, returns: Path, n: int) -> dict[str, float]:
    ws = _fresh(tmp / "stages", definition)
    _settle()
    st = subprocess_json(f"from pathlib import Path\nfrom benchmarks import measure\n"
                         f"print(json.dumps(measure.stage_times(Path({str(ws)!r}), Path({str(returns)!r}))))")
    print(f"  where the time goes — ingest with the reading in one process (ms per workbook; {n} workbooks, "
          f"{st['total']:.2f} s in all):")
    for k, v in st.items():
        if k not in ("total", "files"):
            print(f"    {v * 1000 / n:7.3f}  {k}")
    return st


def _grow(base: Path, cities: int, strings: str) -> None:
    """Build the store of a province reporting monthly under base, month by month, keeping a copy of the
    workspace just before each checkpoint month (base/snap/<month>) for the measurements. Done once; reused.

    Real returns are generated and ingested for the first month and each checkpoint month; every other month
    is the latest real month's records cloned in the store by SQL (new digests, that month's code and
    received times, the same values and findings) — 280 templates take minutes to write on this machine,
    and what rebuild, check and report read is the store, not the files.
    """
    import shutil

    from benchmarks.corpus import build
    from ledger_xl.definition import load_ledger
    from ledger_xl.pipeline import ingest

    t0 = time.perf_counter()
    periods = _months()
    marks = _marks(len(periods))
    real = {periods[0].code} | {periods[i].code for i in marks}
    root, files = build(base / "corpus", cities, period_kind="month", strings=strings, only=real, log=lambda *_: None)
    print(f"growth corpus: {cities} cities × 14 bureaus, real returns for {len(real)} of {len(periods)} months "
          f"({len(files)} workbooks), built in {time.perf_counter() - t0:.0f} s")
    ledger = load_ledger(root.parent / "ledger.xlsx")
    assert [p.code for p in ledger.periods()] == [p.code for p in periods]
    ws = _fresh(base / "grow", root.parent / "ledger.xlsx")
    latest = ""
    for i, p in enumerate(periods):
        if i in marks:
            shutil.copytree(ws, base / "snap" / p.code)
        if p.code in real:
            ingest(ws, [base / "corpus" / "returns" / p.code])
            latest = p.code
        else:
            _clone_month(ws / "ledger.sqlite", latest, p)
    (base / "ready").write_text("ok")


def _months() -> list[Any]:
    from benchmarks.corpus import SAMPLE
    from ledger_xl.definition import load_ledger
    from ledger_xl.model import Period

    years = load_ledger(SAMPLE).years
    return [Period.parse(f"{y}M{m:02d}") for y in years for m in range(1, 13)]


def _clone_month(db_path: Path, src: str, dst: Any) -> None:
    """The records of month `src` again as month `dst`: what 280 more real returns would add to the store."""
    import datetime as dt
    import secrets
    import sqlite3

    from ledger_xl.templates import deadline

    due = dt.datetime.combine(deadline(dst, 10), dt.time(9))
    db = sqlite3.connect(db_path)
    with db:
        rows = db.execute("SELECT id, file_name, archive_path, bureau, ingested_at, outcome, n_errors, n_warnings,"
                          " template_generated_at FROM submissions WHERE period = ? ORDER BY id", (src,)).fetchall()
        for k, (sid, name, arch, bureau, ingested, outcome, n_err, n_warn, tga) in enumerate(rows):
            received = (due - dt.timedelta(minutes=k)).isoformat()
            new = db.execute("INSERT INTO submissions (sha256, file_name, archive_path, bureau, period, received_at,"
                             " ingested_at, outcome, n_errors, n_warnings, template_generated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             (secrets.token_hex(32), name, arch, bureau, dst.code, received, ingested, outcome, n_err, n_warn,
                              tga)).lastrowid
            db.execute("INSERT INTO vals SELECT ?, task_id, role, kind, idx, num, text, cell FROM vals WHERE submission_id = ?",
                       (new, sid))
            db.execute("INSERT INTO findings (submission_id, source, period, file, sheet, cell, severity, code, message, value)"
                       " SELECT ?, source, ?, file, sheet, cell, severity, code, message, value FROM findings"
                       " WHERE submission_id = ?", (new, dst.code, sid))
    db.close()


def _marks(n: int) -> set[int]:
    return {n - 1 - k for k in range(0, n, 6)}


def _compiled_env(tmp: Path) -> dict[str, str]:
    """The environment for timing a command as a clerk runs it: an installed ledger-xl has its bytecode compiled
    (pip does it), while this checkout, run with PYTHONDONTWRITEBYTECODE=1 (as here), had every new process
    compile every ledger-xl module it imports, ~0.1-0.2 s. So the package's bytecode is compiled once first,
    into its __pycache__ folders (ignored by git), as pip would; the installed libraries have theirs already."""
    import os
    import subprocess

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "ledger_xl")], check=True, capture_output=True)
    return dict(os.environ)


def bench_growth(tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    """The store growing to a province reporting monthly for three years (cities × 14 bureaus × 36 months):
    at checkpoints, one month's returns ingested as the clerk does it (a new `ledger-xl ingest` process),
    the master ledger rebuild alone, and `ledger-xl check` and `ledger-xl report` as new processes."""
    import shutil

    from ledger_xl.definition import load_ledger
    from ledger_xl.master import rebuild_master
    from ledger_xl.store import Store
    from ledger_xl.workspace import open_workspace, ws_ledger

    base = args.growth_dir or tmp / "growth"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        _grow(base, args.growth_cities, args.strings)
    ledger = load_ledger(base / "corpus" / "ledger.xlsx")
    periods = ledger.periods()
    rows: list[dict[str, object]] = []
    env = _compiled_env(tmp)
    print(f"  as the store grows ({args.growth_cities} cities reporting monthly; {_conditions()}):")
    print("  stored   ingest 1 month (new process)   master ledger rebuild   check (new process)   report (new process)   load"
          "   host speed before / after (see host_ms)")
    for i in sorted(_marks(len(periods))):
        p = periods[i]
        ws = tmp / "g-ws"
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(base / "snap" / p.code, ws)
        # a snapshot made by an older ledger-xl is migrated on its first open, and its definition's load cache
        # rewritten in the current format (a province definition: ~0.7 s), once in a workspace's life: not per ingest
        t_migrate = timed(lambda ws=ws: (Store(open_workspace(ws).store_path).close(), ws_ledger(open_workspace(ws))), repeat=1)
        _settle()
        host_before = host_ms()
        t_in = _cli_seconds(["ingest", "-w", str(ws), str(base / "corpus" / "returns" / p.code)], env)
        wsp = open_workspace(ws)
        with Store(wsp.store_path) as store:
            stored = len(store.submissions())
            t_rebuild = timed(lambda wsp=wsp, store=store: rebuild_master(wsp, ledger, store), repeat=1)
        t_check = _cli_seconds(["check", "-w", str(ws), "--period", p.code], env)
        t_report = _cli_seconds(["report", "-w", str(ws), "--period", p.code, "-o", str(tmp / "r.docx")], env)
        rows.append({"period": p.code, "stored": stored, "ingest_cli_s": round(t_in, 3), "rebuild_s": round(t_rebuild, 3),
                     "check_cli_s": round(t_check, 3), "report_cli_s": round(t_report, 3), "migrate_s": round(t_migrate, 3),
                     **{k: v for k, v in _conditions().items() if k != "cores"}, "host_ms_before": host_before})
        print(f"  {stored:6d}   {t_in:8.2f} s                      {t_rebuild:8.2f} s            {t_check:8.2f} s"
              f"            {t_report:8.2f} s          {rows[-1]['load_1min']}   {host_before} / {rows[-1]['host_ms']} ms")
    last = rows[-1]
    met = all(float(last[k]) < 1.5 for k in ("ingest_cli_s", "check_cli_s", "report_cli_s"))  # type: ignore[arg-type]
    print(f"  targets at {last['stored']} stored: ingest of one month, check and report, each a new process, < 1.5 s: "
          f"{'met' if met else 'NOT met'} (load average after: {_conditions()['load_1min']})")
    return {"rows": rows, "targets_met": met, "conditions": _conditions()}


def bench_templates_province(tmp: Path, args: argparse.Namespace) -> None:
    from benchmarks.corpus import province_ledger
    from ledger_xl.model import Period
    from ledger_xl.templates import write_templates

    ledger = province_ledger(args.cities)
    period = Period(ledger.years[1], "half-year", 1)
    n = len(ledger.bureaus_with_tasks())
    t = timed(lambda: write_templates(ledger, period, tmp / "ptpl", key=b"k" * 32, ledger_id="bench"), repeat=1)
    print(f"templates, province: {n} templates for {period.code} in {t:.2f} s — {t / n * 1000:.1f} ms per template")


def bench_startup(tmp: Path, args: argparse.Namespace) -> None:
    import subprocess

    def run(cmd: list[str]) -> float:
        return timed(lambda: subprocess.run(cmd, capture_output=True, check=True), repeat=7)

    base = run([sys.executable, "-c", "pass"])
    help_ = run([sys.executable, "-m", "ledger_xl.cli", "--help"])
    heavy = subprocess.run([sys.executable, "-c", "import sys, ledger_xl.cli; "
                            "print(sorted(m for m in ('pandas','docx','matplotlib','openpyxl','xlsxwriter','lxml') if m in sys.modules))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    print(f"ledger-xl --help: {help_ * 1000:.0f} ms (bare interpreter {base * 1000:.0f} ms; target < 300 ms); "
          f"heavy modules imported by the CLI at start: {heavy}")


def bench_zip_guard(tmp: Path, args: argparse.Namespace) -> None:
    """What checking every part within the budget costs (issue 18): each sample return's parts inflated by
    zlib against its declared size and CRC, its XML checked for DOCTYPE in its encoding — against reading
    the same workbook; and the peak memory of a reader given a zip whose directory lies about a part's size."""
    import zipfile

    from ledger_xl.fsutil import MAX_UNCOMPRESSED
    from ledger_xl.xlsxread import inflate_parts, read_package, zip_problem

    files = sorted((REPO / "samples" / "returns").glob("*/*.xlsx"))
    blobs = [(f, f.read_bytes()) for f in files]

    def directory_only() -> None:
        for _, data in blobs:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                zip_problem(z.infolist())

    def guard() -> None:
        for _, data in blobs:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                inflate_parts(data, z.infolist(), MAX_UNCOMPRESSED)

    parsed = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "_rels/.rels", "xl/styles.xml", "xl/worksheets/sheet2.xml",
              "xl/worksheets/sheet3.xml", "xl/sharedStrings.xml")

    def unzip_parsed() -> None:  # what the reader inflated before the guard, through zipfile
        for _, data in blobs:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                for part in parsed:
                    if part in names:
                        z.read(part)

    def read() -> None:
        for f, data in blobs:
            read_package(f, sheets={"填报表", "_meta"}, fast=True, data=data)

    n = len(blobs)
    t_dir, t_old, t_guard, t_read = (timed(fn, repeat=5) for fn in (directory_only, unzip_parsed, guard, read))
    print(f"zip guard: {n} sample returns — directory check {t_dir / n * 1e6:.0f} µs a file; zipfile inflating the parts "
          f"the reader parses (before) {t_old / n * 1e6:.0f} µs; every part inflated by zlib within its declared size, CRC "
          f"and DOCTYPE checked (now, and the reader parses these bytes) {t_guard / n * 1e6:.0f} µs; extra "
          f"{(t_guard - t_old) / n * 1e6:+.0f} µs a file, of a whole read of {t_read / n * 1e3:.2f} ms")
    bomb = tmp / "lying.xlsx"
    _lying_zip(blobs[0][0], bomb, 512 << 20)
    code = ("from pathlib import Path\nfrom ledger_xl.xlsxread import read_package, XlsxError\n"
            f"try:\n    read_package(Path({str(bomb)!r}), fast=True)\nexcept XlsxError as e:\n    print(e.code)\n")
    t_bomb, rss_bomb = _rss_child(code)
    ok = "from pathlib import Path\nfrom ledger_xl.xlsxread import read_package\n" + \
         f"read_package(Path({str(blobs[0][0])!r}), fast=True)\n"
    _, rss_ok = _rss_child(ok)
    print(f"  a {bomb.stat().st_size // 1024} KiB return whose directory declares the form's true size while its stream "
          f"inflates 512 MiB more: refused in {t_bomb:.2f} s, reader peak {rss_bomb / 1024:.0f} MiB "
          f"(a good return: {rss_ok / 1024:.0f} MiB)")


def _lying_zip(src: Path, dst: Path, padding: int) -> None:
    import importlib
    import sys as _sys

    _sys.path.insert(0, str(REPO / "tests"))
    try:
        importlib.import_module("bad_inputs")._lying_sizes(src, dst, "xl/worksheets/sheet2.xml", padding)
    finally:
        _sys.path.pop(0)


SECTIONS: dict[str, Callable[[Path, argparse.Namespace], dict[str, object] | None]] = {
    "startup": bench_startup,
    "templates": bench_templates,
    "templates-province": bench_templates_province,
    "province": bench_province,
    "growth": bench_growth,
    "zip-guard": bench_zip_guard,
}


# ext4 makes every file created within a minute of many deletions nearby cost more (its inode allocator skips
# inodes freed in the last 60 s, reading their tables to find out; 300 s while those tables are not yet written
# back): a run that starts right after another has removed its thousands of files pays that in ingest's archive
# copies, which no floor makes (seen: 0.23 ms of system time a file against 0.02). So a run writes its folder's
# removal back to disk and notes the time, and the next run in that folder waits out the minute first.
_CLEANED = ".last-cleanup"
_SETTLE_S = 65


def _cleaned(folder: Path) -> None:
    import os

    if hasattr(os, "sync"):
        os.sync()
    (folder / _CLEANED).write_text(str(time.time()))


def _after_last_cleanup(folder: Path) -> None:
    try:
        left = _SETTLE_S - (time.time() - float((folder / _CLEANED).read_text()))
    except (OSError, ValueError):
        return
    if 0 < left <= _SETTLE_S:
        print(f"(waiting {left:.0f} s: the last run removed its files {_SETTLE_S - left:.0f} s ago, see _CLEANED)", flush=True)
        time.sleep(left)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--cities", type=int, default=20, help="cities in the province corpus (14 bureaus × 6 half-years each)")
    ap.add_argument("--strings", choices=("shared", "inline"), default="shared",
                    help="how the filled returns store text: shared strings as Excel and WPS do (default), or inline")
    ap.add_argument("--rounds", type=int, default=3, help="rounds in which ingest, the floors and naive take turns")
    ap.add_argument("--growth-cities", type=int, default=20,
                    help="cities in the growth corpus (14 bureaus × 36 months each: 20 → 10,080 returns)")
    ap.add_argument("--growth-dir", type=Path, default=None,
                    help="keep the growth corpus and its workspaces here, and reuse them when present")
    ap.add_argument("--json", action="store_true", help="end with one line: a JSON object of every figure measured")
    ap.add_argument("--dir", type=Path, default=REPO / "outputs" / "benchmarks",
                    help="where to build the corpus and workspaces (removed afterwards)")
    args = ap.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, object] = {}
    _after_last_cleanup(args.dir)
    try:
        with tempfile.TemporaryDirectory(prefix="lx-bench-", dir=args.dir) as d:
            for name in args.only.split(","):
                got = SECTIONS[name.strip()](Path(d), args)
                if got:
                    summary.update(got if name.strip() == "province" else {name.strip(): got})
    finally:
        _cleaned(args.dir)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
