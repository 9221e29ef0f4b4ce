"""The SQLite store: the system of record for submissions, values with provenance, and findings.

One ingest is one transaction: killed midway, the store is as it was. Originals live in archive/ under
their SHA-256; the store records every file ever received and what became of it. Callers ask named
queries (`submissions(bureau=…, period=…)`, `current_values(up_to, kinds=…)`); SQL lives only here.

Changing the schema (adding a table or a column): append one numbered step to MIGRATIONS below, never
edit a shipped one. Every open reads the store's version: an older store gets the steps it lacks in one
transaction, a newer or unknown one is refused untouched with a plain-Chinese message (STORE_NEWER,
STORE_VERSION_UNKNOWN in codes.py). tests/test_store.py shows a step being added.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import NamedTuple, cast

from . import codes
from .codes import Code
from .crashpoint import crash_point
from .findings import Finding, LedgerError, Severity
from .model import Ledger, Period

# What the store keeps of one input cell: (task id, role, kind, index, number, text, cell) — the order of
# ingest's Value, a NamedTuple of these; a plain tuple type, so that the store needs nothing from ingest
# (which reads, and comes after the store in README's layers) and a row is inserted as it comes.
ValueRow = tuple[str | None, str | None, str, int, float | None, str | None, str]

# The schema grows by numbered steps; SCHEMA_VERSION, kept in meta, says how many a store has had.
# To add a table, a column or an index:
#   1. append one step to MIGRATIONS: a tuple of SQL statements taking a store of the previous version to
#      the next (CREATE TABLE …, ALTER TABLE … ADD COLUMN …, CREATE INDEX …, an UPDATE that fills it);
#   2. never edit a step that has shipped — stores in the field were made by it.
# Opening a store runs the steps it lacks, all in one transaction with the version bump; a store from a
# newer ledger-xl (or with a version nobody wrote) is refused with a plain message and left untouched.
MIGRATIONS: list[tuple[str, ...]] = [
    (  # 1: submissions, their values and findings, the mail log
        """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    archive_path TEXT NOT NULL,
    bureau TEXT,
    period TEXT,
    received_at TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('merged', 'refused')),
    n_errors INTEGER NOT NULL,
    n_warnings INTEGER NOT NULL,
    template_generated_at TEXT
)""",
        """CREATE INDEX IF NOT EXISTS submissions_bp ON submissions (bureau, period, outcome)""",
        """CREATE TABLE IF NOT EXISTS vals (
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    task_id TEXT,
    role TEXT,
    kind TEXT NOT NULL,
    idx INTEGER NOT NULL,
    num REAL,
    text TEXT,
    cell TEXT NOT NULL
)""",
        """CREATE INDEX IF NOT EXISTS vals_sub ON vals (submission_id)""",
        """CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER REFERENCES submissions (id),
    source TEXT NOT NULL DEFAULT 'ingest',
    period TEXT,
    file TEXT, sheet TEXT, cell TEXT,
    severity TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, value TEXT
)""",
        """CREATE TABLE IF NOT EXISTS mail_log (
    id INTEGER PRIMARY KEY,
    sent_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    bureau TEXT,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    attachment_sha256 TEXT,
    message_id TEXT NOT NULL,
    content_key TEXT NOT NULL
)""",
        """CREATE INDEX IF NOT EXISTS mail_key ON mail_log (content_key)""",
    ),
    (  # 2: what each return typed, kept so a refused return can be handed back filled in
        """CREATE TABLE IF NOT EXISTS typed (
    submission_id INTEGER PRIMARY KEY REFERENCES submissions (id),
    fields TEXT NOT NULL
)""",
    ),
    (  # 3: the current return of a bureau and period is the one received last
        "CREATE INDEX IF NOT EXISTS submissions_received ON submissions (bureau, period, outcome, received_at, id)",
    ),
    (  # 4: where each received time came from (mail / given / file) and the sender; mail taken from the
       #    mailbox (each message once) and the answers queued to send
        "ALTER TABLE submissions ADD COLUMN received_source TEXT NOT NULL DEFAULT 'file'",
        "ALTER TABLE submissions ADD COLUMN sender TEXT",
        """CREATE TABLE IF NOT EXISTS mail_in (
    mailbox TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    sender TEXT,
    message_id TEXT,
    subject TEXT,
    taken_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (mailbox, uidvalidity, uid)
)""",
        """CREATE TABLE IF NOT EXISTS mail_queue (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    content_key TEXT NOT NULL,
    message TEXT NOT NULL
)""",
    ),
    (  # 5: a read of a few kinds (the numbers, not the texts) or of a few periods finds its values by index; the
       #    current return of each bureau and period is kept up to date by the store as returns arrive, instead of
       #    being worked out again from every submission on each read (see CURRENT_OF_S: the same rule)
        "CREATE INDEX IF NOT EXISTS vals_sub_kind ON vals (submission_id, kind)",
        "DROP INDEX IF EXISTS vals_sub",
        """CREATE TABLE IF NOT EXISTS current_returns (
    id INTEGER PRIMARY KEY,
    bureau TEXT,
    period TEXT
)""",
        "CREATE INDEX IF NOT EXISTS current_returns_bp ON current_returns (bureau, period)",
        """INSERT INTO current_returns (id, bureau, period)
    SELECT id, bureau, period FROM (SELECT id, bureau, period,
        row_number() OVER (PARTITION BY bureau, period ORDER BY received_at DESC, id DESC) AS rn
        FROM submissions WHERE outcome = 'merged') WHERE rn = 1""",
        """CREATE TRIGGER IF NOT EXISTS current_return AFTER INSERT ON submissions WHEN NEW.outcome = 'merged'
