"""A desk with years of history: 20,000 open cases and 1,000,000 closed ones.

    python bench/history.py [--open 20000] [--closed 1000000] [--runs 3] [--no-export]
                            [--pg]

On a demo database written a day ago (``bench/benchdata.py``; three years of closed
history, ``demo --closed``):

- ``queue --json`` and ``check`` (best of ``--runs``, process start included; goal 1.0 s);
- ``sweep`` with nothing new to record (after a first sweep; goal 0.5 s);
- the SQLite query plans of the reads that must not touch history;
- ``export`` of the whole database to a file: wall time and peak memory (it streams);
  ``import`` of that file into a new database (``init`` first, as a user would): wall
  time (goal 2 min), the CPU of all its processes, the machine's load around it, and its
  peak memory: the largest process's and the sum over its processes (proportional set
  size, sampled: forked processes share their parent's pages);
- with ``--pg``: a throwaway PostgreSQL 15 (as the tests start one), a smaller desk of
  the same shape (2,000 open and 100,000 closed) made there, and PostgreSQL's plans
  (``EXPLAIN``) of the same reads, after ``ANALYZE``.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import DATA, EXE, copy, database  # noqa: E402

#: (name, SQL) of the reads whose plans matter: ``:at`` is now.
PLANS = (
    (
        "queue: listed cases",
        "SELECT s.case_id FROM case_state s WHERE s.listed = {t} AND s.reported_at <= :at",
    ),
    (
        "queue: closed after --at",
        "SELECT s.case_id FROM case_state s WHERE s.listed = {f} "
        "AND s.anchor_at > :at AND +s.reported_at <= :at",
    ),
    (
        "first screen: earliest dues",
        "SELECT s.case_id FROM case_state s WHERE s.listed = {t} "
        "AND s.next_due IS NOT NULL AND +s.reported_at <= :at ORDER BY s.listed, s.next_due "
        "LIMIT 400",
    ),
    (
        "sweep: incidents due",
        "SELECT s.case_id FROM case_state s WHERE s.listed = {t} AND "
        "s.type = 'incident' AND s.escalated = {f} AND s.escalate_at <= :at AND "
        "+s.anchor_at <= :at",
    ),
    (
        "sweep: next instant",
        "SELECT MIN(s.escalate_at) FROM case_state s WHERE s.listed = {t} "
        "AND s.type = 'incident' AND s.escalated = {f} AND s.escalate_at > :at",
    ),
    ("console: changed since", "SELECT case_id FROM case_state WHERE rev > :rev"),
    (
        "meters: this term's time",
        "SELECT t.subscriber_id, t.at FROM time_entry t WHERE t.at >= :since",
    ),
)


def run(args: list[str], **kw) -> tuple[float, float, int]:
    """(wall s, peak RSS MB of the command, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True, **kw
    )
    wall = time.perf_counter() - t0
    tail = proc.stderr.strip().splitlines()
    kb = int(tail[-1]) if tail and tail[-1].isdigit() else 0
    return wall, kb / 1024, proc.returncode


def tree_pss_mb(root: int) -> float:
    """The proportional set size of ``root`` and its descendants, MB (Linux)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total / 1024


def run_watched(args: list[str]) -> tuple[float, float, float, float, int]:
    """(wall s, CPU s of the command and its processes, peak RSS MB of its largest
    process, peak summed PSS MB of all of them, exit code)."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-f", "%U %S %M", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    peak = [0.0]

    def watch() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_pss_mb(proc.pid))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    watcher.join()
    tail = stderr.strip().splitlines()
    fields = tail[-1].split() if tail else []
    if len(fields) == 3 and fields[2].isdigit():
        return (
            wall,
            float(fields[0]) + float(fields[1]),
            int(fields[2]) / 1024,
            peak[0],
            proc.returncode,
        )
    return wall, 0.0, 0.0, peak[0], proc.returncode


def best(args: list[str], runs: int) -> tuple[float, list[float]]:
    walls = [run(args, stdout=subprocess.DEVNULL)[0] for _ in range(runs)]
    return min(walls), walls


def sqlite_plans(db: Path) -> None:
    import sqlite3

    con = sqlite3.connect(db)
    now = int(time.time())
    print("\nSQLite query plans (EXPLAIN QUERY PLAN):")
    for name, sql in PLANS:
        rev = con.execute("SELECT max(rev) FROM case_state").fetchone()[0] - 10
        q = sql.format(t=1, f=0).replace(":since", str(now - 400 * 86400)).replace(":at", str(now))
        q = q.replace(":rev", str(rev))
        plan = "; ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + q))
        print(f"  {name:<30} {plan}")
    con.close()


