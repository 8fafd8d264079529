"""A purge that forgets (issue 13, policy §11): afterwards the purged users' names and
e-mail addresses are in no byte of the database's files (SQLite: the file and its -wal;
PostgreSQL: the database's relation files after the owner's VACUUM) nor of the
attachment store; a reopened case keeps its attachments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import run

from console import clock
from console.rules.retention import REMOVED_USER

PURGE_AT = "2026-08-31T00:00:00Z"  # acme terminated 2026-06-01: 91 days later
NAME, EMAIL = "Ana Silva", "ana.silva@acme.example"
SHORT = "Bo"  # a short name: taken out only as a whole word
NEEDLES = (NAME, EMAIL, "bo@acme.example")


def ev(at: str, kind: str, by: str = "eng-7", **data) -> dict:
    return {"at": at, "kind": kind, "by": by, **data}


def doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme Bank",
                "plan": "enterprise",
                "term_start": "2025-06-01",
                "term_end": "2026-05-31",
                "terminated_at": "2026-06-01T00:00:00Z",
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
            },
            {
                "id": "beta-prod",
                "subscriber": "beta",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "4.2.0",
            },
        ],
        "users": [
            {"id": "u-1", "subscriber": "acme", "name": NAME, "email": EMAIL, "admin": True},
            {"id": "u-2", "subscriber": "acme", "name": SHORT, "email": "bo@acme.example"},
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
                "id": "A-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P1",
                "title": f"{NAME} cannot log in",
                "opened_by": "u-1",
                "reported_at": "2026-02-02T14:00:00Z",
                "events": [
                    ev("2026-02-02T14:10:00Z", "acknowledged"),
                    ev("2026-02-02T15:00:00Z", "status_update", note=f"Called {NAME} ({EMAIL})"),
                    ev("2026-02-02T15:30:00Z", "awaiting_subscriber"),
                    ev("2026-02-02T16:00:00Z", "subscriber_responded", by="u-1"),
                    ev(
                        "2026-02-02T16:10:00Z",
                        "status_update",
                        by=NAME,
                        note=f"Bob and {SHORT} agreed",
                    ),
                    ev(
                        "2026-02-02T16:20:00Z",
                        "time_logged",
                        hours=1.0,
                        exempt=True,
                        note=f"call with {EMAIL.upper()}",
                    ),
                    ev(
                        "2026-02-02T16:30:00Z",
                        "escalated",
                        by="lead-x",
                        reason="key account (before any target was missed)",
                    ),
                    ev(
                        "2026-02-02T16:40:00Z",
                        "war_team_member",
                        by="lead-x",
                        name=NAME,
                        role="subscriber_rep",
                    ),
                    ev(
                        "2026-02-02T16:50:00Z",
                        "plan_updated",
                        by="lead-x",
                        part="assessment",
                        text=f"{NAME} confirms the failover",
                    ),
                ],
            },
            {
                "id": "B-1",
                "subscriber": "beta",
                "deployment": "beta-prod",
                "type": "incident",
                "priority": "P3",
                "title": "Old report",
                "reported_at": "2026-03-02T14:00:00Z",
                "events": [
                    ev("2026-03-02T14:10:00Z", "acknowledged"),
                    ev("2026-03-03T14:00:00Z", "status_update", note=f"{NAME} wrote to us too"),
                    ev("2026-04-01T14:00:00Z", "resolved"),
                ],
            },
            {
                "id": "B-2",
                "subscriber": "beta",
                "deployment": "beta-prod",
                "type": "incident",
                "priority": "P3",
                "title": "Reopened",
                "reported_at": "2026-03-02T14:00:00Z",
                "events": [
                    ev("2026-03-02T14:10:00Z", "acknowledged"),
                    ev("2026-04-01T14:00:00Z", "resolved"),
                    ev("2026-05-01T14:00:00Z", "reopened"),
                ],
            },
            {
                "id": "B-3",
                "subscriber": "beta",
                "deployment": "beta-prod",
                "type": "incident",
                "priority": "P3",
                "title": "Closed again lately",
                "reported_at": "2026-03-02T14:00:00Z",
                "events": [
                    ev("2026-03-02T14:10:00Z", "acknowledged"),
                    ev("2026-04-01T14:00:00Z", "resolved"),
                    ev("2026-04-15T14:00:00Z", "reopened"),
                    ev("2026-07-01T14:00:00Z", "closed"),
                ],
            },
        ],
    }


def files(tmp: Path) -> dict[str, Path]:
    out = {}
    for cid, text in (
        ("A-1", f"HAR trace for {NAME} <{EMAIL}>"),
        ("B-1", "beta trace"),
        ("B-2", "keep me: reopened"),
        ("B-3", "keep me: closed lately"),
    ):
        p = tmp / f"{cid}.har"
        p.write_text(text, encoding="utf-8")
        out[cid] = p
    return out


#: A paging message about A-1, queued and sent before the purge: it quotes the title.
MESSAGE_SQL = (
    "INSERT INTO notify_receiver (url, kinds, lead_time, timezone, created_at) "
    "VALUES ('json://localhost/hook', '[\"escalation\"]', 1800, 'UTC', 0)",
    "INSERT INTO notify_outbox (receiver_id, kind, case_id, clock, period, event_at, created_at, "
    "title, body, status, attempts, next_attempt_at, last_error) SELECT id, 'escalation', "
    f"'A-1', 'workaround', 0, 0, 0, 'A-1 P1 acme: {NAME} cannot log in', "
    f"'A-1 (P1 incident of acme, \"{NAME} cannot log in\"): call {EMAIL}', 'sent', 1, 0, "
    f"'first try refused for {NAME}' FROM notify_receiver",
)


def outbox_texts(rows) -> list[str]:
    return [t for r in rows for t in r]


def holds(path: Path) -> list[str]:
    """The needles found in a file's raw bytes, ignoring case."""
    data = path.read_bytes().lower()
    return [n for n in NEEDLES if n.lower().encode() in data]


