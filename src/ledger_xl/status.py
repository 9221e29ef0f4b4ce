"""How a task stands against its plan: one Status type with its order, colours and words.

Why one module: the checks judge these, and the report, the master ledger and the charts show them in the
same order and colours; each used to keep its own list. `Status` values are the Chinese labels users see
(and `--json` prints), so a status compares equal to its word. (Where a bureau's return stands — 按时,
逾期, 被退回, 未报 — and the lateness rule live in `reporting`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    """A judgement of a task, metric or indicator, declared worst first (the order `worst` uses); the last
    two are not judgements: the lead bureau's return was refused, or nothing came in — never behind."""

    chart_color: str
    fill_color: str
    phrase: str

    def __new__(cls, label: str, chart_color: str, fill_color: str, phrase: str) -> Status:
        obj = str.__new__(cls, label)
        obj._value_ = label
        obj.chart_color = chart_color  # the report's charts: grey levels far apart, for a black-and-white printer
        obj.fill_color = fill_color  # the master ledger's cell fill
        obj.phrase = phrase  # the report's sentence: "进度滞后2项"
        return obj

    NOT_MET = ("未达标", "#9E9E9E", "#FFC7CE", "指标未达标")  # an indicator missed at the end
    BEHIND = ("滞后", "#616161", "#FFC7CE", "进度滞后")  # behind at a year end, or a duty missed
    WARNING = ("预警", "#FFF59D", "#FFEB9C", "进度预警")  # below the pro-rata plan mid-year
    ON_TRACK = ("按进度", "#E3F2FD", "#DDEBF7", "按进度推进")
    AHEAD = ("超额", "#C8E6C9", "#C6EFCE", "超额推进")
    DONE = ("已完成", "#A5D6A7", "#C6EFCE", "已完成")
    REFUSED = ("被退回", "#D7CCC8", "#F8CBAD", "牵头单位报送被退回")  # every lead's return refused
    NOT_REPORTED = ("未报", "#FFFFFF", "#E7E6E6", "牵头单位未报送")  # nothing received from a lead

    @property
    def needs_attention(self) -> bool:
        """Behind, missed or warned: what the report lists under 存在的主要问题."""
        return self in BEHIND or self is Status.WARNING


JUDGED: list[Status] = [Status.NOT_MET, Status.BEHIND, Status.WARNING, Status.ON_TRACK, Status.AHEAD, Status.DONE]
NO_DATA: list[Status] = [Status.REFUSED, Status.NOT_REPORTED]  # not judged, not behind
BEHIND = frozenset({Status.BEHIND, Status.NOT_MET})
COUNT_ORDER = JUDGED + NO_DATA  # `check`'s totals: worst first, then the tasks without data
SHOWN_ORDER = [*reversed(JUDGED), *NO_DATA]  # report and charts: best first, then the tasks without data


def worst(statuses: Iterable[Status]) -> Status:
    s = list(statuses)
    return min(s, key=JUDGED.index) if s else Status.ON_TRACK
