"""ledger-xl fetch against a real IMAP server (a private dovecot on 127.0.0.1) and a real SMTP server (aiosmtpd).

Returns are appended to the mailbox with given INTERNALDATEs (the server's receipt time); fetch must take
each message once, time each return by its message, and answer every sender in the thread.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import complete_values
from dovecot_server import dovecot
from test_mail import PASSWORD as SMTP_PASSWORD
from test_mail import USER as SMTP_USER
from test_mail import smtp  # noqa: F401 - the SMTP test server fixture

from ledger_xl.cli import cli
from ledger_xl.pipeline import status
from ledger_xl.store import Store
from ledger_xl.testing.fill import fill_template

BEIJING = dt.timezone(dt.timedelta(hours=8))
ON_TIME = dt.datetime(2024, 7, 5, 10, 0, tzinfo=BEIJING)
ALSO_ON_TIME = dt.datetime(2024, 7, 10, 23, 30, tzinfo=BEIJING)
LATE = dt.datetime(2024, 7, 10, 17, 0, tzinfo=dt.UTC)  # 2024-07-11 01:00 in Beijing: after the 07-10 deadline
SAVED_LONG_AFTER = dt.datetime(2024, 9, 1, 9, 0)  # the files' own times say nothing


@pytest.fixture
def imap():  # type: ignore[no-untyped-def]
    with dovecot() as server:
        yield server


@pytest.fixture
def fetch_ws(workspace, templates_2024h1, imap, smtp, monkeypatch):  # type: ignore[no-untyped-def]  # noqa: F811
    """A workspace whose [imap] is the test mailbox and whose [mail] is the test SMTP server."""
    _, port, smtp_ca = smtp
    cfg = workspace / "ledger-xl.toml"
    text = cfg.read_text(encoding="utf-8")
    text = text[: text.index("\n[imap]")]  # the default [imap] table, written anew below
    text = (text.replace('host = ""', 'host = "127.0.0.1"').replace("port = 465", f"port = {port}")
            .replace('security = "ssl"', 'security = "starttls"').replace('user = ""', f'user = "{SMTP_USER}"')
            .replace('sender = ""', f'sender = "{SMTP_USER}"').replace('ca_file = ""', f'ca_file = "{smtp_ca}"'))
    text += (f'\n[imap]\nhost = "127.0.0.1"\nport = {imap.port}\nsecurity = "ssl"\nuser = "{imap.user}"\n'
             f'password_env = "TEST_IMAP_PASSWORD"\nca_file = "{imap.ca_file}"\n')
    cfg.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap.password)
    monkeypatch.setenv("LEDGER_XL_SMTP_PASSWORD", SMTP_PASSWORD)
    return workspace


def set_config(ws: Path, old: str, new: str) -> None:
    cfg = ws / "ledger-xl.toml"
    text = cfg.read_text(encoding="utf-8")
    assert old in text
    cfg.write_text(text.replace(old, new), encoding="utf-8")


def a_return(templates: Path, bureau: str, tmp: Path, *, number: object = 1, overrides: dict | None = None) -> bytes:  # type: ignore[type-arg]
    src = templates / f"{bureau}.xlsx"
    out = fill_template(src, tmp / f"{bureau}-{number}.xlsx", complete_values(src, overrides, number=number), mtime=SAVED_LONG_AFTER)
    return out.read_bytes()


def message(sender: str, subject: str, attachments: list[tuple[str, bytes]], *, style: str = "2231",
            name: str = "", extra: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A message as bureau mail clients write them; attachment names in RFC 2231, RFC 2047 or raw GBK."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = "office@example.com"
    msg["Subject"] = subject
    msgid = make_msgid(domain="bureau.example")
    msg["Message-ID"] = msgid
    for k, v in (extra or {}).items():
        msg[k] = v
    msg.set_content("报表见附件。")
    for fname, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=fname)
    if style == "2231":  # as the email package writes a long name: split RFC 2231 (filename*0*=, filename*1*=…)
        return bytes(msg), msgid
    from email import policy

    raw = msg.as_bytes(policy=policy.SMTP.clone(max_line_length=None))  # filename*=utf-8''… whole, then rewritten
    out = raw
    for fname, _ in attachments:
        if fname.isascii():
            continue
        from urllib.parse import quote

        written = f"filename*=utf-8''{quote(fname)}".encode()
        if style == "2047":
            enc = base64.b64encode(fname.encode("utf-8")).decode()
            out = out.replace(written, f'filename="=?utf-8?B?{enc}?="'.encode())
        elif style == "gbk":
            out = out.replace(written, b'filename="' + fname.encode("gbk") + b'"')
    assert out != raw or all(f.isascii() for f, _ in attachments)
    return out, msgid


def run_fetch(ws: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["fetch", "-w", str(ws), *args])


def submissions(ws: Path) -> list:  # type: ignore[type-arg]
    with Store(ws / "ledger.sqlite") as store:
        return store.submissions()


def test_returns_are_fetched_once_timed_by_their_messages_and_every_sender_answered(fetch_ws, imap, smtp, templates_2024h1, tmp_path):  # noqa: F811
    inbox, *_ = smtp
    sent = {}
    for bureau, addr, when in (("市商务局", "b01@example.com", ON_TIME), ("市财政局", "b02@example.com", LATE),
                               ("市公安局", "b03@example.com", ALSO_ON_TIME)):
        raw, msgid = message(addr, f"{bureau}2024年上半年报表", [(f"{bureau}.xlsx", a_return(templates_2024h1, bureau, tmp_path))],
                             name=f"{bureau}办公室")
        imap.append(raw, when.timestamp())
        sent[addr] = (bureau, msgid)

    r = run_fetch(fetch_ws)
    assert r.exit_code == 0, r.output
    assert "新邮件 3 封" in r.output and "回复已发送 3 封" in r.output

    st = {b.name: b for b in status(fetch_ws, "2024H1").bureaus}
    assert (st["市商务局"].state, st["市商务局"].received_at, st["市商务局"].received_source) == ("按时", "2024-07-05T10:00:00", "mail")
    assert (st["市财政局"].state, st["市财政局"].received_at) == ("逾期", "2024-07-11T01:00:00")
    assert (st["市公安局"].state, st["市公安局"].received_at) == ("按时", "2024-07-10T23:30:00")
    subs = submissions(fetch_ws)
    assert sorted((s.file_name, s.outcome, s.sender) for s in subs) == [
        ("市公安局.xlsx", "merged", "b03@example.com"), ("市商务局.xlsx", "merged", "b01@example.com"),
        ("市财政局.xlsx", "merged", "b02@example.com")]
    master = openpyxl.load_workbook(fetch_ws / "outputs" / "master_ledger.xlsx")
    assert [c.value for c in master["报送情况"][1]][0:1] and any(
        "逾期｜市财政局.xlsx" in str(c.value) for row in master["报送情况"].iter_rows() for c in row)

    # each sender answered once, in the thread of the message they sent
    assert len(inbox.messages) == 3
    for _, rcpts, msg in inbox.messages:
        (rcpt,) = rcpts
        bureau, msgid = sent[rcpt]
        assert msg["In-Reply-To"] == msgid and msgid in msg["References"]
        assert msg["Subject"].startswith("【已汇入】") and bureau in msg["Subject"]
        body = msg.get_body().get_content()
        assert f"已汇入（{bureau} 2024年上半年）" in body
        assert msg["Date"].endswith("+0800")
    # nothing deleted; every message marked
    on_server = imap.messages()
    assert len(on_server) == 3 and all("$LedgerXL" in flags for _, flags, _ in on_server)

    # a second fetch changes nothing and answers nobody again
    before = (submissions(fetch_ws), (fetch_ws / "outputs" / "master_ledger.xlsx").read_bytes())
    again = run_fetch(fetch_ws)
    assert again.exit_code == 0, again.output
    assert "新邮件 0 封" in again.output
    assert (submissions(fetch_ws), (fetch_ws / "outputs" / "master_ledger.xlsx").read_bytes()) == before
    assert len(inbox.messages) == 3


def test_attachment_names_in_any_encoding_are_kept(fetch_ws, imap, templates_2024h1, tmp_path):
    for style, bureau in (("2231", "市商务局"), ("2047", "市财政局"), ("gbk", "市公安局")):
        raw, _ = message("b@example.com", "报表", [(f"{bureau}_上半年报表.xlsx", a_return(templates_2024h1, bureau, tmp_path))], style=style)
        imap.append(raw, ON_TIME.timestamp())
    r = run_fetch(fetch_ws, "--no-reply")
    assert r.exit_code == 0, r.output
    assert sorted(s.file_name for s in submissions(fetch_ws)) == sorted(
        f"{b}_上半年报表.xlsx" for b in ("市商务局", "市财政局", "市公安局"))
    assert all(s.outcome == "merged" for s in submissions(fetch_ws))


def test_refused_duplicate_and_non_returns_are_each_answered_with_their_reason(fetch_ws, imap, smtp, templates_2024h1, tmp_path):  # noqa: F811
    inbox, *_ = smtp
    good = a_return(templates_2024h1, "市商务局", tmp_path)
    # a bureau with a quantity to report, its return with an approximate number in it
    bad_bureau, metric = next((p.stem, k) for p in sorted(templates_2024h1.glob("*.xlsx")) if p.stem != "市商务局"
                              for k in complete_values(p) if k[1] == "metric")
    bad = a_return(templates_2024h1, bad_bureau, tmp_path, overrides={metric: "约5个"})
    imap.append(message("b01@example.com", "商务局报表", [("商务局.xlsx", good)])[0], ON_TIME.timestamp())
    imap.append(message("b01@example.com", "再发一次", [("商务局(1).xlsx", good)])[0], ON_TIME.timestamp() + 60)
    imap.append(message("b02@example.com", "财政局报表", [("财政局.xlsx", bad)])[0], ON_TIME.timestamp() + 120)
    others = [("旧格式.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), ("打包.zip", b"PK\x05\x06" + b"\0" * 18),
              ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 100), ("数据.csv", "单位,数值\n商务局,5\n".encode())]
    imap.append(message("b03@example.com", "各种附件", others)[0], ON_TIME.timestamp() + 180)
    imap.append(message("b04@example.com", "没有附件", [])[0], ON_TIME.timestamp() + 240)

    r = run_fetch(fetch_ws)
    assert r.exit_code == 1, r.output  # a refused return: findings
    answers = {rcpts[0]: msg for _, rcpts, msg in inbox.messages}
    by_subject = {m["Subject"]: m.get_body().get_content() for m in answers.values()}
    assert len(inbox.messages) == 5
    replies_b01 = [m for _, rcpts, m in inbox.messages if rcpts == ["b01@example.com"]]
    assert [m["Subject"] for m in replies_b01] == ["【已汇入】回复：商务局报表", "【重复报送，未作改动】回复：再发一次"]
    assert "内容相同，未做改动" in replies_b01[1].get_body().get_content()
    refused = answers["b02@example.com"]
    assert refused["Subject"] == "【请修改后重报】回复：财政局报表"
    text = refused.get_body().get_content()
    assert f"未通过校验（{bad_bureau} 2024年上半年）" in text and "约5个" in text and "填报表 › " in text
    # the annotated copy ingest made of the refused return goes with the answer
    (copy,) = list(refused.iter_attachments())
    assert copy.get_filename() == f"{bad_bureau}_退回修改.xlsx" and "附件为退回修改表" in text
    assert not list(answers["b03@example.com"].iter_attachments())  # refused whole (.xls, .csv): no copy
    mixed = answers["b03@example.com"].get_body().get_content()
    assert "《旧格式.xls》" in mixed and "另存为” .xlsx" in mixed
    assert "《打包.zip》：压缩包不会被拆开处理" in mixed and "《照片.jpg》：图片不是报表" in mixed
    assert "《数据.csv》" in mixed and "CSV" in mixed
    assert "邮件中没有附件" in answers["b04@example.com"].get_body().get_content()
    assert by_subject  # every answer has a subject
    st = {b.name: b.state for b in status(fetch_ws, "2024H1").bureaus}
    assert st["市商务局"] == "按时" and st[bad_bureau] == "被退回"


def test_twenty_attachments_fifty_megabytes_and_a_from_with_a_line_break(fetch_ws, imap, smtp, tmp_path):  # noqa: F811
    inbox, *_ = smtp
    twenty = [(f"附件{i}.xlsx", b"PK\x03\x04" + bytes([i]) * 50) for i in range(20)]
    imap.append(message("b01@example.com", "二十个附件", twenty)[0], ON_TIME.timestamp())
    huge = os.urandom(50 * 1024 * 1024)
    imap.append(message("b02@example.com", "大附件", [("大文件.xlsx", huge)])[0], ON_TIME.timestamp() + 60)
    evil_name = base64.b64encode("张三\r\nBcc: thief@evil.example".encode()).decode()
    raw, _ = message("b03@example.com", "换行", [("x.xlsx", b"PK\x03\x04")])
    raw = raw.replace(b"From: b03@example.com", f"From: =?utf-8?b?{evil_name}?= <b03@example.com>".encode())
    imap.append(raw, ON_TIME.timestamp() + 120)

    r = run_fetch(fetch_ws)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert any("这封邮件有 20 个附件，超过 10 个，未处理" in x for x in lines)
    assert any("邮件过大（约 6" in x and "未下载处理" in x for x in lines)
    assert any("发件人（From）中含有换行等控制字符" in x for x in lines)
    assert submissions(fetch_ws) == []
    # the first two senders are answered with the reason; the third (and any Bcc it tried to add) is not
    assert sorted(rcpts[0] for _, rcpts, _ in inbox.messages) == ["b01@example.com", "b02@example.com"]
    assert all("thief" not in raw.decode("ascii", "replace") for raw in inbox.raw)
    assert all("$LedgerXL" in flags for _, flags, _ in imap.messages())


def test_period_option_leaves_other_periods_for_later_and_dry_run_changes_nothing(fetch_ws, imap, smtp, templates_2024h1, tmp_path):  # noqa: F811
    from ledger_xl.pipeline import make_templates

    inbox, *_ = smtp
    make_templates(fetch_ws, "2024H2")
    h2 = fetch_ws / "outputs" / "templates" / "2024H2"
    imap.append(message("b01@example.com", "上半年", [("商务局.xlsx", a_return(templates_2024h1, "市商务局", tmp_path))])[0], ON_TIME.timestamp())
    imap.append(message("b01@example.com", "下半年", [("商务局H2.xlsx", a_return(h2, "市商务局", tmp_path))])[0], ON_TIME.timestamp() + 60)

    dry = run_fetch(fetch_ws, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "新邮件 2 封" in dry.output and "附件 商务局.xlsx" in dry.output
    assert submissions(fetch_ws) == [] and inbox.messages == []
    assert all("$LedgerXL" not in flags for _, flags, _ in imap.messages())

    r = run_fetch(fetch_ws, "--period", "2024H1")
    assert r.exit_code == 0, r.output
    assert "留待以后收取" in r.output
    assert [s.period for s in submissions(fetch_ws)] == ["2024H1"]
    later = run_fetch(fetch_ws)
    assert later.exit_code == 0, later.output
    assert sorted(s.period for s in submissions(fetch_ws)) == ["2024H1", "2024H2"]
    assert len(inbox.messages) == 2


def test_processed_messages_can_be_moved_to_a_folder_never_deleted(fetch_ws, imap, templates_2024h1, tmp_path):
    imap.create("已处理")
    set_config(fetch_ws, 'password_env = "TEST_IMAP_PASSWORD"', 'password_env = "TEST_IMAP_PASSWORD"\nprocessed_folder = "已处理"')
    imap.append(message("b01@example.com", "报表", [("商务局.xlsx", a_return(templates_2024h1, "市商务局", tmp_path))])[0], ON_TIME.timestamp())
    r = run_fetch(fetch_ws, "--no-reply")
    assert r.exit_code == 0, r.output
    assert imap.messages("INBOX") == [] and len(imap.messages("已处理")) == 1
    assert len(submissions(fetch_ws)) == 1


@pytest.mark.parametrize("missing", ["host", "sender"])
def test_a_fetch_that_must_answer_names_the_mail_setting_it_lacks(fetch_ws, imap, missing):
    cfg = fetch_ws / "ledger-xl.toml"
    text = cfg.read_text(encoding="utf-8")
    old = 'host = "127.0.0.1"' if missing == "host" else f'sender = "{SMTP_USER}"'
    cfg.write_text(text.replace(old, old.split(" = ")[0] + ' = ""', 1).replace(f'user = "{SMTP_USER}"', 'user = ""'), encoding="utf-8")
    r = run_fetch(fetch_ws)
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    said = "发信服务器（host）" if missing == "host" else "发件地址（sender）"
    assert f"[mail] 没有填写{said}，无法回复发件人" in r.output and "--no-reply" in r.output, r.output
    assert submissions(fetch_ws) == []  # refused before anything was taken


@pytest.mark.parametrize("case", ["wrong-password", "unreachable", "untrusted", "no-folder", "no-user", "bad-security", "no-ca-file",
                                  "no-password"])
def test_mailbox_problems_are_one_chinese_line(fetch_ws, imap, case, monkeypatch):
    """Each names the setting or the server, what is wrong, and what to do."""
    if case == "wrong-password":
        monkeypatch.setenv("TEST_IMAP_PASSWORD", "not-the-code")
        expect = [f"收件邮箱 {imap.user}（127.0.0.1:{imap.port}）登录失败", "拒绝登录", "TEST_IMAP_PASSWORD", "授权码，不是登录密码"]
    elif case == "no-password":  # CliRunner's input is not a terminal: nothing to ask at
        monkeypatch.delenv("TEST_IMAP_PASSWORD")
        expect = ["没有收件邮箱授权码", "不在终端中运行", "请设置环境变量 TEST_IMAP_PASSWORD"]
    elif case == "no-user":
        set_config(fetch_ws, f'user = "{imap.user}"', 'user = ""')
        expect = ["ledger-xl.toml › [imap] user：没有填写邮箱账号", "请补填"]
    elif case == "bad-security":
        set_config(fetch_ws, 'security = "ssl"', 'security = "tls"')
        expect = ["ledger-xl.toml › [imap] security：“tls”无法识别", "starttls（143 端口）"]
    elif case == "no-ca-file":
        set_config(fetch_ws, f'ca_file = "{imap.ca_file}"', 'ca_file = "没有这个文件.pem"')
        expect = ["[imap] ca_file：找不到 CA 证书文件 没有这个文件.pem", "请改正文件路径"]
    elif case == "unreachable":
        from dovecot_server import free_port

        set_config(fetch_ws, f"port = {imap.port}", f"port = {free_port()}")
        expect = ["无法连接收件服务器 127.0.0.1", "连接被拒绝"]
    elif case == "untrusted":
        set_config(fetch_ws, f'ca_file = "{imap.ca_file}"', 'ca_file = ""')
        expect = ["证书无法验证", "[imap] ca_file"]
    else:
        set_config(fetch_ws, 'password_env = "TEST_IMAP_PASSWORD"', 'password_env = "TEST_IMAP_PASSWORD"\nfolder = "报表"')
        expect = ["收件邮箱中没有文件夹“报表”", "INBOX", "[imap] folder"]
    r = run_fetch(fetch_ws, "--no-reply")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    (line,) = r.output.strip().splitlines()
    assert line.startswith("错误：") and all(e in line for e in expect), line


def test_sent_mail_is_kept_in_the_sent_folder(fetch_ws, imap, smtp):  # noqa: F811
    inbox, *_ = smtp
    wb = openpyxl.load_workbook(fetch_ws / "ledger.xlsx")
    for r in range(2, wb["单位"].max_row + 1):
        wb["单位"].cell(r, 5).value = f"b{r:02d}@example.com"
    wb.save(fetch_ws / "ledger.xlsx")
    set_config(fetch_ws, 'password_env = "TEST_IMAP_PASSWORD"', 'password_env = "TEST_IMAP_PASSWORD"\nsent_folder = "Sent"')
    imap.create("Sent")
    r = CliRunner().invoke(cli, ["mail", "templates", "-w", str(fetch_ws), "--period", "2024H1", "--yes"])
    assert r.exit_code in (0, 1), r.output
    sent = [m for m in inbox.messages]
    kept = imap.messages("Sent")
    assert sent and len(kept) == len(sent)
    assert all("\\Seen" in flags for _, flags, _ in kept)
    subjects = {m["Subject"] for _, _, m in sent}
    import email
    from email import policy

    assert {email.message_from_bytes(raw, policy=policy.default)["Subject"] for _, _, raw in kept} == subjects


# ---------------------------------------------------------------- kill -9


def test_fetch_killed_at_4_or_more_random_moments_loses_and_duplicates_nothing(fetch_ws, imap, smtp, templates_2024h1, tmp_path):  # noqa: F811
    """fetch killed with SIGKILL at random moments while returns keep arriving, then let finish: every message
    taken exactly once, every file recorded once, every message marked, every sender answered."""
    inbox, *_ = smtp
    names = sorted(p.stem for p in templates_2024h1.glob("*.xlsx"))[:6]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    cmd = [sys.executable, "-m", "ledger_xl.cli", "fetch", "-w", str(fetch_ws)]
    rng = random.Random(19)
    kills, rounds = 0, 0
    phases: list[str] = []
    # a kill falls at a random moment within what a fetch takes on this machine: at first up to 1.2 s, then up to the
    # longest fetch seen to finish unkilled, so that kills keep landing inside one on a quick machine as on a slow one;
    # rounds go on (14 at least, 40 at most) until four kills landed, one of them before the commit
    span, finished = 1.2, 0
    while rounds < 40 and (rounds < 14 or kills < 4 or "before the commit" not in phases):
        k = rounds  # one new message a round, then a fetch killed at a random moment
        rounds += 1
        b = names[k % len(names)]
        # a new figure and a new filler's name: a new file, even for a bureau with no figure to report (its rounds'
        # files would otherwise be the same bytes, and rightly taken once)
        data = a_return(templates_2024h1, b, tmp_path, number=k + 1, overrides={(None, "filler", 0): f"张三{k}"})
        imap.append(message(f"k{k}@example.com", f"{b}报表{k}", [(f"{b}_{k}.xlsx", data)])[0], ON_TIME.timestamp() + 60 * k)
        started = time.monotonic()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            p.wait(timeout=rng.uniform(0.05, 1.0) * span)
            span = time.monotonic() - started if not finished else max(span, time.monotonic() - started)
            finished += 1  # it finished unkilled: a fetch takes about that long here
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            kills += 1
            p.wait()
            phases.append(_phase(fetch_ws, imap, k + 1))
    print(f"kill -9 landed in {kills} of {rounds} rounds:", {x: phases.count(x) for x in set(phases)})
    assert kills >= 4
    assert "before the commit" in phases  # kills fell mid-run, not only after the work was done
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with Store(fetch_ws / "ledger.sqlite") as store:
        taken = store.db.execute("SELECT uid, COUNT(*) FROM mail_in GROUP BY uid").fetchall()
        subs = store.submissions()
        queued = store.queued_mail()
    assert len(taken) == rounds and all(n == 1 for _, n in taken)
    assert sorted(s.file_name for s in subs) == sorted(f"{names[k % len(names)]}_{k}.xlsx" for k in range(rounds))
    assert all(s.outcome == "merged" and s.received_source == "mail" for s in subs)
    assert all("$LedgerXL" in flags for _, flags, _ in imap.messages())
    assert queued == []
    answered = [rcpts[0] for _, rcpts, _ in inbox.messages]
    assert set(answered) == {f"k{k}@example.com" for k in range(rounds)}
    # an answer is sent again only when a kill fell between the server's acceptance and its record
    assert len(answered) - rounds <= kills
    st = {b.name: b.state for b in status(fetch_ws, "2024H1").bureaus}
    assert all(st[b] == "按时" for b in names)


def _phase(ws: Path, imap: object, appended: int) -> str:
    """Where a kill fell, judged from what it left: messages not all recorded (before the commit), recorded but
    not marked on the server, answers still queued, or nothing left to do."""
    with Store(ws / "ledger.sqlite") as store:
        taken = store.db.execute("SELECT COUNT(*) FROM mail_in").fetchone()[0]
        queued = len(store.queued_mail())
    marked = sum("$LedgerXL" in flags for _, flags, _ in imap.messages())  # type: ignore[attr-defined]
    if taken < appended:
        return "before the commit"
    if marked < taken:
        return "between commit and marking"
    return "while answering" if queued else "after the work"


def test_remind_before_deadline_reminds_only_the_missing_once_within_the_window(fetch_ws, smtp, templates_2024h1, tmp_path):  # noqa: F811
    from ledger_xl.pipeline import ingest

    inbox, *_ = smtp
    wb = openpyxl.load_workbook(fetch_ws / "ledger.xlsx")
    for r in range(2, wb["单位"].max_row + 1):
        wb["单位"].cell(r, 5).value = f"b{r:02d}@example.com"
    wb.save(fetch_ws / "ledger.xlsx")
    due = (dt.datetime.now(BEIJING) + dt.timedelta(days=3)).date()
    set_config(fetch_ws, "[deadlines]", f"[deadlines]\n2024H1 = {due.isoformat()}")
    src = templates_2024h1 / "市商务局.xlsx"
    ingest(fetch_ws, [fill_template(src, tmp_path / "商务局.xlsx", complete_values(src))])

    early = CliRunner().invoke(cli, ["mail", "remind", "-w", str(fetch_ws), "--before-deadline", "2", "--yes"])
    assert early.exit_code == 0, early.output
    assert "还有 3 天；截止前 2 天起才提醒" in early.output and inbox.messages == []

    r = CliRunner().invoke(cli, ["mail", "remind", "-w", str(fetch_ws), "--before-deadline", "5", "--yes"])
    assert r.exit_code == 0, r.output
    reminded = {m["Subject"] for _, _, m in inbox.messages}
    assert inbox.messages and all("【催报】2024年上半年" in s for s in reminded)
    assert not any("市商务局" in s for s in reminded)  # it has submitted
    n = len(inbox.messages)
    again = CliRunner().invoke(cli, ["mail", "remind", "-w", str(fetch_ws), "--before-deadline", "5", "--yes"])
    assert again.exit_code == 0 and "本期已提前提醒过" in again.output and len(inbox.messages) == n
