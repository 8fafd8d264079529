"""Clock-engine figures: evaluations per second and `queue --json` wall time.

    python bench/engine.py [--cases 100000] [--db PATH]

Makes (or reuses) a demo database of N cases, loads every case with its events into
memory, then times `evaluate` (all four clocks, full history, on one core) over all of
them, and the `queue --json` command end to end in a subprocess. Prints figures; it
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AT = "2026-11-24T15:00:00Z"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args()
    db = args.db or Path(f"/tmp/support-console-bench-{args.cases}.db")
    exe = [sys.executable, "-m", "console"]
    if not db.exists():
        t0 = time.perf_counter()
        subprocess.run([*exe, "--db", str(db), "demo", "--cases", str(args.cases), "--no-tui",
                        "--at", AT], check=True, cwd=ROOT)
        print(f"demo database: {args.cases} cases made in {time.perf_counter() - t0:.1f} s ({db})")

    from sqlalchemy import select

    from console.records import C, case_facts, load_events, load_terms
    from console.rules.clocks import evaluate
    from console.rules.policy import default_policy
    from console.rules.timeutil import parse_instant
    from console.store.engine import open_store

    policy = default_policy()
    store = open_store(str(db))
    t0 = time.perf_counter()
    with store.connection() as conn:
        terms = load_terms(conn, policy)
        rows = conn.execute(select(C)).all()
        events = load_events(conn, [r.id for r in rows])
    facts = [(case_facts(r), events[r.id], terms[r.subscriber_id]) for r in rows]
    print(f"loaded {len(facts)} cases and {sum(len(e) for e in events.values())} events "
          f"in {time.perf_counter() - t0:.2f} s")
    at = parse_instant(AT)
    for f, ev, t in facts[:2000]:  # warm the calendars' year layouts
        evaluate(f, ev, t, at)
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        n_clocks = 0
        for f, ev, t in facts:
            n_clocks += len(evaluate(f, ev, t, at).clocks)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    print(f"evaluate: {len(facts) / best:,.0f} cases/s ({n_clocks:,} clocks, full history, "
          f"one core; best of 3: {best:.2f} s)")
    store.dispose()

    env = dict(os.environ)
    for label, extra in (("queue --json", []), ("queue --json --at +7 days", ["--at", "2026-12-01T15:00:00Z"])):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = subprocess.run([*exe, "--db", str(db), "queue", "--json", *(extra or ["--at", AT])],
                                 check=True, cwd=ROOT, env=env, stdout=subprocess.PIPE)
            times.append(time.perf_counter() - t0)
        size = len(out.stdout) / 1e6
        print(f"{label}: {min(times):.2f} s wall (best of 3, process start included; {size:.0f} MB of JSON)")


if __name__ == "__main__":
    main()
