from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from ledger_xl.definition import load_definition, load_ledger, save_definition
from ledger_xl.findings import LedgerError, Severity


def _edit(path: Path, sheet: str, cell: str, value: object) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


def _col(path: Path, sheet: str, header: str) -> str:
    wb = openpyxl.load_workbook(path)
    for c in wb[sheet][1]:
        if c.value == header:
            return c.column_letter
    raise AssertionError(header)


def test_round_trip__loading_gives_back_exactly_the_model(seed_ledger, seed_definition):
    result = load_definition(seed_definition)
    assert result.findings == []
    assert result.ledger == seed_ledger


def test_round_trip__twice_is_stable(seed_definition, tmp_path):
    first = load_definition(seed_definition).ledger
    again = tmp_path / "again.xlsx"
    save_definition(first, again)
    assert load_definition(again).ledger == first


def test_clerk_correction_is_honoured(seed_definition):
    # the clerk fixes a yearly figure and a frequency in Excel
    col_2024 = _col(seed_definition, "数量指标", "2024年")
    _edit(seed_definition, "数量指标", f"{col_2024}2", 3)
    col_freq = _col(seed_definition, "任务", "频次")
    _edit(seed_definition, "任务", f"{col_freq}6", "每年")
    ledger = load_definition(seed_definition).ledger
    t = {t.id: t for t in ledger.tasks}
    assert t["9"].metrics[0].yearly[2024] == 3
    assert t["5"].frequency == "year"


def test_wrong_edits_are_reported_by_sheet_and_cell(seed_definition):
    col_lead = _col(seed_definition, "任务", "牵头单位")
    _edit(seed_definition, "任务", f"{col_lead}10", "市交通局")  # task 9: a name not in the bureau sheet
    col_2025 = _col(seed_definition, "数量指标", "2025年")
    _edit(seed_definition, "数量指标", f"{col_2025}3", "约4个")
    result = load_definition(seed_definition)
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    assert {(f.code, f.sheet, f.cell, f.value) for f in errors} == {
        ("def-unknown-bureau", "任务", f"{col_lead}10", "市交通局"),
        ("def-not-number", "数量指标", f"{col_2025}3", "约4个"),
    }
    assert "不在“单位”表中" in next(f for f in errors if f.code == "def-unknown-bureau").render()
    with pytest.raises(LedgerError, match="2 处错误"):
        load_ledger(seed_definition)


def test_plan_checked_against_itself(seed_definition):
    assert not [f for f in load_definition(seed_definition).findings if f.code == "plan-sum"]
    col_2024 = _col(seed_definition, "数量指标", "2024年")
    _edit(seed_definition, "数量指标", f"{col_2024}2", 1)  # task 9: 0+1+3 = 4 < 不少于5个
    (f,) = [f for f in load_definition(seed_definition).findings if f.code == "plan-sum"]
    assert "0+1+3 = 4个" in f.message and "≥5个" in f.message and f.severity is Severity.WARNING


def test_member_flag_controls_all_members(seed_definition):
    col = _col(seed_definition, "单位", "领导小组成员")
    wb = openpyxl.load_workbook(seed_definition)
    row = next(c.row for c in wb["单位"]["A"] if c.value == "市市场监管局")
    _edit(seed_definition, "单位", f"{col}{row}", "否")
    ledger = load_definition(seed_definition).ledger
    task1 = next(t for t in ledger.tasks if t.id == "1")
    assert "市市场监管局" not in ledger.responsible_of(task1)


def test_missing_sheet_is_refused(tmp_path):
    p = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    wb.save(p)
    with pytest.raises(LedgerError, match="不是 ledger-xl 的台账定义表"):
        load_definition(p)


def test_sample_definition_in_repo_matches_the_seed(seed_ledger):
    from conftest import SAMPLE_DEFINITION

    assert load_definition(SAMPLE_DEFINITION).ledger == seed_ledger


