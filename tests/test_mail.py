"""Mail against a real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS, authentication and a test CA."""

from __future__ import annotations

import email
import socket
import ssl
from email import policy
from pathlib import Path

import openpyxl
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from ledger_xl.cli import cli
from ledger_xl.findings import LedgerError
from ledger_xl.ingest import read_meta
from ledger_xl.pipeline import mail_drafts, mail_send, plan_mail
from ledger_xl.store import Store
from ledger_xl.xlsxread import read_package

USER, PASSWORD = "office@example.com", "abcdEFGH1234ijkl"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.raw: list[bytes] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        raw = envelope.original_content or envelope.content
        self.raw.append(raw)
        msg = email.message_from_bytes(raw, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: let aiosmtpd send the 535 itself


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(tmp_path):  # type: ignore[no-untyped-def]
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True,
                            authenticator=authenticator, auth_required=True, auth_require_tls=True,
                            auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        yield inbox, port, ca_file
    finally:
        controller.stop()


@pytest.fixture
def mail_ws(workspace, smtp, monkeypatch):  # type: ignore[no-untyped-def]
    """A workspace whose bureaus have addresses and whose config points at the test server."""
    inbox, port, ca_file = smtp
    wb = openpyxl.load_workbook(workspace / "ledger.xlsx")
    ws = wb["单位"]
    for r in range(2, ws.max_row + 1):
        ws.cell(r, 5).value = f"b{r:02d}@example.com"
        ws.cell(r, 4).value = f"联系人{r}"
    ws.cell(3, 4).value = "张三, 李四\r\nBcc: thief@evil.example"  # a name that tries to add recipients
    wb.save(workspace / "ledger.xlsx")
    cfg = workspace / "ledger-xl.toml"
    text = cfg.read_text(encoding="utf-8")
    text = (text.replace('host = ""', 'host = "127.0.0.1"').replace("port = 465", f"port = {port}")
            .replace('security = "ssl"', 'security = "starttls"').replace('user = ""', f'user = "{USER}"')
            .replace('sender = ""', f'sender = "{USER}"').replace('ca_file = ""', f'ca_file = "{ca_file}"')
            .replace("report_recipients = []", 'report_recipients = ["王局长 <leader@example.com>", "办公室, 综合科 <zh@example.com>"]'))
    cfg.write_text(text, encoding="utf-8")
    monkeypatch.setenv("LEDGER_XL_SMTP_PASSWORD", PASSWORD)
    return workspace


def addresses(ws_root: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(ws_root / "ledger.xlsx")
    return {r[0].value: r[4].value for r in wb["单位"].iter_rows(min_row=2)}


def test_every_bureau_receives_exactly_its_own_template(mail_ws, smtp, tmp_path):
    inbox, *_ = smtp
    plan, _ = plan_mail(mail_ws, "templates", "2024H1")
    results = mail_send(mail_ws, plan, PASSWORD)
    assert [r.outcome for r in results] == ["sent"] * 14
    by_addr = {v: k for k, v in addresses(mail_ws).items()}
    assert len(inbox.messages) == 14
    for (_, rcpts, msg), raw in zip(inbox.messages, inbox.raw, strict=True):
        (rcpt,) = rcpts  # one recipient each: the name with a comma and a line break added none
        bureau = by_addr[rcpt]
        (att,) = list(msg.iter_attachments())
        assert att.get_filename() == f"{bureau}_2024H1_填报模板.xlsx"
        assert att.get_param("name", header="Content-Type") == f"{bureau}_2024H1_填报模板.xlsx"
        text = raw.decode("ascii")  # as it travelled: unsplit RFC 2231 filename* plus RFC 2047 name= and filename=
        assert "name*0" not in text and "filename*0" not in text
        assert 'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="=?utf-8?b?' in text
        assert "filename*=utf-8''" in text
        saved = tmp_path / "got.xlsx"
        saved.write_bytes(att.get_payload(decode=True))
        assert read_meta(read_package(saved)).bureau == bureau
        assert bureau in msg["Subject"] and "2024年上半年" in msg["Subject"]
        assert "Bcc" not in msg and [a.addr_spec for a in msg["To"].addresses] == [rcpt]
    assert all(m["From"].addresses[0].addr_spec == USER for _, _, m in inbox.messages)
    with Store(mail_ws / "ledger.sqlite") as store:
        assert store.db.execute("SELECT COUNT(*) FROM mail_log WHERE kind='templates'").fetchone()[0] == 14


def test_reminders_go_only_to_the_missing_and_refused_with_their_findings(mail_ws, smtp, templates_2024h1):
    from conftest import complete_values, fields_of

    from ledger_xl.pipeline import ingest
    from ledger_xl.testing.fill import fill_template

    inbox, *_ = smtp
    for b in ("市商务局", "市财政局"):
        src = templates_2024h1 / f"{b}.xlsx"
        fill_template(src, mail_ws / "inbox" / f"{b}.xlsx", complete_values(src))
    src = templates_2024h1 / "市公安局.xlsx"
    vals = complete_values(src)
    key = next(k for k in vals if k[1] == "deliv_status")
    vals[key] = "差不多"
    fill_template(src, mail_ws / "inbox" / "公安局.xlsx", vals)
    ingest(mail_ws)
    plan, _ = plan_mail(mail_ws, "remind", "2024H1")
    assert sorted(m.bureau for m in plan.messages) == sorted(set(addresses(mail_ws)) - {"市商务局", "市财政局"})
    mail_send(mail_ws, plan, PASSWORD)
    by_addr = {v: k for k, v in addresses(mail_ws).items()}
    got = {by_addr[r[0]]: m for _, r, m in inbox.messages}
    assert "市商务局" not in got and "市财政局" not in got
    refused = got["市公安局"]
    body = refused.get_body().get_content()
    assert "未能通过校验" in body and "差不多" in body and "公安局.xlsx › 填报表 › I" in body
    assert refused["Subject"].startswith("【请修改后重报】")
    assert got["市邮政管理局"]["Subject"].startswith("【催报】")
    # the refused unit gets its own form back, filled in and marked (returns.py), not a blank template
    (att,) = list(refused.iter_attachments())
    assert att.get_filename() == "市公安局_2024H1_退回修改.xlsx" and "标红" in body
    assert att.get_payload(decode=True) == (mail_ws / "outputs" / "returns" / "2024H1" / "市公安局_退回修改.xlsx").read_bytes()
    cell = next(f.cell for f in fields_of(mail_ws / "outputs" / "returns" / "2024H1" / "市公安局_退回修改.xlsx") if f.kind == "deliv_status")
    assert openpyxl.load_workbook(mail_ws / "outputs" / "returns" / "2024H1" / "市公安局_退回修改.xlsx")["填报表"][cell].value == "差不多"
    (blank,) = list(got["市邮政管理局"].iter_attachments())
    assert blank.get_filename() == "市邮政管理局_2024H1_填报模板.xlsx"


def test_report_goes_to_the_configured_readers(mail_ws, smtp):
    inbox, *_ = smtp
    plan, _ = plan_mail(mail_ws, "report", "2024H1")
    (m,) = plan.messages
    assert [a.addr_spec for a in m.to] == ["leader@example.com", "zh@example.com"]
    mail_send(mail_ws, plan, PASSWORD)
    ((_, rcpts, msg),) = inbox.messages
    assert sorted(rcpts) == ["leader@example.com", "zh@example.com"]
    assert list(msg.iter_attachments())[0].get_filename().endswith("2024年上半年工作进展情况报告.docx")


def test_a_refused_recipient_is_reported_the_rest_go_out_and_a_rerun_sends_only_what_is_missing(mail_ws, smtp):
    inbox, *_ = smtp
    addr = addresses(mail_ws)
    inbox.refuse.add(addr["市交通运输局"])
    plan, _ = plan_mail(mail_ws, "templates", "2024H1")
    results = {r.message.bureau: r for r in mail_send(mail_ws, plan, PASSWORD)}
    assert results["市交通运输局"].outcome == "failed" and "550" in results["市交通运输局"].detail
    assert sum(r.outcome == "sent" for r in results.values()) == 13
    inbox.refuse.clear()
    again = mail_send(mail_ws, plan_mail(mail_ws, "templates", "2024H1")[0], PASSWORD)
    assert [r.message.bureau for r in again if r.outcome == "sent"] == ["市交通运输局"]
    assert sum(r.outcome == "already-sent" for r in again) == 13
    assert len(inbox.messages) == 14


def test_tls_is_verified_and_cannot_be_skipped(mail_ws, smtp):
    inbox, *_ = smtp
    cfg = mail_ws / "ledger-xl.toml"
    text = cfg.read_text(encoding="utf-8")
    # no CA file: the test server's certificate is then checked against the system store, and fails
    kept = [line for line in text.splitlines() if not line.startswith("ca_file")]
    cfg.write_text("\n".join(kept) + '\nca_file = ""\n', encoding="utf-8")
    plan, _ = plan_mail(mail_ws, "templates", "2024H1")
    with pytest.raises(LedgerError, match="证书无法验证"):
        mail_send(mail_ws, plan, PASSWORD)
    assert inbox.messages == []


def test_wrong_password_is_a_clear_error(mail_ws, smtp):
    plan, _ = plan_mail(mail_ws, "templates", "2024H1")
    with pytest.raises(LedgerError, match="拒绝登录"):
        mail_send(mail_ws, plan, "wrong")
    with pytest.raises(LedgerError, match="含有中文或全角字符"):
        mail_send(mail_ws, plan, "授权码")


def test_dry_run_writes_eml_and_sends_nothing(mail_ws, smtp):
    inbox, *_ = smtp
    r = CliRunner().invoke(cli, ["mail", "templates", "-w", str(mail_ws), "--period", "2024H1", "--dry-run"])
    assert r.exit_code == 0, r.output
    emls = sorted((mail_ws / "outputs" / "mail" / "2024H1").glob("*.eml"))
    assert len(emls) == 14 and inbox.messages == []
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert list(msg.iter_attachments())[0].get_filename().endswith("_2024H1_填报模板.xlsx")
    assert "市交通运输局" in r.output and "填报模板.xlsx" in r.output


def test_cli_sends_after_yes_and_reports_a_failure_with_exit_1(mail_ws, smtp):
    inbox, *_ = smtp
    inbox.refuse.add(addresses(mail_ws)["市财政局"])
    r = CliRunner().invoke(cli, ["mail", "templates", "-w", str(mail_ws), "--period", "2024H1", "--yes"])
    assert r.exit_code == 1 and "失败" in r.output and "只会补发未发出的邮件" in r.output
    assert len(inbox.messages) == 13


def test_a_bureau_without_address_is_listed_and_skipped(workspace):
    plan, _ = plan_mail(workspace, "templates", "2024H1")
    assert plan.messages == [] and len(plan.skipped) == 14
    assert all("没有电子邮箱" in why for _, why in plan.skipped)


def test_drafts_never_need_a_server(workspace):
    wb = openpyxl.load_workbook(workspace / "ledger.xlsx")
    wb["单位"]["E3"] = "only@example.com"
    wb.save(workspace / "ledger.xlsx")
    plan, _ = plan_mail(workspace, "templates", "2024H1")
    (res,) = mail_drafts(workspace, plan)
    assert Path(res.detail).exists()


def test_answering_n_sends_nothing_and_exits_0(mail_ws, smtp):
    inbox, *_ = smtp
    for answer in ("n\n", ""):  # "n", and end of input
        r = CliRunner().invoke(cli, ["mail", "templates", "-w", str(mail_ws), "--period", "2024H1"], input=answer)
        assert r.exit_code == 0, r.output
        assert r.output.rstrip().endswith("已取消，未发送。") and "内部错误" not in r.output
    assert inbox.messages == []


def test_mail_settings_are_checked_before_asking_to_send(mail_ws, smtp):
    cfg = mail_ws / "ledger-xl.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('host = "127.0.0.1"', 'host = ""'), encoding="utf-8")
    r = CliRunner().invoke(cli, ["mail", "templates", "-w", str(mail_ws), "--period", "2024H1"], input="y\n")
    assert r.exit_code == 2
    assert "没有填写邮件服务器（host）" in r.output and "确认发送" not in r.output
