"""The sweep (policy §7): record each incident's escalation to the war team once, the
moment its workaround or resolution target was missed.

``sweep`` finds incidents whose workaround or resolution target was missed by ``at`` and
records each one's escalation once: the escalation table's primary key is the case, and
the insert does nothing on conflict, so racing consoles and cron jobs on several hosts
still write exactly one escalation (and one ``escalated`` event) per case.

A module of its own, light to import: cron runs ``support-console sweep`` every minute and
a console runs it in a child process, and with nothing due it reads three index ranges
(``escalate_at``) without loading the tables' models, the policy or any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.rules.escalation import ESCALATING_CLOCKS
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook

if TYPE_CHECKING:  # (loaded when a sweep runs, not when the CLI starts)
    from console.records import Conn
    from console.store.engine import Store


@dataclass(frozen=True)
class Escalated:
    case_id: str
    missed: str
    escalated_at: int


def due_escalations(conn: Conn, policy: Policy | PolicyBook, at: int) -> list[Escalated]:
    """Incidents whose workaround or resolution was missed by ``at`` and not escalated yet."""
    return scan(conn, policy, at)[0]


def scan(
    conn: Conn, policy: Policy | PolicyBook | None, at: int
) -> tuple[list[Escalated], int | None]:
    """(the escalations due by ``at``, the next instant one may fall due with no new event:
    the earliest instant a running workaround or resolution clock of an incident not yet
    escalated first exceeds its target). A console need not sweep again before that
    instant unless something is written.

    That instant is one counted second past the target, not the clock's ``due``: a target
    reached exactly at the end of a day's window is not breached until the next window
    opens, hours later.

    Both come from the projection's ``escalate_at`` (``console.projection``), read through
    ``ix_case_state_listed_escalate_at``: the incidents due, and the smallest instant still
    ahead, without carrying every open incident's clocks (nor reading closed history).
    Incidents whose summary cannot be carried to ``at`` (a suspension boundary passed, an
    event ahead of ``at``) are evaluated from their events. Every candidate is checked
    from its events before it is recorded."""
    from sqlalchemy import text

    unescalated = "s.listed = :t AND s.type = 'incident' AND s.escalated = :f"
    params = {"t": True, "f": False, "at": at}
    due = {
        r[0]
        for r in conn.execute(
            text(
                f"SELECT s.case_id FROM case_state s WHERE {unescalated} AND s.escalate_at <= :at "
                "AND +s.anchor_at <= :at AND (s.valid_until IS NULL OR +s.valid_until > :at)"
            ),
            params,
        )
    }
    next_due = conn.execute(
        text(
            f"SELECT MIN(s.escalate_at) FROM case_state s WHERE {unescalated} "
            "AND s.escalate_at > :at AND +s.anchor_at <= :at "
            "AND (s.valid_until IS NULL OR +s.valid_until > :at)"
        ),
        params,
    ).scalar()
    stale = [
        r[0]
        for r in conn.execute(
            text(
                f"SELECT s.case_id FROM case_state s WHERE {unescalated} AND s.anchor_at > :at "
                f"UNION SELECT s.case_id FROM case_state s WHERE {unescalated} "
                "AND s.valid_until <= :at"
            ),
            params,
        )
    ]
    if not due and not stale:
        return [], next_due
    from console.records import load_terms

    if policy is None:
        from console.policy_store import load_book

        policy = load_book(conn)
    terms = load_terms(conn, policy)
    candidates = sorted(due)
    if stale:  # evaluated from events: due now, or the next instant one may be
        from console.queue import load_queue

        for r in load_queue(conn, None, at, terms=terms, case_ids=stale):
            ev = r.eval
            if ev.type != "incident" or r.escalated:
                continue
            if any(ev.clocks[c].breached for c in ESCALATING_CLOCKS if c in ev.clocks):
                candidates.append(r.id)
                continue
            for c in ESCALATING_CLOCKS:
                st = ev.clocks.get(c)
                if st is not None and st.state == "running" and st.remaining is not None:
                    assert r.terms is not None  # (read here, with its terms)
                    breach_at = r.terms.specs(ev.type, ev.priority, at)[c].calendar.add(
                        at, st.remaining + 1
                    )
                    if next_due is None or breach_at < next_due:
                        next_due = breach_at
    if not candidates:
        return [], next_due
    from sqlalchemy import select

    from console.records import case_facts, case_table, load_events
    from console.rules.clocks import evaluate

    events = load_events(conn, candidates)
    out = []
    for i in range(0, len(candidates), 900):
        for row in conn.execute(
            select(case_table).where(case_table.c.id.in_(candidates[i : i + 900]))
        ):
            ev = evaluate(
                case_facts(row), events[row.id], terms.case(row.subscriber_id, row.reported_at), at
            )
            missed = sorted((t, c) for c, t in ev.missed_at.items() if c in ESCALATING_CLOCKS)
            if not missed:
                continue
            t, clock = missed[0]
            # Never before the case became an incident (a reclassified query).
            became = [e.at for e in events[row.id] if e.kind == "reclassified" and e.at <= at]
            out.append(Escalated(row.id, clock, max([t, *became])))
    return sorted(out, key=lambda e: (e.escalated_at, e.case_id)), next_due


#: Who records a sweep's escalations (policy §14): no person did it, whichever console or
#: cron job ran the sweep; the host that ran it is in the event's data.
SWEEP_ACTOR = "sweep"


def sweep(store: Store, at: int, *, recorded_at: int) -> list[Escalated]:
    """Record every escalation due by ``at``; returns those this call recorded."""
    return sweep_and_next(store, at, recorded_at=recorded_at)[0]


def sweep_and_next(
    store: Store, at: int, *, recorded_at: int
) -> tuple[list[Escalated], int | None]:
    """``sweep``, plus the next instant an escalation may fall due (see ``scan``).

    The clocks are judged by the policy stored in the database (never a what-if file).
    """
    import socket

    with store.connection() as conn:
        due, next_due = scan(conn, None, at)  # the stored policy, read only when needed
    if due:
        from console.actions import Refused, append_in
    host = socket.gethostname()
    made = []
    for esc in due:
        try:
            with store.write() as session:
                # Writes the escalation row first (ON CONFLICT DO NOTHING); if another console
                # or host got there first, Refused rolls this transaction back.
                append_in(
                    session,
                    store.is_sqlite,
                    esc.case_id,
                    "escalated",
                    at=esc.escalated_at,
                    by=SWEEP_ACTOR,
                    data={"missed": esc.missed, "host": host},
                    recorded_at=recorded_at,
                )
            made.append(esc)
        except Refused:
            continue
    return made, next_due
