"""Snapshot tests of the meters pane, the subscriber view and the suspension reason
picker, at 80x24 and 160x48, with a frozen clock, a pinned zone and the meters test
database (tests/test_app_meters.py). Update with ``pytest --snapshot-update`` after
checking the new pictures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, settle
from test_app_meters import LEAD, make_meters_db, open_sub, to_meters

from screens.app import ConsoleApp

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def url(console_env, tmp_path):
    return make_meters_db(tmp_path / "console.db")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_meters_pane(url, snap_compare, size):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=to_meters)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_subscriber_view_over_limit(url, snap_compare, size):
    async def before(pilot):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")

    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_suspend_reason_picker(url, snap_compare, size):
    async def before(pilot):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        await pilot.press("S")
        await settle(pilot)

    app = ConsoleApp(url, user=LEAD, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_subscriber_view_suspended(url, snap_compare, size):
    async def before(pilot):
        await to_meters(pilot)
        await open_sub(pilot, "yarrow-ops")
        await pilot.press("S", "5")  # abuse
        await settle(pilot)

    app = ConsoleApp(url, user=LEAD, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=before)
