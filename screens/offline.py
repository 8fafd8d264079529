"""Telling a database that went away from any other error.

A console keeps running when its database is deleted, moved, full or on a stopped server:
every pane's reads and every action go through the store, which raises
``StoreUnavailable`` (or the driver's operational error on a lost connection). Screens
catch them where they act; the app's last resort (``ConsoleApp._handle_exception``) turns
one that escaped into OFFLINE in the header and a notice in words instead of an exit.
Anything else is a bug and stays fatal.
"""

from __future__ import annotations

import sqlite3


def database_fault(error: BaseException) -> str | None:
    """The words for a database that cannot be used now, or None for any other error."""
    from sqlalchemy import exc as sa_exc

    from console.errors import fault_text
    from console.store.engine import StoreUnavailable

    seen = 0
    while (
        seen < 5
        and getattr(error, "error", None) is not None
        and type(error).__name__ == "WorkerFailed"
    ):  # a worker's error, wrapped
        error = error.error  # type: ignore[attr-defined]
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


def failed_text(app: object, exc: BaseException, prefix: str = "not recorded") -> str:
    """The words for an action that failed with ``exc`` (call from a worker thread): a
    database that went away also puts the app OFFLINE."""
    from console.errors import fault_text

    why = database_fault(exc)
    if why is not None:
        went = getattr(app, "went_offline", None)
        if went is not None:
            app.call_from_thread(went, why)  # type: ignore[attr-defined]
        return f"{prefix}: {why}"
    return f"{prefix}: {fault_text(exc)}"
