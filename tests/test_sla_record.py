"""The SLA record cannot be bent (issue 11, policy §14): two instants on every event, late
entries, ``--as-known-at``, the policy stored as versions, breaches that stay marked,
the board after a reopen, system sweeps, and bounded, clean input."""

from __future__ import annotations

import json
import socket
from datetime import time
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, run

from console.rules.timeutil import parse_instant

T = parse_instant
# Monday 23 Nov 2026, 09:00 in New York is 14:00Z: INC-1 (P1, 1 h response) breaches at 15:00Z.
REPORTED = "2026-11-23T14:00:00Z"
NOW = "2026-11-23T18:00:00Z"
LATER = "2026-11-23T19:00:00Z"


def doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme Bank",
                "plan": "enterprise",
                "coverage": "business",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
                "targets": {},
            },
        ],
        "deployments": [
            {
                "id": "acme-prod",
                "subscriber": "acme",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "4.2.0",
            },
        ],
        "cases": [
            {
                "id": "INC-0",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P0",
                "title": "Managed cluster down",
                "reported_at": REPORTED,
                "events": [{"at": "2026-11-23T14:05:00Z", "kind": "acknowledged", "by": "eng-a"}],
            },
            {
                "id": "INC-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P1",
                "title": "Gateway down",
                "reported_at": REPORTED,
                "events": [],
            },
            {
                "id": "INC-2",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P2",
                "title": "Slow routes",
                "reported_at": REPORTED,
                "events": [{"at": "2026-11-23T14:10:00Z", "kind": "acknowledged", "by": "eng-a"}],
            },
            {
                "id": "Q-1",
                "subscriber": "acme",
                "type": "query",
                "title": "Key rotation?",
                "reported_at": REPORTED,
                "events": [{"at": "2026-11-23T14:20:00Z", "kind": "acknowledged", "by": "eng-a"}],
            },
        ],
    }


def write(path: Path, content: dict | str) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "record.db"
    init_db(capsys, path)
    code, _, err = run(
        capsys, "--db", str(path), "import", str(write(tmp_path / "d.json", doc())), now=NOW
    )
    assert code == 0, err
    code, _, err = run(capsys, "--db", str(path), "init", "--lead", "lena", now=NOW)
    assert code == 0, err
    return path


def case_json(capsys, db: Path, case: str, *extra: str, now: str = NOW) -> dict:
    code, out, err = run(capsys, "--db", str(db), "case", case, "--json", *extra, now=now)
    assert code == 0, err
    return json.loads(out)


# -- 1. instants -------------------------------------------------------------------------


def test_instants_outside_2000_2099_are_refused_everywhere(db: Path, tmp_path: Path, capsys):
    before = fingerprint(db)
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "status_update",
        "--at",
        "9999-12-31T23:59:59-12:00",
        now=NOW,
    )
    assert code == 1
    assert "outside the years 2000-2099" in err
    assert "Traceback" not in err
    bad = doc()
    bad["cases"] = [dict(bad["cases"][1], id="OLD-1", reported_at="0001-01-01T00:00:00Z")]
    bad["subscribers"] = []
    bad["deployments"] = []
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "import",
        str(write(tmp_path / "b.json", bad)),
        now=NOW,
        login="lena",
    )
    assert code == 1
    assert "cases[0].reported_at" in err
    assert "2000-2099" in err
    far = {"subscribers": [dict(doc()["subscribers"][0], id="far", term_end="9999-12-31")]}
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "import",
        str(write(tmp_path / "f.json", far)),
        now=NOW,
        login="lena",
    )
    assert code == 1
    assert "subscribers[0].term_end" in err
    code, _, err = run(capsys, "--db", str(db), "meters", "--json", "--at", "2150-01-01T00:00:00Z")
    assert code == 1
    assert "--at" in err
    assert fingerprint(db) == before
    code, out, _ = run(capsys, "--db", str(db), "export", now=NOW)
    assert code == 0
    assert json.loads(out)["cases"]


