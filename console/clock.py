"""The one clock of the application. Tests and snapshots freeze it.

``freeze``/``advance`` move it in tests, in-process only: no option or environment
variable sets the time, since every event's ``recorded_at`` is read from this clock
(policy §14: when the store took it comes from the real clock, never from a user).
"""

from __future__ import annotations

import time

from console.rules.timeutil import parse_instant

_frozen: int | None = None


def now() -> int:
    """The current instant in UTC epoch seconds."""
    if _frozen is not None:
        return _frozen
    return int(time.time())


def freeze(at: int | str | None) -> None:
    """Stop the clock at ``at`` (epoch seconds or ISO text); ``None`` lets it run again."""
    global _frozen
    _frozen = parse_instant(at) if isinstance(at, str) else at


def advance(seconds: int) -> int:
    """Move a frozen clock forward (tests: "time passes")."""
    global _frozen
    _frozen = now() + seconds
    return _frozen


def is_frozen() -> bool:
    return _frozen is not None
