"""Pilot tests of the query-hour meters pane (key 3), the subscriber view and the SLA
suspensions (policy §6, §8): by keys, asserted on the screen and on the database.

The shared test database (app_support) gains query time: zephyr-labs is over its 50 h
limit (52 h counted, 3 h exempt), yarrow-ops is in the warning band (46 h; its incident
time does not count), and one lead (``lead-lena``) exists.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, events_of, make_db, screen_text, settle
from rich.console import Console

from console import clock
from screens.app import ConsoleApp

LEAD = "lead-lena"
EVIL_NAME = "Ada [b]Love[/b]lace \x1b]52;c;aGk=\x07"


def _time(at: str, hours: float, exempt: bool = False, note: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {
        "at": at,
        "kind": "time_logged",
        "by": USER,
        "hours": hours,
        "exempt": exempt,
    }
    if note:
        e["note"] = note
    return e


def extra_doc() -> dict[str, Any]:
    ack = {"kind": "acknowledged", "by": USER}
    return {
        "subscribers": [],
        "deployments": [],
        "users": [
            {
                "id": "zl-admin",
                "subscriber": "zephyr-labs",
                "name": EVIL_NAME,
                "email": "ada@zephyr.example",
                "admin": True,
            },
            {
                "id": "zl-dev",
                "subscriber": "zephyr-labs",
                "name": "Bo Chen",
                "email": "bo@zephyr.example",
                "admin": False,
            },
        ],
        "cases": [
            {
                "id": "Q-300",
                "subscriber": "zephyr-labs",
                "deployment": None,
                "type": "query",
                "priority": None,
                "title": "How do I rotate signing keys?",
                "level": "L1",
                "reported_at": "2026-03-02T14:00:00Z",
                "aware_at": None,
                "links": [],
                "events": [
                    {**ack, "at": "2026-03-02T15:00:00Z"},
                    _time("2026-03-10T15:00:00Z", 20),
                    _time("2026-06-15T15:00:00Z", 18),
                    _time("2026-07-01T15:00:00Z", 3, exempt=True, note="docs fix KB-12"),
                    _time("2026-10-20T15:00:00Z", 14),
                ],
            },
            {
                "id": "Q-301",
                "subscriber": "yarrow-ops",
                "deployment": None,
                "type": "query",
                "priority": None,
                "title": "Rate limit tuning advice",
                "level": "L1",
                "reported_at": "2026-02-02T14:00:00Z",
                "aware_at": None,
                "links": [],
                "events": [
                    {**ack, "at": "2026-02-02T15:00:00Z"},
                    _time("2026-04-01T15:00:00Z", 30),
                    _time("2026-11-02T15:00:00Z", 16),
                ],
            },
            {
                "id": "Y-202",
                "subscriber": "yarrow-ops",
                "deployment": "yarrow-prod",
                "type": "incident",
                "priority": "P3",
                "title": "Old latency report",
                "level": "L1",
                "reported_at": "2026-05-04T14:00:00Z",
                "aware_at": None,
                "links": [],
                "events": [
                    {**ack, "at": "2026-05-04T14:30:00Z"},
                    _time("2026-05-04T16:00:00Z", 9),
                    {"at": "2026-05-05T14:00:00Z", "kind": "resolved", "by": USER},
                    {"at": "2026-05-06T14:00:00Z", "kind": "closed", "by": USER},
                ],
            },
        ],
    }


def make_meters_db(path: Path) -> str:
    """The shared test database plus the query time above and a lead. Clock frozen."""
    from cli_support import make_lead

    from console.importer import existing_ids, validate, write
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    url = make_db(path)
    policy = load_policy(None)
    store = open_store(url)
    now = clock.now()
    with store.connection() as conn:
        existing = existing_ids(conn, policy)
    prep = validate(extra_doc(), policy, existing, now)
    with store.write() as session:
        write(session, prep, now)
    make_lead(store, LEAD, now)
    store.dispose()
    return url


@pytest.fixture
def db(console_env, tmp_path):
    return make_meters_db(tmp_path / "console.db")


def section_text(view, selector: str) -> str:
    """A section of the subscriber view rendered whole (scrolled into view or not)."""
    con = Console(width=150, no_color=True, record=True)
    con.print(view.query_one(selector).content)
    return con.export_text()


def flat(text: str) -> str:
    return " ".join(text.split())


def suspensions(url: str) -> list[tuple]:
    """(subscriber, reason, from, until, by) of each suspension; a lift (a record of its
    own) ends it."""
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return con.execute(
            "SELECT s.subscriber_id, s.reason, s.from_at, coalesce("
            "(SELECT min(l.at) FROM suspension_lift l WHERE l.suspension_id = s.id),"
            " s.until_at), s.by FROM subscriber_suspension s ORDER BY s.id"
        ).fetchall()
    finally:
        con.close()


def clock_states(url: str, subscriber: str) -> dict[str, set[str]]:
    """The clock states of the subscriber's listed cases, as the queue computes them."""
    from console.queue import load_queue
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    store = open_store(url)
    try:
        with store.connection() as conn:
            rows = load_queue(conn, load_policy(None), clock.now())
    finally:
        store.dispose()
    return {
        r.id: {st.state for st in r.eval.clocks.values()}
        for r in rows
        if r.subscriber == subscriber
    }


