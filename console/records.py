"""Reading stored rows into the engine's plain facts (and writing projections back).

Hot paths use SQLAlchemy Core on the tables' ``__table__`` rather than ORM objects: the
queue reads 100k rows, and ORM identity-map bookkeeping would cost more than the clocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from console.projection import project
from console.rules.clocks import CaseFacts, Event, sort_events
from console.rules.eligibility import DeploymentFacts
from console.rules.policy import Policy, SubscriptionFacts, Terms
from models import (
    Case,
    CaseEvent,
    CaseLink,
    CaseState,
    Deployment,
    Subscriber,
    SubscriberSuspension,
    TimeEntry,
)

Conn = Connection | Session

S = Subscriber.__table__
SS = SubscriberSuspension.__table__
D = Deployment.__table__
C = Case.__table__
E = CaseEvent.__table__
CS = CaseState.__table__
L = CaseLink.__table__
TE = TimeEntry.__table__


def holiday_spec(value: Any) -> str | tuple[str, ...] | None:
    if isinstance(value, list):
        return tuple(value)
    return value


def subscription_facts(row: Any, suspensions: Sequence[tuple[int, int | None]]) -> SubscriptionFacts:
    return SubscriptionFacts(
        id=row.id,
        plan=row.plan,
        coverage=row.coverage,
        timezone=row.timezone,
        holidays=holiday_spec(row.holidays),
        targets=dict(row.targets or {}),
        term_start=row.term_start,
        term_end=row.term_end,
        query_hour_limit=row.query_hour_limit,
        suspensions=tuple(suspensions),
    )


def load_terms(conn: Conn, policy: Policy, ids: Iterable[str] | None = None) -> dict[str, Terms]:
    q = select(S)
    sq = select(SS.c.subscriber_id, SS.c.from_at, SS.c.until_at)
    if ids is not None:
        ids = list(ids)
        q = q.where(S.c.id.in_(ids))
        sq = sq.where(SS.c.subscriber_id.in_(ids))
    susp: dict[str, list[tuple[int, int | None]]] = {}
    for sid, f, u in conn.execute(sq):
        susp.setdefault(sid, []).append((f, u))
    return {
        r.id: Terms(policy, subscription_facts(r, susp.get(r.id, ())))
        for r in conn.execute(q)
    }


def case_facts(row: Any) -> CaseFacts:
    return CaseFacts(
        id=row.id,
        subscriber=row.subscriber_id,
        type=row.type,
        priority=row.priority,
        reported_at=row.reported_at,
        aware_at=row.aware_at,
        level=row.level,
        title=row.title,
        deployment=row.deployment_id,
        component=row.component,
    )


def load_case_row(conn: Conn, case_id: str) -> Any | None:
    return conn.execute(select(C).where(C.c.id == case_id)).first()


def event_of(row: Any) -> Event:
    return Event(at=row.at, kind=row.kind, by=row.by, data=row.data or {}, seq=row.id)


def load_events(conn: Conn, case_ids: Sequence[str]) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = {cid: [] for cid in case_ids}
    for i in range(0, len(case_ids), 900):
        chunk = case_ids[i : i + 900]
        q = select(E).where(E.c.case_id.in_(chunk)).order_by(E.c.case_id, E.c.at, E.c.id)
        for r in conn.execute(q):
            out[r.case_id].append(event_of(r))
    return out


def load_event_rows(conn: Conn, case_id: str) -> list[Any]:
    q = select(E).where(E.c.case_id == case_id).order_by(E.c.at, E.c.id)
    return list(conn.execute(q))


def deployment_facts(row: Any) -> DeploymentFacts:
    return DeploymentFacts(
        id=row.id,
        subscriber=row.subscriber_id,
        environment=row.environment,
        managed=bool(row.managed),
        product=row.product,
        version=row.version,
        components=tuple(row.components or ()),
    )


def load_deployment(conn: Conn, dep_id: str | None) -> DeploymentFacts | None:
    if dep_id is None:
        return None
    row = conn.execute(select(D).where(D.c.id == dep_id)).first()
    return deployment_facts(row) if row else None


def load_links(conn: Conn, case_id: str) -> tuple[list[str], list[str]]:
    """(cases this one links to, cases linking to this one)."""
    out = [r[0] for r in conn.execute(select(L.c.linked_case_id).where(L.c.case_id == case_id))]
    back = [r[0] for r in conn.execute(select(L.c.case_id).where(L.c.linked_case_id == case_id))]
    return out, back


def linked_types(conn: Conn, ids: Sequence[str]) -> tuple[str, ...]:
    if not ids:
        return ()
    return tuple(r[0] for r in conn.execute(select(C.c.type).where(C.c.id.in_(list(ids)))))


def save_projection(conn: Conn, case: CaseFacts, events: Sequence[Event], terms: Terms) -> dict[str, Any]:
    row = project(case, sort_events(events), terms)
    values = {k: v for k, v in row.items() if k != "case_id"}
    conn.execute(update(CS).where(CS.c.case_id == case.id).values(**values))
    return row
