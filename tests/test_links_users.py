"""Linked cases (policy §5), support users, and the L4 link rule (policy §10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, make_lead, run
from sqlalchemy import func, select

from console.actions import Refused
from console.errors import NotAllowed
from console.importer import existing_ids, validate, write
from console.links import case_links, confirm_vulnerability, create_change_request
from console.rules.policy import default_policy
from console.rules.timeutil import parse_instant
from console.store.engine import open_store
from console.users import add_user, list_users, remove_user
from models import Case, CaseEvent, CaseLink

T = parse_instant
#: "Now" for imports: after every instant in the test data.
NOW = T("2026-11-01T00:00:00Z")


def _doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
            },
            {
                "id": "beta",
                "name": "Beta",
                "plan": "basic",
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
                "version": "4.2",
            },
            {
                "id": "acme-self",
                "subscriber": "acme",
                "environment": "production",
                "managed": False,
                "product": "gateway",
                "version": "4.2",
            },
        ],
        "users": [
            {
                "id": "ana",
                "subscriber": "acme",
                "name": "Ana Silva",
                "email": "ana@acme.example",
                "admin": True,
            },
            {"id": "raj", "subscriber": "acme", "name": "Raj Patel", "email": "raj@acme.example"},
            {
                "id": "bea",
                "subscriber": "beta",
                "name": "Bea Lima",
                "email": "bea@beta.example",
                "admin": True,
            },
        ],
        "cases": [
            {
                "id": "SR-1",
                "subscriber": "acme",
                "deployment": "acme-mgd",
                "type": "service_request",
                "title": "Add a route",
                "reported_at": "2026-03-02T14:00:00Z",
            },
            {
                "id": "SRA-1",
                "subscriber": "acme",
                "deployment": "acme-mgd",
                "type": "security_report",
                "title": "Scanner finding CVE-2026-1",
                "reported_at": "2026-03-02T14:00:00Z",
            },
            {
                "id": "SRA-2",
                "subscriber": "acme",
                "deployment": "acme-self",
                "type": "security_report",
                "title": "Scanner finding on self-managed",
                "reported_at": "2026-03-02T14:00:00Z",
            },
            {
                "id": "Q-1",
                "subscriber": "acme",
                "type": "query",
                "title": "q",
                "reported_at": "2026-03-02T14:00:00Z",
            },
            {
                "id": "I-1",
                "subscriber": "acme",
                "deployment": "acme-mgd",
                "type": "incident",
                "priority": "P2",
                "title": "slow",
                "reported_at": "2026-03-02T14:00:00Z",
            },
        ],
    }


def _load(url: str) -> None:
    policy = default_policy()
    with open_store(url) as store:
        with store.connection() as conn:
            prep = validate(_doc(), policy, existing_ids(conn, policy), NOW)
        with store.write() as s:
            write(s, prep, NOW)
        make_lead(store, "lena", 0)


def _sizes(url: str) -> tuple[int, int, int]:
    with open_store(url) as store, store.connection() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t.__table__)).scalar_one()
            for t in (Case, CaseEvent, CaseLink)
        )


# -- links ---------------------------------------------------------------------------------


def test_change_request_from_a_service_request(db_url: str):
    _load(db_url)
    default_policy()
    with open_store(db_url) as store:
        cr = create_change_request(
            store,
            sr_id="SR-1",
            title="Route change",
            at=T("2026-03-03T10:00:00Z"),
            by="eng",
            recorded_at=T("2026-03-03T10:00:00Z"),
        )
        with store.connection() as conn:
            assert case_links(conn, cr) == {"links": ["SR-1"], "linked_from": []}
            assert case_links(conn, "SR-1") == {"links": [], "linked_from": [cr]}
            row = conn.execute(select(Case.__table__).where(Case.__table__.c.id == cr)).one()
        assert (row.type, row.deployment_id, row.subscriber_id, row.konneqt_initiated) == (
            "change_request",
            "acme-mgd",
            "acme",
            False,
        )
        with pytest.raises(Refused, match="Q-1 is a query"):
            create_change_request(
                store,
                sr_id="Q-1",
                title="x",
                at=T("2026-03-03T10:00:00Z"),
                by="eng",
                recorded_at=T("2026-03-03T10:00:00Z"),
            )
        own = create_change_request(
            store,
            sr_id=None,
            subscriber="acme",
            deployment="acme-mgd",
            title="Konneqt upgrade",
            at=T("2026-03-03T10:00:00Z"),
            by="eng",
            recorded_at=T("2026-03-03T10:00:00Z"),
        )
        with store.connection() as conn:
            assert (
                conn.execute(
                    select(Case.__table__.c.konneqt_initiated).where(Case.__table__.c.id == own)
                ).scalar_one()
                is True
            )


def test_confirm_vulnerability_opens_the_linked_incident_in_one_transaction(db_url: str):
    _load(db_url)
    default_policy()
    at = T("2026-03-02T16:00:00Z")
    with open_store(db_url) as store:
        res = confirm_vulnerability(
            store,
            "SRA-1",
            priority="P1",
            title="CVE-2026-1 in gateway",
            at=at,
            by="eng",
            recorded_at=at,
        )
        with store.connection() as conn:
            inc = conn.execute(
                select(Case.__table__).where(Case.__table__.c.id == res.incident_id)
            ).one()
            ev = CaseEvent.__table__
            (event,) = conn.execute(select(ev).where(ev.c.case_id == "SRA-1")).all()
            assert case_links(conn, res.incident_id)["links"] == ["SRA-1"]
            assert case_links(conn, "SRA-1")["linked_from"] == [res.incident_id]
        assert (inc.type, inc.priority, inc.deployment_id, inc.reported_at, inc.title) == (
            "incident",
            "P1",
            "acme-mgd",
            at,
            "CVE-2026-1 in gateway",
        )
        assert (event.kind, event.data["incident"], event.id) == (
            "vulnerability_confirmed",
            inc.id,
            res.event_id,
        )
        # Once only; nothing is written by the refused second attempt.
        before = _sizes(db_url)
        with pytest.raises(Refused, match="already confirmed"):
            confirm_vulnerability(
                store, "SRA-1", priority="P1", title=None, at=at, by="eng", recorded_at=at
            )
        assert _sizes(db_url) == before


@pytest.mark.parametrize(
    ("sra", "priority", "message"),
    [
        ("SRA-2", "P0", "P0 needs a managed deployment"),
        ("SRA-1", "P7", "unknown priority"),
        ("Q-1", "P1", "only a security report analysis"),
    ],
)
def test_a_refused_confirmation_writes_nothing(db_url: str, sra: str, priority: str, message: str):
    _load(db_url)
    before = _sizes(db_url)
    with open_store(db_url) as store, pytest.raises(Refused, match=message):
        confirm_vulnerability(
            store,
            sra,
            priority=priority,
            title="x",
            at=T("2026-03-02T16:00:00Z"),
            by="eng",
            recorded_at=T("2026-03-02T16:00:00Z"),
        )
    assert _sizes(db_url) == before


def test_a_confirmation_refused_by_the_sra_history_writes_no_incident(db_url: str):
    """The incident is inserted before the SRA's event is checked: both roll back."""
    _load(db_url)
    default_policy()
    before = _sizes(db_url)
    with open_store(db_url) as store, pytest.raises(Refused, match="before the case was reported"):
        confirm_vulnerability(
            store,
            "SRA-1",
            priority="P1",
            title="x",
            at=T("2026-03-01T00:00:00Z"),
            by="eng",
            recorded_at=T("2026-03-01T00:00:00Z"),
        )
    assert _sizes(db_url) == before


