"""Workspace-level operations: each opens the workspace, the definition and the store, and calls a stage.

The CLI calls these; so can a script. Data flows one way: definition → templates → ingest → store →
checks → report/mail.
"""

from __future__ import annotations

from pathlib import Path

from .definition import load_ledger
from .model import Period, check_period_in
from .store import Store
from .templates import TemplateRun, write_templates
from .workspace import open_workspace


def make_templates(root: Path, period_text: str, *, bureaus: list[str] | None = None, make_zip: bool = False) -> TemplateRun:
    ws = open_workspace(root)
    ledger = load_ledger(ws.definition_path)
    period = Period.parse(period_text)
    check_period_in(ledger, period)
    cfg = ws.section("templates")
    with Store(ws.store_path) as store:
        prior = store.cumulative_before(period) if hasattr(store, "cumulative_before") else {}
        return write_templates(
            ledger, period, ws.outputs / "templates" / period.code, key=store.template_key, ledger_id=store.ledger_id,
            bureaus=bureaus, deadline_days=int(cfg.get("deadline_days", 10)), contact=str(cfg.get("contact", "")),
            issuer=str(cfg.get("issuer", "")), prior=prior, make_zip=make_zip,
        )