def pg_plans() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import PG_BIN, PgServer

    server = PgServer(PG_BIN)
    try:
        server.start()
        url = server.create_database()
        t0 = time.perf_counter()
        subprocess.run(
            [
                *EXE,
                "--db",
                url,
                "demo",
                "--cases",
                "2165",
                "--closed",
                "100000",
                "--no-tui",
                "--at",
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400)),
            ],
            check=True,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        print(
            f"\nPostgreSQL 15: 2,000 open + 100,000 closed made in "
            f"{time.perf_counter() - t0:.0f} s; plans (EXPLAIN, after ANALYZE):"
        )
        import psycopg

        with psycopg.connect(
            host=str(server.dir),
            port=server.port,
            user="postgres",
            dbname=url.split("/", 3)[3].split("?")[0],
            autocommit=True,
        ) as pg:
            pg.execute("ANALYZE")
            now = int(time.time())
            rev = pg.execute("SELECT max(rev) - 10 FROM case_state").fetchone()[0]
            for name, sql in PLANS:
                q = sql.format(t="true", f="false").replace(":since", str(now - 400 * 86400))
                q = q.replace(":at", str(now)).replace(":rev", str(rev))
                plan = [r[0] for r in pg.execute("EXPLAIN " + q)]
                scans = [re.sub(r"\s+\(cost.*", "", ln).strip(" ->") for ln in plan if "Scan" in ln]
                print(f"  {name:<30} {'; '.join(scans)}")
    finally:
        server.destroy()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--open", type=int, default=20_000)
    ap.add_argument("--closed", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--pg", action="store_true")
    args = ap.parse_args()
    db = database(args.open, args.closed, 86400)
    print(
        f"machine load: {os.getloadavg()[0]:.2f} (2 cores, shared); database: {db.name}, "
        f"{db.stat().st_size / 1e9:.1f} GB"
    )
    scratch = copy(db, "history.db")
    for label, cmd, goal in (
        ("queue --json", ["queue", "--json"], "1.0"),
        ("check", ["check"], "1.0"),
    ):
        b, walls = best([*EXE, "--db", str(scratch), *cmd], args.runs)
        print(
            f"{label:<36} {b:.2f} s (best of {args.runs}: "
            f"{', '.join(f'{w:.2f}' for w in walls)}; goal <= {goal} s)"
        )
    wall, _, _ = run([*EXE, "--db", str(scratch), "sweep"], stdout=subprocess.DEVNULL)
    print(f"{'sweep, first (records what is due)':<36} {wall:.2f} s")
    b, walls = best([*EXE, "--db", str(scratch), "sweep"], args.runs)
    print(
        f"{'sweep with nothing new to record':<36} {b:.2f} s (best of {args.runs}: "
        f"{', '.join(f'{w:.2f}' for w in walls)}; goal <= 0.5 s)"
    )
    sqlite_plans(scratch)
    if not args.no_export:
        out = DATA / "scratch" / "history-export.json"
        wall, mem, code = run([*EXE, "--db", str(scratch), "export", "-o", str(out)])
        print(
            f"\nexport -o of {args.open + args.closed:,} cases: {wall:.0f} s, peak memory "
            f"{mem:.0f} MB (goal <= 200 MB), {out.stat().st_size / 1e9:.2f} GB, exit {code}"
        )
        again = DATA / "scratch" / "history-import.db"
        for p in (again, Path(f"{again}-wal"), Path(f"{again}-shm")):
            p.unlink(missing_ok=True)
        subprocess.run(
            [*EXE, "--db", str(again), "init"], cwd=ROOT, check=True, stderr=subprocess.DEVNULL
        )
        load = os.getloadavg()[0]
        wall, cpu, mem, pss, code = run_watched([*EXE, "--db", str(again), "import", str(out)])
        print(
            f"import of it into a new database: {wall:.0f} s (goal <= 120 s), CPU of its "
            f"processes {cpu:.0f} s, load {load:.2f} -> {os.getloadavg()[0]:.2f}; peak memory "
            f"{mem:.0f} MB (largest process), {pss:.0f} MB (all its processes, PSS), exit {code}"
        )
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"  (CPU of all commands so far: {kids.ru_utime + kids.ru_stime:.0f} s)")
    if args.pg:
        pg_plans()


if __name__ == "__main__":
    main()
