"""Snapshots of the subscriber view's change form with its preview (issue 12), at 80x24
and 160x48, frozen clock, pinned zone. Update with ``pytest --snapshot-update`` after
checking the new pictures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, settle
from test_app_meters import LEAD, make_meters_db, open_sub, to_meters

from screens.app import ConsoleApp

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def url(console_env, tmp_path):
    return make_meters_db(tmp_path / "console.db")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_change_form_with_its_preview(url, snap_compare, size):
    async def before(pilot):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        await pilot.press("E")
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "enter")
        await pilot.press(*"incident.P2.workaround=2h", "tab", "tab", *"order form", "enter")
        await settle(pilot)
        await settle(pilot)

    app = ConsoleApp(url, user=LEAD, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=before)
