"""The one clock of the application. Tests and snapshots freeze it.

``SUPPORT_CONSOLE_NOW`` (an ISO instant) freezes it for a whole process, which is how
snapshot tests and demos with a fixed "now" run; ``freeze``/``advance`` move it in tests.
"""

from __future__ import annotations

import os
import time

from console.rules.timeutil import parse_instant

_frozen: int | None = None


def now() -> int:
    """The current instant in UTC epoch seconds."""
    if _frozen is not None:
        return _frozen
    env = os.environ.get("SUPPORT_CONSOLE_NOW")
    if env:
        return parse_instant(env)
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
    return _frozen is not None or bool(os.environ.get("SUPPORT_CONSOLE_NOW"))
