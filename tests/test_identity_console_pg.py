"""The console (Pilot) as a PostgreSQL engineer's login (issue 13): every lead-only key is
refused in one line, nothing written; with the console's own check patched out the
database refuses, and the screen still says it in one line, never SQL.
"""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, screen_text, settle
from test_app_meters import flat, open_sub, to_meters
from test_identity_pg import NOW, close_desk, desk_doc, open_desk

from console import clock
from screens.app import ConsoleApp

pytestmark = pytest.mark.pg


@pytest.fixture
def desk(pg_server, pg_url, tmp_path, capsys, monkeypatch):
    """tests/test_identity_pg.py's desk: an engineer's and a lead's login."""
    clock.freeze(NOW)
    d = open_desk(pg_server, pg_url, tmp_path, capsys, monkeypatch, desk_doc())
    yield d
    clock.freeze(None)
    close_desk(d)


def _console(url: str, user: str, body) -> None:
    async def go():
        app = ConsoleApp(url, user=user, tz=ZoneInfo(TZ))
        async with app.run_test(size=(110, 40)) as pilot:
            await body(pilot, app)
        if app.store is not None:
            app.store.dispose()

    asyncio.run(go())


async def _open_case(pilot, case_id: str) -> None:
    await pilot.press("1")
    await pilot.press("slash", *case_id, "enter", "enter")
    await settle(pilot)
    assert pilot.app.screen.case_id == case_id


def _terminated(desk) -> None:
    """A subscriber whose users are due for purge (so the purge key reaches the database)."""
    with desk.owner() as conn:
        conn.execute(
            "INSERT INTO subscriber (id, name, plan, coverage, term_start, term_end, "
            "terminated_at, targets) VALUES ('gone', 'Gone Ltd', 'basic', 'business', "
            "'2025-01-01', '2025-12-31', 1748736000, '{}')"
        )
        conn.execute(
            "INSERT INTO support_user (id, subscriber_id, name, email, admin) "
            "VALUES ('gone-u1', 'gone', 'Gus Gone', 'gus@gone.example', true)"
        )


def test_the_engineers_console_refuses_every_lead_only_key(desk, monkeypatch):
    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    _terminated(desk)
    before = desk.fingerprint()
    me = f"({desk.eng} is an engineer); nothing written"

    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "acme")
        for key, words in (
            ("S", "suspending a subscriber"),
            ("L", "lifting a subscriber's suspension"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert f"not allowed: {words} needs the lead role {me}" in flat(screen_text(app)), key
        await pilot.press("escape")
        await settle(pilot)
        await _open_case(pilot, "I-1")
        await pilot.press("S")
        await settle(pilot)
        assert f"not allowed: suspending a case's SLA needs the lead role {me}" in flat(
            screen_text(app)
        )
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert f"not allowed: purging needs the lead role {me}" in flat(screen_text(app))

    _console(desk.eng_url, desk.eng, body)
    assert desk.fingerprint() == before


def test_the_database_refuses_a_console_whose_check_is_bypassed(desk, monkeypatch):
    import console.operators as operators

    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    _terminated(desk)
    monkeypatch.setattr(operators, "role_of", lambda conn, name: "lead" if name else "engineer")
    before = desk.fingerprint()

    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "acme")
        app.screen.write("suspend", "abuse")  # what the reason picker would do
        await settle(pilot)
        text = flat(screen_text(app))
        assert "not allowed: suspending a subscriber needs the lead role; nothing written" in text
        await pilot.press("escape")
        await settle(pilot)
        await _open_case(pilot, "I-1")
        await pilot.press("S")  # the screen lets it through: the reason picker
        await settle(pilot)
        await pilot.press("enter")  # the suggested reason
        await settle(pilot)
        text = flat(screen_text(app))
        assert "not allowed: suspending a case's SLA needs the lead role; nothing written" in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        text = flat(screen_text(app))
        assert "not allowed: purging needs the lead role" in text
        assert "nothing written" in text
        for leak in ("INSERT", "SELECT", "Traceback", "psycopg"):
            assert leak not in screen_text(app)

    _console(desk.eng_url, desk.eng, body)
    assert desk.fingerprint() == before


def test_the_leads_console_may(desk, monkeypatch):
    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    _terminated(desk)

    async def body(pilot, app):
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "purged: audit #1 recorded" in flat(screen_text(app))

    _console(desk.lead_url, desk.lead, body)
    assert desk.rows("SELECT id FROM support_user WHERE subscriber_id = 'gone'") == []
    assert desk.rows("SELECT by FROM purge_audit") == [(desk.lead,)]