# -- through the CLI -----------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(_doc()), encoding="utf-8")
    db = tmp_path / "db.sqlite"
    init_db(capsys, db)
    assert run(capsys, "--db", str(db), "import", str(path))[0] == 0
    assert run(capsys, "--db", str(db), "init", "--lead", "lena")[0] == 0
    return db


def _case(capsys, db: Path, cid: str) -> dict:
    code, out, err = run(capsys, "--db", str(db), "case", cid, "--json")
    assert code == 0, err
    return json.loads(out)


def test_cli_change_request_and_its_status_order(db: Path, capsys):
    code, out, err = run(
        capsys,
        "--db",
        str(db),
        "change-request",
        "SR-1",
        "--title",
        "Add route /v2",
        "--at",
        "2026-03-03T10:00:00Z",
    )
    assert code == 0, err
    cr = out.strip()
    case = _case(capsys, db, cr)
    assert (case["type"], case["links"], case["cr_status"], case["clocks"]) == (
        "change_request",
        ["SR-1"],
        "proposed",
        {},
    )
    assert _case(capsys, db, "SR-1")["linked_from"] == [cr]

    def status(value: str, at: str) -> tuple[int, str]:
        code, _, err = run(
            capsys, "--db", str(db), "event", cr, "cr_status", "--status", value, "--at", at
        )
        return code, err

    # One step at a time (policy §5, issue 18): proposed -> implemented is refused, naming
    # the legal next steps; nothing written.
    code, err = status("implemented", "2026-03-03T10:30:00Z")
    assert code == 1
    assert "status: change request" in err
    assert f"{cr} is proposed: next is approved or rejected" in err
    assert status("approved", "2026-03-03T11:00:00Z")[0] == 0
    code, err = status("proposed", "2026-03-03T12:00:00Z")
    assert code == 1
    assert "is approved: next is scheduled or rejected" in err
    code, err = status("approved", "2026-03-03T12:00:00Z")
    assert code == 1
    assert "is approved: next is scheduled or rejected" in err
    code, err = status("done", "2026-03-03T12:00:00Z")
    assert code == 1
    assert ("must be one of proposed, approved, scheduled, implemented, closed, rejected") in err
    assert status("scheduled", "2026-03-04T09:00:00Z")[0] == 0
    code, err = status("rejected", "2026-03-04T10:00:00Z")  # only from proposed/approved
    assert code == 1
    assert "is scheduled: next is implemented" in err
    # Back-dated before "approved": the history with it in place would skip a step.
    code, err = status("implemented", "2026-03-03T10:30:00Z")
    assert code == 1
    assert "is proposed: next is approved or rejected" in err
    assert status("implemented", "2026-03-05T09:00:00Z")[0] == 0
    assert _case(capsys, db, cr)["cr_next"] == ["closed"]
    assert status("closed", "2026-03-05T10:00:00Z")[0] == 0
    code, err = status("closed", "2026-03-05T11:00:00Z")
    assert code == 1
    assert "is closed (final)" in err
    assert _case(capsys, db, cr)["cr_status"] == "closed"
    assert _case(capsys, db, cr)["cr_next"] == []
    assert [e["status"] for e in _case(capsys, db, cr)["history"]] == [
        "approved",
        "scheduled",
        "implemented",
        "closed",
    ]
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "SR-1",
        "cr_status",
        "--status",
        "approved",
        "--at",
        "2026-03-03T11:00:00Z",
    )
    assert code == 1
    assert "only change requests" in err


