"""Plain-text tables for a terminal that shows Chinese: CJK characters take two columns.

Characters of East Asian width "ambiguous" (…, —, “”, ※, №, ①…) take two columns on a Chinese Windows
console (code page 936) and in CJK fonts, one on most other terminals: `ambiguous_width()` says which,
and the clerk can set it with LEDGER_XL_AMBIGUOUS_WIDTH=1 or 2. Long cells wrap onto more lines rather
than being cut.
"""

from __future__ import annotations

import functools
import os
import sys
import unicodedata
from collections.abc import Sequence


def ambiguous_width() -> int:
    """2 on Windows (a Chinese console draws …, —, “” two columns wide), else 1; the environment decides first."""
    chosen = os.environ.get("LEDGER_XL_AMBIGUOUS_WIDTH", "").strip()
    if chosen in ("1", "2"):
        return int(chosen)
    return 2 if sys.platform == "win32" else 1


@functools.lru_cache(maxsize=8192)  # a master ledger measures ~100,000 characters of a few thousand kinds
def char_width(ch: str, ambiguous: int) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    kind = unicodedata.east_asian_width(ch)
    if kind in "WF":
        return 2
    return ambiguous if kind == "A" else 1


class _Widths(dict[str, int]):
    """Character → columns (char_width) for one width of ambiguous characters, filled as characters are met:
    a text is then measured by one map in C over its characters (a check's table measures ~80,000)."""

    def __init__(self, ambiguous: int) -> None:
        super().__init__()
        self.ambiguous = ambiguous

    def __missing__(self, ch: str) -> int:
        self[ch] = got = char_width(ch, self.ambiguous)
        return got


_WIDTHS: dict[int, _Widths] = {}


def width(text: str, ambiguous: int | None = None) -> int:
    """Columns `text` takes; `ambiguous` is the width of East Asian ambiguous characters (default: this console's)."""
    amb = ambiguous_width() if ambiguous is None else ambiguous
    if text.isascii():
        return len(text)
    widths = _WIDTHS.get(amb)
    if widths is None:
        widths = _WIDTHS.setdefault(amb, _Widths(amb))
    return sum(map(widths.__getitem__, text))


def wrap(text: str, limit: int, ambiguous: int | None = None) -> list[str]:
    """`text` in lines of at most `limit` columns, broken between characters (Chinese has no spaces to wait for)."""
    amb = ambiguous_width() if ambiguous is None else ambiguous
    lines: list[str] = []
    for para in str(text).split("\n"):
        para = " ".join(para.split())
        if width(para, amb) <= limit:  # fits whole (most cells): the loop below would give it back as it is
            lines.append(para)
            continue
        out, w = "", 0
        for ch in para:
            cw = char_width(ch, amb)
            if out and w + cw > limit:
                lines.append(out.rstrip())
                out, w = "", 0
                if ch == " ":
                    continue
            out, w = out + ch, w + cw
        lines.append(out)
    return lines or [""]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, max_width: int = 40,
          ambiguous: int | None = None) -> str:
    """Columns aligned by display width; a cell longer than `max_width` wraps inside its column."""
    amb = ambiguous_width() if ambiguous is None else ambiguous
    cells = [[wrap("" if v is None else str(v), max_width, amb) for v in r] for r in rows]
    head = [wrap(h, max_width, amb) for h in headers]
    widths = [max(width(line, amb) for cell in [head[i], *(r[i] for r in cells)] for line in cell) for i in range(len(head))]

    def lines(row: Sequence[list[str]]) -> list[str]:
        height = max(len(c) for c in row)
        out = []
        for k in range(height):
            vals = [c[k] if k < len(c) else "" for c in row]
            out.append("  ".join(v + " " * (widths[i] - width(v, amb)) for i, v in enumerate(vals)).rstrip())
        return out

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([*lines(head), sep, *(line for r in cells for line in lines(r))])
