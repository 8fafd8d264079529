"""Pilot tests of the governance screens: the purge pane (key 4, policy §11), the
lifespan pane (key 5, policy §12), the end-of-support flag in the queue and the case
view, the case view's "more" actions (change request from a service request, a confirmed
vulnerability opening a linked incident, change-request status, attaching a file, policy
§5) and the subscriber view's support users. By keys, asserted on the screen and on the
database; an engineer's refused purge or date edit writes nothing.

The shared test database (app_support) gains, from one extra interchange document:

- a support matrix: gateway 4.1.3 (released 2022-01-10, notice 2025-06-01: end of
  support 2026-06-01, past at the frozen clock) and gateway 4.2.0 (2024-03-01: end of
  support 2027-03-01);
- ``acme-gov`` (active, a managed production deployment on gateway 4.1.3) with a service
  request, a security report analysis and two resolved cases with attachments (one due
  for purge, one due within 30 days), and support users added and removed by an admin;
- ``oldco`` terminated 2026-07-01 (more than 90 days ago: its users and attachment are
  due), ``wren-works`` terminated 2026-09-10 (due 2026-12-09, within 30 days);
- a lead, ``lead-lena``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, events_of, make_db, screen_text, settle
from rich.console import Console

from console import clock
from screens.app import ConsoleApp

LEAD = "lead-lena"
SHA = "ab" * 32


def _sub(sid: str, name: str, terminated: str | None = None) -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "plan": "enterprise",
        "coverage": "business",
        "timezone": TZ,
        "term_start": "2026-01-01",
        "term_end": "2026-12-31",
        "terminated_at": terminated,
        "targets": {},
    }


def _dep(did: str, sid: str, version: str, managed: bool = False) -> dict[str, Any]:
    return {
        "id": did,
        "subscriber": sid,
        "environment": "production",
        "managed": managed,
        "product": "gateway",
        "version": version,
    }


def _att(name: str, added: str, by: str = USER) -> dict[str, Any]:
    return {
        "name": name,
        "size": 2048,
        "sha256": SHA,
        "path": f"/srv/files/{name}",
        "added_at": added,
        "added_by": by,
    }


def _case(
    cid: str,
    sid: str,
    dep: str | None,
    ctype: str,
    prio: str | None,
    title: str,
    reported: str,
    events: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "id": cid,
        "subscriber": sid,
        "deployment": dep,
        "type": ctype,
        "priority": prio,
        "title": title,
        "reported_at": reported,
        "aware_at": None,
        "level": "L1",
        "links": [],
        "events": events or [],
    }
    if attachments:
        c["attachments"] = attachments
    return c


def _done(resolved: str) -> list[dict[str, Any]]:
    return [{"at": resolved, "kind": "resolved", "by": USER}]


def extra_doc() -> dict[str, Any]:
    return {
        "products": [
            {
                "product": "gateway",
                "version": "4.1.3",
                "released": "2022-01-10",
                "discontinuation_notice": "2025-06-01",
            },
            {"product": "gateway", "version": "4.2.0", "released": "2024-03-01"},
        ],
        "subscribers": [
            _sub("acme-gov", "Acme Gov"),
            _sub("oldco", "Old Co", terminated="2026-07-01T00:00:00Z"),
            _sub("wren-works", "Wren Works", terminated="2026-09-10T00:00:00Z"),
        ],
        "deployments": [
            _dep("acme-prod", "acme-gov", "4.1.3", managed=True),
            _dep("oldco-prod", "oldco", "4.2.0"),
            _dep("wren-prod", "wren-works", "4.2.0"),
        ],
        "users": [
            {
                "id": "ac-admin",
                "subscriber": "acme-gov",
                "name": "Ana Admin",
                "email": "ana@acme.example",
                "admin": True,
                "added_by": LEAD,
                "added_at": "2026-01-05T15:00:00Z",
            },
            {
                "id": "ac-dev",
                "subscriber": "acme-gov",
                "name": "Dev Dan",
                "email": "dan@acme.example",
                "admin": False,
                "added_by": "ac-admin",
                "added_at": "2026-02-01T15:00:00Z",
                "removed_by": "ac-admin",
                "removed_at": "2026-10-01T15:00:00Z",
            },
            {
                "id": "oc-admin",
                "subscriber": "oldco",
                "name": "Olga Oldman",
                "email": "olga@oldco.example",
                "admin": True,
            },
            {
                "id": "oc-dev",
                "subscriber": "oldco",
                "name": "Otto Dev",
                "email": "otto@oldco.example",
                "admin": False,
            },
            {
                "id": "wr-admin",
                "subscriber": "wren-works",
                "name": "Willa Wren",
                "email": "willa@wren.example",
                "admin": True,
            },
        ],
        "cases": [
            _case(
                "SR-1",
                "acme-gov",
                "acme-prod",
                "service_request",
                None,
                "Enable mTLS on the partner API",
                "2026-11-23T14:00:00Z",
            ),
            _case(
                "SRA-1",
                "acme-gov",
                "acme-prod",
                "security_report",
                None,
                "Header injection in admin console",
                "2026-11-23T15:00:00Z",
            ),
            _case(
                "AC-7",
                "acme-gov",
                "acme-prod",
                "incident",
                "P3",
                "Old TLS warning",
                "2026-07-20T14:00:00Z",
                _done("2026-08-01T14:00:00Z"),
                [_att("tls-trace.pcap", "2026-07-21T14:00:00Z")],
            ),
            _case(
                "AC-8",
                "acme-gov",
                "acme-prod",
                "incident",
                "P3",
                "Slow admin login",
                "2026-08-20T14:00:00Z",
                _done("2026-09-01T14:00:00Z"),
                [_att("login-har.json", "2026-08-21T14:00:00Z")],
            ),
            _case(
                "OC-1",
                "oldco",
                "oldco-prod",
                "incident",
                "P3",
                "Export stuck",
                "2026-05-04T14:00:00Z",
                [
                    {
                        "at": "2026-05-04T15:00:00Z",
                        "kind": "status_update",
                        "by": "oc-dev",
                        "note": "any news?",
                    }
                ],
                [_att("export-log.txt", "2026-05-04T16:00:00Z", by="oc-dev")],
            ),
        ],
    }


def make_gov_db(path: Path) -> str:
    """The shared test database plus the governance data above and a lead. Clock frozen."""
    from cli_support import make_lead

    from console.importer import existing_ids, validate, write
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    url = make_db(path)
    policy = load_policy(None)
    store = open_store(url)
    now = clock.now()
    with store.connection() as conn:
        existing = existing_ids(conn, policy)
    prep = validate(extra_doc(), policy, existing, now)
    with store.write() as session:
        write(session, prep, now)
    make_lead(store, LEAD, now)
    store.dispose()
    return url


@pytest.fixture
def db(console_env, tmp_path):
    return make_gov_db(tmp_path / "console.db")


def rows(url: str, sql: str, *args: Any) -> list[tuple]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def flat(text: str) -> str:
    return " ".join(text.split())


def rendered(widget: Any, width: int = 150) -> str:
    """A Static's whole content (scrolled into view or not) as plain text."""
    con = Console(width=width, no_color=True, record=True)
    con.print(widget.content)
    return con.export_text()


