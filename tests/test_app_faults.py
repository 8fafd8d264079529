"""A console whose SQLite database is deleted, read-only or full says so in words, writes
nothing, does not crash, and carries on once the database is back (issue: faults).

Tests run as root, for whom file permissions do not apply, so "read-only" is made with
SQLite's own ``PRAGMA query_only`` on the console's connections (SQLite's real read-only
error), and "full" by having the driver raise SQLite's SQLITE_FULL error on inserts (a
real full disk cannot be made here: WAL reuses its file space and there is no small
filesystem to fill).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, events_of, screen_text, settle, wait_for
from sqlalchemy import event

from screens.app import ConsoleApp


async def open_z101(app, pilot) -> None:
    await settle(pilot)
    app.open_case("Z-101")
    await settle(pilot)
    assert type(app.screen).__name__ == "CaseView"


def acks(url: str) -> int:
    return sum(1 for k, _, _ in events_of(url, "Z-101") if k == "acknowledged")


def test_deleted_database_is_said_in_words_and_recovered(db: str, tmp_path: Path):
    path = Path(db.removeprefix("sqlite:///"))
    backup = tmp_path / "backup.db"

    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ), live=True)
        async with app.run_test(size=(160, 48)) as pilot:
            await open_z101(app, pilot)
            shutil.copy(path, backup)
            path.unlink()
            # The case view has no header: a notification says it (the queue's header says
            # OFFLINE).
            assert await wait_for(pilot, lambda: app.offline is not None)
            assert "is gone" in app.offline
            assert any(n.title == "Database offline" for n in app._notifications)
            await pilot.press("a")
            await settle(pilot)
            assert "is gone (deleted or moved); nothing was written" in screen_text(app)
            shutil.copy(backup, path)  # restored
            assert await wait_for(pilot, lambda: app.offline is None)
            await pilot.press("a")
            await settle(pilot)
            assert "acknowledged recorded" in screen_text(app).lower() or acks(db) == 1
            assert acks(db) == 1

    asyncio.run(go())


def _read_only(engine) -> tuple[str, object]:
    def hook(dbapi_conn, _record) -> None:
        dbapi_conn.execute("PRAGMA query_only = ON")

    return "connect", hook


def _full(engine) -> tuple[str, object]:
    def hook(cursor, statement, parameters, context) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")

    return "do_execute", hook


@pytest.mark.parametrize(
    ("make_fault", "words"),
    [
        (_read_only, "the database is read-only"),
        (_full, "the database is full"),
    ],
    ids=["read-only", "full"],
)
def test_read_only_or_full_database_refuses_in_words(db: str, make_fault, words: str):
    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ), live=False)
        async with app.run_test(size=(160, 48)) as pilot:
            await open_z101(app, pilot)
            engine = app.store.engine
            name, fault = make_fault(engine)
            event.listen(engine, name, fault)
            engine.dispose()
            await pilot.press("u")
            await pilot.pause()
            await pilot.press(*"still investigating")
            await pilot.press("enter")
            await settle(pilot)
            text = screen_text(app)
            assert words in text
            assert "nothing was written" in text
            assert "Traceback" not in text
            assert not [e for e in events_of(db, "Z-101") if e[0] == "status_update"]
            event.remove(engine, name, fault)  # the disk is freed / made writable
            engine.dispose()
            await pilot.press("u")
            await pilot.pause()
            await pilot.press(*"back")
            await pilot.press("enter")
            await settle(pilot)
            assert [d["note"] for k, _, d in events_of(db, "Z-101") if k == "status_update"] == [
                "back"
            ]

    asyncio.run(go())