async def to_meters(pilot) -> str:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    return screen_text(pilot.app)


async def open_sub(pilot, subscriber: str) -> str:
    """From the meters pane: move the cursor to ``subscriber``'s row by keys, enter."""
    from screens.meters_pane import MetersPane

    pane = pilot.app.query_one(MetersPane)
    ids = [r.meter.subscriber for r in pane.rows]
    await pilot.press("home", *["down"] * ids.index(subscriber), "enter")
    await settle(pilot)
    assert pilot.app.screen.subscriber_id == subscriber
    return screen_text(pilot.app)


def run(url: str, user: str, size: tuple[int, int], body) -> None:
    async def go():
        app = ConsoleApp(url, user=user, tz=ZoneInfo(TZ))
        async with app.run_test(size=size) as pilot:
            await body(pilot, app)

    asyncio.run(go())


# -- the meters pane --------------------------------------------------------------------------


def test_meters_pane_sorted_with_bars_and_flag(db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def body(pilot, app):
        text = await to_meters(pilot)
        lines = text.splitlines()
        rows = [ln for ln in lines if "-labs" in ln or "-ops" in ln or "-finance" in ln]
        assert "zephyr-labs" in rows[0]
        assert "yarrow-ops" in rows[1]
        z, y = rows[0], rows[1]
        assert z.lstrip().startswith("!")
        assert "52.0/50 h" in z
        assert "+3" in z
        assert "██████████  104% OVER" in z
        assert "⚑ Oct 20" in z
        assert "46.0/50 h" in y
        assert "█████████░   92% WARN" in y
        assert "!" not in y
        assert "░░░░░░░░░░    0% ok" in text
        f = flat(text)
        assert "! OVER LIMIT: zephyr-labs 104%" in f
        assert "a lead may suspend for usage_limit_exceeded" in f
        assert "1 OVER" in f
        assert "1 WARN" in f

    run(db, USER, (80, 24), body)


def test_meters_pane_wide_shows_names_terms_and_dates(db):
    async def body(pilot, app):
        text = await to_meters(pilot)
        z = next(ln for ln in text.splitlines() if "zephyr-labs" in ln)
        assert "Zephyr Labs" in z
        assert "enterprise" in z
        assert "2026-01-01–2026-12-31" in z
        assert "limit reached 2026-10-20" in z
        y = next(ln for ln in text.splitlines() if "yarrow-ops" in ln)
        assert "reaches limit ~2026-12-22" in y  # 46 h by 24 Nov: 50 h 28 days later

    run(db, USER, (160, 48), body)


def test_open_subscriber_from_the_meters_pane_by_keys(db):
    async def body(pilot, app):
        await to_meters(pilot)
        text = await open_sub(pilot, "yarrow-ops")
        f = flat(text)
        assert "Yarrow Ops (yarrow-ops)" in f
        assert "operator eng-me · engineer" in f
        assert "enterprise · 24×7 coverage · America/New_York" in f
        assert "46 / 50 h" in f
        assert "92% WARN" in f
        assert "OVER LIMIT" not in f
        # open cases with their worst clock
        assert "Y-200" in f
        assert "Y-201" in f
        assert "Y-202" not in f.split("Time entries")[0]
        # back to the pane with q, the cursor where it was
        await pilot.press("q")
        await settle(pilot)
        assert "Query hours, current term" in screen_text(app)

    run(db, USER, (100, 40), body)


def test_subscriber_view_sections(db):
    from screens.burn_chart import chart_lines
    from screens.subscriber_view import SubscriberView

    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        view = app.screen
        assert isinstance(view, SubscriberView)
        f = flat(screen_text(app))
        assert "! OVER LIMIT 52/50 h (104%) — suggest: suspend for usage_limit_exceeded" in f
        assert "limit reached on 2026-10-20" in f
        assert "+3 h exempt" in f
        # the whole body, scrolled or not: render each section's text
        body_text = "\n".join(
            section_text(view, s)
            for s in ("#sub-facts", "#sub-suspensions", "#sub-cases", "#sub-entries", "#sub-users")
        )
        assert "SLA suspensions none" in flat(body_text)
        assert "Z-100" in body_text
        assert "Z-101" in body_text
        for line in (
            "2026-10-20 11:00  Q-300         14  yes",
            "2026-07-01 11:00  Q-300          3  exempt",
        ):
            assert flat(line) in flat(body_text)
        assert "docs fix KB-12" in body_text
        assert "Ada [b]Love[/b]lace ^[]52;c;aGk=^G" in body_text  # inert, not interpreted
        assert "ada@zephyr.example" in body_text
        assert "admin" in body_text
        assert "Bo Chen" in body_text
        chart = "\n".join(ln.plain for ln in chart_lines(view.query_one("#sub-chart").data, 74))
        assert chart.startswith("  50h┤")
        assert "used 52 h" in chart

    run(db, USER, (100, 40), body)


# -- suspensions --------------------------------------------------------------------------------


def test_lead_suspends_the_over_limit_subscriber_and_lifts(db):
    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        assert "operator lead-lena · lead" in flat(screen_text(app))
        before = clock_states(db, "zephyr-labs")
        assert "running" in before["Z-100"]
        assert "suspended" not in set().union(*before.values())

        await pilot.press("S")
        await settle(pilot)
        shown = flat(screen_text(app))
        assert "Suspend the SLA of subscriber zephyr-labs: why?" in shown
        assert "usage_limit_exceeded (suggested)" in shown
        # custom_extension is one case's matter (policy §6): not offered for a subscriber
        assert "custom_extension" not in shown
        assert "6 illegal_use" in shown
        await pilot.press("enter")  # the suggested reason is highlighted
        await settle(pilot)
        (row,) = suspensions(db)
        assert row == ("zephyr-labs", "usage_limit_exceeded", clock.now(), None, LEAD)
        states = clock_states(db, "zephyr-labs")
        assert states["Z-100"] == {"stopped", "suspended"}  # response stopped at the ack
        assert states["Z-101"] == {"suspended", "pending"}  # response suspended, rest pending
        f = flat(screen_text(app))
        assert "SLA of zephyr-labs suspended (usage_limit_exceeded)" in f
        assert "⊘ SUSPENDED" in f
        assert "SLA suspended for usage_limit_exceeded" in f  # no longer a suggestion
        assert "suspended" in section_text(app.screen, "#sub-cases")
        # the queue re-read: the subscriber's cases show suspended clocks there too
        item = next(it for it in app.queue.items if it.id == "Z-100")
        assert "suspended" in {st.state for st in item.current(app.at).clocks.values()}

        # suspending again is refused by the screen, nothing written
        await pilot.press("S")
        await settle(pilot)
        assert "already suspended (usage_limit_exceeded)" in flat(screen_text(app))
        assert len(suspensions(db)) == 1

        clock.advance(15 * 60)
        await pilot.press("L")
        await settle(pilot)
        assert "Lift the SLA suspension of zephyr-labs (usage_limit_exceeded)?" in flat(
            screen_text(app)
        )
        await pilot.press("y")
        await settle(pilot)
        (row,) = suspensions(db)
        assert row[3] == clock.now()
        assert "suspension of zephyr-labs lifted" in flat(screen_text(app))
        assert "running" in clock_states(db, "zephyr-labs")["Z-100"]

        # the meters pane marks a suspended subscriber; back there with q
        await pilot.press("q")
        await settle(pilot)
        assert "Query hours, current term" in screen_text(app)

    run(db, LEAD, (100, 40), body)


def test_lead_picks_another_reason_by_number_and_meters_mark_it(db):
    async def body(pilot, app):
        from screens.meters_pane import MetersPane

        await to_meters(pilot)
        await open_sub(pilot, "yarrow-ops")
        await pilot.press("S")
        await settle(pilot)
        assert "(suggested)" not in screen_text(app)  # not over its limit
        await pilot.press("5")  # abuse
        await settle(pilot)
        assert [r[:2] for r in suspensions(db)] == [("yarrow-ops", "abuse")]
        assert clock_states(db, "yarrow-ops")["Y-200"] == {"pending", "suspended"}
        await pilot.press("q")
        await settle(pilot)
        pane = app.query_one(MetersPane)
        row = next(r for r in pane.rows if r.meter.subscriber == "yarrow-ops")
        assert row.suspended
        line = next(ln for ln in screen_text(app).splitlines() if "yarrow-ops" in ln)
        assert line.lstrip().startswith("⊘")

    run(db, LEAD, (100, 40), body)


def test_cancel_the_reason_writes_nothing(db):
    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert suspensions(db) == []
        assert app.screen.subscriber_id == "zephyr-labs"

    run(db, LEAD, (100, 40), body)


def test_engineer_is_refused_and_nothing_is_written(db):
    async def body(pilot, app):
        await to_meters(pilot)
        await open_sub(pilot, "zephyr-labs")
        view = app.screen
        for key in ("S", "L"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is view  # no reason picker for an engineer
            f = flat(screen_text(app))
            assert "needs the lead role (eng-me is an engineer); nothing written" in f
        # the engine refuses too, when the screen's check is bypassed
        view.write("suspend", "usage_limit_exceeded")
        await settle(pilot)
        assert "not allowed: suspending a subscriber needs the lead role" in flat(screen_text(app))
        assert suspensions(db) == []
        assert "suspended" not in set().union(*clock_states(db, "zephyr-labs").values())

    run(db, USER, (100, 40), body)


# -- case-level suspension (the case view's S / U, wired by the lead) ----------------------------


async def open_case(pilot, case_id: str) -> None:
    await pilot.press("1")
    await pilot.press("slash", *case_id, "enter", "enter")
    await settle(pilot)
    assert pilot.app.screen.case_id == case_id


def test_case_suspension_helpers(db):
    from screens.suspend_prompt import lift_case, suspend_case

    async def body(pilot, app):
        await settle(pilot)
        await open_case(pilot, "Z-100")
        suspend_case(app.screen)
        await settle(pilot)
        assert "Suspend the SLA of case Z-100" in flat(screen_text(app))
        await pilot.press("7")  # custom_extension
        await settle(pilot)
        assert events_of(db, "Z-100")[-1] == ("suspended", LEAD, {"reason": "custom_extension"})
        f = flat(screen_text(app))
        assert "SLA suspended (custom product extension)" in f
        assert "SLA suspended" in f
        assert clock_states(db, "zephyr-labs")["Z-100"] == {"stopped", "suspended"}
        assert clock_states(db, "zephyr-labs")["Z-101"] == {"pending", "running"}  # one case only
        clock.advance(600)
        lift_case(app.screen)
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert events_of(db, "Z-100")[-1][:2] == ("unsuspended", LEAD)
        assert "running" in clock_states(db, "zephyr-labs")["Z-100"]

    run(db, LEAD, (100, 40), body)


def test_case_suspension_refused_for_an_engineer(db):
    from screens.suspend_prompt import suspend_case

    async def body(pilot, app):
        await settle(pilot)
        await open_case(pilot, "Z-100")
        n = len(events_of(db, "Z-100"))
        suspend_case(app.screen)
        await settle(pilot)
        assert (
            "not allowed: suspending a case's SLA needs the lead role (eng-me is an engineer); "
            "nothing written"
        ) in flat(screen_text(app))
        assert len(events_of(db, "Z-100")) == n

    run(db, USER, (100, 40), body)


def test_burn_chart_reads_without_colour():
    from console.rules.timeutil import parse_instant as utc
    from screens.burn_chart import BurnData, chart_lines, meter_bar

    d = BurnData(
        points=((utc("2026-02-01T12:00:00Z"), 10), (utc("2026-05-01T12:00:00Z"), 30)),
        start=utc("2026-01-01T05:00:00Z"),
        end=utc("2027-01-01T05:00:00Z"),
        at=utc("2026-07-02T12:00:00Z"),
        limit=50,
        tz=ZoneInfo(TZ),
    )
    for width in (74, 154):
        lines = [ln.plain for ln in chart_lines(d, width)]
        assert all(len(ln) <= width for ln in lines)
        assert lines[0].startswith("  50h┤")  # the limit on the top row
        assert "┈" in lines[0]
        assert "·" in "".join(lines)
        assert lines[5].lstrip().startswith("0h└")
        assert "▲" in lines[5]
        assert "2026-01-01" in lines[6]
        assert "2026-12-31" in lines[6]
        assert "used 40 h" in lines[7]
        assert "limit 50 h" in lines[7]
    assert meter_bar(83, "warning").plain == "████████░░   83% WARN"
    assert meter_bar(128, "over").plain == "██████████  128% OVER"
    assert meter_bar(0, "ok").plain == "░░░░░░░░░░    0% ok  "
