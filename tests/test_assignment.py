"""Assignment (policy §10, issue 15 item 6): take, hand over, unassign as ``assigned``
events, through the lifecycle rules, the engine (who may be an assignee), the CLI, the
``case_state`` projection (and migration 0012_assignment's SQL for stored cases), and on
PostgreSQL an engineer's own login under row-level security."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, run

from console import clock
from console.rules.clocks import CaseFacts, Event
from console.rules.lifecycle import IllegalEvent, assignee_of, check_history
from console.rules.policy import default_policy

NOW = "2026-11-24T15:00:00Z"
POLICY = default_policy()
FACTS = CaseFacts(
    id="C-1", subscriber="acme", type="query", priority=None, reported_at=1_764_000_000
)


def ev(minutes: int, kind: str, by: str = "ana", **data) -> Event:
    return Event(at=FACTS.reported_at + minutes * 60, kind=kind, by=by, data=data, seq=minutes)


def history(*events: Event) -> None:
    check_history(FACTS, list(events), POLICY, lambda t, p: [])


def test_rules_take_hand_over_unassign():
    events = [ev(1, "assigned", to="ana"), ev(2, "assigned", to="ben"), ev(3, "assigned")]
    history(*events)
    assert [assignee_of(events[:i]) for i in range(4)] == [None, "ana", "ben", None]
    assert assignee_of([ev(1, "assigned", to=" ana ")]) == "ana"


@pytest.mark.parametrize(
    ("events", "field", "words"),
    [
        ([ev(1, "assigned")], "to", "case C-1 is not assigned to anyone"),
        (
            [ev(1, "assigned", to="ana"), ev(2, "assigned", to="ana")],
            "to",
            "case C-1 is already assigned to ana",
        ),
        ([ev(1, "assigned", to="ana bel")], "to", "a login name holds no spaces"),
        ([ev(1, "assigned", to=7)], "to", "a case is assigned to a login name"),
        ([ev(1, "closed"), ev(2, "assigned", to="ana")], "kind", "case C-1 is closed"),
    ],
    ids=["nobody-to-unassign", "same-again", "space", "not-text", "closed"],
)
def test_rules_refuse(events, field, words):
    with pytest.raises(IllegalEvent) as exc:
        history(*events)
    assert exc.value.field == field
    assert words in exc.value.message


def test_fix_eta_is_an_instant_not_before_the_agreement():
    ack = ev(1, "acknowledged")
    history(ack, ev(2, "fix_eta_agreed", eta="2025-12-01T17:00:00Z"))
    with pytest.raises(IllegalEvent, match="is before the agreement"):
        history(ack, ev(2, "fix_eta_agreed", eta="2020-01-01T00:00:00Z"))
    with pytest.raises(IllegalEvent, match="ISO 8601"):
        history(ack, ev(2, "fix_eta_agreed", eta="tomorrow"))


DOC = {
    "subscribers": [
        {
            "id": "acme",
            "name": "Acme",
            "plan": "enterprise",
            "term_start": "2026-01-01",
            "term_end": "2026-12-31",
        }
    ],
    "deployments": [
        {
            "id": "acme-prod",
            "subscriber": "acme",
            "environment": "production",
            "managed": False,
            "product": "gateway",
            "version": "4.2.0",
        }
    ],
    "cases": [
        {
            "id": "I-1",
            "subscriber": "acme",
            "deployment": "acme-prod",
            "type": "incident",
            "priority": "P2",
            "title": "slow",
            "reported_at": "2026-11-24T14:00:00Z",
        },
        {
            "id": "I-2",
            "subscriber": "acme",
            "deployment": "acme-prod",
            "type": "incident",
            "priority": "P1",
            "title": "down",
            "reported_at": "2026-11-24T14:30:00Z",
            "events": [
                {"at": "2026-11-24T14:31:00Z", "kind": "assigned", "by": "ben", "to": "ben"}
            ],
        },
        {
            "id": "Q-1",
            "subscriber": "acme",
            "type": "query",
            "title": "how",
            "reported_at": "2026-11-24T14:40:00Z",
        },
    ],
}


@pytest.fixture
def db(tmp_path: Path, capsys) -> Path:
    clock.freeze(NOW)
    path = tmp_path / "a.db"
    init_db(capsys, path)
    (tmp_path / "d.json").write_text(json.dumps(DOC), "utf-8")
    assert run(capsys, "--db", str(path), "import", str(tmp_path / "d.json"))[0] == 0
    assert run(capsys, "--db", str(path), "init", "--lead", "lena")[0] == 0
    for name, role in (("ana", "engineer"), ("ida", "executive"), ("cronbox", "system")):
        code, _, err = run(capsys, "--db", str(path), "operators", "set", name, role, login="lena")
        assert code == 0, err
    yield path
    clock.freeze(None)


def queue(capsys, db: Path, *extra: str, login: str = "ana") -> list[dict]:
    code, out, err = run(capsys, "--db", str(db), "queue", "--json", *extra, login=login)
    assert code == 0, err
    return json.loads(out)["cases"]


def test_cli_take_assign_unassign_and_the_queue(db: Path, capsys):
    assert {c["id"]: c["assignee"] for c in queue(capsys, db)} == {
        "I-1": None,
        "I-2": "ben",
        "Q-1": None,
    }
    code, _, err = run(capsys, "--db", str(db), "take", "I-1", login="ana")
    assert (code, err.strip()) == (0, "I-1: taken by ana (case version 2)")
    code, _, err = run(capsys, "--db", str(db), "assign", "Q-1", "ana", login="lena")
    assert code == 0
    assert "Q-1: assigned to ana" in err
    code, _, err = run(capsys, "--db", str(db), "assign", "I-2", "ana", login="ana")
    assert code == 0
    assert "I-2: assigned to ana (was ben)" in err
    assert [c["id"] for c in queue(capsys, db, "--mine")] == ["I-2", "I-1", "Q-1"]
    assert queue(capsys, db, "--unassigned") == []
    code, _, err = run(capsys, "--db", str(db), "unassign", "Q-1", login="ana")
    assert code == 0
    assert "Q-1: unassigned (was ana)" in err
    assert [c["id"] for c in queue(capsys, db, "--unassigned")] == ["Q-1"]
    assert [c["id"] for c in queue(capsys, db, "--mine", login="ben")] == []
    # --at a past instant: the assignee then (I-2 was ben's until 15:00)
    past = queue(capsys, db, "--mine", "--at", "2026-11-24T14:50:00Z", login="ben")
    assert [c["id"] for c in past] == ["I-2"]
    code, out, _ = run(capsys, "--db", str(db), "case", "I-2", "--json")
    case = json.loads(out)
    assert case["assignee"] == "ana"
    assert [(h["kind"], h["by"], h.get("to")) for h in case["history"]] == [
        ("assigned", "ben", "ben"),
        ("assigned", "ana", "ana"),
    ]
    code, out, _ = run(capsys, "--db", str(db), "queue", login="ana")
    assert "ASSIGNEE" in out.splitlines()[0]
    assert " ana " in out
    code, _, err = run(capsys, "--db", str(db), "queue", "--mine", "--unassigned")
    assert code == 1
    assert "exclude each other" in err


@pytest.mark.parametrize(
    ("argv", "login", "words"),
    [
        (["assign", "I-1", "anna"], "ana", "no support engineer named anna"),
        (["assign", "I-1", "cron"], "ana", "cron is a system account, not a support engineer"),
        (["assign", "I-1", "ida"], "ana", "ida is an executive, not a support engineer"),
        (["assign", "I-1", "cronbox"], "ana", "cronbox is a system login, not a support engineer"),
        (["assign", "I-1", "a b"], "ana", "'a b' is not a login name"),
        (
            ["take", "I-1"],
            "ida",
            "not allowed: assigning a case needs the engineer or lead or system",
        ),
        (["unassign", "I-1"], "ana", "case I-1 is not assigned to anyone"),
        (["take", "I-2"], "ben", "case I-2 is already assigned to ben"),
        (["take", "NOPE"], "ana", "unknown case 'NOPE'"),
    ],
    ids=[
        "typo",
        "system-account",
        "executive",
        "system-login",
        "space",
        "executive-takes",
        "nobody",
        "same",
        "unknown",
    ],
)
def test_cli_refusals_write_nothing(db: Path, capsys, argv, login, words):
    before = fingerprint(db)
    code, _, err = run(capsys, "--db", str(db), *argv, login=login)
    assert code == 1, err
    assert words in err, err
    assert fingerprint(db) == before


def test_an_os_login_of_this_host_is_an_engineer(db: Path, capsys):
    code, _, err = run(capsys, "--db", str(db), "assign", "I-1", "root", login="ana")
    assert code == 0, err
    assert {c["id"]: c["assignee"] for c in queue(capsys, db)}["I-1"] == "root"


def test_projection_rebuild_and_the_migrations_sql_agree(db: Path, capsys, tmp_path: Path):
    """``project()`` sets the assignee from the events; ``rebuild`` recomputes it; the
    migration's SQL computes the same from stored events."""
    import sqlite3

    from alembic import command
    from sqlalchemy import create_engine

    from console.store.engine import alembic_config

    run(capsys, "--db", str(db), "take", "I-1", login="ana")
    run(capsys, "--db", str(db), "assign", "I-2", "ana", login="ana")
    run(capsys, "--db", str(db), "unassign", "I-2", login="ana")
    con = sqlite3.connect(db)
    stored = dict(con.execute("SELECT case_id, assignee FROM case_state"))
    assert stored == {"I-1": "ana", "I-2": None, "Q-1": None}
    con.execute("UPDATE case_state SET assignee = 'stale'")
    con.commit()
    assert run(capsys, "--db", str(db), "rebuild")[0] == 0
    assert dict(con.execute("SELECT case_id, assignee FROM case_state")) == stored
    con.close()
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0011_queue_speed")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0012_assignment")
    engine.dispose()
    con = sqlite3.connect(db)
    assert dict(con.execute("SELECT case_id, assignee FROM case_state")) == stored
    con.close()


