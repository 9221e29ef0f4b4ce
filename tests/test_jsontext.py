"""The JSON the metadata and the typed entries go through: what the standard module would read and write."""

from __future__ import annotations

import json

import pytest

from ledger_xl import jsontext

VALUES = [
    [["9", "metric", 0, "I16", "n", 3.0], [None, "filler", 0, "C40", "s", "张三\n李四"], ["6", "deliv_date", 0, "I10", "d", "2024-06-30"]],
    {"bureau": "市交通运输局", "fields": [["lx_001", "1", "lead", "progress", 0, "工作进展", "", "J4"]], "version": 2},
    ["控制字符\x07与引号\"和反斜杠\\", 1e-05, 1e16, -0.0, 12345678901234567, True, False, None],
]


@pytest.mark.parametrize("value", VALUES)
def test_json_text_round_trips_as_the_standard_module_reads_it(value):
    text = jsontext.dumps(value)
    assert json.loads(text) == value and jsontext.loads(text) == value
    assert jsontext.loads(json.dumps(value, ensure_ascii=False)) == value


def test_what_orjson_refuses_goes_through_the_standard_module():
    assert jsontext.dumps(["\ud800", 2**70]) == json.dumps(["\ud800", 2**70], ensure_ascii=False, separators=(",", ":"))
    assert jsontext.loads('["\\ud800"]') == ["\ud800"]
    with pytest.raises(ValueError):
        jsontext.loads("{not json")


def test_a_typed_number_that_is_not_finite_is_kept_as_text():
    from ledger_xl.ingest import typed_entry
    from ledger_xl.layout import FieldSpec
    from ledger_xl.xlsxread import Cell

    fs = FieldSpec("lx_001", "9", "lead", "metric", 0, "本期新增（个）", "个", "I16")
    entry = typed_entry(fs, Cell("n", float("nan")))
    assert entry is not None and entry[5] == "nan" and jsontext.dumps(entry).endswith('"nan"]')


def test_bytes_for_another_process_read_back_as_they_were_written():
    """dumps_bytes: what a reading worker sends (lists and tuples of text, numbers and None) comes back equal from
    loads, tuples as lists; what orjson refuses (a lone surrogate) is None, for the caller to send otherwise."""
    rows = [("1", "lead", "metric", 0, 3.25, None, "J4"), (None, None, "filler", 0, None, "张伟\n王芳", "B30")]
    packed = jsontext.dumps_bytes(rows)
    assert isinstance(packed, bytes) and jsontext.loads(packed) == [list(r) for r in rows]
    assert jsontext.dumps_bytes([("\ud800",)]) is None
