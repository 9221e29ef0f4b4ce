from __future__ import annotations

import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from conftest import soffice

from ledger_xl.findings import LedgerError
from ledger_xl.ingest import read_meta
from ledger_xl.layout import META_SHEET, canonical
from ledger_xl.model import Period
from ledger_xl.templates import write_templates
from ledger_xl.xlsxread import read_package, resolve_name, split_ref


def expand_sqref(sqref: str) -> set[str]:
    """Every cell an sqref names ("A1 B2:C3")."""
    from openpyxl.utils import get_column_letter

    out: set[str] = set()
    for part in sqref.split():
        a, _, b = part.partition(":")
        (r1, c1), (r2, c2) = split_ref(a), split_ref(b or a)
        out |= {f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    return out

KEY = b"k" * 32


@pytest.fixture(scope="module")
def run_2024h1(tmp_path_factory):  # type: ignore[no-untyped-def]
    from conftest import SEED_DOCX

    from ledger_xl.wordimport import import_docx

    ledger = import_docx(SEED_DOCX).ledger
    out = tmp_path_factory.mktemp("tpl") / "2024H1"
    return ledger, write_templates(ledger, Period.parse("2024H1"), out, key=KEY, ledger_id="L1", make_zip=True)


def test_one_file_per_bureau_with_exactly_its_tasks_and_roles(run_2024h1):
    ledger, run = run_2024h1
    assert sorted(n for n, _, _ in run.written) == sorted(ledger.bureau_names())  # the office included
    for name, path, _ in run.written:
        assert path.name == f"{name}.xlsx"
        meta = read_meta(read_package(path))
        expected = {(t.id, role) for t, role in ledger.tasks_for(name)}
        got = {(f.task_id, f.role) for f in meta.fields if f.task_id}
        assert got == expected, name
        wb = openpyxl.load_workbook(path)
        ws = wb["填报表"]
        ids_on_sheet = [str(ws.cell(r, 1).value) for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value is not None and str(ws.cell(r, 1).value).isdigit()]
        assert ids_on_sheet == [t.id for t, _ in ledger.tasks_for(name)]


def test_lead_rows_ask_for_numbers_responsible_rows_only_text(run_2024h1):
    ledger, run = run_2024h1
    meta = next(m for n, _, m in run.written if n == "市发展改革委")
    t13 = [(f.kind, f.index, f.unit) for f in meta.fields if f.task_id == "13"]
    assert ("metric", 0, "座") in t13 and ("metric", 1, "个") in t13 and ("ind_value", 0, "ratio") in t13
    responsible = [f.kind for f in meta.fields if f.role == "responsible"]
    assert set(responsible) == {"progress", "problems", "plan", "evidence"}
    office = next(m for n, _, m in run.written if n == "领导小组办公室")
    assert {f.kind for f in office.fields if f.task_id == "2"} >= {"duty_count"}
    jt = next(m for n, _, m in run.written if n == "市交通运输局")
    assert [f.kind for f in jt.fields if f.task_id == "26"][:3] == ["ind_baseline", "ind_current", "ind_value"]
    assert {f.kind for f in jt.fields if f.task_id == "6"} >= {"deliv_status", "deliv_date", "deliv_name", "deliv_no"}
    assert {f.kind for f in jt.fields if f.task_id is None} == {"filler", "phone", "reviewer", "fill_date"}


def test_inputs_unlocked_and_validated_everything_else_locked(run_2024h1):
    _, run = run_2024h1
    for name, path, meta in run.written:
        wb = openpyxl.load_workbook(path)
        ws = wb["填报表"]
        assert ws.protection.sheet, name
        inputs = {f.cell for f in meta.fields}
        validated = set().union(*(expand_sqref(str(dv.sqref)) for dv in ws.data_validations.dataValidation))
        assert inputs <= validated, name
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=13):
            for c in row:
                if c.coordinate in inputs:
                    assert c.protection.locked is False, (name, c.coordinate)
                elif isinstance(c, openpyxl.cell.cell.Cell) and c.value is not None:
                    assert c.protection.locked is not False, (name, c.coordinate)
        # cells not written at all inherit the default style, which is locked
        assert wb[META_SHEET].sheet_state == "veryHidden"


