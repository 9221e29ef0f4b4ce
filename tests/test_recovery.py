"""A workspace can always be recovered: the key outlives the store, a lost store is refused (never silently
replaced), rebuilt from archive/ in the order files arrived, or restored from a one-file backup."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import zipfile
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import complete_values

from ledger_xl.cli import cli
from ledger_xl.findings import LedgerError
from ledger_xl.pipeline import ingest, make_templates
from ledger_xl.store import Store
from ledger_xl.testing.fill import fill_template


def _fill(templates, bureau, dest, number=1, when=None):  # type: ignore[no-untyped-def]
    src = templates / f"{bureau}.xlsx"
    p = fill_template(src, dest, complete_values(src, number=number))
    if when is not None:
        os.utime(p, (when, when))
    return p


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _current_metric(ws, bureau):  # type: ignore[no-untyped-def]
    with Store(ws / "ledger.sqlite") as store:
        return sorted({v.num for v in store.current_values() if v.bureau == bureau and v.kind == "metric"})


def test_the_signing_key_lives_in_its_own_file_beside_the_store(workspace):
    key = json.loads((workspace / "ledger-xl.key").read_text(encoding="utf-8"))
    with Store(workspace / "ledger.sqlite") as store:
        assert key["template_key"] == store.template_key.hex() and key["ledger_id"] == store.ledger_id
    assert (workspace / "ledger-xl.key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("damage", ["deleted", "garbage", "directory"])
def test_a_lost_or_damaged_store_is_refused_never_replaced(workspace, templates_2024h1, damage):
    """No command ever creates a store in an initialised workspace: it says what is wrong and what to do."""
    db = workspace / "ledger.sqlite"
    _fill(templates_2024h1, "市商务局", workspace / "inbox" / "商务局.xlsx")
    if damage == "deleted":
        db.unlink()
    elif damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    else:
        db.unlink()
        db.mkdir()
    for args in (["ingest"], ["status", "--period", "2024H1"], ["templates", "--period", "2024H1"],
                 ["check", "--period", "2024H1"], ["backup"]):
        r = _run(*args, "-w", str(workspace))
        assert r.exit_code == 2, (args, r.output)
        assert "ledger-xl restore" in r.output and "ledger-xl rebuild" in r.output, (args, r.output)
        assert "内部错误" not in r.output and "数据未受影响" not in r.output
    assert damage != "deleted" or not db.exists()
    assert damage != "garbage" or db.read_bytes().startswith(b"this is not")
    assert not (workspace / "archive").exists() or not list((workspace / "archive").glob("*.xlsx"))


def test_rebuild_re_reads_archive_in_received_order_with_the_same_key(workspace, templates_2024h1, tmp_path):
    """The store is lost after a correction arrived; the rebuilt store has the correction current, the
    original file names, and the templates already sent out are still accepted."""
    first = _fill(templates_2024h1, "市商务局", tmp_path / "商务局_初稿.xlsx", number=1, when=1_720_000_000)
    second = _fill(templates_2024h1, "市商务局", tmp_path / "商务局_更正.xlsx", number=2, when=1_720_090_000)
    ingest(workspace, [first])
    ingest(workspace, [second])
    before = _current_metric(workspace, "市商务局")
    (workspace / "ledger.sqlite").write_bytes(b"\0" * 4096)  # damaged
    for side in ("-wal", "-shm"):
        (workspace / f"ledger.sqlite{side}").unlink(missing_ok=True)
    r = _run("rebuild", "-w", str(workspace))
    assert r.exit_code == 0, r.output
    assert "2 份原件" in r.output
    assert _current_metric(workspace, "市商务局") == before == [2.0]
    with Store(workspace / "ledger.sqlite") as store:
        subs = store.submissions()
        assert [s.file_name for s in subs] == ["商务局_初稿.xlsx", "商务局_更正.xlsx"]
        office = ZoneInfo("Asia/Shanghai")  # received times are the office's (ledger-xl.toml [ledger] timezone)
        assert [s.received_at for s in subs] == [dt.datetime.fromtimestamp(t, office).replace(tzinfo=None).isoformat()
                                                 for t in (1_720_000_000, 1_720_090_000)]
    assert list(workspace.glob("ledger.sqlite.恢复前-*"))  # the damaged store is kept, not deleted
    late = _fill(templates_2024h1, "市财政局", workspace / "inbox" / "财政局.xlsx")  # a template sent before the loss
    assert ingest(workspace, [late]).outcomes[0].status == "merged"
    assert _run("rebuild", "-w", str(workspace)).exit_code == 2  # a sound store is not rebuilt


def test_rebuild_after_the_store_alone_was_deleted_never_replays_its_old_journal(workspace, templates_2024h1, tmp_path):
    """ledger.sqlite deleted while its -wal file stayed: the new store must not take in the old journal."""
    ret = _fill(templates_2024h1, "市商务局", tmp_path / "商务局.xlsx")
    ingest(workspace, [ret])
    con = sqlite3.connect(workspace / "ledger.sqlite")  # a write still in the journal, as after a crash
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("DELETE FROM vals")
    con.commit()
    wal = (workspace / "ledger.sqlite-wal").read_bytes()
    assert len(wal) > 32
    con.close()
    (workspace / "ledger.sqlite").unlink()
    (workspace / "ledger.sqlite-wal").write_bytes(wal)
    r = _run("rebuild", "-w", str(workspace))
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(workspace / "ledger.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM submissions").fetchone()[0] == 1
    assert list(workspace.glob("ledger.sqlite.恢复前-*-wal"))


def test_rebuild_without_the_key_file_says_restore(workspace):
    (workspace / "ledger.sqlite").unlink()
    (workspace / "ledger-xl.key").unlink()
    r = _run("rebuild", "-w", str(workspace))
    assert r.exit_code == 2 and "ledger-xl restore" in r.output


def test_backup_and_restore_bring_back_store_key_config_and_definition(workspace, templates_2024h1, tmp_path):
    _fill(templates_2024h1, "市商务局", workspace / "inbox" / "商务局.xlsx")
    ingest(workspace)
    out = tmp_path / "备份.zip"
    r = _run("backup", "-o", str(out), "-w", str(workspace))
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
    assert {"ledger.sqlite", "ledger-xl.key", "ledger-xl.toml", "definition.xlsx", "manifest.json"} <= names
    assert [a["file_name"] for a in manifest["archive"]] == ["商务局.xlsx"]
    # the PC dies: a new folder, the backup and the archive copied over
    new = tmp_path / "新电脑"
    new.mkdir()
    (new / "archive").mkdir()
    for p in (workspace / "archive").iterdir():
        (new / "archive" / p.name).write_bytes(p.read_bytes())
    r = _run("restore", str(out), "-w", str(new))
    assert r.exit_code == 0, r.output
    assert _current_metric(new, "市商务局") == [1.0]
    assert (new / "ledger-xl.key").read_bytes() == (workspace / "ledger-xl.key").read_bytes()
    late = _fill(templates_2024h1, "市财政局", tmp_path / "财政局.xlsx")
    assert ingest(new, [late]).outcomes[0].status == "merged"  # templates sent from the old PC still come in
    # restoring over a workspace keeps what was there, renamed
    r = _run("restore", str(out), "-w", str(new))
    assert r.exit_code == 0 and "改名保留" in r.output
    assert _current_metric(new, "市商务局") == [1.0]
    kept = next(new.glob("ledger.sqlite.恢复前-*"))
    assert sqlite3.connect(kept).execute("SELECT count(*) FROM submissions").fetchone()[0] == 2


def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(workspace, tmp_path):
    before = (workspace / "ledger.sqlite").read_bytes()
    for name, data in (("x.zip", b"PK\x03\x04 broken"), ("y.zip", b"")):
        (tmp_path / name).write_bytes(data)
        r = _run("restore", str(tmp_path / name), "-w", str(workspace))
        assert r.exit_code == 2 and "不是 ledger-xl 的备份文件" in r.output
    assert (workspace / "ledger.sqlite").read_bytes() == before


def test_init_never_runs_over_an_existing_store_or_key(tmp_path, seed_definition, workspace):
    (workspace / "ledger-xl.toml").unlink()  # someone deleted the config: init must not make a new key
    from ledger_xl.workspace import init_workspace

    with pytest.raises(LedgerError, match="restore"):
        init_workspace(workspace, seed_definition)


def test_an_older_workspace_gets_its_key_file_from_the_store(workspace):
    key = (workspace / "ledger-xl.key").read_bytes()
    (workspace / "ledger-xl.key").unlink()
    make_templates(workspace, "2024H1", bureaus=["市商务局"])
    assert (workspace / "ledger-xl.key").read_bytes() == key
