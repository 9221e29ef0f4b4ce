"""Deterministic kills for the crash tests: `LEDGER_XL_CRASH_AT=store-write:7` SIGKILLs the command the 7th
time this process reaches `crash_point("store-write")` — as `kill -9` would, but at a known moment instead
of after a guessed delay on a shared machine.

The points (each named where it is called): store-write (a submission inserted, before the commit),
archive-copy (an original's temporary copy written, before its rename), replace (a user-visible file's
temporary written, before it replaces the old one), master-ledger (the master ledger assembled, before its
file is written), mail-sent (a message accepted by the server, before the store records it), mail-recorded
(recorded, before the next message).

Unset — always, outside the tests — a point costs one comparison. Set, the kill takes the process that
imported this module first (the command) and the caller (a reading worker), so a kill inside a worker is
a kill of the whole command, like kill -9 of its process group.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("LEDGER_XL_CRASH_AT") or None
_COMMAND_PID = os.getpid()  # forked workers inherit it
_seen: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Kill the command here if LEDGER_XL_CRASH_AT names this point and this is the N-th time it is reached."""
    if _SPEC is None:
        return
    point, _, nth = _SPEC.partition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == int(nth or 1):
        if os.getpid() != _COMMAND_PID:
            os.kill(_COMMAND_PID, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
