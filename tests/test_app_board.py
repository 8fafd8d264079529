"""Pilot tests of the war-team board (policy §7) and the console's escalation watcher:
escalation by time passing, forming a team, the plan and its roles, moving cards, status
updates, resolution. Each drives real keys and asserts on the screen and the database."""

from __future__ import annotations

import asyncio
import sqlite3
from zoneinfo import ZoneInfo

from app_support import NOW, TZ, USER, events_of, screen_text, settle

from console import clock
from screens.app import ConsoleApp
from screens.escalation_watch import (
    EscalationWatch,
    bell_from_env,
    notification_text,
    run_check,
    watcher_of,
)

HOUR = 3600


def _store_do(url: str, fn) -> None:
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    store = open_store(url)
    try:
        fn(store, load_policy(None))
    finally:
        store.dispose()


def swept(url: str) -> str:
    """The fixture's five breached incidents escalated (as cron would have)."""
    from console.sweep import sweep

    _store_do(url, lambda store, policy: sweep(store, clock.now(), recorded_at=clock.now()))
    return url


def make_lead(url: str, name: str = USER) -> None:
    from cli_support import make_lead

    _store_do(url, lambda store, policy: make_lead(store, name, clock.now()))


def event(url: str, case_id: str, kind: str, **data) -> None:
    from console.actions import append_event

    _store_do(
        url,
        lambda store, policy: append_event(
            store,
            case_id,
            kind,
            at=clock.now(),
            by="someone-else",
            data=data,
            recorded_at=clock.now(),
        ),
    )


def escalations(url: str) -> dict[str, tuple[str, str]]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        rows = con.execute("SELECT case_id, missed, by FROM escalation").fetchall()
    finally:
        con.close()
    return {cid: (missed, by) for cid, missed, by in rows}


def kinds(url: str, case_id: str) -> list[str]:
    return [k for k, _, _ in events_of(url, case_id)]


def notes(app) -> list:
    """The notifications the app has shown, oldest first."""
    return list(app._notifications)


def flat(text: str) -> str:
    """The screen's words in order, box edges dropped (a modal wraps its text)."""
    words = [w.strip("│╭╮╰╯─▕▏") for w in text.split()]
    return " ".join(w for w in words if w)


async def act(pilot, *keys: str) -> str:
    await pilot.press(*keys)
    await settle(pilot)
    return screen_text(pilot.app)


async def watch(pilot) -> str:
    """One beat of the escalation watcher, as the app's timer runs it."""
    run_check(pilot.app)
    await settle(pilot)
    await settle(pilot)  # the board's re-read the watcher asked for
    return screen_text(pilot.app)


async def board(pilot) -> str:
    await settle(pilot)
    return await act(pilot, "2")


def app_for(url: str) -> ConsoleApp:
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    app.bells = 0

    def bell() -> None:
        app.bells += 1

    app.bell = bell
    return app


# -- the watcher -------------------------------------------------------------------------


def test_escalation_by_time_passing_shows_a_card_notifies_and_rings(db):
    async def go():
        app = app_for(db)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            text = await board(pilot)
            assert "No escalated incidents" in text
            # The first beat: five incidents of the fixture were already past their
            # workaround target; this console's sweep records them, by the system user
            # `sweep` (no person did it, policy §14), never the console's operator.
            text = await watch(pilot)
            assert set(escalations(db)) == {"CS-1101", "CS-1302", "CS-1401", "CS-1501", "CS-1601"}
            assert {by for _, by in escalations(db).values()} == {"sweep"}
            assert "escalated 5" in text
            assert app.bells == 1
            # The console's first beat (start-up) counts them in the header and rings; no
            # notice covers the queue's due times and titles.
            assert not notes(app)
            assert "⚑ 5" in screen_text(app).splitlines()[0]
            n_notes = len(notes(app))

            # Y-200 (P1, 24x7) is acknowledged now; its workaround is due in 24 h.
            event(db, "Y-200", "acknowledged")
            event(db, "Y-201", "acknowledged")
            event(db, "Z-101", "acknowledged")
            await watch(pilot)
            assert "Y-200" not in escalations(db)
            assert len(notes(app)) == n_notes
            assert app.bells == 1

            clock.advance(24 * HOUR - 60)
            app.action_tick()
            await watch(pilot)
            assert "Y-200" not in escalations(db)  # not yet: due at 13:30Z exactly

            clock.advance(2 * 60)
            app.action_tick()
            text = await watch(pilot)
            assert escalations(db)["Y-200"] == ("workaround", "sweep")
            assert kinds(db, "Y-200").count("escalated") == 1
            note = notes(app)[-1]
            assert note.title == "Escalated to the war team"
            assert "Y-200 P1 yarrow-ops: workaround missed" in note.message
            assert app.bells == 2
            assert "Y-200" in text
            assert "escalated 6" in text
            assert "Escalated to the war team" in text  # the toast
            assert "Y-200 P1 yarrow-ops: workaround" in flat(text)
            assert "^J" not in text
            assert note.timeout <= 5  # a short notice; the header keeps counting

            # The bell switched off on the board: the next escalation only notifies.
            text = await act(pilot, "b")
            assert "escalation bell off" in text
            assert "bell off" in text
            assert watcher_of(app).bell is False
            before = set(escalations(db))
            clock.advance(14 * 24 * HOUR)
            app.action_tick()
            text = await watch(pilot)
            new = set(escalations(db)) - before
            assert {"Y-201", "Z-101"} <= new, new
            assert notes(app)[-1].title == f"{len(new)} incidents escalated to the war team"
            assert app.bells == 2
            assert f"escalated {6 + len(new)}" in text
            # A second beat with nothing new says nothing more.
            n_notes = len(notes(app))
            await watch(pilot)
            assert len(notes(app)) == n_notes
            # Subscriber text on the board is literal: markup and escapes stay inert.
            app.clear_notifications()
            board_pane = app.query_one("#board")
            ids = [c.case_id for c in board_pane.in_column(0)]
            text = await act(pilot, *["down"] * ids.index("Y-201"))
            assert "▸ ! Y-201" in text
            assert "Portal [red]x[/] ^[[31mred" in text
            assert "\x1b" not in text
            assert "\x07" not in text

    asyncio.run(go())