def run(url: str, user: str, size: tuple[int, int], body) -> None:
    async def go():
        app = ConsoleApp(url, user=user, tz=ZoneInfo(TZ))
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await body(pilot, app)

    asyncio.run(go())


async def keys(pilot, *pressed: str) -> str:
    await pilot.press(*pressed)
    await settle(pilot)
    return screen_text(pilot.app)


async def open_case(pilot, case_id: str) -> str:
    await pilot.press("1", "x", "slash", *case_id, "enter", "enter")
    await settle(pilot)
    assert pilot.app.screen.case_id == case_id
    return screen_text(pilot.app)


def links(url: str) -> set[tuple[str, str]]:
    return set(rows(url, "SELECT case_id, linked_case_id FROM case_link"))


# -- the case view's "more" actions ------------------------------------------------------------


def test_change_request_from_a_service_request_by_keys(db):
    async def body(pilot, app):
        await open_case(pilot, "SR-1")
        text = await keys(pilot, "full_stop")
        assert "change request from this service request" in text
        assert "✖ SRA only" in text  # v: not for an SR
        text = await keys(pilot, "r")
        assert "Change request from SR-1: its title" in text
        await pilot.press("ctrl+u", *"Rotate partner certs", "enter")
        await settle(pilot)
        new = rows(
            db,
            "SELECT id, type, subscriber_id, deployment_id, title FROM support_case "
            "WHERE type = 'change_request'",
        )
        assert len(new) == 1
        cr, ctype, sub, dep, title = new[0]
        assert (ctype, sub, dep, title) == (
            "change_request",
            "acme-gov",
            "acme-prod",
            "Rotate partner certs",
        )
        assert (cr, "SR-1") in links(db)
        text = flat(screen_text(app))
        assert f"change request {cr} opened, linked to SR-1" in text
        assert f"← {cr} (change request) opened from this" in text  # the SR's side
        # the CR's side: its link back to the SR, its status; move it forward by keys
        await pilot.press("q")
        await settle(pilot)
        text = flat(await open_case(pilot, cr))
        assert "→ SR-1 (service request) came from" in text
        assert "[proposed] → approved" in text
        text = await keys(pilot, "full_stop")
        assert "next: approved or rejected" in text  # the menu names the legal next steps
        text = flat(await keys(pilot, "s"))
        assert "is proposed: move it to" in text
        # only the next legal steps are offered (policy §5): approved or rejected
        menu = text.split("move it to", 1)[1]
        assert "1 approved" in menu
        assert "2 rejected" in menu
        assert "scheduled" not in menu
        text = flat(await keys(pilot, "1"))
        assert events_of(db, cr)[-1] == ("cr_status", USER, {"status": "approved"})
        assert "proposed → [approved] → scheduled" in text
        assert "cr_status" not in text  # the notice and the history in words (issue 15)
        text = flat(await keys(pilot, "full_stop", "s"))
        assert "1 scheduled" in text
        assert "rejected" in text.split("move it to", 1)[1]
        text = flat(await keys(pilot, "1"))
        assert events_of(db, cr)[-1] == ("cr_status", USER, {"status": "scheduled"})
        assert "proposed → approved → [scheduled]" in text

    run(db, USER, (110, 40), body)


