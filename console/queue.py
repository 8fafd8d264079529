"""The case queue at an instant: listed cases in risk order (policy §13).

Each case's stored projection is carried forward to ``at`` when it can be (no event and no
suspension boundary in between); otherwise the case is evaluated from its events. Both
give the same answer; the first costs a binary search per running clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select, text

from console.projection import usable
from console.records import C, Conn, case_facts, load_events, load_terms
from console.rules.clocks import RUNNING, CaseEval, ClockState, evaluate, risk_key
from console.rules.policy import Policy, Terms

# Plain SQL on purpose: the 100k-row read skips SQLAlchemy's per-row JSON processing
# (SQLite hands back the text, psycopg a parsed object; _carry takes both).
_QUEUE_SQL = """
SELECT s.case_id, s.subscriber_id, s.status, s.type, s.priority, s.level, s.reported_at,
       s.anchor_at, s.valid_until, s.clocks, c.title, c.deployment_id
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

    def __post_init__(self) -> None:
        if not self.key:
            self.key = risk_key(self.id, self.eval.priority, self.reported_at, self.eval.clocks)


def load_queue(conn: Conn, policy: Policy, at: int, *, terms: dict[str, Terms] | None = None,
               case_ids: Iterable[str] | None = None,
               partition: tuple[int, int] | None = None,
               unescalated_incidents: bool = False) -> list[QueueRow]:
    """Listed cases at ``at`` in risk order.

    ``partition=(i, n)`` keeps the cases with ``reported_at % n == i`` (parallel readers);
    ``unescalated_incidents`` only incidents with no escalation yet (what a sweep reads).
    """
    if terms is None:
        terms = load_terms(conn, policy)
    sql = _QUEUE_SQL
    params: dict = {"at": at}
    if unescalated_incidents:
        sql += (" AND s.type = 'incident'"
                " AND NOT EXISTS (SELECT 1 FROM escalation e WHERE e.case_id = s.case_id)")
    if partition is not None:
        sql += " AND s.reported_at % :n = :i"
        params["i"], params["n"] = partition
    if case_ids is not None:
        sql += " AND s.case_id IN :ids"
        params["ids"] = list(case_ids)
    stmt = text(sql)
    if case_ids is not None:
        stmt = stmt.bindparams(bindparam("ids", expanding=True))
    rows: list[QueueRow] = []
    stale: dict[str, tuple] = {}
    at_pos: dict[int, int] = {}
    for (cid, sid, status, ctype, prio, level, reported, anchor, valid_until, clocks, title,
         dep) in conn.execute(stmt, params):
        if usable(anchor, valid_until, at):
            if status == "closed":
                continue
            ev = _carry(clocks, terms[sid], ctype, prio, level, status, anchor, valid_until, at,
                        at_pos)
            rows.append(QueueRow(cid, sid, dep, title, reported, ev))
        else:
            stale[cid] = sid
    if stale:
        rows.extend(_evaluate_fully(conn, terms, at, list(stale)))
    _add_support(conn, rows, at)
    rows.sort(key=lambda row: row.key)
    return rows


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


def _carry(raw: str | dict, terms: Terms, ctype: str, prio: str | None, level: str, status: str,
           anchor: int, valid_until: int | None, at: int,
           at_pos: dict[int, int] | None = None) -> CaseEval:
    """The stored summary carried forward to ``at`` (same result as clocks.advance).

    ``at_pos`` caches each calendar's position of ``at`` across the cases of one load.
    """
    data = _DECODE(raw)[0] if isinstance(raw, str) else raw
    specs = terms.specs(ctype, prio) if at != anchor else None
    if at_pos is None:
        at_pos = {}
    clocks = {}
    for name, (state, target, elapsed, due, breached) in data["c"].items():
        if specs is not None and state == RUNNING:
            cal = specs[name].calendar
            key = id(cal)
            pos = at_pos.get(key)
            if pos is None:
                pos = at_pos[key] = cal.position(at)
            elapsed += pos - cal.position(anchor)
            breached = target is not None and elapsed > target
        clocks[name] = ClockState(state, target, elapsed,
                                  None if target is None else target - elapsed, due, breached)
    return CaseEval(at, ctype, prio, level, status, data.get("ack", False),
                    data.get("await", False), data.get("susp", False), clocks, valid_until,
                    awaiting_vendor=data.get("vwait", False))


def _evaluate_fully(conn: Conn, terms: dict[str, Terms], at: int, ids: list[str]) -> list[QueueRow]:
    events = load_events(conn, ids)
    out = []
    for i in range(0, len(ids), 900):
        for r in conn.execute(select(C).where(C.c.id.in_(ids[i : i + 900]))):
            facts = case_facts(r)
            ev = evaluate(facts, events[r.id], terms[r.subscriber_id], at)
            if ev.listed:
                out.append(QueueRow(r.id, r.subscriber_id, r.deployment_id, r.title,
                                    r.reported_at, ev))
    return out


def evaluate_case(conn: Conn, policy: Policy, case_id: str, at: int) -> tuple | None:
    """(case row, CaseEval, events) for one case, from its events (exact at any instant)."""
    row = conn.execute(select(C).where(C.c.id == case_id)).first()
    if row is None:
        return None
    terms = load_terms(conn, policy, [row.subscriber_id])[row.subscriber_id]
    events = load_events(conn, [case_id])[case_id]
    return row, evaluate(case_facts(row), events, terms, at), events


def _partition_fragments(url: str, policy: Policy, at: int, i: int, n: int) -> list[tuple[tuple, str]]:
    """One worker's share of ``queue --json``: (risk key, JSON text) in risk order."""
    import gc

    from console.output import case_fragment
    from console.store.engine import open_store

    gc.disable()  # a short-lived process building ~100k objects: collections only cost
    with open_store(url) as store, store.connection() as conn:
        rows = load_queue(conn, policy, at, partition=(i, n))
    frags: dict[tuple, str] = {}
    return [(r.key, case_fragment(r, frags)) for r in rows]


def queue_fragments_parallel(url: str, policy: Policy, at: int, workers: int = 2) -> Iterable[str]:
    """``queue --json``'s case fragments in risk order, computed by ``workers`` forked
    processes, each reading a share of the cases, merged by risk key. The per-case work is
    pure Python, so on a 2-core jump host this halves a 100k-case queue's wall time."""
    import heapq
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        parts = pool.starmap(_partition_fragments, [(url, policy, at, i, workers) for i in range(workers)])
    return (frag for _, frag in heapq.merge(*parts, key=lambda kv: kv[0]))
