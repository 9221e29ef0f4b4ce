"""Limits for untrusted Office files, and the rules that apply them before any parser runs.

Why a module of its own: both the clerk-side check (`fsutil.check_ooxml`, for the definition and the
Word ledger) and the bureau-side reader (`xlsxread`) judge zips and XML by these rules; living here,
neither has to import the other. It imports nothing from the package.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
from collections.abc import Sequence
from typing import NamedTuple

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PARTS = 2000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200

DOCTYPE_RE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


class _PlainEntry(NamedTuple):
    """A directory entry read by _plain_directory: the attributes of zipfile's ZipInfo the guards read."""

    filename: str
    flag_bits: int
    compress_type: int
    CRC: int  # noqa: N815 - zipfile's name
    compress_size: int
    file_size: int
    header_offset: int


ZipEntry = _PlainEntry | zipfile.ZipInfo  # what the guards read of a part's directory entry


def zip_directory(data: bytes) -> Sequence[ZipEntry]:
    """The package's directory entries, as zipfile reads them (zipfile.BadZipFile when it cannot).

    A directory written as Excel, WPS and LibreOffice write one is read here, in one pass of struct (zipfile
    makes a ZipInfo object in Python for each part: 0.34M instructions for a 12-part return, 0.2M here);
    anything else — a comment, zip64 records, a directory that does not end where the end record begins,
    extra fields, a NUL in a name, a newer format version — is read by zipfile itself, with its checks and
    errors. Both give the same entries (a property test holds them to it)."""
    entries = _plain_directory(data)
    if entries is not None:
        return entries
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.infolist()


_ENTRY = functools.partial(tuple.__new__, _PlainEntry)  # a tuple as a _PlainEntry, in C (NamedTuple's __new__ is Python)
_END = struct.Struct("<4sHHHHIIH")  # the end of central directory record, with no comment after it
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # a central directory entry, before its name


def _plain_directory(data: bytes) -> list[_PlainEntry] | None:
    """The entries, when the end record closes the file (no comment), the directory it points at ends exactly
    where it begins, and each entry is plain (see zip_directory); None otherwise."""
    end = len(data) - _END.size
    if end < 0:
        return None
    sig, disk, cd_disk, here, count, size, offset, comment = _END.unpack_from(data, end)
    if sig != b"PK\x05\x06" or disk or cd_disk or here != count or comment or offset + size != end:
        return None
    out: list[_PlainEntry] = []
    at = offset
    for _ in range(count):
        if at + _CENTRAL.size > end:
            return None
        (sig, _made, needed, flags, method, _time, _date, crc, csize, usize, n_name, n_extra, n_comment, _disk, _iattr, _eattr,
         header) = _CENTRAL.unpack_from(data, at)
        name = data[at + _CENTRAL.size : at + _CENTRAL.size + n_name]
        if sig != b"PK\x01\x02" or n_extra or (needed & 0xFF) > 63 or b"\x00" in name or 0xFFFFFFFF in (csize, usize, header):
            return None
        try:  # (an ASCII name reads the same in both, and fastest as ASCII)
            text = name.decode("ascii" if name.isascii() else "utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            return None
        out.append(_ENTRY((text, flags, method, crc, csize, usize, header)))
        at += _CENTRAL.size + n_name + n_comment
    return out if at == end else None


def zip_problem(infos: Sequence[ZipEntry]) -> str | None:
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