def found(paths) -> dict[str, list[str]]:
    return {str(p): holds(p) for p in paths if p.is_file() and holds(p)}


def check_history(capsys, url: str, login: str | None = None) -> None:
    _, out, _ = run(capsys, "--db", url, "case", "A-1", "--json", login=login)
    case = json.loads(out)
    assert case["title"] == f"{REMOVED_USER} cannot log in"
    notes = [e.get("note") for e in case["history"] if e.get("note")]
    assert notes == [
        f"Called {REMOVED_USER} ({REMOVED_USER})",
        f"Bob and {REMOVED_USER} agreed",
        f"call with {REMOVED_USER}",
    ]
    assert [
        e["by"] for e in case["history"] if e["kind"] in ("subscriber_responded", "status_update")
    ] == ["eng-7", REMOVED_USER, REMOVED_USER]
    team = [e for e in case["history"] if e["kind"] in ("war_team_member", "plan_updated")]
    assert team[0]["name"] == REMOVED_USER
    assert team[1]["text"] == f"{REMOVED_USER} confirms the failover"
    assert case["attachments"] == []
    _, out, _ = run(capsys, "--db", url, "case", "B-1", "--json", login=login)
    b1 = json.loads(out)
    assert b1["history"][1]["note"] == f"{REMOVED_USER} wrote to us too"  # wherever it stands
    assert b1["attachments"] == []  # resolved more than 90 days ago
    for cid in ("B-2", "B-3"):  # reopened; closed again within 90 days
        _, out, _ = run(capsys, "--db", url, "case", cid, "--json", login=login)
        assert [a["name"] for a in json.loads(out)["attachments"]] == [f"{cid}.har"]
    _, out, _ = run(capsys, "--db", url, "export", login=login)
    assert [u["id"] for u in json.loads(out)["users"]] == ["b-1"]
    assert not any(n.lower() in out.lower() for n in NEEDLES)


def test_sqlite_purge_leaves_no_byte_behind(tmp_path: Path, capsys, monkeypatch):
    clock.freeze(PURGE_AT)
    try:
        db = tmp_path / "desk" / "support.db"
        db.parent.mkdir()
        store_dir = db.with_name("support.db-attachments")
        src = files(tmp_path)
        path = tmp_path / "d.json"
        path.write_text(json.dumps(doc()), encoding="utf-8")
        assert run(capsys, "--db", str(db), "init", "--lead", "lena")[0] == 0
        code, _, err = run(capsys, "--db", str(db), "import", str(path), login="lena")
        assert code == 0, err
        for cid, f in src.items():
            code, _, err = run(
                capsys,
                "--db",
                str(db),
                "attach",
                cid,
                str(f),
                "--at",
                "2026-03-05T00:00:00Z",
                login="lena",
            )
            assert code == 0, err
        import sqlite3

        con = sqlite3.connect(db)
        with con:
            for sql in MESSAGE_SQL:
                con.execute(sql)
        con.close()
        raw = [db, Path(f"{db}-wal"), *store_dir.iterdir()]
        assert found(raw), "the test must see the values before the purge"
        code, out, err = run(capsys, "--db", str(db), "purge", "--json", login="lena")
        assert code == 0, err
        got = json.loads(out)
        assert got["counts"]["user_pii"] == 2
        assert got["counts"]["attachments"] == 2
        assert got["problems"] == []
        assert sorted(a["case"] for a in got["attachments"]) == ["A-1", "B-1"]
        assert found([db, Path(f"{db}-wal"), Path(f"{db}-shm"), *store_dir.iterdir()]) == {}
        assert len(list(store_dir.iterdir())) == 2  # B-2's and B-3's copies
        assert all(f.exists() for f in src.values())  # the engineers' own files are theirs
        check_history(capsys, str(db), login="lena")
        con = sqlite3.connect(db)
        texts = outbox_texts(con.execute("SELECT title, body, last_error FROM notify_outbox"))
        con.close()
        assert texts == [
            f"A-1 P1 acme: {REMOVED_USER} cannot log in",
            f'A-1 (P1 incident of acme, "{REMOVED_USER} cannot log in"): call {REMOVED_USER}',
            f"first try refused for {REMOVED_USER}",
        ]
        # Reading it back leaves nothing either.
        assert found([db, Path(f"{db}-wal"), *store_dir.iterdir()]) == {}
    finally:
        clock.freeze(None)


