"""The case queue at an instant (policy §13): the one path used by the CLI (``queue``,
``check``), the sweep, the products report, the subscriber view and the console.

Each listed case is read from its stored projection (``case_state``, one table, the driver's
rows) into a ``QueueRow`` (``console.queue_rows``: its risk key derived from the stored
columns without building clock objects, its clocks carried to any instant on demand: the CLI
asks for every row, the console only for the rows on screen).

A case whose projection cannot be carried to ``at`` (an event after ``at``, a subscriber
suspension boundary passed, something recorded after ``--as-known-at``, or a what-if policy
file the projection was not computed under) is evaluated from its events instead. Both give
the same answer; tests/test_queue_paths.py holds the order and the clocks equal to evaluating
every case from its events.

History costs nothing here: every read goes through ``case_state``'s indexes on ``listed``
(see ``_listed_sql``), so a million closed cases are never read. No Textual in this module:
the console calls it from worker threads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from console.plain_sql import is_sqlite, rows, stream
from console.queue_rows import (  # noqa: F401 - re-exported: the queue's rows and order
    QueueRow,
    _carry,
    _key,
    breach_count,
    earliest_boundary,
    key_at,
    retick,
    running_breaches,
    usable,
)
from console.rules.clocks import (
    NO_PRIORITY_RANK,
    PRIORITY_RANK,
    CaseEval,
    Event,
    evaluate,
)
from console.rules.lifecycle import assignee_of
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook, TermsMap
from console.stored_terms import load_terms
from console.support_matrix import deployment_support

if TYPE_CHECKING:
    from sqlalchemy import Row

    from console.records import Conn as StoreConn

    #: The store's connection or session, or (``queue --json``, ``check``) a SQLite
    #: driver's own connection (``console.plain_sql``).
    Conn = StoreConn | sqlite3.Connection

_COLUMNS = (
    "s.case_id, s.subscriber_id, s.status, s.type, s.priority, s.level, s.reported_at, "
    "s.anchor_at, s.valid_until, s.next_due, s.clocks, s.title, s.deployment_id, s.escalated, "
    "s.recorded_upto, s.assignee, NULL"
)
#: The same with the stored ``queue --json`` template (``console.output.queue_template``):
#: read only by ``queue --json``; the console's 100k rows would hold 90 MB more.
_JSON_COLUMNS = _COLUMNS.removesuffix("NULL") + "s.queue_json"
_FROM = "FROM case_state s"


def _compact_columns(sqlite: bool) -> str:
    """``_COLUMNS`` with the stored summary as compact JSON text, made by the database: no
    spaces after ``,``/``:`` and no ``false`` flags (``ack``, ``await``, ``susp``, ``vwait``
    default to false; the summary holds no free text). Half the bytes of a row a console
    keeps for each of 100k cases; PostgreSQL's driver would give a dict, several times
    larger. The same JSON to every reader (``json`` decodes it to the same values)."""
    expr = "s.clocks" if sqlite else "CAST(s.clocks AS text)"
    for old in (", ", ": "):
        expr = f"replace({expr}, '{old}', '{old[0]}')"
    for flag in ("ack", "await", "susp", "vwait"):
        # (no ``:name`` in the text: ``_stream`` turns those into PostgreSQL's parameters)
        expr = f"replace({expr}, ',\"{flag}\":' || 'false', '')"
    return _COLUMNS.replace("s.clocks", expr + " AS clocks")


TOP_PAGE = 256  # rows read at least per page by ``top`` (a test makes it tiny)
PAUSED_BATCH = 250  # rows between two ``pause`` calls (a few milliseconds of work)

#: The order a paused read asks the database for: close to the risk order (group 2 by due,
#: the cases without a running due by when reported), so that the final sort, which holds
#: the interpreter from start to end, has little left to do.
_NEAR_RISK_ORDER = " ORDER BY next_due, reported_at"


# -- reading ---------------------------------------------------------------------------------


def _listed_sql(
    where: str = "", *, scan: bool = False, sqlite: bool = True, columns: str = _COLUMNS
) -> str:
    """The cases listed at ``:at``, as two reads (UNION ALL) of case_state alone:

    - ``listed`` (open or resolved now): by ``ix_case_state_listed_reported_at``, or, when
      most cases are listed, a plain scan (``scan``; SQLite's ``NOT INDEXED``: with no
      statistics on a two-valued column it would walk the index and fetch 100k rows one by
      one, four times slower than reading the table);
    - closed now but after ``:at`` (their last event, the close, lies after it): by
      ``ix_case_state_listed_anchor_at``; empty for "now", the closed-since cases for a past
      ``--at``.

    Query plans measured (``bench/history.py --pg``): on SQLite 3.40 with 20,000 open and
    1,000,000 closed cases, ``SEARCH s USING INDEX ix_case_state_listed_reported_at
    (listed=? AND reported_at<?)`` and ``SEARCH s USING INDEX
    ix_case_state_listed_anchor_at (listed=? AND anchor_at>?)``; on PostgreSQL 15 (after
    ANALYZE) with 2,000 open and 100,000 closed, ``Index Scan using
    ix_case_state_listed_next_due`` and ``Index Scan using ix_case_state_listed_anchor_at``:
    the closed cases are never read. A single ``WHERE listed OR anchor_at > :at`` is a full
    scan of case_state on both (``SCAN s``; ``Seq Scan on case_state``), which is what made
    history slow.
    """
    first = f"{_FROM} NOT INDEXED" if scan else _FROM
    # The closed branch keeps to ix_case_state_listed_anchor_at: the unary ``+`` keeps
    # SQLite from walking a million closed cases by reported_at, subscriber or type
    # (PostgreSQL has no unary + on text, and its planner needs no such hint).
    closed = where
    for col in ("s.reported_at", "s.subscriber_id", "s.type", "s.escalated"):
        if sqlite or col == "s.reported_at":
            closed = closed.replace(f" {col} ", f" +{col} ")
    return (
        f"SELECT {columns} {first} WHERE s.listed = :t AND s.reported_at <= :at{where} "
        f"UNION ALL SELECT {columns} {_FROM} WHERE s.listed = :f AND s.anchor_at > :at "
        f"AND +s.reported_at <= :at{closed}"
    )


def _raw(conn: Conn, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (``:name`` parameters) as the driver's plain tuples (see
    ``console.plain_sql.stream``)."""
    return list(stream(conn, sql, params))


