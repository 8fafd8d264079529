"""Query-hour meters of every subscriber, read from the store (policy §8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from console.plain_sql import paced
from console.records import Conn, case_state_table, event_table, load_terms, time_entry_table
from console.rules.meters import Entry, Meter, closeness, meter, term_bounds
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook


def load_entries(
    conn: Conn,
    subscriber: str | None = None,
    *,
    known_at: int | None = None,
    since: int | None = None,
    pause: Callable[[], object] | None = None,
) -> dict[str, list[Entry]]:
    """Time entries by subscriber; ``since``: only those at or after it (the earliest
    current term's start: years of history are not read, through ``ix_time_entry_at``)."""
    q = select(
        time_entry_table.c.subscriber_id,
        time_entry_table.c.at,
        time_entry_table.c.hours,
        time_entry_table.c.exempt,
        case_state_table.c.type,
    ).join(case_state_table, case_state_table.c.case_id == time_entry_table.c.case_id)
    if subscriber is not None:
        q = q.where(time_entry_table.c.subscriber_id == subscriber)
    if since is not None:
        q = q.where(time_entry_table.c.at >= since)
    if known_at is not None:
        q = q.join(event_table, event_table.c.id == time_entry_table.c.event_id).where(
            event_table.c.recorded_at <= known_at
        )
    out: dict[str, list[Entry]] = {}
    for sid, at, hours, exempt, ctype in paced(conn.execute(q), pause, every=1000):
        out.setdefault(sid, []).append(Entry(at, float(hours), bool(exempt), ctype))
    return out


def load_meters(
    conn: Conn,
    policy: Policy | PolicyBook,
    at: int,
    subscriber: str | None = None,
    *,
    known_at: int | None = None,
    pause: Callable[[], object] | None = None,
) -> list[Meter]:
    """Every subscriber's meter at ``at``, under the policy in force then; ``pause``: the
    console's read, behind its key presses (``console.plain_sql.paced``)."""
    terms = load_terms(
        conn, policy, None if subscriber is None else [subscriber], known_at=known_at
    )
    now_terms = {sid: terms.now(sid, at) for sid in terms}
    starts = [term_bounds(t)[0] for t in now_terms.values()]
    entries = load_entries(
        conn, subscriber, known_at=known_at, since=min(starts) if starts else None, pause=pause
    )
    warn = terms.book.at(at).meter_warn_percent
    meters = [
        meter(t, entries.get(sid, []), at, warn)
        for sid, t in paced(now_terms.items(), pause, every=10)
    ]
    return sorted(meters, key=closeness)


def meter_json(m: Meter) -> dict[str, Any]:
    return {
        "id": m.subscriber,
        "plan": m.plan,
        "term_start": m.term_start.isoformat(),
        "term_end": m.term_end.isoformat(),
        "limit_hours": m.limit_hours,
        "used_hours": m.used_hours,
        "exempt_hours": m.exempt_hours,
        "percent": m.percent,
        "state": m.state,
        "forecast_limit_date": m.forecast_limit_date.isoformat() if m.forecast_limit_date else None,
        "suggest_suspension": "usage_limit_exceeded" if m.state == "over" else None,
    }