def test_cli_confirm_vulnerability_links_both_ways_and_refusal_writes_nothing(db: Path, capsys):
    before = fingerprint(db)
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "confirm-vulnerability",
        "SRA-2",
        "--priority",
        "P0",
        "--title",
        "x",
        "--at",
        "2026-03-02T16:00:00Z",
    )
    assert code == 1
    assert "P0 needs a managed deployment" in err
    assert fingerprint(db) == before
    assert _case(capsys, db, "SRA-2")["history"] == []
    code, out, err = run(
        capsys,
        "--db",
        str(db),
        "confirm-vulnerability",
        "SRA-2",
        "--priority",
        "P1",
        "--at",
        "2026-03-02T16:00:00Z",
    )
    assert code == 0, err
    inc = out.strip()
    sra = _case(capsys, db, "SRA-2")
    assert [(e["kind"], e["incident"], e["priority"]) for e in sra["history"]] == [
        ("vulnerability_confirmed", inc, "P1")
    ]
    assert sra["linked_from"] == [inc]
    incident = _case(capsys, db, inc)
    assert (incident["type"], incident["priority"], incident["deployment"], incident["links"]) == (
        "incident",
        "P1",
        "acme-self",
        ["SRA-2"],
    )
    assert incident["title"] == "Confirmed vulnerability: Scanner finding on self-managed"
    # An event alone cannot confirm: the incident must be opened with it.
    code, _, err = run(capsys, "--db", str(db), "event", "SRA-1", "vulnerability_confirmed")
    assert code == 1
    assert "names the incident" in err