def test_an_event_may_not_lie_in_the_future(db: Path, capsys):
    before = fingerprint(db)
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "acknowledged",
        "--at",
        "2026-11-23T18:10:00Z",
        now=NOW,
    )
    assert code == 1
    assert "lies in the future" in err
    assert fingerprint(db) == before
    # Within the five minutes a clock may be ahead: accepted.
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "acknowledged",
        "--at",
        "2026-11-23T18:04:00Z",
        now=NOW,
    )
    assert code == 0, err


# -- 1./2. late entries and what the desk knew -------------------------------------------


def test_a_late_entry_needs_a_lead_and_a_reason_and_says_what_it_cleared(db: Path, capsys):
    code, out, _ = run(capsys, "--db", str(db), "check", now=NOW)
    assert code == 3
    assert "BREACH INC-1" in out
    assert "response" in out
    before = fingerprint(db)
    # An engineer back-dates the acknowledgement 3.5 hours: refused, nothing written.
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "acknowledged",
        "--at",
        "2026-11-23T14:30:00Z",
        now=NOW,
        login="eve",
    )
    assert code == 1
    assert "late entry" in err
    assert "needs a lead" in err
    assert "eve is engineer" in err
    # A lead without a reason: refused.
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "acknowledged",
        "--at",
        "2026-11-23T14:30:00Z",
        now=NOW,
        login="lena",
    )
    assert code == 1
    assert "needs a reason" in err
    assert fingerprint(db) == before
    # A lead with a reason: recorded, and shown as a late entry that cleared the breach.
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "acknowledged",
        "--at",
        "2026-11-23T14:30:00Z",
        "--late-reason",
        "acknowledged by phone",
        now=NOW,
        login="lena",
    )
    assert code == 0, err
    assert run(capsys, "--db", str(db), "check", "--at", NOW, now=LATER)[0] == 0
    history = case_json(capsys, db, "INC-1", now=LATER)["history"]
    (ack,) = [e for e in history if e["kind"] == "acknowledged"]
    assert ack["late"] is True
    assert ack["cleared"] == ["response"]
    assert ack["late_reason"] == "acknowledged by phone"
    assert ack["recorded_at"] == NOW
    # What the desk could see before it was recorded: the breach.
    code, out, _ = run(
        capsys,
        "--db",
        str(db),
        "check",
        "--at",
        NOW,
        "--as-known-at",
        "2026-11-23T17:59:00Z",
        now=LATER,
    )
    assert code == 3
    assert "BREACH INC-1" in out
    # The text view says it too.
    code, out, _ = run(capsys, "--db", str(db), "case", "INC-1", now=LATER)
    assert "LATE ENTRY" in out
    assert "breaches cleared: response" in out


def test_a_recent_back_dated_event_is_no_late_entry(db: Path, capsys):
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-2",
        "status_update",
        "--note",
        "called them",
        "--at",
        "2026-11-23T17:20:00Z",
        now=NOW,
        login="eve",
    )
    assert code == 0, err
    (upd,) = [e for e in case_json(capsys, db, "INC-2")["history"] if e["kind"] == "status_update"]
    assert "late" not in upd
    assert upd["recorded_at"] == NOW


def test_as_known_at_on_queue_case_escalations_and_meters(db: Path, capsys):
    run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "acknowledged",
        "--at",
        "2026-11-23T14:30:00Z",
        "--late-reason",
        "phone",
        now=NOW,
        login="lena",
    )
    run(
        capsys,
        "--db",
        str(db),
        "event",
        "Q-1",
        "time_logged",
        "--hours",
        "2",
        now=LATER,
        login="eve",
    )
    known = "2026-11-23T17:00:00Z"

    def queue(*extra: str) -> dict:
        code, out, err = run(capsys, "--db", str(db), "queue", "--json", *extra, now=LATER)
        assert code == 0, err
        return {c["id"]: c for c in json.loads(out)["cases"]}

    then = queue("--at", NOW, "--as-known-at", known)
    assert then["INC-1"]["clocks"]["response"]["breached"] is True
    assert queue("--at", NOW)["INC-1"]["clocks"]["response"]["breached"] is False
    alone = json.loads(
        run(capsys, "--db", str(db), "queue", "--json", "--as-known-at", known, now=LATER)[1]
    )
    assert alone["at"] == known  # --as-known-at alone: T = K
    case = case_json(capsys, db, "INC-1", "--as-known-at", known, now=LATER)
    assert [e["kind"] for e in case["history"]] == []
    code, out, _ = run(capsys, "--db", str(db), "meters", "--json", "--as-known-at", NOW, now=LATER)
    assert json.loads(out)["subscribers"][0]["used_hours"] == 0
    code, out, _ = run(capsys, "--db", str(db), "meters", "--json", now=LATER)
    assert json.loads(out)["subscribers"][0]["used_hours"] == 2
    code, out, _ = run(
        capsys, "--db", str(db), "escalations", "--json", "--as-known-at", known, now=LATER
    )
    assert code == 0
    assert json.loads(out)["escalations"] == []


