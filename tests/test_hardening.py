"""Hostile and broken inputs: the generated corpus, properties of the readers and normalisers, and what
ledger-xl writes (no formulas from bureau text, no header injection, no way to skip TLS verification).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
import ssl
import zipfile
from pathlib import Path

import pytest
from bad_inputs import build
from click.testing import CliRunner
from conftest import complete_values, fields_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_xl.cli import cli
from ledger_xl.findings import LedgerError, Severity
from ledger_xl.ingest import read_many, sha256_of
from ledger_xl.pipeline import ingest
from ledger_xl.store import Store
from ledger_xl.testing.fill import fill_template
from ledger_xl.xlsxread import XlsxError, read_package

REPO_DOCX = Path(__file__).resolve().parents[1] / "samples" / "nanyang_key_task_ledger.docx"


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
        history = [v for v, _ in store.history_values("progress")]
        for file in ("控制字符.xlsx", "双向与零宽字符.xlsx"):  # control, bidi and zero-width characters removed, the words kept
            hidden = [v for v in history if v.file_name == file and v.text and v.text.startswith("进展")]
            assert hidden and hidden[0].text == "进展顺利", file
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
    ((path, read),) = list(read_many([p], key=b"k" * 32, ledger_id="L", ledger=ledger, workers=1))
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
    import docx

    from ledger_xl.pipeline import make_report

    src = templates_2024h1 / "市商务局.xlsx"
    evil = {("11", "problems", 0): "=cmd|' /C calc'!A0", ("11", "plan", 0): "@SUM(1+1)*cmd|' /C calc'!A0"}
    fill_template(src, workspace / "inbox" / "商务局.xlsx", complete_values(src, evil))
    assert ingest(workspace).outcomes[0].status == "merged"
    path, _ = make_report(workspace, "2024H1", tmp_path / "r.docx")
    with zipfile.ZipFile(path) as z:
        body = z.read("word/document.xml").decode()
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)  # figures and Latin words are runs of their own
    assert "=cmd|' /C calc'!A0" in text
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


@pytest.mark.parametrize("case", ["doctype_utf16_theme", "doctype_docprops", "macro", "lying_size"])
def test_clerk_side_files_get_the_same_zip_and_xml_checks(tmp_path, case):
    """The definition workbook and the Word ledger go through the same part-by-part inflation and checks as
    returns: DOCTYPE in any part and encoding, macros, sizes that lie."""
    from bad_inputs import _lying_sizes, _rewrite
    from conftest import SAMPLE_DEFINITION

    from ledger_xl.definition import load_definition
    from ledger_xl.wordimport import import_docx

    doctype = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><a/>'
    for src, load in ((SAMPLE_DEFINITION, load_definition), (REPO_DOCX, import_docx)):
        bad = tmp_path / f"{case}{src.suffix}"
        theme = "xl/theme/theme1.xml" if src.suffix == ".xlsx" else "word/theme/theme1.xml"
        if case == "doctype_utf16_theme":
            _rewrite(src, bad, lambda n, d, t=theme: b"\xff\xfe" + doctype.encode("utf-16-le") if n == t else d)
            words = "DOCTYPE"
        elif case == "doctype_docprops":
            _rewrite(src, bad, lambda n, d: d.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
                     if n == "docProps/app.xml" else d)
            words = "DOCTYPE"
        elif case == "macro":
            _rewrite(src, bad, lambda n, d: d, extra={f"{theme.split('/')[0]}/vbaProject.bin": b"\0" * 64})
            # told to save it as the kind of file it is, and to hand it in again (not "报送": the clerk's own file)
            saved_as = "“Word 文档（*.docx）”" if src.suffix == ".docx" else "“Excel 工作簿（*.xlsx）”"
            words = re.escape("含有宏（VBA 宏）") + ".*" + re.escape(f"不含宏的{saved_as}，再提供。")
        else:
            part = "xl/workbook.xml" if src.suffix == ".xlsx" else "word/document.xml"
            _lying_sizes(src, bad, part, padding=4 << 20)
            words = "大小与实际内容不符"
        with pytest.raises(LedgerError, match=words):
            load(bad)


def test_nothing_in_the_inbox_is_skipped_without_a_word_and_no_link_is_followed(workspace, templates_2024h1, tmp_path):
    """Hidden names, a real return named ..\\..\\x.xlsx, links (to a secret file, to a return, to a folder), a FIFO:
    each reported with its reason and counted; nothing behind a link is read or archived."""
    inbox = workspace / "inbox"
    src = templates_2024h1 / "市商务局.xlsx"
    good = fill_template(src, tmp_path / "good.xlsx", complete_values(src))
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$secret")
    (inbox / ".隐藏.xlsx").write_bytes(good.read_bytes())
    (inbox / "..\\..\\x.xlsx").write_bytes(good.read_bytes())
    os.symlink(secret, inbox / "shadow.xlsx")
    os.symlink(good, inbox / "链接到报表.xlsx")
    os.symlink(tmp_path, inbox / "链接到文件夹")
    os.mkfifo(inbox / "管道.xlsx")
    os.symlink(secret, tmp_path / "命令行链接.xlsx")
    r = CliRunner().invoke(cli, ["ingest", "-w", str(workspace), str(inbox), str(tmp_path / "命令行链接.xlsx")],
                           catch_exceptions=False)
    out = r.output
    for name, why in ((".隐藏.xlsx", "隐藏文件"), ("..\\..\\x.xlsx", "文件名不安全"), ("shadow.xlsx", "链接"),
                      ("链接到报表.xlsx", "链接"), ("链接到文件夹", "链接"), ("管道.xlsx", "不是普通文件"), ("命令行链接.xlsx", "链接")):
        assert f"[跳过] {name} {why}" in out, (name, out)
    assert "共 7 个文件：已汇入 0，拒收 0，重复 0，跳过 7。" in out, out
    archived = [p for p in (workspace / "archive").iterdir() if not p.name.startswith(".")]
    assert archived == []
    assert b"secret" not in b"".join(p.read_bytes() for p in (workspace / "archive").iterdir())


def test_a_link_swapped_in_after_scanning_is_not_followed(tmp_path):
    from ledger_xl.fsutil import NotARegularFile, read_regular

    target = tmp_path / "secret"
    target.write_bytes(b"secret")
    os.symlink(target, tmp_path / "r.xlsx")
    with pytest.raises(OSError) as e:
        read_regular(tmp_path / "r.xlsx")
    assert e.value.errno == errno.ELOOP
    with pytest.raises(OSError) as e:
        sha256_of(tmp_path / "r.xlsx")
    os.mkfifo(tmp_path / "p.xlsx")
    with pytest.raises(NotARegularFile):
        read_regular(tmp_path / "p.xlsx")


def test_file_names_are_printed_escaped(workspace, templates_2024h1):
    """An escape sequence or a carriage return in a file name can neither retitle the terminal nor overwrite a line."""
    src = templates_2024h1 / "市商务局.xlsx"
    name = "商务局\x1b]0;owned\x07\r[已汇入] 假的\u202e.xlsx"
    fill_template(src, workspace / "inbox" / name, complete_values(src))
    r = CliRunner().invoke(cli, ["ingest", "-w", str(workspace)], catch_exceptions=False)
    assert "\x1b" not in r.output and "\r" not in r.output and "\x07" not in r.output and "\u202e" not in r.output
    assert "商务局\\x1b]0;owned\\x07\\x0d[已汇入] 假的\\u202e.xlsx" in r.output
    with Store(workspace / "ledger.sqlite") as store:
        assert "\x1b" not in store.submissions()[0].file_name


def _cli(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _one_plain_line(r) -> None:  # type: ignore[no-untyped-def]
    assert "内部错误" not in r.output and "数据未受影响" not in r.output and "Traceback" not in r.output, r.output


def test_merged_but_master_ledger_not_replaced_says_so_and_exits_1(workspace, templates_2024h1):
    """A real obstacle (a folder where master_ledger.xlsx should be): the merge is reported, exit 1, no .tmp left."""
    src = templates_2024h1 / "市商务局.xlsx"
    fill_template(src, workspace / "inbox" / "商务局.xlsx", complete_values(src))
    (workspace / "outputs" / "master_ledger.xlsx").mkdir(parents=True)
    r = _cli("ingest", "-w", str(workspace))
    assert r.exit_code == 1, r.output
    _one_plain_line(r)
    assert "[已汇入] 商务局.xlsx" in r.output and "已汇入 1" in r.output
    assert "总台账 master_ledger.xlsx 未能更新" in r.output and "文件夹" in r.output and "已汇入的数据已保存在数据库中" in r.output
    assert not [p for p in (workspace / "outputs").iterdir() if p.name.endswith(".tmp")]
    with Store(workspace / "ledger.sqlite") as store:
        assert store.current_values()


def test_wrong_kinds_of_path_get_one_plain_line(workspace, tmp_path):
    (workspace / "archive").rmdir()
    (workspace / "archive").write_bytes(b"not a folder")
    r = _cli("ingest", "-w", str(workspace))
    assert r.exit_code == 2 and "archive 应是文件夹" in r.output, r.output
    _one_plain_line(r)
    (tmp_path / "out").mkdir()
    for args in (["report", "--period", "2024H1", "-o", str(tmp_path / "out")], ["backup", "-o", str(tmp_path / "out")]):
        r = _cli(*args, "-w", str(workspace))
        assert r.exit_code == 2, (args, r.output)
        _one_plain_line(r)
        assert len([x for x in r.output.strip().splitlines() if x.strip()]) <= 3, r.output


def test_a_store_damaged_inside_is_refused_in_plain_words(workspace, templates_2024h1):
    src = templates_2024h1 / "市商务局.xlsx"
    fill_template(src, workspace / "inbox" / "商务局.xlsx", complete_values(src))
    ingest(workspace)
    db = workspace / "ledger.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    raw = bytearray(db.read_bytes())
    page = 4096
    for k in range(page * 2, len(raw), page):  # every page but the first two: tables and indexes garbled
        raw[k + 8 : k + 200] = b"\xa5" * 192
    db.write_bytes(bytes(raw))
    for args in (["status", "--period", "2024H1"], ["check", "--period", "2024H1"], ["ingest"]):
        r = _cli(*args, "-w", str(workspace))
        assert r.exit_code == 2, (args, r.output)
        _one_plain_line(r)
        assert "已损坏" in r.output and "ledger-xl restore" in r.output, (args, r.output)


@pytest.fixture
def small_disk(tmp_path):  # type: ignore[no-untyped-def]
    """A real file system of its own (tmpfs), to fill up or make read-only; needs root to mount."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_said_in_one_line_and_the_next_run_finishes(small_disk, seed_definition, tmp_path):
    from ledger_xl.pipeline import make_templates
    from ledger_xl.workspace import init_workspace

    ws = small_disk / "ws"
    init_workspace(ws, seed_definition)
    make_templates(ws, "2024H1", bureaus=["市商务局"])
    src = ws / "outputs" / "templates" / "2024H1" / "市商务局.xlsx"
    ret = fill_template(src, tmp_path / "商务局.xlsx", complete_values(src))
    filler = small_disk / "filler"
    with open(filler, "wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    r = _cli("ingest", "-w", str(ws), str(ret))
    assert r.exit_code == 2, r.output
    _one_plain_line(r)
    assert "磁盘已满" in r.output, r.output
    filler.unlink()
    r = _cli("ingest", "-w", str(ws), str(ret))
    assert r.exit_code == 0 and "已汇入 1" in r.output, r.output
    assert sqlite3.connect(ws / "ledger.sqlite").execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_read_only_workspace_can_be_looked_at_and_refuses_writes_in_one_line(small_disk, seed_definition, tmp_path):
    import subprocess

    from ledger_xl.pipeline import make_templates
    from ledger_xl.workspace import init_workspace

    ws = small_disk / "ws"
    init_workspace(ws, seed_definition)
    make_templates(ws, "2024H1", bureaus=["市商务局"])
    src = ws / "outputs" / "templates" / "2024H1" / "市商务局.xlsx"
    fill_template(src, ws / "inbox" / "商务局.xlsx", complete_values(src))
    assert _cli("ingest", "-w", str(ws)).exit_code == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    r = _cli("status", "--period", "2024H1", "-w", str(ws))
    assert r.exit_code == 0 and "市商务局" in r.output, r.output
    for args in (["ingest"], ["check", "--period", "2024H1"], ["templates", "--period", "2024H1"]):
        r = _cli(*args, "-w", str(ws))
        assert r.exit_code == 2, (args, r.output)
        _one_plain_line(r)
        assert "只读" in r.output, (args, r.output)


def test_text_over_the_cell_limit_is_kept_whole_and_cut_visibly(workspace, templates_2024h1):
    import openpyxl

    src = templates_2024h1 / "市商务局.xlsx"
    long_text = "很长的进展" * 8000  # 40,000 characters: more than one Excel cell holds
    fields = {(f.task_id, f.kind, f.index): f for f in fields_of(src)}
    key = next(k for k in fields if k[1] == "progress")
    from bad_inputs import _set_cell_xml

    filled = fill_template(src, workspace / "商务局.xlsx", complete_values(src))  # openpyxl itself cuts at 32,767
    cell = fields[key].cell
    _set_cell_xml(filled, workspace / "inbox" / "商务局.xlsx", cell, f'<c r="{cell}" t="inlineStr"><is><t>{long_text}</t></is></c>')
    assert ingest(workspace).outcomes[0].status == "merged"
    with Store(workspace / "ledger.sqlite") as store:
        assert long_text in [v.text for v in store.current_values()]
    wb = openpyxl.load_workbook(workspace / "outputs" / "master_ledger.xlsx")
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    cut = [v for v in cells if "很长的进展很长的进展" in v]
    assert cut and all(len(v) <= 32767 for v in cut)
    assert all("超出 Excel 单元格上限" in v and "全文见原件" in v for v in cut), [v[-80:] for v in cut]


@pytest.mark.parametrize("sheet,header", [("任务", "2024年工作分解"), ("数量指标", "2024年"), ("比例指标", "2024年阈值")])
def test_a_missing_year_column_is_refused_on_every_definition_sheet(tmp_path, sheet, header):
    """Removing a year's column never silently makes that year's plan 0 (or its threshold the default)."""
    import openpyxl
    from conftest import SAMPLE_DEFINITION

    from ledger_xl.definition import load_definition

    wb = openpyxl.load_workbook(SAMPLE_DEFINITION)
    ws = wb[sheet]
    col = next((c.column for c in ws[1] if c.value == header), None)
    if col is None:  # the sample has no per-year thresholds: add the 年阈值 columns, then remove one
        for y in ("2023年阈值", "2024年阈值", "2025年阈值"):
            ws.cell(1, ws.max_column + 1, y)
        col = next(c.column for c in ws[1] if c.value == header)
    ws.delete_cols(col)
    bad = tmp_path / "ledger.xlsx"
    wb.save(bad)
    found = [f for f in load_definition(bad).findings if f.severity is Severity.ERROR]
    assert any(f.code == "def-missing-column" and header in f.message and f.sheet == sheet for f in found), [f.render() for f in found]


def test_addresses_separated_by_semicolons_work_and_each_is_checked_once_at_load_in_chinese(tmp_path, workspace):
    import openpyxl
    from conftest import SAMPLE_DEFINITION

    from ledger_xl.definition import load_definition
    from ledger_xl.mail import bureau_addresses

    wb = openpyxl.load_workbook(SAMPLE_DEFINITION)
    ws = wb["单位"]
    col = next(c.column for c in ws[1] if c.value == "电子邮箱")
    cells = {"a@x.cn;b@x.cn": None, "c@x.cn； d@x.gov.cn，e@x.cn": None, "张三@例子.cn": "中文", "f＠x.cn": "全角",
             "g@x": "域名", "h@@x.cn": "@ 前面", "i@x.cn;j@": "缺少 @"}
    for r, text in enumerate(cells, start=2):
        ws.cell(r, col, text)
    bad = tmp_path / "ledger.xlsx"
    wb.save(bad)
    result = load_definition(bad)
    found = {f.value: f for f in result.findings if f.code == "def-email"}
    for text, why in cells.items():
        if why is None:
            assert text not in found, found[text].render()
            b = next(b for b in result.ledger.bureaus if b.email == text)
            assert len(bureau_addresses(b.name, b.contact, b.email)) == len(text.replace("；", ";").replace("，", ";").split(";"))
        else:
            assert text in found and why in found[text].message, (text, [f.render() for f in found.values()])
            assert found[text].message.isascii() is False


@given(st.text(alphabet=st.sampled_from(list("ab.-_@+x1中＠ ;")), max_size=20))
def test_an_address_the_definition_accepts_is_never_refused_when_mailing(text):
    from ledger_xl.addresses import address_problem, split_addresses
    from ledger_xl.mail import address

    for addr in split_addresses(text):
        if address_problem(addr) is None:
            assert address("单位", addr, who="单位").addr_spec == addr
        else:
            with pytest.raises(LedgerError):
                address("单位", addr, who="单位")


def test_a_templates_run_clears_what_a_killed_one_left(workspace):
    """A run killed while locking a template leaves .tmp files in the folder that gets mailed; the next run
    (even for another bureau only) clears them."""
    import subprocess
    import sys

    script = (
        "import os, signal, sys\n"
        "from ledger_xl import templates\n"
        "real = templates._lock_structure\n"
        "def lock(path, *rest):\n"
        "    real(path, *rest)\n"
        "    open(str(path) + '.lock.tmp', 'wb').write(b'half')  # as if killed inside the next one\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "templates._lock_structure = lock\n"
        "from ledger_xl.pipeline import make_templates\n"
        "make_templates(sys.argv[1], '2024H1')\n")
    r = subprocess.run([sys.executable, "-c", script, str(workspace)], capture_output=True, timeout=120)
    assert r.returncode == -9, r.stderr
    folder = workspace / "outputs" / "templates" / "2024H1"
    assert [p for p in folder.iterdir() if p.name.endswith(".tmp")]  # the killed run left them
    r2 = _cli("templates", "--period", "2024H1", "--bureau", "市财政局", "-w", str(workspace))
    assert r2.exit_code == 0, r2.output
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_every_bad_input_reads_the_same_through_the_fast_reader_as_through_the_exact_one(workspace, corpus, monkeypatch):
    """ingest's shortcuts on calamine's grid (locked cells, plain text fields, cross-field rules) find exactly what
    the cell-by-cell way finds on the exact reader's cells: the same values, findings and typed entries, file by file."""
    import datetime as dt

    from ledger_xl import xlsxread
    from ledger_xl.ingest import read_return
    from ledger_xl.store import Store
    from ledger_xl.workspace import open_workspace, ws_ledger

    w = open_workspace(workspace)
    with Store(w.store_path) as store:
        key, ledger_id = store.template_key, store.ledger_id
    ledger = ws_ledger(w)

    def read_all() -> list[tuple[object, ...]]:
        reads = [read_return(p, key=key, ledger_id=ledger_id, ledger=ledger, received_at=dt.datetime(2024, 7, 1)) for p, _ in corpus]
        return [(r.path.name, r.values, [(f.code, f.sheet, f.cell, f.message) for f in r.findings], r.typed) for r in reads]

    fast = read_all()
    monkeypatch.setattr(xlsxread, "_read_fast", lambda *a, **k: None)
    assert fast == read_all()
