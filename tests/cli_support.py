"""Running ``support-console`` in-process, as tests do.

A command given ``--at T`` runs with the application clock frozen at T: the event is
recorded when it happened (``recorded_at`` = T), as an engineer at the console would record
it. Tests of late entries and of ``--as-known-at`` freeze the clock themselves instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from console import clock
from console.cli import main
from console.rules.timeutil import BadValue


def run(capsys, *argv: str, now: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one command; ``now`` freezes the clock there,
    else ``--at`` does when the clock is not frozen already."""
    args = list(argv)
    frozen = clock._frozen
    when = now
    if when is None and frozen is None and "--at" in args[:-1]:
        when = args[args.index("--at") + 1]
    if when is not None:
        try:
            clock.freeze(when)
        except BadValue:  # the command itself must refuse it
            pass
    try:
        code = main(args)
    finally:
        clock.freeze(frozen)
    out, err = capsys.readouterr()
    return code, out, err


def fingerprint(db: Path) -> str:
    """Bytes of the database and its WAL: 'unchanged' means unchanged on disk."""
    h = hashlib.sha256()
    for p in (db, db.with_name(db.name + "-wal")):
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()
