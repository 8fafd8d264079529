"""``queue --json`` on two cores.

The per-case work is pure Python, so on a 2-core jump host the listed cases are cut into
two shares; this process and a forked one each read a share, put it in risk order and
write its JSON text (``console.output.row_fragment``, from the stored templates).

On SQLite, when every listed case's stored summary carries to the instant (no event
after it, no suspension boundary passed), the shares are cut by ``next_due``
(``due_cuts``): a share of the risk order each, so the worker's text follows this
process's as it stands. Each share reads in its own snapshot and ``next_due`` changes
with a case's events: both read ``max(case_state.rev)`` in their snapshot (SQLite's
writers are serialized, each write takes the next rev), and a write in between (or a
key outside its share's bounds) has the queue read again, cut the other way. That other
way, always taken on PostgreSQL, with a what-if policy, ``--as-known-at`` or a case to
evaluate from its events: ranges of ``reported_at`` (``split_points``), which never
change, merged by risk key.

A SQLite file at the newest schema is read on the driver alone (``policy`` None: each
share reads the policy book in its own snapshot, with plain SQL): neither process imports
SQLAlchemy or the models, a third of a second each. The store (SQLAlchemy) reads it
otherwise, and whenever the shares are cut by ``reported_at``.

The worker is forked first thing (``workers``), before this process imports the queue's
modules: it imports them at the same time on the other core, so both cores are busy from
the start instead of the second idling through the first's imports. This module imports
nothing heavy itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.plain_sql import is_sqlite, rows

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

    from console.records import Conn
    from console.rules.clocks import RiskKey
    from console.rules.policy import Policy
    from console.rules.policy_book import PolicyBook


@dataclass(frozen=True, slots=True)
class Workers:
    pool: Pool | None  # None: one core, everything in this process
    count: int  # processes in all, this one included
    #: One unlinked temporary file per worker share, opened before the fork: a worker
    #: writes its share's text there. 43 MB through the pool's pipe took 0.3-0.5 s of
    #: 64 KB hand-offs between the two processes; through the page cache, a few ms.
    files: tuple[int, ...] = ()


@contextlib.contextmanager
def workers(n: int) -> Iterator[Workers]:
    """``n - 1`` worker processes, forked now, importing the queue's modules while the
    caller goes on (none for one core)."""
    if n <= 1:
        yield Workers(None, 1)
        return
    import multiprocessing as mp
    import tempfile

    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(n - 1)]
        pool = stack.enter_context(mp.get_context("fork").Pool(n - 1))
        warm = [pool.apply_async(_warm) for _ in range(n - 1)]
        try:
            yield Workers(pool, n, tuple(f.fileno() for f in files))
        finally:
            # The pool's exit (``terminate``) kills a worker even while it sends a result,
            # holding the results pipe's lock, and then waits for that lock forever: this
            # process failing fast (a missing database) met the warm-up's result so once
            # in the test suite. Its result received, a worker only waits for tasks.
            for w in warm:
                w.wait(10)


def _warm() -> None:
    """The modules of a share read on the driver alone (SQLAlchemy's only if needed)."""
    import console.output
    import console.queue
    import console.stored_policy  # noqa: F401


def split_points(conn: Conn, at: int, n: int) -> list[int]:
    """``n - 1`` reported_at instants that cut the listed cases into ``n`` equal shares
    (the cut when ``due_cuts`` cannot be used).

    Each share is a range of ``reported_at``, which never changes: two readers on two
    connections (two snapshots) can never both list, or both miss, one case. The cut
    points are read off ``ix_case_state_listed_reported_at`` (an index-only range scan).
    """
    params = {"t": True, "at": at}
    ((total,),) = rows(
        conn, "SELECT count(*) FROM case_state WHERE listed = :t AND reported_at <= :at", params
    )
    cuts: list[int] = []
    for i in range(1, n):
        found = rows(
            conn,
            "SELECT reported_at FROM case_state WHERE listed = :t AND reported_at <= :at "
            "ORDER BY listed, reported_at LIMIT 1 OFFSET :k",
            {**params, "k": total * i // n},
        )
        v = found[0][0] if found else None
        if v is not None and (not cuts or v > cuts[-1]):
            cuts.append(v)
    return cuts


#: Above any instant a due can hold: the cut when every case with a due is in one share.
NO_DUE_AFTER = 2**62


def due_cuts(conn: Conn, at: int, n: int) -> list[int] | None:
    """``n - 1`` ``next_due`` instants that cut the listed cases into ``n`` shares of the
    risk order, about equal (``load_queue(due=...)``), read off
    ``ix_case_state_listed_next_due``; None when a case listed at ``at`` must be evaluated
    from its events (its key could fall anywhere).

    Every cut lies at or after ``at``: a carried case whose due lies ahead has the key
    ``(2, next_due, ...)``; one whose due has passed, ``(1, ...)`` or ``(2, due <= at,
    ...)``; one with no running due, group 3 or 4. So a share of dues in (lo, hi] holds
    keys in [(2, lo + 1), (2, hi + 1)), and the shares follow each other in risk order.
    The last share holds the cases with no running due too.
    """

    def one(sql: str, many: bool = False, **params: Any) -> Any:
        found = rows(conn, sql, {"t": True, "f": False, "at": at, **params})
        if many:
            return found[0]
        return found[0][0] if found else None

    # Index range reads (``_load_top``'s, and the closed-since branch of ``_listed_sql``).
    if one(
        "SELECT EXISTS (SELECT 1 FROM case_state WHERE listed = :t AND anchor_at > :at) "
        "OR EXISTS (SELECT 1 FROM case_state WHERE listed = :t AND valid_until <= :at) "
        "OR EXISTS (SELECT 1 FROM case_state WHERE listed = :f AND anchor_at > :at)"
    ):
        return None
    due, no_due = one(
        # (no ``reported_at`` test: index-only reads; the cuts only balance the shares)
        "SELECT count(next_due), count(*) - count(next_due) FROM case_state WHERE listed = :t",
        many=True,
    )
    # Shares of equal work, this process's a little smaller (it writes the document).
    work = DUE_COST * due + no_due
    targets = [work * (i - FIRST_LESS) / n for i in range(1, n)]
    cuts: list[int] = []
    for target in targets:
        v = None
        if target < DUE_COST * due:
            v = one(
                "SELECT next_due FROM case_state WHERE listed = :t AND next_due IS NOT NULL "
                "ORDER BY listed, next_due LIMIT 1 OFFSET :k",
                k=max(int(target / DUE_COST) - 1, 0),
            )
        v = NO_DUE_AFTER if v is None else max(v, at)
        if not cuts or v > cuts[-1]:
            cuts.append(v)
    return cuts


#: What a case with a running due costs ``queue --json`` against one without (its
#: clocks are carried to the instant): measured at 100k cases, 21 against 16.5 us.
DUE_COST = 1.3
#: How much of a share less work the first share (this process's) is given: it then
#: writes the document, its own share and the workers' (a tenth of its time).
FIRST_LESS = 0.1


@dataclass(frozen=True, slots=True)
class _Share:
    """What a share's reader hands back (picklable: it crosses from the worker)."""

    keys: list[RiskKey]  # in risk order (empty for a ``due`` share: unused)
    #: The JSON texts in the same order; in a worker, the number of bytes written to its
    #: file as UTF-8, joined by newlines (JSON text never holds a raw newline). A ``due``
    #: share's: joined by ", " as in the document, as UTF-8 (``_run``).
    texts: list[str] | int | bytes
    rev: int | None  # max(case_state.rev) in the share's snapshot (``due`` shares)
    fits: bool  # every key lies within the share's ``due`` bounds


def _share(
    url: str,
    policy: Policy | PolicyBook | None,
    at: int,
    kind: str,
    share: tuple[int | None, int | None],
    known_at: int | None,
    out: int | None = None,
) -> _Share:
    """One share: ``load_queue``'s ``due=`` or ``reported=`` (``kind``) range ``share``;
    ``out``: the descriptor of a worker's file. ``policy`` None: the SQLite file read on
    the driver alone, the policy book with the rows (one snapshot); a share that meets a
    case to evaluate from its events then does not fit (it is read again the other way)."""
    import gc

    from console.output import row_fragment
    from console.queue import NeedsEvents, load_queue

    gc.disable()  # a short-lived process building ~50k objects: collections only cost
    try:
        with _reader(url, light=policy is None) as conn:
            book = policy
            if book is None:
                from console.stored_policy import load_book

                book = load_book(conn)
            found = load_queue(
                conn,
                book,
                at,
                known_at=known_at,
                compact=False,
                with_json=True,
                due=share if kind == "due" else None,
                reported=share if kind == "reported" else None,
            )
            # (in the same transaction: the same snapshot)
            rev = rows(conn, "SELECT max(rev) FROM case_state")[0][0] if kind == "due" else None
    except NeedsEvents:
        return _Share([], [] if out is None else 0, None, False)
    finally:
        gc.enable()
    texts = [row_fragment(r) for r in found]
    if kind == "due":
        fits = _fits([found[0].key, found[-1].key] if found else [], share)
        # A share of the risk order is written whole or read again the other way: its
        # text joined as in the document, encoded now (this process, done first, would
        # wait for the worker otherwise).
        run = ", ".join(texts).encode()
        if out is None:
            return _Share([], run, rev, fits)
        return _Share([], _write(out, run), rev, fits)
    keys = [r.key for r in found]
    if out is None:
        return _Share(keys, texts, rev, True)
    return _Share(keys, _write(out, "\n".join(texts).encode()), rev, True)


def _write(fd: int, data: bytes) -> int:
    """``data`` written at the start of the file ``fd``; its length."""
    view = memoryview(data)
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], done)
    return done


