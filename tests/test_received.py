"""Received times: where each comes from, fixed when the content is first seen, in the office's time zone."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from conftest import complete_values

from ledger_xl.cli import cli
from ledger_xl.pipeline import ingest, status
from ledger_xl.store import Store
from ledger_xl.testing.fill import fill_template

UTC = dt.UTC


def filled(templates: Path, bureau: str, out: Path, *, number: object = 1) -> Path:
    src = templates / f"{bureau}.xlsx"
    return fill_template(src, out, complete_values(src, number=number))


def set_mtime_utc(path: Path, when: dt.datetime) -> None:
    ts = when.replace(tzinfo=UTC).timestamp()
    os.utime(path, (ts, ts))


def test_a_file_time_is_read_in_the_office_time_zone__late_after_midnight_in_beijing(workspace, templates_2024h1, tmp_path):
    """2024-07-10 17:00 UTC is 07-11 01:00 in Beijing: after the 07-10 deadline, whatever this machine's zone."""
    late = filled(templates_2024h1, "市商务局", tmp_path / "late.xlsx")
    set_mtime_utc(late, dt.datetime(2024, 7, 10, 17, 0))
    ok = filled(templates_2024h1, "市财政局", tmp_path / "ok.xlsx")
    set_mtime_utc(ok, dt.datetime(2024, 7, 10, 15, 59))  # 23:59 in Beijing
    ingest(workspace, [late, ok])
    st = {b.name: b for b in status(workspace, "2024H1").bureaus}
    assert (st["市商务局"].state, st["市商务局"].received_at) == ("逾期", "2024-07-11T01:00:00")
    assert (st["市财政局"].state, st["市财政局"].received_at) == ("按时", "2024-07-10T23:59:00")
    assert st["市商务局"].received_source == "file"


def test_timezone_setting_moves_the_judgement(workspace, templates_2024h1, tmp_path):
    cfg = workspace / "ledger-xl.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('timezone = "Asia/Shanghai"', 'timezone = "UTC"'), encoding="utf-8")
    late = filled(templates_2024h1, "市商务局", tmp_path / "late.xlsx")
    set_mtime_utc(late, dt.datetime(2024, 7, 10, 17, 0))
    ingest(workspace, [late])
    st = {b.name: b for b in status(workspace, "2024H1").bureaus}
    assert (st["市商务局"].state, st["市商务局"].received_at) == ("按时", "2024-07-10T17:00:00")


def test_a_wrong_timezone_is_one_chinese_line(workspace):
    cfg = workspace / "ledger-xl.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('timezone = "Asia/Shanghai"', 'timezone = "Beijing"'), encoding="utf-8")
    r = CliRunner().invoke(cli, ["status", "-w", str(workspace), "--period", "2024H1"])
    assert r.exit_code == 2
    assert "timezone" in r.output and "“Beijing”不是可识别的时区" in r.output and "Traceback" not in r.output


def test_received_option_sets_the_time_and_status_names_its_source(workspace, templates_2024h1, tmp_path):
    f = filled(templates_2024h1, "市商务局", tmp_path / "商务局.xlsx")
    set_mtime_utc(f, dt.datetime(2024, 8, 1, 9, 0))  # saved long after it arrived
    r = CliRunner().invoke(cli, ["ingest", "-w", str(workspace), "--received", "2024-07-05 09:30", str(f)])
    assert r.exit_code == 0, r.output
    st = {b.name: b for b in status(workspace, "2024H1").bureaus}
    assert (st["市商务局"].state, st["市商务局"].received_at, st["市商务局"].received_source) == ("按时", "2024-07-05T09:30:00", "given")
    out = CliRunner().invoke(cli, ["status", "-w", str(workspace), "--period", "2024H1"]).output
    line = next(x for x in out.splitlines() if "市商务局" in x)
    assert "2024-07-05 09:30" in line and "手工指定" in line
    bad = CliRunner().invoke(cli, ["ingest", "-w", str(workspace), "--received", "7月5日", str(f)])
    assert bad.exit_code == 2 and "收到时间“7月5日”写法不对" in bad.output


def test_received_time_is_fixed_when_the_content_is_first_seen(workspace, templates_2024h1, tmp_path):
    f = filled(templates_2024h1, "市商务局", tmp_path / "商务局.xlsx")
    set_mtime_utc(f, dt.datetime(2024, 7, 5, 1, 0))
    ingest(workspace, [f])
    copy = workspace / "inbox" / "再存一次.xlsx"
    shutil.copyfile(f, copy)
    set_mtime_utc(copy, dt.datetime(2024, 7, 25, 1, 0))  # copied into the inbox weeks later
    (o,) = ingest(workspace).outcomes
    assert o.status == "duplicate" and o.received_at == "2024-07-05T09:00:00"
    with Store(workspace / "ledger.sqlite") as store:
        assert [s.received_at for s in store.submissions()] == ["2024-07-05T09:00:00"]
    assert {b.name: b for b in status(workspace, "2024H1").bureaus}["市商务局"].state == "按时"


def test_timeliness_is_judged_by_the_first_accepted_return_and_history_shows_the_correction(workspace, templates_2024h1, tmp_path):
    first = filled(templates_2024h1, "市商务局", tmp_path / "v1.xlsx", number=1)
    set_mtime_utc(first, dt.datetime(2024, 7, 8, 1, 0))
    ingest(workspace, [first])
    fix = filled(templates_2024h1, "市商务局", tmp_path / "v2.xlsx", number=2)
    ingest(workspace, [fix], received_at=dt.datetime(2024, 7, 20, 10, 0))
    st = {b.name: b for b in status(workspace, "2024H1").bureaus}["市商务局"]
    assert (st.state, st.file_name, st.received_at, st.corrected_at) == ("按时", "v2.xlsx", "2024-07-08T09:00:00", "2024-07-20T10:00:00")
    # a bureau whose only accepted return came late stays late
    late = filled(templates_2024h1, "市财政局", tmp_path / "财政.xlsx")
    ingest(workspace, [late], received_at=dt.datetime(2024, 7, 11, 0, 1))
    assert {b.name: b for b in status(workspace, "2024H1").bureaus}["市财政局"].state == "逾期"


def test_a_store_from_an_earlier_version_gains_the_new_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE submissions (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, file_name TEXT NOT NULL,
        archive_path TEXT NOT NULL, bureau TEXT, period TEXT, received_at TEXT NOT NULL, ingested_at TEXT NOT NULL,
        outcome TEXT NOT NULL, n_errors INTEGER NOT NULL, n_warnings INTEGER NOT NULL, template_generated_at TEXT);
        INSERT INTO submissions VALUES (1, 'ab', 'x.xlsx', 'archive/ab.xlsx', '市商务局', '2024H1', '2024-07-05T09:00:00',
        '2024-07-05T09:00:00', 'merged', 0, 0, NULL);""")
    db.close()
    with Store(path) as store:
        (s,) = store.submissions()
    assert (s.received_source, s.sender, s.received_at) == ("file", None, "2024-07-05T09:00:00")
