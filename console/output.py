"""JSON shapes of interchange.md: clocks, queue rows, cases and their history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from console.rules.clocks import CaseEval, ClockState, Event, risk_group
from console.rules.timeutil import format_instant


def clock_json(st: ClockState) -> dict[str, Any]:
    return {
        "state": st.state,
        "target": st.target,
        "elapsed": st.elapsed,
        "remaining": st.remaining,
        "due": format_instant(st.due),
        "breached": st.breached,
    }


def case_json(case_id: str, subscriber: str, title: str, ev: CaseEval, *,
              deployment: str | None = None, reported_at: int | None = None) -> dict[str, Any]:
    group, _ = risk_group(ev.clocks)
    return {
        "id": case_id,
        "subscriber": subscriber,
        "type": ev.type,
        "priority": ev.priority,
        "status": ev.status,
        "level": ev.level,
        "title": title,
        "clocks": {name: clock_json(st) for name, st in ev.clocks.items()},
        "deployment": deployment,
        "reported_at": format_instant(reported_at),
        "acknowledged": ev.acknowledged,
        "awaiting_subscriber": ev.awaiting,
        "suspended": ev.suspended,
        "risk_group": group,
    }


def event_json(e: Event, recorded_at: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"at": format_instant(e.at), "kind": e.kind, "by": e.by}
    out.update(e.data)
    out["seq"] = e.seq
    if recorded_at is not None:
        out["recorded_at"] = format_instant(recorded_at)
    return out


def history_json(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [event_json(e) for e in events]
