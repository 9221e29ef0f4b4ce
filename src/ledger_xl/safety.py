"""Limits for untrusted Office files, and the rules that apply them before any parser runs.

Why a module of its own: both the clerk-side check (`fsutil.check_ooxml`, for the definition and the
Word ledger) and the bureau-side reader (`xlsxread`) judge zips and XML by these rules; living here,
neither has to import the other. It imports nothing from the package.
"""

from __future__ import annotations

import re
import zipfile

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PARTS = 2000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200

DOCTYPE_RE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


def zip_problem(infos: list[zipfile.ZipInfo]) -> str | None:
    """Why a zip directory looks like a bomb or not an Office file, judged before decompressing anything."""
    if len(infos) > MAX_PARTS:
        return f"内部部件过多（{len(infos)} 个）"
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED or (total > 10 * 1024 * 1024 and total / packed > MAX_RATIO):
        return "解压后异常庞大"
    return None


def declares_dtd(data: bytes) -> bool:
    """True when XML declares a DOCTYPE or entities anywhere (entity bombs, external entities)."""
    return b"<!DOCTYPE" in data or b"<!ENTITY" in data
