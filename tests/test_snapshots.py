"""Snapshot tests (pytest-textual-snapshot) of the queue and the case view, at 80x24 and
160x48, with a frozen clock and a pinned zone. Update with ``pytest --snapshot-update``
after checking the new pictures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, settle

from console import clock
from screens.app import ConsoleApp

SIZES = [(80, 24), (160, 48)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_breached_row(app, snap_compare, size):
    """Y-200 breaches at 08:51 while on screen: red, marked '!', moved above Z-100."""

    async def before(pilot):
        await settle(pilot)
        clock.advance(21 * 60)
        pilot.app.action_tick()
        await pilot.press("end")  # cursor away from the breached rows
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_filtered_queue(app, snap_compare, size):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("b", "p", "p", "p")  # breached, P2
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case_view(app, snap_compare, size):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"CS-1401", "enter", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


# -- NO_COLOR=1 (issue 15, item 2): urgency bold and reversed, never a dimmed grey ------------


@pytest.fixture
def app_no_color(db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    return ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_no_color(app_no_color, snap_compare, size):
    assert snap_compare(app_no_color, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case_view_no_color(app_no_color, snap_compare, size):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"CS-1401", "enter", "enter")
        await settle(pilot)

    assert snap_compare(app_no_color, terminal_size=size, run_before=before)


def test_case_view_60x20(app, snap_compare):
    """Over SSH at 60×20 (issue 15, item 11): each clock on one readable line."""

    async def before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"CS-1401", "enter", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(60, 20), run_before=before)
