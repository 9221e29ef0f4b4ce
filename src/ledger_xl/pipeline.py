"""The façade the CLI calls: each function opens the workspace (its definition and, where needed, the
store), calls one stage, and returns the stage's typed result. A script may call these too.

Data flows one way: definition → templates → intake (ingest) → store → checks → master ledger →
report/mail. The stages are `templates`, `intake`, `checks`, `master`, `returns`, `report`, `export`
and `mailplan`; nothing here decides anything a stage could.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .codes import Code
from .findings import LedgerError
from .model import Ledger, Period, check_period_in
from .reporting import StatusReport, period_status
from .workspace import Workspace, open_store, open_workspace, workspace_lock, ws_ledger

if TYPE_CHECKING:
    from .checks import CheckResult
    from .intake import Arrival, FileOutcome, IngestReport
    from .mail import MailPlan, SendResult
    from .master import CheckRun
    from .returns import History
    from .store import Store
    from .templates import TemplateRun


def _open(root: Path, period_text: str) -> tuple[Workspace, Ledger, Period]:
    """The workspace, its ledger and the period asked for (checked against the ledger's years and kind)."""
    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    period = Period.parse(period_text)
    check_period_in(ledger, period)
    return ws, ledger, period


def choose_period(root: Path, period_text: str | None, *, collecting: bool = False,
                  today: dt.date | None = None) -> tuple[str, str]:
    """The period a command works on, and what to say about it: the one asked for (checked against the
    ledger: its years, its kind), or — left out — the latest whose deadline has passed, else the current
    one (`collecting`: the latest that has ended, for templates and reminders). The sentence is empty when
    the period was given."""
    from .model import default_period

    if period_text is not None and period_text.strip():
        return _open(root, period_text)[2].code, ""
    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    period, why = default_period(ledger, ws.deadline_rule(ledger), today or dt.date.today(), collecting=collecting)
    return period.code, why


def make_templates(root: Path, period_text: str, *, bureaus: list[str] | None = None, make_zip: bool = False) -> TemplateRun:
    from .templates import workspace_templates

    ws, ledger, period = _open(root, period_text)
    return workspace_templates(ws, ledger, period, bureaus=bureaus, make_zip=make_zip)


def ingest(root: Path, paths: list[Path] | None = None, *, wait: float = 120.0, received_at: dt.datetime | None = None,
           arrivals: Mapping[Path, Arrival] | None = None,
           before_commit: Callable[[Store, list[FileOutcome]], None] | None = None) -> IngestReport:
    """Validate returned workbooks (the inbox when `paths` is None) and merge the valid ones into the store
    in one transaction; see `intake.ingest_files`."""
    from .intake import ingest_files

    ws = open_workspace(root)
    return ingest_files(ws, ws_ledger(ws), paths if paths is not None else [ws.inbox], wait=wait, received_at=received_at,
                        arrivals=arrivals, before_commit=before_commit)


def status(root: Path, period_text: str) -> StatusReport:
    ws, ledger, period = _open(root, period_text)
    with open_store(ws, readonly=True) as store:
        return period_status(ledger, store, period, ws.deadline_rule(ledger), today=ws.now().date())


def check(root: Path, period_text: str) -> CheckRun:
    """Judge the period, keep its findings in the store, and write the statuses into the master ledger."""
    from .master import check_period

    ws, ledger, period = _open(root, period_text)
    with workspace_lock(ws, what="核对"), open_store(ws) as store:
        return check_period(ws, ledger, store, period)


def history(root: Path, period_text: str, bureau: str) -> History:
    """A unit's returns for a period, oldest first, with what each changed against the one before."""
    from .returns import bureau_history

    ws, ledger, period = _open(root, period_text)
    if ledger.bureau(bureau) is None:
        names = "、".join(ledger.bureaus_with_tasks())
        raise LedgerError.of(Code.BUREAU_OPTION_UNKNOWN, names=bureau, choices=names)
    with open_store(ws, readonly=True) as store:
        return bureau_history(ws.root, ledger, store, bureau, period)


def make_report(root: Path, period_text: str | None, out: Path | None = None, *, date: dt.date | None = None,
                said: Callable[[str], None] | None = None) -> tuple[Path, CheckResult]:
    """Write the period's summary report from the store and the checks (atomically). `period_text` None: the
    period choose_period takes, and `said` is given the sentence saying which."""
    from .report import write_period_report

    if period_text is None or not period_text.strip():
        period_text, why = choose_period(root, period_text)
        if said is not None and why:
            said(why)
    ws, ledger, period = _open(root, period_text)
    return write_period_report(ws, ledger, period, out, date=date)


def export_values(root: Path, out: Path, period_text: str | None) -> tuple[Path, int]:
    """Write the stored values (of one period, or of all when `period_text` is None) as .xlsx or .csv."""
    from .export import frame, tidy_rows, write_export

    ws = open_workspace(root)
    ledger = ws_ledger(ws)
    period = None
    if period_text is not None:
        period = Period.parse(period_text)
        check_period_in(ledger, period)
    with open_store(ws, readonly=True) as store:
        rows = tidy_rows(ledger, store, period)
    return write_export(frame(rows), out), len(rows)


def plan_mail(root: Path, kind: str, period_text: str) -> tuple[MailPlan, Workspace]:
    """Who gets what: templates to every bureau, reminders to the missing and refused, the report to its readers."""
    from . import mailplan

    ws, ledger, period = _open(root, period_text)
    return mailplan.plan_mail(ws, ledger, kind, period), ws


def plan_early_reminders(root: Path, days: int, period_text: str | None = None) -> tuple[MailPlan, Workspace]:
    """`mail remind --before-deadline N`: the bureaus that have sent nothing, reminded once a period."""
    from . import mailplan

    ws = open_workspace(root)
    return mailplan.plan_early_reminders(ws, ws_ledger(ws), days, period_text), ws


def mail_drafts(root: Path, plan: MailPlan) -> list[SendResult]:
    from . import mailplan

    return mailplan.mail_drafts(open_workspace(root), plan)


def check_mail_settings(root: Path) -> None:
    """The [mail] settings that sending needs, checked before the clerk is asked to confirm."""
    from . import mailplan

    mailplan.check_mail_settings(open_workspace(root))


def mail_send(root: Path, plan: MailPlan, password: str | None) -> list[SendResult]:
    from . import mailplan

    return mailplan.mail_send(open_workspace(root), plan, password)