def _stream(
    conn: Conn, sql: str, params: dict[str, Any], pause: Callable[[], object] | None = None
) -> Iterator[tuple[Any, ...]]:
    """The listed rows, a batch at a time (smaller ones, between which ``pause`` is called,
    in a paused read: see ``load_queue``)."""
    return stream(conn, sql, params, pause, 2000 if pause is None else PAUSED_BATCH)


def _mostly_listed(conn: Conn) -> bool:
    """SQLite only: are most of the cases listed (a young desk), so that reading the whole
    table beats the index? Two index reads: the listed count, the largest rowid."""
    if not is_sqlite(conn):
        return False  # PostgreSQL's planner has statistics (autovacuum's ANALYZE)
    ((listed, total),) = rows(
        conn,
        "SELECT (SELECT count(*) FROM case_state WHERE listed = :t), "
        "(SELECT max(rowid) FROM case_state)",
        {"t": True},
    )
    return bool(listed * 3 > (total or 0))


def load_queue(
    conn: Conn,
    policy: Policy | PolicyBook | None,
    at: int,
    *,
    terms: TermsMap | None = None,
    case_ids: Iterable[str] | None = None,
    subscriber: str | None = None,
    top: int | None = None,
    reported: tuple[int | None, int | None] | None = None,
    due: tuple[int | None, int | None] | None = None,
    unescalated_incidents: bool = False,
    known_at: int | None = None,
    compact: bool = True,
    with_json: bool = False,
    pause: Callable[[], object] | None = None,
) -> list[QueueRow]:
    """Listed cases at ``at`` in risk order.

    ``case_ids``/``subscriber``: only those cases; ``top=N``: exactly the first N rows of
    the whole queue, reading little more than N rows (the console's first screen);
    ``reported=(lo, hi)``: cases reported in [lo, hi) (a parallel reader's share);
    ``due=(lo, hi)``: a share of the risk order (``queue --json``): the cases whose stored
    summary carries to ``at`` and whose ``next_due`` lies in (lo, hi] (``hi`` None: or no
    due at all); the first share (``lo`` None) also takes every case that cannot be carried;
    ``(None, None)``, the one share of one core, every case;
    ``unescalated_incidents``: incidents not escalated yet (what a sweep reads);
    ``known_at``: only what was recorded by then (``--as-known-at``); ``compact``: share
    the rows' repeated strings and read the stored summaries as compact JSON text (a
    console holding them; a command writing JSON need not). ``pause``: a read in the
    background of an interactive thread (the console's queue): called every few hundred
    rows (it may wait while a key press is handled), and the database sorts the rows close
    to the risk order first (in C, without the interpreter's lock), so that the final sort
    holds the lock for a few milliseconds instead of a tenth of a second at 100k rows.
    ``with_json``: read each row's stored JSON template too (``queue --json``).
    """
    if terms is None:
        assert policy is not None
        terms = load_terms(conn, policy, known_at=known_at)
    # The stored summaries were computed under the desk's policy: a what-if policy file
    # evaluates every case from its events instead.
    what_if = terms.book.what_if is not None
    if top is not None and not what_if and known_at is None and case_ids is None:
        return _load_top(conn, terms, at, top)
    where = ""
    params: dict[str, Any] = {"at": at, "t": True, "f": False}
    if unescalated_incidents:
        where += " AND s.type = 'incident' AND s.escalated = :f"
    if known_at is not None:
        where += (
            " AND EXISTS (SELECT 1 FROM support_case c WHERE c.id = s.case_id"
            " AND COALESCE(c.recorded_at, c.reported_at) <= :k)"
        )
        params["k"] = known_at
    if subscriber is not None:
        where += " AND s.subscriber_id = :sub"
        params["sub"] = subscriber
    if reported is not None:
        lo, hi = reported
        if lo is not None:
            where += " AND s.reported_at >= :lo"
            params["lo"] = lo
        if hi is not None:
            where += " AND s.reported_at < :hi"
            params["hi"] = hi
    if due is not None:
        where += _due_share(due, params)
    if case_ids is not None:
        ids = list(case_ids)
        names = [f"id{i}" for i in range(len(ids))]
        params.update(zip(names, ids, strict=True))
        where += f" AND s.case_id IN ({', '.join(':' + n for n in names)})" if ids else " AND 1 = 0"
    selective = case_ids is not None or subscriber is not None
    scan = not selective and _mostly_listed(conn)
    sqlite = is_sqlite(conn)
    columns = _COLUMNS
    if with_json:
        columns = _JSON_COLUMNS  # (the summary as stored: the template's slots follow it)
    elif compact:
        columns = _compact_columns(sqlite)
    sql = _listed_sql(where, scan=scan, sqlite=sqlite, columns=columns)
    if pause is not None:
        sql += _NEAR_RISK_ORDER
    rows, stale = _rows(_stream(conn, sql, params, pause), terms, at, what_if, known_at, compact)
    if stale:
        rows.extend(_evaluate(conn, terms, at, stale, known_at=known_at))
    _add_support(conn, rows, at)
    _flag_terminated(rows, terms, at)
    rows.sort(key=_key)
    return rows


