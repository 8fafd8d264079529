"""What the classification wizard reads: the subscribers and deployments a case may be opened
on, and an existing case as a reclassification needs it (policy §4, §5, §9, §12).

Each function takes the store, the policy book and the instant, runs in a worker thread and
returns frozen dataclasses; the wizard (``screens/wizard/``) never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from console.rules.clocks import CaseEval, CaseFacts, Event, evaluate, sort_events
from console.rules.eligibility import DeploymentFacts
from console.rules.policy import Policy, Terms, TermsAt

if TYPE_CHECKING:
    from console.rules.policy_book import PolicyBook
    from console.store.engine import Store


@dataclass(frozen=True)
class VersionSupport:
    """Whether a product version is still supported (policy §12): flagged, never refused."""

    supported: bool
    end: date  # the last supported day


@dataclass(frozen=True)
class Target:
    """A subscriber and (optionally) one of its deployments: what a case is opened on."""

    subscriber_id: str
    subscriber_name: str
    terms: Terms | TermsAt  # at the instant read (new case) or over the case's life
    deployment: DeploymentFacts | None
    support: VersionSupport | None = None  # product-version support (policy §12); None = unknown

    @property
    def plan(self) -> str:
        return self.terms.facts.plan

    @property
    def coverage(self) -> str:
        if self.terms.facts.coverage == "24x7":
            return "24×7"
        return "8×5" if self.plan == "enterprise" else "12×5"


@dataclass(frozen=True)
class ReclassCase:
    """An existing case as the reclassification needs it."""

    facts: CaseFacts
    events: tuple[Event, ...]
    target: Target
    current: CaseEval  # at load time (type, priority, status)
    konneqt_initiated: bool = False
    linked_types: tuple[str, ...] = ()
    version: int | None = None  # the case's version when read: the write must match it


def support_by_deployment(
    store: Store, at: int, deployment_id: str | None = None
) -> dict[str, VersionSupport]:
    """Deployment id -> whether its product version is supported at ``at`` (policy §12),
    from ``console.lifespan``; a version not in the support matrix is left out (unknown).

    One deployment (``deployment_id``) or all. Its own connection, and any trouble means
    unknown: the flag informs, it never blocks opening a case.
    """
    from console.lifespan import case_support, deployment_support

    try:
        with store.connection() as conn:
            if deployment_id is not None:
                found = {deployment_id: case_support(conn, deployment_id, at)}
            else:
                found = deployment_support(conn, at)
    except Exception:
        return {}
    return {d: VersionSupport(not past, end) for d, (end, past) in found.items() if end is not None}


def wizard_targets(store: Store, policy: Policy | PolicyBook, at: int) -> tuple[Target, ...]:
    """Every subscriber, each followed by its deployments, by subscriber name."""
    from sqlalchemy import select

    from console.records import deployment_facts, deployment_table, load_terms, subscriber_table

    with store.connection() as conn:
        terms = load_terms(conn, policy)
        subs = list(
            conn.execute(
                select(subscriber_table.c.id, subscriber_table.c.name).order_by(
                    subscriber_table.c.name, subscriber_table.c.id
                )
            )
        )
        deps = [
            deployment_facts(r)
            for r in conn.execute(select(deployment_table).order_by(deployment_table.c.id))
        ]
    support = support_by_deployment(store, at)
    by_sub: dict[str, list[DeploymentFacts]] = {}
    for d in deps:
        by_sub.setdefault(d.subscriber, []).append(d)
    out: list[Target] = []
    for sid, name in subs:
        if sid not in terms:
            continue
        now = terms.now(sid, at)
        out.append(Target(sid, name or sid, now, None))
        for d in by_sub.get(sid, []):
            out.append(Target(sid, name or sid, now, d, support.get(d.id)))
    return tuple(out)


def reclass_case(
    store: Store, policy: Policy | PolicyBook, case_id: str, at: int
) -> ReclassCase | None:
    """The case ``case_id`` with its events, terms, deployment and links, evaluated at ``at``
    (None: no such case)."""
    from sqlalchemy import select

    from console.records import (
        case_facts,
        linked_types,
        load_case_row,
        load_deployment,
        load_events,
        load_links,
        load_terms,
        subscriber_table,
    )

    with store.connection() as conn:
        row = load_case_row(conn, case_id)
        if row is None:
            return None
        subscriber: str = row.subscriber_id
        terms = load_terms(conn, policy, [subscriber]).case(subscriber, row.reported_at)
        name: str | None = conn.execute(
            select(subscriber_table.c.name).where(subscriber_table.c.id == subscriber)
        ).scalar_one_or_none()
        dep = load_deployment(conn, row.deployment_id)
        events = tuple(sort_events(load_events(conn, [case_id])[case_id]))
        links, _ = load_links(conn, case_id)
        ltypes = linked_types(conn, links)
        facts = case_facts(row)
        konneqt = bool(row.konneqt_initiated)
        version = int(row.version)
    support = support_by_deployment(store, at, dep.id).get(dep.id) if dep is not None else None
    target = Target(subscriber, name or subscriber, terms, dep, support)
    current = evaluate(facts, list(events), terms, at)
    return ReclassCase(facts, events, target, current, konneqt, ltypes, version)