@contextlib.contextmanager
def _reader(url: str, *, light: bool) -> Iterator[Any]:
    """A connection in a read transaction: the driver's own (``light``, see ``_share``),
    else the store's."""
    if light:
        from console.store.location import sqlite_reader

        con = sqlite_reader(url)
        if con is None:  # (replaced since the command looked: read the other way)
            from console.queue import NeedsEvents

            raise NeedsEvents(0)
        try:
            yield con
        finally:
            con.close()  # (rolls the read transaction back)
        return
    from console.store.engine import open_store

    with open_store(url, create=False) as store, store.connection() as conn:
        yield conn


def _fits(keys: Sequence[RiskKey], due: tuple[int | None, int | None]) -> bool:
    """Do the sorted ``keys`` (or the first and last of them) lie within the bounds of the
    ``due`` share (see ``due_cuts``)?"""
    lo, hi = due
    return not keys or (
        (lo is None or keys[0] >= (2, lo + 1)) and (hi is None or keys[-1] < (2, hi + 1))
    )


def _pairs(share: _Share, file: int | None = None) -> Iterator[tuple[RiskKey, str]]:
    texts = share.texts
    if isinstance(texts, int):  # their length in ``file``
        assert file is not None
        texts = _read(file, texts).decode().split("\n") if share.keys else []
    assert isinstance(texts, list)  # (a ``reported`` share's)
    return zip(share.keys, texts, strict=True)


