"""Snapshot tests of the war-team board at 80x24 and 160x48, with a frozen clock, a pinned
zone and a board with cards in several columns. Update with ``pytest --snapshot-update``
after checking the new pictures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from app_support import NOW, TZ, USER, make_db, settle

from console import clock
from screens.app import ConsoleApp

SIZES = [(80, 24), (160, 48)]
MIN = 60


def _board_data(url: str) -> None:
    """The fixture's breached incidents escalated, one team formed with a plan agreed and
    updates posted, one team still forming, one incident resolved."""
    from cli_support import make_lead

    from console.actions import append_event
    from console.rules.policy import load_policy
    from console.store.engine import open_store
    from console.sweep import sweep

    load_policy(None)
    store = open_store(url)
    now = clock.now()

    def ev(case_id: str, kind: str, minutes_ago: int, by: str = "lead-ana", **data) -> None:
        at = now - minutes_ago * MIN
        append_event(store, case_id, kind, at=at, by=by, data=data, recorded_at=at)

    try:
        sweep(store, now, recorded_at=now)
        make_lead(store, "lead-ana", now)
        ev("CS-1101", "war_team_member", 90, name="Bo Walsh", role="engineer")
        ev("CS-1101", "war_team_member", 89, name="Ida Okane", role="executive")
        ev("CS-1101", "war_team_member", 88, name="Rosa Klein", role="subscriber_rep")
        ev("CS-1101", "board_moved", 87, column="team_formed")
        ev("CS-1101", "plan_updated", 80, part="assessment", text="FX cache not invalidated")
        ev(
            "CS-1101",
            "plan_updated",
            60,
            part="assessment",
            text="FX cache not invalidated after the rates feed fails over",
        )
        ev("CS-1101", "plan_updated", 59, part="mitigation", text="Flush the cache every 5 min")
        ev("CS-1101", "plan_updated", 58, part="resources", text="Two SREs, one DBA")
        ev("CS-1101", "plan_updated", 57, part="update_frequency", text="2h")
        ev("CS-1101", "board_moved", 56, column="plan_agreed")
        ev("CS-1101", "status_update", 55, note="Cache flush scheduled [bold]now[/]")
        ev("CS-1101", "war_team_member", 30, name="Bo Walsh", role="engineer", action="leave")
        ev("CS-1401", "war_team_member", 45, name="Kai Moreno", role="engineer")
        ev("CS-1401", "status_update", 20, note="Reproduced in staging")
        ev("CS-1601", "resolved", 10)
    finally:
        store.dispose()


@pytest.fixture
def db(console_env, tmp_path):
    url = make_db(tmp_path / "console.db")
    _board_data(url)
    return url


async def _open_board(pilot) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_board(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=_open_board)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_team_and_plan(app, snap_compare, size):
    """The formed team's card chosen: role history, plan versions, the update log."""

    async def before(pilot):
        await _open_board(pilot)
        await pilot.press("right", "right")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_refused_move(app, snap_compare, size):
    async def before(pilot):
        await _open_board(pilot)
        await pilot.press("greater_than_sign")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_no_color(tmp_path, monkeypatch, snap_compare, size):
    """NO_COLOR=1 (issue 15, item 2): the overdue figures, LATE and the breach count bold
    and reversed, never dimmed."""
    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    monkeypatch.delenv("SUPPORT_CONSOLE_NOW", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    monkeypatch.delenv("SUPPORT_CONSOLE_BELL", raising=False)
    clock.freeze(NOW)
    try:
        url = make_db(tmp_path / "console.db")
        _board_data(url)
        app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))

        async def before(pilot):
            await _open_board(pilot)
            await pilot.press("right", "right")  # the formed team's card, its LATE update
            await settle(pilot)

        assert snap_compare(app, terminal_size=size, run_before=before)
    finally:
        clock.freeze(None)
