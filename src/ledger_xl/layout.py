"""What a bureau template holds, shared by the writer (templates.py) and the reader (ingest.py).

A template is described by its metadata: who and when it is for, the locked cells with their values, and
the input fields (defined name, task, what it means, which cell). The metadata is signed with the
workspace key, so a file edited outside its input cells, or metadata rewritten by hand, is detected.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import NamedTuple

from . import jsontext

FORMAT = "ledger-xl-template"
VERSION = 2
META_SHEET = "_ledger_xl"
FORM_SHEET = "填报表"
HELP_SHEET = "填报说明"
RETURN_SHEET = "退回说明"  # first sheet of an annotated copy sent back to a bureau (returns.py); ingest ignores it

ROLE_LABEL = {"lead": "牵头", "responsible": "责任"}
STATUS_CHOICES = ["未启动", "推进中", "已完成"]  # a deliverable's progress, as the bureau picks it
DELIVERABLE_DONE = STATUS_CHOICES[-1]

# kind → how ingest reads it
KINDS = {
    "metric": "number",  # this period's addition, ≥ 0
    "ind_value": "percent-or-ratio",
    "ind_baseline": "number",
    "ind_current": "number",
    "duty_count": "integer",
    "deliv_status": "choice",
    "deliv_date": "date",
    "deliv_name": "text",
    "deliv_no": "text",
    "progress": "text",
    "problems": "text",
    "plan": "text",
    "evidence": "text",
    "filler": "text",
    "phone": "phone",
    "reviewer": "text",
    "fill_date": "date",
}


class FieldSpec(NamedTuple):
    """An input cell of a template (a tuple: a province's ingest makes ~100,000 of them from metadata)."""

    name: str  # defined name in the workbook
    task_id: str | None  # None for the footer fields
    role: str | None  # lead / responsible
    kind: str
    index: int  # type: ignore[assignment]  # which metric or indicator of the task (0-based); 0 otherwise (hides tuple.index)
    label: str  # what a person sees, e.g. "充电站 本期新增（座）"
    unit: str  # 个, %, ratio, ""
    cell: str  # A1 address on the form sheet


@dataclass(slots=True)
class TemplateMeta:
    ledger_title: str
    ledger_id: str
    bureau: str
    period: str
    generated_at: str
    locked: list[tuple[str, str]]  # (cell, canonical text) of every locked content cell
    fields: list[FieldSpec] = field(default_factory=list)
    format: str = FORMAT
    version: int = VERSION
    signature: str = ""

    def payload(self) -> bytes:
        """The signed content: every field but the signature, fields and locked cells as plain arrays."""
        d = {
            "format": self.format, "version": self.version, "ledger_title": self.ledger_title, "ledger_id": self.ledger_id,
            "bureau": self.bureau, "period": self.period, "generated_at": self.generated_at,
            "locked": [[c, v] for c, v in self.locked],
            "fields": [[f.name, f.task_id, f.role, f.kind, f.index, f.label, f.unit, f.cell] for f in self.fields],
        }
        return json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def sign(self, key: bytes) -> None:
        self.signature = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()

    def verify(self, key: bytes) -> bool:
        expected = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.signature)

    def to_rows(self) -> list[tuple[str, str]]:
        """The metadata as key/value rows: the signed JSON split into cells of at most 30,000 characters."""
        text = self.payload().decode("utf-8")
        chunks = [text[i : i + 30000] for i in range(0, len(text), 30000)]
        return [("format", FORMAT), ("version", str(VERSION)), ("bureau", self.bureau), ("period", self.period),
                ("signature", self.signature)] + [(f"data{i}", c) for i, c in enumerate(chunks)]

    @staticmethod
    def rows_signed(rows: list[tuple[str, str]], key: bytes) -> bool:
        """Whether the stored text carries a valid signature: checked on the text itself, before parsing."""
        data = "".join(v for k, v in rows if k.startswith("data")).encode("utf-8")
        sig = next((v for k, v in rows if k == "signature"), "")
        return hmac.compare_digest(hmac.new(key, data, hashlib.sha256).hexdigest(), sig)

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str]]) -> TemplateMeta:
        d = jsontext.loads("".join(v for k, v in rows if k.startswith("data")))
        sig = next((v for k, v in rows if k == "signature"), "")
        return cls(ledger_title=d["ledger_title"], ledger_id=d["ledger_id"], bureau=d["bureau"], period=d["period"],
                   generated_at=d["generated_at"], locked=[(c, v) for c, v in d["locked"]],
                   fields=_field_specs(d["fields"]), format=d["format"], version=d["version"], signature=sig)


_AS_FIELD = functools.partial(tuple.__new__, FieldSpec)  # a sequence as a FieldSpec, in C (no Python __new__ per field)


def _field_specs(rows: list[list[object]]) -> list[FieldSpec]:
    """The metadata's fields as FieldSpecs (~55 a return): each must have exactly FieldSpec's items, as FieldSpec(*row)
    demands, else TypeError."""
    fields = list(map(_AS_FIELD, rows))
    if set(map(len, fields)) - {len(FieldSpec._fields)}:
        raise TypeError("a field of the template's metadata has the wrong number of items")
    return fields


def canonical(value: object) -> str:
    """A locked cell's value as text that survives a round trip through Excel, WPS or LibreOffice."""
    if type(value) is str:  # most locked cells: task text
        return value.replace("\r\n", "\n").strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | int):
        from .model import fmt_number

        return fmt_number(float(value))
    if hasattr(value, "isoformat"):  # a date cell read by calamine
        return value.isoformat()[:10] if type(value).__name__ == "date" else value.isoformat()
    return str(value).replace("\r\n", "\n").strip()
