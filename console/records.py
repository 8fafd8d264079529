"""Reading stored rows into the engine's plain facts (and writing projections back).

Hot paths use SQLAlchemy Core on the tables' ``__table__`` rather than ORM objects: the
queue reads 100k rows, and ORM identity-map bookkeeping would cost more than the clocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from console.plain_sql import paced
from console.rules.clocks import CaseFacts, Event
from console.rules.eligibility import DeploymentFacts

# Re-exported: the readers of terms and deployments (plain SQL, console.stored_terms).
from console.stored_terms import SuspensionRow as SuspensionRow
from console.stored_terms import deployment_facts as deployment_facts
from console.stored_terms import holiday_spec as holiday_spec
from console.stored_terms import load_deployment_changes as load_deployment_changes
from console.stored_terms import load_deployments as load_deployments
from console.stored_terms import load_subscriber_changes as load_subscriber_changes
from console.stored_terms import load_terms as load_terms
from console.stored_terms import subscription_facts as subscription_facts
from console.stored_terms import suspension_rows as suspension_rows
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
    conn: Conn,
    case_ids: Sequence[str],
    *,
    known_at: int | None = None,
    pause: Callable[[], object] | None = None,
) -> dict[str, list[Event]]:
    """Each case's events in time order; ``known_at`` keeps those recorded by then;
    ``pause``: see ``console.plain_sql.paced``."""
    out: dict[str, list[Event]] = {cid: [] for cid in case_ids}
    for i in range(0, len(case_ids), 900):
        chunk = case_ids[i : i + 900]
        q = select(event_table).where(event_table.c.case_id.in_(chunk))
        if known_at is not None:
            q = q.where(event_table.c.recorded_at <= known_at)
        for r in paced(
            conn.execute(q.order_by(event_table.c.case_id, event_table.c.at, event_table.c.id)),
            pause,
        ):
            out[r.case_id].append(event_of(r))
    return out


def load_event_rows(conn: Conn, case_id: str, *, known_at: int | None = None) -> list[Any]:
    q = select(event_table).where(event_table.c.case_id == case_id)
    if known_at is not None:
        q = q.where(event_table.c.recorded_at <= known_at)
    return list(conn.execute(q.order_by(event_table.c.at, event_table.c.id)))


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