def _due_share(due: tuple[int | None, int | None], params: dict[str, Any]) -> str:
    """The condition of a ``due`` share (see ``load_queue``). A case is carried unless
    ``anchor_at > :at`` or ``valid_until <= :at`` (``_rows``' test without a what-if policy
    or ``known_at``: this split is never used with either)."""
    lo, hi = due
    if lo is None and hi is None:  # one share (one core): every case
        return ""
    params["dlo"], params["dhi"] = lo, hi
    stale = "s.anchor_at > :at OR s.valid_until <= :at"
    if lo is None:
        return f" AND (s.next_due <= :dhi OR {stale})"
    if hi is None:
        in_range = "(s.next_due > :dlo OR s.next_due IS NULL)"
    else:
        in_range = "s.next_due > :dlo AND s.next_due <= :dhi"
    # (not ``NOT (stale)``: with valid_until NULL that is NULL, and the case left out)
    return (
        f" AND {in_range} AND s.anchor_at <= :at AND (s.valid_until IS NULL OR s.valid_until > :at)"
    )


def terminated_subscribers(terms: TermsMap, at: int) -> set[str]:
    """Subscribers whose contract has terminated by ``at`` (their open cases are flagged)."""
    out = set()
    for sid in terms:
        ended = terms[sid].at(at).terminated_at
        if ended is not None and ended <= at:
            out.add(sid)
    return out


