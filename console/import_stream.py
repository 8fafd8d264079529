"""``support-console import`` of a file of any size, in constant memory.

A million-case export is a gigabyte of JSON; held as Python objects it would be ten. The
file is read twice, never held:

1. the sections other than ``cases`` (subscribers, deployments, users, policy versions,
   products, operators: small), wherever they stand in the document, and the number of
   cases; nesting deeper than the policy's limit is refused here, whatever section it is
   in (``console.import_sections``: ``ijson``'s event parser);
2. the cases one by one (``ijson.items``: the C parser builds each case), validated and
   written in batches of ``BATCH`` inside the one transaction of the import. Duplicate
   ids and the types of linked cases are asked of the database for each batch (earlier
   batches are in it already), so no set of a million ids is kept either; a case that
   links to a case later in the file is checked once all are written.

A large export (``SPLIT_BYTES``) is read once: the sections before its cases, then its
cases in batches found by the bytes between them, each batch parsed by the one process
preparing it, its depth checked there, and the count taken from the same bytes (the
progress bar's total, given once the first batch is written); ``console.import_split``
says how that guess about the layout is checked. A file that turns out not to be laid
out so is rolled back and imported as any other, with the same answer.

Any problem anywhere rolls the whole transaction back: all or nothing, as before. The
checks are ``console.importer.Validation``'s, the same as for a document in memory.

In parallel (``import_cases``), ``PREPARERS`` forked processes take every other batch:
check it, evaluate each case's clocks (its ``case_state`` summary) and hand it over as
rows (tuples, JSON columns encoded) to this process, which only writes. What a million
cases cost, per case, on one core of this machine: checking about 50 us, evaluating 25,
parsing 10 (each case once; 15 in each preparer for every case, and 17 more for the
first pass, of a file that is not an export's), writing 40 (on SQLite the time entries
take their events' ids as counted instead of reading them back), handing over 14;
automatic garbage collection, which walked each batch's objects again and again, is off
meanwhile (``_long_lived_frozen``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import ijson
from sqlalchemy import func, select

from console.import_sections import (
    ReadWhole,
    diagnose,
    import_sections,
    read_sections,
)
from console.import_split import SplitCases, Unsplit, split_cases
from console.importer import (
    ImportRefused,
    Prepared,
    Validation,
    bulk_insert,
    existing_ids,
    insert_rows,
    time_entry_row,
    write_head,
    write_tail,
)
from console.projection import project
from console.records import (
    case_link_table,
    case_state_table,
    case_table,
    event_table,
    next_rev,
    time_entry_table,
)
from console.rules.policy import Records
from console.rules.policy_book import PolicyBook
from models import Attachment, Escalation, table_of

#: Cases per batch: each of the three processes holds about one (and the queues a few
#: more), so memory stays the same at any size of file; 2,000 cost a quarter more memory
#: summed over the processes for no time saved.
BATCH = 1000
#: A file at least this large, laid out as an export, is not read whole before its cases
#: (``console.import_split``); a smaller one is (it costs less than a second).
SPLIT_BYTES = 16 * 1024 * 1024


@contextlib.contextmanager
def readable_path(name: str) -> Iterator[str]:
    """``name`` itself, or for ``-`` standard input spooled to a temporary file (the file
    is read twice)."""
    if name != "-":
        yield name
        return
    import sys

    fd, tmp = tempfile.mkstemp(prefix=".import-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def iter_cases(path: str, source: str, records: Records) -> Iterator[Any]:
    """Pass 2: the cases, one at a time (parsed by ijson's C backend)."""
    try:
        with open(path, "rb") as fh:
            yield from ijson.items(fh, "cases.item", use_float=True)
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        raise diagnose(path, source, records, exc) from None


def import_file(
    store: Any,
    path: str,
    source: str,
    book: PolicyBook,
    now: int,
    progress: Callable[[str, int | None], Any],
    *,
    by: str | None = None,
) -> dict[str, int]:
    """Validate and write the file at ``path`` in one transaction; returns the counts.
    ``progress(label, total)`` is a context manager giving a ``tick(n)`` (a bar on a
    terminal); ``by``: the login importing (each event's ``recorded_by``). Raises
    ImportRefused with every problem found (nothing written)."""
    try:
        return _import_streamed(store, path, source, book, now, progress, by)
    except ReadWhole as whole:
        return _import_document(store, whole.doc, book, now, progress, by)


def _import_document(
    store: Any,
    doc: Any,
    book: PolicyBook,
    now: int,
    progress: Callable[[str, int | None], Any],
    by: str | None,
) -> dict[str, int]:
    """A document already in memory (small): validated whole, then written."""
    from console.importer import validate, write

    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k not in ("at", "expected")}
    with store.connection() as conn:
        existing = existing_ids(conn, book)
    prep = validate(doc, book, existing, now)
    with progress("import", len(prep.cases)) as tick, store.write() as session:
        # Re-check under the write lock: another process may have added the same ids.
        again = existing_ids(session, book)
        clash = [c["id"] for c in prep.cases if c["id"] in again.cases]
        clash += [s["id"] for s in prep.subscribers if s["id"] in again.subscribers]
        if clash:
            raise ImportRefused(
                [f"import refused: ids added meanwhile by another process: {', '.join(clash[:10])}"]
            )
        if prep.replace_policy and (again.cases or again.subscribers):
            raise ImportRefused(
                [
                    "import refused: the database was filled meanwhile by another "
                    "process; import again"
                ]
            )
        return write(session, prep, now, tick, by=by)


