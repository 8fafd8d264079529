"""Notifications end to end, as separate processes over one database (SQLite and
PostgreSQL): exactly once across racing deliverers and sweeps, retries after failures,
and nothing lost when a deliverer is killed mid-send.

The receiver is a webhook on 127.0.0.1 behind an apprise ``json://`` URL. Every wait is
bounded, and every process is stopped when a test ends, however it ends.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import time
from pathlib import Path

import pytest
from notify_support import (
    SWEEP_AT,
    Hook,
    add_receiver,
    console_cmd,
    env_for,
    frozen,
    incidents_doc,
    load,
    processes,
    start,
)
from sqlalchemy import func, select

from console.notify.receivers import O
from console.store.engine import open_store
from models import Escalation

CASE = re.compile(r"\bINC-\d\d\b")


def _case_of(text: str) -> str:
    m = CASE.search(text)
    assert m, text
    return m.group(0)


def _logs(tmp_path: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')}" for p in sorted(tmp_path.glob("*.log"))
    )


@pytest.mark.slow
def test_three_followers_and_two_sweeps_deliver_each_escalation_exactly_once(
    db_url: str, tmp_path: Path
):
    load(db_url, incidents_doc(20))
    with Hook(fail_first=2) as hook:
        add_receiver(db_url, hook.url())
        env = env_for(db_url, SWEEP_AT)
        with processes() as procs:
            for i in range(3):
                start(procs, console_cmd("notify", "--follow"), env, tmp_path / f"follow{i}.log")
            time.sleep(1.0)  # the followers are starting (imports) while the sweeps start
            sweeps = [
                start(procs, console_cmd("sweep"), env, tmp_path / f"sweep{i}.log")
                for i in range(2)
            ]
            for s in sweeps:
                assert s.wait(timeout=120) == 0, _logs(tmp_path)
            got = hook.wait(lambda h: len({_case_of(r.text) for r in h.delivered()}) >= 20, 90)
            assert got, _logs(tmp_path)
            time.sleep(2.0)  # any duplicate would arrive now
    delivered = hook.delivered()
    per_case = collections.Counter(_case_of(r.text) for r in delivered)
    assert per_case == {f"INC-{i:02d}": 1 for i in range(20)}, _logs(tmp_path)
    # The first two requests were refused by the server and sent again after a back-off.
    assert [r.status for r in hook.received].count(500) == 2
    assert len(hook.received) == 22
    for r in delivered:  # in words, with the case, subscriber, priority and local time
        title, body = r.doc["title"], r.doc["message"]
        case = _case_of(title)
        assert (
            title == f"{case} P1 alder-finance: escalated to the war team, workaround target missed"
        )
        assert f'{case} (P1 incident of alder-finance, "Payments outage' in body
        assert "missed its workaround target of 24 h at Wed 04 Feb 2026 17:00 EST" in body
        assert 'board column "escalated"' in body
    with open_store(db_url) as store, store.connection() as conn:
        rows = conn.execute(select(O.c.status, O.c.attempts)).all()
        assert (
            conn.execute(select(func.count()).select_from(Escalation.__table__)).scalar_one() == 20
        )
    # Every row was sent; the two refusals cost two more attempts, on one row or on two.
    assert [status for status, _ in rows] == ["sent"] * 20
    assert sum(attempts for _, attempts in rows) == 22


@pytest.mark.slow
def test_a_deliverer_killed_mid_send_loses_nothing_and_repeats_only_the_message_in_flight(
    db_url: str, tmp_path: Path
):
    from console.rules.timeutil import parse_instant
    from console.sweep import sweep

    load(db_url, incidents_doc(8))
    with Hook(hold=4) as hook:
        add_receiver(db_url, hook.url())
        with frozen(SWEEP_AT), open_store(db_url) as store:
            made = sweep(store, parse_instant(SWEEP_AT), recorded_at=parse_instant(SWEEP_AT))
        assert len(made) == 8  # eight messages waiting in the outbox
        env = env_for(db_url, SWEEP_AT, SUPPORT_CONSOLE_NOTIFY_LEASE="3")
        with processes() as procs:
            first = start(procs, console_cmd("notify", "--follow"), env, tmp_path / "first.log")
            assert hook.held.wait(60), _logs(tmp_path)  # the 4th message is on the wire
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            in_flight = _case_of(hook.received[3].text)
            hook.release()
            assert [_case_of(r.text) for r in hook.received[:3]] == ["INC-00", "INC-01", "INC-02"]
            start(procs, console_cmd("notify", "--follow"), env, tmp_path / "second.log")
            assert hook.wait(
                lambda h: len({_case_of(r.text) for r in h.received}) == 8 and len(h.received) >= 9,
                60,
            ), _logs(tmp_path)
            time.sleep(1.5)
    per_case = collections.Counter(_case_of(r.text) for r in hook.received)
    assert per_case == {f"INC-{i:02d}": (2 if f"INC-{i:02d}" == in_flight else 1) for i in range(8)}
    with open_store(db_url) as store, store.connection() as conn:
        assert [r[0] for r in conn.execute(select(O.c.status))] == ["sent"] * 8
