"""``queue --json`` on two cores (console/queue_json.py): shares of the risk order cut by
``next_due``, the other cut by ``reported_at`` where a case must be evaluated from its
events, and a write between the shares' reads."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cli_support import run

from console.rules.timeutil import parse_instant

NOW = "2026-11-24T15:00:00Z"


@pytest.fixture
def desk(tmp_path: Path, capsys) -> Path:
    db = tmp_path / "desk.db"
    code, _, err = run(capsys, "--db", str(db), "demo", "--cases", "400", "--no-tui", "--at", NOW)
    assert code == 0, err
    return db


def _expected(db: Path, at: int) -> str:
    """The document as one process writes it from every case's row (no shares)."""
    from console.output import queue_json_chunks
    from console.policy_store import load_book
    from console.queue import load_queue
    from console.store.engine import open_store

    with open_store(str(db)) as store, store.connection() as conn:
        rows = load_queue(conn, load_book(conn), at)
    return "".join(queue_json_chunks(at, rows))


def _cuts(db: Path, at: int) -> list[int] | None:
    from console.queue_json import due_cuts
    from console.store.engine import open_store

    with open_store(str(db)) as store, store.connection() as conn:
        return due_cuts(conn, at, 2)


def test_due_shares_follow_each_other_in_risk_order(desk: Path):
    """Read share by share, the cases are the whole queue's, in its order, each once; the
    cut lies at or after the instant and both shares hold cases."""
    from console.policy_store import load_book
    from console.queue import load_queue
    from console.queue_json import _fits, _shares
    from console.store.engine import open_store

    at = parse_instant(NOW)
    cuts = _cuts(desk, at)
    assert cuts is not None
    assert len(cuts) == 1
    assert cuts[0] >= at
    with open_store(str(desk)) as store, store.connection() as conn:
        book = load_book(conn)
        whole = [r.key for r in load_queue(conn, book, at)]
        parts = [[r.key for r in load_queue(conn, book, at, due=s)] for s in _shares(cuts)]
    assert all(parts)
    assert [k for p in parts for k in p] == whole
    assert all(_fits(p, s) for p, s in zip(parts, _shares(cuts), strict=True))
    # Four shares too (a machine with more cores): still the queue, in order.
    with open_store(str(desk)) as store, store.connection() as conn:
        from console.queue_json import due_cuts

        four = due_cuts(conn, at, 4)
        assert four is not None
        parts = [[r.key for r in load_queue(conn, book, at, due=s)] for s in _shares(four)]
    assert [k for p in parts for k in p] == whole


def test_keys_outside_a_share_are_seen():
    from console.queue_json import _fits

    assert _fits([(1, 5, 0, 0, "a"), (2, 10, 0, 0, "b")], (None, 10))
    assert not _fits([(2, 11, 0, 0, "b")], (None, 10))
    assert _fits([(2, 11, 0, 0, "b"), (3, 0, 0, 0, "c")], (10, None))
    assert not _fits([(2, 10, 0, 0, "b")], (10, None))
    assert not _fits([(1, 99, 0, 0, "b")], (10, 20))
    assert _fits([], (10, 20))


@pytest.mark.parametrize(
    ("when", "cut_by_due"),
    [
        (NOW, True),
        ("2026-11-24T16:30:00Z", True),  # carried an hour and a half
        ("2026-11-20T09:00:00Z", False),  # the past: cases with events after it
        ("2027-03-01T09:00:00Z", None),  # months ahead (suspension boundaries passed?)
    ],
)
def test_the_cli_writes_the_one_process_document(desk: Path, capsys, when: str, cut_by_due):
    """``queue --json`` (a forked worker, either cut) writes, byte for byte, the document
    of the whole queue read in one process."""
    at = parse_instant(when)
    cuts = _cuts(desk, at)
    if cut_by_due is not None:
        assert (cuts is not None) == cut_by_due
    code, out, err = run(capsys, "--db", str(desk), "queue", "--json", "--at", when)
    assert code == 0, err
    assert out == _expected(desk, at)
    assert len(json.loads(out)["cases"]) > 50


