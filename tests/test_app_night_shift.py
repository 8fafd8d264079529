"""Issue 15, "a console that never misleads the night shift": Pilot tests with real key
presses, asserting on the screen and on the database (one test or more per item)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from app_support import TZ, USER, events_of, screen_text, settle

from console import clock
from screens.app import ConsoleApp


def app_for(url: str, **kw) -> ConsoleApp:
    return ConsoleApp(url, user=USER, tz=ZoneInfo(TZ), **kw)


def flat(text: str) -> str:
    words = [w.strip("│╭╮╰╯─▕▏") for w in text.split()]
    return " ".join(w for w in words if w)


async def act(pilot, *keys: str) -> str:
    await pilot.press(*keys)
    await settle(pilot)
    return screen_text(pilot.app)


async def open_case(pilot, case_id: str) -> None:
    await pilot.press("slash", *case_id, "enter", "enter")
    await settle(pilot)
    assert pilot.app.screen.case_id == case_id


def kinds(url: str, case_id: str) -> list[str]:
    return [k for k, _, _ in events_of(url, case_id)]


def query(url: str, sql: str, *args) -> list[tuple]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def run(app: ConsoleApp, size: tuple[int, int], body) -> None:
    async def go():
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await body(pilot)

    asyncio.run(go())


def segments(app, y: int) -> list:
    """The rendered segments of screen line ``y`` (filters such as NO_COLOR applied)."""
    return [s for s in app.screen._compositor.render_strips()[y] if s.text.strip()]


# -- 2. NO_COLOR: urgency by bold, reverse and symbols, never by dimming ------------------------


def test_no_color_marks_urgency_bold_and_reversed(db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(db)

    async def body(pilot):
        assert app.no_color
        breach = [s for s in segments(app, 0) if "breached" in s.text]
        assert breach
        assert breach[0].style.bold
        assert breach[0].style.reverse
        assert not breach[0].style.dim
        lines = screen_text(app).splitlines()
        row = next(i for i, line in enumerate(lines) if line.startswith("! CS-1102"))
        (seg, *_) = segments(app, row)
        assert seg.style.bold
        assert seg.style.reverse
        assert not seg.style.dim
        ok = next(i for i, line in enumerate(lines) if line.startswith("  Z-101"))
        assert not segments(app, ok)[0].style.reverse  # a row in time reads plainly
        # The board's overdue figures and LATE (escalated cases owe updates).
        from console.sweep import sweep

        sweep(app.store, clock.now(), recorded_at=clock.now())
        text = await act(pilot, "2", "r")
        lines = text.splitlines()
        late = next(i for i, line in enumerate(lines) if "LATE" in line and "CS-" in line)
        styled = {s.text.strip(): s.style for s in segments(app, late)}
        over = next(
            st
            for t, st in styled.items()
            if t.startswith("workaround +") or t.startswith("update +") or "+" in t
        )
        assert over.bold
        assert over.reverse
        assert not over.dim
        lt = next(st for t, st in styled.items() if "LATE" in t)
        assert lt.bold
        assert lt.reverse
        assert not lt.dim

    run(app, (100, 30), body)


def test_a_ticked_box_reads_without_colour(db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(db)

    async def body(pilot):
        await open_case(pilot, "Z-101")
        await pilot.press("t")
        await pilot.pause()
        box = app.screen.query_one("#prompt-exempt")
        assert "▐ ▌ exempt" in screen_text(app)
        await pilot.press("tab", "space")
        await pilot.pause()
        assert box.value is True
        assert "▐X▌ exempt" in screen_text(app)

    run(app, (80, 24), body)


# -- 3. a clock at its target says when it breaches -----------------------------------------


def test_a_clock_at_its_target_says_when_it_breaches(db):
    app = app_for(db)

    async def body(pilot):
        # Z-100's update clock reached its target at Monday 17:00 as the window closed: not
        # breached, due in the past; it breaches one counted second after 09:00.
        row = next(line for line in screen_text(app).splitlines() if "Z-100" in line)
        assert "→Tue 09:00" in row
        assert "Nov23 17:00" not in row
        assert not row.startswith("!")
        items = [it.id for it in app.queue.table.items]
        text = await act(pilot, *["down"] * items.index("Z-100"))
        assert "Z-100: update at its target, breaches Tue 09:00 when counting resumes" in text
        await act(pilot, "enter")
        text = flat(screen_text(app))
        assert (
            "⚠ update reached its target Mon 23 Nov 17:00 as covered hours ended: it "
            "breaches Tue 24 Nov 09:00, when counting resumes"
        ) in text

    run(app, (100, 40), body)


# -- 4. filter cycling keeps the count, the rows and Enter honest ---------------------------------


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    from console.cli import main

    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    at = "2026-11-24T15:00:00Z"
    clock.freeze(at)
    path = tmp_path / "demo.db"
    assert main(["--db", str(path), "demo", "--cases", "300", "--no-tui", "--at", at]) == 0
    yield f"sqlite:///{path}"
    clock.freeze(None)


def test_type_filter_cycled_back_to_none_shows_the_cursor_and_opens_only_what_is_shown(demo_db):
    app = app_for(demo_db)

    async def body(pilot):
        table = app.queue.table
        total = len(app.queue.items)
        for _ in range(4):  # incident, query, security report, service request
            await act(pilot, "t")
        await act(pilot, "t")  # change requests
        assert app.queue.filters.type == "change_request"
        text = await act(pilot, "down", "down")
        chosen = table.current.id
        text = await act(pilot, "t")  # back to no filter: the cursor stays on its case
        assert app.queue.filters.type is None
        assert table.current.id == chosen
        pos = table.cursor + 1
        assert f"Filter: none  │ {pos:,}/{total:,}" in text
        assert pos > table.size.height  # far down the list ...
        assert table.cursor_shown()  # ... and on screen
        row = next(line for line in text.splitlines() if chosen in line)
        assert row  # the case under the cursor is one of the rows shown
        await act(pilot, "enter")
        assert app.screen.case_id == chosen

    run(app, (80, 24), body)


def test_enter_never_opens_a_case_that_is_not_shown(db):
    app = app_for(db)

    async def body(pilot):
        table = app.queue.table
        table.cursor = len(table.items) - 1  # a cursor left off screen
        table.scroll_to(y=0, animate=False, immediate=True)
        await settle(pilot)
        if table.cursor_shown():
            pytest.skip("the whole queue fits the screen")
        await act(pilot, "enter")
        assert type(app.screen).__name__ == "Screen"  # nothing opened ...
        assert table.cursor_shown()  # ... the case is brought into view instead

    run(app, (80, 12), body)


# -- 5. the wizard asks when the case was reported and when Konneqt became aware ----------------


async def _to_summary(pilot) -> None:
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"zephyr-prod", "enter")  # the deployment
    await settle(pilot)
    await pilot.press("1")  # incident
    await settle(pilot)
    for _ in range(30):  # answer no until the summary
        if pilot.app.screen.step == "summary":
            break
        await pilot.press("n")
        await pilot.pause()
    await settle(pilot)
    assert pilot.app.screen.step == "summary"


def test_the_wizard_records_reported_and_aware_at_in_the_operators_zone(db):
    app = app_for(db)

    async def body(pilot):
        await _to_summary(pilot)
        text = flat(screen_text(app))
        assert "Reported at" in text
        assert "Aware at" in text
        assert "Clocks from now" in text
        # A time in the future is refused in words and nothing is written.
        await pilot.press("shift+tab", "shift+tab", *"23:59")
        text = flat(await act(pilot, "tab", "tab", *"Tokens rejected", "enter"))
        assert "reported at: Tue 24 Nov 23:59 lies in the future" in text
        assert query(db, "SELECT count(*) FROM support_case WHERE title = 'Tokens rejected'") == [
            (0,)
        ]
        # Reported by e-mail at 06:30 (two hours ago); Konneqt aware since 06:00.
        await pilot.press(
            "shift+tab", "shift+tab", *["backspace"] * 5, *"2026-11-24 06:30", "tab", *"06:00"
        )
        text = flat(await act(pilot))
        assert "Clocks from reported (Tue 24 Nov 06:00 EST)" in text
        await act(pilot, "tab", "enter")
        (row,) = query(
            db, "SELECT reported_at, aware_at FROM support_case WHERE title = 'Tokens rejected'"
        )
        from console.rules.timeutil import format_instant

        assert (format_instant(row[0]), format_instant(row[1])) == (
            "2026-11-24T11:30:00Z",
            "2026-11-24T11:00:00Z",
        )

    run(app, (100, 40), body)


# -- 6. assignment in the console -----------------------------------------------------------------


def _register(url: str, *names: str) -> None:
    """The desk's engineers in the operator list (a lead's ``operators set``)."""
    from cli_support import make_lead

    from console.operators import set_role
    from console.store.engine import open_store

    with open_store(url) as store:
        make_lead(store, "lead-lena")
        for n in names:
            set_role(store, "lead-lena", n, "engineer", clock.now())


def test_take_hand_over_unassign_and_the_queue_column(db):
    _register(db, "ana")
    app = app_for(db)

    async def body(pilot):
        text = screen_text(app)
        assert "ASSIGNEE" in text.splitlines()[2]  # from 100 columns
        assert "eng-me" in next(line for line in text.splitlines() if "Z-100" in line)
        await open_case(pilot, "Z-101")
        assert "Assigned nobody · T: take it" in flat(screen_text(app))
        text = flat(await act(pilot, "T"))
        assert events_of(db, "Z-101")[-1] == ("assigned", USER, {"to": USER})
        assert "you took the case" in text
        assert "Assigned eng-me (you)" in text
        assert "assigned eng-me eng-me took the case" in text  # the history, in words
        # Hand over: a prompt for the name, with the desk's engineers.
        await pilot.press("H")
        await settle(pilot)
        assert "engineers: ana" in flat(screen_text(app))
        text = flat(await act(pilot, *"anna", "enter"))  # a typo: refused, nothing written
        assert "refused, nothing written: no support engineer named anna" in text
        assert kinds(db, "Z-101") == ["assigned"]
        await pilot.press("H")
        await settle(pilot)
        text = flat(await act(pilot, *"ana", "enter"))
        assert events_of(db, "Z-101")[-1] == ("assigned", USER, {"to": "ana"})
        assert "handed over to ana" in text
        assert "Assigned ana" in text
        # T on a case someone else holds asks first; n keeps it theirs.
        await pilot.press("T")
        await settle(pilot)
        assert "Z-101 is assigned to ana: take it over?" in flat(screen_text(app))
        await act(pilot, "n")
        assert events_of(db, "Z-101")[-1][2] == {"to": "ana"}
        # Empty name: unassign.
        await pilot.press("H")
        await settle(pilot)
        text = flat(await act(pilot, "enter"))
        assert events_of(db, "Z-101")[-1] == ("assigned", USER, {})
        assert "unassigned: nobody holds the case now" in text
        assert query(db, "SELECT assignee FROM case_state WHERE case_id = 'Z-101'") == [(None,)]
        # Back in the queue: m is assigned to me, u unassigned.
        await act(pilot, "q", "x")  # (x: the search that found Z-101 is cleared)
        await act(pilot, "m")
        assert [it.id for it in app.queue.view] == ["Z-100"]
        await act(pilot, "u")
        assert "Z-101" in [it.id for it in app.queue.view]
        assert "Z-100" not in [it.id for it in app.queue.view]

    run(app, (100, 40), body)


def test_the_assignee_column_starts_at_100_columns(db):
    for size, shown in (((99, 24), False), ((100, 24), True)):
        app = app_for(db)

        async def body(pilot, shown=shown):
            head = screen_text(pilot.app).splitlines()[2]
            assert ("ASSIGNEE" in head) is shown

        run(app, size, body)


# -- 7. q and Esc ---------------------------------------------------------------------------------


def test_q_closes_the_view_on_top_and_asks_once_before_quitting(db):
    app = app_for(db)

    async def body(pilot):
        await open_case(pilot, "Z-101")
        await act(pilot, "q")
        assert type(app.screen).__name__ == "Screen"  # back in the queue, still running
        text = flat(await act(pilot, "q"))
        assert "Quit support-console?" in text
        assert "y: quit" in text
        await act(pilot, "q")  # q again does not quit: it closes the question
        assert app.is_running
        assert type(app.screen).__name__ == "Screen"
        await act(pilot, "q", "n")
        assert app.is_running
        assert type(app.screen).__name__ == "Screen"
        await act(pilot, "q", "escape")
        assert app.is_running
        assert type(app.screen).__name__ == "Screen"
        await open_case(pilot, "Z-101")
        # In a prompt's text box q is a letter; in a menu without one, q closes it.
        await act(pilot, "u", *"quick fix queued", "enter")
        assert [d.get("note") for k, _, d in events_of(db, "Z-101") if k == "status_update"] == [
            "quick fix queued"
        ]
        await act(pilot, "l")
        assert type(app.screen).__name__ == "LevelPrompt"
        await act(pilot, "q")
        assert type(app.screen).__name__ == "CaseView"
        assert "level_changed" not in kinds(db, "Z-101")
        await act(pilot, "escape")
        assert type(app.screen).__name__ == "Screen"
        await pilot.press("q", "y")
        await pilot.pause()
        assert app.return_code == 0
        assert not app.is_running

    run(app, (80, 24), body)


def test_ctrl_p_replaces_the_case_view_instead_of_stacking(db):
    app = app_for(db)

    async def jump(pilot, what: str) -> None:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*what)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)

    async def body(pilot):
        await jump(pilot, "Z-101")
        await jump(pilot, "Y-200")
        await jump(pilot, "Z-100")
        assert app.screen.case_id == "Z-100"
        assert len(app.screen_stack) == 2  # the queue and one case view
        await act(pilot, "q")
        assert type(app.screen).__name__ == "Screen"
        assert app.is_running

    run(app, (80, 24), body)


# -- 8. R and C ask, with a note; f asks the ETA (tests/test_app_case.py records them) ----------


def test_resolve_and_close_ask_first_and_escape_writes_nothing(db):
    app = app_for(db)

    async def body(pilot):
        await open_case(pilot, "Z-101")
        for key, verb in (("R", "Resolve"), ("C", "Close")):
            text = flat(await act(pilot, key))
            assert f"{verb} case Z-101?" in text
            assert f"enter: {verb.lower()}" in text
            await act(pilot, *"oops", "escape")
            assert kinds(db, "Z-101") == []
        await pilot.press("f")
        await settle(pilot)
        text = flat(await act(pilot, *["backspace"] * 16, *"2026-11-20 10:00", "enter"))
        assert "the ETA lies in the past" in text
        assert kinds(db, "Z-101") == []
        await act(pilot, "escape")

    run(app, (80, 24), body)


# -- 10. words, not internal names -----------------------------------------------------------------


def test_refusals_and_the_history_in_words(db):
    app = app_for(db)

    async def body(pilot):
        await open_case(pilot, "Z-101")
        await act(pilot, "a")
        text = flat(await act(pilot, "a"))
        assert "refused, nothing written: case Z-101 is already acknowledged" in text
        assert "kind:" not in text
        assert "Z-101: kind" not in text
        await pilot.press("t")
        await pilot.pause()
        await act(pilot, *"1.5", "enter")
        text = flat(screen_text(app))
        assert "time logged eng-me 1.5 h" in text
        assert "exempt=" not in text
        assert "hours=" not in text
        # L4: the prompt asks for a link, and only a web address will do.
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        text = flat(await act(pilot, "enter"))
        assert "a link is needed (http:// or https://)" in text
        assert "a note is needed" not in text
        text = flat(await act(pilot, *"not a url", "enter"))
        assert "a link holds no spaces or control characters" in text
        await act(pilot, *["backspace"] * 9, *"docs.example/fix", "enter")
        assert "a link must start with http:// or https://" in flat(screen_text(app))
        assert "level_changed" not in kinds(db, "Z-101")
        await act(pilot, "ctrl+g")

    run(app, (100, 40), body)


# -- 11. narrow screens, the key help, the history, the start-up alert ---------------------------


def test_the_clock_table_reads_at_60_by_20(db):
    app = app_for(db)

    async def body(pilot):
        await open_case(pilot, "CS-1401")
        text = screen_text(app)
        lines = text.splitlines()
        assert any(
            ln.split()[:5] == ["CLOCK", "STATE", "LEFT", "TARGET", "DUE"]
            for ln in lines
            if ln.strip()
        )
        for name in ("response", "workaround", "resolution", "update"):
            line = next(ln for ln in lines if f"{name} " in ln and ("running" in ln or "■" in ln))
            assert "…" not in line, line  # nothing cut
        assert any(
            ln.split() == ["!workaround", "running", "-1289:30", "48:00", "02", "Apr", "15:30"]
            for ln in lines
        )
        assert any(ln.split()[:5] == ["response", "■", "stopped", "3:30", "4:00"] for ln in lines)

    run(app, (60, 20), body)


def test_the_key_help_has_the_legend_and_escape_closes_it(db):
    app = app_for(db)

    async def body(pilot):
        text = flat(await act(pilot, "question_mark"))
        assert "Keys: Queue" in text
        assert "m assigned to me" in text
        for mark in ("■", "…", "⏸", "⊘", "†", "✕", "→Tue 09:00", "⚑ 3 escalated"):
            assert mark in text, mark
        await act(pilot, "escape")
        assert type(app.screen).__name__ == "Screen"
        await open_case(pilot, "Z-101")
        text = flat(await act(pilot, "question_mark"))
        assert "Keys: Case view" in text
        assert "T take the case" in text
        await act(pilot, "q")  # q closes the help, not the case
        assert app.screen.case_id == "Z-101"

    run(app, (100, 40), body)


def test_the_history_scrolls_to_a_new_entry(db):
    app = app_for(db)

    async def body(pilot):
        await open_case(pilot, "CS-1401")
        for note in ("first look", "logs pulled", "fix drafted", "fix in review", "deploying"):
            await pilot.press("u")
            await pilot.pause()
            await act(pilot, *note, "enter")
        body_ = app.screen.query_one("#case-body")
        assert body_.max_scroll_y > 0  # the history is taller than the screen ...
        assert body_.scroll_y == body_.max_scroll_y  # ... and shows its end
        assert "deploying" in screen_text(app)

    run(app, (80, 24), body)


# -- 12. the demo shows every pane something ------------------------------------------------------


def test_the_demo_has_a_matrix_past_end_of_support_purges_due_and_assignments(tmp_path, capsys):
    from cli_support import run as cli

    path = tmp_path / "demo.db"
    at = "2026-11-24T15:00:00Z"
    code, _, err = cli(capsys, "--db", str(path), "demo", "--cases", "300", "--no-tui", "--at", at)
    assert code == 0, err
    from console.identity import login_name

    me = login_name()  # the demo hands a few cases to whoever runs it
    _, out, _ = cli(capsys, "--db", str(path), "products", "--json", "--at", at, now=at)
    versions = json.loads(out)["versions"]
    past = [v for v in versions if v["past_end_of_support"] and v["open_cases"]]
    assert past, versions  # † in the queue for their cases
    _, out, _ = cli(capsys, "--db", str(path), "purge", "--dry-run", "--json", "--at", at, now=at)
    due = json.loads(out)
    assert {u["subscriber"] for u in due["users"]} == {"umber-freight"}  # terminated 100 days ago
    _, out, _ = cli(capsys, "--db", str(path), "queue", "--json", "--at", at, now=at)
    assignees = {c["assignee"] for c in json.loads(out)["cases"]}
    assert None in assignees
    assert me in assignees
    assert len(assignees) > 3
    _, out, _ = cli(capsys, "--db", str(path), "queue", "--mine", "--at", at, now=at)
    assert len(out.splitlines()) > 1


def test_run_demo_says_something_before_its_first_install():
    script = (Path(__file__).resolve().parents[1] / "run-demo").read_text("utf-8")
    first_install = script.index("pip install")
    assert "echo" in script[:first_install]
    assert "first run" in script[:first_install]
