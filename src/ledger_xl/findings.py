"""Findings are values: every problem found in a file is collected and reported together.

A clerk reads them, so each one names the place first (file › sheet › cell), then what is wrong, then
what to do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .codes import SEVERITY_LABEL, Code, Severity

__all__ = ["SEVERITY_LABEL", "Code", "Finding", "LedgerError", "Severity"]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    value: str | None = None

    @classmethod
    def of(cls, code: Code, *, file: str | None = None, sheet: str | None = None, cell: str | None = None,
           value: str | None = None, severity: Severity | None = None, **params: object) -> Finding:
        """A finding from its catalogued code: the message is the code's template filled with `params`."""
        return cls(code, code.message(**params), severity or code.severity, file=file, sheet=sheet, cell=cell, value=value)

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

    @classmethod
    def of(cls, code: Code, *, file: str | None = None, **params: object) -> LedgerError:
        """A refusal from its catalogued code; `file` names the file first, as every message does."""
        text = code.message(**params)
        return cls(f"{file}：{text}" if file else text, code=code)
