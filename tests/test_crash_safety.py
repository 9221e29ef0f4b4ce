"""kill -9 during ingest, the master ledger rebuild and mail: aimed at named points (the n-th store write,
mid archive copy, while the master ledger is written, between two mails — see ledger_xl.crashpoint), and at
random moments. Each test's name says how many kills it runs.

After every kill: the store passes SQLite's integrity check and its own consistency rules, every archived
original matches its SHA-256, the master ledger is a whole workbook (the old one or the new one), and
running the command again finishes the job. Then: two ingests and a report at the same time.
"""

from __future__ import annotations

import contextlib
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
KILLED = -signal.SIGKILL


def run_killed_at(cmd: list[str], point: str, env: dict[str, str] | None = None) -> int:
    """Run cmd with LEDGER_XL_CRASH_AT=point (see ledger_xl.crashpoint); its return code (-9 when killed there)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, **(env or {}), "LEDGER_XL_CRASH_AT": point})
    code = proc.wait(timeout=300)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a helper the kill left behind goes too, as with kill -9 of the group
    return code


def kill_at_random(cmd: list[str], rng: random.Random, env: dict[str, str] | None = None) -> bool:
    """Start cmd, SIGKILL its whole process group after a random delay; True if it was still running.

    The delays are drawn from a fixed range, not aimed by timing the command first: the aimed kills are the
    deterministic ones above; these add moments nobody thought of.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, **(env or {})})
    time.sleep(rng.uniform(0.05, 2.5))
    alive = proc.poll() is None
    with contextlib.suppress(ProcessLookupError):
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


def fresh(base_ws: Path, returns: Path, ws: Path) -> Path:
    """A copy of the base workspace with the twelve returns in its inbox."""
    shutil.copytree(base_ws, ws)
    for f in returns.iterdir():
        shutil.copy2(f, ws / "inbox" / f.name)
    return ws


def assert_rerun_finishes(ws: Path, n: int = 12) -> None:
    """Running ingest again merges what the killed one did not, and leaves nothing half made."""
    report = ingest(ws)
    assert all(o.status in ("merged", "duplicate") for o in report.outcomes)
    with Store(ws / "ledger.sqlite") as store:
        assert len(store.current_submissions()) == n
    assert_consistent(ws)
    assert no_temp_files(ws) == []


def submissions_in(ws: Path) -> int:
    with Store(ws / "ledger.sqlite") as store:
        return len(store.submissions())


@pytest.mark.parametrize("nth", [1, 2, 7, 12])
def test_ingest_killed_at_the_nth_store_write_4_kills(base, tmp_path, nth):
    """Killed after the n-th submission is written, before the commit: the store is as it was."""
    _, base_ws, returns = base
    ws = fresh(base_ws, returns, tmp_path / "ws")
    assert run_killed_at(CLI + ["ingest", "-w", str(ws)], f"store-write:{nth}") == KILLED
    assert_consistent(ws)
    assert submissions_in(ws) == 0  # one transaction: nothing of the killed ingest is in the store
    assert_rerun_finishes(ws)


@pytest.mark.parametrize("nth", [1, 2])
def test_ingest_killed_mid_archive_copy_2_kills(base, tmp_path, nth):
    """Killed with an original's copy written but not yet renamed: a half-made copy, cleared by the next run."""
    _, base_ws, returns = base
    ws = fresh(base_ws, returns, tmp_path / "ws")
    assert run_killed_at(CLI + ["ingest", "-w", str(ws)], f"archive-copy:{nth}") == KILLED
    assert [p for p in (ws / "archive").iterdir() if p.name.endswith(".tmp")], "the kill left no half-made copy"
    assert_consistent(ws)
    assert submissions_in(ws) == 0
    assert_rerun_finishes(ws)


@pytest.mark.parametrize("command, point", [("ingest", "master-ledger"), ("ingest", "replace"),
                                            ("check", "master-ledger"), ("check", "replace")])
def test_master_ledger_write_killed_4_kills(base, tmp_path, command, point):
    """Killed while the master ledger is written (assembled, or written and not yet renamed): the old one stays
    whole, and running the same command again writes the new one."""
    _, base_ws, returns = base
    ws = fresh(base_ws, returns, tmp_path / "ws")
    first = sorted((ws / "inbox").iterdir())[:6]
    ingest(ws, first)
    master = ws / "outputs" / "master_ledger.xlsx"
    before = master.read_bytes()
    cmd = CLI + (["ingest", "-w", str(ws)] if command == "ingest" else ["check", "-w", str(ws), "--period", "2024H1"])
    assert run_killed_at(cmd, f"{point}:1") == KILLED
    assert master.read_bytes() == before  # the old one, whole
    assert_consistent(ws)
    r = subprocess.run(cmd, capture_output=True, timeout=300)
    assert r.returncode in (0, 1), r.stderr.decode()
    assert master.read_bytes() != before
    assert_consistent(ws)
    assert no_temp_files(ws) == []
    if command == "ingest":
        with Store(ws / "ledger.sqlite") as store:
            assert len(store.current_submissions()) == 12
        assert len(master_sheet_rows(master, "提交记录")) == 12  # the rebuilt ledger shows what the killed run merged


