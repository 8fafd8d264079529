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
from collections.abc import Callable, Iterator
from typing import Any

import ijson
from sqlalchemy import select

from console.importer import (
    ImportRefused,
    Prepared,
    Validation,
    existing_ids,
    read_document,
    write_cases,
    write_head,
    write_tail,
)
from console.records import C, L
from console.rules.policy import Records
from console.rules.policy_book import PolicyBook

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
    return ImportRefused(["(file): expected a JSON object with subscribers, deployments, "
                          "users, cases"])


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


def import_file(store: Any, path: str, source: str, book: PolicyBook, now: int,
                progress: Callable[[str, int], Any]) -> dict[str, int]:
    """Validate and write the file at ``path`` in one transaction; returns the counts.
    ``progress(label, total)`` is a context manager giving a ``tick(n)`` (a bar on a
    terminal). Raises ImportRefused with every problem found (nothing written)."""
    try:
        return _import_streamed(store, path, source, book, now, progress)
    except _ReadWhole as whole:
        return _import_document(store, whole.doc, book, now, progress)


def _import_document(store: Any, doc: Any, book: PolicyBook, now: int,
                     progress: Callable[[str, int], Any]) -> dict[str, int]:
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
            raise ImportRefused([f"import refused: ids added meanwhile by another process: "
                                 f"{', '.join(clash[:10])}"])
        if prep.replace_policy and (again.cases or again.subscribers):
            raise ImportRefused(["import refused: the database was filled meanwhile by another "
                                 "process; import again"])
        return write(session, prep, now, tick)


def _import_streamed(store: Any, path: str, source: str, book: PolicyBook, now: int,
                     progress: Callable[[str, int], Any]) -> dict[str, int]:
    records = book.at(now).records
    head, n_cases = read_sections(path, source, records)
    head = {k: v for k, v in head.items() if k not in ("at", "expected")}
    with store.connection() as conn:
        existing = existing_ids(conn, book, cases=False)
    v = Validation(head, book, existing, now, defer_links=True)
    if head.get("cases") == "not a list":
        v.chk.add("cases", "expected a list")
    first = v.out
    tail = Prepared(operators=first.operators)
    counts = {"subscribers": len(first.subscribers), "deployments": len(first.deployments),
              "users": len(first.users), "cases": 0, "events": 0}
    if first.products:
        counts["products"] = len(first.products)
    with progress("import", n_cases) as tick, store.write() as session:
        again = existing_ids(session, book, cases=False)
        clash = [s["id"] for s in first.subscribers if s["id"] in again.subscribers]
        if clash:
            raise ImportRefused([f"import refused: ids added meanwhile by another process: "
                                 f"{', '.join(clash[:10])}"])
        if first.replace_policy and (again.has_cases or again.subscribers):
            raise ImportRefused(["import refused: the database was filled meanwhile by another "
                                 "process; import again"])
        write_head(session, first)
        index = 0
        batch: list[Any] = []
        for case in iter_cases(path, source, records):
            batch.append(case)
            if len(batch) >= BATCH:
                _batch(session, v, index, batch, now, counts)
                tick(len(batch))
                index += len(batch)
                batch = []
        if batch:
            _batch(session, v, index, batch, now, counts)
            tick(len(batch))
        named = {lk for pend in v.pending for lk in pend.links}
        v.out = tail
        v.finish(_stored_types(session, named))  # raises: the transaction rolls back
        write_tail(session, tail)
    return counts


def _batch(session: Any, v: Validation, start: int, raw: list[Any], now: int,
           counts: dict[str, int]) -> None:
    """Validate one batch of cases against what the database holds, and write it (valid
    cases are written even after a problem: the transaction is rolled back at the end,
    and later duplicates and links are still found)."""
    ids = {c["id"] for c in raw if isinstance(c, dict) and isinstance(c.get("id"), str)}
    named = {lk for c in raw if isinstance(c, dict) and isinstance(c.get("links"), list)
             for lk in c["links"] if isinstance(lk, str)}
    stored = _stored_types(session, ids | named)
    v.out = Prepared()
    v.cases(list(range(start, start + len(raw))), raw, dict(stored), ids & set(stored))
    counts["events"] += write_cases(session, v.out, now)
    counts["cases"] += len(v.out.cases)
    if v.out.links:
        from sqlalchemy import insert

        session.execute(insert(L), v.out.links)


def _stored_types(session: Any, ids: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    listed = sorted(ids)
    for i in range(0, len(listed), 900):
        chunk = listed[i : i + 900]
        out.update((r[0], r[1]) for r in session.execute(
            select(C.c.id, C.c.type).where(C.c.id.in_(chunk))))
    return out
