"""E-mail addresses as the clerk types them in the 单位 sheet: split, and each judged once by one rule.

Why a leaf module: the definition checks the addresses when it is loaded and mail uses them when it
sends; one rule in one place means an address that passes the first can never be refused by the second
(and every reason is said in Chinese). It imports nothing from the package.
"""

from __future__ import annotations

import re

SPLIT_RE = re.compile(r"[;；,，、\s]+")
_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def split_addresses(text: str) -> list[str]:
    """The addresses of one cell, separated by ; ； , ， 、 or spaces."""
    return [a for a in SPLIT_RE.split(text or "") if a]


def address_problem(addr: str) -> str | None:
    """Why `addr` cannot be mailed to, in Chinese, or None when it can (name@example.gov.cn)."""
    if any(ch in addr for ch in "＠．"):
        return "含有全角符号（＠ 或 ．），请改为半角的 @ 和 ."
    if not addr.isascii():
        return "含有中文或其他非英文字符，请填写英文字母、数字组成的邮箱地址"
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain:
        return "缺少 @ 或 @ 前后的内容"
    if "@" in local or not _LOCAL_RE.fullmatch(local):
        return "@ 前面的部分含有不能用的字符"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(x) for x in labels) or labels[-1].isdigit():
        return "@ 后面的域名不对（应如 example.gov.cn）"
    if len(addr) > 254:
        return "太长"
    return None
