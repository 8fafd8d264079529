"""The refusals every layer raises (an action the rules do not allow, a stale view) and the
database that cannot be used now.

They live below the store and the actions so that the store itself can refuse (a what-if
console never writes) with the same exception the screens already show in words, and so
that telling a database fault from a bug (``database_fault``) needs nothing of the store.
"""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The database cannot be opened or reached; the message is meant for a person. The
    store raises it (``console.store.engine``)."""


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


def database_fault(error: BaseException) -> str | None:
    """The words for a database that cannot be used now (deleted, moved, full, a stopped
    server, a lost connection), or None for any other error, which is a bug. A worker's
    error arrives wrapped (Textual's ``WorkerFailed``, its ``error`` the cause): unwrapped
    by name, so that this module needs nothing of Textual."""
    import sqlite3

    from sqlalchemy import exc as sa_exc

    seen = 0
    while seen < 5 and type(error).__name__ == "WorkerFailed":
        inner = getattr(error, "error", None)
        if not isinstance(inner, BaseException):
            break
        error = inner
        seen += 1
    if isinstance(error, StoreUnavailable):
        return str(error)
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated
    ):
        return f"the database cannot be reached: {fault_text(error)}"
    if isinstance(error, sqlite3.OperationalError | sqlite3.InterfaceError):
        return f"the database cannot be reached: {fault_text(error)}"
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return f"the database cannot be reached: {fault_text(error)}"
    return None
