"""Running ``support-console`` in-process, as tests do.

A command given ``--at T`` runs with the application clock frozen at T: the event is
recorded when it happened (``recorded_at`` = T), as an engineer at the console would record
it. Tests of late entries and of ``--as-known-at`` freeze the clock themselves instead.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

from console import clock, identity
from console.cli import main
from console.rules.timeutil import BadValue


@contextlib.contextmanager
def as_login(name: str | None) -> Iterator[None]:
    """Run as OS login ``name`` (SQLite's operator is the real uid's login: in-process,
    tests stand in for it here; None keeps the real one)."""
    if name is None:
        yield
        return
    real = identity.login_name
    identity.login_name = lambda: name
    try:
        yield
    finally:
        identity.login_name = real


def run(
    capsys, *argv: str, now: str | None = None, login: str | None = None
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one command; ``now`` freezes the clock there,
    else ``--at`` does when the clock is not frozen already. ``login``: the OS login it
    runs as (SQLite; see ``as_login``)."""
    args = list(argv)
    frozen = clock._frozen
    when = now
    if when is None and frozen is None and "--at" in args[:-1]:
        when = args[args.index("--at") + 1]
    if when is not None:
        with contextlib.suppress(BadValue):  # the command itself must refuse it
            clock.freeze(when)
    try:
        with as_login(login):
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


def make_lead(store, name: str, now: int = 0) -> None:
    """Give ``name`` the lead role: the database's first lead (named by its creator, as
    ``init --lead`` does), or one more named by an existing lead."""
    from sqlalchemy import select

    from console.operators import OP, first_lead, set_role

    with store.connection() as conn:
        lead = conn.execute(select(OP.c.name).where(OP.c.role == "lead").limit(1)).scalar()
    if lead is None:
        first_lead(store, name, name, now)
    else:
        set_role(store, lead, name, "lead", now)


def init_db(capsys, db, **kw) -> None:
    """Create the database at ``db`` as ``support-console init`` does: only ``init`` and
    ``demo`` create one (a mistyped ``--db`` never opens an empty desk)."""
    code, _, err = run(capsys, "--db", str(db), "init", **kw)
    assert code == 0, err
