from __future__ import annotations

import json

from click.testing import CliRunner

from ledger_xl.cli import cli


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_import_then_show_json(tmp_path, seed_docx):
    out = tmp_path / "def.xlsx"
    r = run("import-ledger", str(seed_docx), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "29 项任务" in r.output and "14 个单位" in r.output
    r = run("ledger", "show", "--ledger", str(out), "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert set(data) >= {"title", "years", "bureaus", "tasks"}
    t13 = next(t for t in data["tasks"] if t["id"] == "13")
    assert [m["name"] for m in t13["metrics"]] == ["充电站", "充电桩"]
    assert t13["metrics"][1] == {"name": "充电桩", "unit": "个", "yearly": {"2023": 30, "2024": 85, "2025": 85}, "target": {"op": "==", "value": 200}, "accumulation": "additions"}
    assert t13["indicators"][0]["unit"] == "ratio"
    t1 = next(t for t in data["tasks"] if t["id"] == "1")
    assert t1["frequency"] == "year" and len(t1["responsible"]) == 13 and "各成员单位" not in t1["responsible"]
    assert {"name", "member"} <= set(data["bureaus"][0])


def test_show_table_and_workspace(tmp_path, seed_definition):
    r = run("init", str(tmp_path / "w"), "--ledger", str(seed_definition))
    assert r.exit_code == 0
    for sub in ("inbox", "archive", "outputs", "ledger.xlsx", "ledger-xl.toml", "ledger.sqlite"):
        assert (tmp_path / "w" / sub).exists(), sub
    r = run("ledger", "show", "-w", str(tmp_path / "w"))
    assert r.exit_code == 0 and "充电站：1/2/3座（总 6座）" in r.output
    r = run("init", str(tmp_path / "w"), "--ledger", str(seed_definition))
    assert r.exit_code == 2 and "已经是工作目录" in r.output


def test_bad_inputs_exit_2_with_one_chinese_message(tmp_path):
    cases = {"a.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "b.docx": b"PK\x03\x04garbage", "c.docx": b"hello"}
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        r = run("import-ledger", str(p), "-o", str(tmp_path / "o.xlsx"))
        assert r.exit_code == 2, name
        assert r.output.startswith("错误：") and name in r.output and "Traceback" not in r.output
        assert not (tmp_path / "o.xlsx").exists()
    r = run("import-ledger", str(tmp_path / "none.docx"), "-o", str(tmp_path / "o.xlsx"))
    assert r.exit_code == 2 and "找不到文件" in r.output


def test_workspace_required(tmp_path):
    r = run("ledger", "show", "-w", str(tmp_path))
    assert r.exit_code == 2 and "不是 ledger-xl 工作目录" in r.output
