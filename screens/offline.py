"""An action that failed, in words, and a database gone from under it put OFFLINE.

A console keeps running when its database is deleted, moved, full or on a stopped server:
every pane's reads and every action go through the store, which raises
``StoreUnavailable`` (or the driver's operational error on a lost connection). Telling
such a fault from a bug is ``console.errors.database_fault`` (re-exported here for the
screens that import it from this module). Screens catch them where they act; a failed
worker reaches ``ConsoleApp.on_worker_state_changed``; the app's last resort
(``ConsoleApp._handle_exception``) turns one that escaped into OFFLINE in the header and a
notice in words instead of an exit. Anything else is a bug and stays fatal.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.app import App

from console.errors import database_fault, fault_text

__all__ = ["database_fault", "failed_text"]


@runtime_checkable
class GoesOffline(Protocol):
    """An app that can say its database went away (``ConsoleApp``)."""

    def went_offline(self, why: str) -> None: ...


def failed_text(app: App[object], exc: BaseException, prefix: str = "not recorded") -> str:
    """The words for an action that failed with ``exc`` (call from a worker thread): a
    database that went away also puts the app OFFLINE."""
    why = database_fault(exc)
    if why is not None:
        if isinstance(app, GoesOffline):
            app.call_from_thread(app.went_offline, why)
        return f"{prefix}: {why}"
    return f"{prefix}: {fault_text(exc)}"


def worker_failed_text(app: App[object], error: BaseException, what: str) -> str:
    """The words for a screen's worker that raised past its own handling (``what`` in
    words: "reading the case"), on the app's thread; a database gone also puts the app
    OFFLINE (as ``failed_text`` does from a worker)."""
    why = database_fault(error)
    if why is not None and isinstance(app, GoesOffline):
        app.went_offline(why)
    return f"{what} failed: {why or fault_text(error)}"
