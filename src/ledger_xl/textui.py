"""Plain-text tables for a terminal that shows Chinese: CJK characters take two columns."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    if width(text) <= limit:
        return text
    out, w = "", 0
    for ch in text:
        cw = width(ch)
        if w + cw > limit - 1:
            break
        out, w = out + ch, w + cw
    return out + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, max_width: int = 40) -> str:
    cells = [[clip("" if v is None else str(v), max_width) for v in r] for r in rows]
    head = [clip(h, max_width) for h in headers]
    widths = [max([width(head[i])] + [width(r[i]) for r in cells]) for i in range(len(head))]

    def line(vals: Sequence[str]) -> str:
        return "  ".join(v + " " * (widths[i] - width(v)) for i, v in enumerate(vals)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), sep, *(line(r) for r in cells)])
