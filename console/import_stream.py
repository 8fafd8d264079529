"""``support-console import`` of a file of any size, in constant memory.

A million-case export is a gigabyte of JSON; held as Python objects it would be ten. The
file is read twice, never held:

1. the sections other than ``cases`` (subscribers, deployments, users, policy versions,
   products, operators: small), wherever they stand in the document, and the number of
   cases; nesting deeper than the policy's limit is refused here, whatever section it is
   in (``ijson``'s event parser);
2. the cases one by one (``ijson.items``: the C parser builds each case), validated and
   written in batches of ``BATCH`` inside the one transaction of the import. Duplicate
   ids and the types of linked cases are asked of the database for each batch (earlier
   batches are in it already), so no set of a million ids is kept either; a case that
   links to a case later in the file is checked once all are written.

Any problem anywhere rolls the whole transaction back: all or nothing, as before. The
checks are ``console.importer.Validation``'s, the same as for a document in memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import ijson
from sqlalchemy import select

from console.importer import (
    ImportRefused,
    Prepared,
    Validation,
    bulk_insert,
    existing_ids,
    read_document,
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
from console.rules.clocks import sort_events
from console.rules.policy import Records
from console.rules.policy_book import PolicyBook
from models import Attachment, Escalation, table_of

BATCH = 2000
#: A file this small that does not parse is parsed again by the standard library, whose
#: messages say line and column (and name NaN or Infinity); a larger one gets ijson's.
DIAGNOSE_LIMIT = 64 * 1024 * 1024
_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


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


def read_sections(path: str, source: str, records: Records) -> tuple[dict[str, Any], int]:
    """Pass 1: every top-level section but ``cases``, and how many cases there are.

    Raises ImportRefused (one line) for a file that is not a JSON object, not valid JSON,
    or nested deeper than ``records.max_json_depth``."""
    limit = records.max_json_depth
    sections: dict[str, Any] = {}
    n_cases = 0
    depth = 0
    key: str | None = None
    builder: Any = None
    not_object = False
    try:
        with open(path, "rb") as fh:
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if event in _STARTS:
                    depth += 1
                    if depth > limit:
                        raise ImportRefused([f"{source}: nested deeper than {limit} levels"])
                    if depth == 1:
                        not_object = event != "start_map"
                        continue
                elif event in _ENDS:
                    depth -= 1
                    if depth == 0:
                        break
                elif depth == 0:
                    raise _not_an_object()
                if not_object:  # read on: a nesting too deep is what to say first
                    continue
                if depth == 1 and event == "map_key":
                    key = value
                    builder = None
                    continue
                if key == "cases":
                    if prefix == "cases.item" and event not in _ENDS:
                        n_cases += 1
                    elif prefix == "cases" and event not in ("start_array", "end_array"):
                        sections["cases"] = "not a list"
                    continue
                if builder is None:
                    builder = ijson.ObjectBuilder()
                builder.event(event, value)
                if depth == 1:  # the value is complete (a scalar, or a container closed)
                    assert key is not None
                    sections[key] = builder.value
                    builder = None
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        raise diagnose(path, source, records, exc) from None
    except OSError as exc:
        raise ImportRefused([f"{source}: cannot read: {exc.strerror}"]) from None
    if not_object:
        raise _not_an_object()
    return sections, n_cases


def _not_an_object() -> ImportRefused:
    return ImportRefused(
        ["(file): expected a JSON object with subscribers, deployments, users, cases"]
    )


class _ReadWhole(Exception):
    """ijson refused a small file that the standard library reads (a number beyond 64
    bits, say): import it the way a document in memory is imported."""

    def __init__(self, doc: Any) -> None:
        super().__init__("read whole")
        self.doc = doc


def diagnose(path: str, source: str, records: Records, exc: BaseException) -> Exception:
    """One line saying why the file is not JSON the import takes (ImportRefused), or, for a
    small file the standard library reads after all, ``_ReadWhole`` with its document."""
    try:
        size = os.path.getsize(path)
    except OSError:
        size = DIAGNOSE_LIMIT + 1
    if size <= DIAGNOSE_LIMIT:
        try:
            with open(path, "rb") as fh:
                return _ReadWhole(read_document(fh.read(), source, records))
        except ImportRefused as refused:
            return refused
    if isinstance(exc, UnicodeDecodeError):
        return ImportRefused([f"{source}: not UTF-8 text"])
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "integer overflow" in first:
        return ImportRefused([f"{source}: a number beyond 64 bits (no field takes one)"])
    return ImportRefused([f"{source}: not valid JSON: {first}"])


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
    progress: Callable[[str, int], Any],
    *,
    by: str | None = None,
) -> dict[str, int]:
    """Validate and write the file at ``path`` in one transaction; returns the counts.
    ``progress(label, total)`` is a context manager giving a ``tick(n)`` (a bar on a
    terminal); ``by``: the login importing (each event's ``recorded_by``). Raises
    ImportRefused with every problem found (nothing written)."""
    try:
        return _import_streamed(store, path, source, book, now, progress, by)
    except _ReadWhole as whole:
        return _import_document(store, whole.doc, book, now, progress, by)


def _import_document(
    store: Any,
    doc: Any,
    book: PolicyBook,
    now: int,
    progress: Callable[[str, int], Any],
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
    progress: Callable[[str, int], Any],
    by: str | None,
) -> dict[str, int]:
    records = book.at(now).records
    head, n_cases = read_sections(path, source, records)
    head = {k: v for k, v in head.items() if k not in ("at", "expected")}
    return import_cases(
        store, head, iter_cases(path, source, records), n_cases, book, now, progress, by=by
    )


def import_cases(
    store: Any,
    head: dict[str, Any],
    cases: Iterable[Any],
    n_cases: int,
    book: PolicyBook,
    now: int,
    progress: Callable[[str, int], Any],
    label: str = "import",
    *,
    parallel: bool | None = None,
    by: str | None = None,
) -> dict[str, int]:
    """The sections of ``head`` and the ``cases`` (any iterable: a file's, a generator's),
    validated and written batch by batch in one transaction (see the module docstring).

    ``parallel`` (default: on a machine with two cores or more, for more than ``BATCH``
    cases): a forked process reads, checks and evaluates the cases while this one writes
    them; into an empty SQLite database the case tables' secondary indexes are built once
    at the end rather than row by row (on PostgreSQL the importing lead does not own them).
    ``by``: the login importing (each event's ``recorded_by``)."""
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
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1 and n_cases > BATCH and os.name == "posix"
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
        defer = store.is_sqlite and not again.has_cases and n_cases > 10 * BATCH
        with _indexes_built_after(session, defer):
            for part in _prepared(v, cases, parallel, by):
                waiting = _write_part(session, v, part, now, counts, waiting)
                tick(part.size)
        named = {lk for pend in waiting for lk in pend.links}
        v.out = tail
        v.pending = waiting
        v.finish(_stored_types(session, named))  # raises: the transaction rolls back
        write_tail(session, tail)
    return counts


@dataclass
class _Part:
    """One batch of cases, checked and evaluated, ready to write (picklable: it crosses
    from the preparing process)."""

    size: int  # cases read (valid or not)
    paths: list[str]  # each prepared case's place in the file (cases[i])
    cases: list[dict[str, Any]]
    events: list[dict[str, Any]]
    states: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    escalations: list[dict[str, Any]]
    links: list[dict[str, Any]]
    logged: list[tuple[str, str]]  # (case id, subscriber) of cases with time logged
    problems: list[str]
    pending: list[Any]


def _prepare(v: Validation, cases: Iterable[Any], now: int, by: str | None) -> Iterator[_Part]:
    """Check and evaluate the cases a batch at a time (no database: duplicates of stored
    cases and links to cases of other batches are settled by the writer)."""
    index = 0
    batch: list[Any] = []
    for case in chain(cases, [_END]):
        if case is not _END:
            batch.append(case)
            if len(batch) < BATCH:
                continue
        if not batch:
            break
        v.out, v.pending = Prepared(), []
        n0 = len(v.chk.problems)
        v.cases(list(range(index, index + len(batch))), batch, {}, set())
        out = v.out
        events: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        logged: list[tuple[str, str]] = []
        for facts, evs, terms in out.histories:
            ordered = sort_events(evs)
            states.append(project(facts, ordered, terms))
            for e in evs:  # record order, so ids keep it
                events.append(
                    {
                        "case_id": facts.id,
                        "at": e.at,
                        "kind": e.kind,
                        "by": e.by,
                        "data": dict(e.data),
                        "recorded_by": by,
                        "recorded_at": e.recorded_at if e.recorded_at is not None else now,
                    }
                )
            if any(e.kind == "time_logged" for e in evs):
                logged.append((facts.id, facts.subscriber))
        paths = [f"cases[{i}]" for i in _case_indexes(batch, index, out.cases)]
        problems = v.chk.problems[n0:]
        del v.chk.problems[n0:]  # handed over with the part (the writer collects them)
        yield _Part(
            len(batch),
            paths,
            out.cases,
            events,
            states,
            out.attachments,
            out.escalations,
            out.links,
            logged,
            problems,
            v.pending,
        )
        index += len(batch)
        batch = []
        if case is _END:
            break


_END = object()


def _case_indexes(batch: list[Any], start: int, prepared: list[dict[str, Any]]) -> list[int]:
    """The file index of each prepared case (prepared cases keep the batch's order)."""
    where: dict[str, int] = {}
    for i, c in enumerate(batch):
        if isinstance(c, dict) and isinstance(c.get("id"), str):
            where.setdefault(c["id"], start + i)
    return [where.get(c["id"], start) for c in prepared]


def _prepared(
    v: Validation, cases: Iterable[Any], parallel: bool, by: str | None
) -> Iterator[_Part]:
    """The prepared parts in order: made here, or by a forked process (a queue of a few
    parts between the two, so that reading and writing overlap)."""
    if not parallel:
        yield from _prepare(v, cases, v.recorded_at, by)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue(maxsize=4)
    child = ctx.Process(
        target=_prepare_into,
        args=(queue, v, cases, v.recorded_at, by, os.getpid()),
        name="import-prepare",
        daemon=True,
    )
    child.start()
    try:
        while True:
            item = queue.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join()


def _prepare_into(
    queue: Any, v: Validation, cases: Iterable[Any], now: int, by: str | None, parent: int
) -> None:
    _die_with(parent)
    try:
        for part in _prepare(v, cases, now, by):
            _put(queue, part, parent)
        _put(queue, None, parent)
    except ImportRefused as exc:
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


def _write_part(
    session: Any, v: Validation, part: _Part, now: int, counts: dict[str, int], waiting: list[Any]
) -> list[Any]:
    """Write one prepared batch; returns the cases still waiting for linked cases."""
    v.chk.problems.extend(part.problems)
    ids = [c["id"] for c in part.cases]
    stored = _stored_types(session, set(ids))
    dups = {cid for cid in ids if cid in stored}
    if dups:  # stored already (before this import, or in an earlier batch)
        for path, cid in zip(part.paths, ids, strict=True):
            if cid in dups:
                v.chk.add(f"{path}.id", f"duplicate case id {cid!r}")
        keep = [c for c in part.cases if c["id"] not in dups]
        part = _Part(
            part.size,
            [],
            keep,
            [e for e in part.events if e["case_id"] not in dups],
            [s for s in part.states if s["case_id"] not in dups],
            [a for a in part.attachments if a["case_id"] not in dups],
            [e for e in part.escalations if e["case_id"] not in dups],
            [lk for lk in part.links if lk["case_id"] not in dups],
            [x for x in part.logged if x[0] not in dups],
            [],
            [p for p in part.pending if p.facts.id not in dups],
        )
    bulk_insert(session, case_table, part.cases)
    bulk_insert(session, event_table, part.events)
    rev = next_rev(session)
    bulk_insert(
        session, case_state_table, [dict(st, rev=rev + j) for j, st in enumerate(part.states)]
    )
    if part.attachments:
        bulk_insert(session, table_of(Attachment), part.attachments)
    if part.escalations:
        bulk_insert(session, table_of(Escalation), part.escalations)
    _time_entries(session, part.logged)
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


def _time_entries(session: Any, logged: list[tuple[str, str]]) -> None:
    """Time entries of the cases with time logged (they need their events' ids)."""
    if not logged:
        return
    sub_of = dict(logged)
    ids = list(sub_of)
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
