"""Pilot tests of the policy's loose clauses in the console (issue 18), by real keys,
asserted on the screen and on the database:

- the vendor pause: the case view's ``.`` menu records ``awaiting_vendor`` (with a note)
  and ``vendor_responded`` on a P0 naming a managed third-party component; the case view
  and the queue show "paused (vendor)" and the resolution clock stands still; on another
  case the menu offers neither;
- the wizard asks which component when ``component_unavailable`` decides a P0 on a
  deployment that lists components;
- the war-team board flags a formed team that lost a role, refuses to move it on, and
  clears the flag when the role is filled.

The shared test database (app_support) gains ``kestrel`` (enterprise, 24x7, so counted
time is wall time) with a managed deployment carrying postgres and kafka, and K-1: a P0
naming kafka, acknowledged an hour before the frozen clock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from app_support import NOW, TZ, USER, events_of, make_db, screen_text, settle

from console import clock
from console.rules.timeutil import format_instant, parse_instant
from screens.app import ConsoleApp

ACK = format_instant(parse_instant(NOW) - 3600)


def kestrel_doc() -> dict[str, Any]:
    return {
        "subscribers": [
            {
                "id": "kestrel",
                "name": "Kestrel Media",
                "plan": "enterprise",
                "coverage": "24x7",
                "timezone": TZ,
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
            }
        ],
        "deployments": [
            {
                "id": "kestrel-mgd",
                "subscriber": "kestrel",
                "environment": "production",
                "managed": True,
                "product": "streaming",
                "version": "2.5.4",
                "components": ["postgres", "kafka"],
            }
        ],
        "cases": [
            {
                "id": "K-1",
                "subscriber": "kestrel",
                "deployment": "kestrel-mgd",
                "type": "incident",
                "priority": "P0",
                "component": "kafka",
                "criterion": "component_unavailable",
                "title": "Kafka brokers unreachable",
                "reported_at": ACK,
                "events": [{"at": ACK, "kind": "acknowledged", "by": USER}],
            },
            {
                "id": "K-2",
                "subscriber": "kestrel",
                "deployment": "kestrel-mgd",
                "type": "incident",
                "priority": "P1",
                "title": "Slow ingest",
                "reported_at": ACK,
                "events": [{"at": ACK, "kind": "acknowledged", "by": USER}],
            },
        ],
    }


@pytest.fixture
def db(console_env, tmp_path):
    from console.importer import existing_ids, validate, write
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    url = make_db(tmp_path / "console.db")
    policy = load_policy(None)
    store = open_store(url)
    with store.connection() as conn:
        prep = validate(kestrel_doc(), policy, existing_ids(conn, policy), clock.now())
    with store.write() as session:
        write(session, prep, clock.now())
    store.dispose()
    return url


def flat(text: str) -> str:
    words = [w.strip("│╭╮╰╯─▕▏") for w in text.split()]
    return " ".join(w for w in words if w)


def rows(url: str, sql: str, *args: Any) -> list[tuple]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def run(url: str, size: tuple[int, int], body, user: str = USER) -> None:
    async def go():
        app = ConsoleApp(url, user=user, tz=ZoneInfo(TZ))
        app.bell = lambda: None
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await body(pilot, app)

    asyncio.run(go())


async def keys(pilot, *pressed: str) -> str:
    await pilot.press(*pressed)
    await settle(pilot)
    return flat(screen_text(pilot.app))


async def open_case(pilot, case_id: str) -> str:
    text = await keys(pilot, "1", "x", "slash", *case_id, "enter", "enter")
    assert pilot.app.screen.case_id == case_id
    return text


def clock_line(text: str, name: str) -> str:
    """The case view's row of clock ``name``: ``resolution paused (vendor) 1:00 / 48:00 ...``."""
    start = text.index(f" {name} ", text.index("CLOCK STATE"))
    return text[start + 1 : start + 60]


# -- the vendor pause ----------------------------------------------------------------------------