@pytest.mark.pg
def test_postgres_purge_leaves_no_byte_behind(
    pg_server, pg_url, tmp_path: Path, capsys, monkeypatch
):
    from test_identity_pg import close_desk, open_desk

    clock.freeze(PURGE_AT)
    store_dir = tmp_path / "attachments"
    monkeypatch.setenv("SUPPORT_CONSOLE_ATTACHMENTS", str(store_dir))
    desk = open_desk(pg_server, pg_url, tmp_path, capsys, monkeypatch, doc())
    try:
        src = files(tmp_path)
        for cid, f in src.items():
            code, _, err = run(
                capsys, "--db", desk.lead_url, "attach", cid, str(f), "--at", "2026-03-05T00:00:00Z"
            )
            assert code == 0, err
        with desk.owner() as conn:
            for sql in MESSAGE_SQL:
                conn.execute(sql)
        oid = desk.rows("SELECT oid FROM pg_database WHERE datname = current_database()")[0][0]
        base = pg_server.data / "base" / str(oid)

        def relation_files() -> list[Path]:
            with desk.owner() as conn:
                conn.execute("CHECKPOINT")  # what the server holds in memory, onto the files
            return sorted(base.iterdir())

        assert found(relation_files()), "the test must see the values before the purge"
        # The lead purges; only the tables' owner may VACUUM them, so the lead is told.
        code, out, err = run(capsys, "--db", desk.lead_url, "purge", "--json")
        assert code == 0, err
        got = json.loads(out)
        assert got["counts"]["user_pii"] == 2
        assert got["counts"]["attachments"] == 2
        assert sorted(a["case"] for a in got["attachments"]) == ["A-1", "B-1"]
        assert got["problems"] == [
            "the removed values stay in the database's free space until "
            "its owner runs `support-console vacuum` (nightly from cron, "
            "see README)"
        ]
        assert found(list(store_dir.iterdir())) == {}
        # The owner's nightly vacuum.
        code, _, err = run(capsys, "--db", desk.url, "vacuum")
        assert code == 0, err
        assert found(relation_files()) == {}
        check_history(capsys, desk.lead_url)
        texts = outbox_texts(desk.rows("SELECT title, body, last_error FROM notify_outbox"))
        assert texts == [
            f"A-1 P1 acme: {REMOVED_USER} cannot log in",
            f'A-1 (P1 incident of acme, "{REMOVED_USER} cannot log in"): call {REMOVED_USER}',
            f"first try refused for {REMOVED_USER}",
        ]
        assert found(relation_files()) == {}
        # The audit names the lead and holds ids only.
        (audit,) = desk.rows("SELECT by, counts::text, ids::text FROM purge_audit")
        assert audit[0] == desk.lead
        assert not any(n.lower() in str(audit).lower() for n in NEEDLES)
    finally:
        clock.freeze(None)
        close_desk(desk)


@pytest.mark.pg
def test_the_postgres_purge_and_the_dry_run_agree(
    pg_server, pg_url, tmp_path: Path, capsys, monkeypatch
):
    """The database's purge function applies the rules of console/rules/retention.py: at
    each boundary, it removes exactly what the dry run lists."""
    from test_identity_pg import close_desk, open_desk

    monkeypatch.setenv("SUPPORT_CONSOLE_ATTACHMENTS", str(tmp_path / "att"))
    clock.freeze(PURGE_AT)
    desk = open_desk(pg_server, pg_url, tmp_path, capsys, monkeypatch, doc())
    try:
        for cid, f in files(tmp_path).items():
            assert (
                run(
                    capsys,
                    "--db",
                    desk.lead_url,
                    "attach",
                    cid,
                    str(f),
                    "--at",
                    "2026-03-05T00:00:00Z",
                )[0]
                == 0
            )
        # B-1 resolved 2026-04-01 14:00: due 90 days later; acme's at 2026-08-30 00:00.
        for at in (
            "2026-06-30T13:59:59Z",
            "2026-06-30T14:00:00Z",
            "2026-08-29T23:59:59Z",
            "2026-08-30T00:00:00Z",
        ):
            clock.freeze(at)
            _, out, _ = run(capsys, "--db", desk.lead_url, "purge", "--dry-run", "--json")
            planned = json.loads(out)
            code, out, err = run(capsys, "--db", desk.lead_url, "purge", "--json")
            assert code == 0, err
            done = json.loads(out)
            assert (done["users"], done["attachments"]) == (
                planned["users"],
                planned["attachments"],
            ), at
        assert desk.rows(
            "SELECT counts->>'attachments', counts->>'user_pii' FROM purge_audit ORDER BY id"
        ) == [("0", "0"), ("1", "0"), ("0", "0"), ("1", "2")]
    finally:
        clock.freeze(None)
        close_desk(desk)
