"""The case view's data: one case read in one go (its clocks now and without its late
entries, facts, history, links, attachments), the names the hand-over prompt offers, and
the engine's refusal of an operator's action before its prompt opens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import col, select

from console.attachments import AttachmentInfo, list_attachments
from console.changes import case_flags
from console.late import late_entries
from console.lifespan import case_support
from console.queue import evaluate_case
from console.records import case_facts, load_deployment, load_event_rows, load_links, load_terms
from console.rules.clocks import CaseEval
from console.rules.eligibility import DeploymentFacts
from console.rules.lifecycle import (
    CR_STATUSES,
    assignee_of,
    component_in_force,
    criterion_in_force,
)
from console.rules.policy import Policy, Terms
from console.rules.policy_book import PolicyBook
from console.store.engine import Store
from models import Case, Subscriber


@dataclass(frozen=True)
class CaseRecord:
    """The stored case's own facts the view shows (the rest comes from its events)."""

    id: str
    title: str
    subscriber_id: str
    reported_at: int
    aware_at: int | None
    version: int | None
    konneqt_initiated: bool


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded event, as the history lists it."""

    id: int
    at: int
    kind: str
    data: Mapping[str, Any]
    by: str | None
    recorded_at: int


@dataclass(frozen=True)
class CaseData:
    """Everything the case view shows, read in one go at the instant ``at``."""

    row: CaseRecord
    eval: CaseEval
    history: tuple[HistoryEntry, ...]
    deployment: DeploymentFacts | None  # its facts in force at ``at`` (dated changes applied)
    subscriber_name: str | None  # None: the subscriber is not stored
    terms: Terms
    links: tuple[tuple[str, ...], tuple[str, ...]]  # (cases it came from, cases opened from it)
    at: int
    support: tuple[date | None, bool] = (None, False)  # (end of support, past it at ``at``)
    attachments: tuple[AttachmentInfo, ...] = ()
    link_types: Mapping[str, str] | None = None  # linked case -> its type
    # Late entries (policy §14): event id -> the clocks each cleared; and the clocks as
    # they would stand without them, shown beside the clocks with them.
    late: Mapping[int, tuple[str, ...]] | None = None
    without_late: CaseEval | None = None
    # What later dated changes say (policy §14): termination, eligibility now.
    flags: Mapping[str, Any] | None = None
    component: str | None = None  # the managed third-party component in force (policy §5)
    criterion: str | None = None  # the §9 criterion in force (policy §5, §9)
    assignee: str | None = None  # who holds the case (policy §10)

    @property
    def cr_status(self) -> str:
        """A change request's status: its last ``cr_status`` event (policy lifecycle)."""
        status = CR_STATUSES[0]
        for e in sorted(self.history, key=lambda e: (e.at, e.id)):
            if e.kind == "cr_status" and e.data.get("status") in CR_STATUSES:
                status = str(e.data["status"])
        return status

    @property
    def suspended_by_event(self) -> bool:
        """Whether the case's own history has its SLA suspended (a case-level suspension)."""
        state = False
        for e in self.history:
            if e.kind == "suspended":
                state = True
            elif e.kind == "unsuspended":
                state = False
        return state

    @property
    def escalated(self) -> bool:
        """An escalation at or before ``at`` (an escalated incident stays marked, §14)."""
        return any(h.kind == "escalated" and h.at <= self.at for h in self.history)


def _entry(row: Any) -> HistoryEntry:
    return HistoryEntry(
        id=row.id,
        at=row.at,
        kind=row.kind,
        data=dict(row.data or {}),
        by=row.by,
        recorded_at=row.recorded_at,
    )


def load_case(store: Store, policy: Policy | PolicyBook, case_id: str, at: int) -> CaseData | None:
    """The case ``case_id`` as of ``at`` (None: no such case), read on one connection."""
    with store.connection() as conn:
        found = evaluate_case(conn, policy, case_id, at)
        if found is None:
            return None
        row, ev, events = found
        late, without = late_entries(conn, policy, row, events, at)
        happened = [e for e in events if e.at <= at]
        component = component_in_force(case_facts(row), happened)
        criterion = criterion_in_force(case_facts(row), row.criterion, happened)
        history = tuple(_entry(e) for e in load_event_rows(conn, case_id))
        dep = load_deployment(conn, row.deployment_id, at)
        name = conn.execute(
            select(Subscriber.name).where(col(Subscriber.id) == row.subscriber_id)
        ).scalar()
        terms = load_terms(conn, policy, [row.subscriber_id]).case(
            row.subscriber_id, row.reported_at
        )
        out, back = load_links(conn, case_id)
        linked = out + back
        types = (
            {
                r.id: r.type
                for r in conn.execute(select(Case.id, Case.type).where(col(Case.id).in_(linked)))
            }
            if linked
            else {}
        )
        support = case_support(conn, row.deployment_id, at)
        attachments = tuple(list_attachments(conn, case_id))
        flags = case_flags(conn, policy, row, ev, at)
    return CaseData(
        row=CaseRecord(
            id=row.id,
            title=row.title,
            subscriber_id=row.subscriber_id,
            reported_at=row.reported_at,
            aware_at=row.aware_at,
            version=row.version,
            konneqt_initiated=bool(row.konneqt_initiated),
        ),
        eval=ev,
        history=history,
        deployment=dep,
        subscriber_name=None if name is None else str(name),
        terms=terms,
        links=(tuple(out), tuple(back)),
        at=at,
        support=support,
        attachments=attachments,
        link_types=types,
        late={k: tuple(v) for k, v in late.items()},
        without_late=without,
        flags=flags,
        component=component,
        criterion=criterion,
        assignee=assignee_of(happened),
    )


def engineer_names(store: Store) -> tuple[str, ...]:
    """The names the hand-over prompt offers (``console.assignment.known_engineers``)."""
    from console.assignment import known_engineers

    with store.connection() as conn:
        return tuple(known_engineers(conn))


def action_refusal(store: Store, user: str, action: str) -> str | None:
    """The engine's refusal of ``user`` doing ``action`` (None: allowed), read before a
    prompt opens so that an engineer is told at once; the write checks again."""
    from console.errors import NotAllowed
    from console.operators import require

    with store.connection() as conn:
        try:
            require(conn, user, action)
        except NotAllowed as exc:
            return str(exc)
    return None