def _flag_terminated(rows: list[QueueRow], terms: TermsMap, at: int) -> None:
    ended = terminated_subscribers(terms, at)
    if ended:
        for row in rows:
            row.terminated = row.subscriber in ended


def _rows(
    result: Iterable[Sequence[Any]],
    terms: TermsMap,
    at: int,
    what_if: bool,
    known_at: int | None,
    compact: bool = True,
) -> tuple[list[QueueRow], list[str]]:
    """Rows carried from their projections, and the ids to evaluate from events.

    The hot loop of every queue read (100k rows): one dict lookup for the case's terms
    (per subscriber when the desk has one policy version), shared strings, and the common
    risk key (a running due still ahead) built inline."""
    rows: list[QueueRow] = []
    stale: list[str] = []
    shared: dict[object, Any] = {}  # one object per distinct value (the driver's own)
    keep = shared.setdefault
    case_terms = terms.case
    one_version = len(terms.book.versions) == 1
    by_sub: dict[str, Any] = {}
    rank = PRIORITY_RANK.get
    for rec in result:
        sid = rec[1]
        if one_version:
            t = by_sub.get(sid, _MISSING)
            if t is _MISSING:
                t = by_sub[sid] = case_terms(sid, rec[6]) if sid in terms else None
            if t is None:
                continue
        elif sid in terms:
            t = case_terms(sid, rec[6])
        else:
            continue
        anchor, valid_until = rec[7], rec[8]
        if (
            what_if
            or anchor > at
            or (valid_until is not None and at >= valid_until)
            or (known_at is not None and (rec[14] is None or rec[14] > known_at))
        ):
            stale.append(rec[0])
            continue
        if rec[2] == "closed":
            continue
        row = QueueRow(rec, t, at)
        if compact:  # 100k rows share a few hundred distinct values: keep one string each
            row.subscriber = keep(sid, sid)
            row.status = keep(row.status, row.status)
            row.type = keep(row.type, row.type)
            row.priority = keep(row.priority, row.priority)
            row.level = keep(row.level, row.level)
            row.deployment = keep(row.deployment, row.deployment)
            row.assignee = keep(row.assignee, row.assignee)
            # Instants too: suspension boundaries and dues fall on a few window ends.
            row.valid_until = keep(valid_until, valid_until)
            row.next_due = keep(rec[9], rec[9])
        prio = row.priority
        nd = row.next_due
        if nd is not None and nd > at:
            row.key = (2, nd, rank(prio or "", NO_PRIORITY_RANK), rec[6], rec[0])
        else:
            row.key = key_at(row, at)
        rows.append(row)
    return rows, stale


_MISSING = object()


