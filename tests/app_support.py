"""Shared set-up for the console's Pilot and snapshot tests.

A SQLite database in a temp dir holding the worked examples (e01..e06) plus cases of our
own, a frozen clock (Tuesday 2026-11-24 08:30 New York) and a pinned operator zone.

Our own cases make time visible:
- Z-100 (8x5, New York): its update clock reached its target at Monday 17:00 exactly, so
  it is not breached until counting resumes at Tuesday 09:00 (risk group 2, due Monday).
  It is assigned to the operator (``USER`` took it).
- Y-200 (24x7): its response clock is due at 08:50; when the clock passes 08:50 it
  breaches and moves above Z-100 without a key.
- Y-201: a title full of markup and terminal escapes.
- Z-101: a fresh incident the action tests work on.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from examples_data import EXAMPLES_DIR

from console import clock

EXAMPLES = EXAMPLES_DIR
NOW = "2026-11-24T13:30:00Z"  # Tue 08:30 America/New_York
TZ = "America/New_York"
USER = "eng-me"
EVIL_TITLE = "Portal [red]x[/] \x1b[31mred\x1b[0m bell\x07 osc\x1b]52;c;aGk=\x07 end"


def _sub(sid: str, name: str, coverage: str = "business") -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "plan": "enterprise",
        "coverage": coverage,
        "timezone": TZ,
        "term_start": "2026-01-01",
        "term_end": "2026-12-31",
        "terminated_at": None,
        "targets": {},
    }


def _dep(did: str, sid: str) -> dict[str, Any]:
    return {
        "id": did,
        "subscriber": sid,
        "environment": "production",
        "managed": False,
        "product": "gateway",
        "version": "4.2.0",
    }


def _case(
    cid: str,
    sid: str,
    dep: str,
    prio: str | None,
    title: str,
    reported: str,
    events: list[dict[str, Any]],
    ctype: str = "incident",
) -> dict[str, Any]:
    return {
        "id": cid,
        "subscriber": sid,
        "deployment": dep,
        "type": ctype,
        "priority": prio,
        "title": title,
        "reported_at": reported,
        "aware_at": None,
        "level": "L1",
        "links": [],
        "events": events,
    }


def own_cases() -> dict[str, Any]:
    return {
        "subscribers": [
            _sub("zephyr-labs", "Zephyr Labs"),
            _sub("yarrow-ops", "Yarrow Ops", coverage="24x7"),
        ],
        "deployments": [_dep("zephyr-prod", "zephyr-labs"), _dep("yarrow-prod", "yarrow-ops")],
        "users": [],
        "cases": [
            _case(
                "Z-100",
                "zephyr-labs",
                "zephyr-prod",
                "P2",
                "Token endpoint slow after patch",
                "2026-11-23T15:00:00Z",
                [
                    {"at": "2026-11-23T18:00:00Z", "kind": "acknowledged", "by": USER},
                    {"at": "2026-11-23T18:00:00Z", "kind": "assigned", "by": USER, "to": USER},
                ],
            ),
            _case(
                "Y-200",
                "yarrow-ops",
                "yarrow-prod",
                "P1",
                "Checkout API down in eu-west",
                "2026-11-24T12:50:00Z",
                [],
            ),
            _case(
                "Y-201", "yarrow-ops", "yarrow-prod", "P3", EVIL_TITLE, "2026-11-24T13:00:00Z", []
            ),
            _case(
                "Z-101",
                "zephyr-labs",
                "zephyr-prod",
                "P3",
                "Sandbox rejects new API keys",
                "2026-11-24T13:10:00Z",
                [],
            ),
        ],
    }


def documents() -> list[dict[str, Any]]:
    docs = []
    for f in sorted(EXAMPLES.glob("e0*.json")):
        doc = json.loads(f.read_text("utf-8"))
        docs.append({k: v for k, v in doc.items() if k not in ("at", "expected")})
    docs.append(own_cases())
    return docs


def make_db(path: Path) -> str:
    """Create the test database at ``path``; returns its URL. The clock must be frozen."""
    from console.importer import existing_ids, validate, write
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    url = f"sqlite:///{path}"
    policy = load_policy(None)
    store = open_store(url)
    now = clock.now()
    for doc in documents():
        with store.connection() as conn:
            existing = existing_ids(conn, policy)
        prep = validate(doc, policy, existing, now)
        with store.write() as session:
            write(session, prep, now)
    store.dispose()
    return url


def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def events_of(url: str, case_id: str) -> list[tuple[str, str | None, dict]]:
    import sqlite3

    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        rows = con.execute(
            "SELECT kind, by, data FROM case_event WHERE case_id = ? ORDER BY id", (case_id,)
        ).fetchall()
    finally:
        con.close()
    return [(k, b, json.loads(d) if isinstance(d, str) else d) for k, b, d in rows]


async def settle(pilot: Any) -> None:
    """Let the first read, the workers and the screen catch up."""
    import asyncio

    while not pilot.app.load_done.is_set():
        await asyncio.sleep(0.01)
    from textual.worker import WorkerCancelled

    for _ in range(3):
        # A form's write worker dismisses its screen from the thread; the screen's
        # removal cancels the (already finished) worker. The write has committed.
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_for(pilot: Any, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Whether ``predicate`` holds within ``timeout`` seconds of the app running on."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await pilot.pause(0.1)
    return predicate()