def test_awaiting_the_vendor_pauses_resolution_in_the_case_view_and_the_queue(db):
    async def body(pilot, app):
        text = await open_case(pilot, "K-1")
        assert "Component kafka (managed third-party component)" in text
        assert "Criterion component_unavailable (P0)" in text
        assert "third-party: postgres, kafka" in text
        assert clock_line(text, "resolution").startswith("resolution running 1:00 / 48:00")

        text = await keys(pilot, "full_stop")
        assert "w awaiting the component's vendor" in text
        assert "e the vendor responded ✖ not awaiting the vendor" in text
        text = await keys(pilot, "w")
        assert "Awaiting the vendor of kafka: what was asked of it? (optional)" in text
        text = await keys(pilot, *"Vendor ticket 7781", "enter")
        assert events_of(db, "K-1")[-1] == ("awaiting_vendor", USER, {"note": "Vendor ticket 7781"})
        assert "awaiting the vendor recorded" in text
        assert clock_line(text, "resolution").startswith("resolution paused (vendor) 1:00 / 48:00")
        assert clock_line(text, "workaround").startswith("workaround running 1:00 / 4:00")
        assert "⏸ awaiting its vendor: resolution paused (vendor)" in text

        # two hours on: the resolution clock has counted nothing more, the others ran
        clock.advance(2 * 3600)
        app.action_tick()
        await settle(pilot)
        text = flat(screen_text(app))
        assert clock_line(text, "resolution").startswith("resolution paused (vendor) 1:00 / 48:00")
        assert clock_line(text, "update").startswith("update running 3:00 / 4:00")

        # the queue says so for the case under the cursor, and marks its row
        text = await keys(pilot, "q")
        text = await keys(pilot, "slash", *"K-1", "enter")
        assert "K-1: resolution paused (vendor)" in text
        row = next(
            line for line in screen_text(app).splitlines() if " K-1 " in line and "kestrel" in line
        )
        assert row.lstrip().startswith("⏸")
        assert "⏸vendor" in row

        # the vendor responds: the clock runs again, its hour kept
        await keys(pilot, "enter")
        text = await keys(pilot, "full_stop", "e")
        assert events_of(db, "K-1")[-1][:2] == ("vendor_responded", USER)
        assert "vendor responded recorded" in text
        assert clock_line(text, "resolution").startswith("resolution running 1:00 / 48:00")
        assert "paused (vendor)" not in text

    run(db, (120, 40), body)


def test_the_vendor_actions_are_not_offered_on_another_case(db):
    async def body(pilot, app):
        await open_case(pilot, "K-2")
        text = await keys(pilot, "full_stop")
        assert "w awaiting the component's vendor ✖ P0 naming a component only" in text
        before = events_of(db, "K-2")
        text = await keys(pilot, "w")  # unavailable: the menu stays, nothing is written
        assert events_of(db, "K-2") == before
        assert "More on K-2" in text

    run(db, (120, 40), body)


def test_the_queue_at_80_columns_marks_the_vendor_pause(db):
    from console.actions import append_event
    from console.store.engine import open_store

    store = open_store(db)
    append_event(
        store,
        "K-1",
        "awaiting_vendor",
        at=clock.now(),
        by=USER,
        data={},
        recorded_at=clock.now(),
        actor=USER,
    )
    store.dispose()

    async def body(pilot, app):
        text = await keys(pilot, "1", "slash", *"Kafka", "enter")
        assert "K-1: resolution paused (vendor)" in text
        row = next(
            line for line in screen_text(app).splitlines() if " K-1 " in line and "kestrel" in line
        )
        assert "⏸vendor" in row

    run(db, (80, 24), body)


# -- the wizard asks for the component -------------------------------------------------------------


def test_the_wizard_asks_which_component_is_unavailable(db):
    async def body(pilot, app):
        from screens.wizard import open_new_case_wizard

        open_new_case_wizard(app)
        await settle(pilot)
        w = app.screen
        await pilot.press(*"kestrel-mgd")
        await settle(pilot)
        await keys(pilot, "enter")
        await keys(pilot, "1")  # incident
        assert w.step == "priority"
        text = await keys(pilot, "y")  # component_unavailable, the first P0 question
        assert w.step == "component"
        assert "Which component is unavailable? kestrel-mgd lists these managed third-party" in text
        assert "1 postgres" in text
        assert "2 kafka" in text
        assert "3 none of these: a supported Konneqt component is unavailable" in text
        text = await keys(pilot, "2")
        assert w.step == "summary"
        assert "Incident P0 Catastrophic" in text
        assert (
            "component: kafka (managed third-party: awaiting its vendor pauses the resolution clock)"
            in text
        )
        # back to the question keeps the choice; "none of these" names no component
        text = await keys(pilot, "pageup")
        assert w.step == "component"
        assert "2 kafka ✔ chosen" in text
        text = await keys(pilot, "3")
        assert "component: a supported Konneqt component (no third-party vendor)" in text
        await keys(pilot, "pageup", "1")
        await pilot.press(*"Postgres primary gone")
        await keys(pilot, "enter")
        (row,) = rows(
            db,
            "SELECT priority, component, criterion FROM support_case WHERE title = ?",
            "Postgres primary gone",
        )
        assert row == ("P0", "postgres", "component_unavailable")
        text = flat(screen_text(app))  # the new case opens
        assert "Component postgres (managed third-party component)" in text

    run(db, (120, 40), body)