def test_a_console_started_after_escalations_does_not_ring_for_old_ones(db):
    swept(db)

    async def go():
        app = app_for(db)
        async with app.run_test(size=(80, 24)) as pilot:
            text = await board(pilot)
            assert "escalated 5" in text
            await watch(pilot)
            assert app.bells == 0
            assert not notes(app)

    asyncio.run(go())


def test_bell_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("SUPPORT_CONSOLE_BELL", "0")
    assert bell_from_env() is False
    assert EscalationWatch().bell is False
    monkeypatch.setenv("SUPPORT_CONSOLE_BELL", "1")
    assert bell_from_env() is True
    monkeypatch.delenv("SUPPORT_CONSOLE_BELL")
    assert bell_from_env() is True


def test_bell_off_by_environment_in_the_app(db, monkeypatch):
    monkeypatch.setenv("SUPPORT_CONSOLE_BELL", "0")

    async def go():
        app = app_for(db)
        async with app.run_test(size=(80, 24)) as pilot:
            text = await board(pilot)
            assert "bell off" in text
            text = await watch(pilot)
            assert "⚑ 5" in text.splitlines()[0]
            assert app.bells == 0
            text = await act(pilot, "b")
            assert "escalation bell on" in text

    asyncio.run(go())


def test_notification_text_is_inert_and_bounded():
    from console.views.board import NewEscalation

    new = [NewEscalation(f"C-{i}", "acme\x1b]52;c;x\x07", "P1", "workaround") for i in range(7)]
    text = notification_text(new)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "C-2" in text
    assert "C-3" not in text
    assert "and 4 more" in text


# -- the board ---------------------------------------------------------------------------