def _import_streamed(
    store: Any,
    path: str,
    source: str,
    book: PolicyBook,
    now: int,
    progress: Callable[[str, int | None], Any],
    by: str | None,
) -> dict[str, int]:
    records = book.at(now).records
    large = _size(path) >= SPLIT_BYTES
    found, n_cases = read_sections(path, source, records, until_cases=large)
    if n_cases is None:  # stopped where the list of cases opens
        split = split_cases(path, found, records.max_json_depth)
        if split is not None:  # an export's: each preparer parses its own batches only
            with contextlib.suppress(Unsplit):  # rolled back: read the whole file first
                return import_cases(
                    store, import_sections(found), split, None, book, now, progress, by=by
                )
        found, n_cases = read_sections(path, source, records)
    return import_cases(
        store,
        import_sections(found),
        iter_cases(path, source, records),
        n_cases,
        book,
        now,
        progress,
        by=by,
    )


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def import_cases(
    store: Any,
    head: dict[str, Any],
    cases: Iterable[Any] | SplitCases,
    n_cases: int | None,
    book: PolicyBook,
    now: int,
    progress: Callable[[str, int | None], Any],
    label: str = "import",
    *,
    parallel: bool | None = None,
    by: str | None = None,
) -> dict[str, int]:
    """The sections of ``head`` and the ``cases`` (any iterable: a file's, a generator's),
    validated and written batch by batch in one transaction (see the module docstring).

    ``parallel`` (default: on a machine with two cores or more, for more than ``BATCH``
    cases): forked processes read, check and evaluate the cases, taking the batches in
    turn, while this one writes them; into an empty SQLite database the case tables'
    secondary indexes are built once at the end rather than row by row (on PostgreSQL
    the importing lead does not own them). ``by``: the login importing (each event's
    ``recorded_by``). ``n_cases`` None: an export's cases (``SplitCases``), counted
    once the first batch is written (the progress bar's total). ``progress(label,
    total)`` gives ``tick(n, total=None)``. Raises Unsplit if the cases are not an
    export's after all (nothing is written)."""
    with store.connection() as conn:
        existing = existing_ids(conn, book, cases=False)
    v = Validation(head, book, existing, now, defer_links=True)
    if head.get("cases") == "not a list":
        v.chk.add("cases", "expected a list")
    if v.chk.problems:  # the head is wrong: write nothing, but report the cases' problems too
        for part in _prepared(v, cases, False, by):
            v.chk.problems.extend(part.problems)
        raise ImportRefused(v.chk.problems)
    first = v.out
    tail = Prepared(operators=first.operators)
    counts = {
        "subscribers": len(first.subscribers),
        "deployments": len(first.deployments),
        "users": len(first.users),
        "cases": 0,
        "events": 0,
    }
    if first.products:
        counts["products"] = len(first.products)
    many = n_cases is None or n_cases > 10 * BATCH  # None: a large file, counted meanwhile
    if parallel is None:
        parallel = (
            (os.cpu_count() or 1) > 1
            and (n_cases is None or n_cases > BATCH)
            and os.name == "posix"
        )
    with progress(label, n_cases) as tick, store.write() as session:
        again = existing_ids(session, book, cases=False)
        clash = [s["id"] for s in first.subscribers if s["id"] in again.subscribers]
        if clash:
            raise ImportRefused(
                [f"import refused: ids added meanwhile by another process: {', '.join(clash[:10])}"]
            )
        if first.replace_policy and (again.has_cases or again.subscribers):
            raise ImportRefused(
                [
                    "import refused: the database was filled meanwhile by another "
                    "process; import again"
                ]
            )
        write_head(session, first)
        waiting: list[Any] = []
        defer = store.is_sqlite and not again.has_cases and many
        revs = _Revs(session, counted=store.is_sqlite)
        event_ids = _EventIds(session, counted=store.is_sqlite)
        with (
            _indexes_built_after(session, defer),
            _long_lived_frozen(),
            contextlib.closing(_prepared(v, cases, parallel, by)) as parts,
        ):
            for k, part in enumerate(parts):
                waiting = _write_part(session, v, part, now, counts, waiting, revs, event_ids)
                tick(part.size)
                if n_cases is None and isinstance(cases, SplitCases):  # the preparers at work
                    n_cases = cases.count()
                    tick(0, n_cases)
                _now_and_then(k)
        named = {lk for pend in waiting for lk in pend.links}
        v.out = tail
        v.pending = waiting
        v.finish(_stored_types(session, named))  # raises: the transaction rolls back
        write_tail(session, tail)
    return counts


