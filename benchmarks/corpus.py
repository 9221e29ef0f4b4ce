"""A province-scale corpus: the sample ledger replicated for N cities in one workspace, templates for every
half-year, and every template filled (deterministic). Filling writes the input cells straight into the
sheet XML: the same bytes a spreadsheet program would store, 50× faster than load-and-save with openpyxl.
"""

from __future__ import annotations

import copy
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from ledger_xl.definition import load_ledger, save_definition
from ledger_xl.layout import FieldSpec
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


def _cell_xml(ref: str, style: str, value: object, sst: dict[str, int] | None) -> str:
    """One filled cell: a number, or text as a shared string (as Excel and WPS save it) or inline."""
    if isinstance(value, int | float):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    if sst is not None:
        index = sst.setdefault(str(value), len(sst))
        return f'<c r="{ref}"{style} t="s"><v>{index}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _with_strings(sst_xml: str, sst: dict[str, int], used: int) -> str:
    """The shared-strings part with the new strings appended and its counts updated."""
    known = len(re.findall(r"<si>", sst_xml))
    added = "".join(f"<si><t>{escape(t)}</t></si>" for t, i in sorted(sst.items(), key=lambda x: x[1]) if i >= known)
    total = int(re.search(r'count="(\d+)"', sst_xml).group(1)) + used  # type: ignore[union-attr]
    sst_xml = re.sub(r'count="\d+" uniqueCount="\d+"', f'count="{total}" uniqueCount="{len(sst)}"', sst_xml, count=1)
    return sst_xml.replace("</sst>", added + "</sst>")


def _known_strings(sst_xml: str) -> dict[str, int]:
    from xml.sax.saxutils import unescape

    return {unescape(t): i for i, t in enumerate(re.findall(r"<si><t[^>]*>(.*?)</t></si>", sst_xml, flags=re.S))}


def fill_fast(src: Path, dst: Path, rng: random.Random, *, strings: str = "shared", fields: list[FieldSpec] | None = None) -> None:
    """Put a plausible value in every input cell of the form sheet, keeping everything else byte for byte.

    strings="shared" stores text in xl/sharedStrings.xml, as Excel and WPS do; "inline" in the cells.
    """
    values = {}
    for f in fields if fields is not None else template_fields(src):
        values[f.cell] = {
            "metric": rng.randrange(0, 30), "ind_value": round(rng.uniform(0.05, 0.6), 3) if f.unit == "%" else "3.5:1",
            "ind_baseline": 100, "ind_current": 92, "duty_count": 1, "deliv_status": "推进中", "progress": "按计划推进，完成阶段性工作。",
            "problems": "无", "plan": "继续推进。", "evidence": "佐证材料.pdf", "filler": "张伟", "phone": "13900000000",
            "reviewer": "王芳", "fill_date": 45500,
        }.get(f.kind, "")
    with zipfile.ZipFile(src) as zin:
        parts = {info.filename: (info, zin.read(info.filename)) for info in zin.infolist()}
    sst_name = "xl/sharedStrings.xml"
    sst = _known_strings(parts[sst_name][1].decode("utf-8")) if strings == "shared" and sst_name in parts else None
    used = 0
    info, data = parts["xl/worksheets/sheet2.xml"]

    def put(m: re.Match[str]) -> str:
        nonlocal used
        ref, style = m.group(1), m.group(2) or ""
        if ref not in values or values[ref] == "":
            return m.group(0)
        used += not isinstance(values[ref], int | float)
        return _cell_xml(ref, style, values[ref], sst)

    parts["xl/worksheets/sheet2.xml"] = (info, re.sub(r'<c r="([A-Z]+\d+)"( s="\d+")?/>', put, data.decode("utf-8")).encode("utf-8"))
    if sst is not None:
        info, data = parts[sst_name]
        parts[sst_name] = (info, _with_strings(data.decode("utf-8"), sst, used).encode("utf-8"))
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in parts.values():
            zout.writestr(info, data)


def build(root: Path, cities: int, *, seed: int = 7, strings: str = "shared", period_kind: PeriodKind | None = None,
          only: set[str] | None = None, log: Callable[..., object] = print) -> tuple[Path, list[Path]]:
    """A province workspace (nothing ingested) and its filled returns, in arrival order; `period_kind="month"`
    makes a monthly store (12 periods a year instead of 2); `only`: returns for those periods alone."""
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
        if only is not None and period.code not in only:
            continue
        run = make_templates(ws.root, period.code)
        out = root / "returns" / period.code
        out.mkdir(parents=True, exist_ok=True)
        due = dt.datetime.combine(deadline(period, ws.deadline_rule(ledger)), dt.time(9))
        for i, (name, path, meta) in enumerate(run.written):
            dst = out / f"{name}.xlsx"
            fill_fast(path, dst, rng, strings=strings, fields=meta.fields)
            ts = (due - dt.timedelta(minutes=i)).timestamp()
            os.utime(dst, (ts, ts))
            files.append(dst)
        log(f"  corpus {period.code}: {len(run.written)} workbooks")
    return ws.root, files
