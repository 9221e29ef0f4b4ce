"""Who reported what for a period: one rule for the submission states every output shows.

按时 / 逾期: a return was accepted, on or after the deadline. 被退回: returns were received but every one was
refused — with the number of problems to fix —, which is not the same as sending nothing. 未报: nothing
received yet; 未报（已过截止）: nothing received and the deadline has passed. `status`, `check`, the master
ledger and the report all take their words from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from .model import DeadlineRule, Period

if TYPE_CHECKING:
    from .model import Ledger
    from .store import Store, Submission

SubmissionState = Literal["按时", "逾期", "被退回", "未报", "未报（已过截止）"]
ON_TIME: Final = "按时"
LATE: Final = "逾期"
REFUSED: Final = "被退回"
MISSING: Final = "未报"
MISSING_OVERDUE: Final = "未报（已过截止）"
STATES: tuple[SubmissionState, ...] = (ON_TIME, LATE, REFUSED, MISSING, MISSING_OVERDUE)


def received_state(received_at: str, due: dt.date) -> SubmissionState:
    """按时 when received on or before the due date, else 逾期."""
    return ON_TIME if dt.datetime.fromisoformat(received_at).date() <= due else LATE


@dataclass
class BureauStatus:
    name: str
    state: SubmissionState
    file_name: str | None
    received_at: str | None
    n_findings: int  # 被退回: the problems (errors) of the last refused return; otherwise every finding of the current one
    due: dt.date | None = None
    overdue: bool = False  # the deadline has passed (as of today)
    # received_at is when the first accepted return arrived (timeliness is judged by it) and received_source
    # how that time is known (mail / given / file); corrected_at when the current return came, if a correction
    # replaced the first
    received_source: str | None = None
    corrected_at: str | None = None

    @property
    def submitted(self) -> bool:
        return self.state in (ON_TIME, LATE)

    @property
    def late(self) -> bool:
        """Late or not in by the deadline: 逾期, 未报（已过截止）, or still 被退回 after the deadline."""
        return self.state in (LATE, MISSING_OVERDUE) or (self.state == REFUSED and self.overdue)

    @property
    def label(self) -> str:
        """The state as a person reads it: 被退回（3处问题） carries its count of problems."""
        if self.state == REFUSED:
            return f"被退回（{self.n_findings}处问题{'，已过截止' if self.overdue else ''}）"
        return self.state

    def lead_reason(self) -> str:
        """Why a task led by this bureau has no data this period, in the words of the check and the report."""
        if self.state == REFUSED:
            return f"牵头单位{self.name}报送的表格被退回（{self.n_findings}处问题），待修改后重报"
        if self.state == MISSING_OVERDUE:
            return f"牵头单位{self.name}本期未报送（已过截止日期{self.due.isoformat() if self.due else ''}）"
        return f"牵头单位{self.name}本期未报送"

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "state": self.state, "label": self.label, "submitted": self.submitted, "late": self.late,
                "file": self.file_name, "received_at": self.received_at, "received_source": self.received_source,
                "corrected_at": self.corrected_at, "findings": self.n_findings}


def bureau_status(name: str, mine: Iterable[Submission], due: dt.date, today: dt.date) -> BureauStatus:
    """One bureau's state for one period from its submissions of that period, in the order received."""
    mine = list(mine)
    overdue = today > due
    if len(mine) == 1 and mine[0].current and mine[0].outcome == "merged":  # one return, accepted (most bureaus)
        one = mine[0]
        return BureauStatus(name, received_state(one.received_at, due), one.file_name, one.received_at,
                            one.n_errors + one.n_warnings, due, overdue, one.received_source, None)
    cur = next((s for s in reversed(mine) if s.current), None)
    if cur is not None:
        n = sum(s.n_errors + s.n_warnings for s in mine if s.current or s.outcome == "refused")
        # on time or late by the first accepted return: a correction after the deadline does not make it late
        first = min((s for s in mine if s.outcome == "merged"), key=lambda s: (s.received_at, s.id))
        return BureauStatus(name, received_state(first.received_at, due), cur.file_name, first.received_at, n, due, overdue,
                            first.received_source, cur.received_at if cur.id != first.id else None)
    refused = [s for s in mine if s.outcome == "refused"]
    if refused:
        last = refused[-1]
        return BureauStatus(name, REFUSED, last.file_name, last.received_at, last.n_errors, due, overdue, last.received_source)
    return BureauStatus(name, MISSING_OVERDUE if overdue else MISSING, None, None, 0, due, overdue)


@dataclass
class StatusReport:
    period: Period
    deadline: str
    bureaus: list[BureauStatus]
    rule: str = ""  # where the deadline comes from, in words

    def to_json(self) -> dict[str, object]:
        return {"period": self.period.code, "deadline": self.deadline, "deadline_rule": self.rule,
                "bureaus": [b.to_json() for b in self.bureaus]}

    def of(self, name: str) -> BureauStatus | None:
        return next((b for b in self.bureaus if b.name == name), None)


def period_status(ledger: Ledger, store: Store | None, period: Period, rule: DeadlineRule, *, today: dt.date | None = None,
                  subs: list[Submission] | None = None) -> StatusReport:
    """Who has submitted for a period, on time or late, who was refused, who is missing.

    `subs`: every submission in the store, when the caller has fetched them already."""
    due = rule.due(period)
    today = today or dt.date.today()
    if subs is None:
        assert store is not None
        of_period = store.submissions(period=period.code)
    else:
        code = period.code
        of_period = [s for s in subs if s.period == code]
    by_bureau: dict[str | None, list[Submission]] = {}
    for s in of_period:
        by_bureau.setdefault(s.bureau, []).append(s)
    out = [bureau_status(b, by_bureau.get(b, []), due, today) for b in ledger.bureaus_with_tasks()]
    return StatusReport(period, due.isoformat(), out, rule.describe(period))
