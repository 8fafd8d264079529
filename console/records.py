"""Reading stored rows into the engine's plain facts (and writing projections back).

Hot paths use SQLAlchemy Core on the tables' ``__table__`` rather than ORM objects: the
queue reads 100k rows, and ORM identity-map bookkeeping would cost more than the clocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from console.rules.clocks import CaseFacts, Event
from console.rules.eligibility import DeploymentFacts
from console.rules.policy import Policy, SubscriptionFacts
from console.rules.policy_book import PolicyBook, TermsMap, as_book
from models import (
    Case,
    CaseEvent,
    CaseLink,
    CaseState,
    Deployment,
    DeploymentChange,
    Escalation,
    Subscriber,
    SubscriberChange,
    SubscriberSuspension,
    SuspensionLift,
    TimeEntry,
    table_of,
)

Conn = Connection | Session

subscriber_table = table_of(Subscriber)
suspension_table = table_of(SubscriberSuspension)
suspension_lift_table = table_of(SuspensionLift)
deployment_table = table_of(Deployment)
case_table = table_of(Case)
event_table = table_of(CaseEvent)
case_state_table = table_of(CaseState)
case_link_table = table_of(CaseLink)
time_entry_table = table_of(TimeEntry)
subscriber_change_table = table_of(SubscriberChange)
deployment_change_table = table_of(DeploymentChange)
escalation_table = table_of(Escalation)


def holiday_spec(value: str | list[str] | None) -> str | tuple[str, ...] | None:
    """A holiday calendar as stored (a name, or a JSON list of names) as the rules take it."""
    if isinstance(value, list):
        return tuple(value)
    return value


def subscription_facts(
    row: Any,
    suspensions: Sequence[tuple[int, int | None]],
    changes: Sequence[tuple[int, dict[str, Any]]] = (),
) -> SubscriptionFacts:
    """The engine's facts of a subscriber: its row as first recorded, its suspensions, and
    its dated changes in effective order (policy §14)."""
    from console.rules.changes import decode_subscriber

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
        terminated_at=row.terminated_at,
        changes=tuple(
            (eff, decode_subscriber(facts)) for eff, facts in sorted(changes, key=lambda c: c[0])
        ),
    )


def load_terms(
    conn: Conn,
    policy: Policy | PolicyBook,
    ids: Iterable[str] | None = None,
    *,
    known_at: int | None = None,
) -> TermsMap:
    """Subscribers' terms under the policy book; ``known_at`` keeps only the suspensions
    and policy versions recorded by then (``--as-known-at``)."""
    book = as_book(policy)
    if known_at is not None:
        book = book.known_at(known_at)
    q = select(subscriber_table)
    if ids is not None:
        ids = list(ids)
        q = q.where(subscriber_table.c.id.in_(ids))
    susp: dict[str, list[tuple[int, int | None]]] = {}
    for r in suspension_rows(conn, ids, known_at=known_at):
        susp.setdefault(r.subscriber_id, []).append((r.from_at, r.until_at))
    changes = load_subscriber_changes(conn, ids, known_at=known_at)
    return TermsMap(
        book,
        {
            r.id: subscription_facts(r, susp.get(r.id, ()), changes.get(r.id, ()))
            for r in conn.execute(q)
        },
    )


def load_subscriber_changes(
    conn: Conn, ids: Iterable[str] | None = None, *, known_at: int | None = None
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Subscriber id -> [(effective_at, facts)] in record order."""
    q = select(
        subscriber_change_table.c.subscriber_id,
        subscriber_change_table.c.effective_at,
        subscriber_change_table.c.facts,
    ).order_by(subscriber_change_table.c.id)
    if ids is not None:
        q = q.where(subscriber_change_table.c.subscriber_id.in_(list(ids)))
    if known_at is not None:
        q = q.where(subscriber_change_table.c.recorded_at <= known_at)
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for sid, eff, facts in conn.execute(q):
        out.setdefault(sid, []).append((eff, dict(facts or {})))
    return out


