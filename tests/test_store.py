"""The store's schema version: read on every open, older stores migrated step by step, newer or unknown ones
refused with a plain message and left byte for byte as they were; and its named queries."""

from __future__ import annotations

import re
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


def test_every_value_row_is_stored_as_given_in_order_however_many_statements_carry_them(tmp_path):
    """A return's values go in by multi-row INSERTs of VALS_PER_INSERT rows: none lost, none changed, in order."""
    import datetime as dt

    from ledger_xl.store import VALS_PER_INSERT

    for n in (0, 1, VALS_PER_INSERT, 2 * VALS_PER_INSERT + 5):
        rows = [(f"T{i % 7}" if i % 5 else None, "lead" if i % 2 else None, ("metric", "progress")[i % 2], i % 3,
                 float(i) / 4 if i % 2 == 0 else None, None if i % 2 == 0 else f"文字 {i}", f"A{i + 1}") for i in range(n)]
        with Store(tmp_path / f"v{n}.sqlite", create=True) as s, s.transaction():
            sids = [s.add_submission(sha256=f"{k}{n:063d}", file_name="f.xlsx", archive_path="", bureau="B", period="2024H1",
                                     received_at=dt.datetime(2024, 7, 1), outcome="merged", findings=[], values=rows,
                                     template_generated_at=None) for k in range(2)]
            got = s.db.execute("SELECT submission_id, task_id, role, kind, idx, num, text, cell FROM vals ORDER BY rowid").fetchall()
            kinds = s.db.execute("SELECT typeof(task_id), typeof(role), typeof(num), typeof(text) FROM vals ORDER BY rowid").fetchall()
        assert got == [(sid, *row) for sid in sids for row in rows]
        # None is bound as NULL (through the adapter store.py registers for it), never as text or a number
        assert kinds == [tuple("null" if v is None else t for v, t in zip(row[:2] + row[4:6], ("text", "text", "real", "text"), strict=True))
                         for _ in sids for row in rows]


def test_a_commit_left_in_the_log_is_copied_into_the_store_file_behind_the_caller(tmp_path):
    """checkpoint_later keeps a commit in the write-ahead log (durable there, readable by every connection);
    checkpoint_behind copies it into the store file in a thread of its own, waited for as its block ends."""
    import datetime as dt

    path = tmp_path / "s.sqlite"
    with Store(path, create=True) as s:
        s.checkpoint_later()
        before = path.stat().st_size
        rows = [("T1", "lead", "progress", 0, None, "文字" * 200, f"A{i}") for i in range(200)]
        with s.transaction():  # ~6 MB: more than the 1,000 pages after which SQLite would copy it as it commits
            for k in range(25):
                s.add_submission(sha256=f"{k:064d}", file_name="f.xlsx", archive_path="", bureau="B", period="2024H1",
                                 received_at=dt.datetime(2024, 7, 1), outcome="merged", findings=[], values=rows,
                                 template_generated_at=None)
        assert path.stat().st_size == before  # all of it in the log, none in the file yet
        other = sqlite3.connect(path)
        assert other.execute("SELECT count(*) FROM vals").fetchone() == (25 * 200,)
        other.close()
        with s.checkpoint_behind():
            pass
        assert path.stat().st_size > before + 25 * 200 * 1200  # copied: the texts alone are 1.2 KB a row
        assert s.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0] == 0
    reopened = sqlite3.connect(path)
    assert reopened.execute("SELECT count(*), count(DISTINCT submission_id) FROM vals").fetchone() == (25 * 200, 25)


# ---------------------------------------------------------------- the current return, kept by the store (migration 5)

class _Val(tuple):  # what ingest stores of a cell (store.InputValue), built inline
    task_id = property(lambda self: self[0])
    role = property(lambda self: self[1])
    kind = property(lambda self: self[2])
    index = property(lambda self: self[3])
    num = property(lambda self: self[4])
    text = property(lambda self: self[5])
    cell = property(lambda self: self[6])


# The rule before migration 5, worked out from every submission on each read: the merged return of a bureau and
# period received last (received time, then arrival order). current_returns must always agree with it.
RULE_IDS = """SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY bureau, period ORDER BY received_at DESC, id DESC) AS rn
              FROM submissions WHERE outcome = 'merged') WHERE rn = 1"""


