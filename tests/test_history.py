"""History that does not slow the desk (issue 14): the demo's closed history, the streamed
export and import, the sweep through ``escalate_at``, the console's re-reads by ``rev``,
the even split of ``queue --json``, the first screen read in another process."""

from __future__ import annotations

import io
import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_support import init_db, run
from test_queue_paths import _history_doc

from console import clock
from console.rules.timeutil import format_instant, parse_instant, parse_utc_z

NOW = "2026-11-24T15:00:00Z"


@pytest.fixture
def history_db(tmp_path: Path, capsys) -> Path:
    """A demo desk with closed history: 40 recent cases and 400 closed over three years."""
    db = tmp_path / "history.db"
    code, _, err = run(
        capsys, "--db", str(db), "demo", "--cases", "40", "--closed", "400", "--no-tui", "--at", NOW
    )
    assert code == 0, err
    return db


def test_demo_closed_history_spans_three_years_closed_escalated_and_logged(history_db: Path):
    import sqlite3

    con = sqlite3.connect(history_db)
    try:
        n, first, last = con.execute(
            "SELECT count(*), min(reported_at), max(reported_at) FROM support_case "
            "WHERE id IN (SELECT case_id FROM case_state WHERE listed = 0)"
        ).fetchone()
        kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM case_event")}
        escalated = con.execute("SELECT count(*) FROM escalation").fetchone()[0]
        entries = con.execute("SELECT count(*) FROM time_entry").fetchone()[0]
        ids = [r[0] for r in con.execute("SELECT id FROM support_case ORDER BY reported_at")]
    finally:
        con.close()
    assert n >= 400
    assert parse_instant(NOW) - first > 2.9 * 365 * 86400  # three years back
    assert parse_instant(NOW) - last < 60 * 86400
    assert {
        "acknowledged",
        "resolved",
        "closed",
        "time_logged",
        "escalated",
        "reopened",
        "workaround_provided",
        "war_team_member",
        "board_moved",
    } <= kinds
    assert escalated > 0
    assert entries > 0
    # Numbered as they came in: the history before the recent cases.
    assert ids[:400] == [f"CS-{10001 + k}" for k in range(400)]


def test_streamed_export_is_the_json_document_and_imports_back(
    history_db: Path, tmp_path: Path, capsys, monkeypatch
):
    from console import import_stream
    from console.exporter import export, write_export
    from console.store.engine import open_store

    with open_store(str(history_db)) as store, store.connection() as conn:
        doc = export(conn)
        out = io.StringIO()
        write_export(conn, out)
    assert out.getvalue() == json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    path = tmp_path / "e.json"
    path.write_text(out.getvalue(), "utf-8")
    original = import_stream.import_cases
    monkeypatch.setattr(import_stream, "BATCH", 37)  # many batches, links across them
    for parallel in (False, True):
        monkeypatch.setattr(
            import_stream,
            "import_cases",
            lambda *a, _p=parallel, **k: original(*a, **k, parallel=_p),
        )
        again = tmp_path / f"again-{parallel}.db"
        init_db(capsys, again)
        code, _, err = run(capsys, "--db", str(again), "import", str(path), now=NOW)
        assert code == 0, err
        code, second, _ = run(capsys, "--db", str(again), "export", now=NOW)
        assert code == 0
        assert json.loads(second) == doc
        for argv in (("queue", "--json"), ("escalations", "--json"), ("meters", "--json")):
            assert (
                run(capsys, "--db", str(again), *argv, now=NOW)[1]
                == run(capsys, "--db", str(history_db), *argv, now=NOW)[1]
            )


def _small_doc() -> dict:
    doc = _history_doc(6, 3)
    for i, c in enumerate(doc["cases"]):
        c["events"] = []
        c["id"] = f"H-{i}"
    return doc


