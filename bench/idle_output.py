"""Bytes the console writes to an idle 80x24 terminal (what an SSH link carries).

    python bench/idle_output.py [--seconds 120] [--cases 2000]

Runs the real console in a pseudo-terminal sized 80x24 on a demo database, waits for it
to settle, then counts the bytes it writes while nobody types (the header's clock and
the queue's remaining times still tick every minute). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def drain(fd: int, seconds: float) -> int:
    total, end = 0, time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                total += len(os.read(fd, 65536))
            except OSError:
                break
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--cases", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/idle.db"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "console",
                "--db",
                db,
                "demo",
                "--cases",
                str(args.cases),
                "--no-tui",
            ],
            check=True,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        pid, fd = pty.fork()
        if pid == 0:  # the console, in the pty
            os.environ.update(TERM="xterm-256color", SUPPORT_CONSOLE_TZ="America/New_York")
            os.chdir(ROOT)
            os.execv(sys.executable, [sys.executable, "-m", "console", "--db", db, "--no-mouse"])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        startup = drain(fd, 15)
        idle = drain(fd, args.seconds)
        os.write(fd, b"q")
        drain(fd, 2)
        os.waitpid(pid, 0)
    print(f"start-up: {startup:,} bytes to draw the first screens")
    print(
        f"idle {args.seconds:.0f} s at 80x24, nobody typing: {idle:,} bytes = "
        f"{idle / args.seconds:.0f} B/s"
    )


if __name__ == "__main__":
    main()
