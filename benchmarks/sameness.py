"""Whether a change to ingest left what it produces the same: two source trees run the same ingests, and
their outcomes, stores and archives are compared.

    python3 -m benchmarks.sameness --before /path/to/old/src --after src [--corpus DIR ...] [--demo]

Each corpus DIR is one that benchmarks.corpus.build made (DIR/ledger.xlsx, DIR/returns): a fresh workspace
ingests its returns, then the same folder again (every file a duplicate of one stored), then a mixed batch
(copies within the batch and of stored returns, the repository's bad samples, a lock file, an empty file,
a PDF, a link). `--demo` runs `ledger-xl demo` too. What is compared: every outcome (status, unit, period,
findings with their messages, notes, received times, submission ids), every row of every table of the store
(the time of ingest aside, which is the clock's), and the archive (each name and the SHA-256 of its bytes).
Speed is not measured here: see benchmarks.run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r'''
import hashlib, json, os, shutil, sqlite3, sys
from pathlib import Path
from ledger_xl.pipeline import ingest
from ledger_xl.testing.samples import DEMO_IDENTITY
from ledger_xl.workspace import init_workspace

corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True)
ws = out / "ws"
init_workspace(ws, corpus / "ledger.xlsx", identity=DEMO_IDENTITY)

def outcomes(report):
    return [{"file": o.path.name, "status": o.status, "bureau": o.bureau, "period": o.period, "superseded": o.superseded,
             "note": o.note, "returned": o.returned.name if o.returned else None, "received_at": o.received_at,
             "received_source": o.received_source, "submission_id": o.submission_id,
             "findings": [[f.code, str(f.severity), f.file, f.sheet, f.cell, f.message, f.value] for f in o.findings]}
            for o in report.outcomes]

result = {"first": outcomes(ingest(ws, [corpus / "returns"])), "again": outcomes(ingest(ws, [corpus / "returns"]))}
mixed = out / "mixed"
mixed.mkdir()
files = sorted((corpus / "returns").rglob("*.xlsx"))
shutil.copy(files[0], mixed / "a_copy_of_a_stored_return.xlsx")
bad = Path(sys.argv[3])
for p in sorted(bad.iterdir()):
    if p.name != "README.md":
        shutil.copy(p, mixed / ("b_" + p.name))
first = sorted((bad.parent / "returns").rglob("*.xlsx"))[0]  # another ledger's: refused, then a copy within the batch
shutil.copy(first, mixed / "d_copy1.xlsx")
shutil.copy(first, mixed / "d_copy2.xlsx")
(mixed / "c_empty.xlsx").write_bytes(b"")
(mixed / "~$c_lock.xlsx").write_bytes(b"x")
(mixed / "c_evidence.pdf").write_bytes(b"%PDF-1.4")
for p in mixed.iterdir():
    os.utime(p, (1751331600, 1751331600))  # a fixed arrival time: the same on both sides
os.symlink(files[1], mixed / "c_link.xlsx")
result["mixed"] = outcomes(ingest(ws, [mixed, files[-1], files[-1].parent]))
print(json.dumps(result, ensure_ascii=False))
'''


def _run(src: Path, args: list[str], code: str | None = None) -> str:
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, "-c", code, *args] if code is not None else [sys.executable, "-m", "ledger_xl.cli", *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=src.parent, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{src}: {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def store_dump(db: Path) -> dict[str, list[list[object]]]:
    """Every row of every table, in rowid order; the ingest time (the clock's) left out."""
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out: dict[str, list[list[object]]] = {}
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for t in tables:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
            keep = [c for c in cols if c not in ("ingested_at",)]
            out[t] = [list(r) for r in con.execute(f"SELECT {', '.join(keep)} FROM {t} ORDER BY rowid")]
        out["#schema"] = [list(r) for r in con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")]
        return out
    finally:
        con.close()


def archive_listing(folder: Path) -> list[tuple[str, str]]:
    import hashlib

    return sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in folder.iterdir() if p.is_file())


def snapshot(src: Path, corpus: Path, out: Path) -> dict[str, object]:
    said = json.loads(_run(src, [str(corpus), str(out), str(REPO / "samples" / "bad")], _CHILD).strip().splitlines()[-1])
    ws = out / "ws"
    return {"outcomes": said, "store": store_dump(ws / "ledger.sqlite"), "archive": archive_listing(ws / "archive")}


def demo_snapshot(src: Path, out: Path) -> dict[str, object]:
    shutil.rmtree(out, ignore_errors=True)
    _run(src, ["demo", str(out), "--samples", str(REPO / "samples")])  # the same files (and times) both sides
    ws = out / "workspace"
    return {"store": store_dump(ws / "ledger.sqlite"), "archive": archive_listing(ws / "archive")}


def differences(a: object, b: object, where: str = "", limit: int = 10) -> list[str]:
    """Where two snapshots differ (the first `limit` places)."""
    if type(a) is not type(b):
        return [f"{where}: {a!r} ≠ {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}/{k}: only on one side" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{where}/{k}", limit)
        return out[:limit]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        out = [f"{where}: {len(a)} ≠ {len(b)} items"] if len(a) != len(b) else []
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            out += differences(x, y, f"{where}[{i}]", limit)
            if len(out) >= limit:
                break
        return out[:limit]
    return [] if a == b else [f"{where}: {a!r} ≠ {b!r}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="the src folder of the code before the change")
    ap.add_argument("--after", type=Path, default=REPO / "src", help="the src folder of the code after it")
    ap.add_argument("--corpus", type=Path, action="append", default=[], help="a corpus built by benchmarks.corpus")
    ap.add_argument("--demo", action="store_true", help="compare `ledger-xl demo` too")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="sameness-"))
    failed = False
    try:
        cases: list[tuple[str, object, object]] = []
        for corpus in args.corpus:
            cases.append((f"corpus {corpus}", snapshot(args.before.resolve(), corpus, tmp / "a"),
                          snapshot(args.after.resolve(), corpus, tmp / "b")))
        if args.demo:
            cases.append(("demo", demo_snapshot(args.before.resolve(), tmp / "da"), demo_snapshot(args.after.resolve(), tmp / "db")))
        for name, a, b in cases:
            diff = differences(a, b)
            failed = failed or bool(diff)
            counts = {k: len(v) for k, v in a.items()} if isinstance(a, dict) else {}  # type: ignore[union-attr]
            print(f"{name}: {'SAME' if not diff else 'DIFFERENT'} ({counts})")
            for d in diff:
                print("   ", d[:400])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
