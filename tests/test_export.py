"""`ledger-xl export`: one tidy row per stored value, CSV that Excel opens with Chinese intact and no
live formula, and an .xlsx with typed cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import complete_values
from test_ingest import fill

from ledger_xl.cli import cli
from ledger_xl.export import COLUMNS, formula_safe
from ledger_xl.pipeline import export_values, ingest

HOSTILE = {("11", "progress", 0): '=HYPERLINK("http://x","点我")', ("11", "problems", 0): "@SUM(A1)",
           ("11", "plan", 0): "+1+2", ("11", "evidence", 0): "-2+3"}


@pytest.fixture
def filled(workspace, templates_2024h1):  # type: ignore[no-untyped-def]
    fill(templates_2024h1, "市商务局", workspace / "inbox", HOSTILE, when=dt.datetime(2024, 7, 5, 9, 30))
    fill(templates_2024h1, "市交通运输局", workspace / "inbox", number=3)
    assert [o.status for o in ingest(workspace).outcomes] == ["merged", "merged"]
    return workspace


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel on a Chinese Windows reads it as UTF-8
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"))))


def test_csv_has_bom_one_row_per_value_and_no_live_formula(filled, templates_2024h1):
    out = filled / "导出.csv"
    path, n = export_values(filled, out, "2024H1")
    rows = read_csv(path)
    assert list(rows[0]) == COLUMNS and len(rows) == n
    expected = sum(1 for b in ("市商务局", "市交通运输局")
                   for v in complete_values(templates_2024h1 / f"{b}.xlsx", HOSTILE if b == "市商务局" else None).values() if v != "")
    assert n == expected
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
    shop = {r["填报项目"]: r for r in rows if r["单位"] == "市商务局" and r["任务序号"] == "11"}
    assert shop["工作进展"]["值"] == "'=HYPERLINK(\"http://x\",\"点我\")"
    assert shop["存在问题"]["值"] == "'@SUM(A1)" and shop["下一步计划"]["值"] == "'+1+2" and shop["佐证材料"]["值"] == "'-2+3"
    first = shop["工作进展"]
    assert first["报送期"] == "2024H1" and first["职责"] == "牵头" and first["工作表"] == "填报表"
    assert first["收到时间"] == "2024-07-05 09:30:00" and first["文件"] == "市商务局_返回.xlsx" and first["单元格"]
    metric = next(r for r in rows if r["单位"] == "市交通运输局" and r["计量单位"] and r["填报项目"].endswith("本期新增"))
    assert metric["值"] == "3"  # as people write it, not 3.0


def test_xlsx_cells_are_typed_and_never_formulas(filled):
    path, n = export_values(filled, filled / "out" / "数据.xlsx", None)
    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(p) for p in z.namelist() if p.startswith("xl/worksheets/"))
    ws = openpyxl.load_workbook(path)["数据"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS and len(rows) == n + 1
    assert ws.freeze_panes == "A2"
    values = [r[COLUMNS.index("值")] for r in rows[1:]]
    assert any(isinstance(v, float | int) and v == 3 for v in values)
    assert '\'=HYPERLINK("http://x","点我")' in values


def test_formula_safe_prefixes_exactly_the_dangerous_starts():
    for text in ("=1", "+1", "-1", "@A", "\tx", "\rx"):
        assert formula_safe(text) == "'" + text
    for text in ("1", "推进中", " =1", "'x", ""):
        assert formula_safe(text) == text


def test_cli_export_needs_one_of_period_or_all_and_a_known_suffix(filled):
    run = CliRunner().invoke
    r = run(cli, ["export", "-w", str(filled), "-o", str(filled / "x.csv")])
    assert r.exit_code == 2 and "--period" in r.output and "--all" in r.output
    r = run(cli, ["export", "-w", str(filled), "--all", "-o", str(filled / "x.txt")])
    assert r.exit_code == 2 and ".xlsx 或 .csv" in r.output and not (filled / "x.txt").exists()
    r = run(cli, ["export", "-w", str(filled), "--all", "-o", str(filled / "x.csv")])
    assert r.exit_code == 0 and "已导出" in r.output
    assert len(read_csv(filled / "x.csv")) > 0
    r = run(cli, ["export", "-w", str(filled), "--period", "2024H2", "-o", str(filled / "empty.csv")])
    assert r.exit_code == 0 and read_csv(filled / "empty.csv") == []
