"""Hostile and broken inputs: the generated corpus, properties of the readers and normalisers, and what
ledger-xl writes (no formulas from bureau text, no header injection, no way to skip TLS verification).
"""

from __future__ import annotations

import contextlib
import sqlite3
import ssl
import zipfile

import pytest
from bad_inputs import build
from conftest import complete_values, fields_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_xl.fill import fill_template
from ledger_xl.findings import LedgerError, Severity
from ledger_xl.ingest import read_many, sha256_of
from ledger_xl.pipeline import ingest
from ledger_xl.store import Store
from ledger_xl.xlsxread import XlsxError, read_package


@pytest.fixture
def corpus(workspace, templates_2024h1, tmp_path, seed_definition):  # type: ignore[no-untyped-def]
    from ledger_xl.pipeline import make_templates
    from ledger_xl.workspace import init_workspace

    src = templates_2024h1 / "市交通运输局.xlsx"
    good = fill_template(src, tmp_path / "good.xlsx", complete_values(src))
    from ledger_xl.definition import load_ledger, save_definition

    renamed = load_ledger(seed_definition)
    renamed.title = "另一个市重点任务台账"
    save_definition(renamed, tmp_path / "other_ledger.xlsx")
    signed = {}
    for name, definition in (("other", tmp_path / "other_ledger.xlsx"), ("same_title", seed_definition)):
        init_workspace(tmp_path / name, definition)  # same_title: the same ledger, init run again elsewhere
        make_templates(tmp_path / name, "2024H1", bureaus=["市商务局"])
        osrc = tmp_path / name / "outputs" / "templates" / "2024H1" / "市商务局.xlsx"
        signed[name] = fill_template(osrc, tmp_path / f"{name}.xlsx", complete_values(osrc))
    fields = {(f.task_id, f.kind, f.index): f.cell for f in fields_of(src)}
    return build(good, fields, tmp_path / "bad_inputs", signed["other"], signed["same_title"])


def test_every_bad_input_gets_its_own_refusal_and_nothing_half_merges(workspace, corpus):
    report = ingest(workspace, [p for p, _ in corpus])
    got = {o.path.name: o for o in report.outcomes}
    assert len(got) == len(corpus)
    for path, case in corpus:
        o = got[path.name]
        assert o.status == case.status, (case.name, o.status, [f.render() for f in o.findings], o.note)
        if case.status == "refused":
            errors = [f for f in o.findings if f.severity is Severity.ERROR]
            assert case.code in [f.code for f in errors], (case.name, [f.code for f in errors])
            msg = next(f for f in errors if f.code == case.code).render()
            assert case.words in msg and path.name in msg, (case.name, msg)
            assert "Traceback" not in msg
        elif case.status == "skipped":
            assert case.words in o.note
        else:
            assert case.code in [f.code for f in o.findings], case.name
    with Store(workspace / "ledger.sqlite") as store:
        merged = {s.file_name for s in store.submissions() if s.outcome == "merged"}
        assert merged == {c.name for _, c in corpus if c.status == "merged"}
        values = store.current_values()
        assert {v.file_name for v in values} <= merged  # no value of a refused file ever lands
        ctrl = [v for v in values if v.kind == "progress" and v.text and v.text.startswith("进展")]
        assert ctrl and ctrl[0].text == "进展顺利"  # control characters removed, the words kept
    db = sqlite3.connect(workspace / "ledger.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    archived = {p.stem for p in (workspace / "archive").iterdir()}
    assert {sha256_of(p) for p, c in corpus if c.status != "skipped"} <= archived


def test_openpyxl_runs_with_defusedxml():
    import openpyxl

    assert openpyxl.DEFUSEDXML is True


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000))
def test_reader_on_arbitrary_bytes_only_ever_refuses(tmp_path, data):
    p = tmp_path / "x.xlsx"
    p.write_bytes(data)
    with contextlib.suppress(XlsxError):
        read_package(p)


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):  # type: ignore[no-untyped-def]
    from conftest import SAMPLE_DEFINITION

    from ledger_xl.definition import load_ledger
    from ledger_xl.model import Period
    from ledger_xl.templates import write_templates

    ledger = load_ledger(SAMPLE_DEFINITION)
    d = tmp_path_factory.mktemp("good")
    run = write_templates(ledger, Period.parse("2024H1"), d, key=b"k" * 32, ledger_id="L", bureaus=["市商务局"])
    src = run.written[0][1]
    return fill_template(src, d / "filled.xlsx", complete_values(src)).read_bytes(), ledger


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_returns_never_crash_ingest_reading(tmp_path, good_bytes, data):
    raw, ledger = good_bytes
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        buf = buf[: data.draw(st.integers(0, len(buf)))]
    p = tmp_path / "damaged.xlsx"
    p.write_bytes(bytes(buf))
    ((path, read),) = list(read_many([(p, sha256_of(p))], key=b"k" * 32, ledger_id="L", ledger=ledger, workers=1))
    assert path == p
    if not read.ok:
        assert any(f.severity is Severity.ERROR for f in read.findings)