def test_form_a_team_write_the_plan_and_move_the_card(db):
    swept(db)
    make_lead(db)

    async def go():
        app = app_for(db)
        async with app.run_test(size=(80, 24)) as pilot:
            text = await board(pilot)
            assert "▸ ! CS-1101" in text  # the first card is chosen
            # Not formed yet: the engine refuses the move and says why.
            text = flat(await act(pilot, "greater_than_sign"))
            assert "refused, nothing written" in text
            # in words, whole: no internal names, nothing cut at 80 columns
            assert (
                "refused, nothing written: team formed needs at least one engineer, one "
                "executive and one subscriber representative; missing: engineer, executive, "
                "subscriber representative"
            ) in text
            assert "board_moved" not in text
            assert "column:" not in text
            assert "board_moved" not in kinds(db, "CS-1101")

            for name, role_key in (("Bo Walsh", "1"), ("Ida Okane", "2"), ("Rosa Klein", "3")):
                await pilot.press("a")
                await pilot.pause()
                await pilot.press(*name, "enter", role_key)
                await settle(pilot)
            members = [d for k, _, d in events_of(db, "CS-1101") if k == "war_team_member"]
            assert members == [
                {"name": "Bo Walsh", "role": "engineer", "action": "join"},
                {"name": "Ida Okane", "role": "executive", "action": "join"},
                {"name": "Rosa Klein", "role": "subscriber_rep", "action": "join"},
            ]
            text = screen_text(app)
            assert "Rosa Klein joined CS-1101's war team as subscriber rep" in text
            assert "roles 3/3" in text

            text = await act(pilot, "greater_than_sign")
            assert events_of(db, "CS-1101")[-1] == ("board_moved", USER, {"column": "team_formed"})
            assert "CS-1101 moved to team formed" in text
            assert "escalated 4" in text
            assert "team formed 1" in text
            assert "▸ ! CS-1101" in text  # the cursor followed the card

            text = flat(await act(pilot, "greater_than_sign"))
            assert "plan agreed needs the plan's assessment, mitigation, resources" in text

            for part_key, words in (
                ("a", "DB failover loop"),
                ("m", "Pin the primary"),
                ("r", "Two SREs around the clock"),
            ):
                await pilot.press("e")
                await pilot.pause()
                await pilot.press(part_key)
                await pilot.pause()
                await pilot.press(*words, "ctrl+s")
                await settle(pilot)
            await pilot.press("e")
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            await pilot.press(*", confirmed", "ctrl+s")  # a second version, appended
            await settle(pilot)
            plans = [d for k, _, d in events_of(db, "CS-1101") if k == "plan_updated"]
            assert plans == [
                {"part": "assessment", "text": "DB failover loop"},
                {"part": "mitigation", "text": "Pin the primary"},
                {"part": "resources", "text": "Two SREs around the clock"},
                {"part": "assessment", "text": "DB failover loop, confirmed"},
            ]

            text = await act(pilot, "greater_than_sign")
            assert "plan agreed 1" in text
            text = await act(pilot, "greater_than_sign")
            assert "mitigating 1" in text
            text = flat(await act(pilot, "greater_than_sign"))
            assert "a card reaches resolved when the incident is resolved, not by a move" in text
            cols = [d["column"] for k, _, d in events_of(db, "CS-1101") if k == "board_moved"]
            assert cols == ["team_formed", "plan_agreed", "mitigating"]

            # The detail shows the team with its role history and the plan with its history.
            await pilot.press("x")
            await pilot.pause()
            text = await act(pilot, "enter")  # the first active member (Bo Walsh) leaves
            assert events_of(db, "CS-1101")[-1][2] == {
                "name": "Bo Walsh",
                "role": "engineer",
                "action": "leave",
            }
            assert "Bo Walsh left CS-1101's war team" in text
            await pilot.resize_terminal(120, 60)
            text = await act(pilot, "r")
            words = flat(text)
            assert "Bo Walsh engineer 08:30 08:30" in words  # joined and left: role history
            assert "Technical assessment v2 · 08:30 eng-me DB failover loop, confirmed" in words
            assert "earlier, 08:30 eng-me: DB failover loop" in words
            assert "Mitigation strategies v1 · 08:30 eng-me Pin the primary" in words
            # policy §7 (issue 18): a formed team that fell below one of each role is
            # flagged incomplete, on the card and in the detail
            assert "TEAM INCOMPLETE since 08:30: missing engineer" in words
            assert "INCOMPLETE 2/3" in words

            # and a move back is allowed
            text = await act(pilot, "less_than_sign")
            assert "CS-1101 moved to plan agreed" in text

    asyncio.run(go())


def demote(url: str, name: str = USER) -> None:
    """``name`` (a lead) is made an engineer again (by themselves, the only lead)."""
    from console.operators import set_role

    _store_do(url, lambda store, policy: set_role(store, name, name, "engineer", clock.now()))


