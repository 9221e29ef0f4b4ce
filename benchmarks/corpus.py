"""A province-scale corpus: the sample ledger replicated for N cities in one workspace, templates for every
half-year, and every template filled (deterministic). Filling writes the input cells straight into the
sheet XML: the same bytes a spreadsheet program would store, 50× faster than load-and-save with openpyxl.
"""

from __future__ import annotations

import copy
import random
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from ledger_xl.definition import load_ledger, save_definition
from ledger_xl.model import ALL_MEMBERS, Bureau, Ledger, PeriodKind
from ledger_xl.testing.fill import template_fields
from ledger_xl.testing.samples import DEMO_IDENTITY

SAMPLE = Path(__file__).resolve().parents[1] / "workbook_templates" / "nanyang" / "ledger.xlsx"


def province_ledger(cities: int, *, period_kind: PeriodKind | None = None) -> Ledger:
    """`period_kind`: report by another period than the sample's half-years ("month" for a monthly store)."""
    base = load_ledger(SAMPLE)
    bureaus: list[Bureau] = []
    tasks = []
    for c in range(1, cities + 1):
        tag = f"C{c:02d}"
        rename = {b.name: f"{tag}{b.name}" for b in base.bureaus}
        members = [rename[b.name] for b in base.bureaus if b.member]
        for b in base.bureaus:
            nb = copy.copy(b)
            nb.name = rename[b.name]
            bureaus.append(nb)
        for t in base.tasks:
            nt = copy.deepcopy(t)
            nt.id = f"{tag}-{t.id}"
            nt.lead = [rename[n] for n in t.lead]
            resp: list[str] = []
            for n in t.responsible:
                resp += members if n == ALL_MEMBERS else [rename[n]]
            nt.responsible = resp
            tasks.append(nt)
    return Ledger(title=f"{cities}市{base.title}", years=base.years, bureaus=bureaus, tasks=tasks, office=f"C01{base.office}",
                  period_kind=period_kind or base.period_kind)


def write_definition(cities: int, path: Path, *, period_kind: PeriodKind | None = None) -> Path:
    save_definition(province_ledger(cities, period_kind=period_kind), path)
    return path


def _cell_xml(ref: str, style: str, value: object) -> str:
    if isinstance(value, int | float):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def fill_fast(src: Path, dst: Path, rng: random.Random) -> None:
    """Put a plausible value in every input cell of the form sheet, keeping everything else byte for byte."""
    values = {}
    for f in template_fields(src):
        values[f.cell] = {
            "metric": rng.randrange(0, 30), "ind_value": round(rng.uniform(0.05, 0.6), 3) if f.unit == "%" else "3.5:1",
            "ind_baseline": 100, "ind_current": 92, "duty_count": 1, "deliv_status": "推进中", "progress": "按计划推进，完成阶段性工作。",
            "problems": "无", "plan": "继续推进。", "evidence": "佐证材料.pdf", "filler": "张伟", "phone": "13900000000",
            "reviewer": "王芳", "fill_date": 45500,
        }.get(f.kind, "")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                text = data.decode("utf-8")

                def put(m: re.Match[str]) -> str:
                    ref, style = m.group(1), m.group(2) or ""
                    return _cell_xml(ref, style, values[ref]) if ref in values and values[ref] != "" else m.group(0)

                text = re.sub(r'<c r="([A-Z]+\d+)"( s="\d+")?/>', put, text)
                data = text.encode("utf-8")
            zout.writestr(info, data)


def build(root: Path, cities: int, *, seed: int = 7, log=print,  # type: ignore[no-untyped-def]
          period_kind: PeriodKind | None = None) -> tuple[Path, list[Path]]:
    """A province workspace (nothing ingested) and its filled returns, in arrival order; `period_kind="month"`
    makes a monthly store (12 periods a year instead of 2)."""
    import datetime as dt
    import os

    from ledger_xl.pipeline import make_templates
    from ledger_xl.templates import deadline
    from ledger_xl.workspace import init_workspace

    definition = write_definition(cities, root / "ledger.xlsx", period_kind=period_kind)
    ws = init_workspace(root / "ws", definition, identity=DEMO_IDENTITY)
    ledger = load_ledger(ws.definition_path)
    rng = random.Random(seed)
    files: list[Path] = []
    for period in ledger.periods():
        run = make_templates(ws.root, period.code)
        out = root / "returns" / period.code
        out.mkdir(parents=True, exist_ok=True)
        due = dt.datetime.combine(deadline(period, ws.deadline_rule(ledger)), dt.time(9))
        for i, (name, path, _) in enumerate(run.written):
            dst = out / f"{name}.xlsx"
            fill_fast(path, dst, rng)
            ts = (due - dt.timedelta(minutes=i)).timestamp()
            os.utime(dst, (ts, ts))
            files.append(dst)
        log(f"  corpus {period.code}: {len(run.written)} workbooks")
    return ws.root, files
