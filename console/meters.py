"""Query-hour meters of every subscriber, read from the store (policy §8)."""

from __future__ import annotations

from sqlalchemy import select

from console.records import CS, TE, Conn, load_terms
from console.rules.meters import Entry, Meter, closeness, meter
from console.rules.policy import Policy


def load_entries(conn: Conn, subscriber: str | None = None) -> dict[str, list[Entry]]:
    q = select(TE.c.subscriber_id, TE.c.at, TE.c.hours, TE.c.exempt, CS.c.type).join(
        CS, CS.c.case_id == TE.c.case_id)
    if subscriber is not None:
        q = q.where(TE.c.subscriber_id == subscriber)
    out: dict[str, list[Entry]] = {}
    for sid, at, hours, exempt, ctype in conn.execute(q):
        out.setdefault(sid, []).append(Entry(at, float(hours), bool(exempt), ctype))
    return out


def load_meters(conn: Conn, policy: Policy, at: int, subscriber: str | None = None) -> list[Meter]:
    terms = load_terms(conn, policy, None if subscriber is None else [subscriber])
    entries = load_entries(conn, subscriber)
    meters = [meter(t, entries.get(sid, []), at, policy.meter_warn_percent) for sid, t in terms.items()]
    return sorted(meters, key=closeness)


def meter_json(m: Meter) -> dict:
    return {
        "id": m.subscriber, "plan": m.plan, "term_start": m.term_start.isoformat(),
        "term_end": m.term_end.isoformat(), "limit_hours": m.limit_hours,
        "used_hours": m.used_hours, "exempt_hours": m.exempt_hours, "percent": m.percent,
        "state": m.state,
        "forecast_limit_date": m.forecast_limit_date.isoformat() if m.forecast_limit_date else None,
        "suggest_suspension": "usage_limit_exceeded" if m.state == "over" else None,
    }
