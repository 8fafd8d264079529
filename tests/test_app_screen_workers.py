"""The case view's workers report through typed messages and never end the app: an
exception that escapes a worker's own handling is said on the view's notice line, and the
time the view shows follows ``ConsoleApp.now`` (issue 17)."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, events_of, screen_text, settle, wait_for

import screens.case_view
from console import clock
from screens.app import ConsoleApp
from screens.case_view import CaseView


def test_an_exception_escaping_a_worker_is_said_not_fatal(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise ValueError("the words broke")

    # ``done_text`` runs in the write worker after the event is written, outside its try.
    monkeypatch.setattr(screens.case_view, "done_text", broken)

    async def go() -> None:
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            app.open_case("Z-101")
            await settle(pilot)
            assert isinstance(app.screen, CaseView)
            await pilot.press("a")
            assert await wait_for(pilot, lambda: "recording failed" in screen_text(app))
            assert "the words broke" in screen_text(app)
            assert app.is_running
            assert isinstance(app.screen, CaseView)
        assert [k for k, _, _ in events_of(db, "Z-101")].count("acknowledged") == 1

    asyncio.run(go())


def test_the_case_view_reads_again_when_the_app_time_moves(db: str) -> None:
    async def go() -> None:
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            app.open_case("Z-101")
            await settle(pilot)
            view = app.screen
            assert isinstance(view, CaseView)
            assert await wait_for(pilot, lambda: view.data is not None)
            assert view.data is not None
            later = clock.advance(120)
            app.now = later
            assert await wait_for(pilot, lambda: view.data is not None and view.data.at == later)

    asyncio.run(go())
