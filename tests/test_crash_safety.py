"""kill -9 at random moments, 50 times: during ingest, during the master ledger rebuild, during mail.

After every kill: the store passes SQLite's integrity check and its own consistency rules, every archived
original matches its SHA-256, the master ledger is a whole workbook (the old one or the new one), and
running the command again finishes the job. Then: two ingests and a report at the same time.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import complete_values
from test_mail import PASSWORD, mail_ws, smtp  # noqa: F401  (fixtures)

from ledger_xl.ingest import sha256_of
from ledger_xl.pipeline import ingest, mail_send, plan_mail
from ledger_xl.store import Store
from ledger_xl.testing.fill import fill_template

CLI = [sys.executable, "-m", "ledger_xl.cli"]
RUNS_INGEST, RUNS_REBUILD, RUNS_MAIL = 20, 20, 10


def duration(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """How long the command takes when nobody kills it (to aim the kills inside that window)."""
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, timeout=300, env={**os.environ, **(env or {})})
    return time.perf_counter() - t


def kill_at_random(cmd: list[str], rng: random.Random, low: float, high: float, env: dict[str, str] | None = None) -> bool:
    """Start cmd, SIGKILL its whole process group after a random delay; True if it was still running."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, **(env or {})})
    time.sleep(rng.uniform(low, high))
    alive = proc.poll() is None
    if alive:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return alive


def assert_consistent(ws: Path) -> None:
    db = sqlite3.connect(ws / "ledger.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM vals WHERE submission_id NOT IN (SELECT id FROM submissions)").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM findings WHERE submission_id IS NOT NULL"
                      " AND submission_id NOT IN (SELECT id FROM submissions)").fetchone()[0] == 0
    for sha, path in db.execute("SELECT sha256, archive_path FROM submissions"):
        assert sha256_of(ws / path) == sha  # recorded means archived whole
    db.close()
    for p in (ws / "archive").iterdir():
        if not p.name.startswith("."):
            assert sha256_of(p) == p.stem, p.name  # every original kept is intact
    master = ws / "outputs" / "master_ledger.xlsx"
    if master.exists():
        with zipfile.ZipFile(master) as z:
            assert z.testzip() is None and "xl/workbook.xml" in z.namelist()


def no_temp_files(ws: Path) -> list[Path]:
    return [p for p in ws.rglob("*.tmp")]


