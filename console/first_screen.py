"""The console's first screen of the queue, read in a separate process.

``support-console`` forks before it imports anything heavy: the child imports SQLAlchemy,
opens the database (creating or upgrading it, as every command does), reads exactly the
first screenful of the queue (``load_queue(top=...)``) with its clocks at "now", sends it
through a pipe and exits; meanwhile the console process imports Textual and lays out its
screen on the other core. The console shows the rows as soon as both are ready, then reads
the whole queue itself (``ConsoleApp`` is the same without this: tests construct it
directly and its own thread reads the first screen).

Messages (pickled): ``("opened", url, operator)`` once the database is open (the operator:
the login it was opened with, ``console.identity``), then ``("rows", rows,
names, at)`` (``QueueRow`` objects without their terms, carrying their clocks at ``at``) or
``("error", message)``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.queue_rows import QueueRow

TOP_ROWS = 200

#: One message through the pipe (see the module docstring for the three kinds).
Message = tuple[Any, ...]


class FirstScreen:
    """The console's handle on the child reading the first screen."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self._fd = fd
        self.url: str | None = None

    def next(self, timeout: float | None = None) -> Message | None:
        """The child's next message (None: none within ``timeout``, or the child is gone)."""
        if timeout is not None:  # poll, not select: a descriptor may lie past 1023
            poller = select.poll()
            poller.register(self._fd, select.POLLIN)
            if not poller.poll(timeout * 1000):
                return None
        head = _read(self._fd, 4)
        if head is None:
            return None
        body = _read(self._fd, struct.unpack("!I", head)[0])
        if body is None:
            return None
        message: Message = pickle.loads(body)
        return message

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _read(fd: int, n: int) -> bytes | None:
    parts = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def start(db: str | None, policy_path: str | None) -> FirstScreen:
    """Fork the reader; call before importing Textual or SQLAlchemy."""
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(w)
        return FirstScreen(pid, r)
    os.close(r)
    code = 0
    try:
        _child(w, db, policy_path)
    except BaseException:  # noqa: BLE001 - said through the pipe where possible
        code = 1
    finally:
        os._exit(code)


def _send(fd: int, message: Message) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    os.write(fd, struct.pack("!I", len(body)))
    view = memoryview(body)
    while view:
        view = view[os.write(fd, view) :]


def _child(fd: int, db: str | None, policy_path: str | None) -> None:
    opened = False
    try:
        if not policy_path:
            opened, done = _on_driver(fd, db)
            if done:
                return
        from console import clock
        from console.errors import StoreUnavailable
        from console.store.engine import open_store

        try:
            store = open_store(db, existing=True)  # only init and demo create one
        except StoreUnavailable as exc:
            _send(fd, ("error", str(exc), 2))
            return
        from console.identity import operator_of

        if not opened:
            _send(fd, ("opened", store.url, operator_of(store)))
        from console.queue import load_queue
        from console.records import load_terms
        from console.rules.policy_book import PolicyBook
        from console.views.queue import subscriber_names

        with store.connection() as conn:
            if policy_path:
                from console.rules.policy import load_policy

                book = PolicyBook.of(load_policy(policy_path), what_if=policy_path)
            else:
                from console.policy_store import load_book

                book = load_book(conn)
            terms = load_terms(conn, book)
            names = subscriber_names(conn)
            at = clock.now()
            rows = load_queue(conn, None, at, terms=terms, top=TOP_ROWS)[:TOP_ROWS]
        store.dispose()
        _send_rows(fd, rows, names, at)
    except Exception as exc:  # the console says it on screen and reads again itself
        from console.errors import fault_text

        _send(fd, ("error", f"cannot load the queue: {fault_text(exc)}", 0))


def _send_rows(fd: int, rows: list[QueueRow], names: dict[str, str], at: int) -> None:
    for row in rows:  # their clocks now; their terms stay here
        row.current(at)
        row.terms = None
    _send(fd, ("rows", rows, names, at))


def _on_driver(fd: int, db: str | None) -> tuple[bool, bool]:
    """The first screen of a SQLite file at the newest schema, read on the driver alone
    (``console.store.location.sqlite_reader``): SQLAlchemy and the models are not imported,
    a quarter of a second of the child's. Returns (opened sent, rows sent); anything else
    (another database, an older schema, a case to evaluate from its events) is read through
    the store, which says what is wrong or upgrades it."""
    from console.store.location import resolve_url, sqlite_reader

    url = resolve_url(db)
    reader = sqlite_reader(url)
    if reader is None:
        return False, False
    from console import clock
    from console.identity import login_name

    _send(fd, ("opened", url, login_name()))  # the console starts its screen meanwhile
    from console.queue import NeedsEvents, load_queue
    from console.stored_policy import load_book
    from console.stored_terms import load_terms, subscriber_names

    try:
        terms = load_terms(reader, load_book(reader))
        names = subscriber_names(reader)
        at = clock.now()
        rows = load_queue(reader, None, at, terms=terms, top=TOP_ROWS)[:TOP_ROWS]
    except NeedsEvents:
        return True, False
    finally:
        reader.close()
    _send_rows(fd, rows, names, at)
    return True, True
