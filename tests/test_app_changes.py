"""The subscriber view's change form (issue 12, policy §14): a lead records a dated change
with a preview of what it does to the open cases' clocks; an engineer is refused before
typing; cancelling writes nothing. Real key presses, assertions on screen and database."""

from __future__ import annotations

import json
import sqlite3

from app_support import NOW, USER, screen_text, settle
from test_app_meters import LEAD, db, flat, open_sub, run, section_text, to_meters  # noqa: F401

from console import clock


def changes(url: str) -> list[tuple]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return [
            (s, e, json.loads(f), r, b)
            for s, e, f, r, b in con.execute(
                "SELECT subscriber_id, effective_at, facts, reason, by FROM subscriber_change "
                "ORDER BY id"
            )
        ]
    finally:
        con.close()


async def open_form(pilot) -> None:
    await to_meters(pilot)
    await open_sub(pilot, "zephyr-labs")
    await pilot.press("E")
    await settle(pilot)


async def fill_target(pilot, value: str, reason: str) -> str:
    # "order-form target" is the fifth entry; then the value, the effective (now), the reason.
    await pilot.press("down", "down", "down", "down", "enter")
    await pilot.press(*value, "tab", "tab", *reason, "enter")
    await settle(pilot)
    await settle(pilot)
    return preview_text(pilot.app)


def preview_text(app) -> str:
    """The form's preview line(s), alone (the modal overlays the subscriber view)."""
    return flat(section_text(app.screen, "#change-preview"))


def test_a_lead_previews_then_records_a_target_change(db):  # noqa: F811
    async def body(pilot, app):
        await open_form(pilot)
        assert "Change zephyr-labs: a dated record, never the past" in flat(screen_text(app))
        text = await fill_target(pilot, "incident.P2.workaround=2h", "order form amendment")
        # Z-100 (P2, acknowledged Monday 13:00) has 4 h counted: 2 h breaches at once.
        assert (
            "At Tue 24 Nov 08:30 this change: ! Z-100 workaround: breaches (target 48:00 → 2:00)"
            in text
        )
        assert "enter again to record it" in text
        assert changes(db) == []  # a preview writes nothing
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert changes(db) == [
            (
                "zephyr-labs",
                clock.now(),
                {"targets": {"incident.P2.workaround": "2h"}},
                "order form amendment",
                LEAD,
            )
        ]
        text = flat(screen_text(app))
        assert "zephyr-labs: order-form target changed from Tue 24 Nov 08:30" in text
        shown = flat(section_text(app.screen, "#sub-changes"))
        assert "targets: incident.P2.workaround=2h" in shown
        assert "order form amendment" in shown
        item = next(it for it in app.queue.items if it.id == "Z-100")
        assert item.marked  # the queue re-read the subscriber's cases

    run(db, LEAD, (100, 40), body)


def test_changing_a_field_after_the_preview_asks_for_a_new_preview(db):  # noqa: F811
    async def body(pilot, app):
        await open_form(pilot)
        await fill_target(pilot, "incident.P2.workaround=2h", "amendment")
        await pilot.press("backspace")  # the reason changes: the preview is stale
        await settle(pilot)
        assert preview_text(app) == "changed: enter previews again"
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert "enter again to record it" in preview_text(app)
        assert changes(db) == []

    run(db, LEAD, (100, 40), body)


def test_a_refused_value_says_why_and_writes_nothing(db):  # noqa: F811
    async def body(pilot, app):
        await open_form(pilot)
        text = await fill_target(pilot, "incident.P9.workaround=2h", "typo")
        assert "unknown priority 'P9'" in text
        await pilot.press("escape")
        await settle(pilot)
        assert changes(db) == []
        assert type(app.screen).__name__ == "SubscriberView"

    run(db, LEAD, (100, 40), body)


def test_an_engineer_is_refused_before_the_form_opens(db):  # noqa: F811
    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        await pilot.press("E")
        await settle(pilot)
        text = flat(screen_text(app))
        assert (
            "not allowed: changing a subscription needs the lead role (eng-me is an engineer); "
            "nothing written"
        ) in text
        assert type(app.screen).__name__ == "SubscriberView"
        assert changes(db) == []

    run(db, USER, (100, 40), body)


def test_the_view_shows_the_facts_in_force_and_planned_changes(db):  # noqa: F811
    from console.changes import change_subscriber
    from console.rules.timeutil import parse_instant
    from console.store.engine import open_store

    with open_store(db) as store:
        change_subscriber(
            store,
            "zephyr-labs",
            {"coverage": "24x7"},
            effective_at=parse_instant(NOW),
            reason="24x7 bought",
            actor=LEAD,
            recorded_at=parse_instant(NOW),
        )
        change_subscriber(
            store,
            "zephyr-labs",
            {"plan": "basic"},
            effective_at=parse_instant("2026-12-01T05:00:00Z"),
            reason="downgrade",
            actor=LEAD,
            recorded_at=parse_instant(NOW),
        )

    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        facts = flat(section_text(app.screen, "#sub-facts"))
        assert "enterprise · 24×7 coverage" in facts  # in force now; basic is only planned
        shown = flat(section_text(app.screen, "#sub-changes"))
        assert "coverage=24x7" in shown
        assert "plan=basic" in shown
        assert "2026-12-01 00:00 planned" in shown

    run(db, USER, (100, 40), body)


def test_a_terminated_subscribers_open_cases_are_flagged_in_the_queue(db):  # noqa: F811
    from console.changes import terminate
    from console.rules.timeutil import parse_instant
    from console.store.engine import open_store

    with open_store(db) as store:
        terminate(
            store,
            "zephyr-labs",
            effective_at=parse_instant(NOW),
            reason="ended",
            actor=LEAD,
            recorded_at=parse_instant(NOW),
        )

    async def body(pilot, app):
        await settle(pilot)
        lines = screen_text(app).splitlines()
        z100 = next(ln for ln in lines if "Z-100" in ln)
        y200 = next(ln for ln in lines if "Y-200" in ln)
        assert "✕ Token endpoint slow" in z100
        assert "✕" not in y200

    run(db, USER, (160, 48), body)