def test_streamed_import_links_forward_across_batches_and_refuses_what_it_should(
    tmp_path: Path, capsys, monkeypatch
):
    from console import import_stream

    monkeypatch.setattr(import_stream, "BATCH", 2)
    doc = _small_doc()
    sub = doc["subscribers"][0]["id"]
    dep = doc["deployments"][0]["id"]
    # A change request (first) linked to a service request further on, in a later batch.
    doc["deployments"][0]["managed"] = True
    cr = {
        "id": "CR-1",
        "subscriber": sub,
        "deployment": dep,
        "type": "change_request",
        "priority": None,
        "title": "Scale out",
        "reported_at": "2026-06-02T10:00:00Z",
        "links": ["SR-1"],
        "events": [],
    }
    sr = {
        "id": "SR-1",
        "subscriber": sub,
        "deployment": dep,
        "type": "service_request",
        "priority": None,
        "title": "More replicas",
        "reported_at": "2026-06-01T10:00:00Z",
        "events": [],
    }
    doc["cases"] = [cr, *doc["cases"], sr]
    # Sections after the cases count as well (a file's keys may come in any order).
    doc = {k: doc[k] for k in ("deployments", "cases", "subscribers")}
    doc["operators"] = [{"name": "lead-1", "role": "lead"}]
    path = tmp_path / "f.json"
    path.write_text(json.dumps(doc), "utf-8")
    db = tmp_path / "f.db"
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", str(db), "import", str(path), now=NOW)
    assert code == 0, err
    _, out, _ = run(capsys, "--db", str(db), "case", "CR-1", "--json", now=NOW)
    assert json.loads(out)["links"] == ["SR-1"]
    _, out, _ = run(capsys, "--db", str(db), "operators", now=NOW)
    assert "lead-1" in out
    assert "lead" in out

    bad = dict(doc, operators=[])
    bad["cases"] = [
        *doc["cases"],
        dict(doc["cases"][3], title="again"),
        dict(cr, id="CR-2", links=["NOPE"]),
    ]
    path.write_text(json.dumps(bad), "utf-8")
    other = tmp_path / "g.db"
    init_db(capsys, other)
    code, _, err = run(capsys, "--db", str(other), "import", str(path), now=NOW)
    assert code == 1
    assert f"cases[{len(doc['cases'])}].id: duplicate case id 'H-2'" in err
    assert "links: unknown case 'NOPE'" in err
    assert "nothing was written" in err
    import sqlite3

    con = sqlite3.connect(other)
    try:
        assert con.execute("SELECT count(*) FROM support_case").fetchone()[0] == 0
    finally:
        con.close()


def test_export_to_a_file_on_stdout_that_fails_is_cut_back_and_exits_non_zero(
    history_db: Path, tmp_path: Path, monkeypatch
):
    import sys

    from console import exporter
    from console.cli import main

    target = tmp_path / "out.json"
    target.write_text("kept\n", "utf-8")
    real_chunk = exporter._chunk
    calls = []

    def failing(conn, rows):
        calls.append(1)
        if len(calls) > 1:
            from sqlalchemy.exc import OperationalError

            raise OperationalError("SELECT", {}, Exception("disk I/O error"))
        yield from real_chunk(conn, rows)

    monkeypatch.setattr(exporter, "_chunk", failing)
    monkeypatch.setattr(exporter, "CHUNK", 100)
    with open(target, "a", encoding="utf-8") as fh:
        monkeypatch.setattr(sys, "stdout", fh)
        code = main(["--db", str(history_db), "export"])
    assert code == 2
    assert target.read_text("utf-8") == "kept\n"  # no partial document left behind


def test_sweep_reads_incidents_by_escalate_at_as_evaluating_every_one_would(tmp_path: Path, capsys):
    """``scan`` (through ``escalate_at``) against a slow twin that evaluates every open
    incident from its events, at instants over three years."""
    from sqlalchemy import select

    from console.policy_store import load_book
    from console.records import case_facts, case_table, load_events, load_terms
    from console.rules.clocks import evaluate
    from console.rules.escalation import ESCALATING_CLOCKS
    from console.store.engine import open_store
    from console.sweep import scan

    db = tmp_path / "h.db"
    path = tmp_path / "h.json"
    path.write_text(json.dumps(_history_doc(200, 5)), "utf-8")
    init_db(capsys, db)
    assert run(capsys, "--db", str(db), "import", str(path), now="2027-06-30T00:00:00Z")[0] == 0
    with open_store(str(db)) as store, store.connection() as conn:
        book = load_book(conn)
        terms = load_terms(conn, book)
        rows = conn.execute(select(case_table)).all()
        events = load_events(conn, [r.id for r in rows])
        for text in ("2025-03-03T12:00:00Z", "2026-01-05T15:00:00Z", "2027-06-29T00:00:00Z"):
            at = parse_instant(text)
            due, next_due = scan(conn, book, at)
            want_due, want_next = set(), None
            for r in rows:
                t = terms.case(r.subscriber_id, r.reported_at)
                ev = evaluate(case_facts(r), events[r.id], t, at)
                if not ev.listed or r.reported_at > at or ev.type != "incident":
                    continue
                if any(ev.clocks[c].breached for c in ESCALATING_CLOCKS if c in ev.clocks):
                    want_due.add(r.id)
                    continue
                for c in ESCALATING_CLOCKS:
                    st = ev.clocks.get(c)
                    if st is not None and st.state == "running" and st.remaining is not None:
                        b = t.specs(ev.type, ev.priority)[c].calendar.add(at, st.remaining + 1)
                        want_next = b if want_next is None else min(want_next, b)
            assert {e.case_id for e in due} == want_due, text
            assert next_due == want_next, text


