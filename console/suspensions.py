"""Subscriber-wide SLA suspensions and term renewals (policy §6), by leads.

A suspension or lift changes how every clock of the subscriber counts, so the same
transaction recomputes the projections of all the subscriber's cases.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from console.actions import Refused, reproject
from console.operators import NotAllowed, require
from console.records import SS, S
from console.rules.policy import Policy
from console.rules.timeutil import format_instant


def _subscriber(session: Any, subscriber: str) -> Any:
    row = session.execute(select(S).where(S.c.id == subscriber)).first()
    if row is None:
        raise Refused(f"unknown subscriber {subscriber!r}")
    return row


def suspend(store: Any, policy: Policy, subscriber: str, *, reason: str, from_at: int,
            until_at: int | None, actor: str | None, recorded_at: int) -> int:
    if reason not in policy.suspension_reasons:
        raise Refused(f"suspension reason {reason!r} is not one of {', '.join(policy.suspension_reasons)}")
    if reason in policy.case_only_suspension_reasons:
        raise Refused(f"reason: {reason} suspends one case, never a whole subscriber "
                      f"(support-console event CASE suspended --reason {reason}); a "
                      f"subscriber's reasons: {', '.join(policy.subscriber_suspension_reasons)}")
    if until_at is not None and until_at <= from_at:
        raise Refused("a suspension must end after it starts")
    with store.write() as session:
        try:
            require(session, actor, "suspend_subscriber")
        except NotAllowed as exc:
            raise Refused(str(exc)) from None
        _subscriber(session, subscriber)
        for r in session.execute(select(SS).where(SS.c.subscriber_id == subscriber)):
            ends = r.until_at
            if r.from_at < (until_at if until_at is not None else 2**62) and (ends is None or ends > from_at):
                raise Refused(f"{subscriber} is already suspended from {format_instant(r.from_at)}"
                              f" ({r.reason}); lift that first")
        res = session.execute(insert(SS).values(subscriber_id=subscriber, reason=reason, from_at=from_at,
                                                until_at=until_at, by=actor, recorded_at=recorded_at))
        reproject(session, policy, subscriber)
        return int(res.inserted_primary_key[0])


def lift(store: Any, policy: Policy, subscriber: str, *, at: int, actor: str | None) -> None:
    """End the suspension in force at ``at`` (or the open-ended one) at ``at``."""
    with store.write() as session:
        try:
            require(session, actor, "lift_subscriber")
        except NotAllowed as exc:
            raise Refused(str(exc)) from None
        _subscriber(session, subscriber)
        rows = [r for r in session.execute(select(SS).where(SS.c.subscriber_id == subscriber))
                if r.from_at <= at and (r.until_at is None or r.until_at > at)]
        if not rows:
            raise Refused(f"{subscriber} has no suspension in force at {format_instant(at)}")
        for r in rows:
            session.execute(update(SS).where(SS.c.id == r.id).values(until_at=at))
        reproject(session, policy, subscriber)


def renew(store: Any, policy: Policy, subscriber: str, *, term_start: date | None, term_end: date,
          actor: str | None) -> None:
    """Extend the subscription's term: ends an automatic lapse (policy §6)."""
    with store.write() as session:
        try:
            require(session, actor, "renew")
        except NotAllowed as exc:
            raise Refused(str(exc)) from None
        row = _subscriber(session, subscriber)
        start = term_start or row.term_start
        if term_end < start:
            raise Refused(f"term ends ({term_end}) before it starts ({start})")
        session.execute(update(S).where(S.c.id == subscriber).values(term_start=start, term_end=term_end))
        reproject(session, policy, subscriber)
