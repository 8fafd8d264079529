"""The policy's loose clauses (issue 18) through the ``support-console`` command, one test
(or a few) per numbered item. A refusal exits 1 with one line naming the field, and the
database is byte-for-byte unchanged.

Each event is recorded with the clock frozen in-process at its instant (``--at`` and the
real clock agree), as an operator at the desk would record it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, run

from console import clock

# acme: enterprise, 24x7, New York. Counted time is wall time.
DOC = {
    "subscribers": [
        {
            "id": "acme",
            "name": "Acme",
            "plan": "enterprise",
            "coverage": "24x7",
            "term_start": "2026-01-01",
            "term_end": "2026-12-31",
        },
        {
            "id": "beta",
            "name": "Beta",
            "plan": "enterprise",
            "term_start": "2026-01-01",
            "term_end": "2026-12-31",
        },
    ],
    "deployments": [
        {
            "id": "acme-mgd",
            "subscriber": "acme",
            "environment": "production",
            "managed": True,
            "product": "gateway",
            "version": "4.2.0",
            "components": ["postgres", "kafka"],
        },
        {
            "id": "acme-pre",
            "subscriber": "acme",
            "environment": "pre-production",
            "managed": True,
            "product": "gateway",
            "version": "4.2.0",
        },
        {
            "id": "acme-self",
            "subscriber": "acme",
            "environment": "production",
            "managed": False,
            "product": "gateway",
            "version": "4.2.0",
        },
    ],
    "cases": [
        {
            "id": "P0C",
            "subscriber": "acme",
            "deployment": "acme-mgd",
            "type": "incident",
            "priority": "P0",
            "component": "kafka",
            "criterion": "component_unavailable",
            "title": "Kafka down",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [{"at": "2026-03-02T10:05:00Z", "kind": "acknowledged", "by": "eng"}],
        },
        {
            "id": "P0",
            "subscriber": "acme",
            "deployment": "acme-mgd",
            "type": "incident",
            "priority": "P0",
            "criterion": "legal_order_cessation",
            "title": "Cease order",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [{"at": "2026-03-02T10:05:00Z", "kind": "acknowledged", "by": "eng"}],
        },
        {
            "id": "P1",
            "subscriber": "acme",
            "deployment": "acme-self",
            "type": "incident",
            "priority": "P1",
            "title": "Slow",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [{"at": "2026-03-02T10:05:00Z", "kind": "acknowledged", "by": "eng"}],
        },
        {
            "id": "SR",
            "subscriber": "acme",
            "deployment": "acme-mgd",
            "type": "service_request",
            "title": "Add a route",
            "reported_at": "2026-03-02T10:00:00Z",
        },
        {
            "id": "Q",
            "subscriber": "acme",
            "type": "query",
            "title": "How?",
            "reported_at": "2026-03-02T10:00:00Z",
        },
    ],
    "operators": [{"name": "lena", "role": "lead"}],
}


@pytest.fixture
def db(tmp_path: Path, capsys):
    clock.freeze("2026-03-02T10:30:00Z")
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(DOC), encoding="utf-8")
    db = tmp_path / "db.sqlite"
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", str(db), "import", str(path))
    assert code == 0, err
    yield db
    clock.freeze(None)


def cli(
    capsys, db: Path, *argv: str, at: str | None = None, user: str = "eng"
) -> tuple[int, str, str]:
    """One command as ``user``; with ``at``, the clock stands at that instant."""
    if at is not None:
        clock.freeze(at)
        argv = (*argv, "--at", at)
    return run(capsys, "--db", str(db), *argv, login=user)


def case(capsys, db: Path, cid: str, at: str) -> dict:
    code, out, err = run(capsys, "--db", str(db), "case", cid, "--json", "--at", at)
    assert code == 0, err
    return json.loads(out)


def refused(capsys, db: Path, *argv: str, at: str | None = None, user: str = "eng") -> str:
    """Run a command that must be refused: exit 1, one line, nothing written."""
    before = fingerprint(db)
    code, out, err = cli(capsys, db, *argv, at=at, user=user)
    assert code == 1, (out, err)
    assert fingerprint(db) == before
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def import_problems(capsys, tmp_path: Path, doc: dict) -> list[str]:
    path = tmp_path / "more.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    db = tmp_path / "fresh.sqlite"
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", str(db), "import", str(path))
    assert code == 1
    assert "nothing was written" in err
    return err.strip().splitlines()[:-1]


def base_doc(**cases) -> dict:
    doc = json.loads(json.dumps(DOC))
    doc["cases"] = [dict(c) for c in cases.values()]
    return doc


# --- 1. P0 on a managed third-party component ------------------------------------------------


def test_deployment_components_set_by_a_lead_shown_and_exported(db: Path, capsys):
    """Components are a deployment fact, changed by a dated record (policy §5, §14)."""
    line = refused(
        capsys, db, "deployment", "set", "acme-mgd", "--components", "postgres", "--reason", "x"
    )
    assert line == "not allowed: changing a deployment needs the lead role (eng is an engineer)"
    line = refused(
        capsys,
        db,
        "deployment",
        "set",
        "acme-self",
        "--components",
        "redis",
        "--reason",
        "x",
        user="lena",
    )
    assert line == (
        "refused: components: only a managed deployment carries managed third-party "
        "components (acme-self is not managed then)"
    )
    line = refused(
        capsys,
        db,
        "deployment",
        "set",
        "acme-mgd",
        "--components",
        "redis,redis",
        "--reason",
        "x",
        user="lena",
    )
    assert "components: component 'redis' is listed twice" in line
    code, _, err = cli(
        capsys,
        db,
        "deployment",
        "set",
        "acme-pre",
        "--components",
        " redis , etcd",
        "--reason",
        "administered now",
        user="lena",
    )
    assert code == 0
    assert "acme-pre: components changed from" in err
    code, out, _ = cli(capsys, db, "deployment", "show", "acme-pre", "--json")
    assert json.loads(out)["components"] == ["redis", "etcd"]
    code, out, _ = cli(capsys, db, "export")
    doc = json.loads(out)
    exported = {d["id"]: d["components"] for d in doc["deployments"]}
    # As first recorded; the new list is a dated change beside it.
    assert exported == {"acme-mgd": ["postgres", "kafka"], "acme-pre": [], "acme-self": []}
    pre = next(d for d in doc["deployments"] if d["id"] == "acme-pre")
    assert [c["facts"] for c in pre["changes"]] == [{"components": ["redis", "etcd"]}]
    assert {c["id"]: c["component"] for c in doc["cases"]}["P0C"] == "kafka"
    assert (
        refused(
            capsys,
            db,
            "deployment",
            "set",
            "nope",
            "--components",
            "x",
            "--reason",
            "x",
            user="lena",
        )
        == "refused: unknown deployment 'nope'"
    )


def test_export_import_round_trips_components(db: Path, capsys, tmp_path: Path):
    code, out, _ = cli(capsys, db, "export")
    path = tmp_path / "export.json"
    path.write_text(out, encoding="utf-8")
    again = tmp_path / "again.sqlite"
    init_db(capsys, again)
    assert run(capsys, "--db", str(again), "import", str(path))[0] == 0
    assert run(capsys, "--db", str(again), "export")[1] == out


def test_import_checks_components(capsys, tmp_path: Path):
    doc = base_doc()
    doc["deployments"][2]["components"] = ["redis"]  # acme-self is not managed
    doc["cases"] = [
        {
            "id": "A",
            "subscriber": "acme",
            "deployment": "acme-mgd",
            "type": "incident",
            "priority": "P0",
            "component": "redis",
            "title": "t",
            "reported_at": "2026-03-02T10:00:00Z",
        },
        {
            "id": "B",
            "subscriber": "acme",
            "deployment": "acme-mgd",
            "type": "incident",
            "priority": "P1",
            "component": "kafka",
            "title": "t",
            "reported_at": "2026-03-02T10:00:00Z",
        },
        {
            "id": "C",
            "subscriber": "acme",
            "deployment": "acme-mgd",
            "type": "incident",
            "priority": "P1",
            "title": "t",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [
                {
                    "at": "2026-03-02T10:05:00Z",
                    "kind": "reclassified",
                    "priority": "P0",
                    "component": "zookeeper",
                    "reason": "r",
                },
                {"at": "2026-03-02T10:06:00Z", "kind": "awaiting_vendor"},
            ],
        },
    ]
    assert import_problems(capsys, tmp_path, doc) == [
        "deployments[2].components: only a managed deployment carries managed third-party components",
        "cases[0].component: acme-mgd lists no managed third-party component 'redis' "
        "(it lists: postgres, kafka)",
        "cases[1].component: only a P0 incident names a managed third-party component",
        "cases[2].events[0].component: acme-mgd lists no managed third-party component "
        "'zookeeper' (it lists: postgres, kafka)",
    ]


def test_vendor_pause_through_the_cli(db: Path, capsys):
    code, _, err = cli(
        capsys,
        db,
        "event",
        "P0C",
        "awaiting_vendor",
        "--note",
        "case 7781 at the vendor",
        at="2026-03-02T11:05:00Z",
    )
    assert code == 0, err
    c = case(capsys, db, "P0C", "2026-03-02T15:05:00Z")
    assert (c["component"], c["awaiting_vendor"], c["awaiting_subscriber"]) == (
        "kafka",
        True,
        False,
    )
    res = c["clocks"]["resolution"]
    assert (res["state"], res["paused_for"], res["elapsed"], res["due"]) == (
        "paused",
        "vendor",
        3600,
        None,
    )
    assert {k: v["state"] for k, v in c["clocks"].items()} == {
        "response": "stopped",
        "workaround": "running",
        "resolution": "paused",
        "update": "running",
    }
    assert c["clocks"]["workaround"]["paused_for"] is None
    # the queue says the same
    code, out, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", "2026-03-02T15:05:00Z")
    row = next(r for r in json.loads(out)["cases"] if r["id"] == "P0C")
    assert row["awaiting_vendor"]
    assert row["clocks"]["resolution"]["paused_for"] == "vendor"
    # and in words
    code, out, _ = run(capsys, "--db", str(db), "case", "P0C", "--at", "2026-03-02T15:05:00Z")
    assert "resolution  paused (vendor)" in out
    assert "component kafka" in out
    code, out, _ = run(capsys, "--db", str(db), "queue", "--at", "2026-03-02T15:05:00Z")
    assert "[resolution paused (vendor)] Kafka down" in out
    # the vendor answers: the resolution clock runs on with its hour kept
    code, _, err = cli(capsys, db, "event", "P0C", "vendor_responded", at="2026-03-02T16:05:00Z")
    assert code == 0, err
    res = case(capsys, db, "P0C", "2026-03-02T17:05:00Z")["clocks"]["resolution"]
    assert (res["state"], res["paused_for"], res["elapsed"]) == ("running", None, 2 * 3600)
    assert res["due"] == "2026-03-04T15:05:00Z"  # 48 h counted: 46 h from 17:05


@pytest.mark.parametrize(
    ("cid", "words"),
    [
        ("P1", "case P1 is a incident P1"),
        ("P0", "case P0 is a P0 incident that names no managed third-party component"),
        ("Q", "case Q is a query"),
    ],
)
def test_vendor_events_refused_on_any_other_case(db: Path, capsys, cid, words):
    line = refused(capsys, db, "event", cid, "awaiting_vendor", at="2026-03-02T11:05:00Z")
    assert line.startswith(
        f"refused: {cid}: kind: awaiting_vendor: only a P0 incident on a "
        "managed third-party component awaits a vendor"
    )
    assert words in line
    line = refused(capsys, db, "event", cid, "vendor_responded", at="2026-03-02T11:05:00Z")
    assert line == f"refused: {cid}: kind: vendor_responded: case {cid} is not awaiting a vendor"


def test_reclassified_may_name_a_listed_component(db: Path, capsys):
    line = refused(
        capsys,
        db,
        "event",
        "P0",
        "reclassified",
        "--priority",
        "P0",
        "--component",
        "redis",
        "--reason",
        "it is the cache",
        at="2026-03-02T11:00:00Z",
    )
    assert line == (
        "refused: P0: component: acme-mgd lists no managed third-party component "
        "'redis' (it lists: postgres, kafka)"
    )
    line = refused(
        capsys,
        db,
        "event",
        "P1",
        "reclassified",
        "--priority",
        "P2",
        "--component",
        "kafka",
        "--reason",
        "r",
        at="2026-03-02T11:00:00Z",
    )
    assert (
        line == "refused: P1: component: only a P0 incident names a managed third-party component"
    )
    code, _, err = cli(
        capsys,
        db,
        "event",
        "P0",
        "reclassified",
        "--priority",
        "P0",
        "--component",
        "postgres",
        "--reason",
        "the database is down",
        "--criterion",
        "component_unavailable",
        at="2026-03-02T11:00:00Z",
    )
    assert code == 0, err
    c = case(capsys, db, "P0", "2026-03-02T11:00:00Z")
    assert (c["component"], c["criterion"]) == ("postgres", "component_unavailable")
    assert cli(capsys, db, "event", "P0", "awaiting_vendor", at="2026-03-02T11:10:00Z")[0] == 0
    line = refused(
        capsys,
        db,
        "event",
        "P0",
        "reclassified",
        "--priority",
        "P1",
        "--reason",
        "r",
        at="2026-03-02T11:20:00Z",
    )
    assert "awaiting the vendor of postgres; record vendor_responded first" in line


# --- 2. War team: join and leave, the incomplete flag ----------------------------------------


def escalations(capsys, db: Path, at: str) -> dict:
    code, out, err = run(capsys, "--db", str(db), "escalations", "--json", "--at", at)
    assert code == 0, err
    return {c["case"]: c for c in json.loads(out)["escalations"]}


def test_war_team_members_join_and_leave_and_the_team_is_flagged(db: Path, capsys):
    assert (
        cli(
            capsys,
            db,
            "event",
            "P1",
            "escalated",
            "--reason",
            "key account",
            user="lena",
            at="2026-03-02T11:00:00Z",
        )[0]
        == 0
    )
    for minute, name, role in (
        (1, "Bo", "engineer"),
        (2, "Ida", "executive"),
        (3, "Rosa", "subscriber_rep"),
    ):
        code, _, err = cli(
            capsys,
            db,
            "event",
            "P1",
            "war_team_member",
            "--name",
            name,
            "--role",
            role,
            at=f"2026-03-02T11:0{minute}:00Z",
        )
        assert code == 0, err
    card = escalations(capsys, db, "2026-03-02T11:05:00Z")["P1"]
    assert (card["incomplete"], card["missing_roles"]) == (False, [])
    code, _, err = cli(
        capsys,
        db,
        "event",
        "P1",
        "war_team_member",
        "--name",
        "Ida",
        "--role",
        "executive",
        "--action",
        "leave",
        at="2026-03-02T12:00:00Z",
    )
    assert code == 0, err
    card = escalations(capsys, db, "2026-03-02T12:30:00Z")["P1"]
    assert (card["incomplete"], card["missing_roles"], card["incomplete_since"]) == (
        True,
        ["executive"],
        "2026-03-02T12:00:00Z",
    )
    assert [(m["name"], m["role"], m["joined_at"], m["left_at"]) for m in card["team"]] == [
        ("Bo", "engineer", "2026-03-02T11:01:00Z", None),
        ("Ida", "executive", "2026-03-02T11:02:00Z", "2026-03-02T12:00:00Z"),
        ("Rosa", "subscriber_rep", "2026-03-02T11:03:00Z", None),
    ]
    # as of before she left, the team was complete (the flag is a function of the history)
    assert escalations(capsys, db, "2026-03-02T11:59:00Z")["P1"]["incomplete"] is False
    # refusals name the field
    line = refused(
        capsys,
        db,
        "event",
        "P1",
        "war_team_member",
        "--name",
        "Ida",
        "--action",
        "leave",
        at="2026-03-02T12:10:00Z",
    )
    assert line == "refused: P1: name: war_team_member: Ida is not on the war team"
    line = refused(
        capsys,
        db,
        "event",
        "P1",
        "war_team_member",
        "--name",
        "Bo",
        "--role",
        "engineer",
        "--action",
        "wander",
        at="2026-03-02T12:10:00Z",
    )
    assert line == "refused: P1: action: action is join or leave, got 'wander'"
    code, out, _ = run(capsys, "--db", str(db), "escalations", "--at", "2026-03-02T12:30:00Z")
    assert "TEAM INCOMPLETE (missing executive)" in out
    # a new executive fills the role
    assert (
        cli(
            capsys,
            db,
            "event",
            "P1",
            "war_team_member",
            "--name",
            "Max",
            "--role",
            "executive",
            at="2026-03-02T13:00:00Z",
        )[0]
        == 0
    )
    card = escalations(capsys, db, "2026-03-02T13:00:00Z")["P1"]
    assert (card["incomplete"], card["missing_roles"], card["incomplete_since"]) == (
        False,
        [],
        None,
    )


# --- 3. Manual escalation ----------------------------------------------------------------------


def test_manual_escalation_is_a_leads_with_a_reason(db: Path, capsys):
    at = "2026-03-02T11:00:00Z"  # P1's workaround (24 h) is far from missed
    line = refused(capsys, db, "event", "P1", "escalated", "--reason", "key account", at=at)
    assert line == (
        "not allowed: escalating an incident before a target is missed needs "
        "the lead role (eng is an engineer): P1 has missed no target yet"
    )
    line = refused(capsys, db, "event", "P1", "escalated", at=at, user="lena")
    assert line == (
        "refused: P1: reason: a manual escalation (no target missed) needs a reason (--reason)"
    )
    line = refused(
        capsys, db, "event", "P1", "escalated", "--missed", "workaround", at=at, user="lena"
    )
    assert line == (
        "refused: P1: missed: escalated: case P1 had not missed its workaround "
        "target at 2026-03-02T11:00:00Z; before a target is missed only a lead "
        "escalates, with a reason (manual)"
    )
    code, _, err = cli(
        capsys,
        db,
        "event",
        "P1",
        "escalated",
        "--reason",
        "key account at risk",
        at=at,
        user="lena",
    )
    assert code == 0, err
    hist = case(capsys, db, "P1", at)["history"]
    assert {k: hist[-1][k] for k in ("kind", "by", "missed", "reason")} == {
        "kind": "escalated",
        "by": "lena",
        "missed": "manual",
        "reason": "key account at risk",
    }
    card = escalations(capsys, db, at)["P1"]
    assert (card["missed"], card["reason"], card["escalated_at"]) == (
        "manual",
        "key account at risk",
        at,
    )


def test_an_escalation_after_a_miss_names_it_and_anyone_may_record_it(db: Path, capsys):
    at = "2026-03-03T10:06:00Z"  # acknowledged 10:05 yesterday: the 24 h workaround is missed
    line = refused(
        capsys,
        db,
        "event",
        "P1",
        "escalated",
        "--missed",
        "manual",
        "--reason",
        "r",
        at=at,
        user="lena",
    )
    assert line == (
        "refused: P1: missed: escalated: case P1 missed its workaround target at "
        "2026-03-03T10:05:00Z: the escalation names it (missed workaround), it is "
        "not manual"
    )
    line = refused(capsys, db, "event", "P1", "escalated", "--missed", "resolution", at=at)
    assert "had not missed its resolution target" in line
    assert "(it missed workaround)" in line
    code, _, err = cli(capsys, db, "event", "P1", "escalated", at=at)
    assert code == 0, err
    assert case(capsys, db, "P1", at)["history"][-1]["missed"] == "workaround"
    assert escalations(capsys, db, at)["P1"]["missed"] == "workaround"


def test_import_of_an_escalation_that_missed_nothing(capsys, tmp_path: Path):
    doc = base_doc()
    doc["cases"] = [
        {
            "id": "E",
            "subscriber": "acme",
            "deployment": "acme-self",
            "type": "incident",
            "priority": "P1",
            "title": "t",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [
                {"at": "2026-03-02T10:05:00Z", "kind": "acknowledged", "by": "eng"},
                {
                    "at": "2026-03-02T11:00:00Z",
                    "kind": "escalated",
                    "by": "eng",
                    "missed": "workaround",
                },
            ],
        }
    ]
    assert import_problems(capsys, tmp_path, doc) == [
        "cases[0].events[1].missed: escalated: case E had not missed its workaround target at "
        "2026-03-02T11:00:00Z; before a target is missed only a lead escalates, with a reason "
        "(manual)"
    ]
    doc["cases"][0]["events"][1] = {"at": "2026-03-02T11:00:00Z", "kind": "escalated", "by": "eng"}
    assert import_problems(capsys, tmp_path, doc) == [
        "cases[0].events[1].reason: a manual escalation (no target missed) needs a reason (--reason)"
    ]


# --- 4. Change requests ------------------------------------------------------------------------


def test_change_request_only_on_a_managed_deployment(db: Path, capsys):
    line = refused(
        capsys,
        db,
        "change-request",
        "--subscriber",
        "acme",
        "--deployment",
        "acme-self",
        "--title",
        "Resize",
        at="2026-03-02T11:00:00Z",
    )
    assert line == (
        "refused: deployment: a change request needs a managed deployment "
        "(acme-self is not managed)"
    )
    line = refused(
        capsys,
        db,
        "change-request",
        "--subscriber",
        "acme",
        "--title",
        "Resize",
        at="2026-03-02T11:00:00Z",
    )
    assert line.startswith(
        "refused: deployment: a change request tracks a change to a managed deployment"
    )
    code, out, err = cli(
        capsys,
        db,
        "change-request",
        "--subscriber",
        "acme",
        "--deployment",
        "acme-pre",
        "--title",
        "Resize",
        at="2026-03-02T11:00:00Z",
    )
    assert code == 0, err
    cr = out.strip()
    line = refused(
        capsys, db, "event", cr, "cr_status", "--status", "implemented", at="2026-03-02T11:10:00Z"
    )
    assert line == (
        f"refused: {cr}: status: change request {cr} is proposed: next is approved or "
        "rejected (one step at a time: proposed -> approved -> scheduled -> "
        "implemented -> closed, or rejected from proposed/approved)"
    )
    assert (
        cli(
            capsys, db, "event", cr, "cr_status", "--status", "approved", at="2026-03-02T11:20:00Z"
        )[0]
        == 0
    )
    assert (
        cli(
            capsys, db, "event", cr, "cr_status", "--status", "rejected", at="2026-03-02T11:30:00Z"
        )[0]
        == 0
    )
    c = case(capsys, db, cr, "2026-03-02T11:30:00Z")
    assert (c["cr_status"], c["cr_next"]) == ("rejected", [])
    line = refused(
        capsys, db, "event", cr, "cr_status", "--status", "scheduled", at="2026-03-02T11:40:00Z"
    )
    assert line == f"refused: {cr}: status: change request {cr} is rejected (final)"


def test_import_of_a_change_request_on_an_unmanaged_deployment(capsys, tmp_path: Path):
    doc = base_doc()
    doc["cases"] = [
        {
            "id": "CR",
            "subscriber": "acme",
            "deployment": "acme-self",
            "type": "change_request",
            "konneqt_initiated": True,
            "title": "t",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [{"at": "2026-03-02T10:05:00Z", "kind": "cr_status", "status": "scheduled"}],
        }
    ]
    assert import_problems(capsys, tmp_path, doc) == [
        "cases[0].deployment: a change request needs a managed deployment (acme-self is not managed)"
    ]
    doc["cases"][0]["deployment"] = "acme-mgd"
    problems = import_problems(capsys, tmp_path, doc)
    assert problems == [
        "cases[0].events[0].status: change request CR is proposed: next is "
        "approved or rejected (one step at a time: proposed -> approved -> "
        "scheduled -> implemented -> closed, or rejected from proposed/approved)"
    ]


# --- 5. Security Report Analysis names its deployment -------------------------------------------


def test_security_report_analysis_needs_a_deployment(db: Path, capsys, tmp_path: Path):
    doc = base_doc()
    doc["cases"] = [
        {
            "id": "SRA",
            "subscriber": "acme",
            "type": "security_report",
            "title": "Scan",
            "reported_at": "2026-03-02T10:00:00Z",
        }
    ]
    assert import_problems(capsys, tmp_path, doc) == [
        "cases[0].deployment: a security report analysis names the production or pre-production "
        "deployment whose scan it analyses"
    ]
    # reclassifying a query that names no deployment into an SRA is refused too
    line = refused(
        capsys,
        db,
        "event",
        "Q",
        "reclassified",
        "--type",
        "security_report",
        "--reason",
        "it is a scan report",
        at="2026-03-02T11:00:00Z",
    )
    assert line == (
        "refused: Q: deployment: a security report analysis names the production or "
        "pre-production deployment whose scan it analyses"
    )


# --- 6. The decisive criterion -----------------------------------------------------------------


def test_criterion_recorded_validated_and_shown(db: Path, capsys, tmp_path: Path):
    assert case(capsys, db, "P0C", "2026-03-02T11:00:00Z")["criterion"] == "component_unavailable"
    assert case(capsys, db, "P1", "2026-03-02T11:00:00Z")["criterion"] is None
    line = refused(
        capsys,
        db,
        "event",
        "P1",
        "reclassified",
        "--priority",
        "P2",
        "--criterion",
        "bogus_key",
        "--reason",
        "r",
        at="2026-03-02T11:00:00Z",
    )
    assert line.startswith("refused: P1: criterion: unknown guideline criterion 'bogus_key'")
    line = refused(
        capsys,
        db,
        "event",
        "P1",
        "reclassified",
        "--priority",
        "P2",
        "--criterion",
        "noncritical_errors",
        "--reason",
        "r",
        at="2026-03-02T11:00:00Z",
    )
    assert line == "refused: P1: criterion: criterion noncritical_errors decides P3, not P2"
    code, _, err = cli(
        capsys,
        db,
        "event",
        "P1",
        "reclassified",
        "--priority",
        "P2",
        "--criterion",
        "severe_performance_degradation",
        "--reason",
        "slow, not down",
        at="2026-03-02T11:00:00Z",
    )
    assert code == 0, err
    c = case(capsys, db, "P1", "2026-03-02T11:00:00Z")
    assert (c["priority"], c["criterion"]) == ("P2", "severe_performance_degradation")
    assert c["history"][-1]["criterion"] == "severe_performance_degradation"
    # as of before the reclassification, the case's own (none)
    assert case(capsys, db, "P1", "2026-03-02T10:59:00Z")["criterion"] is None
    code, out, _ = run(capsys, "--db", str(db), "case", "P1", "--at", "2026-03-02T11:00:00Z")
    assert "criterion severe_performance_degradation" in out
    # import: a key of the right priority
    doc = base_doc()
    doc["cases"] = [
        {
            "id": "X",
            "subscriber": "acme",
            "deployment": "acme-self",
            "type": "incident",
            "priority": "P2",
            "criterion": "substantial_service_loss",
            "title": "t",
            "reported_at": "2026-03-02T10:00:00Z",
        }
    ]
    assert import_problems(capsys, tmp_path, doc) == [
        "cases[0].criterion: criterion substantial_service_loss decides P1, not P2"
    ]


# --- 7. Meters warn from exactly 80 % ------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "state", "percent"),
    [
        ("39.99", "ok", 79.9),
        ("40", "warning", 80.0),
        ("50", "warning", 100.0),
        ("50.01", "over", 100.1),
    ],
)
def test_meter_warns_from_exactly_80_percent(db: Path, capsys, hours, state, percent):
    assert (
        cli(
            capsys,
            db,
            "event",
            "Q",
            "time_logged",
            "--hours",
            hours,
            "--note",
            "answer",
            at="2026-03-02T11:00:00Z",
        )[0]
        == 0
    )
    code, out, _ = run(capsys, "--db", str(db), "meters", "--json", "--at", "2026-03-02T12:00:00Z")
    m = next(s for s in json.loads(out)["subscribers"] if s["id"] == "acme")
    assert (m["used_hours"], m["state"], m["percent"]) == (float(hours), state, percent)


# --- 8. custom_extension only on one case ---------------------------------------------------------


def test_custom_extension_is_never_subscriber_wide(db: Path, capsys, tmp_path: Path):
    line = refused(
        capsys,
        db,
        "suspend",
        "acme",
        "--reason",
        "custom_extension",
        "--from",
        "2026-03-02T11:00:00Z",
        user="lena",
    )
    assert line.startswith(
        "refused: reason: custom_extension suspends one case, never a whole "
        "subscriber (support-console event CASE suspended --reason "
        "custom_extension)"
    )
    # one case: allowed
    assert (
        cli(
            capsys,
            db,
            "event",
            "P1",
            "suspended",
            "--reason",
            "custom_extension",
            user="lena",
            at="2026-03-02T11:00:00Z",
        )[0]
        == 0
    )
    doc = base_doc()
    doc["subscribers"][1]["suspensions"] = [
        {"reason": "custom_extension", "from": "2026-03-01T00:00:00Z", "until": None}
    ]
    doc["cases"] = []
    assert import_problems(capsys, tmp_path, doc) == [
        "subscribers[1].suspensions[0].reason: custom_extension suspends one case (a suspended "
        "event on it), never a whole subscriber"
    ]
