"""Pilot tests of the queue pane: order, ticking, breaching without a key, filters,
the palette jump, inert subscriber text."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from app_support import EVIL_TITLE, NOW, TZ, USER, screen_text, settle

from console import clock
from console.queue import load_queue
from console.rules.policy import load_policy
from console.store.engine import open_store
from screens.app import ConsoleApp


def make_app(url: str) -> ConsoleApp:
    return ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))


def order(app: ConsoleApp) -> list[str]:
    return [it.id for it in app.queue.view]


def row_line(app: ConsoleApp, case_id: str) -> str:
    for line in screen_text(app).splitlines():
        if f" {case_id} " in line:
            return line
    raise AssertionError(f"{case_id} not on screen:\n{screen_text(app)}")


def test_queue_opens_in_risk_order_like_the_cli(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            store = open_store(db)
            with store.connection() as conn:
                expected = [r.id for r in load_queue(conn, load_policy(None), clock.now())]
            store.dispose()
            assert order(app) == expected
            text = screen_text(app)
            assert "24 Nov 08:30 EST" in text
            assert "engineer" in text
            assert "! 11 breached" in text
            # a breached row carries a symbol, not only a colour
            assert row_line(app, "CS-1101").startswith("!")
            assert not row_line(app, "Y-200").startswith("!")
            assert "0:20" in row_line(app, "Y-200")  # remaining, counted
            assert "Nov24 08:50" in row_line(app, "Y-200")  # due, local time
            assert "⏸ 0:45" in row_line(app, "CS-1402")  # paused clock

    asyncio.run(go())


def test_time_passes_a_case_breaches_and_moves_up_without_a_key(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            before = order(app)
            # Z-100's due (Mon 17:00, window end) is earlier, but it is not breached
            assert before.index("Z-100") < before.index("Y-200")
            assert "0:20" in row_line(app, "Y-200")
            clock.advance(10 * 60)  # 08:40
            app.action_tick()
            await pilot.pause()
            assert "0:10" in row_line(app, "Y-200")  # it ticks
            assert order(app) == before
            clock.advance(11 * 60)  # 08:51: Y-200's 1 h response (24x7) is over
            app.action_tick()
            await pilot.pause()
            after = order(app)
            assert after.index("Y-200") < after.index("Z-100")
            line = row_line(app, "Y-200")
            assert line.startswith("!")
            assert "!-0:01" in line
            assert "! 12 breached" in screen_text(app)
            item = next(it for it in app.queue.items if it.id == "Y-200")
            assert item.breached
            # Z-100 breaches once counting resumes at 09:00 New York
            clock.advance(10 * 60)  # 09:01
            app.action_tick()
            await pilot.pause()
            assert row_line(app, "Z-100").startswith("!")
            # the order still matches the CLI's at the new instant
            store = open_store(db)
            with store.connection() as conn:
                expected = [r.id for r in load_queue(conn, load_policy(None), clock.now())]
            store.dispose()
            assert order(app) == expected

    asyncio.run(go())


def test_breached_row_is_red(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.query_one("#queue-table")
            breached = table.render_line(1)  # row 0 has the cursor
            fresh_index = next(i for i, it in enumerate(table.items) if it.id == "Y-201")
            fresh = table.render_line(fresh_index)
            red = [s.style.color for s in breached if s.text.strip()]
            plain = [s.style.color for s in fresh if s.text.strip()]
            assert red
            assert red[0] is not None
            assert red[0] != plain[0]
            assert any(s.style.bold for s in breached)

    asyncio.run(go())


def test_cursor_keys_and_enter_open_the_case(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.query_one("#queue-table")
            await pilot.press("down", "down", "j")
            assert table.cursor == 3
            await pilot.press("end")
            assert table.cursor == len(table.items) - 1
            await pilot.press("home")
            assert table.cursor == 0
            await pilot.press("pagedown")
            assert table.cursor > 3
            await pilot.press("home", "down", "enter")
            await settle(pilot)
            assert type(app.screen).__name__ == "CaseView"
            assert app.screen.case_id == order(app)[1]
            await pilot.press("q")
            await pilot.pause()
            assert type(app.screen).__name__ == "Screen"

    asyncio.run(go())


def test_filters(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            total = len(app.queue.items)
            await pilot.press("b")  # breached only
            assert all(it.breached for it in app.queue.view)
            assert len(app.queue.view) == 11
            assert "breached" in screen_text(app).splitlines()[1]
            await pilot.press("b", "p", "p")  # priority cycles: P0, P1
            assert {it.priority for it in app.queue.view} == {"P1"}
            assert "priority=P1" in screen_text(app)
            await pilot.press("x")
            assert len(app.queue.view) == total
            await pilot.press("t", "t")  # type: incident, query
            assert {it.type for it in app.queue.view} == {"query"}
            await pilot.press("x", "m")  # mine: the cases assigned to eng-me (policy §10)
            await settle(pilot)
            assert order(app) == ["Z-100"]
            assert "assigned to me" in screen_text(app)
            await pilot.press("u")  # unassigned: every other one
            assert set(order(app)) == {it.id for it in app.queue.items} - {"Z-100"}
            assert "unassigned" in screen_text(app)
            assert "assigned to me" not in screen_text(app)
            await pilot.press("x", "slash")
            await pilot.press(*"sandbox")
            await pilot.press("enter")
            assert set(order(app)) == {"CS-1102", "Z-101"}
            assert "search='sandbox'" in screen_text(app)
            assert app.focused is app.query_one("#queue-table")
            # Esc in the search box drops the search and closes the box (never quits).
            await pilot.press("x", "slash", *"sandbox")
            assert set(order(app)) == {"CS-1102", "Z-101"}
            await pilot.press("escape")
            assert len(app.queue.view) == total
            assert "Filter: none" in screen_text(app)
            assert not app.query_one("#queue-search").display
            assert app.focused is app.query_one("#queue-table")
            assert app.is_running
            await pilot.press("x", "s")
            await pilot.pause()
            await pilot.press(*"yarrow", "enter")
            await pilot.pause()
            assert set(order(app)) == {"Y-200", "Y-201"}
            assert "subscriber=yarrow" in screen_text(app)
            await pilot.press("x")
            assert "Filter: none" in screen_text(app)

    asyncio.run(go())


def test_palette_jumps_to_a_case_and_to_a_subscriber(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Z-101")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(pilot)
            assert type(app.screen).__name__ == "CaseView"
            assert app.screen.case_id == "Z-101"
            assert "Sandbox rejects new API keys" in screen_text(app)
            await pilot.press("q", "ctrl+p")
            await pilot.pause()
            await pilot.press(*"Birch Media")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(pilot)
            assert type(app.screen).__name__ == "SubscriberView"
            assert "Birch Media" in screen_text(app)
            await pilot.press("c")  # its cases, in the queue
            await settle(pilot)
            assert set(order(app)) == {"CS-1201", "CS-1202"}

    asyncio.run(go())


def test_markup_and_escapes_in_a_title_render_literally(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=(190, 48)) as pilot:  # the whole title fits
            await settle(pilot)
            line = row_line(app, "Y-201")
            assert "Portal [red]x[/] ^[[31mred^[[0m bell^G osc^[]52;c;aGk=^G end" in line
            table = app.query_one("#queue-table")
            index = next(i for i, it in enumerate(table.items) if it.id == "Y-201")
            for seg in table.render_line(index):
                assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in seg.text)
            # and in the case view
            await pilot.press("slash", *"Y-201", "enter", "enter")
            await settle(pilot)
            text = screen_text(app)
            assert "Portal [red]x[/] ^[[31mred^[[0m bell^G osc^[]52;c;aGk=^G end" in text
            assert "\x1b" not in text
            assert "\x07" not in text
            svg = app.export_screenshot()
            assert "\x1b" not in svg
            assert "\x07" not in svg
            assert EVIL_TITLE not in text

    asyncio.run(go())


def test_no_color_still_marks_breaches(db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.no_color
            assert row_line(app, "CS-1101").startswith("!")
            assert "! 11 breached" in screen_text(app)

    asyncio.run(go())


def test_unreachable_database_is_shown_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    clock.freeze(NOW)
    bad = f"sqlite:///{tmp_path}/no/such/dir/db.sqlite"

    async def go():
        app = make_app(bad)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "cannot load the queue" in screen_text(app)

    try:
        asyncio.run(go())
    finally:
        clock.freeze(None)
