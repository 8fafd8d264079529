"""Pilot tests of the notifications pane (key 6) and the header's failed count: messages
given up after their last try are shown on every pane and listed in the pane, receivers'
URLs masked; a lead queues them again with ``R`` and ``y``, an engineer is refused and
nothing is written."""

from __future__ import annotations

import asyncio
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from app_support import EVIL_TITLE, TZ, USER, make_db, screen_text, settle
from cli_support import make_lead
from sqlalchemy import select

from console import clock
from console.notify.outbox import Message, insert_messages
from console.notify.receivers import O, add_receiver
from console.store.engine import open_store
from screens.app import ConsoleApp

LEAD = "lead-lena"
SECRET = "json://pager:s3cret@127.0.0.1:9/oncall"


def make_notify_db(path: Path) -> str:
    """The shared test database, a lead, a receiver, two failed messages and one waiting."""
    url = make_db(path)
    now = clock.now()
    with open_store(url) as store:
        make_lead(store, LEAD, now)
        rid = add_receiver(
            store, SECRET, kinds=("escalation", "breach"), timezone=TZ, actor=LEAD, now=now
        ).id
        with store.write() as s:
            insert_messages(
                s,
                [
                    Message(
                        rid,
                        "breach",
                        "Y-200",
                        "response",
                        0,
                        now,
                        "Y-200 P1 yarrow-ops: response target breached",
                        "b",
                    ),
                    Message(
                        rid,
                        "breach",
                        "Y-201",
                        "response",
                        0,
                        now,
                        f"Y-201 P3 yarrow-ops: {EVIL_TITLE}",
                        "b",
                    ),
                    Message(
                        rid,
                        "breach",
                        "Z-100",
                        "update",
                        1,
                        now,
                        "Z-100 P2 zephyr-labs: status update target breached",
                        "b",
                    ),
                ],
                now=now - 600,
            )
            s.execute(
                O.update()
                .where(O.c.case_id.in_(["Y-200", "Y-201"]))
                .values(status="failed", attempts=6, last_error="HTTP 503: Servers are overloaded.")
            )
    return url


@pytest.fixture
def url(console_env, tmp_path: Path):
    return make_notify_db(tmp_path / "console.db")


def _statuses(url: str) -> list[str]:
    with open_store(url) as store, store.connection() as conn:
        return [r[0] for r in conn.execute(select(O.c.status).order_by(O.c.id))]


def test_failed_notifications_show_in_the_header_and_the_pane(url: str):
    asyncio.run(_failed_in_header_and_pane(url))
    assert _statuses(url) == ["failed", "failed", "pending"]


async def _failed_in_header_and_pane(url: str) -> None:
    app = ConsoleApp(url, user=USER, tz=ZoneInfo(TZ))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "✉ 2 failed" in screen_text(app).splitlines()[0]
        await pilot.press("6")
        await settle(pilot)
        text = screen_text(app)
        assert "Notifications │ 1 receiver(s) │ ✉ 2 failed │ 1 waiting │ 0 sent" in text
        assert "Y-200 P1 yarrow-ops: response target breached" in text
        assert "6 tries; last: HTTP 503: Servers are overloaded." in text
        assert "json://pager:****@127.0.0.1:9/oncall" in text
        assert "s3cret" not in text
        assert "escalation,breach for all subscribers, all priorities" in text
        assert "\x1b" not in text
        assert "^[[31mred" in text
        await pilot.press("R")
        await settle(pilot)
        assert (
            "not allowed: queueing failed notifications again needs the lead role (eng-me is an engineer); nothing written"
            in screen_text(app)
        )


def test_a_lead_queues_the_failed_messages_again(url: str):
    asyncio.run(_lead_queues_again(url))
    assert _statuses(url) == ["pending", "pending", "pending"]


async def _lead_queues_again(url: str) -> None:
    app = ConsoleApp(url, user=LEAD, tz=ZoneInfo(TZ))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert "Queue the 2 failed message(s) again" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        text = screen_text(app)
        assert "2 failed message(s) queued again" in text
        assert "✉" not in text.splitlines()[0]
        assert "✉ 0 failed │ 3 waiting" in text