def test_confirmed_vulnerability_opens_a_linked_incident_by_keys(db):
    async def body(pilot, app):
        await open_case(pilot, "SRA-1")
        text = await keys(pilot, "full_stop", "v")
        # The priorities as the wizard names them (the policy's names, issue 15).
        assert all(
            label in text for label in ("P0 Catastrophic", "P1 Critical", "P2 High", "P3 Medium")
        )
        assert "P1  high" not in text
        assert "P2  medium" not in text
        text = await keys(pilot, "1")  # P1
        assert "title of the P1 incident" in text
        await pilot.press("enter")  # the suggested title
        text = await keys(pilot)
        inc = rows(
            db,
            "SELECT id, type, priority, deployment_id, title FROM support_case "
            "WHERE id NOT IN ('SRA-1') AND title LIKE 'Confirmed vulnerability%'",
        )
        assert len(inc) == 1
        iid, ctype, prio, dep, title = inc[0]
        assert (ctype, prio, dep) == ("incident", "P1", "acme-prod")
        assert title == "Confirmed vulnerability: Header injection in admin console"
        assert (iid, "SRA-1") in links(db)
        kind, by, data = events_of(db, "SRA-1")[-1]
        assert (kind, by, data["incident"], data["priority"]) == (
            "vulnerability_confirmed",
            USER,
            iid,
            "P1",
        )
        assert f"Incident {iid} opened, linked to SRA-1. Open it now?" in flat(text)
        text = flat(await keys(pilot, "y"))
        assert app.screen.case_id == iid
        assert "→ SRA-1 (security report analysis) came from" in text
        # and the SRA shows it the other way
        text = flat(await keys(pilot, "q"))
        assert app.screen.case_id == "SRA-1"
        assert f"← {iid} (incident) opened from this" in text
        # a second confirmation is refused by the engine, nothing written
        before = rows(db, "SELECT count(*) FROM support_case")
        await keys(pilot, "full_stop", "v", "2")
        text = flat(await keys(pilot, "enter"))
        assert "refused, nothing written" in text
        assert rows(db, "SELECT count(*) FROM support_case") == before

    run(db, USER, (110, 40), body)