@pytest.mark.pg
def test_postgresql_an_engineer_assigns_under_row_level_security(
    pg_server, pg_url, tmp_path, capsys, monkeypatch
):
    from test_identity_pg import close_desk, desk_doc, open_desk

    clock.freeze(NOW)
    d = open_desk(pg_server, pg_url, tmp_path, capsys, monkeypatch, desk_doc())
    try:
        code, _, err = run(capsys, "--db", d.eng_url, "take", "I-1")
        assert code == 0, err
        code, _, err = run(capsys, "--db", d.eng_url, "assign", "I-2", d.lead)
        assert code == 0, err
        assert d.rows("SELECT case_id, assignee FROM case_state ORDER BY case_id") == [
            ("I-1", d.eng),
            ("I-2", d.lead),
        ]
        assert d.rows(
            "SELECT by, recorded_by, data::text FROM case_event WHERE kind = 'assigned' ORDER BY id"
        ) == [(d.eng, d.eng, json.dumps({"to": d.eng})), (d.eng, d.eng, json.dumps({"to": d.lead}))]
        # A name with no login is refused by the engine; nothing is written.
        before = d.fingerprint()
        code, _, err = run(capsys, "--db", d.eng_url, "assign", "I-1", "nobody_here")
        assert code == 1
        assert "no support engineer named nobody_here" in err
        assert d.fingerprint() == before
        # The database itself: an engineer's event signed with another login is refused.
        res = d.psql(
            "INSERT INTO case_event (case_id, at, kind, by, data, recorded_at) VALUES "
            f"('I-1', 1764000000, 'assigned', '{d.lead}', '{{}}', 1764000000)"
        )
        assert res.returncode != 0
        assert "row-level security" in res.stderr
        code, out, _ = run(capsys, "--db", d.eng_url, "queue", "--json", "--mine")
        assert [c["id"] for c in json.loads(out)["cases"]] == ["I-1"]
    finally:
        clock.freeze(None)
        close_desk(d)