# -- 3. one policy for the desk ------------------------------------------------------------


def relaxed_policy(tmp_path: Path) -> Path:
    from importlib import resources

    text = resources.files("console.rules").joinpath("policy.toml").read_text("utf-8")
    text = text.replace('"incident.P1.response" = "1h"', '"incident.P1.response" = "100h"')
    return write(tmp_path / "relaxed.toml", text)


def test_a_policy_file_is_a_what_if_that_never_writes(db: Path, tmp_path: Path, capsys):
    relaxed = relaxed_policy(tmp_path)
    before = fingerprint(db)
    code, out, _ = run(
        capsys, "--db", str(db), "--policy", str(relaxed), "queue", "--json", now=NOW
    )
    assert code == 0
    what_if = {c["id"]: c for c in json.loads(out)["cases"]}
    assert what_if["INC-1"]["clocks"]["response"]["breached"] is False
    for argv in (
        ["rebuild"],
        ["sweep"],
        ["event", "INC-1", "acknowledged"],
        ["import", str(write(tmp_path / "e.json", {}))],
    ):
        code, _, err = run(capsys, "--db", str(db), "--policy", str(relaxed), *argv, now=NOW)
        assert code == 1, argv
        assert "what-if" in err, argv
    assert fingerprint(db) == before
    assert run(capsys, "--db", str(db), "rebuild", now=NOW)[0] == 0
    code, out, _ = run(capsys, "--db", str(db), "check", now=NOW)
    assert code == 3
    assert "BREACH INC-1" in out


def test_policy_versions_are_published_by_leads_and_judge_cases_by_reported_at(
    db: Path, tmp_path: Path, capsys
):
    relaxed = relaxed_policy(tmp_path)
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "policy",
        "publish",
        str(relaxed),
        "--reason",
        "order form v2",
        now=NOW,
        login="eve",
    )
    assert code == 1
    assert "needs the lead role" in err
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "policy",
        "publish",
        str(relaxed),
        "--reason",
        "x",
        "--effective",
        "2026-11-01T00:00:00Z",
        now=NOW,
        login="lena",
    )
    assert code == 1
    assert "never to the past" in err
    code, _, err = run(
        capsys, "--db", str(db), "policy", "publish", str(relaxed), now=NOW, login="lena"
    )
    assert code == 1
    assert "needs a reason" in err
    broken = write(tmp_path / "broken.toml", "[plans\n")
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "policy",
        "publish",
        str(broken),
        "--reason",
        "x",
        now=NOW,
        login="lena",
    )
    assert code == 1
    assert "line 1" in err
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "policy",
        "publish",
        str(relaxed),
        "--reason",
        "relaxed P1 response",
        now=NOW,
        login="lena",
    )
    assert code == 0
    assert "version 2" in err
    code, out, _ = run(capsys, "--db", str(db), "policy", "history", "--json", now=NOW)
    versions = json.loads(out)["versions"]
    assert [(v["number"], v["in_force"], v["by"]) for v in versions] == [
        (1, False, "support-console"),
        (2, True, "lena"),
    ]
    # INC-1 (reported before version 2) is still judged by version 1; a case reported
    # after it by version 2.
    new = {"cases": [dict(doc()["cases"][1], id="INC-9", reported_at=NOW)]}
    assert (
        run(
            capsys,
            "--db",
            str(db),
            "import",
            str(write(tmp_path / "n.json", new)),
            now=LATER,
            login="lena",
        )[0]
        == 0
    )
    code, out, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", LATER, now=LATER)
    cases = {c["id"]: c for c in json.loads(out)["cases"]}
    assert cases["INC-1"]["clocks"]["response"]["target"] == 3600
    assert cases["INC-9"]["clocks"]["response"]["target"] == 100 * 3600
    code, out, _ = run(capsys, "--db", str(db), "policy", "show", now=NOW)
    assert '"incident.P1.response" = "100h"' in out