def _read(fd: int, size: int) -> bytes:
    parts = []
    done = 0
    while done < size:
        chunk = os.pread(fd, size - done, done)
        if not chunk:
            raise OSError(f"queue --json: a worker's share ends after {done} of {size} bytes")
        parts.append(chunk)
        done += len(chunk)
    return b"".join(parts)


def _run(share: _Share, fd: int | None = None) -> bytes:
    """A ``due`` share's text as UTF-8, its fragments joined by ", ": this process's, or
    a worker's from its file ``fd``."""
    if isinstance(share.texts, bytes):
        return share.texts
    assert isinstance(share.texts, int)
    assert fd is not None
    return _read(fd, share.texts)


def queue_fragments(
    workers: Workers,
    url: str,
    policy: Policy | PolicyBook | None,
    at: int,
    *,
    known_at: int | None = None,
) -> Iterator[str | bytes]:
    """``queue --json``'s case fragments in risk order: one share here, one in each of the
    ``workers`` (from a ``due`` cut, each share's as one run of UTF-8 text, see ``_run``).
    ``policy`` None: the desk's, and ``url`` a SQLite file at the newest schema, read on
    the driver alone (``console.store.location.sqlite_reader``) while nothing needs more."""
    import heapq

    from console.rules.policy_book import as_book

    cuts = None
    if policy is None or (known_at is None and as_book(policy).what_if is None):
        with _reader(url, light=policy is None) as conn:
            if is_sqlite(conn):
                cuts = due_cuts(conn, at, workers.count)
    if cuts is not None:
        shares = _shares(cuts)
        done = _read_shares(workers, url, policy, at, "due", shares, known_at)
        if all(d.fits for d in done) and len({d.rev for d in done}) == 1:
            files = (None, *workers.files)
            return (_run(d, f) for d, f in zip(done, files, strict=False))
        # A write between the shares' reads, or a key outside its share (a case to
        # evaluate from its events): cut the other way.
    with _reader(url, light=False) as conn:
        if policy is None:
            from console.stored_policy import load_book

            policy = load_book(conn)
        shares = _shares(split_points(conn, at, workers.count))
    done = _read_shares(workers, url, policy, at, "reported", shares, known_at)
    parts = [
        _pairs(done[0]),
        *(_pairs(d, f) for d, f in zip(done[1:], workers.files, strict=False)),
    ]
    # Keys are unique (they end with the case id): tuples compare in C, no key function.
    return (frag for _, frag in heapq.merge(*parts))


def _shares(cuts: list[int]) -> list[tuple[int | None, int | None]]:
    bounds: list[int | None] = [None, *cuts, None]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def _read_shares(
    workers: Workers,
    url: str,
    policy: Policy | PolicyBook | None,
    at: int,
    kind: str,
    shares: list[tuple[int | None, int | None]],
    known_at: int | None,
) -> list[_Share]:
    """Each share read: the first here, the others by the workers."""
    pending: list[Any] = []
    if workers.pool is not None:
        pending = [
            workers.pool.apply_async(_share, (url, policy, at, kind, share, known_at, out))
            for share, out in zip(shares[1:], workers.files, strict=False)
        ]
    mine = _share(url, policy, at, kind, shares[0], known_at)
    return [mine, *(p.get() for p in pending)]
