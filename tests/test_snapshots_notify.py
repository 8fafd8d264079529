"""Snapshot tests of the notifications pane (key 6) with failed messages, at 80x24 and
160x48, frozen clock, pinned zone, the test database of tests/test_app_notify.py. Update
with ``pytest --snapshot-update`` after checking the new pictures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, settle
from test_app_notify import make_notify_db

from screens.app import ConsoleApp


@pytest.fixture
def url(console_env, tmp_path):
    return make_notify_db(tmp_path / "console.db")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_notify_pane(url, snap_compare, size):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)

    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=before)