def load_deployment_changes(
    conn: Conn, ids: Iterable[str] | None = None
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    q = select(
        deployment_change_table.c.deployment_id,
        deployment_change_table.c.effective_at,
        deployment_change_table.c.facts,
    ).order_by(deployment_change_table.c.id)
    if ids is not None:
        q = q.where(deployment_change_table.c.deployment_id.in_(list(ids)))
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for did, eff, facts in conn.execute(q):
        out.setdefault(did, []).append((eff, dict(facts or {})))
    return out


def load_deployments(conn: Conn, at: int | None = None) -> dict[str, DeploymentFacts]:
    """Every deployment's facts in force at ``at`` (None: as last recorded)."""
    from console.rules.changes import deployment_at

    changes = load_deployment_changes(conn)
    return {
        r.id: deployment_at(deployment_facts(r), changes.get(r.id, ()), at)
        for r in conn.execute(select(deployment_table))
    }


@dataclass(frozen=True, slots=True)
class SuspensionRow:
    """A subscriber-wide suspension as in force: ``until_at`` is its planned end or the
    instant a lead lifted it (``lifted_at``), whichever comes first."""

    id: int
    subscriber_id: str
    reason: str
    from_at: int
    until_at: int | None
    by: str | None
    recorded_at: int
    lifted_at: int | None = None
    lifted_by: str | None = None
    lift_recorded_at: int | None = None
    planned_until: int | None = None  # the end set when it was suspended


def suspension_rows(
    conn: Conn, ids: Iterable[str] | None = None, *, known_at: int | None = None
) -> list[SuspensionRow]:
    """Subscribers' suspensions with their lifts applied (``known_at``: only what was
    recorded by then, the lifts included), by subscriber and start."""
    sq = select(suspension_table)
    lq = select(
        suspension_lift_table.c.suspension_id,
        suspension_lift_table.c.at,
        suspension_lift_table.c.by,
        suspension_lift_table.c.recorded_at,
    ).order_by(suspension_lift_table.c.at, suspension_lift_table.c.id)
    if known_at is not None:
        sq = sq.where(suspension_table.c.recorded_at <= known_at)
        lq = lq.where(suspension_lift_table.c.recorded_at <= known_at)
    if ids is not None:
        ids = list(ids)
        sq = sq.where(suspension_table.c.subscriber_id.in_(ids))
        lq = lq.where(
            suspension_lift_table.c.suspension_id.in_(
                select(suspension_table.c.id).where(suspension_table.c.subscriber_id.in_(ids))
            )
        )
    lifts: dict[int, tuple[int, str | None, int]] = {}
    for sid, at, by, rec in conn.execute(lq):
        lifts.setdefault(sid, (at, by, rec))  # the earliest lift ends it
    out = []
    for r in conn.execute(
        sq.order_by(
            suspension_table.c.subscriber_id, suspension_table.c.from_at, suspension_table.c.id
        )
    ):
        lift = lifts.get(r.id)
        until = r.until_at
        if lift is not None and (until is None or lift[0] < until):
            until = lift[0]
        out.append(
            SuspensionRow(
                r.id,
                r.subscriber_id,
                r.reason,
                r.from_at,
                until,
                r.by,
                r.recorded_at,
                lift[0] if lift else None,
                lift[1] if lift else None,
                lift[2] if lift else None,
                r.until_at,
            )
        )
    return out


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
        recorded_at=row.recorded_at,
        component=row.component,
    )


def load_case_row(conn: Conn, case_id: str) -> Any | None:
    return conn.execute(select(case_table).where(case_table.c.id == case_id)).first()


def event_of(row: Any) -> Event:
    return Event(
        at=row.at,
        kind=row.kind,
        by=row.by,
        data=row.data or {},
        seq=row.id,
        recorded_at=row.recorded_at,
    )


def load_events(
    conn: Conn, case_ids: Sequence[str], *, known_at: int | None = None
) -> dict[str, list[Event]]:
    """Each case's events in time order; ``known_at`` keeps those recorded by then."""
    out: dict[str, list[Event]] = {cid: [] for cid in case_ids}
    for i in range(0, len(case_ids), 900):
        chunk = case_ids[i : i + 900]
        q = select(event_table).where(event_table.c.case_id.in_(chunk))
        if known_at is not None:
            q = q.where(event_table.c.recorded_at <= known_at)
        for r in conn.execute(
            q.order_by(event_table.c.case_id, event_table.c.at, event_table.c.id)
        ):
            out[r.case_id].append(event_of(r))
    return out


def load_event_rows(conn: Conn, case_id: str, *, known_at: int | None = None) -> list[Any]:
    q = select(event_table).where(event_table.c.case_id == case_id)
    if known_at is not None:
        q = q.where(event_table.c.recorded_at <= known_at)
    return list(conn.execute(q.order_by(event_table.c.at, event_table.c.id)))


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


def load_deployment(
    conn: Conn, dep_id: str | None, at: int | None = None
) -> DeploymentFacts | None:
    """A deployment's facts in force at ``at`` (None: as last recorded)."""
    from console.rules.changes import deployment_at

    if dep_id is None:
        return None
    row = conn.execute(select(deployment_table).where(deployment_table.c.id == dep_id)).first()
    if row is None:
        return None
    return deployment_at(
        deployment_facts(row), load_deployment_changes(conn, [dep_id]).get(dep_id, ()), at
    )


def load_links(conn: Conn, case_id: str) -> tuple[list[str], list[str]]:
    """(cases this one links to, cases linking to this one)."""
    out = [
        r[0]
        for r in conn.execute(
            select(case_link_table.c.linked_case_id).where(case_link_table.c.case_id == case_id)
        )
    ]
    back = [
        r[0]
        for r in conn.execute(
            select(case_link_table.c.case_id).where(case_link_table.c.linked_case_id == case_id)
        )
    ]
    return out, back


def linked_types(conn: Conn, ids: Sequence[str]) -> tuple[str, ...]:
    if not ids:
        return ()
    return tuple(
        r[0] for r in conn.execute(select(case_table.c.type).where(case_table.c.id.in_(list(ids))))
    )


def next_rev(conn: Conn) -> int:
    """The ``case_state.rev`` for the next summary written (one more than any so far; an
    index read). Writers on SQLite are serialized (BEGIN IMMEDIATE), so revs grow in commit
    order there, which is what its change feed relies on; PostgreSQL's feed names the
    changed cases in its notifications and uses revs only as a backstop."""
    return (
        int(conn.execute(select(func.coalesce(func.max(case_state_table.c.rev), 0))).scalar_one())
        + 1
    )
