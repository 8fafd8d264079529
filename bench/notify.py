"""Notification latency: an escalation committed -> its HTTP request received.

    python bench/notify.py [--events 40] [--followers 1] [--cases 2000] [--no-pg]

A demo database (swept once, as cron would) gets a receiver: an apprise ``json://`` URL
of a webhook this script serves on 127.0.0.1. ``--followers`` ``support-console notify
--follow`` processes run against it. The script then escalates one open incident at a time
(a lead's escalation, one transaction with its outbox rows) and measures the time from
that transaction's commit to the webhook receiving the message. SQLite (the change feed
wakes the deliverers), then a throwaway PostgreSQL (LISTEN/NOTIFY). Prints figures;
asserts nothing. Only the loopback address is used.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

LEAD = "bench-lead"


def make_db(url: str, cases: int) -> None:
    for argv in (
        ["demo", "--cases", str(cases), "--no-tui"],
        ["sweep", "--by", "cron", "--no-notify"],
        ["operators", "set", LEAD, "lead"],
    ):
        subprocess.run(
            [sys.executable, "-m", "console", "--db", url, *argv],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def open_incidents(url: str, n: int) -> list[str]:
    from sqlalchemy import select

    from console.records import case_state_table
    from console.store.engine import open_store
    from models import Escalation

    with open_store(url) as store, store.connection() as conn:
        q = (
            select(case_state_table.c.case_id)
            .where(
                case_state_table.c.type == "incident",
                case_state_table.c.status == "open",
                case_state_table.c.listed.is_(True),
            )
            .where(~case_state_table.c.case_id.in_(select(Escalation.__table__.c.case_id)))
            .order_by(case_state_table.c.case_id)
            .limit(n)
        )
        return [r[0] for r in conn.execute(q)]


def measure(url: str, events: int, followers: int) -> None:
    from notify_support import Hook

    from console.actions import Refused, append_event
    from console.notify.receivers import add_receiver
    from console.rules.policy import default_policy
    from console.store.engine import open_store

    default_policy()
    with Hook() as hook, tempfile.TemporaryDirectory() as logs:
        with open_store(url) as store:
            add_receiver(
                store,
                hook.url(),
                kinds=("escalation",),
                timezone="America/New_York",
                actor=LEAD,
                now=int(time.time()),
            )
        env = dict(os.environ, SUPPORT_CONSOLE_DB=url, PYTHONPATH=str(ROOT))
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "console", "notify", "--follow"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=open(Path(logs) / f"f{i}.log", "wb"),  # noqa: SIM115
            )
            for i in range(followers)
        ]
        try:
            time.sleep(3.0)  # the followers are up and listening
            lat = []
            with open_store(url) as store:
                for cid in open_incidents(url, events):
                    seen = len(hook.received)
                    now = int(time.time())
                    try:
                        append_event(
                            store,
                            cid,
                            "escalated",
                            at=now,
                            by=LEAD,
                            data={"missed": "manual"},
                            recorded_at=now,
                            actor=LEAD,
                        )
                    except Refused:
                        continue
                    committed = time.time()
                    if not hook.wait(lambda h, n=seen: len(h.received) > n, 30):
                        print(f"  {cid}: not received within 30 s")
                        continue
                    lat.append(hook.received[seen].at - committed)
                    time.sleep(0.2)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=20)
    if len(lat) >= 2:
        q = statistics.quantiles(lat, n=20)
        print(
            f"  escalation committed -> HTTP request received, {len(lat)} events, {followers} "
            f"follower(s): p50 {statistics.median(lat) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms, "
            f"max {max(lat) * 1000:.0f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=40)
    ap.add_argument("--followers", type=int, default=1)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/notify.db"
        make_db(url, args.cases)
        print(f"SQLite ({args.cases} cases):")
        measure(url, args.events, args.followers)
    if args.no_pg:
        return
    from conftest import PgServer  # the tests' throwaway server

    server = PgServer(Path("/usr/lib/postgresql/15/bin"))
    try:
        server.start()
        url = server.create_database()
        make_db(url, args.cases)
        print(f"PostgreSQL ({args.cases} cases):")
        measure(url, args.events, args.followers)
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
