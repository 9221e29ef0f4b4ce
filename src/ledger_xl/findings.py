"""Findings are values: every problem found in a file is collected and reported together.

A clerk reads them, so each one names the place first (file › sheet › cell), then what is wrong, then
what to do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_LABEL = {Severity.ERROR: "错误", Severity.WARNING: "提示", Severity.INFO: "说明"}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    value: str | None = None

    @property
    def place(self) -> str:
        return " › ".join(p for p in (self.file, self.sheet, self.cell) if p)

    def render(self) -> str:
        label = SEVERITY_LABEL[self.severity]
        place = self.place
        return f"[{label}] {place}：{self.message}" if place else f"[{label}] {self.message}"

    def to_dict(self) -> dict[str, str | None]:
        d = asdict(self)
        d["severity"] = str(self.severity)
        return d


class LedgerError(Exception):
    """A failure that stops a command; its message is plain Chinese and names the file."""

    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
