"""Snapshots of issue 15's screens ("a console that never misleads the night shift"), at
80x24 and 160x48, in colour and under NO_COLOR=1, with a frozen clock: the key help with
the marks' legend (item 11), the quit question (item 7), resolve asking first with its note
(item 8), the fix ETA asked for (item 8) and the hand-over prompt (assignment).
Update with ``pytest --snapshot-update`` after checking the new pictures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, settle

from screens.app import ConsoleApp

CASES = [(size, mode) for mode in ("colour", "no_color") for size in ((80, 24), (160, 48))]
IDS = [f"{w}x{h}-{mode}" for (w, h), mode in CASES]


@pytest.fixture
def make_app(db, monkeypatch):
    def make(mode: str) -> ConsoleApp:
        if mode == "no_color":
            monkeypatch.setenv("NO_COLOR", "1")
        else:
            monkeypatch.delenv("NO_COLOR", raising=False)
        return ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))

    return make


def keys_on_case(*keys: str):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"CS-1401", "enter", "enter")
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return before


def keys_on_queue(*keys: str):
    async def before(pilot):
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return before


@pytest.mark.parametrize(("size", "mode"), CASES, ids=IDS)
def test_key_help_with_the_legend(make_app, snap_compare, size, mode):
    assert snap_compare(
        make_app(mode), terminal_size=size, run_before=keys_on_queue("question_mark")
    )


@pytest.mark.parametrize(("size", "mode"), CASES, ids=IDS)
def test_quit_asks_first(make_app, snap_compare, size, mode):
    assert snap_compare(make_app(mode), terminal_size=size, run_before=keys_on_queue("q"))


@pytest.mark.parametrize(("size", "mode"), CASES, ids=IDS)
def test_resolve_asks_first(make_app, snap_compare, size, mode):
    assert snap_compare(make_app(mode), terminal_size=size, run_before=keys_on_case("R"))


@pytest.mark.parametrize(("size", "mode"), CASES, ids=IDS)
def test_fix_eta_is_asked_for(make_app, snap_compare, size, mode):
    assert snap_compare(make_app(mode), terminal_size=size, run_before=keys_on_case("f"))


@pytest.mark.parametrize(("size", "mode"), CASES, ids=IDS)
def test_hand_over_names_the_engineer(make_app, snap_compare, size, mode):
    assert snap_compare(make_app(mode), terminal_size=size, run_before=keys_on_case("H"))
