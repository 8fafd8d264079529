"""The change feed: tells a running console that another process wrote to the database.

SQLite: a watchfiles watcher on the database's directory (inotify: no CPU while idle)
wakes the feed, which asks ``PRAGMA data_version`` on one long-lived connection and reports
a change only when it moved. Reads (ours or anyone's) touch ``-wal``/``-shm`` too, so the
file events alone would make a console re-query in a loop; ``data_version`` does not move
on reads. A slow poll of ``data_version`` is the backstop (a missed event, a replaced file).

PostgreSQL: every write transaction sends ``NOTIFY support_console`` with the changed case
ids (see ``console.store.engine``); the feed ``LISTEN``s on a dedicated autocommit
connection, reconnects with back-off when the server goes away (reporting itself offline
meanwhile) and asks for a full resync after reconnecting, since notifications sent while
it was away are lost.

The feed runs in a thread and only calls ``on_change(ids)`` (``None``: anything may have
changed) and ``on_status(online, message)``; the consumer coalesces (``Coalescer``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    import psycopg  # (imported where it listens: the SQLite-only console never loads it)

CHANNEL = "support_console"
OnChange = Callable[[set[str] | None], None]
OnStatus = Callable[[bool, str], None]


class Coalescer:
    """Turns a burst of change signals into a handful of refreshes.

    ``signal`` is cheap and thread-safe. The consumer calls ``take()`` when it is ready to
    refresh: it gets the union of the ids signalled since the last take (``None`` when a
    full refresh is wanted) or ``False`` when nothing is pending. While a refresh runs,
    new signals accumulate into the next one, so 1,000 writes cause a few re-queries.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = False
        self._ids: set[str] | None = set()
        self.signals = 0

    def signal(self, ids: set[str] | None) -> None:
        with self._lock:
            self.signals += 1
            self._pending = True
            if ids is None or self._ids is None:
                self._ids = None
            else:
                self._ids |= ids

    def take(self) -> set[str] | None | bool:
        with self._lock:
            if not self._pending:
                return False
            ids, self._ids, self._pending = self._ids, set(), False
            return ids


class SqliteFeed:
    """Change feed for a SQLite file (see module docstring)."""

    def __init__(
        self,
        path: str | Path,
        on_change: OnChange,
        on_status: OnStatus | None = None,
        poll: float = 5.0,
        step_ms: int = 30,
    ) -> None:
        self.path = Path(path).resolve()
        self.on_change = on_change
        self.on_status = on_status or (lambda online, msg: None)
        self.poll = poll
        self.step_ms = step_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._ident: tuple[int, int] | None = None
        self._version: int | None = None
        self.checks = 0
        self.changes = 0
        self._online = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sqlite-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()

    def _data_version(self) -> int | None:
        """``PRAGMA data_version`` on our long-lived connection; None if unreadable."""
        try:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                raise sqlite3.OperationalError(
                    f"the database file {self.path} is gone (deleted or moved)"
                ) from None
            old = self._conn
            if old is not None and (st.st_dev, st.st_ino) != self._ident:
                old.close()  # replaced (a restore): follow the new file, re-read all
                self._conn = None
                self._version = None
                self.on_change(None)
            if self._conn is None:
                self._conn = sqlite3.connect(
                    f"file:{self.path}?mode=ro",
                    uri=True,
                    check_same_thread=False,
                    isolation_level=None,
                )
                self._ident = (st.st_dev, st.st_ino)
            row = self._conn.execute("PRAGMA data_version").fetchone()
            self._set_status(True, "")
            return int(row[0])
        except sqlite3.Error as exc:
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
            self._conn = None
            self._set_status(False, f"database unreadable: {exc}")
            return None

    def _set_status(self, online: bool, message: str) -> None:
        if online != self._online:
            self._online = online
            self.on_status(online, message)
            if online:
                self.on_change(None)  # back: resync in full

    def check(self) -> bool:
        """Compare data_version; report a change when it moved. Returns whether it did."""
        self.checks += 1
        v = self._data_version()
        if v is None:
            return False
        if self._version is None:
            self._version = v
            return False
        if v != self._version:
            self._version = v
            self.changes += 1
            self.on_change(None)
            return True
        return False

    def _run(self) -> None:
        from watchfiles import watch  # lazy: only a running console needs it

        self.check()
        names = {self.path.name, self.path.name + "-wal", self.path.name + "-shm"}
        last_poll = time.monotonic()
        while not self._stop.is_set():
            try:
                for changes in watch(
                    self.path.parent,
                    stop_event=self._stop,
                    step=self.step_ms,
                    debounce=400,
                    rust_timeout=int(self.poll * 1000),
                    yield_on_timeout=True,
                    recursive=False,
                ):
                    if changes and not any(Path(p).name in names for _, p in changes):
                        continue
                    if changes or time.monotonic() - last_poll >= self.poll:
                        last_poll = time.monotonic()
                        self.check()
            except (FileNotFoundError, OSError) as exc:
                # The directory went away or cannot be watched: poll until it is back.
                self._set_status(False, f"cannot watch {self.path.parent}: {exc}")
                self._stop.wait(self.poll)
                self.check()


class PostgresFeed:
    """Change feed for PostgreSQL: LISTEN with reconnect and back-off."""

    def __init__(
        self,
        url: str,
        on_change: OnChange,
        on_status: OnStatus | None = None,
        max_backoff: float = 10.0,
        channel: str = CHANNEL,
    ) -> None:
        self.url = url
        self.channel = channel
        self.on_change = on_change
        self.on_status = on_status or (lambda online, msg: None)
        self.max_backoff = max_backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self.online = False

    def _conninfo(self) -> str:
        u = make_url(self.url)
        parts = {
            "dbname": u.database,
            "user": u.username,
            "password": u.password,
            "host": u.host or u.query.get("host"),
            "port": u.port or u.query.get("port"),
        }
        parts["connect_timeout"] = u.query.get("connect_timeout", "5")
        return " ".join(f"{k}={v}" for k, v in parts.items() if v not in (None, ""))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pg-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.cancel()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        backoff = 0.5
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    self._conn = conn
                    conn.execute(f"LISTEN {self.channel}")
                    self.online = True
                    self.on_status(True, "")
                    if not first:
                        self.on_change(None)  # notifications sent while away are lost
                    first = False
                    backoff = 0.5
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=1.0):
                            payload = n.payload
                            self.on_change(
                                None if payload in ("", "*") else set(payload.split(","))
                            )
            except psycopg.Error as exc:
                if self._stop.is_set():
                    break
                if self.online or first:
                    self.on_status(False, f"database offline: {str(exc).strip().splitlines()[0]}")
                self.online = False
                first = False
                self._stop.wait(backoff)
                backoff = min(self.max_backoff, backoff * 2)
            finally:
                self._conn = None


def feed_for(
    url: str, on_change: OnChange, on_status: OnStatus | None = None, channel: str = CHANNEL
) -> SqliteFeed | PostgresFeed:
    """The feed for ``url``. ``channel``: the PostgreSQL channel to LISTEN on (the
    notification outbox has its own, so its deliverers wake only for new messages); a
    SQLite feed reports every commit."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return SqliteFeed(u.database or "", on_change, on_status)
    return PostgresFeed(url, on_change, on_status, channel=channel)
