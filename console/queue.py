"""The case queue at an instant: listed cases in risk order (policy §13).

Each case's stored projection is carried forward to ``at`` when it can be (no event and no
suspension boundary in between); otherwise the case is evaluated from its events. Both
give the same answer; the first costs a binary search per running clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select

from console.projection import carry, decode, usable
from console.records import CS, C, Conn, case_facts, load_events, load_terms
from console.rules.clocks import CaseEval, evaluate, risk_key
from console.rules.policy import Policy, Terms


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: str
    subscriber: str
    deployment: str | None
    title: str
    reported_at: int
    eval: CaseEval

    @property
    def key(self) -> tuple:
        return risk_key(self.id, self.eval.priority, self.reported_at, self.eval.clocks)


def load_queue(conn: Conn, policy: Policy, at: int, *, terms: dict[str, Terms] | None = None,
               case_ids: Iterable[str] | None = None) -> list[QueueRow]:
    """Listed cases at ``at`` in risk order."""
    if terms is None:
        terms = load_terms(conn, policy)
    q = (
        select(
            CS.c.case_id, CS.c.subscriber_id, CS.c.status, CS.c.type, CS.c.priority, CS.c.level,
            CS.c.reported_at, CS.c.anchor_at, CS.c.valid_until, CS.c.clocks,
            C.c.title, C.c.deployment_id,
        )
        .join(C, C.c.id == CS.c.case_id)
        .where(or_(CS.c.listed.is_(True), CS.c.anchor_at > at), CS.c.reported_at <= at)
    )
    if case_ids is not None:
        q = q.where(CS.c.case_id.in_(list(case_ids)))
    rows: list[QueueRow] = []
    stale: dict[str, tuple] = {}
    for r in conn.execute(q):
        t = terms[r.subscriber_id]
        if usable(r.anchor_at, r.valid_until, at):
            if r.status == "closed":
                continue
            snap = decode(r.clocks, at=r.anchor_at, type_=r.type, priority=r.priority,
                          level=r.level, status=r.status, valid_until=r.valid_until)
            rows.append(QueueRow(r.case_id, r.subscriber_id, r.deployment_id, r.title,
                                 r.reported_at, carry(snap, t, at)))
        else:
            stale[r.case_id] = r
    if stale:
        rows.extend(_evaluate_fully(conn, terms, at, list(stale)))
    rows.sort(key=lambda row: row.key)
    return rows


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