def test_metadata_signed_and_matches_locked_content(run_2024h1):
    _, run = run_2024h1
    for _, path, written in run.written:
        pkg = read_package(path)
        assert pkg.structure_locked
        meta = read_meta(pkg)
        assert meta == written and meta.verify(KEY) and not meta.verify(b"other")
        form = pkg.sheets["填报表"].cells
        for cell, expected in meta.locked:
            assert canonical(form[cell].value) == expected
        for f in meta.fields:
            assert resolve_name(pkg, f.name) == ("填报表", f.cell)


def test_tampering_with_metadata_breaks_the_signature(run_2024h1):
    _, run = run_2024h1
    meta = read_meta(read_package(run.written[0][1]))
    meta.bureau = "市财政局"
    assert not meta.verify(KEY)


def test_zip_bundles_every_template(run_2024h1):
    _, run = run_2024h1
    with zipfile.ZipFile(run.zip_path) as z:
        assert sorted(z.namelist()) == sorted(f"2024H1/{p.name}" for _, p, _ in run.written)


def test_period_outside_programme_or_wrong_kind_is_refused(seed_ledger, tmp_path):
    with pytest.raises(LedgerError, match="不在本台账的年份内"):
        write_templates(seed_ledger, Period.parse("2026H1"), tmp_path, key=KEY, ledger_id="L1")
    with pytest.raises(LedgerError, match="按半年报送"):
        write_templates(seed_ledger, Period.parse("2024Q1"), tmp_path, key=KEY, ledger_id="L1")
    assert list(tmp_path.iterdir()) == []


def test_prior_cumulative_shown_in_locked_column(seed_ledger, tmp_path):
    run = write_templates(seed_ledger, Period.parse("2024H2"), tmp_path, key=KEY, ledger_id="L1",
                          bureaus=["市发展改革委"], prior={("13", 0): 2, ("13", 1): 41})
    meta = run.written[0][2]
    cells = dict(meta.locked)
    metric_cells = [f.cell for f in meta.fields if f.task_id == "13" and f.kind == "metric"]
    assert [cells["G" + c[1:]] for c in metric_cells] == ["2", "41"]


def test_text_from_the_ledger_is_never_a_formula(seed_ledger, tmp_path):
    seed_ledger.tasks[0].item = "=HYPERLINK(\"http://x\",\"y\")"
    run = write_templates(seed_ledger, Period.parse("2024H1"), tmp_path, key=KEY, ledger_id="L1", bureaus=["领导小组办公室"])
    with zipfile.ZipFile(run.written[0][1]) as z:
        sheet = z.read("xl/worksheets/sheet2.xml")
    assert b"<f>" not in sheet


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_and_saves_back_every_template(run_2024h1, tmp_path):
    _, run = run_2024h1
    src = tmp_path / "in"
    src.mkdir()
    for _, p, _ in run.written:
        shutil.copy(p, src / p.name)
    out = tmp_path / "out"
    cmd = [soffice(), f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--norestore",
           "--convert-to", "xlsx:Calc Office Open XML", "--outdir", str(out), *sorted(str(p) for p in src.iterdir())]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    for _, p, _written in run.written:
        pkg = read_package(out / p.name)
        meta = read_meta(pkg)
        assert meta is not None and meta.verify(KEY), p.name
        assert pkg.sheets[META_SHEET].state in ("hidden", "veryHidden")
        form = pkg.sheets["填报表"]
        assert form.protected
        for cell, expected in meta.locked:
            assert canonical(form.cells[cell].value) == expected, (p.name, cell)
        validated = set().union(*(expand_sqref(v["sqref"]) for v in form.validations))
        for f in meta.fields:
            assert resolve_name(pkg, f.name) == ("填报表", f.cell), (p.name, f.name)
            assert f.cell in validated, (p.name, f.cell)
