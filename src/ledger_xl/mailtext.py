"""The words of every message ledger-xl mails, one function per kind of message.

Why here, apart from mail.py, mailplan.py and fetch: the office edits this wording more often than any
rule; mailplan only decides who gets which message, mail.py only builds and sends it, and fetch only
decides what became of each attachment. Pure strings in, (subject, body) or a sentence out — including
the answers fetch sends to each message taken, and the reasons it gives for what it did not take.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from .findings import Finding

if TYPE_CHECKING:
    from .status import Status

MAX_LISTED = 20  # findings listed in one reminder; the rest are counted


def signature(sender_name: str, today: str) -> str:
    return f"\n\n{sender_name}\n{today}\n"


def _contact_line(contact: str) -> str:
    return f"\n　　联系人：{contact}\n" if contact else ""


def template_notice(bureau: str, *, ledger_title: str, period_label: str, n_lead: int, n_responsible: int, due: str,
                    contact: str, sign: str) -> tuple[str, str]:
    """The notice sent with a bureau's template: what to fill, by when, whom to ask."""
    body = (f"{bureau}：\n\n"
            f"　　根据《{ledger_title}》工作安排，现开展{period_label}重点任务进展情况报送工作。请按附件模板填写贵单位"
            f"牵头的{n_lead}项任务和参与的{n_responsible}项任务的进展情况，于{due}前将填好的表格直接回复至本邮箱。\n\n"
            "　　填报要求：黄色格子为填写区，灰色格子为计划内容；“本期填报”只填本期新增数，不填累计数；数字请用阿拉伯数字，"
            "不写“约”“余”等字；请勿增删行列、修改工作表，保存为 .xlsx 格式后发回。\n"
            + _contact_line(contact) + sign)
    return f"关于报送{period_label}重点任务进展情况的通知（{bureau}）", body


def refused_reminder(bureau: str, *, period_label: str, received: str, file_name: str, due: str,
                     findings: Iterable[Finding], sign: str, annotated: bool = False) -> tuple[str, str]:
    """To a bureau whose file was refused: each finding in plain Chinese, and when to send it again —
    `annotated`: the attachment is their own return with the problem cells marked, else the template."""
    how = ("附件是贵单位报送的表格，原填内容都已保留，有问题的格子已标红并附说明；只需改正这些格子，保存后发回即可"
           if annotated else "附件为本期原模板，请在其中重新填写")
    found = list(findings)
    lines = "\n".join(f"　　{i}. {f.render().removeprefix('[错误] ')}" for i, f in enumerate(found[:MAX_LISTED], start=1))
    more = f"\n　　（另有 {len(found) - MAX_LISTED} 处，修改后重新报送时会一并提示。）" if len(found) > MAX_LISTED else ""
    body = (f"{bureau}：\n\n　　贵单位于{received}报送的《{file_name}》未能通过校验，"
            f"请按以下提示修改后，于{due}前重新报送（{how}）：\n\n{lines}{more}\n" + sign)
    return f"【请修改后重报】{period_label}重点任务进展情况（{bureau}）", body


def missing_reminder(bureau: str, *, period_label: str, due: str, contact: str, sign: str) -> tuple[str, str]:
    """To a bureau that has sent nothing yet."""
    body = (f"{bureau}：\n\n　　{period_label}重点任务进展情况报送截止日期为{due}，目前尚未收到贵单位报送的材料。"
            "请尽快填写附件模板并直接回复至本邮箱。如已报送，请忽略本邮件。\n"
            + _contact_line(contact) + sign)
    return f"【催报】{period_label}重点任务进展情况（{bureau}）", body


def report_cover(title: str, *, n_tasks: int, counts: Mapping[Status, int], sign: str) -> tuple[str, str]:
    """The covering note of the period's report to its readers."""
    summary = "，".join(f"{k}{v}项" for k, v in counts.items() if v)
    body = (f"各位领导：\n\n　　现将《{title}》呈上，请审阅。\n\n　　本期共有重点任务{n_tasks}项：{summary}。"
            "详细情况见附件。\n" + sign)
    return title, body


# ---------------------------------------------------------------- answers to mail received (ledger-xl fetch)


class AnswerItem(NamedTuple):
    """What became of one attachment: merged / refused / duplicate / not-return, with its findings or reason."""

    name: str
    status: str
    bureau: str | None = None
    period_label: str | None = None
    findings: tuple[str, ...] = ()
    note: str = ""