# -- 3. a breach stays marked ---------------------------------------------------------------


def test_a_breach_stays_marked_while_paused_suspended_or_stopped(db: Path, capsys):
    from console.policy_store import load_book
    from console.queue import breach_count, load_queue
    from console.queue_filters import Filters, apply_filters
    from console.store.engine import open_store

    # INC-1's response is breached; acknowledging stops the clock, awaiting pauses the rest.
    assert run(capsys, "--db", str(db), "event", "INC-1", "acknowledged", now=NOW)[0] == 0
    assert run(capsys, "--db", str(db), "event", "INC-1", "awaiting_subscriber", now=NOW)[0] == 0
    with open_store(str(db)) as store, store.connection() as conn:
        items = load_queue(conn, load_book(conn), T(NOW))
    inc = next(it for it in items if it.id == "INC-1")
    assert inc.group == 3
    assert inc.marked
    assert breach_count(items) == 1
    assert [it.id for it in apply_filters(items, Filters(breached=True))] == ["INC-1"]
    code, out, _ = run(capsys, "--db", str(db), "queue", now=LATER)
    assert next(ln for ln in out.splitlines() if "INC-1" in ln).startswith("!")


# -- 5. the board after a reopen --------------------------------------------------------------


def test_a_reopened_incident_returns_to_the_last_column_whose_conditions_hold():
    from console.rules.calendar import CalendarRule, calendar_for
    from console.rules.clocks import Event
    from console.rules.warteam import war_team

    cal = calendar_for(CalendarRule("UTC", time(0), None, False, None))
    t = T("2026-11-23T15:00:00Z")
    members = [
        Event(t + i, "war_team_member", "l", {"name": n, "role": r})
        for i, (n, r) in enumerate(
            (("Kai", "engineer"), ("Ines", "executive"), ("Sub", "subscriber_rep"))
        )
    ]
    plan = [
        Event(t + 10 + i, "plan_updated", "l", {"part": p, "text": "x"})
        for i, p in enumerate(("assessment", "mitigation", "resources"))
    ]
    moves = [
        Event(t + 20 + i, "board_moved", "l", {"column": c})
        for i, c in enumerate(("team_formed", "plan_agreed", "mitigating"))
    ]
    base = [Event(t, "escalated", "sweep", {"missed": "workaround"}), *members, *plan, *moves]
    resolved = Event(t + 100, "resolved", "l")
    reopened = Event(t + 200, "reopened", "l")
    assert war_team([*base, resolved, reopened], cal, 14400).column == "mitigating"
    leaves = Event(t + 50, "war_team_member", "l", {"name": "Ines", "action": "leave"})
    team = war_team([*base, leaves, resolved, reopened], cal, 14400)
    assert team.column == "escalated"  # team_formed no longer holds: nothing after it does
    assert war_team([*base, resolved], cal, 14400).column == "resolved"