@given(st.text(max_size=30))
def test_percent_and_ratio_normalisers_only_raise_number_error(text):
    from ledger_xl.targets import NumberError, parse_percent, parse_ratio

    for fn in (parse_percent, parse_ratio):
        with contextlib.suppress(NumberError):
            fn(text)


@given(st.lists(st.sampled_from(["公安局", "交通运输局", "市场监管局", "城市管理局", "商务局", "财政局"]), min_size=1, max_size=6, unique=True))
def test_bureau_lists_all_get_the_prefix_once(names):
    from ledger_xl.bureaus import split_bureaus

    out = split_bureaus("市" + "、".join(names))
    assert out == ["市" + n for n in names]
    assert split_bureaus("、".join(out)) == out  # normalising twice changes nothing


@given(st.integers(2000, 2100), st.sampled_from(["H1", "H2", "Q1", "Q2", "Q3", "Q4", ""]))
def test_period_codes_round_trip(year, part):
    from ledger_xl.model import Period

    p = Period.parse(f"{year}{part}")
    assert Period.parse(p.code) == p and Period.parse(p.label) == p


def test_bureau_text_that_looks_like_a_formula_stays_text_in_the_report(workspace, templates_2024h1, tmp_path):
    from ledger_xl.pipeline import make_report

    src = templates_2024h1 / "市商务局.xlsx"
    evil = {("11", "problems", 0): "=cmd|' /C calc'!A0", ("11", "plan", 0): "@SUM(1+1)*cmd|' /C calc'!A0"}
    fill_template(src, workspace / "inbox" / "商务局.xlsx", complete_values(src, evil))
    assert ingest(workspace).outcomes[0].status == "merged"
    path, _ = make_report(workspace, "2024H1", tmp_path / "r.docx")
    with zipfile.ZipFile(path) as z:
        body = z.read("word/document.xml").decode()
    assert "=cmd|&apos; /C calc&apos;!A0" in body or "=cmd|' /C calc'!A0" in body
    assert "<w:instrText" not in body and "fldSimple" not in body and "DDE" not in body


def test_mail_headers_cannot_be_injected_through_names_or_subjects(tmp_path):
    import email
    from email import policy

    from ledger_xl.mail import Outgoing, address, build_message, wire_bytes

    to = [address("市交通运输局\r\nBcc: thief@evil.example", "jt@example.com", who="x"),
          address("张三, 李四", "zs@example.com", who="y")]
    out = Outgoing("templates", "2024H1", "市交通运输局", to, "通知\r\nBcc: thief@evil.example", "正文")
    raw = wire_bytes(build_message(out, address("办公室", "office@example.com", who="z")))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert "Bcc" not in msg and b"\nBcc:" not in raw
    assert sorted(a.addr_spec for a in msg["To"].addresses) == ["jt@example.com", "zs@example.com"]
    assert msg["Subject"] == "通知 Bcc: thief@evil.example"  # one line, inert
    with pytest.raises(LedgerError):
        address("x", "a@b.com\r\nBcc: c@d.com", who="x")


def test_tls_verification_cannot_be_turned_off(tmp_path):
    from ledger_xl.mail import SmtpSettings, connect, tls_context

    ctx = tls_context("")
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    for security in ("none", "plain", "tls-noverify", ""):
        s = SmtpSettings("127.0.0.1", 1, security, "", "a@example.com", "")
        with pytest.raises(LedgerError):
            connect(s, None, timeout=1)
    with pytest.raises(LedgerError, match="CA 证书文件"):
        tls_context(str(tmp_path / "missing.pem"))


def test_a_reader_that_dies_refuses_only_its_file(workspace, templates_2024h1, monkeypatch, tmp_path):
    """A native reader aborting its process (simulated) costs one file, not the ingest."""
    import os

    import ledger_xl.ingest as ing

    files = []
    for i, b in enumerate(["市商务局", "市财政局", "市公安局"]):
        src = templates_2024h1 / f"{b}.xlsx"
        files.append(fill_template(src, tmp_path / f"{i}_{b}.xlsx", complete_values(src)))
    real = ing.read_return

    def dying(path, **kw):  # type: ignore[no-untyped-def]
        if "市财政局" in path.name:
            os.abort()
        return real(path, **kw)

    monkeypatch.setattr(ing, "read_return", dying)
    report = ingest(workspace, files)
    got = {o.path.name: o for o in report.outcomes}
    assert got["1_市财政局.xlsx"].status == "refused"
    assert got["1_市财政局.xlsx"].findings[0].code == "reader-crash"
    assert got["0_市商务局.xlsx"].status == "merged" and got["2_市公安局.xlsx"].status == "merged"
