"""A case's clock summary kept beside its events (the ``case_state`` projection).

The projection is the evaluation at the case's *anchor* (its last event, or its start),
plus the instant up to which it can simply be carried forward (``valid_until``: the next
subscriber-suspension boundary). The queue advances it to "now" for free; anything
before the anchor or past ``valid_until`` is evaluated from the events instead. It is
written in the same transaction as every event and ``rebuild`` recomputes it from events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from console.output import queue_template
from console.rules.clocks import (
    RUNNING,
    CaseEval,
    CaseFacts,
    ClockState,
    Event,
    advance,
    evaluate,
)
from console.rules.escalation import ESCALATING_CLOCKS
from console.rules.lifecycle import assignee_of
from console.rules.policy import Terms


def anchor_of(case: CaseFacts, events: Sequence[Event]) -> int:
    last = events[-1].at if events else case.starts_at
    return max(last, case.reported_at)


def project(case: CaseFacts, events: Sequence[Event], terms: Terms) -> dict[str, Any]:
    """The ``case_state`` row for a case (events in time order)."""
    anchor = anchor_of(case, events)
    ev = evaluate(case, events, terms, anchor)
    row = state_row(case, ev)
    row["escalated"] = any(e.kind == "escalated" for e in events)
    row["recorded_upto"] = recorded_upto(case, events)
    row["escalate_at"] = escalate_at(ev, terms)
    row["assignee"] = assignee_of(events)
    row["queue_json"] = (
        queue_template(case.id, case.subscriber, case.deployment, case.reported_at, ev)
        if ev.listed
        else None
    )
    return row


def escalate_at(ev: CaseEval, terms: Terms) -> int | None:
    """When the incident falls due for escalation if nothing more happens: the instant its
    first escalating clock missed its target (already breached), else one counted second
    past the target of a running one; None when no clock can (not an incident, closed,
    or nothing running). A sweep reads the incidents with ``escalate_at <= now`` by index
    instead of carrying every open incident's clocks. Valid while the summary is (see
    ``usable``): past a suspension boundary the case is evaluated from its events."""
    if ev.type != "incident" or ev.status == "closed":
        return None
    best: int | None = None
    specs = None
    for c in ESCALATING_CLOCKS:
        st = ev.clocks.get(c)
        if st is None:
            continue
        if st.breached:
            t = ev.missed_at.get(c, ev.at)
        elif st.state == RUNNING and st.remaining is not None:
            if specs is None:
                specs = terms.specs(ev.type, ev.priority, ev.at)
            t = specs[c].calendar.add(ev.at, st.remaining + 1)
        else:
            continue
        best = t if best is None else min(best, t)
    return best


def recorded_upto(case: CaseFacts, events: Sequence[Event]) -> int | None:
    """The latest instant at which the store took the case or one of its events."""
    known = [e.recorded_at for e in events if e.recorded_at is not None]
    if case.recorded_at is not None:
        known.append(case.recorded_at)
    return max(known) if known else None


def state_row(case: CaseFacts, ev: CaseEval) -> dict[str, Any]:
    dues = [
        st.due
        for st in ev.clocks.values()
        if st.state == RUNNING and st.due is not None and st.target is not None
    ]
    return {
        "case_id": case.id,
        "subscriber_id": case.subscriber,
        "status": ev.status,
        "type": ev.type,
        "priority": ev.priority,
        "level": ev.level,
        "listed": ev.listed,
        "reported_at": case.reported_at,
        "anchor_at": ev.at,
        "valid_until": ev.next_boundary,
        "next_due": min(dues) if dues else None,
        "clocks": encode(ev),
        "title": case.title,
        "deployment_id": case.deployment,
    }


def encode(ev: CaseEval) -> dict[str, Any]:
    return {
        "c": {
            name: [st.state, st.target, st.elapsed, st.due, st.breached]
            for name, st in ev.clocks.items()
        },
        "ack": ev.acknowledged,
        "await": ev.awaiting,
        "susp": ev.suspended,
        "vwait": ev.awaiting_vendor,
    }


def decode(
    row_clocks: dict[str, Any],
    *,
    at: int,
    type_: str,
    priority: str | None,
    level: str,
    status: str,
    valid_until: int | None,
) -> CaseEval:
    clocks = {}
    for name, (state, target, elapsed, due, breached) in row_clocks["c"].items():
        remaining = None if target is None else target - elapsed
        clocks[name] = ClockState(state, target, elapsed, remaining, due, breached)
    return CaseEval(
        at=at,
        type=type_,
        priority=priority,
        level=level,
        status=status,
        acknowledged=row_clocks.get("ack", False),
        awaiting=row_clocks.get("await", False),
        suspended=row_clocks.get("susp", False),
        clocks=clocks,
        next_boundary=valid_until,
        awaiting_vendor=row_clocks.get("vwait", False),
    )


def usable(anchor_at: int, valid_until: int | None, at: int) -> bool:
    """Can the stored summary be carried forward to ``at``?"""
    return anchor_at <= at and (valid_until is None or at < valid_until)


def carry(snapshot: CaseEval, terms: Terms, at: int) -> CaseEval:
    return advance(snapshot, terms, at)
