"""The case queue at an instant: listed cases in risk order (policy §13).

Each case's stored projection is carried forward to ``at`` when it can be (no event and no
suspension boundary in between, nothing recorded after ``--as-known-at``); otherwise the
case is evaluated from its events. Both give the same answer; the first costs a binary
search per running clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select, text

from console.projection import usable
from console.records import C, Conn, case_facts, load_events, load_terms
from console.rules.clocks import RUNNING, CaseEval, ClockState, evaluate, risk_key
from console.rules.lifecycle import assignee_of
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook, TermsMap

# Plain SQL on purpose: the 100k-row read skips SQLAlchemy's per-row JSON processing
# (SQLite hands back the text, psycopg a parsed object; _carry takes both).
_QUEUE_SQL = """
SELECT s.case_id, s.subscriber_id, s.status, s.type, s.priority, s.level, s.reported_at,
       s.anchor_at, s.valid_until, s.clocks, c.title, c.deployment_id, s.escalated,
       s.recorded_upto, s.assignee
FROM case_state s JOIN support_case c ON c.id = s.case_id
WHERE (s.listed OR s.anchor_at > :at) AND s.reported_at <= :at
"""


@dataclass(slots=True)
class QueueRow:
    id: str
    subscriber: str
    deployment: str | None
    title: str
    reported_at: int
    eval: CaseEval
    key: tuple = ()  # risk_key, computed once
    # (end of support, past it at the queue's instant) of the deployment's product version
    # (policy §12); (None, False) without a deployment or a matrix entry.
    support: tuple[date | None, bool] = (None, False)
    escalated: bool = False
    terminated: bool = False  # the subscriber's contract has terminated (flagged, §14)
    assignee: str | None = None  # policy §10

    def __post_init__(self) -> None:
        if not self.key:
            self.key = risk_key(self.id, self.eval.priority, self.reported_at, self.eval.clocks)

    @property
    def marked(self) -> bool:
        """Shown as breached (policy §14): a clock breached in any state, or escalated."""
        return self.escalated or any(st.breached for st in self.eval.clocks.values())


def load_queue(conn: Conn, policy: Policy | PolicyBook, at: int, *,
               terms: TermsMap | None = None, case_ids: Iterable[str] | None = None,
               partition: tuple[int, int] | None = None,
               unescalated_incidents: bool = False,
               known_at: int | None = None) -> list[QueueRow]:
    """Listed cases at ``at`` in risk order.

    ``partition=(i, n)`` keeps the cases whose id hashes to ``i`` of ``n`` (parallel
    readers); ``unescalated_incidents`` only incidents with no escalation yet (what a sweep
    reads); ``known_at`` only what was recorded by then (``--as-known-at``).
    """
    if terms is None:
        terms = load_terms(conn, policy, known_at=known_at)
    # The stored summaries were computed under the desk's policy: a what-if policy file
    # evaluates every case from its events instead.
    what_if = terms.book.what_if is not None
    sql = _QUEUE_SQL
    params: dict[str, Any] = {"at": at}
    if unescalated_incidents:
        sql += (" AND s.type = 'incident'"
                " AND NOT EXISTS (SELECT 1 FROM escalation e WHERE e.case_id = s.case_id)")
    if known_at is not None:
        sql += " AND COALESCE(c.recorded_at, c.reported_at) <= :k"
        params["k"] = known_at
    if case_ids is not None:
        sql += " AND s.case_id IN :ids"
        params["ids"] = list(case_ids)
    stmt = text(sql)
    if case_ids is not None:
        stmt = stmt.bindparams(bindparam("ids", expanding=True))
    rows: list[QueueRow] = []
    stale: list[str] = []
    for (cid, sid, status, ctype, prio, level, reported, anchor, valid_until, clocks, title,
         dep, escalated, recorded_upto, assignee) in conn.execute(stmt, params):
        if partition is not None and _share(cid, partition[1]) != partition[0]:
            continue
        if sid not in terms:
            continue
        known = known_at is None or (recorded_upto is not None and recorded_upto <= known_at)
        if known and not what_if and usable(anchor, valid_until, at):
            if status == "closed":
                continue
            ev = _carry(clocks, terms.case(sid, reported), ctype, prio, level, status, anchor,
                        valid_until, at)
            rows.append(QueueRow(cid, sid, dep, title, reported, ev, escalated=bool(escalated),
                                 assignee=assignee))
        else:
            stale.append(cid)
    if stale:
        rows.extend(_evaluate_fully(conn, terms, at, stale, known_at=known_at))
    _add_support(conn, rows, at)
    ended = terminated_subscribers(terms, at)
    if ended:
        for row in rows:
            row.terminated = row.subscriber in ended
    rows.sort(key=lambda row: row.key)
    return rows


def terminated_subscribers(terms: TermsMap, at: int) -> set[str]:
    """Subscribers whose contract has terminated by ``at`` (their open cases are flagged)."""
    out = set()
    for sid in terms:
        ended = terms[sid].at(at).terminated_at
        if ended is not None and ended <= at:
            out.add(sid)
    return out


def _share(case_id: str, n: int) -> int:
    """Which of ``n`` parallel readers takes a case: a cheap, even spread of the ids (the
    instants' parity is no spread at all: whole-minute timestamps are all even)."""
    return sum(case_id.encode()) % n


def _add_support(conn: Conn, rows: list[QueueRow], at: int) -> None:
    """Each row's end-of-support flag: one query for all deployments, a lookup per row."""
    from console.lifespan import deployment_support

    support = deployment_support(conn, at)
    if not any(past or eos for eos, past in support.values()):
        return
    for row in rows:
        if row.deployment is not None:
            row.support = support.get(row.deployment, (None, False))


_DECODE = json.JSONDecoder().raw_decode  # no whitespace regex passes: stored text is compact


def _carry(raw: str | dict, terms: Any, ctype: str, prio: str | None, level: str, status: str,
           anchor: int, valid_until: int | None, at: int) -> CaseEval:
    """The stored summary carried forward to ``at`` (same result as clocks.advance).

    Each running clock adds ``calendar.elapsed(anchor, at)``: both ends on one layout of
    the calendar (a position cached across cases goes stale when a case far in the past
    makes the shared calendar lay itself out further back).
    """
    data = _DECODE(raw)[0] if isinstance(raw, str) else raw
    specs = terms.specs(ctype, prio, at) if at != anchor else None
    clocks = {}
    for name, (state, target, elapsed, due, breached) in data["c"].items():
        if specs is not None and state == RUNNING:
            elapsed += specs[name].calendar.elapsed(anchor, at)
            breached = target is not None and elapsed > target
        clocks[name] = ClockState(state, target, elapsed,
                                  None if target is None else target - elapsed, due, breached)
    return CaseEval(at, ctype, prio, level, status, data.get("ack", False),
                    data.get("await", False), data.get("susp", False), clocks, valid_until,
                    awaiting_vendor=data.get("vwait", False))


def _evaluate_fully(conn: Conn, terms: TermsMap, at: int, ids: list[str], *,
                    known_at: int | None = None) -> list[QueueRow]:
    events = load_events(conn, ids, known_at=known_at)
    out = []
    for i in range(0, len(ids), 900):
        for r in conn.execute(select(C).where(C.c.id.in_(ids[i : i + 900]))):
            evs = events[r.id]
            ev = evaluate(case_facts(r), evs, terms.case(r.subscriber_id, r.reported_at), at)
            if ev.listed:
                escalated = any(e.kind == "escalated" and e.at <= at for e in evs)
                out.append(QueueRow(r.id, r.subscriber_id, r.deployment_id, r.title,
                                    r.reported_at, ev, escalated=escalated,
                                    assignee=assignee_of([e for e in evs if e.at <= at])))
    return out


def evaluate_case(conn: Conn, policy: Policy | PolicyBook, case_id: str, at: int, *,
                  known_at: int | None = None) -> tuple | None:
    """(case row, CaseEval, events) for one case, from its events (exact at any instant)."""
    row = conn.execute(select(C).where(C.c.id == case_id)).first()
    if row is None:
        return None
    terms = load_terms(conn, policy, [row.subscriber_id], known_at=known_at)
    events = load_events(conn, [case_id], known_at=known_at)[case_id]
    ev = evaluate(case_facts(row), events, terms.case(row.subscriber_id, row.reported_at), at)
    return row, ev, events


def _partition_fragments(url: str, policy: Policy | PolicyBook, at: int, i: int, n: int,
                         known_at: int | None) -> list[tuple[tuple, str]]:
    """One worker's share of ``queue --json``: (risk key, JSON text) in risk order."""
    import gc

    from console.output import case_fragment
    from console.store.engine import open_store

    gc.disable()  # a short-lived process building ~100k objects: collections only cost
    with open_store(url) as store, store.connection() as conn:
        rows = load_queue(conn, policy, at, partition=(i, n), known_at=known_at)
    frags: dict[tuple, str] = {}
    return [(r.key, case_fragment(r, frags)) for r in rows]


def queue_fragments_parallel(url: str, policy: Policy | PolicyBook, at: int, workers: int = 2, *,
                             known_at: int | None = None) -> Iterable[str]:
    """``queue --json``'s case fragments in risk order, computed by ``workers`` forked
    processes, each reading a share of the cases, merged by risk key. The per-case work is
    pure Python, so on a 2-core jump host this halves a 100k-case queue's wall time."""
    import heapq
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        parts = pool.starmap(_partition_fragments,
                             [(url, policy, at, i, workers, known_at) for i in range(workers)])
    return (frag for _, frag in heapq.merge(*parts, key=lambda kv: kv[0]))
