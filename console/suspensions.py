"""Subscriber-wide SLA suspensions (policy §6), by leads. (Renewals and other changes of
the subscription are dated changes: ``console.changes``.)

A suspension or lift changes how every clock of the subscriber counts, so the same
transaction recomputes the projections of all the subscriber's cases. A lift is a record
of its own (``suspension_lift``): the suspension row is never changed, so the history
keeps what was planned and when the lead ended it, and ``--as-known-at`` sees the lift
only from when it was recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from console.actions import Refused, reproject
from console.operators import require
from console.policy_store import load_book
from console.records import (
    subscriber_table,
    suspension_lift_table,
    suspension_rows,
    suspension_table,
)
from console.rules.timeutil import BadValue, check_instant, format_instant


def _subscriber(session: Any, subscriber: str) -> Any:
    row = session.execute(
        select(subscriber_table).where(subscriber_table.c.id == subscriber)
    ).first()
    if row is None:
        raise Refused(f"unknown subscriber {subscriber!r}")
    return row


def _instants(*values: int | None) -> None:
    for ts in values:
        if ts is not None:
            try:
                check_instant(ts)
            except BadValue as exc:
                raise Refused(str(exc)) from None


def suspend(
    store: Any,
    subscriber: str,
    *,
    reason: str,
    from_at: int,
    until_at: int | None,
    actor: str | None,
    recorded_at: int,
) -> int:
    _instants(from_at, until_at, recorded_at)
    if until_at is not None and until_at <= from_at:
        raise Refused("a suspension must end after it starts")
    with store.write() as session:
        require(session, actor, "suspend_subscriber")
        policy = load_book(session).at(from_at)
        if reason not in policy.suspension_reasons:
            raise Refused(
                f"suspension reason {reason!r} is not one of {', '.join(policy.suspension_reasons)}"
            )
        if reason in policy.case_only_suspension_reasons:
            raise Refused(
                f"reason: {reason} suspends one case, never a whole subscriber "
                f"(support-console event CASE suspended --reason {reason}); a "
                f"subscriber's reasons: {', '.join(policy.subscriber_suspension_reasons)}"
            )
        _subscriber(session, subscriber)
        for r in suspension_rows(session, [subscriber]):
            ends = r.until_at
            if r.from_at < (until_at if until_at is not None else 2**62) and (
                ends is None or ends > from_at
            ):
                raise Refused(
                    f"{subscriber} is already suspended from {format_instant(r.from_at)}"
                    f" ({r.reason}); lift that first"
                )
        res = session.execute(
            insert(suspension_table).values(
                subscriber_id=subscriber,
                reason=reason,
                from_at=from_at,
                until_at=until_at,
                by=actor,
                recorded_at=recorded_at,
            )
        )
        reproject(session, subscriber)
        return int(res.inserted_primary_key[0])


def lift(
    store: Any, subscriber: str, *, at: int, actor: str | None, recorded_at: int | None = None
) -> None:
    """End the suspension in force at ``at`` (or the open-ended one) at ``at``: appends a
    ``suspension_lift`` record."""
    _instants(at)
    with store.write() as session:
        require(session, actor, "lift_subscriber")
        _subscriber(session, subscriber)
        rows = [
            r
            for r in suspension_rows(session, [subscriber])
            if r.from_at <= at and (r.until_at is None or r.until_at > at)
        ]
        if not rows:
            raise Refused(f"{subscriber} has no suspension in force at {format_instant(at)}")
        for r in rows:
            session.execute(
                insert(suspension_lift_table).values(
                    suspension_id=r.id,
                    at=at,
                    by=actor,
                    recorded_at=recorded_at if recorded_at is not None else at,
                )
            )
        reproject(session, subscriber)