ANSWER_COPY_LINE = "\n　　附件为退回修改表：已填好您报送的内容并标出了问题，请在其上修改后重新发送。"
ANSWER_VERDICT = {"refused": "请修改后重报", "merged": "已汇入", "duplicate": "重复报送，未作改动", "none": "未收到报表"}
SUPERSEDED_NOTE = "（取代此前报送的文件）"
UNNAMED_ATTACHMENT = "未命名附件"
NO_SUBJECT = "（无主题）"


def answer_text(greeting: str, *, original: str, received: dt.datetime, items: list[AnswerItem], refusal: str | None,
                office: str, contact: str, today: dt.date, with_copy: bool) -> tuple[str, str]:
    """The answer to one message taken: what was taken for which period, the findings to fix, or that nothing
    changed. `original`: the message's subject; `with_copy`: the annotated copy is attached."""
    statuses = {i.status for i in items}
    verdict = next((v for k, v in ANSWER_VERDICT.items() if k in statuses), ANSWER_VERDICT["none"])
    if refusal:
        verdict = ANSWER_VERDICT["none"]
    original = original or NO_SUBJECT
    when = f"{received.year}年{received.month}月{received.day}日 {received:%H:%M}"
    lines = [f"{greeting}：", "", f"　　{office}于{when}收到您的邮件《{original}》，处理结果如下：", ""]
    if refusal:
        lines.append(f"　　{refusal}")
    for n, item in enumerate(items, start=1):
        lines += _answer_lines(n, item)
    if not items and not refusal:
        lines.append("　　邮件中没有附件。请把填好的 .xlsx 报表作为附件发送。")
    if with_copy and any(i.status == "refused" for i in items):
        lines.append(ANSWER_COPY_LINE)
    lines += ["", "　　本邮件由系统自动发送。" + (f"如有疑问，请联系{contact}。" if contact else ""),
              "", office, f"{today.year}年{today.month}月{today.day}日", ""]
    return f"【{verdict}】回复：{original}", "\n".join(lines)


def _answer_lines(n: int, item: AnswerItem) -> list[str]:
    head = f"　　{n}. 《{item.name}》："
    what = f"{item.bureau} {item.period_label}" if item.bureau and item.period_label else ""
    if item.status == "merged":
        return [head + f"已汇入（{what}）。" + (item.note or "")]
    if item.status == "duplicate":
        return [head + (item.note or "与此前收到的文件内容相同，未作改动。")]
    if item.status == "refused":
        out = [head + f"未通过校验{('（' + what + '）') if what else ''}，本次未汇入。请按以下提示修改后重新发送："]
        out += [f"　　　　（{k}）{f}" for k, f in enumerate(item.findings[:MAX_LISTED], start=1)]
        if len(item.findings) > MAX_LISTED:
            out.append(f"　　　　（另有 {len(item.findings) - MAX_LISTED} 处，修改后重新发送时会一并提示。）")
        return out
    return [head + (item.note or "未处理。")]


# why a whole message is not taken apart (answered, except a sender we cannot answer)
REFUSED_FROM_BROKEN = "发件人（From）中含有换行等控制字符或不是一个邮箱地址，这封邮件未处理，也不回复。请从本单位邮箱正常发送。"
REFUSED_FROM_UNKNOWN = "发件人地址（From）无法识别，无法确认报送人。请从本单位邮箱重新发送。"


def refused_too_big(size: int) -> str:
    return (f"邮件过大（约 {size // 1024 // 1024} MB），未下载处理。报表文件通常不到 1 MB，"
            "请只附填好的 .xlsx 报表后重新发送。")


def refused_too_many(n: int, limit: int) -> str:
    return f"这封邮件有 {n} 个附件，超过 {limit} 个，未处理。请每封邮件只附本单位填好的报表（一个 .xlsx 文件）后重新发送。"


# why an attachment is not a return to ingest, in the words the sender is answered with
NOT_RETURN_ARCHIVE = "压缩包不会被拆开处理。请直接把填好的 .xlsx 报表作为附件发送。"
NOT_RETURN_IMAGE = "图片不是报表，未处理。请在下发的模板中填写，保存为 .xlsx 后作为附件发送。"


def not_return_too_big(size: int) -> str:
    return f"文件过大（{size // 1024 // 1024} MB），不像是填报模板，未处理。请发送填好的 .xlsx 报表。"


def not_return_other(suffix: str) -> str:
    return f"不是报表文件（{suffix or '无扩展名'}），未处理。报表请用下发的 .xlsx 模板填写后发送；佐证材料无需发送。"
