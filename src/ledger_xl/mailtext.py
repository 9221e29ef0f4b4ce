"""The words of every message ledger-xl mails, one function per kind of message.

Why here, beside mail.py and apart from pipeline: the office edits this wording more often than any
rule, and pipeline only decides who gets which message. Pure strings in, (subject, body) out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

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
