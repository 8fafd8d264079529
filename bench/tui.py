"""What an engineer sees: ``support-console`` launched in a terminal, timed to the queue.

    python bench/tui.py [--open 100000] [--closed 0] [--ages 3600 86400] [--runs 3]
                        [--no-keys]

For each database age (the demo written that many seconds before now, see
``bench/benchdata.py``; the console runs on the real clock) and for each situation, with
and without a cron ``support-console sweep`` first:

- launches ``support-console --db DB --no-mouse`` in a real pseudo-terminal of 80x24 (a
  tmux session: the process, the terminal and the screen are the real ones), and times
  from the launch until the top-risk case's row is on the screen (the screen is read every
  few milliseconds with ``tmux capture-pane``); the row seen is checked against
  ``support-console queue --json --at <launch>``'s first case;
- times until the whole queue is loaded (the "loading…" mark leaves the status line);
- reads the console's peak memory (``VmHWM``) once everything has settled (its escalation
  watcher sweeps in a child process of its own, not counted).

Then (unless ``--no-keys``), headless in this process (``App.run_test``, real clock),
the latency of key presses from the key to the next frame sent to the terminal, starting
at the first screen, so the first ones land while the rest of the queue is still loading:
cursor down (50), filter changes and a search typed letter by letter.

Prints figures; asserts nothing (benchmarks are never timed tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import EXE, copy, database, iso  # noqa: E402

CONSOLE = str(Path(sys.executable).with_name("support-console"))
ROW = re.compile(r"^[ !⏸]\s?(\S+)\s")
ENV = dict(
    os.environ,
    TERM="xterm-256color",
    SUPPORT_CONSOLE_TZ="UTC",
    LANG="C.UTF-8",
    SUPPORT_CONSOLE_BELL="0",
)


def sh(*args: str, **kw) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def screen(session: str) -> list[str]:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    ).stdout.splitlines()


def first_row(lines: list[str]) -> str | None:
    """The case id of the queue's first row on screen, if any (the row under the
    column header ``CASE``)."""
    for i, line in enumerate(lines):
        if " CASE " in line and "SUBSCRIBER" in line:
            for row in lines[i + 1 :]:
                m = ROW.match(row)
                if m and m.group(1).startswith(("CS-", "C-")):
                    return m.group(1)
                break
    return None


def launch(db: Path, name: str, settle: float) -> dict[str, object]:
    """One launch in an 80x24 tmux pane; returns the figures."""
    session = f"bench-{name}-{os.getpid()}"
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    cmd = f"exec {CONSOLE} --db {db} --no-mouse"
    t0 = time.perf_counter()
    launched_at = time.time()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd],
        check=True,
        env=ENV,
    )
    pid = int(sh("tmux", "display-message", "-p", "-t", session, "#{pane_pid}").strip())
    out: dict[str, object] = {}
    shown = None
    while time.perf_counter() - t0 < 60:
        shown = first_row(screen(session))
        if shown:
            out["first rows on screen"] = time.perf_counter() - t0
            break
        time.sleep(0.004)
    while time.perf_counter() - t0 < 120:
        text = "\n".join(screen(session))
        if "loading" not in text and "/" in text:
            out["whole queue loaded"] = time.perf_counter() - t0
            break
        time.sleep(0.02)
    time.sleep(settle)
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        out["peak memory"] = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    except (OSError, AttributeError):
        pass
    out["screen"] = screen(session)
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    out["first row"] = shown
    top = json.loads(
        sh(*EXE, "--db", str(db), "queue", "--json", "--at", iso(launched_at), cwd=ROOT)
    )["cases"]
    out["expected"] = top[0]["id"] if top else None
    out["listed"] = len(top)
    return out


def situations(open_cases: int, closed: int, ages: list[int], runs: int, settle: float) -> None:
    for age in ages:
        db = database(open_cases, closed, age)
        for swept in (False, True):
            label = (
                f"written {age // 3600} h ago" if age < 86400 else f"written {age // 86400} day ago"
            )
            label += ", cron swept first" if swept else ", no sweep since"
            firsts, loads, mems, ok = [], [], [], True
            sweep_s = None
            listed = 0
            for r in range(runs):
                scratch = copy(db, f"tui-{open_cases}-{closed}-{age}-{int(swept)}.db")
                if swept:
                    t = time.perf_counter()
                    subprocess.run(
                        [*EXE, "--db", str(scratch), "sweep"],
                        check=True,
                        cwd=ROOT,
                        capture_output=True,
                    )
                    sweep_s = time.perf_counter() - t
                f = launch(scratch, f"{age}-{int(swept)}-{r}", settle)
                listed = int(f["listed"])
                if "first rows on screen" not in f:
                    print("  !! no row seen; screen:\n" + "\n".join(f["screen"]))
                    ok = False
                    continue
                firsts.append(f["first rows on screen"])
                if "whole queue loaded" in f:
                    loads.append(f["whole queue loaded"])
                if "peak memory" in f:
                    mems.append(f["peak memory"])
                if f["first row"] != f["expected"]:
                    ok = False
                    print(f"  !! first row {f['first row']} but the queue's top is {f['expected']}")
            print(f"\n== {listed:,} listed + {closed:,} closed cases, 80x24, {label} ==")
            if sweep_s is not None:
                print(f"  {'cron sweep before the launch':<44} {sweep_s:.2f} s")
            if firsts:
                print(
                    f"  {'launch -> top-risk rows on screen':<44} "
                    f"{' / '.join(f'{x:.2f}' for x in firsts)} s (runs; goal <= 1.0 s)"
                    f"{'' if ok else '  (ROW MISMATCH)'}"
                )
            if loads:
                print(
                    f"  {'launch -> whole queue loaded':<44} "
                    f"{' / '.join(f'{x:.2f}' for x in loads)} s"
                )
            if mems:
                print(f"  {'console peak memory (VmHWM)':<44} {max(mems):.0f} MB (goal <= 200 MB)")


# -- key latency, headless ------------------------------------------------------------------


async def keys(db: Path) -> dict[str, str]:
    from zoneinfo import ZoneInfo

    from textual import events

    from screens.app import ConsoleApp

    os.environ["SUPPORT_CONSOLE_SWEEP"] = "1"
    app = ConsoleApp(str(db), user="eng-bwalsh", tz=ZoneInfo("UTC"))
    out: dict[str, str] = {}
    async with app.run_test(size=(80, 24)):
        while app.first_paint_at is None:
            await asyncio.sleep(0.002)
        frames: list[float] = []
        real_display = app._display

        def display(screen, renderable):  # when a frame goes to the terminal
            if renderable is not None:
                frames.append(time.perf_counter())
            return real_display(screen, renderable)

        app._display = display
        loading: list[float] = []
        loaded: list[float] = []

        async def press(key: str) -> float:
            await asyncio.sleep(0.02)
            frames.clear()
            char = key if len(key) == 1 else None
            during = not app.loaded
            t = time.perf_counter()
            app._driver.send_message(events.Key(key, char))
            while not frames:
                await asyncio.sleep(0.0002)
                if time.perf_counter() - t > 5:
                    return float("nan")
            dt = frames[0] - t
            (loading if during else loaded).append(dt)
            if os.environ.get("BENCH_DEBUG"):
                print(key, f"{dt * 1000:.1f}", "loading" if during else "", flush=True)
            return dt

        downs = [await press("down") for _ in range(50)]
        filters = [await press(k) for k in ("b", "p", "x", "t", "x")]
        await press("slash")
        typed = [await press(ch) for ch in "gateway"]
        filters.append(await press("enter"))
        filters.append(await press("x"))
        filters.extend(typed)
        out["cursor down, median / worst of 50"] = (
            f"{statistics.median(downs) * 1000:.1f} / {max(downs) * 1000:.1f} ms (goal <= 50 ms)"
        )
        out["filter or search key, median / worst"] = (
            f"{statistics.median(filters) * 1000:.1f} / {max(filters) * 1000:.1f} ms "
            "(goal <= 150 ms worst)"
        )
        if loading:
            out["  of which while the queue was loading"] = (
                f"{len(loading)} keys, worst {max(loading) * 1000:.1f} ms"
            )
        out["  after it was loaded"] = f"{len(loaded)} keys, worst " + (
            f"{max(loaded) * 1000:.1f} ms" if loaded else "-"
        )
        for _ in range(1200):  # at most a minute
            if app.loaded:
                break
            await asyncio.sleep(0.05)
        out["listed"] = f"{len(app.queue.items):,}" + (
            "" if app.loaded else f" (not loaded: {app.queue.error})"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--closed", type=int, default=0)
    ap.add_argument("--ages", type=int, nargs="+", default=[3600, 86400])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--settle",
        type=float,
        default=8.0,
        help="seconds after the load before reading the peak memory",
    )
    ap.add_argument("--no-keys", action="store_true")
    ap.add_argument("--keys-db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.keys_db:  # the key-latency child (its own process: its own memory and GC)
        for k, v in asyncio.run(keys(Path(args.keys_db))).items():
            print(f"  {k:<44} {v}")
        return
    print(f"machine load before: {os.getloadavg()[0]:.2f}")
    situations(args.open, args.closed, args.ages, args.runs, args.settle)
    if not args.no_keys:
        db = copy(database(args.open, args.closed, args.ages[0]), "tui-keys.db")
        print(
            f"\n== key latency, headless 80x24, from the first screen "
            f"({args.open:,} open + {args.closed:,} closed) =="
        )
        subprocess.run([sys.executable, __file__, "--keys-db", str(db)], check=True, cwd=ROOT)
    print(f"machine load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
