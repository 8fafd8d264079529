"""Pilot tests of the case view's keys as its bindings say them (issue 17): the key bar
draws the bindings, ``check_action`` disables what cannot apply to a closed case and hides
``A`` until an action refused as stale is kept. Suspend and lift stay enabled for an
engineer: the refusal is said in words (tests/test_app_meters.py, test_app_offline.py)."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest
from app_support import NOW, TZ, USER, make_db, screen_text, settle
from cli_support import make_lead

from console import clock
from console.actions import append_event
from console.store.engine import open_store
from screens.app import ConsoleApp

LEAD = "lead-lena"


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    monkeypatch.delenv("SUPPORT_CONSOLE_NOW", raising=False)
    clock.freeze(NOW)
    url = make_db(tmp_path / "console.db")
    with open_store(url) as store:
        make_lead(store, LEAD, clock.now())
    yield url
    clock.freeze(None)


def enabled(app: ConsoleApp) -> dict[str, bool]:
    """The case view's shown keys: key -> enabled (hidden keys are absent)."""
    return {key: b.enabled for key, b in app.screen.active_bindings.items()}


def run(url: str, user: str, case_id: str, body) -> None:
    async def go():
        app = ConsoleApp(url, user=user, tz=ZoneInfo(TZ))
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            app.open_case(case_id)
            await settle(pilot)
            assert app.screen.case_id == case_id
            await body(pilot, app)

    asyncio.run(go())


def test_an_engineer_sees_the_keys_and_no_apply_again(db):
    async def body(pilot, app):
        keys = enabled(app)
        assert keys["a"]
        assert keys["R"]
        assert keys["O"]
        assert keys["S"]  # leads only, but enabled: the refusal is said in words
        assert keys["U"]
        assert "A" not in keys  # nothing kept to apply again
        bar = screen_text(app).splitlines()[-2:]
        assert "S/U suspend" in " ".join(bar)
        assert "apply again" not in " ".join(bar)
        await pilot.press("S")
        await settle(pilot)
        assert type(app.screen).__name__ == "CaseView"  # no reason picker for an engineer
        assert "needs the lead role" in " ".join(screen_text(app).split())

    run(db, USER, "Z-101", body)


def test_a_lead_may_suspend(db):
    async def body(pilot, app):
        keys = enabled(app)
        assert keys["S"]
        assert keys["U"]
        await pilot.press("S")
        await settle(pilot)
        assert type(app.screen).__name__ == "SuspendPrompt"

    run(db, LEAD, "Z-101", body)


def test_a_kept_action_shows_apply_again(db):
    async def body(pilot, app):
        view = app.screen
        view.pending_retry = ("status_update", {"note": "kept"})
        view.refresh_bindings()
        await settle(pilot)
        assert enabled(app)["A"] is True
        assert "A apply again" in screen_text(app)
        await pilot.press("A")
        await settle(pilot)
        assert view.pending_retry is None
        assert "A" not in enabled(app)

    run(db, USER, "Z-101", body)


def test_a_closed_case_offers_reopen_only(db):
    with open_store(db) as store:
        for kind in ("resolved", "closed"):
            append_event(
                store, "Z-101", kind, at=clock.now(), by=USER, recorded_at=clock.now(), actor=USER
            )

    async def body(pilot, app):
        keys = enabled(app)
        assert keys["O"]
        assert keys["c"]
        assert keys["full_stop"]
        for key in ("a", "w", "s", "o", "f", "u", "t", "l", "T", "H", "R", "C"):
            assert keys[key] is False, key
        await pilot.press("O")
        await settle(pilot)
        assert "open" in screen_text(app).splitlines()[0]
        assert enabled(app)["a"] is True  # open again: the keys apply again

    run(db, USER, "Z-101", body)