def test_load_cache_returns_the_same_model_and_follows_edits(seed_definition, tmp_path):
    cache = tmp_path / "cache"
    first = load_ledger(seed_definition, cache_dir=cache)
    assert len(list(cache.glob("ledger-*.json"))) == 1
    assert load_ledger(seed_definition, cache_dir=cache) == first  # from the cache
    col = _col(seed_definition, "数量指标", "2024年")
    _edit(seed_definition, "数量指标", f"{col}2", 4)
    edited = load_ledger(seed_definition, cache_dir=cache)
    assert next(t for t in edited.tasks if t.id == "9").metrics[0].yearly[2024] == 4
    assert len(list(cache.glob("ledger-*.json"))) == 1
    next(cache.glob("ledger-*.json")).write_text("{broken", encoding="utf-8")
    assert load_ledger(seed_definition, cache_dir=cache) == edited


def test_a_cache_written_by_an_older_model_is_not_read(seed_definition, tmp_path):
    """A model that gained a field (Task.shared) is never read from a cache written without it: the cache's name
    carries its format, so an older version's file is simply not found, and replaced."""
    import dataclasses
    import json

    from ledger_xl.definition import LEDGER_CACHE_FORMAT, _cache_file
    from ledger_xl.model import ledger_to_raw

    cache = tmp_path / "cache"
    cache.mkdir()
    fresh = load_ledger(seed_definition)
    stale = dataclasses.replace(fresh, title="旧缓存")
    older = _cache_file(seed_definition, cache).name.replace(f"ledger-v{LEDGER_CACHE_FORMAT}-", "ledger-")
    (cache / older).write_text(json.dumps(ledger_to_raw(stale), ensure_ascii=False), encoding="utf-8")
    assert load_ledger(seed_definition, cache_dir=cache) == fresh
    assert [p.name for p in cache.glob("ledger-*.json")] == [_cache_file(seed_definition, cache).name]
    assert f"ledger-v{LEDGER_CACHE_FORMAT}-" in _cache_file(seed_definition, cache).name


def test_a_yes_no_column_with_anything_else_is_a_finding_at_its_cell(seed_definition):
    from ledger_xl.definition import S_BUREAUS, S_INDICATORS

    member, baseline = _col(seed_definition, S_BUREAUS, "领导小组成员"), _col(seed_definition, S_INDICATORS, "对照期初")
    _edit(seed_definition, S_BUREAUS, f"{member}2", "可能")
    _edit(seed_definition, S_INDICATORS, f"{baseline}2", "x")
    got = {(f.sheet, f.cell, f.value): f.message for f in load_definition(seed_definition).findings if f.code == "def-choice"}
    assert got == {(S_BUREAUS, f"{member}2", "可能"): "领导小组成员“可能”无法识别。请填“是”或“否”。",
                   (S_INDICATORS, f"{baseline}2", "x"): "对照期初“x”无法识别。请填“是”或“否”。"}


def test_a_process_reads_an_unchanged_definition_once_and_each_caller_gets_its_own_model(seed_definition, tmp_path, monkeypatch):
    import os

    from ledger_xl import definition

    cache = tmp_path / "cache"
    old = seed_definition.stat().st_mtime - 60  # changed a minute ago: not "racy"
    os.utime(seed_definition, (old, old))
    first = load_ledger(seed_definition, cache_dir=cache)
    first.title = "改过的标题"  # a caller changing its model changes nobody else's
    monkeypatch.setattr(definition, "_cache_file", lambda *_: pytest.fail("read again"))
    again = load_ledger(seed_definition, cache_dir=cache)
    assert again.title != first.title
    assert again == load_definition(seed_definition).ledger
    monkeypatch.undo()
    # the clerk edits the definition: the edit is read, not the remembered model
    ledger = load_definition(seed_definition).ledger
    ledger.title = "新标题"
    save_definition(ledger, seed_definition)
    assert load_ledger(seed_definition, cache_dir=cache).title == "新标题"
    os.utime(seed_definition, (old + 1, old + 1))
    assert load_ledger(seed_definition, cache_dir=cache).title == "新标题"
