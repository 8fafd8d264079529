"""Data retention (policy §11): due dates at the exact boundaries, dry run, purge, audit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_support import init_db, make_lead, run
from sqlalchemy import func, select

import console.retention as retention
from console.actions import Refused
from console.attachments import add_attachment, list_attachments
from console.importer import existing_ids, validate, write
from console.rules.clocks import Event
from console.rules.policy import default_policy
from console.rules.retention import (
    DAY,
    REMOVED_USER,
    AttachmentRef,
    UserRef,
    attachment_due,
    is_due,
    plan_purge,
    resolved_since,
)
from console.rules.timeutil import parse_instant
from console.store.engine import open_store
from models import Attachment, CaseEvent, PurgeAudit, SupportUser

T = parse_instant
#: "Now" for imports: after every instant in the test data.
NOW = T("2026-11-01T00:00:00Z")
TERMINATED = T("2026-03-01T00:00:00Z")
RESOLVED = T("2026-01-10T12:00:00Z")  # C-1's first resolution, before termination
BETA_RESOLVED = T("2026-04-10T08:00:00Z")  # C-3's, after acme's termination (other subscriber)


# -- the pure rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "due"),
    [(89 * DAY, False), (90 * DAY - 1, False), (90 * DAY, True), (91 * DAY, True)],
)
def test_users_due_exactly_90_days_after_termination(offset: int, due: bool):
    p = plan_purge(
        TERMINATED + offset,
        {"acme": TERMINATED, "beta": None},
        [UserRef("u-1", "acme"), UserRef("b-1", "beta")],
        [],
        {},
    )
    assert [u.id for u in p.users] == (["u-1"] if due else [])


@pytest.mark.parametrize(
    ("offset", "due"),
    [(89 * DAY, False), (90 * DAY - 1, False), (90 * DAY, True), (91 * DAY, True)],
)
def test_attachment_due_90_days_after_resolution(offset: int, due: bool):
    p = plan_purge(
        RESOLVED + offset, {"beta": None}, [], [AttachmentRef(1, "C-3", "beta")], {"C-3": RESOLVED}
    )
    assert [(a.id, a.reason) for a in p.attachments] == ([(1, "resolved")] if due else [])


def test_attachment_whichever_comes_first():
    # Resolved before termination: resolution + 90 days rules.
    assert attachment_due(RESOLVED, TERMINATED) == RESOLVED + 90 * DAY
    # Terminated before the case was resolved (or never resolved): termination rules.
    late = TERMINATED + 30 * DAY
    assert attachment_due(late, TERMINATED) == TERMINATED + 90 * DAY
    assert attachment_due(None, TERMINATED) == TERMINATED + 90 * DAY
    assert attachment_due(RESOLVED, None) == RESOLVED + 90 * DAY
    assert attachment_due(None, None) is None
    p = plan_purge(
        TERMINATED + 90 * DAY,
        {"acme": TERMINATED},
        [],
        [AttachmentRef(1, "C-2", "acme")],
        {"C-2": late},
    )
    assert [(a.id, a.reason, a.due) for a in p.attachments] == [
        (1, "termination", TERMINATED + 90 * DAY)
    ]
    assert (
        plan_purge(
            TERMINATED + 90 * DAY - 1,
            {"acme": TERMINATED},
            [],
            [AttachmentRef(1, "C-2", "acme")],
            {"C-2": late},
        ).attachments
        == []
    )


def test_attachments_count_from_the_latest_resolution_while_still_resolved():
    # Policy §11: a reopened case is open again and keeps its attachments; resolved again,
    # its 90 days start from then.
    reopened = [Event(RESOLVED, "resolved", seq=1), Event(RESOLVED + 5, "reopened", seq=2)]
    assert resolved_since(reopened) is None
    again = [*reopened, Event(RESOLVED + 10, "closed", seq=3)]
    assert resolved_since(again) == RESOLVED + 10
    assert resolved_since(list(reversed(again))) == RESOLVED + 10  # time order, not list order
    assert (
        resolved_since([Event(RESOLVED, "resolved", seq=1), Event(RESOLVED + 7, "closed", seq=2)])
        == RESOLVED + 7
    )
    # Judged at an instant: only what had happened by then.
    assert resolved_since(again, at=RESOLVED + 9) is None
    assert resolved_since(again, at=RESOLVED + 4) == RESOLVED
    # Equal instants keep record order: resolved then reopened at the same second is open.
    assert (
        resolved_since([Event(RESOLVED, "resolved", seq=1), Event(RESOLVED, "reopened", seq=2)])
        is None
    )
    assert resolved_since([Event(RESOLVED, "acknowledged")]) is None
    assert not is_due(None, 2**40)


def test_a_reopened_cases_attachments_stay_until_it_is_resolved_again():
    p = plan_purge(
        RESOLVED + 200 * DAY, {"beta": None}, [], [AttachmentRef(1, "C-3", "beta")], {"C-3": None}
    )  # reopened: resolved_since is None
    assert p.attachments == []


# -- in the store ------------------------------------------------------------------------


def _doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme Bank",
                "plan": "enterprise",
                "term_start": "2025-03-01",
                "term_end": "2026-02-28",
                "terminated_at": "2026-03-01T00:00:00Z",
            },
            {
                "id": "beta",
                "name": "Beta Co",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
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
            }
        ],
        "users": [
            {
                "id": "u-1",
                "subscriber": "acme",
                "name": "Ana Silva",
                "email": "ana@acme.example",
                "admin": True,
            },
            {
                "id": "u-2",
                "subscriber": "acme",
                "name": "Bruno Costa",
                "email": "bruno@acme.example",
            },
            {
                "id": "b-1",
                "subscriber": "beta",
                "name": "Bea Lima",
                "email": "bea@beta.example",
                "admin": True,
            },
        ],
        "cases": [
            {
                "id": "C-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P1",
                "title": "Gateway down",
                "reported_at": "2026-01-05T14:00:00Z",
                "opened_by": "u-1",
                "events": [
                    {"at": "2026-01-05T14:10:00Z", "kind": "acknowledged", "by": "eng-7"},
                    {"at": "2026-01-05T15:00:00Z", "kind": "awaiting_subscriber", "by": "eng-7"},
                    {"at": "2026-01-06T15:00:00Z", "kind": "subscriber_responded", "by": "u-1"},
                    {"at": "2026-01-10T12:00:00Z", "kind": "resolved", "by": "eng-7"},
                ],
            },
            {
                "id": "C-2",
                "subscriber": "acme",
                "type": "query",
                "title": "How to rotate keys",
                "reported_at": "2026-01-06T14:00:00Z",
                "events": [{"at": "2026-01-06T14:30:00Z", "kind": "acknowledged", "by": "eng-7"}],
            },
            {
                "id": "C-3",
                "subscriber": "beta",
                "type": "query",
                "title": "Question",
                "reported_at": "2026-04-01T14:00:00Z",
                "events": [
                    {"at": "2026-04-01T14:30:00Z", "kind": "acknowledged", "by": "b-1"},
                    {"at": "2026-04-10T08:00:00Z", "kind": "resolved", "by": "eng-7"},
                ],
            },
        ],
    }


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for cid in ("C-1", "C-2", "C-3"):
        p = tmp_path / f"secret-{cid}.log"
        p.write_text(f"log of {cid}\n", encoding="utf-8")
        out[cid] = p
    return out


def _load(url: str, files: dict[str, Path]) -> None:
    policy = default_policy()
    with open_store(url) as store:
        with store.connection() as conn:
            prep = validate(_doc(), policy, existing_ids(conn, policy), NOW)
        with store.write() as s:
            write(s, prep, NOW)
        for cid, path in files.items():
            add_attachment(store, cid, str(path), by="eng-7", at=T("2026-01-07T00:00:00Z"))
        make_lead(store, "lena", 0)


def _counts(url: str) -> tuple[int, int, int, list]:
    with open_store(url) as store, store.connection() as conn:
        n_att = conn.execute(select(func.count()).select_from(Attachment.__table__)).scalar_one()
        n_users = conn.execute(select(func.count()).select_from(SupportUser.__table__)).scalar_one()
        n_audit = conn.execute(select(func.count()).select_from(PurgeAudit.__table__)).scalar_one()
        ev = CaseEvent.__table__
        bys = [tuple(r) for r in conn.execute(select(ev.c.id, ev.c.by).order_by(ev.c.id))]
    return n_att, n_users, n_audit, bys


def _planned(url: str, at: int) -> tuple[list, list]:
    with open_store(url) as store, store.connection() as conn:
        p = retention.plan(conn, at)
    return [u.id for u in p.users], [(a.case_id, a.reason) for a in p.attachments]


def test_plan_at_the_boundaries_in_the_store(db_url: str, files):
    _load(db_url, files)
    # C-1 resolved 2026-01-10 12:00Z: its attachment is due 90 days later, 2026-04-10 12:00Z.
    assert _planned(db_url, RESOLVED + 89 * DAY) == ([], [])
    assert _planned(db_url, RESOLVED + 90 * DAY - 1) == ([], [])
    assert _planned(db_url, RESOLVED + 90 * DAY) == ([], [("C-1", "resolved")])
    assert _planned(db_url, RESOLVED + 91 * DAY) == ([], [("C-1", "resolved")])
    # acme terminated 2026-03-01: users and C-2's attachment (never resolved) on 2026-05-30.
    assert _planned(db_url, TERMINATED + 89 * DAY) == ([], [("C-1", "resolved")])
    assert _planned(db_url, TERMINATED + 90 * DAY) == (
        ["u-1", "u-2"],
        [("C-1", "resolved"), ("C-2", "termination")],
    )
    # beta's C-3 (resolved 2026-04-10 08:00Z) goes by its resolution; beta's user stays.
    assert _planned(db_url, BETA_RESOLVED + 90 * DAY - 1)[1] == [
        ("C-1", "resolved"),
        ("C-2", "termination"),
    ]
    assert _planned(db_url, BETA_RESOLVED + 91 * DAY) == (
        ["u-1", "u-2"],
        [("C-1", "resolved"), ("C-2", "termination"), ("C-3", "resolved")],
    )


def test_purge_removes_records_audit_and_keeps_history(db_url: str, files):
    _load(db_url, files)
    before = _counts(db_url)
    at = TERMINATED + 91 * DAY
    with open_store(db_url) as store, store.connection() as conn:
        stored = {cid: list_attachments(conn, cid)[0].path for cid in ("C-1", "C-2", "C-3")}
    with open_store(db_url) as store:
        res = retention.purge(store, at, actor="lena", recorded_at=at)
        # The desk's copies go with their records; the files engineers attached from stay.
        assert res.paths == sorted(stored[c] for c in ("C-1", "C-2"))
        assert [Path(stored[c]).exists() for c in ("C-1", "C-2", "C-3")] == [False, False, True]
        assert all(f.exists() for f in files.values())
        with store.connection() as conn:
            assert [a.case_id for a in list_attachments(conn, "C-3")] == ["C-3"]
            assert list_attachments(conn, "C-1") == []
            users = {r.id for r in conn.execute(select(SupportUser.__table__))}
            assert users == {"b-1"}
            (audit,) = [dict(r._mapping) for r in conn.execute(select(PurgeAudit.__table__))]
            ev = CaseEvent.__table__
            c1 = [
                (r.kind, r.by)
                for r in conn.execute(select(ev).where(ev.c.case_id == "C-1").order_by(ev.c.id))
            ]
            c3 = [r.by for r in conn.execute(select(ev.c.by).where(ev.c.case_id == "C-3"))]
    n_att, n_users, n_audit, bys = _counts(db_url)
    assert (n_att, n_users, n_audit) == (1, 1, 1)
    assert len(bys) == len(before[3])  # every event row kept
    assert c1 == [
        ("acknowledged", "eng-7"),
        ("awaiting_subscriber", "eng-7"),
        ("subscriber_responded", REMOVED_USER),
        ("resolved", "eng-7"),
    ]
    assert c3 == ["b-1", "eng-7"]  # another subscriber's user is untouched
    # Two rows named a purged user: C-1's opened_by and one event's by.
    assert audit["counts"] == {
        "user_pii": 2,
        "user_accounts": 2,
        "attachments": 2,
        "text_fields": 2,
    }
    assert audit["ids"]["users"] == ["u-1", "u-2"]
    # The audit names who purged: on PostgreSQL the database login (this test's is the owner).
    assert audit["by"] == ("lena" if db_url.startswith("sqlite") else "postgres")
    assert audit["at"] == at
    text = json.dumps(audit, default=str)
    for pii in ("Ana Silva", "ana@acme.example", "Bruno Costa", "bruno@acme.example", "secret-C-1"):
        assert pii not in text
    # Nothing more is due: a second purge removes nothing (and says so in its audit).
    with open_store(db_url) as store:
        again = retention.purge(store, at, actor="lena", recorded_at=at)
    assert again.plan.empty


def test_purge_is_all_or_nothing(db_url: str, files, monkeypatch):
    _load(db_url, files)
    before = _counts(db_url)

    def boom(session, *ids):
        raise RuntimeError("disk full")

    # Attachments are deleted, histories rewritten and users deleted (on PostgreSQL by the
    # database's purge function) before the changed cases are named: fail there.
    monkeypatch.setattr(retention, "mark_changed", boom)
    with open_store(db_url) as store, pytest.raises(RuntimeError, match="disk full"):
        retention.purge(store, TERMINATED + 91 * DAY, actor="lena", recorded_at=NOW)
    assert _counts(db_url) == before


def test_engineer_cannot_purge(db_url: str, files):
    _load(db_url, files)
    before = _counts(db_url)
    with (
        open_store(db_url) as store,
        pytest.raises(
            Refused, match=r"not allowed: purging needs the lead role \(eve is an engineer\)"
        ),
    ):
        retention.purge(store, TERMINATED + 91 * DAY, actor="eve", recorded_at=NOW)
    assert _counts(db_url) == before


# -- through the CLI -----------------------------------------------------------------------


def fingerprint(db: Path) -> str:
    h = hashlib.sha256()
    for p in (db, db.with_name(db.name + "-wal")):
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def cli_db(tmp_path: Path, files, capsys) -> Path:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(_doc()), encoding="utf-8")
    db = tmp_path / "db.sqlite"
    init_db(capsys, db)
    assert run(capsys, "--db", str(db), "import", str(path))[0] == 0
    for cid, f in files.items():
        code, _, err = run(
            capsys, "--db", str(db), "attach", cid, str(f), "--at", "2026-01-07T00:00:00Z"
        )
        assert code == 0, err
    assert run(capsys, "--db", str(db), "init", "--lead", "lena")[0] == 0
    return db


def test_cli_dry_run_changes_nothing(cli_db: Path, capsys):
    before = fingerprint(cli_db)
    code, out, err = run(
        capsys, "--db", str(cli_db), "purge", "--dry-run", "--json", "--at", "2026-06-01T00:00:00Z"
    )
    assert code == 0, err
    got = json.loads(out)
    assert got["dry_run"] is True
    assert got["counts"] == {"user_pii": 2, "user_accounts": 2, "attachments": 2}
    assert [u["id"] for u in got["users"]] == ["u-1", "u-2"]
    assert "nothing written" in err
    assert fingerprint(cli_db) == before
    # The dry run is even allowed to engineers: it only reads.
    assert (
        run(
            capsys,
            "--db",
            str(cli_db),
            "purge",
            "--dry-run",
            "--at",
            "2026-06-01T00:00:00Z",
            login="eve",
        )[0]
        == 0
    )
    assert fingerprint(cli_db) == before


def test_cli_purge_engineer_refused_lead_allowed_history_shows_removed_user(cli_db: Path, capsys):
    before = fingerprint(cli_db)
    code, _, err = run(
        capsys, "--db", str(cli_db), "purge", "--at", "2026-06-01T00:00:00Z", login="eve"
    )
    assert code == 1
    assert "not allowed: purging needs the lead role (eve is an engineer)" in err
    assert fingerprint(cli_db) == before
    _, out, _ = run(capsys, "--db", str(cli_db), "case", "C-1", "--json")
    history_before = json.loads(out)["history"]
    code, out, err = run(
        capsys, "--db", str(cli_db), "purge", "--json", "--at", "2026-06-01T00:00:00Z", login="lena"
    )
    assert code == 0, err
    got = json.loads(out)
    assert got["audit_id"] == 1
    assert got["cases_touched"] == ["C-1", "C-2"]
    _, out, _ = run(capsys, "--db", str(cli_db), "case", "C-1", "--json")
    case = json.loads(out)
    assert [e["kind"] for e in case["history"]] == [e["kind"] for e in history_before]
    assert [e["by"] for e in case["history"]] == ["eng-7", "eng-7", REMOVED_USER, "eng-7"]
    assert case["attachments"] == []
    _, out, _ = run(capsys, "--db", str(cli_db), "export")
    doc = json.loads(out)
    assert [u["id"] for u in doc["users"]] == ["b-1"]
    assert "Ana Silva" not in out
    assert "ana@acme.example" not in out
    assert next(c for c in doc["cases"] if c["id"] == "C-1")["opened_by"] == REMOVED_USER
