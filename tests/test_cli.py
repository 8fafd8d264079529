"""The headless command: examples, bad input (nothing written), round trip, events, check."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, run
from examples_data import EXAMPLE_FILES

EXAMPLES = EXAMPLE_FILES

COMPARED = ("state", "target", "elapsed", "remaining", "due", "breached")


def write_json(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_examples_are_found():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_queue_matches_exactly(path: Path, tmp_path: Path, capsys):
    doc = json.loads(path.read_text("utf-8"))
    db = tmp_path / "ex.db"
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", str(db), "import", str(path))
    assert code == 0, err
    code, out, _ = run(capsys, "queue", "--json", "--at", doc["at"], "--db", str(db))
    assert code == 0
    got = json.loads(out)
    expected = doc["expected"]
    assert got["at"] == expected["at"]
    assert [c["id"] for c in got["cases"]] == [c["id"] for c in expected["cases"]]
    for g, e in zip(got["cases"], expected["cases"], strict=True):
        for key in ("subscriber", "type", "priority", "status", "level", "title"):
            assert g[key] == e[key], (g["id"], key)
        assert list(g["clocks"]) == list(e["clocks"]), g["id"]
        for name, ec in e["clocks"].items():
            assert {k: g["clocks"][name][k] for k in COMPARED} == {k: ec[k] for k in COMPARED}, (
                g["id"],
                name,
            )


@pytest.fixture
def base_doc() -> dict:
    doc = json.loads(EXAMPLES[0].read_text("utf-8"))
    doc.pop("at")
    doc.pop("expected")
    doc["subscribers"].append(
        {
            "id": "basic-co",
            "name": "Basic Co",
            "plan": "basic",
            "coverage": "business",
            "term_start": "2026-01-01",
            "term_end": "2026-12-31",
            "terminated_at": None,
            "targets": {},
        }
    )
    doc["deployments"].append(
        {
            "id": "basic-stage",
            "subscriber": "basic-co",
            "environment": "pre-production",
            "managed": False,
            "product": "gateway",
            "version": "4.2.0",
        }
    )
    return doc


@pytest.fixture
def db(tmp_path: Path, base_doc: dict, capsys) -> Path:
    path = tmp_path / "db.sqlite"
    init_db(capsys, path)
    code, _, err = run(
        capsys, "--db", str(path), "import", str(write_json(tmp_path / "base.json", base_doc))
    )
    assert code == 0, err
    return path


def _case(**kw) -> dict:
    c = {
        "id": "CS-9001",
        "subscriber": "alder-finance",
        "deployment": "alder-prod-gw",
        "type": "incident",
        "priority": "P2",
        "title": "New",
        "reported_at": "2026-02-04T15:00:00Z",
        "aware_at": None,
        "level": "L1",
        "links": [],
        "events": [],
    }
    c.update(kw)
    return c


BAD_IMPORTS = {
    "malformed timestamp": (
        {"cases": [_case(reported_at="2026-02-31T25:00")]},
        "cases[0].reported_at",
    ),
    "unknown subscriber": (
        {"cases": [_case(subscriber="nobody")]},
        "cases[0].subscriber: unknown subscriber",
    ),
    "P0 on unmanaged": (
        {"cases": [_case(priority="P0")]},
        "cases[0].priority: P0 needs a managed deployment",
    ),
    "basic incident on pre-production": (
        {"cases": [_case(subscriber="basic-co", deployment="basic-stage", priority="P2")]},
        "cases[0].deployment: basic plan: incidents only on production deployments",
    ),
    "duplicate id": ({"cases": [_case(id="CS-1101")]}, "cases[0].id: duplicate case id 'CS-1101'"),
    "duplicate id within the file": (
        {"cases": [_case(), _case()]},
        "cases[1].id: duplicate case id",
    ),
    "event on a closed case": (
        {
            "cases": [
                _case(
                    events=[
                        {"at": "2026-02-04T15:10:00Z", "kind": "acknowledged", "by": "e"},
                        {"at": "2026-02-04T16:00:00Z", "kind": "closed", "by": "e"},
                        {
                            "at": "2026-02-04T17:00:00Z",
                            "kind": "status_update",
                            "by": "e",
                            "note": "x",
                        },
                    ]
                )
            ]
        },
        "cases[0].events[2].kind: status_update: case CS-9001 is closed",
    ),
    "event before reported": (
        {
            "cases": [
                _case(events=[{"at": "2026-02-04T14:00:00Z", "kind": "acknowledged", "by": "e"}])
            ]
        },
        "cases[0].events[0].at: acknowledged at 2026-02-04T14:00:00Z is before the case was reported",
    ),
    "unknown event kind": (
        {
            "cases": [
                _case(events=[{"at": "2026-02-04T16:00:00Z", "kind": "teleported", "by": "e"}])
            ]
        },
        "cases[0].events[0].kind: unknown event kind",
    ),
    "bad plan": (
        {
            "subscribers": [
                {
                    "id": "x",
                    "name": "X",
                    "plan": "gold",
                    "term_start": "2026-01-01",
                    "term_end": "2026-12-31",
                }
            ]
        },
        "subscribers[0].plan: unknown plan 'gold'",
    ),
    "bad zone": (
        {
            "subscribers": [
                {
                    "id": "x",
                    "name": "X",
                    "plan": "basic",
                    "timezone": "Mars/Base",
                    "term_start": "2026-01-01",
                    "term_end": "2026-12-31",
                }
            ]
        },
        "subscribers[0].timezone: unknown time zone",
    ),
}


@pytest.mark.parametrize("name", list(BAD_IMPORTS))
def test_bad_import_is_refused_and_writes_nothing(name: str, db: Path, tmp_path: Path, capsys):
    doc, message = BAD_IMPORTS[name]
    # A good record beside the bad one must not be written either.
    doc = copy.deepcopy(doc)
    doc.setdefault("cases", []).insert(0, _case(id="CS-GOOD"))
    # Paths in the expected message count the good case first.
    message = message.replace("cases[1]", "cases[2]").replace("cases[0]", "cases[1]")
    before = fingerprint(db)
    code, out, err = run(
        capsys, "--db", str(db), "import", str(write_json(tmp_path / "bad.json", doc))
    )
    assert code == 1
    assert message in err, err
    assert "nothing was written" in err
    assert out == ""
    assert fingerprint(db) == before


def test_not_json_and_missing_file(db: Path, tmp_path: Path, capsys):
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    before = fingerprint(db)
    code, _, err = run(capsys, "--db", str(db), "import", str(tmp_path / "x.json"))
    assert code == 1
    assert "not valid JSON: line 1" in err
    code, _, err = run(capsys, "--db", str(db), "import", str(tmp_path / "nope.json"))
    assert code == 1
    assert "cannot read" in err
    assert fingerprint(db) == before


def test_export_round_trips(db: Path, tmp_path: Path, capsys):
    for path in EXAMPLES[1:]:
        code, _, err = run(capsys, "--db", str(db), "import", str(path))
        assert code == 0, err
    assert run(capsys, "--db", str(db), "init", "--lead", "lead-okane")[0] == 0
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "CS-1101",
        "suspended",
        "--at",
        "2026-02-03T21:00:00Z",
        "--reason",
        "custom_extension",
        login="lead-okane",
    )
    assert code == 0, err
    code, first, _ = run(capsys, "--db", str(db), "export")
    assert code == 0
    again = tmp_path / "again.db"
    init_db(capsys, again)
    code, _, err = run(
        capsys,
        "--db",
        str(again),
        "import",
        str(write_json(tmp_path / "exp.json", json.loads(first))),
    )
    assert code == 0, err
    code, second, _ = run(capsys, "--db", str(again), "export")
    assert json.loads(first) == json.loads(second)
    for db_path in (db, again):
        run(capsys, "--db", str(db_path), "queue", "--json", "--at", "2026-11-01T00:00:00Z")
    _, q1, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", "2026-10-05T16:00:00Z")
    _, q2, _ = run(capsys, "--db", str(again), "queue", "--json", "--at", "2026-10-05T16:00:00Z")
    assert json.loads(q1) == json.loads(q2)


def test_event_is_recorded_and_changes_the_clocks(db: Path, capsys):
    code, out, _ = run(
        capsys, "--db", str(db), "case", "CS-1102", "--json", "--at", "2026-02-03T20:00:00Z"
    )
    assert code == 0
    assert json.loads(out)["clocks"]["response"]["state"] == "running"
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "CS-1102",
        "acknowledged",
        "--at",
        "2026-02-03T20:00:00Z",
        login="eng-x",
    )
    assert code == 0, err
    code, out, _ = run(
        capsys, "--db", str(db), "case", "CS-1102", "--json", "--at", "2026-02-03T21:00:00Z"
    )
    case = json.loads(out)
    assert case["clocks"]["response"] == {
        "state": "stopped",
        "target": 21600,
        "elapsed": 5400,
        "remaining": 16200,
        "due": None,
        "breached": False,
        "paused_for": None,
    }
    assert case["clocks"]["workaround"]["state"] == "running"
    assert case["history"][-1]["kind"] == "acknowledged"
    assert case["history"][-1]["by"] == "eng-x"
    # --at before the event: the state as it was then.
    _, out, _ = run(
        capsys, "--db", str(db), "case", "CS-1102", "--json", "--at", "2026-02-03T19:59:59Z"
    )
    assert json.loads(out)["clocks"]["response"]["state"] == "running"


ILLEGAL_EVENTS = [
    (["CS-1101", "subscriber_responded"], "not awaiting the subscriber"),
    (["CS-1101", "acknowledged"], "already acknowledged"),
    (
        ["CS-1101", "reclassified", "--priority", "P0", "--reason", "worse"],
        "P0 needs a managed deployment",
    ),
    (["CS-1101", "reclassified", "--priority", "P1"], "needs a reason"),
    (["CS-1101", "time_logged", "--hours", "2", "--exempt"], "exempt time entry needs a note"),
    (["CS-1101", "time_logged", "--hours", "lots"], "--hours: not a number"),
    (["CS-1101", "level_changed", "--level", "L9"], "unknown level"),
    (["CS-1101", "dance"], "unknown event kind"),
    (["CS-NOPE", "acknowledged"], "unknown case"),
    (["CS-1101", "acknowledged", "--at", "2026-02-03T14:00:00Z"], "before the case was reported"),
    (["CS-1101", "acknowledged", "--at", "yesterday"], "--at: not an ISO 8601 timestamp"),
]


@pytest.mark.parametrize(("argv", "message"), ILLEGAL_EVENTS, ids=[m for _, m in ILLEGAL_EVENTS])
def test_illegal_event_is_refused_and_writes_nothing(argv, message, db: Path, capsys):
    before = fingerprint(db)
    code, out, err = run(capsys, "--db", str(db), "event", *argv)
    assert code == 1
    assert message in err, err
    assert fingerprint(db) == before


def test_event_on_closed_case_is_refused(db: Path, capsys):
    for kind, at in (("resolved", "2026-02-03T21:00:00Z"), ("closed", "2026-02-03T21:30:00Z")):
        assert run(capsys, "--db", str(db), "event", "CS-1101", kind, "--at", at)[0] == 0
    before = fingerprint(db)
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "CS-1101",
        "status_update",
        "--note",
        "hi",
        "--at",
        "2026-02-03T22:00:00Z",
    )
    assert code == 1
    assert "is closed" in err
    assert fingerprint(db) == before
    # Closed cases leave the queue but `case` still shows them.
    _, out, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", "2026-02-04T00:00:00Z")
    assert "CS-1101" not in [c["id"] for c in json.loads(out)["cases"]]
    code, out, _ = run(capsys, "--db", str(db), "case", "CS-1101", "--json")
    assert code == 0
    assert json.loads(out)["status"] == "closed"


def test_backdated_event_is_checked_in_its_place(db: Path, capsys):
    """An event inserted before existing ones must leave a history that could have happened."""
    code, _, err = run(
        capsys, "--db", str(db), "event", "CS-1101", "resolved", "--at", "2026-02-03T19:00:00Z"
    )
    assert code == 0, err
    # The status update at 18:00 came before; a second 'resolved' at 18:30 would make the
    # later one illegal.
    code, _, err = run(
        capsys, "--db", str(db), "event", "CS-1101", "resolved", "--at", "2026-02-03T18:30:00Z"
    )
    assert code == 1
    assert "already resolved" in err


def test_check_exit_codes(db: Path, capsys):
    code, out, _ = run(capsys, "--db", str(db), "check", "--at", "2026-02-03T20:00:00Z")
    assert code == 0
    assert out == ""
    code, out, _ = run(capsys, "--db", str(db), "check", "--at", "2026-02-04T19:00:00Z")
    assert code == 3
    lines = out.strip().splitlines()
    assert any(
        line.startswith("BREACH CS-1102 alder-finance incident P3 response running")
        for line in lines
    )


def test_rebuild_recomputes_projections(db: Path, capsys):
    import sqlite3

    _, before, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", "2026-02-05T15:00:00Z")
    con = sqlite3.connect(db)
    con.execute("UPDATE case_state SET clocks = '{\"c\": {}}', next_due = NULL")
    con.commit()
    con.close()
    code, _, err = run(capsys, "--db", str(db), "rebuild")
    assert code == 0
    assert "rebuilt the clock projections of 2 cases" in err
    _, after, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", "2026-02-05T15:00:00Z")
    assert json.loads(after) == json.loads(before)


def test_queue_fast_path_equals_full_evaluation(tmp_path: Path, capsys):
    """The projection carried forward gives exactly what evaluating the events gives."""
    from sqlalchemy import select

    from console.queue import load_queue
    from console.records import case_facts, case_table, load_events, load_terms
    from console.rules.clocks import evaluate
    from console.rules.policy import default_policy
    from console.rules.timeutil import parse_instant
    from console.store.engine import open_store

    db = tmp_path / "demo.db"
    now = "2026-11-24T15:00:00Z"
    assert run(capsys, "--db", str(db), "demo", "--cases", "400", "--no-tui", "--at", now)[0] == 0
    store = open_store(str(db))
    policy = default_policy()
    for at in ("2026-11-24T15:00:00Z", "2026-11-25T03:17:00Z", "2026-12-02T12:00:00Z"):
        t = parse_instant(at)
        with store.connection() as conn:
            fast = load_queue(conn, policy, t)
            terms = load_terms(conn, policy)
            rows = conn.execute(select(case_table)).all()
            events = load_events(conn, [r.id for r in rows])
        full = []
        for r in rows:
            ev = evaluate(
                case_facts(r), events[r.id], terms.case(r.subscriber_id, r.reported_at), t
            )
            if ev.listed and r.reported_at <= t:
                full.append((r.id, ev.clocks))
        assert {i: c for i, c in full} == {r.id: r.eval.clocks for r in fast}
    store.dispose()


def test_unreachable_database_exit_2(tmp_path: Path, capsys):
    code, _, err = run(
        capsys, "--db", str(tmp_path / "missing" / "dir" / "x.db"), "queue", "--json"
    )
    assert code == 2
    assert "missing" in err
    code, _, err = run(
        capsys,
        "--db",
        "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        "queue",
        "--json",
    )
    assert code == 2


def test_demo_refuses_a_full_database_without_tui(db: Path, capsys):
    code, _, err = run(capsys, "--db", str(db), "demo", "--no-tui", "--cases", "10")
    assert code == 1
    assert "already holds data" in err


def test_streamed_queue_json_equals_the_dict_form(tmp_path: Path, capsys):
    from console.output import case_json, queue_json_chunks
    from console.queue import load_queue
    from console.rules.policy import default_policy
    from console.rules.timeutil import format_instant, parse_instant
    from console.store.engine import open_store

    db = tmp_path / "demo.db"
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
            "2026-11-24T15:00:00Z",
        )[0]
        == 0
    )
    at = parse_instant("2026-11-25T15:00:00Z")
    with open_store(str(db)) as store, store.connection() as conn:
        rows = load_queue(conn, default_policy(), at)
    built = {
        "at": format_instant(at),
        "cases": [
            case_json(
                r.id,
                r.subscriber,
                r.title,
                r.eval,
                deployment=r.deployment,
                reported_at=r.reported_at,
                end_of_support=r.support[0],
                past_end_of_support=r.support[1],
                subscriber_terminated=r.terminated,
                assignee=r.assignee,
            )
            for r in rows
        ],
    }
    assert json.loads("".join(queue_json_chunks(at, rows))) == built
    # From the stored templates (what ``queue --json`` reads), the same text.
    with open_store(str(db)) as store, store.connection() as conn:
        templated = load_queue(conn, default_policy(), at, with_json=True)
    assert all(r.doc is not None for r in templated)
    assert "".join(queue_json_chunks(at, templated)) == "".join(queue_json_chunks(at, rows))
    # The demo has them all (issue 15, item 12): the comparison covers every field.
    assert {c["assignee"] for c in built["cases"]} - {None}
    assert any(c["past_end_of_support"] for c in built["cases"])


def test_shipped_examples_match_the_specification_when_it_is_beside_the_checkout():
    """tests/data/examples is a copy of shared/examples: where the specification folder lies
    beside the checkout, the copy must not have drifted from it (a fresh clone without it
    skips this check and tests with the copy)."""
    from examples_data import EXAMPLES_DIR

    shared = Path(__file__).resolve().parents[2] / "shared" / "examples"
    if not shared.is_dir() or os.environ.get("SUPPORT_CONSOLE_EXAMPLES"):
        pytest.skip("no shared/examples beside the checkout")
    ours = {p.name: p.read_bytes() for p in EXAMPLES_DIR.glob("*") if p.is_file()}
    theirs = {p.name: p.read_bytes() for p in shared.glob("*") if p.is_file()}
    assert ours == theirs
