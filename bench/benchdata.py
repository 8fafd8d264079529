"""Demo databases for the benchmarks, written with their timestamps in the past.

A database "written an hour ago" is made by ``support-console demo --at (now - 1 h)``:
every event lies before that instant and was recorded when it happened, so a console
started now with the real clock sees exactly what a desk sees an hour after its last
write (no faked "now"). Databases are kept in ``$BENCH_DATA`` (default
``~/.cache/support-console-bench``, outside the repository: a million cases take a few GB) and reused
while their age is within 15 minutes (or a tenth) of the age asked for.

    python bench/benchdata.py --open 100000 --closed 0 --age 3600   # make one now
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("BENCH_DATA", Path.home() / ".cache" / "support-console-bench"))
EXE = [sys.executable, "-m", "console"]


def installed() -> None:
    """The installation as the README's install writes it: the package's bytecode compiled
    (``compileall``), so that a command does not compile its modules at each start."""
    import compileall

    for package in ("console", "models", "screens"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


installed()
LISTED = 0.924  # the demo's share of recent cases still listed (open or resolved)


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def cases_for(open_cases: int) -> int:
    """``demo --cases`` giving about ``open_cases`` listed cases."""
    return round(open_cases / LISTED)


def database(open_cases: int, closed: int, age: int, *, fresh: bool = False) -> Path:
    """A demo database of about ``open_cases`` listed and ``closed`` closed cases whose
    last write lies ``age`` seconds before now (made, or reused while close enough)."""
    DATA.mkdir(parents=True, exist_ok=True)
    db = DATA / f"demo-{open_cases}-{closed}-{age}.db"
    meta = db.with_suffix(".json")
    now = time.time()
    if db.exists() and meta.exists() and not fresh:
        written = json.loads(meta.read_text())["written_at"]
        if abs((now - written) - age) <= max(900, age / 10):
            return db
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    # Aim the last write so that the database is ``age`` old when it is ready (a million
    # cases take minutes to make): about half a millisecond a case here.
    guess = min(age - 60, 0.0006 * (cases_for(open_cases) + closed))
    written = time.time() - age + max(0.0, guess)
    t0 = time.perf_counter()
    subprocess.run(
        [
            *EXE,
            "--db",
            str(db),
            "demo",
            "--cases",
            str(cases_for(open_cases)),
            "--closed",
            str(closed),
            "--no-tui",
            "--at",
            iso(written),
        ],
        check=True,
        cwd=ROOT,
    )
    took = time.perf_counter() - t0
    # The last write is the demo's "now": the database ages from there.
    meta.write_text(json.dumps({"written_at": written, "made_in_s": round(took, 1)}))
    print(f"  made {db.name} in {took:.0f} s", file=sys.stderr)
    return db


def copy(db: Path, name: str) -> Path:
    """A scratch copy of ``db`` (a benchmark may write to it: sweep, console)."""
    out = DATA / "scratch" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    shutil.copyfile(db, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--closed", type=int, default=0)
    ap.add_argument("--age", type=int, default=3600)
    ap.add_argument("--fresh", action="store_true")
    a = ap.parse_args()
    print(database(a.open, a.closed, a.age, fresh=a.fresh))


if __name__ == "__main__":
    main()
