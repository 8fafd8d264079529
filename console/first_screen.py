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
from typing import Any

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
    try:
        from console import clock
        from console.errors import StoreUnavailable
        from console.store.engine import open_store

        try:
            store = open_store(db, existing=True)  # only init and demo create one
        except StoreUnavailable as exc:
            _send(fd, ("error", str(exc), 2))
            return
        from console.identity import operator_of

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
        for row in rows:  # their clocks now; their terms stay here
            row.current(at)
            row.terms = None
        store.dispose()
        _send(fd, ("rows", rows, names, at))
    except Exception as exc:  # the console says it on screen and reads again itself
        from console.errors import fault_text

        _send(fd, ("error", f"cannot load the queue: {fault_text(exc)}", 0))
