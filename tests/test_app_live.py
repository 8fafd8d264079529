"""A running console follows other processes' writes, refuses stale actions without losing
the operator's input, and survives its database going away (issue: live panes)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from app_support import NOW, TZ, USER, events_of, screen_text, settle, wait_for

from console import clock
from console.rules.policy import default_policy
from screens.app import ConsoleApp

ROOT = Path(__file__).resolve().parents[1]

WRITE = """
import sys
from console.actions import append_event
from console.rules.policy import default_policy
from console.store.engine import open_store
url, case, kind, at = sys.argv[1:5]
data = {"note": sys.argv[5]} if len(sys.argv) > 5 else {}
with open_store(url) as store:
    append_event(store, case, kind, at=int(at), by="other-host", data=data,
                 recorded_at=int(at))
"""


def write_elsewhere(url: str, case: str, kind: str, at: int, note: str | None = None) -> None:
    args = [sys.executable, "-c", WRITE, url, case, kind, str(at)] + ([note] if note else [])
    subprocess.run(args, check=True, cwd=ROOT, timeout=60)


def test_another_process_write_shows_without_a_key(db: str):
    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ), live=True)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            assert _response_state(app, "Z-101") == "running"
            cursor_case = app.queue.table.current.id
            started = time.monotonic()
            await asyncio.to_thread(write_elsewhere, db, "Z-101", "acknowledged", clock.now())
            assert await wait_for(
                pilot, lambda: ("acknowledged", "other-host", {}) in events_of(db, "Z-101")
            )
            # The queue re-reads the case: its response clock is now stopped.
            assert await wait_for(pilot, lambda: _response_state(app, "Z-101") == "stopped")
            latency = time.monotonic() - started
            assert latency < 10
            assert app.queue.table.current.id == cursor_case  # the cursor stayed on its case

    asyncio.run(go())


def _response_state(app, case_id: str) -> str | None:
    it = next((it for it in app.queue.items if it.id == case_id), None)
    return None if it is None else it.snapshot().clocks["response"].state


def test_stale_action_is_refused_and_the_note_kept(db: str):
    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ), live=False)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            app.open_case("Z-100")
            await settle(pilot)
            assert type(app.screen).__name__ == "CaseView"
            # Someone else writes to the case after this view was loaded.
            await asyncio.to_thread(
                write_elsewhere, db, "Z-100", "status_update", clock.now(), "theirs"
            )
            await pilot.press("u")
            await pilot.pause()
            await pilot.press(*"mine, typed before I knew")
            await pilot.press("enter")
            await settle(pilot)
            text = screen_text(app)
            assert "changed by other-host" in text
            assert "Press A to apply" in text
            notes = [d.get("note") for k, _, d in events_of(db, "Z-100") if k == "status_update"]
            assert notes == ["theirs"]  # nothing overwritten, nothing written for us yet
            await pilot.press("A")
            await settle(pilot)
            notes = [d.get("note") for k, _, d in events_of(db, "Z-100") if k == "status_update"]
            assert notes == ["theirs", "mine, typed before I knew"]

    asyncio.run(go())


@pytest.mark.pg
def test_postgres_stopped_under_a_running_console_and_started_again(pg_server, pg_url: str):
    from app_support import documents

    from console.importer import existing_ids, validate, write
    from console.store.engine import open_store

    clock.freeze(NOW)
    try:
        policy = default_policy()
        with open_store(pg_url) as store:
            for doc in documents():
                with store.connection() as conn:
                    prep = validate(doc, policy, existing_ids(conn, policy), clock.now())
                with store.write() as s:
                    write(s, prep, clock.now())

        async def go():
            app = ConsoleApp(pg_url, user=USER, tz=ZoneInfo(TZ), live=True)
            async with app.run_test(size=(160, 48)) as pilot:
                await settle(pilot)
                n = len(app.queue.items)
                assert n > 0
                await asyncio.to_thread(pg_server.stop)
                assert await wait_for(pilot, lambda: "OFFLINE" in screen_text(app), timeout=20)
                assert len(app.queue.items) == n  # still showing what it had
                await asyncio.to_thread(pg_server.start)
                assert await wait_for(pilot, lambda: "OFFLINE" not in screen_text(app), timeout=30)
                # And it works again: another write is followed.
                await asyncio.to_thread(
                    write_elsewhere, pg_url, "Z-101", "acknowledged", clock.now()
                )
                assert await wait_for(
                    pilot, lambda: _response_state(app, "Z-101") == "stopped", timeout=15
                )

        asyncio.run(go())
    finally:
        pg_server.ensure_running()
        clock.freeze(None)


PUBLISH = """
import sys, time
from importlib import resources
from console.policy_store import publish
from console.store.engine import open_store
text = resources.files("console.rules").joinpath("policy.toml").read_text("utf-8")
text = text.replace('"incident.P1.response" = "1h"', '"incident.P1.response" = "2h"')
now = int(time.time())
with open_store(sys.argv[1]) as store:
    publish(store, text, source="v2.toml", effective_at=now, reason="order form",
            actor=None, recorded_at=now)
"""


def test_a_published_policy_version_reaches_a_running_console(db: str):
    """Another host publishes version 2: the console re-reads the desk's policy book
    without a restart (issue 11: every console follows a new version live)."""

    async def go():
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ), live=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert [v.number for v in app.policy.versions] == [1]
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", PUBLISH, db],
                check=True,
                cwd=ROOT,
                timeout=60,
            )
            assert await wait_for(pilot, lambda: [v.number for v in app.policy.versions] == [1, 2])
            # The cases already open were reported under version 1 and stay judged by it.
            it = next(it for it in app.queue.items if it.id == "Z-101")
            assert it.snapshot().clocks["response"].target in (3600, 4 * 3600, 6 * 3600, 8 * 3600)

    asyncio.run(go())
