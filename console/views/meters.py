"""The meters pane's read: every subscriber's query-hour meter for its current term, with
its name and whether its SLA is suspended now (policy §8)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from console.meters import load_meters
from console.records import load_terms, subscriber_table
from console.rules.meters import Meter
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook
from console.store.engine import Store


@dataclass(frozen=True)
class MeterRow:
    meter: Meter
    name: str
    suspended: bool


@dataclass(frozen=True)
class MeterReading:
    at: int
    rows: tuple[MeterRow, ...]


def meter_rows(
    store: Store,
    policy: Policy | PolicyBook,
    at: int,
    pause: Callable[[], object] | None = None,
) -> MeterReading:
    """Meters in closeness order, with each subscriber's name and suspension at ``at``."""
    subscriber = subscriber_table
    with store.connection() as conn:
        meters = load_meters(conn, policy, at, pause=pause)
        names = {r.id: r.name for r in conn.execute(select(subscriber.c.id, subscriber.c.name))}
        terms = load_terms(conn, policy)
    out = []
    for m in meters:
        t = terms.now(m.subscriber, at) if m.subscriber in terms else None
        spans = t.suspension_intervals if t is not None else ()
        suspended = any(f <= at and (u is None or at < u) for f, u in spans)
        out.append(MeterRow(m, str(names.get(m.subscriber, m.subscriber)), suspended))
    return MeterReading(at, tuple(out))