def _add(s, i, bureau, period, day, outcome, values=()):
    import datetime as dt

    return s.add_submission(sha256=f"{i:064d}", file_name=f"{i}.xlsx", archive_path="", bureau=bureau, period=period,
                            received_at=dt.datetime(2024, 7, 1) + dt.timedelta(days=day), outcome=outcome, findings=[],
                            values=[_Val(v) for v in values], template_generated_at=None)


def _rule(s):
    return sorted(r[0] for r in s.db.execute(RULE_IDS))


def _kept(s):
    return sorted(r[0] for r in s.db.execute("SELECT id FROM current_returns"))




def test_current_returns_follow_the_received_rule_whatever_order_returns_are_ingested(tmp_path):
    """Corrections, stale drafts ingested after their correction, refusals, ties on the received time: after each
    ingest the store's current returns are those the rule picks, and so is each submission's `current`."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    arrival = st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["2024M01", "2024M02"]), st.integers(0, 3),
                        st.sampled_from(["merged", "merged", "refused"]))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(arrival, max_size=8))
    def run(arrivals):
        path = tmp_path / "h.sqlite"
        path.unlink(missing_ok=True)
        with Store(path, create=True) as s:
            for i, (b, p, day, outcome) in enumerate(arrivals):
                with s.transaction():
                    _add(s, i, b, p, day, outcome)
                assert _kept(s) == _rule(s)
                assert sorted(x.id for x in s.submissions() if x.current) == _rule(s)

    run()


def test_a_version_4_store_gets_its_current_returns_and_reads_the_same_before_and_after(tmp_path, monkeypatch):
    """A store made before migration 5 (a stale draft ingested after its correction in it): read-only, it is read
    by the old rule; opened to write, it is migrated; both reads agree, value for value."""
    path = tmp_path / "old.sqlite"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:4])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 4)
    val = ("1", "lead", "metric", 0, 5.0, None, "E5")
    with Store(path, create=True) as s, s.transaction():
        _add(s, 0, "A", "2024M01", 2, "merged", [val, ("1", "lead", "progress", 0, None, "新", "F5")])
        _add(s, 1, "A", "2024M01", 1, "merged", [val, ("1", "lead", "progress", 0, None, "旧草稿", "F5")])  # stale draft
        _add(s, 2, "B", "2024M01", 1, "refused")
        _add(s, 3, "A", "2024M02", 3, "merged", [val])
    monkeypatch.undo()
    with Store(path, readonly=True) as s:
        assert s.schema_version() == 4
        before = (s.submissions(), s.current_values(), s.latest_texts("progress", {("1", "A")}), s.history_values())
    with Store(path) as s:
        assert s.schema_version() == SCHEMA_VERSION and _kept(s) == _rule(s) == [1, 4]
        after = (s.submissions(), s.current_values(), s.latest_texts("progress", {("1", "A")}), s.history_values())
    assert after == before
    assert before[2] == {("1", "A"): ("2024M01", "新")}


def test_a_version_8_store_gets_the_measured_index_by_equalities_holding_the_same_values(tmp_path, monkeypatch):
    """Migration 9 replaces migration 8's index (kinds named by IN, tested on every insert at great cost) with one
    naming them by equalities: the store opened to write holds the new index, with every measured value and
    no text, and reads the same values as before."""
    path = tmp_path / "old.sqlite"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:8])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 8)
    kinds = sorted(store_mod.MEASURED_KINDS) + ["progress", "plan", "phone"]
    with Store(path, create=True) as s, s.transaction():
        _add(s, 0, "A", "2024M01", 0, "merged", [("1", "lead", k, 0, 1.0, "x", f"E{i}") for i, k in enumerate(kinds)])
    monkeypatch.undo()
    with Store(path, readonly=True) as s:
        before = s.current_values()
    with Store(path) as s:
        index_sql = s.db.execute("SELECT sql FROM sqlite_master WHERE name = 'vals_measured'").fetchone()[0]
        assert " IN " not in index_sql and "kind = 'metric'" in index_sql
        term = store_mod.MEASURED_TERM.replace("v.kind", "kind")
        held = s.db.execute(f"SELECT kind FROM vals INDEXED BY vals_measured WHERE {term} ORDER BY kind").fetchall()
        assert [k for (k,) in held] == sorted(store_mod.MEASURED_KINDS)
        assert s.current_values() == before


def test_a_version_9_store_gets_the_measured_index_by_return_and_task_reading_the_same_values_in_order(tmp_path, monkeypatch):
    """Migration 10 keys the measured values' index by return then task (a read of every measured kind seeks
    each return once) and indexes the current returns by period: the values read are those read before, in
    period, return, then task, role, kind and index order; texts keep their order on the form."""
    path = tmp_path / "old.sqlite"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:9])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 9)
    form = [("2", "lead", "metric", 1, 5.0, None, "E3"), ("10", "lead", "metric", 0, 7.0, None, "E4"),
            ("2", "lead", "progress", 0, None, "进展", "J3"), ("2", "lead", "metric", 0, 3.0, None, "E2"),
            ("1", "responsible", "duty_count", 0, 2.0, None, "F9"), ("1", "lead", "deliv_status", 0, None, "已完成", "G9")]
    with Store(path, create=True) as s, s.transaction():
        _add(s, 0, "B", "2024M02", 0, "merged", form)
        _add(s, 1, "A", "2024M02", 1, "merged", form[::-1])
        _add(s, 2, "A", "2024M01", 2, "merged", form)
    monkeypatch.undo()
    with Store(path, readonly=True) as s:
        before_all, before_texts = s.current_values(), s.current_values(kinds={"progress", "metric"})
    with Store(path) as s:
        names = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "current_returns_period" in names
        index_sql = s.db.execute("SELECT sql FROM sqlite_master WHERE name = 'vals_measured'").fetchone()[0]
        assert "(submission_id, task_id, role, kind, idx, num, text, cell)" in index_sql
        measured = s.current_values(kinds=store_mod.MEASURED_KINDS)
        assert s.current_values() == before_all  # all kinds: as on the form (texts among them)
        assert s.current_values(kinds={"progress", "metric"}) == before_texts
    expected = sorted((v for v in before_all if v.kind in store_mod.MEASURED_KINDS),
                      key=lambda v: (v.period, v.submission_id, v.task_id, v.role, v.kind, v.idx))
    assert measured == expected
    assert [(v.period, v.bureau) for v in measured][::5] == [("2024M01", "A"), ("2024M02", "B"), ("2024M02", "A")]
    assert [v.task_id for v in measured[:5]] == ["1", "1", "10", "2", "2"]  # text order: "10" before "2"


def test_reads_filtered_in_sql_give_what_filtering_every_value_gives(tmp_path):
    """current_values by kind and period, latest_texts and history_values(resubmitted_only=True) against the
    same filters applied to every stored value."""
    from ledger_xl.model import Period

    path = tmp_path / "s.sqlite"
    rows = [("A", "2024M01", 0, "merged"), ("B", "2024M01", 0, "merged"), ("A", "2024M02", 5, "merged"),
            ("A", "2024M02", 4, "merged"), ("B", "2024M03", 9, "merged"), ("A", "2024M03", 9, "refused"),
            ("A", "2024M01", 1, "merged")]
    with Store(path, create=True) as s, s.transaction():
        for i, (b, p, day, outcome) in enumerate(rows):
            texts = [("1", "lead", "progress", 0, None, f"{b}{p}#{i}" if (b, p) != ("B", "2024M03") else "", "F5"),
                     ("2", "responsible", "progress", 0, None, f"二{i}" if b == "A" else None, "F6"),
                     ("1", "lead", "problems", 0, None, f"问题{i}", "G5")]
            measured = [("1", "lead", "metric", 0, float(i), None, "E5"), ("2", "lead", "deliv_status", 0, None, f"推进中{i}", "H6"),
                        ("2", "lead", "metric", 1, None if i % 3 else -1.5, None, "E6")]
            _add(s, i, b, p, day, outcome, [measured[0], texts[0], measured[1], *texts[1:], measured[2]])
    with Store(path) as s:
        every = s.current_values()
        for up_to in (None, Period.parse("2024M02")):
            for kinds in (None, {"metric"}, {"problems", "progress"}, {"metric", "deliv_status"}, {"metric", "progress"}):
                for periods in (None, {"2024M02"}, {"2024M03", "2024M01"}, set()):
                    expect = [v for v in every if (kinds is None or v.kind in kinds) and (periods is None or v.period in periods)
                              and (up_to is None or v.period in up_to.codes_up_to())]
                    assert s.current_values(up_to, kinds=kinds, periods=periods) == expect
        wanted = {("1", "A"), ("1", "B"), ("2", "A"), ("2", "B"), ("3", "A")}
        latest: dict[tuple[str, str], tuple[str, str]] = {}
        for v in every:
            if v.kind == "progress" and v.text and (v.task_id, v.bureau) in wanted:
                latest[(v.task_id, v.bureau)] = (v.period, v.text)
        assert s.latest_texts("progress", wanted) == latest
        assert latest[("1", "B")] == ("2024M01", "B2024M01#1")  # B's March progress was empty: its January one is the latest
        again = [(v, c) for v, c in s.history_values() if (v.bureau, v.period) in {("A", "2024M01"), ("A", "2024M02")}]
        assert s.history_values(resubmitted_only=True) == again and len(again) == 8  # 4 returns × 2 metrics


def test_findings_of_some_periods_are_those_filtering_every_finding_gives(tmp_path):
    """all_findings(periods, unidentified_after=) — what the master ledger's 问题清单 reads — against the same
    rule applied to every finding: the files of those periods, files with no period received after the given
    one, and the checks of those periods."""
    import datetime as dt

    from ledger_xl.findings import Finding, Severity

    def finding(i: int) -> Finding:
        return Finding("code-x", f"说明{i}", Severity.WARNING, file=f"{i}.xlsx", sheet="填报表", cell=f"A{i}")

    path = tmp_path / "s.sqlite"
    with Store(path, create=True) as s:
        with s.transaction():
            for i, (b, p, outcome) in enumerate([("A", "2024M01", "merged"), (None, None, "refused"), ("A", "2024M02", "merged"),
                                                ("B", "2024M03", "refused"), (None, None, "refused"), ("B", "2024M03", "merged")]):
                s.add_submission(sha256=f"{i:064d}", file_name=f"{i}.xlsx", archive_path="", bureau=b, period=p,
                                 received_at=dt.datetime(2024, 7, 1), outcome=outcome, findings=[finding(i), finding(10 + i)],
                                 values=[], template_generated_at=None)
        for p in ("2024M01", "2024M03"):
            s.replace_check_findings(p, [finding(20), finding(21)])
        every = s.all_findings()
        assert s.count_findings() == len(every) == 16
        ids = {x.id: x for x in s.submissions()}
        for periods, after in ((["2024M03"], 4), (["2024M02", "2024M03"], 3), ([], 0), (["2024M01"], 99)):
            expect = [f for f in every if (f[0] is not None and (ids[f[0]].period in periods or ids[f[0]].period is None and f[0] > after))
                      or (f[0] is None and f[2] in periods)]
            assert s.all_findings(periods, unidentified_after=after) == expect
        # March's two files (ids 4, 6), the unidentified file received after id 4 (id 5), March's checks
        assert [f[0] for f in s.all_findings(["2024M03"], unidentified_after=4)] == [4, 4, 5, 5, 6, 6, None, None]


def test_bounded_submission_reads_give_what_filtering_every_submission_gives(tmp_path):
    """What the master ledger, the checks and an ingest now read instead of every submission — the files of some
    periods (with the unidentified ones received after a given file), the count per period, the first file of
    some periods, which bureaus have a current return in each period, when and as what each current return
    arrived — against the same rule applied to
    `submissions()`, on arrivals of any order with refusals, unidentified files and ties; and on a store from
    before migration 5 opened read-only (its current returns worked out in the query)."""
    from collections import Counter

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    arrival = st.tuples(st.sampled_from(["A", "B", None]), st.sampled_from(["2024M01", "2024M02", "2024M03", None]),
                        st.integers(0, 3), st.sampled_from(["merged", "merged", "refused"]))
    asked = st.tuples(st.sets(st.sampled_from(["2024M01", "2024M02", "2024M03", "2024M09"])), st.none() | st.integers(0, 9))

    def agree(s: Store, periods: set[str], after: int | None) -> None:
        every = s.submissions()
        expect = [x for x in every if x.period in periods or (after is not None and x.period is None and x.id > after)]
        assert s.submissions_of_periods(periods, unidentified_after=after) == expect
        assert s.submission_counts() == dict(Counter(x.period for x in every))
        assert s.first_submission_of(periods) == min((x.id for x in every if x.period in periods), default=0)
        units: dict[str, set[str]] = {}
        for x in every:
            if x.current and x.period and x.bureau:
                units.setdefault(x.period, set()).add(x.bureau)
        assert s.current_units() == units
        assert s.current_receipts() == {k: (x.received_at, x.file_name) for k, x in s.current_submissions().items()}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(arrival, max_size=9), asked, st.booleans())
    def run(arrivals, ask, old):
        path = tmp_path / "b.sqlite"
        path.unlink(missing_ok=True)
        if old:  # a store made before migration 5, read-only as status reads it
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:4])
                mp.setattr(store_mod, "SCHEMA_VERSION", 4)
                with Store(path, create=True) as s, s.transaction():
                    for i, (b, p, day, outcome) in enumerate(arrivals):
                        _add(s, i, b if p else None, p, day, outcome if b and p else "refused")
        else:
            with Store(path, create=True) as s, s.transaction():
                for i, (b, p, day, outcome) in enumerate(arrivals):
                    _add(s, i, b if p else None, p, day, outcome if b and p else "refused")
        with Store(path, readonly=old) as s:
            agree(s, *ask)

    run()


def test_the_bounded_reads_find_their_rows_by_index_not_by_reading_every_submission(tmp_path):
    """The master ledger reads the files of a few periods, the count per period, the first file of some
    periods and the findings 问题清单 lists after every ingest and check, and a check replaces its period's
    findings: each query these run is a search of an index of migrations 6 and 7 — the statements are caught as run and explained — so its cost stays that of the rows it
    returns however many submissions the store holds."""
    with Store(tmp_path / "s.sqlite", create=True) as s:
        ran: list[str] = []

        def reads() -> None:
            s.submissions_of_periods(["2024M01", "2024M02"], unidentified_after=3)
            s.submission_counts()
            s.first_submission_of(["2024M01"])
            s.all_findings(["2024M01", "2024M02"], unidentified_after=3)
            s.submission_findings(3)
            s.replace_check_findings("2024M01", [])

        reads()  # once before: what the store looks up about itself once (its columns) is not these reads
        s.db.set_trace_callback(ran.append)  # the statements with their values bound
        reads()
        s.db.set_trace_callback(None)
        ran = [sql for sql in ran if sql.lstrip().startswith(("SELECT", "DELETE"))]  # not BEGIN, INSERT, COMMIT
        assert len(ran) == 6, "|".join(r.strip()[:50] for r in ran)
        for sql in ran:
            plan = " ".join(str(r[3]) for r in s.db.execute("EXPLAIN QUERY PLAN " + sql))
            # a count may read the whole index (a few bytes a file), never the table's rows
            assert ("submissions_period" in plan or "findings_sub_period" in plan) and not re.search(
                r"SCAN (s|submissions|findings)\b(?! USING COVERING INDEX)", plan), (sql, plan)


def test_the_measured_values_are_read_from_their_index_whole(tmp_path):
    """Every check and master-ledger rebuild reads the current returns' measured values (CHECKED_KINDS and
    MASTER_KINDS): from migration 10's partial index, which holds them whole — no row lookup in the table — and
    which SQLite uses only when the query names its kinds as the index does (MEASURED_TERM); texts are not in it."""
    from ledger_xl.checks import CHECKED_KINDS
    from ledger_xl.ledger_book import MASTER_KINDS
    from ledger_xl.model import Period

    assert CHECKED_KINDS | MASTER_KINDS <= store_mod.MEASURED_KINDS
    index_sql = store_mod.MIGRATIONS[9][1]
    assert index_sql.endswith(" WHERE " + store_mod.MEASURED_TERM[1:-1].replace("v.kind", "kind"))  # the index's own term
    with Store(tmp_path / "s.sqlite", create=True) as s:
        with s.transaction():
            _add(s, 1, "A", "2024M01", 0, "merged", [("1", "lead", "metric", 0, 1.0, None, "E5")])
        ran: list[str] = []
        s.db.set_trace_callback(ran.append)
        s.current_values(kinds=CHECKED_KINDS | MASTER_KINDS)
        s.current_values(Period.parse("2024M01"), kinds=CHECKED_KINDS)
        s.current_values(kinds={"metric"})
        s.current_values(kinds={"metric", "progress"})
        s.db.set_trace_callback(None)
        reads = [sql for sql in ran if "CROSS JOIN vals v" in sql]  # not what the store asks about itself first
        measured = [" ".join(str(r[3]) for r in s.db.execute("EXPLAIN QUERY PLAN " + sql)) for sql in reads]
        assert len(measured) == 4, ran
        for plan in measured[:3]:
            assert "SEARCH v USING COVERING INDEX vals_measured" in plan, plan
        # every measured kind: one seek a return (not one a kind), in the read's order as the indexes hold it (no sort)
        assert "vals_measured (submission_id=?)" in measured[0] and "TEMP B-TREE" not in measured[0], measured[0]
        assert "vals_measured" not in measured[3]  # progress texts are not in it: read from the table