# -- L4 needs a link ------------------------------------------------------------------------


def test_level_l4_needs_a_link(db: Path, capsys):
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "I-1",
        "level_changed",
        "--level",
        "L4",
        "--at",
        "2026-03-02T15:00:00Z",
    )
    assert code == 1
    assert "L4 needs a link" in err
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "I-1",
        "level_changed",
        "--level",
        "L4",
        "--link",
        " ",
        "--at",
        "2026-03-02T15:00:00Z",
    )
    assert code == 1
    assert "L4 needs a link" in err
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "event",
        "I-1",
        "level_changed",
        "--level",
        "L4",
        "--link",
        "https://docs.example/fix/123",
        "--at",
        "2026-03-02T15:00:00Z",
    )
    assert code == 0, err
    case = _case(capsys, db, "I-1")
    assert case["level"] == "L4"
    assert case["history"][-1]["link"] == "https://docs.example/fix/123"
    _, out, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", "2026-03-02T16:00:00Z")
    assert next(c for c in json.loads(out)["cases"] if c["id"] == "I-1")["level"] == "L4"


def test_import_refuses_l4_without_link(tmp_path: Path, capsys):
    doc = _doc()
    doc["cases"][4]["events"] = [
        {"at": "2026-03-02T15:00:00Z", "kind": "level_changed", "by": "e", "level": "L4"}
    ]
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    init_db(capsys, tmp_path / "x.sqlite")
    code, _, err = run(capsys, "--db", str(tmp_path / "x.sqlite"), "import", str(path))
    assert code == 1
    assert "cases[4].events[0].link: moving to L4 needs a link" in err


# -- support users ---------------------------------------------------------------------------


def test_a_lead_adds_and_removes_recorded_who(db_url: str):
    _load(db_url)
    at = T("2026-04-01T10:00:00Z")
    with open_store(db_url) as store:
        u = add_user(
            store, "acme", "new", name="Nora New", email="nora@acme.example", actor="lena", at=at
        )
        assert (u.added_by, u.added_at, u.admin) == ("lena", at, False)
        gone = remove_user(store, "acme", "raj", actor="lena", at=at + 60)
        assert (gone.removed_by, gone.removed_at, gone.active) == ("lena", at + 60, False)
        with store.connection() as conn:
            users = {x.id: x for x in list_users(conn, "acme")}
            active = [x.id for x in list_users(conn, "acme", include_removed=False)]
        assert set(users) == {"ana", "raj", "new"}  # the removed row is kept
        assert active == ["ana", "new"]
        # No limit on the number of users.
        for i in range(30):
            add_user(
                store,
                "acme",
                f"bulk-{i}",
                name=f"User {i}",
                email=f"u{i}@acme.example",
                actor=None,
                at=at,
            )
        with store.connection() as conn:
            assert len(list_users(conn, "acme", include_removed=False)) == 32