def test_the_wizard_does_not_ask_for_another_criterion(db):
    async def body(pilot, app):
        from screens.wizard import open_new_case_wizard

        open_new_case_wizard(app)
        await settle(pilot)
        w = app.screen
        await pilot.press(*"kestrel-mgd")
        await settle(pilot)
        await keys(pilot, "enter", "1")
        text = await keys(pilot, "n", "y")  # legal_order_cessation: P0, but not a component
        assert w.step == "summary"
        assert "component:" not in text
        assert "Component" not in text.split("Summary", 1)[0]

    run(db, (120, 40), body)


def test_reclassifying_to_p0_on_a_component_names_it(db):
    async def body(pilot, app):
        await open_case(pilot, "K-2")
        await keys(pilot, "c")
        w = app.screen
        await keys(pilot, "1")  # incident
        assert w.step == "priority"
        text = await keys(pilot, "y")
        assert w.step == "component"
        assert "1 postgres" in text
        text = await keys(pilot, "1")
        assert "component: postgres" in text
        assert "Incident P1 → Incident P0 Catastrophic" in text
        await pilot.press(*"Postgres primary lost")
        await keys(pilot, "enter")
        kind, by, data = events_of(db, "K-2")[-1]
        assert (kind, by, data) == (
            "reclassified",
            USER,
            {
                "type": "incident",
                "priority": "P0",
                "reason": "Postgres primary lost",
                "criterion": "component_unavailable",
                "component": "postgres",
            },
        )
        text = flat(screen_text(app))
        assert "Component postgres (managed third-party component)" in text
        assert "Criterion component_unavailable (P0)" in text

    run(db, (120, 40), body)


# -- the incomplete war team -----------------------------------------------------------------------


def test_a_formed_team_that_loses_a_role_is_flagged_on_the_board(db):
    from console.store.engine import open_store
    from console.sweep import sweep

    store = open_store(db)
    sweep(store, clock.now(), recorded_at=clock.now())
    store.dispose()

    async def body(pilot, app):
        await keys(pilot, "2")
        for name, role_key in (("Bo Walsh", "1"), ("Ida Okane", "2"), ("Rosa Klein", "3")):
            await pilot.press("a")
            await pilot.pause()
            await pilot.press(*name, "enter", role_key)
            await settle(pilot)
        text = await keys(pilot, "greater_than_sign")
        assert "CS-1101 moved to team formed" in text
        assert "roles 3/3" in text
        clock.advance(600)
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("down", "enter")  # Ida Okane, the executive, leaves
        await settle(pilot)
        assert events_of(db, "CS-1101")[-1][2] == {
            "name": "Ida Okane",
            "role": "executive",
            "action": "leave",
        }
        text = flat(screen_text(app))
        assert "INCOMPLETE 2/3" in text
        assert "⚠ TEAM INCOMPLETE since 08:40: missing executive (a: a member joins)" in text
        assert "Ida Okane executive 08:30 08:40" in text  # the role history keeps both times
        # an incomplete team does not move on (the engine refuses, nothing written)
        before = events_of(db, "CS-1101")
        text = await keys(pilot, "greater_than_sign")
        assert (
            "refused, nothing written: the war team is incomplete (missing: executive): "
            "it cannot move on to plan agreed"
        ) in text
        assert events_of(db, "CS-1101") == before
        # a new executive joins: the flag clears
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"Max Hale", "enter", "2")
        await settle(pilot)
        text = flat(screen_text(app))
        assert "INCOMPLETE" not in text
        assert "roles 3/3" in text

    run(db, (120, 60), body)


def test_the_wide_board_counts_incomplete_teams(db):
    from console.actions import append_event
    from console.rules.policy import load_policy
    from console.store.engine import open_store
    from console.sweep import sweep

    store = open_store(db)
    load_policy(None)
    now = clock.now()
    sweep(store, now, recorded_at=now)
    for name, role in (("Bo", "engineer"), ("Ida", "executive"), ("Rosa", "subscriber_rep")):
        append_event(
            store,
            "CS-1101",
            "war_team_member",
            at=now,
            by=USER,
            data={"name": name, "role": role},
            recorded_at=now,
        )
    append_event(
        store,
        "CS-1101",
        "war_team_member",
        at=now,
        by=USER,
        data={"name": "Rosa", "action": "leave"},
        recorded_at=now,
    )
    store.dispose()

    async def body(pilot, app):
        text = await keys(pilot, "2")
        assert "1 team incomplete" in text
        assert "INCOMPLETE 2/3" in text

    run(db, (160, 48), body)
