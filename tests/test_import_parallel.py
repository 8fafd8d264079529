"""The streamed import's fast paths (issue 14): the first pass's count, several preparing
processes taking the batches in turn, rows handed over as tuples, revs counted on, the
garbage collector paused. Each must write exactly what the plain serial import writes."""

from __future__ import annotations

import gc
import json
import sqlite3
from pathlib import Path

import pytest
from cli_support import init_db, run
from test_queue_paths import _history_doc

from console import import_stream
from console.rules.policy import Records
from console.rules.timeutil import format_instant, parse_instant

NOW = "2027-06-30T00:00:00Z"
#: Instants before the import's own, some before many cases closed (queue --at's closed-
#: since branch), across year ends.
PAST = ("2024-12-31T23:30:00Z", "2025-07-01T12:00:00Z", "2026-01-05T15:00:00Z", NOW)


def _desk(n: int, seed: int) -> dict:
    """``_history_doc``'s desk, with cases closed (most of them: history), time logged and
    notes (event data) as an export carries them."""
    doc = _history_doc(n, seed)
    for i, c in enumerate(doc["cases"]):
        evs = c["events"]
        if i % 3 == 0:
            evs.insert(
                0,
                {
                    "at": c["reported_at"],
                    "kind": "time_logged",
                    "by": "e",
                    "hours": 0.5,
                    "note": f"first look {i}",
                },
            )
        if evs and evs[-1]["kind"] == "resolved" or i % 4 == 1:
            last = parse_instant(evs[-1]["at"] if evs else c["reported_at"])
            if not evs or evs[-1]["kind"] != "resolved":
                evs.append({"at": format_instant(last + 3600), "kind": "resolved", "by": "e"})
                last += 3600
            evs.append({"at": format_instant(last + 4 * 86400), "kind": "closed", "by": "e"})
    return doc


def _last(case: dict) -> int:
    """The case's last instant: its report or its latest event."""
    return max(parse_instant(x) for x in (case["reported_at"], *(e["at"] for e in case["events"])))


def _tables(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()  # noqa: S608
            for t in ("support_case", "case_event", "case_state", "time_entry", "escalation")
        }
    finally:
        con.close()


def _import(tmp_path: Path, capsys, monkeypatch, doc: dict, name: str, *, parallel: bool, n=2):
    original = import_stream.import_cases
    monkeypatch.setattr(import_stream, "BATCH", 7)
    monkeypatch.setattr(import_stream, "PREPARERS", n)
    monkeypatch.setattr(
        import_stream,
        "import_cases",
        lambda *a, **k: original(*a, **k, parallel=parallel),
    )
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc), "utf-8")
    db = tmp_path / f"{name}.db"
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", str(db), "import", str(path), now=NOW)
    monkeypatch.setattr(import_stream, "import_cases", original)
    return db, code, err


@pytest.mark.parametrize("preparers", [2, 3])
def test_preparers_in_turn_write_what_the_serial_import_writes(
    tmp_path: Path, capsys, monkeypatch, preparers: int
):
    doc = _desk(120, 5)  # closed and open cases over three years
    serial, code, err = _import(tmp_path, capsys, monkeypatch, doc, "serial", parallel=False)
    assert code == 0, err
    par, code, err = _import(tmp_path, capsys, monkeypatch, doc, "par", parallel=True, n=preparers)
    assert code == 0, err
    want = _tables(serial)
    assert _tables(par) == want
    assert len(want["case_state"]) == len(doc["cases"])
    # every summary its own rev, counted on from the first
    con = sqlite3.connect(par)
    try:
        revs = sorted(r for (r,) in con.execute("SELECT rev FROM case_state"))
    finally:
        con.close()
    assert revs == list(range(1, len(doc["cases"]) + 1))
    # every listed case has its queue --json template (migration 0014), closed ones none
    con = sqlite3.connect(par)
    try:
        missing = con.execute(
            "SELECT count(*) FROM case_state WHERE listed = (queue_json IS NULL)"
        ).fetchone()[0]
    finally:
        con.close()
    assert missing == 0
    closed = [
        c["id"] for c in doc["cases"] if any(e["kind"] == "closed" for e in c.get("events", []))
    ]
    assert closed
    for cid in closed[:5]:
        got = [
            run(capsys, "--db", str(db), "case", cid, "--json", now=NOW)[1] for db in (serial, par)
        ]
        assert got[0] == got[1]
        assert json.loads(got[0])["id"] == cid
    for at in PAST:
        got = [
            run(capsys, "--db", str(db), "queue", "--json", "--at", at, now=NOW)[1]
            for db in (serial, par)
        ]
        assert got[0] == got[1], at