def test_engineers_and_subscriber_admins_may_not_change_support_users(db_url: str):
    # Issue 13: nobody acts in a subscriber administrator's name; a support user is a
    # change to the subscriber's record, a lead's.
    _load(db_url)
    with open_store(db_url) as store:
        for who in ("eve", "ana"):  # an engineer; a subscriber admin's id is no operator
            with pytest.raises(
                NotAllowed,
                match=r"not allowed: changing a subscriber's support "
                rf"users needs the lead role \({who} is an engineer\)",
            ):
                add_user(store, "acme", "x", name="X", email="x@acme.example", actor=who, at=0)
            with pytest.raises(NotAllowed, match="needs the lead role"):
                remove_user(store, "acme", "raj", actor=who, at=0)
        with store.connection() as conn:
            assert {u.id for u in list_users(conn, "acme")} == {"ana", "raj"}
        u = add_user(
            store, "acme", "x", name="X", email="x@acme.example", admin=True, actor="lena", at=5
        )
        assert (u.added_by, u.admin) == ("lena", True)
        assert remove_user(store, "acme", "x", actor="lena", at=6).removed_by == "lena"


def test_user_rules(db_url: str):
    _load(db_url)
    with open_store(db_url) as store:
        with pytest.raises(Refused, match="last administrator"):
            remove_user(store, "acme", "ana", actor="lena", at=0)
        with pytest.raises(Refused, match="is taken"):
            add_user(store, "acme", "bea", name="B", email="b@acme.example", actor="lena", at=0)
        with pytest.raises(Refused, match="not an e-mail address"):
            add_user(store, "acme", "y", name="Y", email="nope", actor="lena", at=0)
        remove_user(store, "acme", "raj", actor="lena", at=0)
        with pytest.raises(Refused, match="already removed"):
            remove_user(store, "acme", "raj", actor="lena", at=1)
        with pytest.raises(Refused, match="unknown subscriber"):
            add_user(store, "nope", "y", name="Y", email="y@x.example", actor="lena", at=0)


def test_cli_users(db: Path, capsys):
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "user-add",
        "acme",
        "zoe",
        "--name",
        "Zoe",
        "--email",
        "zoe@acme.example",
        "--at",
        "2026-04-01T10:00:00Z",
        login="eve",
    )
    assert code == 1
    assert "not allowed: changing a subscriber's support users needs the lead role" in err
    # --by no longer names a subscriber's administrator (nor anyone but a system account).
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "user-add",
        "acme",
        "zoe",
        "--name",
        "Zoe",
        "--email",
        "zoe@acme.example",
        "--by",
        "ana",
        "--at",
        "2026-04-01T10:00:00Z",
    )
    assert code == 1
    assert "unrecognized arguments: --by" in err
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "user-add",
        "acme",
        "zoe",
        "--name",
        "Zoe",
        "--email",
        "zoe@acme.example",
        "--admin",
        "--at",
        "2026-04-01T10:00:00Z",
        login="lena",
    )
    assert code == 0, err
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "user-remove",
        "acme",
        "raj",
        "--at",
        "2026-04-02T10:00:00Z",
        login="lena",
    )
    assert code == 0, err
    code, _, err = run(capsys, "--db", str(db), "user-remove", "acme", "ana", login="eve")
    assert code == 1
    assert "(eve is an engineer)" in err
    code, out, _ = run(capsys, "--db", str(db), "users", "acme", "--json")
    assert code == 0
    users = {u["id"]: u for u in json.loads(out)["users"]}
    assert (users["zoe"]["added_by"], users["zoe"]["added_at"], users["zoe"]["admin"]) == (
        "lena",
        "2026-04-01T10:00:00Z",
        True,
    )
    assert (users["raj"]["active"], users["raj"]["removed_by"], users["raj"]["removed_at"]) == (
        False,
        "lena",
        "2026-04-02T10:00:00Z",
    )
    # Export and import keep who added and removed.
    _, out, _ = run(capsys, "--db", str(db), "export")
    exported = {u["id"]: u for u in json.loads(out)["users"]}
    assert exported["raj"]["removed_by"] == "lena"
    path = db.with_name("exp.json")
    path.write_text(out, encoding="utf-8")
    other = db.with_name("other.sqlite")
    init_db(capsys, other)
    assert run(capsys, "--db", str(other), "import", str(path))[0] == 0
    _, again, _ = run(capsys, "--db", str(other), "export")
    assert json.loads(again)["users"] == json.loads(out)["users"]
