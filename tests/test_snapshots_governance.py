"""Snapshot tests of the governance screens: the purge pane (key 4), the lifespan pane
(key 5), a case on a version past end of support with its "more" menu, and the purge's
audit entry, at 80x24 (and 160x48 for the panes), with a frozen clock, a pinned zone and
the governance test database (tests/test_app_governance.py). Update with
``pytest --snapshot-update`` after checking the new pictures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, settle
from test_app_governance import LEAD, make_gov_db

from screens.app import ConsoleApp

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def url(console_env, tmp_path):
    return make_gov_db(tmp_path / "console.db")


def press(*keys: str):
    async def before(pilot):
        await settle(pilot)
        for k in keys:
            await pilot.press(k)
            await settle(pilot)

    return before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_purge_pane(url, snap_compare, size):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=press("4"))


def test_purge_pane_after_a_lead_purged(url, snap_compare):
    app = ConsoleApp(url, user=LEAD, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=(80, 24), run_before=press("4", "P", "y"))


def test_purge_pane_engineer_refused(url, snap_compare):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=(80, 24), run_before=press("4", "P"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lifespan_pane(url, snap_compare, size):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=size, run_before=press("5"))


def test_lifespan_cases_of_a_version(url, snap_compare):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=(80, 24), run_before=press("5", "enter"))


def test_lifespan_dates_prompt(url, snap_compare):
    app = ConsoleApp(url, user=LEAD, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=(80, 24), run_before=press("5", "e"))


def test_queue_with_end_of_support_flags(url, snap_compare):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    assert snap_compare(app, terminal_size=(80, 24), run_before=press("end"))


def test_case_view_past_end_of_support(url, snap_compare):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    keys = ["slash", *"SR-1", "enter", "enter"]
    assert snap_compare(app, terminal_size=(80, 24), run_before=press(*keys))


def test_case_view_more_menu(url, snap_compare):
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    keys = ["slash", *"SRA-1", "enter", "enter", "full_stop"]
    assert snap_compare(app, terminal_size=(80, 24), run_before=press(*keys))
