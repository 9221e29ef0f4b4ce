"""The store's schema version: read on every open, older stores migrated step by step, newer or unknown ones
refused with a plain message and left byte for byte as they were; and its named queries."""

from __future__ import annotations

import sqlite3

import pytest

import ledger_xl.store as store_mod
from ledger_xl.findings import LedgerError
from ledger_xl.store import SCHEMA_VERSION, Store


def _set_version(path, value):
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (value,))
    db.commit()
    db.close()


def test_a_new_store_has_every_step(tmp_path):
    with Store(tmp_path / "s.sqlite", create=True) as s:
        assert s.schema_version() == SCHEMA_VERSION == len(store_mod.MIGRATIONS)
        assert s.meta("schema_version") == str(SCHEMA_VERSION)


@pytest.mark.parametrize("readonly", [False, True])
@pytest.mark.parametrize("version, code, words", [
    (str(SCHEMA_VERSION + 1), "store-newer", "较新版本"),
    ("abc", "store-version-unknown", "无法识别"),
])
def test_a_newer_or_unknown_store_is_refused_and_left_as_it_was(tmp_path, version, code, words, readonly):
    path = tmp_path / "s.sqlite"
    Store(path, create=True).close()
    _set_version(path, version)
    before = path.read_bytes()
    with pytest.raises(LedgerError) as e:
        Store(path, readonly=readonly)
    assert e.value.code == code and words in e.value.message and "s.sqlite" in e.value.message
    assert path.read_bytes() == before


def test_an_older_store_gets_the_steps_it_lacks_in_one_go(tmp_path, monkeypatch):
    """What the next engineer does: append a step; a store of today's version is brought up to it on open."""
    path = tmp_path / "s.sqlite"
    with Store(path, create=True) as s:
        s.db.execute("INSERT INTO mail_log (sent_at, kind, period, recipient, subject, message_id, content_key)"
                     " VALUES ('t', 'remind', '2024H1', 'a@b.c', 's', 'm', 'k')")
    step = ("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
            "ALTER TABLE mail_log ADD COLUMN channel TEXT NOT NULL DEFAULT 'smtp'")
    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, step])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Store(path) as s:
        assert s.schema_version() == SCHEMA_VERSION + 1
        assert s.db.execute("SELECT channel FROM mail_log").fetchall() == [("smtp",)]
        assert s.db.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_a_failing_step_leaves_the_store_at_its_old_version(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    Store(path, create=True).close()
    bad = ("CREATE TABLE notes (id INTEGER PRIMARY KEY)", "ALTER TABLE no_such_table ADD COLUMN x TEXT")
    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, bad])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(LedgerError):
        Store(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'notes'").fetchone() == (0,)


def test_named_queries_filter_submissions(tmp_path):
    import datetime as dt

    with Store(tmp_path / "s.sqlite", create=True) as s, s.transaction():
        for i, (b, p, outcome) in enumerate([("A", "2024H1", "merged"), ("B", "2024H1", "refused"), ("A", "2024H2", "merged"),
                                            ("A", "2024H1", "merged")]):
            s.add_submission(sha256=f"{i:064d}", file_name=f"{i}.xlsx", archive_path="", bureau=b, period=p,
                             received_at=dt.datetime(2024, 7, 1), outcome=outcome, findings=[], values=[],
                             template_generated_at=None)
    with Store(tmp_path / "s.sqlite") as s:
        every = s.submissions()
        assert [x.file_name for x in s.submissions(bureau="A", period="2024H1")] == ["0.xlsx", "3.xlsx"]
        assert [x.file_name for x in s.submissions(period="2024H1")] == ["0.xlsx", "1.xlsx", "3.xlsx"]
        assert [x.file_name for x in s.submissions(merged_only=True)] == [x.file_name for x in every if x.outcome == "merged"]
        assert s.known("0" * 63 + "2").file_name == "2.xlsx" and s.known("f" * 64) is None
        assert [x.current for x in every] == [False, False, True, True]
