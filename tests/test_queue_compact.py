"""The console's queue read against the plain one, on both backends: the stored summaries
read as compact JSON text (``load_queue``'s ``compact``), the rows sorted near the risk
order by the database and the read paused between batches (``pause``); and the board read
a chunk of escalated incidents at a time."""

from __future__ import annotations

import json

from test_escalation import _doc as _incidents
from test_escalation import _load as _load_incidents
from test_store_actions import _load

from console import escalation, queue
from console.escalation import load_board
from console.output import row_fragment
from console.queue import load_queue
from console.rules.policy import default_policy
from console.rules.timeutil import parse_instant
from console.store.engine import open_store
from console.sweep import sweep

FLAGS = {"ack": False, "await": False, "susp": False, "vwait": False}


def test_the_console_read_gives_the_rows_of_the_plain_read(db_url: str, monkeypatch):
    _load(db_url)
    monkeypatch.setattr(queue, "PAUSED_BATCH", 2)  # many batches, many pauses
    policy = default_policy()
    for text in ("2026-02-03T20:00:00Z", "2026-02-05T15:30:00Z", "2026-02-09T09:00:00Z"):
        at = parse_instant(text)
        pauses: list[int] = []

        def pause(pauses: list[int] = pauses) -> None:
            pauses.append(1)

        with open_store(db_url) as store, store.connection() as conn:
            wide = load_queue(conn, policy, at, compact=False)
            console = load_queue(conn, policy, at, pause=pause)
        assert len(wide) >= 3
        assert [r.key for r in console] == [r.key for r in wide], text
        assert len(pauses) > len(wide) // 2  # between every two rows, and once more
        for c, w in zip(console, wide, strict=True):
            assert isinstance(c.raw, str)
            assert ", " not in c.raw
            assert ": " not in c.raw
            assert ":false" not in c.raw  # (a clock's own flag reads ``,false]``)
            plain = json.loads(w.raw) if isinstance(w.raw, str) else w.raw
            assert {**FLAGS, **json.loads(c.raw)} == {**FLAGS, **plain}
            assert c.eval == w.eval
            assert (c.marked, c.stored_breach) == (w.marked, w.stored_breach)
            assert (c.next_due, c.valid_until, c.assignee) == (
                w.next_due,
                w.valid_until,
                w.assignee,
            )
            assert row_fragment(c) == row_fragment(w)  # queue --json's text, either way


def test_the_board_read_by_chunks_is_the_board(sqlite_url: str, monkeypatch):
    _load_incidents(sqlite_url, _incidents(5))
    at = parse_instant("2026-02-05T15:30:00Z")
    with open_store(sqlite_url) as store:
        sweep(store, parse_instant("2026-02-05T15:00:00Z"), recorded_at=at)
        with store.connection() as conn:
            whole = load_board(conn, default_policy(), at)
            monkeypatch.setattr(escalation, "CHUNK", 2)  # three chunks of events
            chunked = load_board(conn, default_policy(), at)
    assert len(whole) == 5
    assert chunked == whole