@pytest.fixture(scope="module")
def base(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A workspace with 2024H1 templates, and twelve filled returns waiting outside it."""
    from conftest import SAMPLE_DEFINITION

    from ledger_xl.pipeline import make_templates
    from ledger_xl.workspace import init_workspace

    root = tmp_path_factory.mktemp("crash")
    ws = root / "base"
    init_workspace(ws, SAMPLE_DEFINITION)
    run = make_templates(ws, "2024H1")
    returns = root / "returns"
    returns.mkdir()
    for name, path, _ in run.written[:12]:
        fill_template(path, returns / f"{name}.xlsx", complete_values(path))
    return root, ws, returns


def test_kill_during_ingest_50_times_over_loses_nothing(base, tmp_path):
    root, base_ws, returns = base
    rng = random.Random(20241)
    probe = tmp_path / "probe"
    shutil.copytree(base_ws, probe)
    for f in returns.iterdir():
        shutil.copy2(f, probe / "inbox" / f.name)
    full = duration(CLI + ["ingest", "-w", str(probe)])
    mid = 0
    for i in range(RUNS_INGEST):
        ws = tmp_path / f"ws{i}"
        shutil.copytree(base_ws, ws)
        for f in returns.iterdir():
            shutil.copy2(f, ws / "inbox" / f.name)
        mid += kill_at_random(CLI + ["ingest", "-w", str(ws)], rng, 0.02, full * 0.95)
        assert_consistent(ws)
        report = ingest(ws)  # running again finishes the job
        assert all(o.status in ("merged", "duplicate") for o in report.outcomes)
        with Store(ws / "ledger.sqlite") as store:
            assert len(store.current_submissions()) == 12
        assert_consistent(ws)
        assert no_temp_files(ws) == []
        shutil.rmtree(ws)
    assert mid >= RUNS_INGEST // 2, f"only {mid} kills landed mid-run"


def test_half_made_archive_copies_of_a_killed_ingest_are_cleared_by_the_next(base, tmp_path):
    """A reader killed mid-copy leaves `.<sha>.<pid>.tmp`; its pid may be reused or still a zombie."""
    root, base_ws, returns = base
    ws = tmp_path / "ws"
    shutil.copytree(base_ws, ws)
    (ws / "archive").mkdir(exist_ok=True)
    leftover = ws / "archive" / f".{'ab' * 32}.{os.getpid()}.tmp"  # a pid that is alive: ours
    leftover.write_bytes(b"PK\x03\x04 half a copy")
    ingest(ws, [next(iter(sorted(returns.iterdir())))])
    assert no_temp_files(ws) == []
    assert_consistent(ws)


def test_kill_during_master_ledger_rebuild(base, tmp_path):
    root, base_ws, returns = base
    ws = tmp_path / "ws"
    shutil.copytree(base_ws, ws)
    ingest(ws, [returns])
    before = (ws / "outputs" / "master_ledger.xlsx").read_bytes()
    rng = random.Random(20242)
    full = duration(CLI + ["check", "-w", str(ws), "--period", "2024H1"])
    mid = 0
    for _ in range(RUNS_REBUILD):
        mid += kill_at_random(CLI + ["check", "-w", str(ws), "--period", "2024H1"], rng, 0.02, full * 0.95)
        assert_consistent(ws)  # the master ledger is the old or the new one, whole
    r = subprocess.run(CLI + ["check", "-w", str(ws), "--period", "2024H1"], capture_output=True, timeout=120)
    assert r.returncode in (0, 1)
    assert (ws / "outputs" / "master_ledger.xlsx").read_bytes() != before
    assert_consistent(ws)
    assert no_temp_files(ws) == []
    assert mid >= RUNS_REBUILD // 2, f"only {mid} kills landed mid-run"


def test_kill_during_mail_sending(mail_ws, smtp, tmp_path):  # noqa: F811
    inbox, *_ = smtp
    base_ws = tmp_path / "mailbase"
    shutil.copytree(mail_ws, base_ws)
    rng = random.Random(20243)
    probe = tmp_path / "probe"
    shutil.copytree(base_ws, probe)
    full = duration(CLI + ["mail", "templates", "-w", str(probe), "--period", "2024H1", "--yes"], env={"LEDGER_XL_SMTP_PASSWORD": PASSWORD})
    inbox.messages.clear()
    mid = 0
    for i in range(RUNS_MAIL):
        ws = tmp_path / f"m{i}"
        shutil.copytree(base_ws, ws)
        inbox.messages.clear()
        mid += kill_at_random(CLI + ["mail", "templates", "-w", str(ws), "--period", "2024H1", "--yes"], rng, 0.02, full * 0.95,
                              env={"LEDGER_XL_SMTP_PASSWORD": PASSWORD})
        assert_consistent(ws)
        results = mail_send(ws, plan_mail(ws, "templates", "2024H1")[0], PASSWORD)  # running again finishes
        assert all(r.outcome in ("sent", "already-sent") for r in results)
        got = [rcpt for _, rcpts, _ in inbox.messages for rcpt in rcpts]
        assert len(set(got)) == 14  # every bureau has its template
        assert len(got) <= 14 + 1  # at most the one message in flight at the kill goes twice
        with Store(ws / "ledger.sqlite") as store:
            assert store.db.execute("SELECT COUNT(DISTINCT recipient) FROM mail_log").fetchone()[0] == 14
        shutil.rmtree(ws)
    assert mid >= RUNS_MAIL // 2, f"only {mid} kills landed mid-run"


def test_two_ingests_and_a_report_at_once(base, tmp_path):
    root, base_ws, returns = base
    ws = tmp_path / "ws"
    shutil.copytree(base_ws, ws)
    files = sorted(returns.iterdir())
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i, f in enumerate(files):
        shutil.copy2(f, (a if i % 2 else b) / f.name)
    procs = [subprocess.Popen(CLI + ["ingest", "-w", str(ws), str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for d in (a, b)]
    procs.append(subprocess.Popen(CLI + ["report", "-w", str(ws), "--period", "2024H1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    with Store(ws / "ledger.sqlite") as store:
        assert len(store.current_submissions()) == len(files)
    assert_consistent(ws)
    import docx

    docx.Document(str(ws / "outputs" / "reports" / "2024H1_总结报告.docx"))  # a whole document
