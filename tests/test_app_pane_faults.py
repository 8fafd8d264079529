"""A pane's background read that fails never ends the console: the one handler of failed
workers (``ConsoleApp.on_worker_state_changed``) says a database gone as OFFLINE and on the
pane's status line, and any other error on the status line, the pane keeping what it
showed."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from app_support import NOW, TZ, USER, make_db, screen_text, settle

from console import clock
from console.store.engine import Store
from console.views.meters import MeterReading
from screens.app import ConsoleApp
from screens.meters_pane import MetersPane


@pytest.fixture
def db(tmp_path: Path):
    clock.freeze(NOW)
    yield make_db(tmp_path / "pane-faults.db")
    clock.freeze(None)


def _read_raising(error: Exception):
    def load(self: MetersPane, store: Store, now: int, user: str) -> MeterReading:
        raise error

    return load


def _meters_after_failed_read(db: str, monkeypatch, error: Exception) -> tuple[str, str | None]:
    async def go() -> tuple[str, str | None]:
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            shown = len(app.query_one(MetersPane).rows)
            assert shown > 0
            monkeypatch.setattr(MetersPane, "load", _read_raising(error))
            await pilot.press("r")
            await settle(pilot)
            assert app.is_running
            assert len(app.query_one(MetersPane).rows) == shown  # what it showed stays
            return screen_text(app), app.offline

    return asyncio.run(go())


def test_a_database_error_in_a_pane_read_goes_offline_and_is_said(db, monkeypatch):
    text, offline = _meters_after_failed_read(
        db, monkeypatch, sqlite3.OperationalError("unable to open database file")
    )
    assert offline is not None
    assert "unable to open database file" in offline
    assert "✖ cannot read the meters: unable to open database file" in text
    assert "OFFLINE" in text


def test_an_unexpected_error_in_a_pane_read_is_said_not_fatal(db, monkeypatch):
    text, offline = _meters_after_failed_read(db, monkeypatch, RuntimeError("boom"))
    assert offline is None
    assert "✖ cannot read the meters: boom" in text
    assert "OFFLINE" not in text