def test_a_refusal_from_any_preparer_says_what_the_serial_import_says(
    tmp_path: Path, capsys, monkeypatch
):
    doc = _desk(40, 3)
    cases = doc["cases"]
    # A duplicate of a case in another preparer's batch, and a bad event in a late batch.
    cases.append(dict(cases[1], title="again"))
    late = cases[-5]
    late["events"] = [{"at": "not an instant", "kind": "acknowledged"}]
    answers = []
    for parallel in (False, True):
        db, code, err = _import(
            tmp_path, capsys, monkeypatch, doc, f"bad-{parallel}", parallel=parallel, n=3
        )
        assert code == 1
        assert _tables(db)["support_case"] == []  # nothing written
        answers.append(err)
    assert answers[0] == answers[1]
    assert f"cases[{len(cases) - 1}].id: duplicate case id '{cases[1]['id']}'" in answers[0]
    assert f"cases[{len(cases) - 5}].events[0].at" in answers[0]


def test_the_first_pass_counts_the_cases_not_their_fields(tmp_path: Path):
    doc = {
        "subscribers": [{"id": "s", "deep": {"a": [1, {"b": None}]}}],
        "cases": [{"id": "A", "title": "t", "events": [{"at": "x"}]}, 7, [1, [2]], {}],
        "users": [],  # after the cases: read as well
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc), "utf-8")
    sections, n = import_stream.read_sections(str(path), "c.json", Records())
    assert n == 4
    assert sections == {"subscribers": doc["subscribers"], "users": []}
    path.write_text(json.dumps({"cases": {"item": 1}, "users": [1]}), "utf-8")
    assert import_stream.read_sections(str(path), "c.json", Records()) == (
        {"cases": "not a list", "users": [1]},
        0,
    )


def test_the_import_leaves_the_garbage_collector_as_it_found_it(
    tmp_path: Path, capsys, monkeypatch
):
    was = gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            db, code, err = _import(
                tmp_path, capsys, monkeypatch, _desk(30, 2), f"gc-{enabled}", parallel=False
            )
            assert code == 0, err
            assert gc.isenabled() is enabled
            assert gc.get_freeze_count() == frozen
    finally:
        (gc.enable if was else gc.disable)()


def test_preparers_in_turn_on_postgresql_answer_as_sqlite_does(
    pg_server, pg_url: str, tmp_path: Path, capsys, monkeypatch
):
    """The rows handed over as tuples go through SQLAlchemy on PostgreSQL (their JSON
    decoded again): the same answers as the SQLite import's."""
    from test_identity_pg import close_desk, open_desk

    doc = _desk(60, 7)
    # open_desk imports at the real clock: nothing after today
    doc["cases"] = [c for c in doc["cases"] if _last(c) < parse_instant("2026-11-01T00:00:00Z")]
    lite, code, err = _import(tmp_path, capsys, monkeypatch, doc, "lite", parallel=False)
    assert code == 0, err
    original = import_stream.import_cases
    monkeypatch.setattr(import_stream, "BATCH", 7)
    monkeypatch.setattr(
        import_stream, "import_cases", lambda *a, **k: original(*a, **k, parallel=True)
    )
    desk = open_desk(pg_server, pg_url, tmp_path, capsys, monkeypatch, doc)
    try:
        closed = [
            c["id"] for c in doc["cases"] if c["events"] and c["events"][-1]["kind"] == "closed"
        ]
        logged = [
            c["id"] for c in doc["cases"] if c["events"] and c["events"][0]["kind"] == "time_logged"
        ]
        for cid in (*closed[:4], *logged[:2]):
            got = [
                json.loads(run(capsys, "--db", db, "case", cid, "--json", now=NOW)[1])
                for db in (str(lite), desk.lead_url)
            ]
            assert got[0] == got[1], cid
        for at in PAST:
            got = [
                run(capsys, "--db", db, "queue", "--json", "--at", at, now=NOW)[1]
                for db in (str(lite), desk.lead_url)
            ]
            assert got[0] == got[1], at
        meters = [
            run(capsys, "--db", db, "meters", "--json", now=NOW)[1]
            for db in (str(lite), desk.lead_url)
        ]
        assert meters[0] == meters[1]
    finally:
        close_desk(desk)
