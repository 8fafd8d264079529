"""Snapshot tests of the classification wizard at 80x24: each step and both summaries,
with a frozen clock and a pinned zone. Update with ``pytest --snapshot-update`` after
checking the new pictures."""

from __future__ import annotations

import pytest
from app_support import settle
from test_app_wizard import make_wizard_db

from screens.wizard import open_new_case_wizard, open_reclassify_wizard

SIZE = (80, 24)


@pytest.fixture
def db(console_env, tmp_path):
    return make_wizard_db(tmp_path / "console.db")


def new_case(*keys: str):
    async def before(pilot):
        await settle(pilot)
        open_new_case_wizard(pilot.app)
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return before


def reclassify(case_id: str, *keys: str):
    async def before(pilot):
        await settle(pilot)
        open_reclassify_wizard(pilot.app, case_id)
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return before


def test_wizard_subscriber_step(app, snap_compare):
    assert snap_compare(app, terminal_size=SIZE, run_before=new_case(*"wiz"))


def test_wizard_type_step_with_unavailable_choices(app, snap_compare):
    """Basic plan, pre-production: Incident and Service Request say why they are unavailable."""
    assert snap_compare(app, terminal_size=SIZE, run_before=new_case(*"wiz-basic-pre", "enter"))


def test_wizard_priority_step_managed(app, snap_compare):
    assert snap_compare(
        app, terminal_size=SIZE, run_before=new_case(*"wiz-managed", "enter", "1", "n", "n")
    )


def test_wizard_priority_step_p0_not_asked(app, snap_compare):
    assert snap_compare(
        app, terminal_size=SIZE, run_before=new_case(*"wiz-unmanaged", "enter", "1", "n")
    )


def test_wizard_summary_new_p1(app, snap_compare):
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=new_case(*"wiz-unmanaged", "enter", "1", "p", "y", *"Gateway down"),
    )


def test_wizard_summary_reclassify_breaches_at_once(app, snap_compare):
    assert snap_compare(
        app, terminal_size=SIZE, run_before=reclassify("W-300", "enter", "y", *"customer outage")
    )
