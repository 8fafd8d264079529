"""The body of a pane's background read: wait for the app's store, read, show or say why;
and the state every such pane keeps about it (``ReadState``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.errors import fault_text


def read_for_pane(pane: Any, loader: Callable[[Any, int, str], Any], what: str) -> None:
    """Run in the pane's thread worker: ``loader(store, now, user)`` once the app's first
    read has opened the store; the result goes to ``pane.show_data``, a failure to
    ``pane._failed`` in words (the pane keeps what it showed)."""
    from console import clock

    app: Any = pane.app
    done = getattr(app, "load_done", None)
    if done is not None:
        done.wait(60)
    if getattr(app, "store", None) is None:
        app.call_from_thread(pane._failed, "the database is not open")
        return
    user = getattr(app, "user", None) or "unknown"
    try:
        data = loader(app.store, clock.now(), user)
    except Exception as exc:  # database trouble: say so, keep the pane
        app.call_from_thread(pane._failed, f"cannot read {what}: {fault_text(exc)}")
        return
    app.call_from_thread(pane.show_data, data)


class ReadState:
    """For a pane read by ``read_for_pane``: who is operating, and a failed read said on the
    pane's status line (``_show_status``) while it keeps what it showed."""

    app: Any
    reading: bool
    error: str | None

    def _show_status(self) -> None:
        raise NotImplementedError

    def _user(self) -> str:
        return getattr(self.app, "user", None) or "unknown"

    def _failed(self, message: str) -> None:
        self.error = message
        self.reading = False
        self._show_status()
