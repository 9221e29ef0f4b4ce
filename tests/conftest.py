from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED_DOCX = REPO / "samples" / "nanyang_key_task_ledger.docx"
SAMPLE_DEFINITION = REPO / "workbook_templates" / "nanyang" / "ledger.xlsx"


def make_docx(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    header_rows: int = 1,
    merges: Sequence[tuple[int, int, int, int]] = (),
    title: str | None = "测试市重点任务台账",
    repeat_header: bool = False,
    before_tables: Sequence[Sequence[Sequence[str]]] = (),
) -> Path:
    """A Word ledger written by python-docx: rows of cell texts, then merges (r1, c1, r2, c2) applied.

    Merged cells keep the text of their first cell, as Word does when a person merges them.
    """
    import docx

    d = docx.Document()
    if title:
        d.add_paragraph(title)
    for extra in before_tables:
        t = d.add_table(rows=len(extra), cols=len(extra[0]))
        for r, row in enumerate(extra):
            for c, v in enumerate(row):
                t.cell(r, c).text = v
    ncols = max(len(r) for r in rows)
    t = d.add_table(rows=len(rows), cols=ncols)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    for r1, c1, r2, c2 in merges:
        keep = t.cell(r1, c1).text
        merged = t.cell(r1, c1).merge(t.cell(r2, c2))
        merged.text = keep
    if repeat_header:
        from docx.oxml import OxmlElement

        for r in range(header_rows):
            trPr = t.rows[r]._tr.get_or_add_trPr()
            trPr.append(OxmlElement("w:tblHeader"))
    d.save(str(path))
    return path


@pytest.fixture
def seed_docx() -> Path:
    """The seed ledger shipped in samples/; a clone without it is broken, so the test fails (never skips)."""
    assert SEED_DOCX.is_file(), f"{SEED_DOCX} is missing from the repository"
    return SEED_DOCX


@pytest.fixture
def seed_ledger(seed_docx: Path):  # type: ignore[no-untyped-def]
    from ledger_xl.wordimport import import_docx

    return import_docx(seed_docx).ledger


@pytest.fixture
def seed_definition(tmp_path: Path, seed_ledger) -> Path:  # type: ignore[no-untyped-def]
    from ledger_xl.definition import save_definition

    p = tmp_path / "ledger.xlsx"
    save_definition(seed_ledger, p)
    return p


@pytest.fixture
def workspace(tmp_path: Path, seed_definition: Path) -> Path:
    from ledger_xl.workspace import init_workspace

    ws = tmp_path / "ws"
    init_workspace(ws, seed_definition)
    return ws


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def uno_python() -> str | None:
    """A Python that can `import uno`: LibreOffice's own (bundled builds), this one, or the system's (Debian)."""
    candidates = [os.environ.get("LEDGER_XL_UNO_PYTHON")]
    office = soffice()
    if office:
        program = Path(os.path.realpath(office)).parent
        candidates += [str(program / "python"), str(program / "python.bin")]
    candidates += [sys.executable, "/usr/bin/python3", shutil.which("python3")]
    for exe in dict.fromkeys(c for c in candidates if c):
        if not os.access(exe, os.X_OK):
            continue
        try:
            ok = subprocess.run([exe, "-c", "import uno"], capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return exe
    return None


def fields_of(path: Path):  # type: ignore[no-untyped-def]
    from ledger_xl.testing.fill import template_fields

    return template_fields(path)


def complete_values(path: Path, overrides: dict | None = None, *, number: object = 1) -> dict:  # type: ignore[type-arg]
    """A plausible, complete filling of every field of a template (overrides win)."""
    vals: dict = {}  # type: ignore[type-arg]
    for f in fields_of(path):
        key = (f.task_id, f.kind, f.index)
        vals[key] = {
            "metric": number, "ind_value": 0.18 if f.unit == "%" else "3.5:1", "ind_baseline": 100, "ind_current": 90,
            "duty_count": 1, "deliv_status": "推进中", "deliv_date": None, "deliv_name": None, "deliv_no": None,
            "progress": f"第{f.task_id}项进展", "problems": "无", "plan": f"第{f.task_id}项下一步", "evidence": "材料.pdf",
            "filler": "张三", "phone": "0377-12345678", "reviewer": "李四", "fill_date": "2024-07-05",
        }[f.kind]
    vals.update(overrides or {})
    return {k: v for k, v in vals.items() if v is not None}


@pytest.fixture
def templates_2024h1(workspace: Path) -> Path:
    from ledger_xl.pipeline import make_templates

    make_templates(workspace, "2024H1")
    return workspace / "outputs" / "templates" / "2024H1"


@pytest.fixture(scope="session")
def programme(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Six half-years of generated returns ingested into a workspace: (workspace, SampleRun, ledger)."""
    from ledger_xl.definition import load_ledger
    from ledger_xl.testing.samples import generate

    root = tmp_path_factory.mktemp("programme")
    run = generate(SAMPLE_DEFINITION, root / "samples", work=root / "ws", log=lambda *_: None)
    return root / "ws", run, load_ledger(SAMPLE_DEFINITION)