def test_take_assign_unassign_through_the_cli_on_both_stores(db_url: str, tmp_path: Path, capsys):
    """The three commands and the queue's ``assignee``/``--mine``/``--unassigned`` on SQLite
    and on PostgreSQL (where the operator is the database login of the URL)."""
    from sqlalchemy.engine import make_url

    from console.identity import login_name

    # The creator of the database (this process's login; the URL's on PostgreSQL) is its lead.
    me = login_name() if db_url.startswith("sqlite") else make_url(db_url).username
    clock.freeze(NOW)
    try:
        init_db(capsys, db_url, login=me)
        (tmp_path / "d.json").write_text(json.dumps(DOC), "utf-8")
        code, _, err = run(capsys, "--db", db_url, "import", str(tmp_path / "d.json"), login=me)
        assert code == 0, err
        if db_url.startswith("sqlite"):  # a PostgreSQL superuser has every role already
            code, _, err = run(capsys, "--db", db_url, "init", "--lead", me, login=me)
            assert code == 0, err

        def ids(*extra: str) -> list[str]:
            return [c["id"] for c in queue_at(capsys, db_url, *extra, login=me)]

        assert {c["id"]: c["assignee"] for c in queue_at(capsys, db_url, login=me)} == {
            "I-1": None,
            "I-2": "ben",
            "Q-1": None,
        }
        assert ids("--unassigned") == ["I-1", "Q-1"]
        assert ids("--mine") == []
        code, _, err = run(capsys, "--db", db_url, "take", "I-1", login=me)
        assert (code, err.strip()) == (0, f"I-1: taken by {me} (case version 2)")
        code, _, err = run(capsys, "--db", db_url, "assign", "I-2", me, login=me)
        assert code == 0
        assert f"I-2: assigned to {me} (was ben)" in err
        assert ids("--mine") == ["I-2", "I-1"]
        assert ids("--unassigned") == ["Q-1"]
        code, _, err = run(capsys, "--db", db_url, "unassign", "I-1", login=me)
        assert code == 0
        assert f"I-1: unassigned (was {me})" in err
        assert ids("--mine") == ["I-2"]
        assert ids("--unassigned") == ["I-1", "Q-1"]
        # A refusal writes nothing: I-1 is nobody's now.
        code, _, err = run(capsys, "--db", db_url, "unassign", "I-1", login=me)
        assert code == 1
        assert "case I-1 is not assigned to anyone" in err
        code, out, _ = run(capsys, "--db", db_url, "case", "I-1", "--json", login=me)
        assert [h["kind"] for h in json.loads(out)["history"]] == ["assigned", "assigned"]
    finally:
        clock.freeze(None)


def queue_at(capsys, url: str, *extra: str, login: str) -> list[dict]:
    code, out, err = run(capsys, "--db", url, "queue", "--json", *extra, login=login)
    assert code == 0, err
    return json.loads(out)["cases"]