class _InlinePool:
    """A pool that runs each task here at once, then ``after()``: a write can fall between
    the worker's read and this process's."""

    def __init__(self, after: Any) -> None:
        self.after = after

    def apply_async(self, fn: Any, args: tuple[Any, ...]) -> Any:
        result = fn(*args)
        self.after()

        # (the pool's AsyncResult)
        class Done:
            def get(self) -> Any:
                return result

        return Done()


@pytest.mark.parametrize("light", [True, False], ids=["driver", "store"])
def test_a_write_between_the_shares_reads_is_read_again_cut_by_reported_at(
    desk: Path, monkeypatch, light: bool
):
    """The worker reads its share (the cases with no running due); before this process
    reads its own, a case with a running due starts awaiting the subscriber (no running
    due now): neither share would hold it. The shares' revs differ, so the queue is read
    again cut by ``reported_at``, and the document holds the case, as the queue does."""
    from console import queue_json
    from console.actions import append_event
    from console.output import queue_json_from_fragments
    from console.policy_store import load_book
    from console.queue import load_queue
    from console.store.engine import open_store

    at = parse_instant(NOW)
    with open_store(str(desk)) as store, store.connection() as conn:
        book = load_book(conn)
        rows = load_queue(conn, book, at)
    cases = {c["id"]: c for c in json.loads(_expected(desk, at))["cases"]}
    moving = next(
        r
        for r in rows
        if r.next_due is not None and r.status == "open" and not cases[r.id]["awaiting_subscriber"]
    )
    cuts = _cuts(desk, at)
    assert cuts is not None
    assert moving.next_due <= cuts[0]  # in this process's share

    def write() -> None:  # once: between the first two reads
        if written:
            return
        written.append(True)
        with open_store(str(desk)) as store:
            append_event(store, moving.id, "awaiting_subscriber", at=at, by="ana", recorded_at=at)

    written: list[bool] = []
    reported = []
    split = queue_json.split_points
    monkeypatch.setattr(queue_json, "split_points", lambda *a: reported.append(a) or split(*a))
    with tempfile.TemporaryFile() as f:
        workers = queue_json.Workers(_InlinePool(write), 2, (f.fileno(),))  # type: ignore[arg-type]
        pieces = queue_json.queue_fragments(
            workers, *(("sqlite:///" + str(desk), None) if light else (str(desk), book)), at
        )
        doc = "".join(
            p.decode() if isinstance(p, bytes) else p for p in queue_json_from_fragments(at, pieces)
        )
    assert reported, "not read again"
    assert doc == _expected(desk, at)
    assert moving.id in {c["id"] for c in json.loads(doc)["cases"]}


@pytest.mark.parametrize("light", [True, False], ids=["driver", "store"])
def test_without_a_write_the_shares_are_not_read_again(desk: Path, monkeypatch, light: bool):
    from console import queue_json
    from console.output import queue_json_from_fragments
    from console.policy_store import load_book
    from console.store.engine import open_store

    at = parse_instant(NOW)
    with open_store(str(desk)) as store, store.connection() as conn:
        book = load_book(conn)
    monkeypatch.setattr(queue_json, "split_points", lambda *a: pytest.fail("read again"))
    fd, name = tempfile.mkstemp()
    os.unlink(name)
    try:
        workers = queue_json.Workers(_InlinePool(lambda: None), 2, (fd,))  # type: ignore[arg-type]
        pieces = queue_json.queue_fragments(
            workers, *(("sqlite:///" + str(desk), None) if light else (str(desk), book)), at
        )
        parts = list(queue_json_from_fragments(at, pieces))
    finally:
        os.close(fd)
    assert any(isinstance(p, bytes) for p in parts)  # the worker's text as it stands
    doc = "".join(p.decode() if isinstance(p, bytes) else p for p in parts)
    assert doc == _expected(desk, at)


def test_the_cli_reads_sqlite_without_sqlalchemy(desk: Path):
    """At the newest schema, ``queue --json`` reads the file on the driver alone: neither
    SQLAlchemy nor sqlmodel is imported (a third of a second of each process)."""
    from test_cli_imports import heavy_loaded

    body = f"""
import io, sys
from console.cli import main
out, sys.stdout = sys.stdout, io.TextIOWrapper(io.BytesIO(), write_through=True)
code = main(["--db", {str(desk)!r}, "queue", "--json", "--at", {NOW!r}])
doc = sys.stdout.buffer.getvalue()
sys.stdout = out
assert code == 0, code
assert doc.endswith(b"]}}\\n") and doc.count(b'"id": ') > 50, doc[-200:]
"""
    loaded, _ = heavy_loaded(body)
    assert "sqlalchemy" not in loaded
    assert "sqlmodel" not in loaded


