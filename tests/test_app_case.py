"""Pilot tests of the case view: every action by its key, asserted on the screen and on
the database; a refused action shows why and writes nothing."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from app_support import TZ, USER, events_of, screen_text, settle

from console import clock
from screens.app import ConsoleApp


async def open_case(pilot, case_id: str) -> None:
    await pilot.press("slash", *case_id, "enter", "enter")
    await settle(pilot)
    assert pilot.app.screen.case_id == case_id


async def act(pilot, *keys: str) -> str:
    await pilot.press(*keys)
    await settle(pilot)
    return screen_text(pilot.app)


def flat(text: str) -> str:
    return " ".join(text.split())


def kinds(url: str, case_id: str) -> list[str]:
    return [k for k, _, _ in events_of(url, case_id)]


def test_case_view_shows_clocks_facts_and_history(db):
    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            await open_case(pilot, "CS-1401")
            text = screen_text(app)
            for clock_name in ("response", "workaround", "resolution", "update"):
                assert clock_name in text
            assert "Dogwood Retail (dogwood-retail)" in text
            assert "dogwood-prod-gw · production · not managed · gateway 4.2.0" in text
            assert "awaiting the subscriber" in text
            assert "subscriber responded" in text
            assert "awaiting_subscriber" not in text
            assert "note=" not in text
            assert "Need request IDs" in text
            assert "BREACHED" in text
            assert "COUNTED/TARGET" in text

    asyncio.run(go())


def test_every_action_by_key(db):
    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            await open_case(pilot, "Z-101")
            assert kinds(db, "Z-101") == []

            text = await act(pilot, "a")
            assert "acknowledged recorded" in text
            assert events_of(db, "Z-101")[-1][:2] == ("acknowledged", USER)

            await pilot.press("w")
            await pilot.pause()
            text = await act(pilot, *"need logs", "enter")
            assert events_of(db, "Z-101")[-1] == (
                "awaiting_subscriber",
                USER,
                {"note": "need logs"},
            )
            assert "awaiting subscriber" in text
            assert "paused" in text

            await act(pilot, "s")
            assert kinds(db, "Z-101")[-1] == "subscriber_responded"

            await act(pilot, "o")
            assert kinds(db, "Z-101")[-1] == "workaround_provided"

            await pilot.press("f")  # asks the ETA, in the operator's zone
            await pilot.pause()
            await pilot.press(*["backspace"] * 16, *"2026-11-27 17:00", "enter")
            text = flat(await act(pilot))
            assert events_of(db, "Z-101")[-1] == (
                "fix_eta_agreed",
                USER,
                {"eta": "2026-11-27T22:00:00Z"},
            )
            assert "fix ETA agreed eng-me ETA Fri 27 Nov 2026 17:00 EST" in text

            await pilot.press("u")
            await pilot.pause()
            await act(pilot, *"patch on Friday", "enter")
            assert events_of(db, "Z-101")[-1] == (
                "status_update",
                USER,
                {"note": "patch on Friday"},
            )

            await pilot.press("t")
            await pilot.pause()
            await pilot.press(*"1.5", "tab", "space", "tab", *"docs fix", "enter")
            await settle(pilot)
            assert events_of(db, "Z-101")[-1] == (
                "time_logged",
                USER,
                {"hours": 1.5, "exempt": True, "note": "docs fix"},
            )

            await pilot.press("l")
            await pilot.pause()
            text = await act(pilot, "3")
            assert events_of(db, "Z-101")[-1] == ("level_changed", USER, {"level": "L3"})
            assert "L3" in text.splitlines()[0]

            await pilot.press("R")  # asks first, with an optional note
            await pilot.pause()
            assert "Resolve case Z-101?" in screen_text(app)
            assert kinds(db, "Z-101")[-1] == "level_changed"
            text = await act(pilot, *"keys rotated", "enter")
            assert events_of(db, "Z-101")[-1] == ("resolved", USER, {"note": "keys rotated"})
            assert "resolved" in text.splitlines()[0]

            await pilot.press("C")
            await pilot.pause()
            await act(pilot, "enter")  # no note
            assert events_of(db, "Z-101")[-1] == ("closed", USER, {})

            await act(pilot, "O")
            assert kinds(db, "Z-101")[-1] == "reopened"
            assert len(kinds(db, "Z-101")) == 11

            # back in the queue the case shows its new state
            await pilot.press("q")
            await settle(pilot)
            item = next(it for it in app.queue.items if it.id == "Z-101")
            assert item.level == "L3"
            assert item.status == "open"

    asyncio.run(go())


def test_refused_action_shows_why_and_writes_nothing(db):
    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            await open_case(pilot, "Z-101")
            text = flat(await act(pilot, "s"))  # subscriber responded, nobody is awaited
            assert "refused, nothing written" in text
            assert "case Z-101 is not awaiting the subscriber" in text
            assert kinds(db, "Z-101") == []
            text = flat(await act(pilot, "o"))  # workaround before acknowledgement
            assert "not acknowledged yet" in text
            text = flat(await act(pilot, "O"))  # reopen an open case
            assert "only a resolved or closed case reopens" in text
            await pilot.press("t")
            await pilot.pause()
            await pilot.press(*"2", "tab", "space", "tab", "enter")  # exempt without a note
            await settle(pilot)
            text = flat(screen_text(app))
            assert "exempt time entry needs a note" in text
            await pilot.press("l")
            await pilot.pause()
            text = flat(await act(pilot, "1"))  # already L1
            assert "already at L1" in text
            assert kinds(db, "Z-101") == []

    asyncio.run(go())


def test_prompt_can_be_cancelled_without_writing(db):
    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await open_case(pilot, "Z-101")
            await pilot.press("u")
            await pilot.pause()
            await pilot.press(*"half", "ctrl+g")
            await settle(pilot)
            assert type(app.screen).__name__ == "CaseView"
            await pilot.press("u")
            await pilot.pause()
            await pilot.press("enter")  # an empty note is not accepted
            await pilot.pause()
            assert "a note is needed" in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            assert kinds(db, "Z-101") == []

    asyncio.run(go())


def test_stale_view_is_refused_and_reloaded(db):
    async def go():
        from console.actions import append_event
        from console.store.engine import open_store

        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            await open_case(pilot, "Z-101")
            store = open_store(db)
            append_event(
                store,
                "Z-101",
                "acknowledged",
                at=clock.now(),
                by="someone-else",
                recorded_at=clock.now(),
            )
            store.dispose()
            text = flat(await act(pilot, "a"))
            assert "changed by someone-else" in text
            assert kinds(db, "Z-101") == ["acknowledged"]
            assert "someone-else" in screen_text(app)  # reloaded: the history shows it

    asyncio.run(go())