def test_more_actions_not_for_this_type_are_not_offered(db):
    async def body(pilot, app):
        await open_case(pilot, "Z-101")
        await keys(pilot, "full_stop", "r")  # disabled on an incident: nothing happens
        text = await keys(pilot, "ctrl+g")
        assert "Change request from" not in text
        assert rows(db, "SELECT count(*) FROM support_case WHERE type = 'change_request'") == [(0,)]

    run(db, USER, (110, 40), body)


def test_attach_a_file_by_keys(db, tmp_path):
    f = tmp_path / "trace [b]x[b].log"
    f.write_bytes(b"hello\n" * 100)

    async def body(pilot, app):
        await open_case(pilot, "Z-101")
        await keys(pilot, "full_stop", "f")
        await pilot.press(*str(f), "enter")
        text = flat(await keys(pilot))
        got = rows(
            db, "SELECT case_id, name, size, path, added_by FROM attachment WHERE case_id = 'Z-101'"
        )
        # A copy in the desk's attachment store (the purge removes it with its record).
        ((case, name, size, path, by),) = got
        assert (case, name, size, by) == ("Z-101", f.name, 600, USER)
        assert path.startswith(db.removeprefix("sqlite:///") + "-attachments/")
        assert Path(path).read_bytes() == f.read_bytes()
        assert "attached trace [b]x[b].log" in text
        facts = flat(rendered(app.screen.query_one("#case-facts")))
        assert "Attachments #" in facts
        assert "trace [b]x[b].log · 600 B · sha256" in facts
        # a missing file is refused, nothing written
        await keys(pilot, "full_stop", "f")
        await pilot.press(*"/no/such/file", "enter")
        text = flat(await keys(pilot))
        assert "refused, nothing written: /no/such/file: no such file" in text
        assert len(rows(db, "SELECT id FROM attachment WHERE case_id = 'Z-101'")) == 1

    run(db, USER, (110, 40), body)


def test_key_bar_fits_two_lines_at_80(db):
    async def body(pilot, app):
        await open_case(pilot, "Z-101")
        bar = app.screen.query_one("#case-keys")
        assert bar.size.height <= 2
        assert ". more" in screen_text(app)

    run(db, USER, (80, 24), body)


# -- end of support in the case view and the queue ----------------------------------------------


def test_case_view_flags_a_version_past_end_of_support(db):
    async def body(pilot, app):
        await open_case(pilot, "SR-1")
        facts = flat(rendered(app.screen.query_one("#case-facts")))
        assert (
            "Support version gateway 4.1.3: end of support 2026-06-01 — † past, flagged "
            "(not refused)"
        ) in facts
        await pilot.press("q")
        await settle(pilot)
        await open_case(pilot, "Z-101")
        facts = flat(rendered(app.screen.query_one("#case-facts")))
        assert "version gateway 4.2.0: end of support 2027-03-01 (97 days left)" in facts
        assert "past" not in facts

    run(db, USER, (110, 40), body)


