"""Clock-engine figures: evaluations per second, and ``queue --json`` on two cores.

    python bench/engine.py [--open 100000] [--runs 3]

On a demo database of about ``--open`` listed cases written an hour ago
(``bench/benchdata.py``):

- ``evaluate`` (all four clocks, full history) over every case, on one core;
- ``support-console queue --json`` end to end in a subprocess (process start included):
  wall time, CPU time of the process and its workers (``RUSAGE_CHILDREN``), and their
  ratio (both cores busy: CPU >= 1.6 x wall), and how the two processes' shares of the
  risk order (cut by ``next_due``) split the listed cases.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import EXE, database, iso  # noqa: E402


def timed(args: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s of the command and its children, bytes of stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        args, check=False, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    db = database(args.open, 0, 3600)
    print(f"machine load: {os.getloadavg()[0]:.2f} (2 cores, shared)")

    from sqlalchemy import select

    from console.policy_store import load_book
    from console.queue import load_queue
    from console.queue_json import NO_DUE_AFTER, _shares, due_cuts
    from console.records import case_facts, case_table, load_events, load_terms
    from console.rules.clocks import evaluate
    from console.store.engine import open_store

    store = open_store(str(db), create=False)
    at = int(time.time())
    with store.connection() as conn:
        book = load_book(conn)
        terms = load_terms(conn, book)
        rows = conn.execute(select(case_table)).all()
        events = load_events(conn, [r.id for r in rows])
        cuts = due_cuts(conn, at, 2)
        shares = (
            [len(load_queue(conn, book, at, due=share)) for share in _shares(cuts)] if cuts else []
        )
    facts = [
        (case_facts(r), events[r.id], terms.case(r.subscriber_id, r.reported_at)) for r in rows
    ]
    for f, ev, t in facts[:2000]:  # lay the calendars out
        evaluate(f, ev, t, at)
    best = None
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for f, ev, t in facts:
            evaluate(f, ev, t, at)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    assert best is not None
    print(
        f"evaluate, full history, all clocks, one core: {len(facts) / best:,.0f} cases/s "
        f"({len(facts):,} cases in {best:.2f} s, best of {args.runs})"
    )
    store.dispose()
    if shares and cuts:
        cut = "after every due" if cuts[0] >= NO_DUE_AFTER else f"at due {iso(cuts[0])}"
        print(
            f"queue --json shares of the risk order (cut {cut}): this process "
            f"{shares[0]:,} / the worker {shares[1]:,} listed cases"
        )
    else:
        print("queue --json: cut by reported_at (a case to evaluate from its events)")
    for label, extra in (
        ("queue --json, now", []),
        ("queue --json --at +7 days", ["--at", iso(at + 7 * 86400)]),
    ):
        runs = [timed([*EXE, "--db", str(db), "queue", "--json", *extra]) for _ in range(args.runs)]
        wall, cpu, size = min(runs)
        print(
            f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU = {cpu / wall:.2f} x wall "
            f"(best of {args.runs}: "
            + ", ".join(f"{w:.2f}/{c:.2f}" for w, c, _ in runs)
            + f"; {size / 1e6:.0f} MB of JSON; goal <= 1.5 s wall, CPU >= 1.6 x wall)"
        )


if __name__ == "__main__":
    main()