def _load_top(conn: Conn, terms: TermsMap, at: int, n: int) -> list[QueueRow]:
    """Exactly the first ``n`` rows of the queue at ``at``, reading about ``n`` rows.

    Groups 1 and 2 hold the cases with a running due; a group-1 key's due (a breached
    clock's) is never earlier than the case's ``next_due`` (its earliest running due). So,
    reading in ``next_due`` order (index ``ix_case_state_listed_next_due``), once ``n``
    rows are known whose keys come before anything a later row can have, those are the
    top. Cases whose projection cannot be carried (few: a suspension boundary passed, an
    event just ahead of "now") are read and evaluated apart; without enough rows in
    groups 1 and 2, the whole queue is read.
    """
    params: dict[str, Any] = {"at": at, "t": True, "f": False}
    # Two index range reads (ix_case_state_listed_anchor_at, .._listed_valid_until). The
    # unary ``+`` keeps SQLite's planner off ix_case_state_listed_reported_at, which it
    # would otherwise pick for ``reported_at <= :at`` and read every listed case (0.4 s at
    # 100k); PostgreSQL reads ``+x`` as x.
    stale_sql = (
        f"SELECT {_COLUMNS} {_FROM} WHERE s.listed = :t AND s.anchor_at > :at "
        f"AND +s.reported_at <= :at UNION ALL SELECT {_COLUMNS} {_FROM} "
        "WHERE s.listed = :t AND s.valid_until <= :at AND +s.anchor_at <= :at "
        "AND +s.reported_at <= :at"
    )
    _, stale = _rows(_raw(conn, stale_sql, params), terms, at, False, None)
    extra = _evaluate(conn, terms, at, stale) if stale else []
    by_due = (
        f"SELECT {_COLUMNS} {_FROM} WHERE s.listed = :t AND s.next_due IS NOT NULL "
        "AND +s.reported_at <= :at ORDER BY s.listed, s.next_due LIMIT :lim OFFSET :off"
    )
    known = list(extra)
    offset, page = 0, max(2 * n, TOP_PAGE)
    while True:
        params.update(lim=page, off=offset)
        result = _raw(conn, by_due, params)
        batch, _ = _rows(result, terms, at, False, None)
        known.extend(batch)  # (a row that cannot be carried is among ``extra``)
        known.sort(key=_key)
        offset += page
        if len(result) < page:  # every case with a running due is read
            if len(known) >= n and known[n - 1].key[0] <= 2:
                break
            return load_queue(conn, None, at, terms=terms)[:n]
        if len(known) >= n and result:
            # Unread rows have next_due >= last: a key (1, >= last, ...) or (2, >= last,
            # ...), and never group 1 while ``last`` is still ahead of ``at``.
            last = result[-1][9]
            k = known[n - 1].key
            if k < (1, last) or (last > at and k < (2, last)):
                break
        page *= 4
    rows = known[:n]
    _add_support(conn, rows, at)
    _flag_terminated(rows, terms, at)
    return rows


def _add_support(conn: Conn, rows: list[QueueRow], at: int) -> None:
    """Each row's end-of-support flag: one query for all deployments, a lookup per row."""
    support = deployment_support(conn, at)
    if not any(past or eos for eos, past in support.values()):
        return
    for row in rows:
        if row.deployment is not None:
            row.support = support.get(row.deployment, (None, False))


class NeedsEvents(Exception):
    """A queue read on a driver's connection alone met cases to evaluate from their events
    (which needs SQLAlchemy's readers): the caller reads again on a SQLAlchemy one."""


def _evaluate(
    conn: Conn, terms: TermsMap, at: int, ids: list[str], *, known_at: int | None = None
) -> list[QueueRow]:
    """Rows evaluated from their events (exact at any instant). Only on a SQLAlchemy
    connection: a read on the driver's connection alone (``queue --json``) raises
    ``NeedsEvents`` instead."""
    if isinstance(conn, sqlite3.Connection):
        raise NeedsEvents(len(ids))
    from sqlalchemy import select

    from console.records import case_facts, case_table, load_events

    events = load_events(conn, ids, known_at=known_at)
    out = []
    for i in range(0, len(ids), 900):
        for r in conn.execute(select(case_table).where(case_table.c.id.in_(ids[i : i + 900]))):
            if r.subscriber_id not in terms:
                continue
            evs = events[r.id]
            t = terms.case(r.subscriber_id, r.reported_at)
            ev = evaluate(case_facts(r), evs, t, at)
            if ev.listed and r.reported_at <= at:
                escalated = any(e.kind == "escalated" and e.at <= at for e in evs)
                assignee = assignee_of([e for e in evs if e.at <= at])
                out.append(QueueRow.evaluated(r, ev, t, escalated, assignee))
    return out


def evaluate_case(
    conn: StoreConn,
    policy: Policy | PolicyBook,
    case_id: str,
    at: int,
    *,
    known_at: int | None = None,
) -> tuple[Row[Any], CaseEval, list[Event]] | None:
    """(case row, CaseEval, events) for one case, from its events (exact at any instant)."""
    from sqlalchemy import select

    from console.records import case_facts, case_table, load_events

    row = conn.execute(select(case_table).where(case_table.c.id == case_id)).first()
    if row is None:
        return None
    terms = load_terms(conn, policy, [row.subscriber_id], known_at=known_at)
    events = load_events(conn, [case_id], known_at=known_at)[case_id]
    ev = evaluate(case_facts(row), events, terms.case(row.subscriber_id, row.reported_at), at)
    return row, ev, events
