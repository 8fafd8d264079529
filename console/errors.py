"""The refusals every layer raises: an action the rules do not allow, a stale view.

They live below the store and the actions so that the store itself can refuse (a what-if
console never writes) with the same exception the screens already show in words.
"""

from __future__ import annotations


class Refused(Exception):
    """The action is not allowed; nothing was written. The message says why."""


class Conflict(Refused):
    """The case changed since the operator's view was loaded (stale version)."""


class NotAllowed(Refused):
    """The operator's role does not allow the action (the engine's check, or the database's
    own refusal on PostgreSQL); nothing was written. The message starts ``not allowed:``."""


def refusal_text(exc: BaseException | str) -> str:
    """The one line a screen shows for a refused action: ``not allowed: ...; nothing
    written`` for a role, else ``refused, nothing written: ...``."""
    message = str(exc)
    if message.startswith("not allowed:"):
        return f"{message}; nothing written"
    return f"refused, nothing written: {message}"


def fault_text(exc: BaseException) -> str:
    """An unexpected error in one line, without the SQL and parameters a database driver
    error carries (``str()`` of a SQLAlchemy error prints both)."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__