def test_reopen_on_the_board_through_the_cli(db: Path, capsys):
    # INC-0 (P0, acknowledged 09:05 New York) misses its 4 h workaround at 13:05.
    assert run(capsys, "--db", str(db), "sweep", now=LATER)[0] == 0
    code, out, _ = run(capsys, "--db", str(db), "escalations", "--json", now=LATER)
    (card,) = json.loads(out)["escalations"]
    assert card["case"] == "INC-0"
    assert card["column"] == "escalated"
    for name, role in (("Kai", "engineer"), ("Ines", "executive"), ("Sub", "subscriber_rep")):
        assert (
            run(
                capsys,
                "--db",
                str(db),
                "event",
                "INC-0",
                "war_team_member",
                "--name",
                name,
                "--role",
                role,
                now=LATER,
            )[0]
            == 0
        )
    assert (
        run(
            capsys,
            "--db",
            str(db),
            "event",
            "INC-0",
            "board_moved",
            "--column",
            "team_formed",
            now=LATER,
        )[0]
        == 0
    )
    for kind in ("resolved", "reopened"):
        assert run(capsys, "--db", str(db), "event", "INC-0", kind, now=LATER)[0] == 0
    code, out, _ = run(capsys, "--db", str(db), "escalations", "--json", now=LATER)
    assert json.loads(out)["escalations"][0]["column"] == "team_formed"


# -- 7. system actions ------------------------------------------------------------------------


def test_a_sweeps_escalations_are_the_systems_with_the_host(db: Path, capsys):
    from sqlalchemy import text

    from console.store.engine import open_store

    at = "2026-11-23T22:00:00Z"  # hours after INC-0 missed its workaround
    code, out, _ = run(capsys, "--db", str(db), "sweep", now=at, login="eve")
    assert code == 0
    assert "ESCALATED INC-0 missed workaround at 2026-11-23T18:05:00Z" in out
    (esc,) = [
        e for e in case_json(capsys, db, "INC-0", now=at)["history"] if e["kind"] == "escalated"
    ]
    assert esc["by"] == "sweep"
    assert esc["host"] == socket.gethostname()
    assert esc["at"] == "2026-11-23T18:05:00Z"
    assert esc["recorded_at"] == at
    assert "late" not in esc  # stamped at the instant the target was missed: no late entry
    with open_store(str(db)) as store, store.connection() as conn:
        # the sweep assigns the case to nobody (it stays unassigned; policy §10)
        assert (
            conn.execute(text("SELECT assignee FROM case_state WHERE case_id = 'INC-0'")).scalar()
            is None
        )


# -- 8. the queue's carry-forward --------------------------------------------------------------


def test_queue_carry_forward_with_a_case_reported_more_than_a_year_before(tmp_path: Path, capsys):
    """The issue's minimal case: a P3 reported 2024-12-30, no events, asked 2026-01-05."""
    one = {
        "subscribers": doc()["subscribers"],
        "deployments": doc()["deployments"],
        "cases": [
            dict(doc()["cases"][1], id="OLD", priority="P3", reported_at="2024-12-30T14:00:00Z")
        ],
    }
    one["subscribers"][0]["term_start"] = "2024-01-01"
    path = tmp_path / "old.db"
    init_db(capsys, path)
    assert (
        run(capsys, "--db", str(path), "import", str(write(tmp_path / "o.json", one)), now=NOW)[0]
        == 0
    )
    at = "2026-01-05T15:00:00Z"
    code, out, _ = run(capsys, "--db", str(path), "queue", "--json", "--at", at, now=NOW)
    fast = json.loads(out)["cases"][0]["clocks"]["response"]
    slow = case_json(capsys, path, "OLD", "--at", at)["clocks"]["response"]
    assert fast == slow
    assert fast["elapsed"] > 0


# -- 9. bounded, clean input --------------------------------------------------------------------