BEGIN
    DELETE FROM current_returns WHERE bureau IS NEW.bureau AND period IS NEW.period;
    INSERT INTO current_returns (id, bureau, period)
        SELECT id, bureau, period FROM submissions
        WHERE bureau IS NEW.bureau AND period IS NEW.period AND outcome = 'merged'
        ORDER BY received_at DESC, id DESC LIMIT 1;
END""",
    ),
    (  # 6: the files of a few periods (the master ledger's bounded sheets, a period's status) and the count per
       #    period are found by index, not by reading every submission stored
        "CREATE INDEX IF NOT EXISTS submissions_period ON submissions (period, id)",
    ),
    (  # 7: so are the findings of some files and the checks of some periods (问题清单, replacing a period's check
       #    findings, a file's findings): a province's warnings grow with every ingest
        "CREATE INDEX IF NOT EXISTS findings_sub_period ON findings (submission_id, period)",
    ),
    (  # 8: the measured values of the current returns (numbers and results, read by every check and master-ledger
       #    rebuild: a few of a return's ~55 values) are read from an index holding them whole, kept apart from the
       #    texts (progress, problems, plans), instead of one row lookup each in the table (see MEASURED_TERM)
        "CREATE INDEX IF NOT EXISTS vals_measured ON vals (submission_id, kind, task_id, role, idx, num, text, cell)"
        " WHERE kind IN ('deliv_date', 'deliv_name', 'deliv_no', 'deliv_status', 'duty_count', 'ind_baseline',"
        " 'ind_current', 'ind_value', 'metric')",
    ),
    (  # 9: the same index, its kinds named by a chain of equalities instead of IN (…): SQLite tested every value
       #    inserted against the IN list at ~14,000 instructions a row (a third of a return's insert, for one value
       #    in eighteen that the index holds); the chain costs a few hundred. The index's content is the same.
        "DROP INDEX IF EXISTS vals_measured",
        "CREATE INDEX IF NOT EXISTS vals_measured ON vals (submission_id, kind, task_id, role, idx, num, text, cell)"
        " WHERE kind = 'deliv_date' OR kind = 'deliv_name' OR kind = 'deliv_no' OR kind = 'deliv_status'"
        " OR kind = 'duty_count' OR kind = 'ind_baseline' OR kind = 'ind_current' OR kind = 'ind_value' OR kind = 'metric'",
    ),
    (  # 10: the same values, the index keyed by return then task (not kind): a read of every measured kind seeks each
       #     return once, where SQLite turned the kinds' chain into nine seeks a return; and the current returns by
       #     period, so that the read comes out in its order (period, return, task) without sorting (see
       #     Store.current_values). At 10,080 stored returns that read took ~30% less time.
        "DROP INDEX IF EXISTS vals_measured",
        "CREATE INDEX IF NOT EXISTS vals_measured ON vals (submission_id, task_id, role, kind, idx, num, text, cell)"
        " WHERE kind = 'deliv_date' OR kind = 'deliv_name' OR kind = 'deliv_no' OR kind = 'deliv_status'"
        " OR kind = 'duty_count' OR kind = 'ind_baseline' OR kind = 'ind_current' OR kind = 'ind_value' OR kind = 'metric'",
        "CREATE INDEX IF NOT EXISTS current_returns_period ON current_returns (period, id)",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)

# The kinds migration 10's index holds, and the term a query names them by: SQLite uses a partial index only for a
# query whose WHERE has the index's own term, written out (a bound parameter is not known when the plan is made).
MEASURED_KINDS = frozenset({"deliv_date", "deliv_name", "deliv_no", "deliv_status", "duty_count", "ind_baseline",
                            "ind_current", "ind_value", "metric"})
MEASURED_TERM = "(" + " OR ".join(f"v.kind = '{k}'" for k in sorted(MEASURED_KINDS)) + ")"


# The current submission of a bureau and period is the merged one received last (received time, then arrival
# order for a tie), whatever order the files were ingested in: a stale draft ingested after its correction
# stays in the history and never becomes current.
CURRENT_OF_S = """(SELECT t.id FROM submissions t WHERE t.bureau = s.bureau AND t.period = s.period AND t.outcome = 'merged'
                   ORDER BY t.received_at DESC, t.id DESC LIMIT 1)"""
CURRENT_IDS = """(SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY bureau, period ORDER BY received_at DESC, id DESC) AS rn
                                FROM submissions WHERE outcome = 'merged') WHERE rn = 1)"""


# None is not among the types sqlite3 binds without consulting its adapters: for each None it looked for an
# adapter, then for __adapt__ and __conform__, raising and clearing two AttributeErrors (~3,300 instructions; a
# return binds ~80, its texts' empty numbers and its numbers' empty texts). Registered, None is found at the first
# lookup and adapted to itself by an empty dict's get (a C function returning None for any key: a Python function
# would cost a third of the saving), then bound as NULL, as before. The registry is the sqlite3 module's, for the
# whole process: None → None changes nothing for any other user of it.
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))

VALS_PER_INSERT = 64  # value rows one INSERT carries (512 parameters, far below SQLite's limit)


@functools.lru_cache(maxsize=VALS_PER_INSERT)
def _vals_insert(rows: int) -> str:
    """The INSERT of `rows` value rows: executemany steps the statement once a row, which cost a quarter more."""
    return ("INSERT INTO vals (submission_id, task_id, role, kind, idx, num, text, cell) VALUES "
            + ",".join(["(?,?,?,?,?,?,?,?)"] * rows))


class Submission(NamedTuple):
    """One file received and what became of it (a tuple: a rebuild reads thousands, made in C)."""

    id: int
    sha256: str
    file_name: str
    archive_path: str
    bureau: str | None
    period: str | None
    received_at: str
    ingested_at: str
    outcome: str
    n_errors: int
    n_warnings: int
    current: bool  # the merged file of its bureau and period received last
    # where received_at came from: 'mail' (the message's INTERNALDATE), 'given' (ingest --received) or
    # 'file' (the file's modification time); and who sent it, when it came by mail
    received_source: str = "file"
    sender: str | None = None


class StoredValue(NamedTuple):
    """One stored input with its provenance (a tuple: hundreds of thousands are read at province scale)."""

    submission_id: int
    bureau: str
    period: str
    task_id: str | None
    role: str | None
    kind: str
    idx: int
    num: float | None
    text: str | None
    cell: str
    file_name: str


STORE_ADVICE = codes.STORE_ADVICE  # also said by the workspace when the store is missing


class Store:
    def __init__(self, path: Path, *, identity: dict[str, str] | None = None, create: bool = False,
                 readonly: bool = False) -> None:
        """Open the store. Only `create=True` (init, rebuild) may make a new one: a store that went missing
        in a workspace is refused, never silently replaced by an empty one with a new signing key.

        `identity` ({ledger_id, template_key}) seeds a new store only. `readonly`: for commands that only
        read (status), so that they work in a workspace the clerk cannot write to.
        """
        self.path = Path(path)
        if not create and not self.path.is_file():
            what = "不是文件" if self.path.exists() else "不存在"
            raise LedgerError.of(Code.STORE_MISSING, name=self.path.name, folder=self.path.parent, what=what)
        if create and not self.path.exists():  # SQLite would make it 0644, and its -wal/-shm files after it
            from .fsutil import create_private

            create_private(self.path)
        try:
            self.db = self._connect(readonly)
            if not readonly:
                self._prepare(identity)
            else:
                self.schema_version()  # a newer or unknown store is refused even when only read
        except sqlite3.DatabaseError as e:
            raise store_error(self.path, e) from e

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        if readonly:
            from urllib.parse import quote

            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
            try:
                db = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # a WAL store on a read-only disk cannot make its shared-memory file: nothing can be writing it then
                db = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=60, isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA busy_timeout=60000")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # "file is not a database" shows here, not at connect
        return db

    def _prepare(self, identity: dict[str, str] | None) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        ident = identity or {}
        with self.transaction():
            self._migrate()
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('ledger_id', ?)", (ident.get("ledger_id") or uuid.uuid4().hex,))
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('template_key', ?)", (ident.get("template_key") or secrets.token_hex(32),))

    def schema_version(self) -> int:
        """The number of MIGRATIONS steps this store has had (0: a new, empty file); refuses what it cannot know."""
        has_meta = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        raw = self.meta("schema_version") if has_meta else "0"
        try:
            found = int(raw or "")
        except ValueError:
            self.refuse_if_damaged()
            raise LedgerError.of(Code.STORE_VERSION_UNKNOWN, name=self.path.name, found=raw) from None
        if found > SCHEMA_VERSION:
            raise LedgerError.of(Code.STORE_NEWER, name=self.path.name, found=found, known=SCHEMA_VERSION)
        if found < 0:
            raise LedgerError.of(Code.STORE_VERSION_UNKNOWN, name=self.path.name, found=raw)
        return found

    def refuse_if_damaged(self) -> None:
        """Refuse a file SQLite's own check finds damaged: an unreadable version or a key that disagrees with
        the key file is most often that, and the clerk should hear 已损坏, not "unknown" or "another workspace"."""
        try:
            ok = self.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError as e:
            raise store_error(self.path, e) from e
        if not ok:
            raise store_error(self.path, sqlite3.DatabaseError("database disk image is malformed"))

    def _migrate(self) -> None:
        """Run the steps this store lacks (inside the caller's transaction) and record the new version."""
        found = self.schema_version()
        for step in MIGRATIONS[found:]:
            for sql in step:
                self.db.execute(sql)
        if found < SCHEMA_VERSION:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception: all or nothing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or, with None, remove) a meta value, inside the caller's transaction."""
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def ledger_id(self) -> str:
        return self.meta("ledger_id") or ""

    @property
    def template_key(self) -> bytes:
        return bytes.fromhex(self.meta("template_key") or "")

    # ------------------------------------------------------------ writing (inside a transaction)

    def known_digests(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT sha256 FROM submissions")}

    def known(self, sha256: str) -> Submission | None:
        return next(iter(self.submissions(sha256=sha256)), None)

    def add_submission(self, *, sha256: str, file_name: str, archive_path: str, bureau: str | None, period: str | None,
                       received_at: dt.datetime, outcome: str, findings: list[Finding], values: Sequence[ValueRow],
                       template_generated_at: str | None, typed: str | None = None, received_source: str = "file",
                       sender: str | None = None) -> int:
        """Record one file received; `typed` (JSON, see ingest.typed_entry) is what its form held, as typed."""
        n_err = sum(1 for f in findings if f.severity is Severity.ERROR)
        n_warn = sum(1 for f in findings if f.severity is Severity.WARNING)
        cur = self.db.execute(
            "INSERT INTO submissions (sha256, file_name, archive_path, bureau, period, received_at, ingested_at, outcome,"
            " n_errors, n_warnings, template_generated_at, received_source, sender) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (sha256, file_name, archive_path, bureau, period, received_at.replace(microsecond=0).isoformat(),
             dt.datetime.now().replace(microsecond=0).isoformat(), outcome, n_err, n_warn, template_generated_at,
             received_source, sender))
        sid = int(cur.lastrowid or 0)
        for k in range(0, len(values), VALS_PER_INSERT):  # ~55 rows a file: one statement, not a step for each row
            rows = values[k : k + VALS_PER_INSERT]
            self.db.execute(_vals_insert(len(rows)), list(chain.from_iterable(map((sid,).__add__, rows))))  # (sid, *row)…, in C
        if findings:
            self.db.executemany(
                "INSERT INTO findings (submission_id, source, period, file, sheet, cell, severity, code, message, value)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(sid, "ingest", period, f.file, f.sheet, f.cell, str(f.severity), f.code, f.message, f.value) for f in findings])
        if typed is not None:
            self.db.execute("INSERT INTO typed (submission_id, fields) VALUES (?, ?)", (sid, typed))
        crash_point("store-write")
        return sid

    def replace_check_findings(self, period: str, findings: list[Finding]) -> None:
        with self.transaction():
            # a check's findings belong to no file (inserted below without one): said, so the index finds them
            self.db.execute("DELETE FROM findings WHERE submission_id IS NULL AND source = 'check' AND period = ?", (period,))
            self.db.executemany(
                "INSERT INTO findings (source, period, file, sheet, cell, severity, code, message, value) VALUES (?,?,?,?,?,?,?,?,?)",
                [("check", period, f.file, f.sheet, f.cell, str(f.severity), f.code, f.message, f.value) for f in findings])

    # ------------------------------------------------------------ reading

    @functools.cached_property
    def _source_columns(self) -> str:
        """An older store opened read-only (status) has no source columns yet: its times came from the files."""
        have = {r[1] for r in self.db.execute("PRAGMA table_info(submissions)")}
        return "s.received_source, s.sender" if "received_source" in have else "'file', NULL"

    @functools.cached_property
    def _current(self) -> tuple[str, str]:
        """(the current returns as a table of id, bureau, period; whether submission s is current): the table the
        store keeps (migration 5), or — an older store opened read-only — the same rule worked out in the query."""
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'current_returns'").fetchone():
            return ("current_returns",
                    "s.bureau IS NOT NULL AND s.period IS NOT NULL AND s.id IN (SELECT id FROM current_returns)")
        return (f"(SELECT id, bureau, period FROM submissions WHERE id IN {CURRENT_IDS})",
                f"s.outcome = 'merged' AND s.id = {CURRENT_OF_S}")

    def submissions(self, *, bureau: str | None = None, period: str | None = None, sha256: str | None = None,
                    merged_only: bool = False) -> list[Submission]:
        """Submissions in arrival order, all of them or those matching every filter given."""
        filters = [(col, v) for col, v in (("s.bureau", bureau), ("s.period", period), ("s.sha256", sha256)) if v is not None]
        conds = [f"{col} = ?" for col, _ in filters] + (["s.outcome = 'merged'"] if merged_only else [])
        return self._submissions("WHERE " + " AND ".join(conds) if conds else "", tuple(v for _, v in filters))

    def _submissions(self, where: str, params: tuple[object, ...]) -> list[Submission]:
        """The one SELECT of submissions; `where` is built in this module only, from fixed column names."""
        sql = f"""
            SELECT s.id, s.sha256, s.file_name, s.archive_path, s.bureau, s.period, s.received_at, s.ingested_at,
                   s.outcome, s.n_errors, s.n_warnings,
                   {self._current[1]} AS current,
                   {self._source_columns}
            FROM submissions s {where} ORDER BY s.id"""
        make = Submission._make
        return [make((*row[:11], bool(row[11]), row[12], row[13])) for row in self.db.execute(sql, params)]

    def submissions_of_periods(self, periods: Iterable[str], *, unidentified_after: int | None = None) -> list[Submission]:
        """The submissions of these periods, in arrival order, and with `unidentified_after` those with no period
        received after that submission: what a bounded sheet of the master ledger lists, read as such and not
        picked out of every submission stored."""
        codes = sorted(set(periods))
        conds = [f"s.period IN ({','.join('?' * len(codes))})"] if codes else []
        params: list[object] = list(codes)
        if unidentified_after is not None:
            conds.append("(s.period IS NULL AND s.id > ?)")
            params.append(unidentified_after)
        if not conds:
            return []
        return self._submissions("WHERE " + " OR ".join(conds), tuple(params))

    def submission_counts(self) -> dict[str | None, int]:
        """Period (None: not identified) → how many files were received for it, refused ones included."""
        return {p: int(n) for p, n in self.db.execute("SELECT period, count(*) FROM submissions GROUP BY period")}

    def first_submission_of(self, periods: Iterable[str]) -> int:
        """The id of the first file received for any of these periods (0: none)."""
        codes = sorted(set(periods))
        row = self.db.execute(f"SELECT min(id) FROM submissions WHERE period IN ({','.join('?' * len(codes))})", codes).fetchone()
        return int(row[0] or 0)

    def current_units(self) -> dict[str, set[str]]:
        """Period → the bureaus with a current (accepted) return for it: what `Submission.current` says of
        every submission, read without making one."""
        out: dict[str, set[str]] = {}
        for period, bureau in self.db.execute(
                f"SELECT period, bureau FROM {self._current[0]} WHERE period IS NOT NULL AND bureau IS NOT NULL"):
            out.setdefault(period, set()).add(bureau)
        return out

    def current_receipts(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(bureau, period) → (received at, file name) of its current return: what an ingest compares each new
        return with (newer or older), read without making a Submission of every return stored."""
        return {(b, p): (at, name) for b, p, at, name in self.db.execute(
            f"SELECT c.bureau, c.period, s.received_at, s.file_name FROM {self._current[0]} c CROSS JOIN submissions s ON s.id = c.id"
            " WHERE c.bureau IS NOT NULL AND c.period IS NOT NULL")}

    def current_submissions(self) -> dict[tuple[str, str], Submission]:
        return current_of(self.submissions(merged_only=True))

    def periods_with_returns(self) -> set[str]:
        """The periods that have a current (accepted) return."""
        return {r[0] for r in self.db.execute(f"SELECT DISTINCT period FROM {self._current[0]}") if r[0] is not None}

    def current_values(self, up_to: Period | None = None, *, kinds: Iterable[str] | None = None,
                       periods: Iterable[str] | None = None) -> list[StoredValue]:
        """Values of each bureau's current submission per period, in period order (as text), then as received,
        and within a return as on its form (only measured kinds: by task, role, kind and index, the order their
        index holds them in, so that their read needs no sort). Of periods up to `up_to`, of `periods`, of
        `kinds`, when given. The filters are the query's, so that a command needing the numbers, or one
        period's texts, reads those and not every value ever stored."""
        conds: list[str] = []
        params: list[object] = []
        within = "v.rowid"
        if kinds is not None:
            kind_list = sorted(kinds)
            conds.append(f"v.kind IN ({','.join('?' * len(kind_list))})")
            params += kind_list
            if set(kind_list) <= MEASURED_KINDS:  # read from the index of measured values (migration 10), in its order
                conds.append(MEASURED_TERM)
                within = "v.task_id, v.role, v.kind, v.idx"
        if up_to is not None or periods is not None:
            codes = self.periods_with_returns()
            if up_to is not None:
                codes &= up_to.codes_up_to()
            if periods is not None:
                codes &= set(periods)
            conds.append(f"cur.period IN ({','.join('?' * len(codes))})")
            params += sorted(codes)
        rows = self.db.execute(f"""
            SELECT v.submission_id, s.bureau, s.period, v.task_id, v.role, v.kind, v.idx, v.num, v.text, v.cell, s.file_name
            FROM {self._current[0]} cur
            CROSS JOIN submissions s ON s.id = cur.id
            CROSS JOIN vals v ON v.submission_id = s.id
            {"WHERE " + " AND ".join(conds) if conds else ""}
            ORDER BY cur.period, cur.id, {within}""", params).fetchall()
        return list(map(StoredValue._make, rows))

    def latest_texts(self, kind: str, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        """(task, bureau) → (period, text): the latest text of this kind each bureau wrote for each task in its
        current returns, for the (task, bureau) pairs `wanted`. Read from the latest period back, and for the
        bureaus still without a text only: a monthly store holds dozens of periods of texts, and a rebuild
        needs the newest of each."""
        wanted = set(wanted)
        latest = self.db.execute(f"SELECT max(period) FROM {self._current[0]}").fetchone()[0]
        if latest is None or not wanted:
            return {}
        sql = f"""
            SELECT v.task_id, c.bureau, c.period, v.text FROM {self._current[0]} c
            CROSS JOIN vals v ON v.submission_id = c.id AND v.kind = ?
            WHERE {{}} AND v.task_id <> '' AND v.text <> ''
            ORDER BY c.period, c.id, v.rowid"""
        found = {(t, b): (p, x) for t, b, p, x in self.db.execute(sql.format("c.period = ?"), (kind, latest))}
        older = sorted({b for t, b in wanted if (t, b) not in found})
        earlier: dict[tuple[str, str], tuple[str, str]] = {}
        for k in range(0, len(older), 500):
            part = older[k : k + 500]
            cond = f"c.period < ? AND c.bureau IN ({','.join('?' * len(part))})"
            earlier.update({(t, b): (p, x) for t, b, p, x in self.db.execute(sql.format(cond), (kind, latest, *part))})
        return {**earlier, **found}

    def history_values(self, kind: str = "metric", *, resubmitted_only: bool = False) -> list[tuple[StoredValue, bool]]:
        """Values of every merged submission, superseded ones included, with whether each is current, in the
        order they were received. `resubmitted_only`: of the bureaus and periods with more than one merged
        submission (only there can a figure have been changed)."""
        again = """ AND EXISTS (SELECT 1 FROM submissions t WHERE t.bureau IS s.bureau AND t.period IS s.period
                               AND t.outcome = 'merged' AND t.id <> s.id)""" if resubmitted_only else ""
        rows = self.db.execute(f"""
            SELECT v.submission_id, s.bureau, s.period, v.task_id, v.role, v.kind, v.idx, v.num, v.text, v.cell, s.file_name,
                   {self._current[1]}
            FROM submissions s CROSS JOIN vals v ON v.submission_id = s.id AND v.kind = ?
            WHERE s.outcome = 'merged'{again} ORDER BY s.received_at, s.id, v.rowid""", (kind,)).fetchall()
        return [(StoredValue(*r[:11]), bool(r[11])) for r in rows]

    def submissions_by_id(self, ids: list[int]) -> list[Submission]:
        return [s for k in range(0, len(ids), 500) for s in
                self._submissions(f"WHERE s.id IN ({','.join('?' * len(ids[k : k + 500]))})", tuple(ids[k : k + 500]))]

    def returns_of(self, bureau: str, period: str) -> list[Submission]:
        """Every file received from a bureau for a period, in the order received (received time, then arrival)."""
        subs = self.submissions(bureau=bureau, period=period)
        return sorted(subs, key=lambda s: (s.received_at, s.id))

    def typed_of(self, submission_ids: Iterable[int]) -> dict[int, str]:
        """What each of these submissions' forms held, as typed (JSON); absent when the form was never read."""
        ids = list(submission_ids)
        out: dict[int, str] = {}
        try:
            for k in range(0, len(ids), 500):
                part = ids[k : k + 500]
                out.update(self.db.execute(f"SELECT submission_id, fields FROM typed WHERE submission_id IN ({','.join('?' * len(part))})",
                                           part).fetchall())
        except sqlite3.OperationalError:  # a store made before returns were kept, opened read-only: none kept
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'typed'").fetchone():
                raise
        return out

    def mail_sent(self, content_key: str) -> str | None:
        row = self.db.execute("SELECT sent_at FROM mail_log WHERE content_key = ?", (content_key,)).fetchone()
        return row[0] if row else None

    def mailed_bureaus(self, kind: str, period: str) -> set[str]:
        """Bureaus sent a message of this kind for this period."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT bureau FROM mail_log WHERE kind = ? AND period = ? AND bureau IS NOT NULL",
                                              (kind, period))}

    def record_mail(self, *, kind: str, period: str, bureau: str | None, recipient: str, subject: str,
                    attachment_sha256: str | None, message_id: str, content_key: str) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO mail_log (sent_at, kind, period, bureau, recipient, subject, attachment_sha256, message_id, content_key)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (dt.datetime.now().replace(microsecond=0).isoformat(), kind, period, bureau, recipient, subject, attachment_sha256,
                 message_id, content_key))

    # ------------------------------------------------------------ mail taken from the mailbox, answers to send

    def taken_uids(self, mailbox: str, uidvalidity: int) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT uid FROM mail_in WHERE mailbox = ? AND uidvalidity = ?", (mailbox, uidvalidity))}

    def record_taken(self, *, mailbox: str, uidvalidity: int, uid: int, received_at: dt.datetime, sender: str | None,
                     message_id: str | None, subject: str, outcome: str) -> bool:
        """Record a message as taken (inside the caller's transaction); False if it was taken already."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO mail_in (mailbox, uidvalidity, uid, received_at, sender, message_id, subject, taken_at, outcome)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (mailbox, uidvalidity, uid, received_at.isoformat(), sender, message_id, subject,
             dt.datetime.now().replace(microsecond=0).isoformat(), outcome))
        return cur.rowcount == 1

    def queue_mail(self, content_key: str, message: str) -> None:
        """Keep a message to send (inside the caller's transaction): it goes out even if this run is killed."""
        self.db.execute("INSERT INTO mail_queue (created_at, content_key, message) VALUES (?,?,?)",
                        (dt.datetime.now().replace(microsecond=0).isoformat(), content_key, message))

    def queued_mail(self) -> list[str]:
        """Queued messages not yet sent (a message sent is in mail_log under its content key)."""
        return [r[0] for r in self.db.execute(
            "SELECT q.message FROM mail_queue q WHERE NOT EXISTS (SELECT 1 FROM mail_log l WHERE l.content_key = q.content_key)"
            " ORDER BY q.id")]

    def submission_findings(self, submission_id: int) -> list[Finding]:
        rows = self.db.execute("SELECT file, sheet, cell, severity, code, message, value FROM findings WHERE submission_id = ?"
                               " ORDER BY id", (submission_id,))
        return [Finding(r[4], r[5], Severity(r[3]), file=r[0], sheet=r[1], cell=r[2], value=r[6]) for r in rows]

    def all_findings(self, periods: Iterable[str] | None = None, *,
                     unidentified_after: int = 0) -> list[tuple[int | None, str, str | None, Finding]]:
        """(submission id, source, period, finding) of every finding, in the order recorded; with `periods`, only
        those of the files of these periods, of files with no period received after submission
        `unidentified_after`, and of the checks of these periods (the master ledger's 问题清单)."""
        where, params = "", []
        if periods is not None:
            codes = sorted(set(periods))
            marks = ",".join("?" * len(codes))
            where = (f"WHERE submission_id IN (SELECT id FROM submissions WHERE period IN ({marks}) OR (period IS NULL AND id > ?))"
                     f" OR (submission_id IS NULL AND period IN ({marks}))")
            params = [*codes, unidentified_after, *codes]
        rows = self.db.execute(
            "SELECT submission_id, source, period, file, sheet, cell, severity, code, message, value FROM findings"
            f" {where} ORDER BY id", params)
        return [(r[0], r[1], r[2], Finding(r[7], r[8], Severity(r[6]), file=r[3], sheet=r[4], cell=r[5], value=r[9])) for r in rows]

    def count_findings(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM findings").fetchone()[0])

    def metric_series(self, ledger: Ledger, up_to: Period | None = None,
                      values: list[StoredValue] | None = None) -> dict[tuple[str, int], dict[str, tuple[float, str, str, str]]]:
        """Per (task, metric): period → (value, bureau, file, cell), from the first lead bureau that reported."""
        return metric_series(ledger, values if values is not None else self.current_values(up_to, kinds={"metric"}), up_to)

    def cumulative_before(self, ledger: Ledger, period: Period) -> dict[tuple[str, int], float]:
        """Per (task, metric), the figure reached before `period` as the metric counts it (Metric.actual):
        reported additions added up, the latest level reported, or this year's figures so far."""
        series = self.metric_series(ledger)
        tasks = {t.id: t for t in ledger.tasks}
        out: dict[tuple[str, int], float] = {}
        for (tid, i), s in series.items():
            task = tasks.get(tid)
            if task is None or i >= len(task.metrics):
                continue
            got = task.metrics[i].actual({p: x[0] for p, x in s.items()}, period, inclusive=False)
            out[(tid, i)] = got or 0.0
        return out

    def checkpoint_later(self) -> None:
        """Leave what this connection commits in the write-ahead log until checkpoint_behind (or the close): SQLite
        would otherwise copy it into the store file as the commit ends, with an fsync (~30 ms for a province's
        1,680 returns, ~14 MB), while the command waits. The commit is durable without it."""
        self.db.execute("PRAGMA wal_autocheckpoint=0")

    @contextmanager
    def checkpoint_behind(self) -> Iterator[None]:
        """Copy the write-ahead log into the store file in a thread with its own connection while the caller's block
        runs (the master ledger's rebuild is CPU work, the copy disk work), and wait for it at the block's end. Should
        it fail, nothing is lost: the log stays, and the close (or a later commit) copies it."""
        import threading

        def run() -> None:
            try:
                db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    db.close()
            except sqlite3.Error:
                pass

        thread = threading.Thread(target=run, name="ledger-xl-checkpoint", daemon=True)
        thread.start()
        try:
            yield
        finally:
            thread.join()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def store_error(path: Path, e: sqlite3.Error) -> LedgerError:
    """A store SQLite cannot use, in one plain line: damaged, full disk, read-only, or another cause."""
    text = str(e).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return LedgerError.of(Code.STORE_DAMAGED, name=path.name, why=e)
    if "disk is full" in text or "disk i/o" in text:
        return LedgerError.of(Code.DISK_FULL, what=f"数据库 {path.name}", why=f"磁盘已满或出错（{e}）")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return LedgerError.of(Code.READ_ONLY, what=f"数据库 {path.name}", why=f"工作目录 {path.parent} 是只读的或没有写入权限")
    return LedgerError.of(Code.STORE_ERROR, name=path.name, why=e)


# how a received time is known, as the clerk reads it
RECEIVED_SOURCE_CN = {"mail": "邮件到达时间", "given": "手工指定", "file": "文件修改时间"}

def current_of(subs: Iterable[Submission]) -> dict[tuple[str, str], Submission]:
    """(bureau, period) → its current submission, among those given."""
    return {(s.bureau, s.period): s for s in subs if s.current}  # type: ignore[misc]


def metric_series(ledger: Ledger, values: Iterable[StoredValue],
                  up_to: Period | None = None) -> dict[tuple[str, int], dict[str, tuple[float, str, str, str]]]:
    """Per (task, metric): period → (value, bureau, file, cell), from the first lead bureau that reported — or the
    shared leads' figures added up (Task.shared; bureau then names them all, file and cell the first's)."""
    leads = {t.id: t.lead for t in ledger.tasks}
    shared = {t.id: t.shared for t in ledger.tasks if t.shared}
    out: dict[tuple[str, int], dict[str, tuple[float, str, str, str]]] = {}
    rank: dict[tuple[str, int, str], int] = {}
    upto = up_to.codes_up_to() if up_to is not None else None
    for v in values:
        if v.kind != "metric" or v.role != "lead" or v.num is None or v.task_id not in leads:  # most values: not metrics
            continue
        if upto is not None and v.period not in upto:
            continue
        if v.task_id in shared and v.bureau in shared[v.task_id]:
            _add_part(out.setdefault((v.task_id, v.idx), {}), rank, v)
            continue
        order = leads[v.task_id].index(v.bureau) if v.bureau in leads[v.task_id] else 99
        key = (v.task_id, v.idx, v.period)
        if key in rank and rank[key] <= order:
            continue
        rank[key] = order
        out.setdefault((v.task_id, v.idx), {})[v.period] = (v.num, v.bureau, v.file_name, v.cell)
    return out


def _add_part(series: dict[str, tuple[float, str, str, str]], rank: dict[tuple[str, int, str], int], v: StoredValue) -> None:
    """A shared lead's figure added to its period's (which outranks any other lead's: rank -1)."""
    key = (v.task_id or "", v.idx, v.period)
    got = series.get(v.period) if rank.get(key) == -1 else None
    rank[key] = -1
    num = v.num or 0.0
    series[v.period] = (got[0] + num, f"{got[1]}、{v.bureau}", got[2], got[3]) if got else (num, v.bureau, v.file_name, v.cell)
