"""Plain SQL through the database's own driver (sqlite3 or psycopg).

The readers of what a queue needs besides its rows (the policy versions, the subscribers'
terms, the support matrix) are written here in SQL rather than SQLAlchemy's expressions,
so that they run on a SQLAlchemy connection (the console, every command) and on a bare
driver connection alike: ``queue --json`` reads SQLite without importing SQLAlchemy and
the models, a third of a second of each of its two processes' time (``console.queue_json``).

``rows`` gives what SQLAlchemy's column types would: JSON decoded, dates as dates,
booleans as bools (sqlite3 gives text and integers; psycopg gives them typed already).
``:name`` parameters, as in SQLAlchemy's ``text()``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")

_PARAM = re.compile(r":(\w+)")


def driver(conn: Any) -> Any:
    """The driver's connection of ``conn`` (a SQLAlchemy Connection or Session, inside its
    transaction, begun now if none is: the snapshot its other reads see; or a driver's
    connection, returned as it is)."""
    if hasattr(conn, "cursor"):  # a DB-API connection already
        return conn
    if hasattr(conn, "get_bind"):  # a Session
        conn = conn.connection()
    if not conn.in_transaction():
        conn.begin()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None  # (None only once the connection is closed)
    return dbapi


def is_sqlite(conn: Any) -> bool:
    """Is ``conn`` (any of ``driver``'s kinds) a SQLite connection?"""
    if hasattr(conn, "cursor"):
        return isinstance(conn, sqlite3.Connection)
    bind = conn.get_bind() if hasattr(conn, "get_bind") else conn
    return bool(bind.dialect.name == "sqlite")


def stream(
    conn: Any,
    sql: str,
    params: dict[str, Any],
    pause: Callable[[], object] | None = None,
    size: int = 2000,
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` as the driver's plain tuples, ``size`` at a time, inside the
    connection's transaction: SQLAlchemy's row objects would cost 2.7 µs a row, a quarter
    of a 100k-row queue read, and a list of 100k tuples 40 MB the console does not need.
    ``pause``: called between batches (see ``console.queue.load_queue``)."""
    raw = driver(conn)
    cur = _executed(raw, sql, params)
    try:
        while True:
            if pause is not None:
                pause()
            batch = cur.fetchmany(size)
            if not batch:
                break
            yield from batch
    finally:
        cur.close()


def paced(items: Iterable[T], pause: Callable[[], object] | None, every: int = 200) -> Iterator[T]:
    """``items``, calling ``pause`` before the first and after every ``every`` of them: a
    read in the background of the console's key handling (``pause`` may wait while a key
    press is handled: see ``screens.app.ConsoleApp.pause_for_keys``). None: ``items``."""
    if pause is None:
        yield from items
        return
    for i, item in enumerate(items):
        if i % every == 0:
            pause()
        yield item


def _executed(raw: Any, sql: str, params: dict[str, Any]) -> Any:
    """A cursor of the driver's connection ``raw`` having run ``sql``."""
    cur = raw.cursor()
    try:
        if isinstance(raw, sqlite3.Connection):
            cur.execute(sql, params)  # sqlite3 takes :name parameters as they are
        else:
            cur.execute(_PARAM.sub(r"%(\1)s", sql), params)
    except BaseException:
        cur.close()
        raise
    return cur


_RECORDS: dict[tuple[str, ...], type] = {}


def rows(
    conn: Any,
    sql: str,
    params: dict[str, Any] | None = None,
    *,
    json_cols: Collection[str] = (),
    date_cols: Collection[str] = (),
    bool_cols: Collection[str] = (),
) -> list[Any]:
    """Rows of ``sql`` as named tuples (``row.column``), the named columns decoded on
    SQLite as SQLAlchemy's JSON, Date and Boolean types would."""
    raw = driver(conn)
    cur = _executed(raw, sql, params or {})
    try:
        names = tuple(d[0] for d in cur.description)
        found = cur.fetchall()
    finally:
        cur.close()
    record = _RECORDS.get(names)
    if record is None:
        record = _RECORDS[names] = namedtuple("Record", names, rename=True)  # noqa: PYI024
    if not isinstance(raw, sqlite3.Connection):
        return [record(*r) for r in found]
    decode: list[tuple[int, Callable[[Any], Any]]] = [
        (i, _DECODERS[kind])
        for i, name in enumerate(names)
        for kind, cols in (("json", json_cols), ("date", date_cols), ("bool", bool_cols))
        if name in cols
    ]
    out = []
    for r in found:
        if decode:
            r = list(r)
            for i, fn in decode:
                if r[i] is not None:
                    r[i] = fn(r[i])
        out.append(record(*r))
    return out


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "json": json.loads,
    "date": date.fromisoformat,
    "bool": bool,
}


def in_list(prefix: str, values: Collection[Any], params: dict[str, Any]) -> str:
    """``(:p0, :p1, ...)`` for ``values``, added to ``params`` (``(NULL)`` for none: an
    empty ``IN ()`` is not SQL)."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    params.update(zip(names, values, strict=True))
    return "(" + (", ".join(":" + n for n in names) or "NULL") + ")"