def test_limits_and_numbers_json_cannot_carry(db: Path, tmp_path: Path, capsys):
    before = fingerprint(db)

    def imp(content: dict | str) -> tuple[int, str]:
        code, _, err = run(
            capsys,
            "--db",
            str(db),
            "import",
            str(write(tmp_path / "i.json", content)),
            now=NOW,
            login="lena",
        )
        return code, err

    big = {"cases": [dict(doc()["cases"][1], id="BIG", title="x" * 1025)]}
    code, err = imp(big)
    assert code == 1
    assert "cases[0].title: the title is 1025 bytes; at most 1024" in err
    many = {
        "cases": [
            dict(
                doc()["cases"][2],
                id="MANY",
                events=[{"at": "2026-11-23T14:10:00Z", "kind": "status_update", "by": "e"}] * 10001,
            )
        ]
    }
    code, err = imp(many)
    assert code == 1
    assert "cases[0].events: 10001 events" in err
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    code, err = imp(deep)
    assert code == 1
    assert "nested deeper than 32 levels" in err
    code, err = imp("[" * 100000 + "]" * 100000)
    assert code == 1
    assert "nested deeper" in err
    assert "Traceback" not in err
    code, err = imp(
        '{"subscribers": [{"id": "n", "name": "n", "plan": "basic", "term_start": '
        '"2026-01-01", "term_end": "2026-12-31", "query_hour_limit": NaN}]}'
    )
    assert code == 1
    assert "NaN is not a number JSON can carry" in err
    tz = {"subscribers": [dict(doc()["subscribers"][0], id="tz", timezone="+99:00")]}
    code, err = imp(tz)
    assert code == 1
    assert "subscribers[0].timezone" in err
    huge = {
        "cases": [
            dict(
                doc()["cases"][1],
                id="ATT",
                attachments=[
                    {
                        "name": "a",
                        "size": 10**30,
                        "sha256": "0" * 64,
                        "path": "/tmp/a",
                        "added_at": NOW,
                    }
                ],
            )
        ]
    }
    code, err = imp(huge)
    assert code == 1
    assert "cases[0].attachments[0].size" in err
    for hours in ("nan", "inf", "-inf", "1e400"):
        code, _, err = run(
            capsys, "--db", str(db), "event", "Q-1", "time_logged", "--hours", hours, now=NOW
        )
        assert code == 1, hours
        assert "hours" in err, hours
    code, _, err = run(
        capsys, "--db", str(db), "event", "INC-2", "status_update", "--note", "n" * 65537, now=NOW
    )
    assert code == 1
    assert "note is 65537 bytes" in err
    code, _, err = run(
        capsys, "--db", str(db), "event", "INC-2", "status_update", "--note", "a\x00b", now=NOW
    )
    assert code == 1
    assert "NUL" in err
    assert fingerprint(db) == before


def test_usage_errors_exit_1_not_2(db: Path, capsys):
    for argv in (["queue", "--bogus"], ["event"], ["case"], ["frobnicate"], ["policy", "nope"]):
        code, _, err = run(capsys, "--db", str(db), *argv, now=NOW)
        assert code == 1, argv
        assert "--help" in err, argv


def test_export_to_a_file_is_whole_or_nothing(db: Path, tmp_path: Path, capsys):
    target = tmp_path / "backup.json"
    code, _, err = run(capsys, "--db", str(db), "export", "-o", str(target), now=NOW)
    assert code == 0, err
    assert json.loads(target.read_text("utf-8"))["cases"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]
    code, _, err = run(
        capsys, "--db", str(db), "export", "-o", str(tmp_path / "no" / "such.json"), now=NOW
    )
    assert code == 1
    assert "cannot write" in err


def test_export_after_bad_input_reimports_identically(db: Path, tmp_path: Path, capsys):
    # Everything refused above leaves the export whole; what was accepted round-trips.
    run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "acknowledged",
        "--at",
        "2026-11-23T14:30:00Z",
        "--late-reason",
        "phone",
        now=NOW,
        login="lena",
    )
    run(
        capsys,
        "--db",
        str(db),
        "event",
        "INC-1",
        "status_update",
        "--at",
        "9999-01-01T00:00:00Z",
        now=NOW,
    )
    run(
        capsys, "--db", str(db), "sweep", "--at", "2026-11-25T22:00:00Z", now="2026-11-25T22:00:00Z"
    )
    code, first, _ = run(capsys, "--db", str(db), "export", now=LATER)
    assert code == 0
    again = tmp_path / "again.db"
    init_db(capsys, again)
    code, _, err = run(
        capsys,
        "--db",
        str(again),
        "import",
        str(write(tmp_path / "x.json", first)),
        now="2026-11-26T00:00:00Z",
    )
    assert code == 0, err
    code, second, _ = run(capsys, "--db", str(again), "export", now=LATER)
    assert json.loads(first) == json.loads(second)