def test_queue_rows_on_a_past_version_are_flagged(db):
    async def body(pilot, app):
        text = screen_text(app)
        lines = {ln[2:].split()[0]: ln for ln in text.splitlines()[3:] if ln[2:].strip()}
        assert "† Enable mTLS" in lines["SR-1"]
        assert "†" in lines["CS-1601"]  # the worked example on gateway 4.1.3
        assert "†" not in lines["Z-101"]

    run(db, USER, (100, 40), body)


# -- the lifespan pane ------------------------------------------------------------------------


def test_lifespan_pane_lists_past_versions_and_their_cases(db):
    async def body(pilot, app):
        text = await keys(pilot, "5")
        lines = [ln for ln in text.splitlines() if "gateway" in ln]
        assert lines[0].startswith("† gateway")
        assert "4.1.3" in lines[0]
        assert "2026-06-01 PAST" in lines[0]
        assert "SR-1" in lines[0]
        assert "SRA-1" in lines[0]
        assert "CS-1601" in lines[0]
        assert "4.2.0" in lines[1]
        assert "2027-03-01" in lines[1]
        assert "PAST" not in lines[1]
        assert "past end of support" in text
        # enter lists the cases; enter on one opens it
        text = await keys(pilot, "home", "enter")
        assert "gateway 4.1.3: end of support 2026-06-01 — PAST, flagged" in text
        assert "SR-1" in text
        assert "Enable mTLS" in text
        await keys(pilot, "down", "enter")
        assert app.screen.case_id == "CS-1601" or app.screen.case_id.startswith(("SR", "AC"))

    run(db, USER, (120, 36), body)


def test_lead_edits_a_versions_dates_and_engineer_is_refused(db):
    def matrix() -> list[tuple]:
        return rows(
            db,
            "SELECT product, version, released, discontinuation_notice, updated_by "
            "FROM product_version ORDER BY version",
        )

    before = matrix()

    async def engineer(pilot, app):
        await keys(pilot, "5", "home")
        text = flat(await keys(pilot, "e"))
        assert (
            "not allowed: editing the support matrix needs the lead role "
            f"({USER} is an engineer); nothing written" in text
        )
        assert "Support dates of" not in text

    run(db, USER, (110, 36), engineer)
    assert matrix() == before

    async def lead(pilot, app):
        await keys(pilot, "5", "home")
        text = await keys(pilot, "e")
        assert "Support dates of gateway 4.1.3" in text
        await pilot.press("tab", "ctrl+u", *"2026-11-01", "enter")
        text = flat(await keys(pilot))
        assert "gateway 4.1.3: end of support 2027-11-01" in text
        line = next(ln for ln in screen_text(app).splitlines() if "4.1.3" in ln)
        assert "PAST" not in line
        assert "2027-11-01" in line

    run(db, LEAD, (110, 36), lead)
    row = next(r for r in matrix() if r[1] == "4.1.3")
    assert row[3:] == ("2026-11-01", LEAD)


# -- the purge pane ---------------------------------------------------------------------------


def test_purge_pane_shows_what_is_due_and_when(db):
    async def body(pilot, app):
        await keys(pilot, "4")
        text = flat(rendered(app.query_one("#purge-list")))
        status = flat(screen_text(app))
        assert "● now: 2 user(s), 2 attachment(s)" in status
        assert "○ 2 in 30 d" in status
        # by subscriber: ids and due days, never names or e-mail addresses
        assert "oldco Old Co · terminated 2026-06-30" in text  # local day of 07-01 00:00Z
        assert "● now due 2026-09-28 2 support user(s) oc-admin, oc-dev (PII+account)" in text
        assert "#" in text
        assert "(OC-1)" in text
        assert "acme-gov Acme Gov" in text
        assert "(AC-7) (resolved)" in text
        assert "○ in 6 d due 2026-11-30 1 attachment(s)" in text
        assert "(AC-8)" in text
        assert "wren-works Wren Works · terminated 2026-09-09" in text
        assert "○ in 14 d due 2026-12-08 1 support user(s) wr-admin" in text
        for pii in ("Olga", "olga@", "export-log.txt", "Willa"):
            assert pii not in text
            assert pii not in status

    run(db, USER, (110, 40), body)