def test_engineer_plan_edit_is_refused_before_typing_and_a_refused_text_is_kept(db):
    swept(db)

    async def go():
        from textual.widgets import TextArea

        app = app_for(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await board(pilot)
            # Like every lead-only key: refused at once, before a word is typed.
            text = flat(await act(pilot, "e"))
            assert (
                "not allowed: editing a war-team plan needs the executive or lead role "
                "(eng-me is an engineer); nothing written"
            ) in text
            assert type(app.screen).__name__ == "Screen"  # no picker, no editor
            assert "plan_updated" not in kinds(db, "CS-1101")

            # The role taken away while typing: the save is refused and the text kept.
            make_lead(db)
            await pilot.press("e")
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            demote(db)
            await pilot.press(*"Failover loop in the DB", "ctrl+s")
            await settle(pilot)
            text = flat(screen_text(app))
            assert (
                "not allowed: editing a war-team plan needs the executive or lead role "
                "(eng-me is an engineer)"
            ) in text
            assert type(app.screen).__name__ == "PlanEdit"  # still open
            assert app.screen.query_one(TextArea).text == "Failover loop in the DB"
            assert "plan_updated" not in kinds(db, "CS-1101")

            # Cancelled: the text is kept as a draft and comes back on the next try.
            await pilot.press("ctrl+g")
            await settle(pilot)
            assert "your technical assessment text is kept as a draft" in screen_text(app)
            make_lead(db)  # a lead gives eng-me the role
            await pilot.press("e")
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            assert app.screen.query_one(TextArea).text == "Failover loop in the DB"
            assert "your unsaved draft" in screen_text(app)
            text = await act(pilot, "ctrl+s")
            assert type(app.screen).__name__ != "PlanEdit"
            assert "CS-1101: technical assessment saved" in text
            assert events_of(db, "CS-1101")[-1] == (
                "plan_updated",
                USER,
                {"part": "assessment", "text": "Failover loop in the DB"},
            )
            assert "unsaved draft" not in text

    asyncio.run(go())


def test_status_updates_are_logged_and_flagged_when_late(db):
    swept(db)

    async def go():
        app = app_for(db)
        async with app.run_test(size=(100, 40)) as pilot:
            text = await board(pilot)
            assert "next update LATE" in text  # escalated in February, nothing posted since
            await pilot.press("u")
            await pilot.pause()
            await pilot.press("enter")  # an empty note is not posted
            await pilot.pause()
            assert "a note is needed" in screen_text(app)
            text = await act(pilot, *"Failover in progress", "enter")
            assert events_of(db, "CS-1101")[-1] == (
                "status_update",
                USER,
                {"note": "Failover in progress"},
            )
            assert "status update posted on CS-1101" in text
            assert "LATE +" in text
            assert "Failover in progress" in text

            clock.advance(2 * HOUR)  # 10:30 local: 1:30 counted since the last update
            app.action_tick()
            await watch(pilot)
            await pilot.press("u")
            await pilot.pause()
            text = await act(pilot, *"Primary pinned", "enter")
            from console.escalation import load_board

            cards = {}

            def read(store, policy):
                with store.connection() as conn:
                    cards.update({c.case_id: c for c in load_board(conn, policy, clock.now())})

            _store_do(db, read)
            assert [(u.note, u.late) for u in cards["CS-1101"].team.updates] == [
                ("Failover in progress", True),
                ("Primary pinned", False),
            ]
            assert "on time" in text
            assert "Primary pinned" in text
            assert "next update 14:30" in text  # 4 h counted after 10:30

    asyncio.run(go())


def test_resolution_moves_the_card_to_resolved(db):
    swept(db)

    async def go():
        app = app_for(db)
        async with app.run_test(size=(80, 24)) as pilot:
            text = await board(pilot)
            assert "resolved 0" in text
            event(db, "CS-1101", "resolved")  # resolved in another console
            text = await watch(pilot)
            assert "escalated 4" in text
            assert "resolved 1" in text
            for _ in range(4):
                await pilot.press("right")
            text = await act(pilot, "r")
            assert "▸" in text
            assert "CS-1101" in text
            assert "resolved" in text
            text = flat(await act(pilot, "less_than_sign"))
            assert "the incident is resolved: its card stays in resolved" in text
            # Enter opens the case itself.
            await act(pilot, "enter")
            assert getattr(app.screen, "case_id", None) == "CS-1101"

    asyncio.run(go())


def test_board_columns_are_browsed_by_keys(db):
    swept(db)

    async def go():
        app = app_for(db)
        async with app.run_test(size=(80, 24)) as pilot:
            text = await board(pilot)
            assert "▸ ! CS-1101" in text
            text = await act(pilot, "down", "down")
            assert "▸ ! CS-1601" in text
            assert "CS-1601  P2  faro-comercio" in text  # its detail
            text = await act(pilot, "right")
            assert "(no cards in team formed)" in text
            text = flat(await act(pilot, "a"))
            assert "no card selected (team formed is empty)" in text
            text = await act(pilot, "left")
            assert "▸ ! CS-1601" in text  # the column remembers its cursor

    asyncio.run(go())


def test_start_watch_is_inert_under_a_frozen_clock_and_runs_otherwise(db, monkeypatch):
    """With a test's frozen clock the timer is not started (tests call run_check); with a
    running clock the first beat sweeps at once."""
    from screens.escalation_watch import start_watch

    async def go():
        app = app_for(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            start_watch(app)
            await settle(pilot)
            assert escalations(db) == {}
            clock.freeze(None)
            # A running clock, held at the fixture's instant without a test freeze.
            fixed = clock.parse_instant(NOW)
            monkeypatch.setattr(clock, "now", lambda: fixed)
            start_watch(app)
            for _ in range(50):
                await settle(pilot)
                if escalations(db):
                    break
            assert len(escalations(db)) == 5

    asyncio.run(go())