#: The columns of a prepared event row (``_Part.events``), its data encoded already.
EVENT_COLS = ("case_id", "at", "kind", "by", "data", "recorded_by", "recorded_at")


@dataclass
class _Part:
    """One batch of cases, checked and evaluated, ready to write (picklable: it crosses
    from the preparing process). The rows of the three big tables are tuples in their
    columns' order with JSON columns encoded (text): a tuple of strings and numbers costs
    a fraction of a dict to pickle, to unpickle and to hand to the driver."""

    size: int  # cases read (valid or not)
    paths: list[str]  # each prepared case's place in the file (cases[i])
    case_cols: tuple[str, ...]
    cases: list[tuple[Any, ...]]  # support_case rows (the first column is the id)
    events: list[tuple[Any, ...]]  # case_event rows, EVENT_COLS
    state_cols: tuple[str, ...]
    states: list[tuple[Any, ...]]  # case_state rows but their rev (case_id first)
    attachments: list[dict[str, Any]]
    escalations: list[dict[str, Any]]
    links: list[dict[str, Any]]
    logged: list[tuple[str, str]]  # (case id, subscriber) of cases with time logged
    problems: list[str]
    pending: list[Any]

    def without(self, dups: set[str]) -> _Part:
        """This part but the cases of ``dups`` (stored already)."""
        return _Part(
            self.size,
            [],
            self.case_cols,
            [c for c in self.cases if c[0] not in dups],
            [e for e in self.events if e[0] not in dups],
            self.state_cols,
            [s for s in self.states if s[0] not in dups],
            [a for a in self.attachments if a["case_id"] not in dups],
            [e for e in self.escalations if e["case_id"] not in dups],
            [lk for lk in self.links if lk["case_id"] not in dups],
            [x for x in self.logged if x[0] not in dups],
            [],
            [p for p in self.pending if p.facts.id not in dups],
        )