def test_lead_purges_from_the_pane(db):
    async def body(pilot, app):
        await keys(pilot, "4")
        await keys(pilot, "P")
        question = flat(rendered(app.screen.query_one(".suspend-title")))
        assert "2 support user(s) (PII and accounts) and 2 attachment record(s)" in question
        text = flat(await keys(pilot, "y"))
        assert "purged: audit #1 recorded" in text
        audit = flat(rendered(app.query_one("#purge-audit")))
        assert "removed 2 support user(s) (PII and accounts), 2 attachment(s)" in audit
        assert "users: oc-admin, oc-dev" in audit
        assert "cases touched: AC-7, OC-1" in audit
        for pii in ("Olga", "olga@", "export-log.txt", "tls-trace"):
            assert pii not in audit
        status = flat(screen_text(app))
        assert "● now: 0 user(s), 0 attachment(s)" in status

    run(db, LEAD, (110, 40), body)
    assert rows(db, "SELECT id FROM support_user WHERE subscriber_id = 'oldco'") == []
    assert rows(db, "SELECT case_id FROM attachment ORDER BY case_id") == [("AC-8",)]
    ((by, counts, ids),) = rows(db, "SELECT by, counts, ids FROM purge_audit")
    assert by == LEAD
    for pii in ("Olga", "olga@", "Otto", "export-log", "tls-trace", "/srv/files"):
        assert pii not in counts
        assert pii not in ids
    assert '"oc-admin"' in ids
    # the purged user is forgotten in the history, the event stays
    assert events_of(db, "OC-1")[-1][:2] == ("status_update", "removed user")


def test_engineer_purge_is_refused_and_nothing_is_written(db):
    before = (
        rows(db, "SELECT count(*) FROM support_user"),
        rows(db, "SELECT count(*) FROM attachment"),
    )

    async def body(pilot, app):
        await keys(pilot, "4")
        text = flat(await keys(pilot, "P"))
        assert (
            "not allowed: purging needs the lead role (eng-me is an engineer); nothing written"
            in text
        )
        assert "This cannot be undone" not in text

    run(db, USER, (110, 40), body)
    after = (
        rows(db, "SELECT count(*) FROM support_user"),
        rows(db, "SELECT count(*) FROM attachment"),
    )
    assert after == before
    assert rows(db, "SELECT count(*) FROM purge_audit") == [(0,)]


def test_engine_refuses_an_engineer_even_past_the_screen_check(db):
    """The pane's early check aside, the write itself goes through the engine's role check."""

    async def body(pilot, app):
        from screens.purge_pane import PurgePane

        await keys(pilot, "4")
        app.query_one(PurgePane)._purge()
        text = flat(await keys(pilot))
        assert (
            "not allowed: purging needs the lead role (eng-me is an engineer); nothing written"
            in text
        )

    run(db, USER, (110, 40), body)
    assert rows(db, "SELECT count(*) FROM purge_audit") == [(0,)]


# -- the subscriber view's support users --------------------------------------------------------


def test_subscriber_view_lists_users_with_admin_and_who_added_or_removed(db):
    async def body(pilot, app):
        from screens.subscriber_view import open_subscriber

        open_subscriber(app, "acme-gov")
        await settle(pilot)
        users = flat(rendered(app.screen.query_one("#sub-users"), width=160))
        assert "Support users 2 (1 active)" in users
        assert "Ana Admin ana@acme.example admin 2026-01-05 by lead-lena" in users
        assert (
            "Dev Dan dan@acme.example 2026-02-01 by ac-admin removed 2026-10-01 by ac-admin"
            in users
        )

    run(db, USER, (110, 40), body)
