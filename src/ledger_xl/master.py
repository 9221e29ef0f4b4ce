"""The master-ledger stage: outputs/master_ledger.xlsx rebuilt from the store, and `check` (judge a period,
keep its findings, show its statuses in the master ledger).

Why apart from ledger_book: ledger_book writes a workbook from what it is given; this stage decides what
that is (the store's values, the latest period's checks), owns the "owed" mark that makes an interrupted
rebuild good, and reports a master ledger held open in Excel instead of failing the command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .checks import CHECKED_KINDS, CheckResult, check_store, latest_period
from .findings import LedgerError
from .model import Ledger, Period

if TYPE_CHECKING:
    from .store import Store, StoredValue
    from .workspace import Workspace

# set in the store with the records an ingest adds, cleared once the master ledger shows them: an ingest
# killed (or a master ledger held open) between the two is made good by the next ingest, even of nothing new
MASTER_OWED = "master_ledger_owed"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector. A rebuild makes some 200,000 short-lived objects without cycles
    (stored values, rows, cells), freed as they go; the collector, set off by them, walked everything
    else in the process again and again: a tenth of the rebuild after a province-sized ingest."""
    import gc

    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def rebuild_master(ws: Workspace, ledger: Ledger, store: Store, checks: CheckResult | None = None, *,
                   values: list[StoredValue] | None = None) -> tuple[Path | None, str]:
    """Rebuild outputs/master_ledger.xlsx from the store; an open (locked) file is reported, never fatal.

    Statuses are those of the given check, or of the latest period with data. `values` (current values of
    CHECKED_KINDS | MASTER_KINDS): when the caller has fetched them already. Submissions are read as each
    sheet shows them (see write_master_ledger), never all of them.
    """
    from .ledger_book import MASTER_KINDS, write_master_ledger

    rule = ws.deadline_rule(ledger)
    target = ws.outputs / "master_ledger.xlsx"
    with collector_paused():
        values = values if values is not None else store.current_values(kinds=CHECKED_KINDS | MASTER_KINDS)
        if checks is None:
            latest = latest_period(ledger, store)
            checks = check_store(ledger, store, latest, rule, values) if latest else None
        try:
            write_master_ledger(ledger, store, target, deadline_rule=rule, checks=checks, values=values)
        except (LedgerError, OSError) as e:
            from .workspace import explain_failure

            why = e if isinstance(e, LedgerError) else explain_failure(e)
            if why is None:
                raise
            # the store is committed before the rebuild: what was merged is in it, and the next rebuild writes it
            return None, (f"总台账 {target.name} 未能更新：{why.message} 已汇入的数据已保存在数据库中；"
                          "处理后运行 ledger-xl check --period 报送期（或再次 ingest）即可重新生成总台账。")
    if store.meta(MASTER_OWED):
        with store.transaction():
            store.set_meta(MASTER_OWED, None)
    return target, ""


@dataclass
class CheckRun:
    result: CheckResult
    master_ledger: Path | None
    master_note: str


def check_period(ws: Workspace, ledger: Ledger, store: Store, period: Period) -> CheckRun:
    """Judge the period, keep its findings in the store, and write the statuses into the master ledger."""
    from .ledger_book import MASTER_KINDS

    with collector_paused():  # one fetch of the values serves the checks and the master ledger
        values = store.current_values(kinds=CHECKED_KINDS | MASTER_KINDS)
        result = check_store(ledger, store, period, ws.deadline_rule(ledger), values)
    store.replace_check_findings(period.code, result.findings)
    path, note = rebuild_master(ws, ledger, store, result, values=values)
    return CheckRun(result, path, note)