def test_every_summary_written_moves_rev(tmp_path: Path, capsys):
    """The console re-reads the cases whose ``rev`` moved: every write of a summary moves
    it (an event, a new case, a subscriber's suspension)."""
    import sqlite3

    db = tmp_path / "r.db"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_small_doc()), "utf-8")
    init_db(capsys, db)
    assert run(capsys, "--db", str(db), "import", str(path), now=NOW)[0] == 0

    def revs() -> dict[str, int]:
        con = sqlite3.connect(db)
        try:
            return dict(con.execute("SELECT case_id, rev FROM case_state"))
        finally:
            con.close()

    before = revs()
    assert len(set(before.values())) == len(before)  # one each
    assert run(capsys, "--db", str(db), "event", "H-1", "acknowledged", now=NOW)[0] == 0
    after = revs()
    assert after["H-1"] > max(before.values())
    assert {k: v for k, v in after.items() if k != "H-1"} == {
        k: v for k, v in before.items() if k != "H-1"
    }
    sub = "ent"
    from cli_support import make_lead

    from console.store.engine import open_store

    with open_store(str(db)) as store:
        make_lead(store, "boss")
    assert (
        run(
            capsys,
            "--db",
            str(db),
            "suspend",
            sub,
            "--reason",
            "usage_limit_exceeded",
            now=NOW,
            login="boss",
        )[0]
        == 0
    )
    moved = revs()
    con = sqlite3.connect(db)
    try:
        mine = {
            r[0] for r in con.execute("SELECT id FROM support_case WHERE subscriber_id = ?", (sub,))
        }
    finally:
        con.close()
    assert mine
    assert all(moved[c] > max(after.values()) for c in mine)


def test_queue_json_workers_split_the_listed_cases_evenly(tmp_path: Path, capsys):
    from console.queue_json import split_points
    from console.store.engine import open_store

    db = tmp_path / "s.db"
    # Whole-minute instants (all even seconds: the old split by reported_at % 2 put every
    # case on one worker).
    assert run(capsys, "--db", str(db), "demo", "--cases", "500", "--no-tui", "--at", NOW)[0] == 0
    at = parse_instant(NOW)
    with open_store(str(db)) as store, store.connection() as conn:
        (cut,) = split_points(conn, at, 2)
        a, b = (
            conn.exec_driver_sql(
                "SELECT count(*) FROM case_state WHERE listed = 1 AND reported_at <= ? AND " + op,
                (at, cut),
            ).scalar()
            for op in ("reported_at < ?", "reported_at >= ?")
        )
    assert abs(a - b) <= max(2, (a + b) // 50)
    code, out, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", NOW)
    assert code == 0
    assert len(json.loads(out)["cases"]) == a + b


def test_first_screen_read_in_another_process(tmp_path: Path, capsys):
    """The console's first rows, read by a forked process, are the queue's first rows
    with their clocks; a database that cannot be opened is said in words (exit 2)."""
    from console import first_screen
    from console.policy_store import load_book
    from console.queue import load_queue
    from console.store.engine import open_store

    db = tmp_path / "f.db"
    real_now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        run(
            capsys,
            "--db",
            str(db),
            "demo",
            "--cases",
            "300",
            "--no-tui",
            "--at",
            format_instant(parse_instant(real_now) - 3600),
            now=real_now,
        )[0]
        == 0
    )
    clock.freeze(None)
    handle = first_screen.start(str(db), None)
    opened = handle.next(timeout=60)
    assert opened is not None
    assert opened[0] == "opened"
    message = handle.next(timeout=60)
    handle.close()
    assert message is not None
    assert message[0] == "rows"
    _, rows, names, at = message
    with open_store(str(db)) as store, store.connection() as conn:
        expected = load_queue(conn, load_book(conn), at)
    assert [r.id for r in rows] == [r.id for r in expected[: len(rows)]]
    assert len(rows) == min(first_screen.TOP_ROWS, len(expected))
    assert [r.current(at).clocks for r in rows[:20]] == [r.eval.clocks for r in expected[:20]]
    assert all(r.terms is None for r in rows)
    assert names

    bad = first_screen.start(str(tmp_path / "no-such-dir" / "x.db"), None)
    message = bad.next(timeout=60)
    bad.close()
    assert message is not None
    assert message[0] == "error"
    assert message[2] == 2


def test_instants_in_the_exported_shape_parse_as_the_general_path_does():
    rnd = random.Random(5)
    for _ in range(20000):
        ts = rnd.randrange(946684800, 4102444800)
        text = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert parse_utc_z(text) == ts
        assert parse_instant(text) == ts
    for text in (
        "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-01-01 00:00:00Z",
        "+026-01-01T00:00:00Z",
        "2026-01-01T00:00:00+01:00",
    ):
        assert parse_utc_z(text) is None
    assert parse_instant("2026-01-01T00:00:00+01:00") == parse_instant("2025-12-31T23:00:00Z")
    assert time.gmtime(parse_instant("2024-02-29T12:00:00Z")).tm_mday == 29
