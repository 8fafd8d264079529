"""The console's first screen comes before the database layer (issue 14): the forked reader
reads a SQLite file at the newest schema on the driver alone, and the console process lays
out every pane without importing SQLAlchemy or the models (they come after the first
paint). Otherwise the store reads, as before, and says what is wrong."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_support import run
from test_cli_imports import heavy_loaded

from console import clock, first_screen
from console.rules.timeutil import format_instant

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads


@pytest.fixture
def desk(tmp_path: Path, capsys) -> Path:
    """300 demo cases written an hour before the real now (the reader reads at now)."""
    db = tmp_path / "desk.db"
    at = clock.now() - 3600
    code, _, err = run(
        capsys, "--db", str(db), "demo", "--cases", "300", "--no-tui", "--at", format_instant(at)
    )
    assert code == 0, err
    clock.freeze(None)
    return db


def _messages(send: Any) -> list[Any]:
    """Every message ``send(fd)`` writes to a pipe (read meanwhile: 200 rows fill it)."""
    r, w = os.pipe()
    got: list[Any] = []

    def read() -> None:
        handle = first_screen.FirstScreen(0, r)
        while (m := handle.next()) is not None:
            got.append(m)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        send(w)
    finally:
        os.close(w)
        reader.join(10)
        os.close(r)
    return got


def _expected(db: Path, at: int) -> list[str]:
    from console.policy_store import load_book
    from console.queue import load_queue
    from console.store.engine import open_store

    with open_store(str(db)) as store, store.connection() as conn:
        rows = load_queue(conn, load_book(conn), at)
    return [r.id for r in rows[: first_screen.TOP_ROWS]]


def test_the_first_screen_is_read_on_the_driver_alone(desk: Path):
    """A SQLite file at the newest schema: "opened" (the resolved URL, the OS login) before
    anything is read, then the top rows, with neither SQLAlchemy nor sqlmodel imported."""
    body = f"""
import os, threading
from console import first_screen
r, w = os.pipe()
got = []
def read():
    h = first_screen.FirstScreen(0, r)
    while (m := h.next()) is not None:
        got.append(m[0])
t = threading.Thread(target=read)
t.start()
done = first_screen._on_driver(w, {str(desk)!r})
os.close(w)
t.join()
print(done, got)
"""
    loaded, out = heavy_loaded(body)
    assert out == "(True, True) ['opened', 'rows']"
    assert "sqlalchemy" not in loaded
    assert "sqlmodel" not in loaded


def test_the_driver_s_first_screen_is_the_queue_s_top(desk: Path):
    from console.identity import login_name

    got = _messages(lambda w: first_screen._child(w, str(desk), None))
    assert [m[0] for m in got] == ["opened", "rows"]
    assert got[0][1:] == ("sqlite:///" + str(desk), login_name())
    _, rows, names, at = got[1]
    assert [r.id for r in rows] == _expected(desk, at)
    assert len(rows) == first_screen.TOP_ROWS
    assert all(r.terms is None for r in rows)
    assert names
    assert all(r.subscriber in names for r in rows)


def test_a_case_to_evaluate_from_its_events_is_read_through_the_store(desk: Path):
    """A case whose stored summary cannot be carried to now (here: its validity ended) is
    evaluated from its events, which the driver alone does not read: the store reads the
    first screen instead, and "opened" is said once."""
    raw = sqlite3.connect(desk)
    with raw:
        raw.execute(
            "UPDATE case_state SET valid_until = 1 WHERE case_id = "
            "(SELECT case_id FROM case_state WHERE listed ORDER BY next_due LIMIT 1)"
        )
    raw.close()
    alone = _messages(lambda w: first_screen._on_driver(w, str(desk)))
    assert [m[0] for m in alone] == ["opened"]
    got = _messages(lambda w: first_screen._child(w, str(desk), None))
    assert [m[0] for m in got] == ["opened", "rows"]
    _, rows, _, at = got[1]
    assert [r.id for r in rows] == _expected(desk, at)


def test_an_older_schema_or_a_what_if_policy_is_read_through_the_store(desk: Path):
    from console.store.location import HEAD

    raw = sqlite3.connect(desk)
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = '0013_older'")
    raw.close()
    assert _messages(lambda w: first_screen._on_driver(w, str(desk))) == []
    raw = sqlite3.connect(desk)
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = ?", (HEAD,))
    raw.close()
    from importlib import resources

    policy = Path(str(resources.files("console.rules").joinpath("policy.toml")))  # what-if
    got = _messages(lambda w: first_screen._child(w, str(desk), str(policy)))
    assert [m[0] for m in got] == ["opened", "rows"]
    assert [r.id for r in got[1][1]][:20] == _expected(desk, got[1][3])[:20]


def test_no_database_is_said_and_nothing_is_created(tmp_path: Path):
    missing = tmp_path / "none.db"
    got = _messages(lambda w: first_screen._child(w, str(missing), None))
    assert [m[0] for m in got] == ["error"]
    assert got[0][2] == 2
    assert not missing.exists()


def test_the_console_lays_out_every_pane_without_the_database_layer():
    """The console's process reaches its first paint without SQLAlchemy or the models
    (0.3 s): the panes import the views that read the database when they first read."""
    body = """
from datetime import UTC
import screens.app
from screens.panes import PANES
panes = [p.factory(UTC) for p in PANES]
print(len(panes))
"""
    loaded, out = heavy_loaded(body)
    assert out == "6"
    assert "sqlalchemy" not in loaded
    assert "sqlmodel" not in loaded
