"""The database taken away under a running console (issue 15, item 13 and "What must show
that it works"): every pane's keys are pressed; the console never exits, the header says
OFFLINE, and every action is refused in words, writing nothing and creating nothing.

SQLite: the file is deleted. PostgreSQL: the server is stopped (marker ``pg``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from app_support import NOW, TZ, USER, make_db, screen_text, settle, wait_for
from rich.text import Text
from test_snapshots_board import _board_data

from console import clock
from screens.app import ConsoleApp

GONE = "is gone (deleted or moved)"


@pytest.fixture
def db(console_env, tmp_path: Path) -> str:
    url = make_db(tmp_path / "night.db")
    _board_data(url)  # escalated cards with a team and a plan
    return url


def _owner(app: ConsoleApp) -> Any:
    """What shows the notice now: the view on top, else the pane on show."""
    screen = app.screen
    if hasattr(screen, "_say"):
        return screen
    from textual.widgets import ContentSwitcher

    switcher = app.query_one(ContentSwitcher)
    return switcher.query_one(f"#{switcher.current}")


class Tour:
    """Presses keys and records what each one said, so that a failure names the key."""

    def __init__(self, app: ConsoleApp, pilot: Any) -> None:
        self.app, self.pilot = app, pilot
        self.said: list[tuple[str, str]] = []

    def alive(self, where: str) -> None:
        assert self.app.is_running, f"exited at {where}"
        assert self.app.return_code is None, f"exited at {where}"

    async def keys(self, *keys: str) -> str:
        for k in keys:
            await self.pilot.press(k)
            await settle(self.pilot)
            self.alive(" ".join(keys))
        return " ".join(screen_text(self.app).split())  # wrapped lines joined

    async def action(
        self,
        owner: Any,
        key: str,
        *then: str,
        words: tuple[str, ...] = (GONE,),
        back_to: type | None = None,
    ) -> str:
        """Press ``key`` (and the answers ``then`` to the prompt it opens); the notice of
        ``owner`` must then refuse in words: one of ``words`` and that nothing was written."""
        owner.notice = Text("")
        await self.keys(key, *then)
        said = owner.notice.plain
        self.said.append((key, said))
        assert said.startswith("✖"), f"{key}: no refusal: {said!r}"
        assert any(w in said for w in words), f"{key}: {said!r}"
        assert (
            "nothing was written" in said
            or "nothing written" in said
            or said.startswith("✖ not recorded:")
        ), f"{key}: {said!r}"
        assert "nothing written: the database" not in said, said  # said once, not twice
        if back_to is not None:
            for _ in range(3):
                if isinstance(self.app.screen, back_to):
                    break
                await self.keys("escape")
            assert isinstance(self.app.screen, back_to), f"{key}: {type(self.app.screen)}"
        return said


def header(app: ConsoleApp) -> str:
    return screen_text(app).splitlines()[0]


def test_every_panes_keys_with_the_sqlite_file_deleted(db: str):
    from screens.case_view import CaseView
    from screens.subscriber_view import SubscriberView

    path = Path(db.removeprefix("sqlite:///"))

    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ), live=True)
        async with app.run_test(size=(120, 40)) as pilot:
            tour = Tour(app, pilot)
            await settle(pilot)
            await tour.keys("2", "3", "4", "5", "6", "1")  # every pane read once, online
            app.open_case("Z-101")
            await settle(pilot)
            assert isinstance(app.screen, CaseView)
            for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                p.unlink(missing_ok=True)
            assert await wait_for(pilot, lambda: app.offline is not None)
            assert GONE in app.offline

            # The case view: every action key, with its prompt answered.
            view = app.screen
            for key, *then in (
                ["a"],
                ["w", "enter"],
                ["s"],
                ["o"],
                ["f", "enter"],
                ["u", "x", "enter"],
                ["l", "enter"],
                ["T"],
                ["H"],
                ["R", "enter"],
                ["C", "enter"],
                ["O"],
                ["S"],
                ["U"],
            ):
                await tour.action(view, key, *then, back_to=CaseView)
            # The reclassification wizard cannot read: it says so and Esc leaves it.
            text = await tour.keys("c")
            assert GONE in text
            await tour.keys("escape")
            assert isinstance(app.screen, CaseView)
            await tour.keys("full_stop")  # the more menu opens and closes
            await tour.keys("escape", "escape")
            assert not isinstance(app.screen, CaseView)

            # The queue: filters work on what it holds (item 13: `m` used to exit 1).
            assert "OFFLINE" in header(app)
            for key in ("m", "m", "u", "u", "b", "b", "p", "t", "x", "r"):
                await tour.keys(key)
                assert "OFFLINE" in header(app), key
            text = await tour.keys("m")
            assert "Filter: assigned to me" in text
            assert "Z-100" in text
            await tour.keys("m", "s", "escape", "slash", "enter")
            text = await tour.keys("n")  # the wizard says it cannot read, and Esc leaves
            assert GONE in text
            await tour.keys("escape")
            text = await tour.keys("enter")  # a case that cannot be read says so
            assert isinstance(app.screen, CaseView)
            assert "cannot read case" in text
            await tour.keys("escape")

            # The escalation board: a card is selected; every key refuses or moves.
            await tour.keys("2")
            board = _owner(app)
            await tour.action(board, ">")
            await tour.keys("right", "right")  # plan agreed: CS-1101
            await tour.action(board, "<")
            for key in ("a", "x", "e", "u"):
                await tour.keys(key)  # a prompt opens (or the refusal is said)
                if app.screen is not app.screen_stack[0]:
                    await tour.keys("escape")
            await tour.keys("down", "right", "left", "pagedown", "pageup", "b", "b", "r")
            assert "OFFLINE" in header(app)

            # Meters, and a subscriber's view from there.
            await tour.keys("3", "r")
            assert "OFFLINE" in header(app)
            text = await tour.keys("enter")
            assert isinstance(app.screen, SubscriberView)
            assert GONE in text
            sub = app.screen
            for key in ("S", "L", "E"):
                sub.notice = Text("")
                await tour.keys(key)
                if app.screen is not sub:
                    await tour.keys("escape")
                assert sub.notice.plain.startswith("✖"), (key, sub.notice.plain)
            await tour.keys("c", "r", "escape")
            assert not isinstance(app.screen, SubscriberView)

            await tour.keys("4")
            await tour.action(_owner(app), "P")
            await tour.keys("r")
            await tour.keys("5", "r")
            await tour.keys("6")
            await tour.action(_owner(app), "R")
            await tour.keys("r")
            assert "OFFLINE" in header(app)
            assert app.is_running
        return tour.said

    said = asyncio.run(go())
    assert said  # the tour recorded its refusals
    assert not path.exists()  # nothing re-created an empty database behind the console


@pytest.mark.pg
def test_the_queue_and_a_case_with_postgresql_stopped(pg_server, pg_url: str, monkeypatch):
    """Item 13 as reported: the server unreachable, `m` on the queue (a worker reading the
    database) showed no OFFLINE but exited with status 1."""
    from app_support import documents

    from console.importer import existing_ids, validate, write
    from console.rules.policy import default_policy
    from console.store.engine import open_store
    from screens.case_view import CaseView

    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    clock.freeze(NOW)
    try:
        policy = default_policy()
        with open_store(pg_url) as store:
            for doc in documents():
                with store.connection() as conn:
                    prep = validate(doc, policy, existing_ids(conn, policy), clock.now())
                with store.write() as s:
                    write(s, prep, clock.now())

        async def go():
            app = ConsoleApp(pg_url, user=USER, tz=ZoneInfo(TZ), live=True)
            async with app.run_test(size=(120, 40)) as pilot:
                tour = Tour(app, pilot)
                await settle(pilot)
                await asyncio.to_thread(pg_server.stop)
                for key in ("m", "u", "b", "p", "t", "x", "r", "m"):
                    await tour.keys(key)
                assert await wait_for(pilot, lambda: "OFFLINE" in header(app))
                for pane in "234561":
                    await tour.keys(pane, "r")
                    assert "OFFLINE" in header(app), pane
                app.open_case("Z-101")
                await settle(pilot)
                assert isinstance(app.screen, CaseView)
                said = await tour.action(app.screen, "a", words=("cannot be reached", "database"))
                assert "Traceback" not in said
                await tour.keys("escape")
                assert app.is_running
                assert "OFFLINE" in header(app)

        asyncio.run(go())
    finally:
        pg_server.ensure_running()
        clock.freeze(None)