def _rows(dicts: list[dict[str, Any]], first: str) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Dicts with the same keys (two or more) as (columns, tuples), the column ``first``
    first."""
    if not dicts:
        return (), []
    cols = (first, *(k for k in dicts[0] if k != first))
    row = itemgetter(*cols)
    return cols, [row(d) for d in dicts]


def _prepare(
    v: Validation,
    cases: Iterable[Any] | SplitCases,
    now: int,
    by: str | None,
    share: tuple[int, int] = (0, 1),
) -> Iterator[_Part]:
    """Check and evaluate the cases a batch at a time (no database: duplicates of stored
    cases and links to cases of other batches are settled by the writer). ``share``
    ``(i, n)``: only the batches ``k`` with ``k % n == i`` (the others are read past)."""
    index = 0
    dumps = json.JSONEncoder().encode  # json.dumps' own encoder, without its argument checks
    for size, batch in _batches(cases, share):
        if batch is None:  # another preparer's
            index += size
            continue
        v.out, v.pending = Prepared(), []
        n0 = len(v.chk.problems)
        v.cases(list(range(index, index + len(batch))), batch, {}, set())
        out = v.out
        events: list[tuple[Any, ...]] = []
        states: list[dict[str, Any]] = []
        logged: list[tuple[str, str]] = []
        for (facts, evs, terms), ordered in zip(out.histories, out.ordered, strict=True):
            st = project(facts, ordered, terms)
            st["clocks"] = dumps(st["clocks"])
            states.append(st)
            cid = facts.id
            time_logged = False
            for e in evs:  # record order, so ids keep it
                events.append(
                    (
                        cid,
                        e.at,
                        e.kind,
                        e.by,
                        dumps(dict(e.data)) if e.data else "{}",
                        by,
                        e.recorded_at if e.recorded_at is not None else now,
                    )
                )
                time_logged = time_logged or e.kind == "time_logged"
            if time_logged:
                logged.append((cid, facts.subscriber))
        paths = [f"cases[{i}]" for i in _case_indexes(batch, index, out.cases)]
        problems = v.chk.problems[n0:]
        del v.chk.problems[n0:]  # handed over with the part (the writer collects them)
        case_cols, case_rows = _rows(out.cases, "id")
        state_cols, state_rows = _rows(states, "case_id")
        yield _Part(
            size,
            paths,
            case_cols,
            case_rows,
            events,
            state_cols,
            state_rows,
            out.attachments,
            out.escalations,
            out.links,
            logged,
            problems,
            v.pending,
        )
        _now_and_then(index // BATCH)
        index += size


def _batches(
    cases: Iterable[Any] | SplitCases, share: tuple[int, int]
) -> Iterator[tuple[int, list[Any] | None]]:
    """(size, cases) of each batch of ``BATCH`` cases in turn: the cases of the batches
    ``k`` of ``share`` ``(i, n)`` (``k % n == i``), None for the others'. An export's
    cases (``SplitCases``) are parsed for those batches only."""
    if isinstance(cases, SplitCases):
        yield from cases.batches(BATCH, share)
        return
    mine, every = share
    it = iter(cases)
    for k in itertools.count():
        batch = list(itertools.islice(it, BATCH))
        if not batch:
            return
        yield len(batch), (batch if k % every == mine else None)


def _case_indexes(batch: list[Any], start: int, prepared: list[dict[str, Any]]) -> list[int]:
    """The file index of each prepared case (prepared cases keep the batch's order)."""
    where: dict[str, int] = {}
    for i, c in enumerate(batch):
        if isinstance(c, dict) and isinstance(c.get("id"), str):
            where.setdefault(c["id"], start + i)
    return [where.get(c["id"], start) for c in prepared]


#: Processes preparing cases in a parallel import, each every other batch (each reads the
#: whole file: parsing is a seventh of the work, checking and evaluating the rest).
PREPARERS = 2


def _prepared(
    v: Validation, cases: Iterable[Any] | SplitCases, parallel: bool, by: str | None
) -> Generator[_Part, None, None]:
    """The prepared parts in order: made here, or by ``PREPARERS`` forked processes taking
    the batches in turn (a queue of a few parts from each, so that reading, checking and
    writing overlap)."""
    if not parallel:
        yield from _prepare(v, cases, v.recorded_at, by)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queues = [ctx.Queue(maxsize=2) for _ in range(PREPARERS)]
    children = [
        ctx.Process(
            target=_prepare_into,
            args=(q, v, cases, v.recorded_at, by, os.getpid(), (i, PREPARERS)),
            name=f"import-prepare-{i}",
            daemon=True,
        )
        for i, q in enumerate(queues)
    ]
    for child in children:
        child.start()
    try:
        for k in itertools.count():
            item = queues[k % PREPARERS].get()
            if item is None:  # the whole file is read (each preparer ends with None)
                break
            if isinstance(item, BaseException):
                raise item
            yield item
        for child in children:
            child.join()
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join()


def _prepare_into(
    queue: Any,
    v: Validation,
    cases: Iterable[Any] | SplitCases,
    now: int,
    by: str | None,
    parent: int,
    share: tuple[int, int],
) -> None:
    _die_with(parent)
    try:
        for part in _prepare(v, cases, now, by, share):
            _put(queue, part, parent)
        _put(queue, None, parent)
    except (ImportRefused, Unsplit) as exc:
        queue.put(exc)
    except BaseException as exc:  # noqa: BLE001 - reported by the writer, in words
        queue.put(RuntimeError(f"import: {type(exc).__name__}: {exc}"))
    finally:
        queue.close()
        queue.join_thread()


def _die_with(parent: int) -> None:
    """The preparing process ends with the import's (killed, it would wait on its queue
    forever): Linux's parent-death signal, and a look at the parent on every wait."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _put(queue: Any, item: Any, parent: int) -> None:
    import queue as queues

    while True:
        try:
            queue.put(item, timeout=1.0)
            return
        except queues.Full:
            if os.getppid() != parent:
                os._exit(1)


class _Revs:
    """The ``case_state.rev`` of each summary written. On SQLite read once and counted on:
    the import holds the write lock throughout, and with the rev index dropped (see
    ``_indexes_built_after``) every read would scan the table written so far. On
    PostgreSQL read for each batch (an index read), as every writer does."""

    def __init__(self, session: Any, *, counted: bool) -> None:
        self.session = session
        self.next = next_rev(session) if counted else None

    def take(self, n: int) -> int:
        """The first of ``n`` consecutive revs for the summaries about to be written."""
        if self.next is None:
            return next_rev(self.session)
        first = self.next
        self.next += n
        return first


class _EventIds:
    """The id of the first ``case_event`` row a part wrote. On SQLite, where the import
    holds the write lock, a row written gets one more than the largest id so far: counted
    on, and checked against the largest after each part (an index read); if it differs,
    None (the rows are read back). None on PostgreSQL (a sequence other writers share)."""

    def __init__(self, session: Any, *, counted: bool) -> None:
        self.session = session
        self.next = self._largest() + 1 if counted else None

    def _largest(self) -> int:
        q = select(func.coalesce(func.max(event_table.c.id), 0))
        return int(self.session.execute(q).scalar_one())

    def written(self, n: int) -> int | None:
        """The id of the first of the ``n`` rows just written, or None if not known."""
        if self.next is None:
            return None
        first, last = self.next, self._largest()
        self.next = last + 1
        return first if last == first + n - 1 else None


@contextlib.contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """No automatic garbage collection while the cases stream through (the forked preparer
    inherits this): the objects alive before them (modules, the policy book, SQLAlchemy's
    metadata) are frozen, out of its sight, and ``_now_and_then`` collects every
    ``COLLECT_EVERY`` batches. Otherwise each batch's objects, alive while it is worked
    on, are walked by collection after collection: a sixth of the import's time. (Those
    objects hold no cycles; they go as their batch does.)"""
    import gc

    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


#: Batches between two explicit collections while automatic collection is off.
COLLECT_EVERY = 64


def _now_and_then(k: int) -> None:
    """A collection of the young generations after every ``COLLECT_EVERY``-th batch."""
    if k % COLLECT_EVERY == COLLECT_EVERY - 1:
        import gc

        gc.collect(1)


def _write_part(
    session: Any,
    v: Validation,
    part: _Part,
    now: int,
    counts: dict[str, int],
    waiting: list[Any],
    revs: _Revs,
    event_ids: _EventIds,
) -> list[Any]:
    """Write one prepared batch; returns the cases still waiting for linked cases."""
    v.chk.problems.extend(part.problems)
    ids = [c[0] for c in part.cases]
    stored = _stored_types(session, set(ids))
    dups = {cid for cid in ids if cid in stored}
    if dups:  # stored already (before this import, or in an earlier batch)
        for path, cid in zip(part.paths, ids, strict=True):
            if cid in dups:
                v.chk.add(f"{path}.id", f"duplicate case id {cid!r}")
        part = part.without(dups)
    insert_rows(session, case_table, part.case_cols, part.cases)
    insert_rows(session, event_table, EVENT_COLS, part.events)
    first_event = event_ids.written(len(part.events))
    rev = revs.take(len(part.states))
    insert_rows(
        session,
        case_state_table,
        (*part.state_cols, "rev"),
        [(*st, rev + j) for j, st in enumerate(part.states)],
    )
    if part.attachments:
        bulk_insert(session, table_of(Attachment), part.attachments)
    if part.escalations:
        bulk_insert(session, table_of(Escalation), part.escalations)
    _time_entries(session, part.logged, part.events, first_event)
    counts["cases"] += len(part.cases)
    counts["events"] += len(part.events)
    bulk_insert(session, case_link_table, part.links)
    # Cases linking to cases of other batches: checked once those are written.
    pending = waiting + part.pending
    if pending:
        v.out = Prepared()
        named = {lk for pend in pending for lk in pend.links}
        pending = v.resolve(pending, _stored_types(session, named))
        bulk_insert(session, case_link_table, v.out.links)
    return pending


def _time_entries(
    session: Any,
    logged: list[tuple[str, str]],
    events: list[tuple[Any, ...]],
    first_event: int | None,
) -> None:
    """Time entries of the cases with time logged (they need their events' ids): from the
    events just written when their ids are known (``first_event``: the first's), else read
    back. Either way in the same order (so the entries get the same ids): by 900 cases,
    each 900 by case, instant and event id."""
    if not logged:
        return
    sub_of = dict(logged)
    ids = list(sub_of)
    if first_event is not None:
        chunk_of = {cid: i // 900 for i, cid in enumerate(ids)}
        found = [
            (chunk_of[e[0]], e[0], e[1], first_event + k, e[3], e[4])
            for k, e in enumerate(events)
            if e[2] == "time_logged" and e[0] in chunk_of
        ]
        found.sort()
        loads = json.loads
        rows = [
            time_entry_row(eid, cid, sub_of[cid], at, by, loads(data))
            for _, cid, at, eid, by, data in found
        ]
        bulk_insert(session, time_entry_table, rows)
        return
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        q = select(
            event_table.c.id,
            event_table.c.case_id,
            event_table.c.at,
            event_table.c.by,
            event_table.c.data,
        ).where(event_table.c.case_id.in_(chunk), event_table.c.kind == "time_logged")
        rows = [
            time_entry_row(r.id, r.case_id, sub_of[r.case_id], r.at, r.by, r.data)
            for r in session.execute(q)
        ]
        bulk_insert(session, time_entry_table, rows)


#: Secondary indexes an import into an empty database builds once at the end (a sort)
#: instead of entry by entry: the case tables', but not case_event (case_id, at, id),
#: which the import reads itself (time entries).
_DEFERRED_INDEX_TABLES = ("support_case", "case_state", "time_entry")


@contextlib.contextmanager
def _indexes_built_after(session: Any, defer: bool) -> Iterator[None]:
    """Drop the case tables' secondary indexes now and create them again at the end, in
    the import's transaction (DDL is transactional on SQLite and PostgreSQL: a refused
    import leaves them as they were). Only into an empty database."""
    if not defer:
        yield
        return
    from sqlmodel import SQLModel

    conn = session.connection()
    indexes = [
        ix for name in _DEFERRED_INDEX_TABLES for ix in SQLModel.metadata.tables[name].indexes
    ]
    for ix in indexes:
        ix.drop(conn)
    yield
    for ix in indexes:
        ix.create(conn)


def _stored_types(session: Any, ids: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    listed = sorted(ids)
    for i in range(0, len(listed), 900):
        chunk = listed[i : i + 900]
        out.update(
            (r[0], r[1])
            for r in session.execute(
                select(case_table.c.id, case_table.c.type).where(case_table.c.id.in_(chunk))
            )
        )
    return out
