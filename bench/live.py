"""Live-pane figures: write-to-screen latency and the idle console's cost.

    python bench/live.py [--writes 40] [--idle 60] [--cases 2000] [--no-pg]

A headless console (App.run_test) follows a database while another process records one
event at a time; for each, the time from the writer's commit to the console's queue
showing it. Then the console sits idle with no writes for --idle seconds: its CPU use
and the number of re-queries. SQLite, then a throwaway PostgreSQL (as the tests start
it). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WRITER = """
import sys, time
from console.actions import append_event
from console.rules.policy import default_policy
from console.store.engine import open_store
url, ids = sys.argv[1], sys.argv[2].split(",")
policy = default_policy()
with open_store(url) as store:
    for cid in ids:
        line = sys.stdin.readline()          # wait for the go
        if not line:
            break
        append_event(store, cid, "acknowledged", at=int(time.time()), by="bench",
                     recorded_at=int(time.time()))
        print(time.time(), flush=True)       # committed
"""


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def measure(url: str, writes: int, idle: float) -> None:
    from zoneinfo import ZoneInfo

    from screens.app import ConsoleApp

    app = ConsoleApp(url, user="bench", tz=ZoneInfo("America/New_York"), live=True)
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.load_done.is_set():
            await asyncio.sleep(0.05)
        await pilot.pause(1.0)
        pending = [
            it.id
            for it in app.queue.items
            if it.snapshot().clocks.get("response") is not None
            and it.snapshot().clocks["response"].state == "running"
        ][:writes]
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, ",".join(pending)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        lat = []
        for cid in pending:
            proc.stdin.write("go\n")
            proc.stdin.flush()
            committed = float(await asyncio.to_thread(proc.stdout.readline))
            while True:
                it = next((i for i in app.queue.items if i.id == cid), None)
                if it is not None and it.snapshot().clocks["response"].state == "stopped":
                    break
                await asyncio.sleep(0.005)
            lat.append(time.time() - committed)
            await pilot.pause(0.2)
        proc.stdin.close()
        proc.wait()
        if lat:
            q = statistics.quantiles(lat, n=20)
            print(
                f"  write-to-screen latency over {len(lat)} writes: p50 {statistics.median(lat) * 1000:.0f} ms, "
                f"p95 {q[18] * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms"
            )
        await pilot.pause(2.0)
        before_cpu, before_q, t0 = cpu_seconds(), app.requeries, time.monotonic()
        await asyncio.sleep(idle)
        used = cpu_seconds() - before_cpu
        span = time.monotonic() - t0
        print(
            f"  idle {span:.0f} s with no writes: {100 * used / span:.2f} % of a core, "
            f"{app.requeries - before_q} re-queries"
        )


def make_db(url: str, cases: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "console", "--db", url, "demo", "--cases", str(cases), "--no-tui"],
        check=True,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    # As on a desk where cron sweeps: the escalations already due are recorded before the
    # console starts, so its first beat does not record hundreds of them during the bench.
    subprocess.run(
        [sys.executable, "-m", "console", "--db", url, "sweep", "--by", "cron"],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writes", type=int, default=40)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("SUPPORT_CONSOLE_TZ", "America/New_York")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/live.db"
        make_db(url, args.cases)
        print(f"SQLite ({args.cases} cases):")
        asyncio.run(measure(url, args.writes, args.idle))
    if args.no_pg:
        return
    from conftest import PgServer  # the tests' throwaway server

    server = PgServer(Path("/usr/lib/postgresql/15/bin"))
    try:
        server.start()
        url = server.create_database()
        make_db(url, args.cases)
        print(f"PostgreSQL ({args.cases} cases):")
        asyncio.run(measure(url, args.writes, args.idle))
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
