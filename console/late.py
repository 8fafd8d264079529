"""Late entries in a case's history (policy §14), and the breaches they cleared.

An event whose ``at`` lies more than the late-entry window before its ``recorded_at`` is a
late entry. The history shows it as such, with the clocks that the desk saw breached just
before it was recorded and no longer breached with it: a backdated acknowledgement that
clears a response breach says so, in the case view and in ``case --json``.

A sweep's escalation, stamped at the instant the target was missed, is not a late entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from console.output import event_json
from console.records import Conn, case_facts, event_of, load_event_rows, load_terms
from console.rules.clocks import Event, evaluate, sort_events
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook, as_book
from console.sweep import SWEEP_ACTOR


def is_late(e: Event, window: int) -> bool:
    if e.recorded_at is None:
        return False
    if e.kind == "escalated" and e.by == SWEEP_ACTOR:
        return False
    return e.recorded_at - e.at > window


def cleared_by(case: Any, events: Sequence[Event], late: Event, terms: Any) -> list[str]:
    """Clocks breached as the desk saw them just before ``late`` was recorded, and not
    breached once it was (both judged at the instant it was recorded)."""
    key = (late.recorded_at or 0, late.seq)
    before = [e for e in events if ((e.recorded_at or 0), e.seq) < key]
    at = late.recorded_at or late.at
    was = evaluate(case, sort_events(before), terms, at)
    now = evaluate(case, sort_events([*before, late]), terms, at)
    return [
        c
        for c, st in was.clocks.items()
        if st.breached and not (c in now.clocks and now.clocks[c].breached)
    ]


def history_json(
    conn: Conn, policy: Policy | PolicyBook, row: Any, *, at: int, known_at: int | None = None
) -> list[dict[str, Any]]:
    """A case's history as ``case --json`` gives it: every event (recorded by
    ``known_at``), late entries flagged with ``late`` and the breaches they ``cleared``."""
    book = as_book(policy)
    window = book.at(row.reported_at).records.late_entry_window
    events = [event_of(r) for r in load_event_rows(conn, row.id, known_at=known_at)]
    facts = case_facts(row)
    out = []
    for e in events:
        item = event_json(e, e.recorded_at)
        if is_late(e, window):
            terms = load_terms(conn, book, [row.subscriber_id], known_at=e.recorded_at)
            item["late"] = True
            item["cleared"] = cleared_by(
                facts, events, e, terms.case(row.subscriber_id, row.reported_at)
            )
        out.append(item)
    return out


def late_entries(
    conn: Conn, policy: Policy | PolicyBook, row: Any, events: Sequence[Event], at: int
) -> tuple[dict[int, list[str]], Any | None]:
    """For the case view: {event id: clocks it cleared} of the late entries recorded by
    now, and the case's clocks at ``at`` without them (None when there are none)."""
    book = as_book(policy)
    window = book.at(row.reported_at).records.late_entry_window
    late = [e for e in events if is_late(e, window)]
    if not late:
        return {}, None
    facts = case_facts(row)
    out = {}
    for e in late:
        known = load_terms(conn, book, [row.subscriber_id], known_at=e.recorded_at)
        out[e.seq] = cleared_by(facts, events, e, known.case(row.subscriber_id, row.reported_at))
    terms = load_terms(conn, book, [row.subscriber_id]).case(row.subscriber_id, row.reported_at)
    ids = set(out)
    without = evaluate(facts, sort_events([e for e in events if e.seq not in ids]), terms, at)
    return out, without
