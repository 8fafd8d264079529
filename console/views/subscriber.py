"""The subscriber view's data: one subscriber read in one go (facts in force, query-hour
meter, open cases, suspensions, the term's time entries, support users, dated changes), and
the change form's preview of a dated change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as core_select
from sqlalchemy import text
from sqlmodel import col, select

from console.changes import Effect, form_facts, preview, subscriber_history
from console.meters import load_entries
from console.operators import role_of
from console.queue import load_queue
from console.queue_rows import QueueRow
from console.records import SuspensionRow, load_terms, suspension_rows
from console.rules.meters import Meter, meter, term_bounds
from console.rules.policy import Policy, TermsAt
from console.rules.policy_book import PolicyBook
from console.store.engine import Store
from models import Case, Subscriber, TimeEntry


@dataclass(frozen=True)
class SubscriberRecord:
    """The stored subscriber's name and plan as first recorded (the facts in force now
    are in ``SubscriberData.terms``)."""

    id: str
    name: str
    plan: str


@dataclass(frozen=True)
class EntryLine:
    """A time entry of the term with its case's type and title."""

    at: int
    hours: float
    exempt: bool
    note: str | None
    by: str | None
    case_id: str
    case_type: str
    title: str


@dataclass(frozen=True)
class SubscriberData:
    """Everything the subscriber view shows, read in one go at the instant ``at``."""

    row: SubscriberRecord
    terms: TermsAt
    meter: Meter
    term_bounds: tuple[int, int]
    entries: tuple[EntryLine, ...]  # newest first
    cases: tuple[QueueRow, ...]  # open, risk order
    resolved: int  # listed but resolved (not shown)
    suspensions: tuple[SuspensionRow, ...]  # newest first
    users: tuple[Mapping[str, Any], ...]  # the support_user rows, whatever columns it has
    role: str  # the operator's role
    at: int
    changes: tuple[Mapping[str, Any], ...] = ()  # dated changes (policy §14)

    @property
    def in_force(self) -> tuple[str, int, int | None, bool] | None:
        """(reason, from, until, automatic) of the suspension in force now, if any; a
        lead's suspension first, else the automatic lapse after the term's end."""
        for s in self.suspensions:
            if s.from_at <= self.at and (s.until_at is None or self.at < s.until_at):
                return s.reason, s.from_at, s.until_at, False
        lapse = self.terms.lapse_from
        if lapse is not None and lapse <= self.at:
            return "subscription_lapsed", lapse, None, True
        return None


def _user_order(u: Mapping[str, Any]) -> tuple[bool, bool, str, str]:
    """Active first, administrators first, then by name."""
    return (
        bool(u.get("removed_at")),
        not u.get("admin"),
        (u.get("name") or "").lower(),
        str(u.get("id")),
    )


def load_subscriber(
    store: Store, policy: Policy | PolicyBook, subscriber: str, at: int, user: str | None
) -> SubscriberData | None:
    """The subscriber as of ``at`` (None: no such subscriber), read on one connection."""
    with store.connection() as conn:
        row = conn.execute(
            select(Subscriber.id, Subscriber.name, Subscriber.plan).where(
                col(Subscriber.id) == subscriber
            )
        ).first()
        if row is None:
            return None
        terms = load_terms(conn, policy, [subscriber])
        now = terms.now(subscriber, at)
        start, end = term_bounds(now)
        used = meter(
            now,
            load_entries(conn, subscriber, since=start).get(subscriber, []),
            at,
            terms.book.at(at).meter_warn_percent,
        )
        entries = tuple(
            EntryLine(
                r.at, float(r.hours), bool(r.exempt), r.note, r.by, r.case_id, r.type, r.title
            )
            for r in conn.execute(
                core_select(
                    col(TimeEntry.at),
                    col(TimeEntry.hours),
                    col(TimeEntry.exempt),
                    col(TimeEntry.note),
                    col(TimeEntry.by),
                    col(TimeEntry.case_id),
                    col(Case.type),
                    col(Case.title),
                )
                .join(Case, col(Case.id) == col(TimeEntry.case_id))
                .where(
                    col(TimeEntry.subscriber_id) == subscriber,
                    col(TimeEntry.at) >= start,
                    col(TimeEntry.at) < end,
                    col(TimeEntry.at) <= at,
                )
                .order_by(col(TimeEntry.at).desc(), col(TimeEntry.id).desc())
            )
        )
        listed = load_queue(conn, policy, at, terms=terms, subscriber=subscriber)
        suspensions = sorted(suspension_rows(conn, [subscriber]), key=lambda r: -r.from_at)
        # SELECT *: the support_user table gains columns over time; show what is there.
        users = sorted(
            (
                dict(r._mapping)
                for r in conn.execute(
                    text("SELECT * FROM support_user WHERE subscriber_id = :s"), {"s": subscriber}
                )
            ),
            key=_user_order,
        )
        role = role_of(conn, user)
        changes = subscriber_history(conn, subscriber)
    cases = tuple(r for r in listed if r.status == "open")
    return SubscriberData(
        row=SubscriberRecord(row.id, row.name, row.plan),
        terms=now,
        meter=used,
        term_bounds=(start, end),
        entries=entries,
        cases=cases,
        resolved=len(listed) - len(cases),
        suspensions=tuple(suspensions),
        users=tuple(users),
        role=role,
        at=at,
        changes=tuple(changes),
    )


@dataclass(frozen=True)
class ChangePreview:
    """What a proposed dated change does: the facts it records, the instant judged and
    the effects on the subscriber's open cases' clocks."""

    facts: Mapping[str, Any]
    at: int
    effects: tuple[Effect, ...]


def preview_change(
    store: Store,
    policy: Policy | PolicyBook,
    subscriber: str,
    kind: str,
    value: str,
    *,
    effective_at: int,
    now: int,
) -> ChangePreview:
    """The change form's preview (raises ``Refused`` naming what is wrong with the value)."""
    with store.connection() as conn:
        current = load_terms(conn, policy, [subscriber])[subscriber].at(effective_at)
        facts = form_facts(kind, value, current, effective_at)
        at, effects = preview(conn, policy, subscriber, facts, effective_at=effective_at, now=now)
    return ChangePreview(facts, at, tuple(effects))
