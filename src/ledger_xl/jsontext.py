"""Compact JSON for the metadata every return carries and the typed entries kept of every return.

Through orjson, which parses and writes these (mostly Chinese text in short lists) at about half the
instructions of the standard module, with the standard module behind it for what orjson refuses: a lone
surrogate, an integer beyond 64 bits. orjson writes NaN and infinity as null: what is written here holds
none (see ingest.typed_entry).
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - a platform without its wheel: the standard module, same results
    orjson = None  # type: ignore[assignment]


def loads(text: str | bytes) -> Any:
    """Like json.loads (ValueError for what is not JSON); bytes are UTF-8."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # what orjson refuses and the standard module reads (a lone surrogate), or an error it says
    return json.loads(text)


def dumps(value: Any) -> str:
    """json.dumps(value, ensure_ascii=False, separators=(",", ":")) for values without NaN or infinity."""
    packed = dumps_bytes(value)
    if packed is not None:
        return packed.decode("utf-8")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps_bytes(value: Any) -> bytes | None:
    """orjson's compact UTF-8 JSON of a value (dicts, lists, tuples but not their subclasses, str, int, float, None),
    None where orjson is absent or refuses it (a lone surrogate). The caller makes sure no float is NaN or infinite:
    orjson would write it as null."""
    if orjson is None:
        return None
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None
