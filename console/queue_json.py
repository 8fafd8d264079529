"""``queue --json`` on two cores.

The per-case work is pure Python, so on a 2-core jump host the listed cases are cut into
two equal shares by ``reported_at`` (``split_points``); this process and a forked one each
read a share, put it in risk order and write its JSON text (``console.output.row_fragment``,
from the stored templates), and the shares are merged by risk key.

The worker is forked first thing (``workers``), before this process imports SQLAlchemy and
the queue: it imports them at the same time on the other core, so both cores are busy from
the start instead of the second idling through the first's imports. This module imports
nothing heavy itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
        for _ in range(n - 1):
            pool.apply_async(_warm)
        yield Workers(pool, n, tuple(f.fileno() for f in files))


def _warm() -> None:
    import console.output
    import console.queue
    import console.store.engine  # noqa: F401


def split_points(conn: Conn, at: int, n: int) -> list[int]:
    """``n - 1`` reported_at instants that cut the listed cases into ``n`` equal shares.

    Each share is a range of ``reported_at``, which never changes: two readers on two
    connections (two snapshots) can never both list, or both miss, one case. The cut
    points are read off ``ix_case_state_listed_reported_at`` (an index-only range scan).
    """
    from sqlalchemy import text

    total = conn.execute(
        text("SELECT count(*) FROM case_state WHERE listed = :t AND reported_at <= :at"),
        {"t": True, "at": at},
    ).scalar_one()
    cuts: list[int] = []
    for i in range(1, n):
        v = conn.execute(
            text(
                "SELECT reported_at FROM case_state WHERE listed = :t AND reported_at <= :at "
                "ORDER BY listed, reported_at LIMIT 1 OFFSET :k"
            ),
            {"t": True, "at": at, "k": total * i // n},
        ).scalar()
        if v is not None and (not cuts or v > cuts[-1]):
            cuts.append(v)
    return cuts


def _share(
    url: str,
    policy: Policy | PolicyBook,
    at: int,
    reported: tuple[int | None, int | None],
    known_at: int | None,
    out: int | None = None,
) -> tuple[list[RiskKey], list[str] | int]:
    """One share: its rows' risk keys in risk order, and their JSON texts in the same
    order; given the descriptor ``out`` of a file (a worker's share), the texts are written
    there as UTF-8, joined by newlines (JSON text never holds a raw newline), and the
    number of bytes written stands in their place."""
    import gc

    from console.output import row_fragment
    from console.queue import load_queue
    from console.store.engine import open_store

    gc.disable()  # a short-lived process building ~50k objects: collections only cost
    with open_store(url, create=False) as store, store.connection() as conn:
        rows = load_queue(
            conn, policy, at, reported=reported, known_at=known_at, compact=False, with_json=True
        )
    gc.enable()
    keys = [r.key for r in rows]
    texts = [row_fragment(r) for r in rows]
    if out is None:
        return keys, texts
    data = memoryview("\n".join(texts).encode())
    done = 0
    while done < len(data):
        done += os.pwrite(out, data[done:], done)
    return keys, done


def _pairs(
    share: tuple[list[RiskKey], list[str] | int], file: int | None = None
) -> Iterator[tuple[RiskKey, str]]:
    keys, texts = share
    if isinstance(texts, int):  # their length in ``file``
        assert file is not None
        texts = _read(file, texts).decode().split("\n") if keys else []
    return zip(keys, texts, strict=True)


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


def queue_fragments(
    workers: Workers,
    url: str,
    policy: Policy | PolicyBook,
    at: int,
    *,
    known_at: int | None = None,
) -> Iterator[str]:
    """``queue --json``'s case fragments in risk order: one share here, one in each of
    the ``workers``."""
    import heapq

    from console.store.engine import open_store

    with open_store(url, create=False) as store, store.connection() as conn:
        cuts = split_points(conn, at, workers.count)
    bounds: list[int | None] = [None, *cuts, None]
    shares = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    pending: list[Any] = []
    if workers.pool is not None:
        pending = [
            workers.pool.apply_async(_share, (url, policy, at, share, known_at, out))
            for share, out in zip(shares[1:], workers.files, strict=False)
        ]
    mine = _share(url, policy, at, shares[0], known_at)
    parts = [
        _pairs(mine),
        *(_pairs(p.get(), out) for p, out in zip(pending, workers.files, strict=False)),
    ]
    # Keys are unique (they end with the case id): tuples compare in C, no key function.
    return (frag for _, frag in heapq.merge(*parts))