def test_the_driver_alone_reads_only_a_sqlite_file_at_the_newest_schema(desk: Path, capsys):
    """Another schema version (to upgrade), no file, PostgreSQL: ``sqlite_reader`` gives
    nothing, so the store opens the database (and says what is wrong, or upgrades it, as
    for every command)."""
    import sqlite3

    from console.store.location import HEAD, sqlite_reader

    url = "sqlite:///" + str(desk)
    con = sqlite_reader(url)
    assert con is not None
    con.close()
    raw = sqlite3.connect(desk)
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = '0013_something_older'")
    raw.close()
    assert sqlite_reader(url) is None
    assert sqlite_reader("sqlite:///" + str(desk.with_name("none.db"))) is None
    assert sqlite_reader("postgresql+psycopg://u@h/db") is None
    raw = sqlite3.connect(desk)
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = ?", (HEAD,))
    raw.close()
    code, out, err = run(capsys, "--db", str(desk), "queue", "--json", "--at", NOW)
    assert code == 0, err
    assert out == _expected(desk, parse_instant(NOW))


@pytest.mark.parametrize("command", ["queue", "check"])
def test_queue_and_check_read_on_the_driver_alone_the_same_lines(desk: Path, capsys, command):
    """``queue`` and ``check`` read the whole queue on the driver alone too: the lines are
    the store's, and neither SQLAlchemy nor sqlmodel is imported."""
    from test_cli_imports import heavy_loaded

    from console.policy_store import load_book
    from console.queue import load_queue
    from console.store.engine import open_store
    from console.text import breach_lines, queue_lines

    at = parse_instant(NOW)
    with open_store(str(desk)) as store, store.connection() as conn:
        rows = load_queue(conn, load_book(conn), at)
    lines = queue_lines(rows, at) if command == "queue" else breach_lines(rows, at)
    assert lines
    code, out, err = run(capsys, "--db", str(desk), command, "--at", NOW)
    assert code == (0 if command == "queue" else 3), err
    assert out.splitlines() == [str(line) for line in lines]
    body = f"""
from console.cli import main
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["--db", {str(desk)!r}, {command!r}, "--at", {NOW!r}])
assert code in (0, 3), code
"""
    loaded, _ = heavy_loaded(body)
    assert "sqlalchemy" not in loaded


def test_a_pipe_is_widened_a_file_left_alone(tmp_path: Path):
    import fcntl

    from console.cli.cases import _wide_pipe

    r, w = os.pipe()
    try:
        with os.fdopen(w, "w", closefd=False) as out:
            _wide_pipe(out)
        size = fcntl.fcntl(w, fcntl.F_GETPIPE_SZ)
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        assert size >= min(1 << 20, limit)
    finally:
        os.close(r)
        os.close(w)
    with (tmp_path / "doc.json").open("w") as out:
        _wide_pipe(out)  # a file: nothing to do, nothing raised


@pytest.mark.parametrize("light", [True, False], ids=["driver", "store"])
def test_one_core_reads_the_whole_queue_as_one_share(desk: Path, light: bool):
    """A jump host with one core: no worker, one share of every case, the same document."""
    from console import queue_json
    from console.output import queue_json_from_fragments
    from console.policy_store import load_book
    from console.store.engine import open_store

    at = parse_instant(NOW)
    with open_store(str(desk)) as store, store.connection() as conn:
        book = load_book(conn)
    with queue_json.workers(1) as one:
        assert one.pool is None
        pieces = queue_json.queue_fragments(
            one, *(("sqlite:///" + str(desk), None) if light else (str(desk), book)), at
        )
        doc = "".join(
            p.decode() if isinstance(p, bytes) else p for p in queue_json_from_fragments(at, pieces)
        )
    assert doc == _expected(desk, at)
