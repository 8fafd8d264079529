"""Console (TUI) figures, headless: first paint, cursor and filter latency, peak memory.

    python bench/tui.py [--cases 10000 100000] [--size 80x24]

For each size, makes (or reuses) a demo database of N cases at a fixed "now" (the same
files as bench/engine.py), then in a fresh process per size:

- opens the store (timed apart: SQLAlchemy's import and the schema check),
- starts the app headless (``App.run_test``) with the store already open and measures
  the time to the first paint of the queue (the first screenful, read by index) and to
  the whole queue loaded and sorted,
- times key presses from the key event to the next frame sent to the terminal (what
  the operator sees): cursor down, page down, end/home, and filter changes (breached
  only, priority, type, a search typed letter by letter, clearing),
- reports peak RSS.

Prints figures; asserts nothing (benchmarks are never timed tests).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AT = "2026-11-24T15:00:00Z"


def ensure_db(cases: int) -> Path:
    db = Path(f"/tmp/support-console-bench-{cases}.db")
    if not db.exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "console", "--db", str(db), "demo", "--cases",
                        str(cases), "--no-tui", "--at", AT], check=True, cwd=ROOT)
        print(f"demo database: {cases} cases made in {time.perf_counter() - t0:.1f} s ({db})")
    # As on a desk where cron sweeps: the escalations already due are recorded, so the
    # measured console is not also recording thousands of them on its first beat.
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "console", "--db", str(db), "sweep", "--at", AT,
                    "--by", "cron"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    print(f"  (swept as cron would, in {time.perf_counter() - t0:.1f} s)")
    return db


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def measure(db: Path, size: tuple[int, int]) -> dict[str, object]:
    from zoneinfo import ZoneInfo

    t0 = time.perf_counter()
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    store = open_store(str(db))
    policy = load_policy(None)
    t_open = time.perf_counter() - t0

    from textual import events

    from console.app import ConsoleApp

    out: dict[str, object] = {"open store (import + schema check)": ms(t_open)}
    start = time.perf_counter()
    app = ConsoleApp(store.url, user="eng-bwalsh", tz=ZoneInfo("America/New_York"),
                     store=store, policy=policy)
    async with app.run_test(size=size) as pilot:
        while app.first_paint_at is None:
            await asyncio.sleep(0.002)
        out["first paint of the queue"] = ms(app.first_paint_at - start)
        while not app.loaded:
            await asyncio.sleep(0.005)
        await pilot.pause()
        out["whole queue loaded and sorted"] = ms(time.perf_counter() - start)
        out["listed cases"] = f"{len(app.queue.items):,}"

        frames: list[float] = []
        real_display = app._display

        def display(screen, renderable):  # record when a frame goes to the terminal
            if renderable is not None:
                frames.append(time.perf_counter())
            return real_display(screen, renderable)

        app._display = display

        async def press(key: str) -> float:
            """Key in to the next frame on screen (the latency an operator sees)."""
            await pilot.pause(0.03)
            frames.clear()
            char = key if len(key) == 1 else None
            t = time.perf_counter()
            app._driver.send_message(events.Key(key, char))
            while not frames:
                await asyncio.sleep(0.0002)
                if time.perf_counter() - t > 5:
                    return float("nan")
            return frames[0] - t

        downs = [await press("down") for _ in range(50)]
        out["cursor down (median / max of 50)"] = f"{ms(statistics.median(downs))} / {ms(max(downs))}"
        pages = [await press("pagedown") for _ in range(20)]
        out["page down (median / max of 20)"] = f"{ms(statistics.median(pages))} / {ms(max(pages))}"
        out["end"] = ms(await press("end"))
        out["home"] = ms(await press("home"))

        filt = {
            "filter: breached only": await press("b"),
            "filter: + priority P0": await press("p"),
            "filter: clear": await press("x"),
            "filter: type incident": await press("t"),
            "filter: clear again": await press("x"),
        }
        await press("slash")
        typed = [await press(ch) for ch in "gateway"]
        filt["search, per key typed (median)"] = statistics.median(typed)
        filt["search, per key typed (max)"] = max(typed)
        filt["search done (enter)"] = await press("enter")
        filt["filter: clear search"] = await press("x")
        for k, v in filt.items():
            out[k] = ms(v)
        from console import clock

        clock.freeze(clock.now() + 3600)
        t = time.perf_counter()
        app.action_tick()
        await pilot.pause()
        out["tick one hour later (re-sort)"] = ms(time.perf_counter() - t)
        clock.freeze(None)
    out["peak RSS"] = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    return out


def child(cases: int, size: tuple[int, int]) -> None:
    from console import clock

    clock.freeze(AT)
    db = ensure_db(cases)
    figures = asyncio.run(measure(db, size))
    print(f"\n== {cases:,} cases, {size[0]}x{size[1]} ==")
    for k, v in figures.items():
        print(f"  {k:<40} {v}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    if args.child:
        child(args.cases[0], (w, h))
        return
    for n in args.cases:
        ensure_db(n)
        # one process per size, so peak RSS is that size's own
        subprocess.run([sys.executable, __file__, "--child", "--cases", str(n), "--size",
                        args.size], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