def master_sheet_rows(master: Path, sheet: str) -> list[tuple[object, ...]]:
    import openpyxl

    wb = openpyxl.load_workbook(master, read_only=True)
    rows = [r for r in wb[sheet].iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]
    wb.close()
    return rows


def test_ingest_killed_at_8_random_moments_loses_nothing(base, tmp_path):
    _, base_ws, returns = base
    rng = random.Random(20241)
    for i in range(8):
        ws = fresh(base_ws, returns, tmp_path / f"ws{i}")
        kill_at_random(CLI + ["ingest", "-w", str(ws)], rng)
        assert_consistent(ws)
        assert_rerun_finishes(ws)
        shutil.rmtree(ws)


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


def test_check_killed_at_6_random_moments_keeps_the_master_ledger_whole(base, tmp_path):
    _, base_ws, returns = base
    ws = tmp_path / "ws"
    shutil.copytree(base_ws, ws)
    ingest(ws, [returns])
    before = (ws / "outputs" / "master_ledger.xlsx").read_bytes()
    rng = random.Random(20242)
    for _ in range(6):
        kill_at_random(CLI + ["check", "-w", str(ws), "--period", "2024H1"], rng)
        assert_consistent(ws)  # the master ledger is the old or the new one, whole
    r = subprocess.run(CLI + ["check", "-w", str(ws), "--period", "2024H1"], capture_output=True, timeout=120)
    assert r.returncode in (0, 1)
    assert (ws / "outputs" / "master_ledger.xlsx").read_bytes() != before
    assert_consistent(ws)
    assert no_temp_files(ws) == []


MAIL = ["mail", "templates", "--period", "2024H1", "--yes"]
MAIL_ENV = {"LEDGER_XL_SMTP_PASSWORD": PASSWORD}


def assert_mail_rerun_finishes(ws: Path, inbox, most: int) -> None:  # type: ignore[no-untyped-def]
    """Sending again sends only what is missing: every bureau gets its template, at most `most` messages in all."""
    results = mail_send(ws, plan_mail(ws, "templates", "2024H1")[0], PASSWORD)
    assert all(r.outcome in ("sent", "already-sent") for r in results)
    got = [rcpt for _, rcpts, _ in inbox.messages for rcpt in rcpts]
    assert len(set(got)) == 14 and len(got) <= most
    with Store(ws / "ledger.sqlite") as store:
        assert store.db.execute("SELECT COUNT(DISTINCT recipient) FROM mail_log").fetchone()[0] == 14


@pytest.mark.parametrize("point", ["mail-recorded:1", "mail-recorded:7", "mail-recorded:13",
                                   "mail-sent:1", "mail-sent:7", "mail-sent:14"])
def test_mail_killed_between_and_during_mails_6_kills(mail_ws, smtp, tmp_path, point):  # noqa: F811
    """Killed between two mails (the one before recorded): the rerun sends each of the rest once. Killed after
    the server took a mail but before the store recorded it: that one mail, and only it, goes twice."""
    inbox, *_ = smtp
    ws = tmp_path / "killed"
    shutil.copytree(mail_ws, ws)
    inbox.messages.clear()
    assert run_killed_at(CLI + MAIL + ["-w", str(ws)], point, env=MAIL_ENV) == KILLED
    n = int(point.split(":")[1])
    assert len(inbox.messages) == n
    assert_consistent(ws)
    with Store(ws / "ledger.sqlite") as store:
        recorded = store.db.execute("SELECT COUNT(*) FROM mail_log").fetchone()[0]
    assert recorded == (n if point.startswith("mail-recorded") else n - 1)
    assert_mail_rerun_finishes(ws, inbox, 14 if point.startswith("mail-recorded") else 15)


def test_mail_killed_at_6_random_moments(mail_ws, smtp, tmp_path):  # noqa: F811
    inbox, *_ = smtp
    rng = random.Random(20243)
    for i in range(6):
        ws = tmp_path / f"m{i}"
        shutil.copytree(mail_ws, ws)
        inbox.messages.clear()
        kill_at_random(CLI + MAIL + ["-w", str(ws)], rng, env=MAIL_ENV)
        assert_consistent(ws)
        assert_mail_rerun_finishes(ws, inbox, 15)  # at most the one message in flight at the kill goes twice
        shutil.rmtree(ws)


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
