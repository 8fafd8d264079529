"""The war-team board (policy §7): each escalated incident as a card, in its column.

The sweep that records the escalations is ``console.sweep``; this module only reads them,
so that the notifications (``console.notify.detect``) can read the board without reaching
the actions the sweep writes through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from console.plain_sql import paced
from console.records import (
    Conn,
    case_facts,
    case_table,
    escalation_table,
    load_events,
    load_terms,
)
from console.rules.clocks import evaluate
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook, as_book
from console.rules.warteam import WarTeam, next_update_due, update_overdue, war_team

#: Escalated cases read (and their events held) at a time.
CHUNK = 900


def escalated_ids(conn: Conn) -> set[str]:
    return {r[0] for r in conn.execute(select(escalation_table.c.case_id))}


@dataclass
class Card:
    case_id: str
    subscriber: str
    priority: str | None
    title: str
    missed: str
    escalated_at: int
    overdue_by: int  # counted seconds past the missed target, as of `at`
    column: str
    team: WarTeam
    next_update_due: int | None
    update_overdue: bool
    status: str


def load_board(
    conn: Conn,
    policy: Policy | PolicyBook,
    at: int,
    *,
    known_at: int | None = None,
    pause: Callable[[], object] | None = None,
) -> list[Card]:
    """Every escalated incident still listed at ``at`` (not closed by then), as cards in
    column then escalation order; ``known_at``: as the desk could see it then (escalations
    and events recorded by then). A closed incident leaves the board: it stays in the
    case's history. The read goes through case_state's ``listed`` indexes (open cases, and
    those closed after a past ``at``), so years of closed escalations cost nothing.
    ``pause``: the console's read, behind its key presses (``console.plain_sql.paced``)."""
    from sqlalchemy import and_, false, true, union_all

    from console.records import case_state_table

    def part(*cond: Any) -> Any:
        q = (
            select(*escalation_table.c)
            .join(case_state_table, case_state_table.c.case_id == escalation_table.c.case_id)
            .where(
                *cond, case_state_table.c.escalated == true(), escalation_table.c.escalated_at <= at
            )
        )
        return q.where(escalation_table.c.recorded_at <= known_at) if known_at is not None else q

    q = union_all(
        part(case_state_table.c.listed == true()),
        part(and_(case_state_table.c.listed == false(), case_state_table.c.anchor_at > at)),
    )
    escs = {r.case_id: r for r in conn.execute(q)}
    if not escs:
        return []
    ids = list(escs)
    terms = load_terms(conn, policy, known_at=known_at)
    cards = []
    for i in range(0, len(ids), CHUNK):
        # A chunk's events at a time: a desk a day behind has thousands of escalated
        # incidents, and all their events at once were a console's largest passing peak.
        chunk = ids[i : i + CHUNK]
        events = load_events(conn, chunk, known_at=known_at, pause=pause)
        rows = conn.execute(select(case_table).where(case_table.c.id.in_(chunk)))
        for row in paced(rows, pause, every=50):
            t = terms.case(row.subscriber_id, row.reported_at)
            evs = [e for e in events[row.id] if e.at <= at]
            ev = evaluate(case_facts(row), evs, t, at)
            esc = escs[row.id]
            cal = t.coverage_calendar
            team = war_team(evs, cal, t.update_frequency(at))
            clock = ev.clocks.get(esc.missed)
            overdue = -(clock.remaining or 0) if clock is not None and clock.breached else 0
            cards.append(
                Card(
                    case_id=row.id,
                    subscriber=row.subscriber_id,
                    priority=ev.priority,
                    title=row.title,
                    missed=esc.missed,
                    escalated_at=esc.escalated_at,
                    overdue_by=overdue,
                    column=team.column,
                    team=team,
                    next_update_due=next_update_due(team, cal),
                    update_overdue=update_overdue(team, cal, at),
                    status=ev.status,
                )
            )
    order = {c: i for i, c in enumerate(as_book(policy).at(at).board_columns)}
    return sorted(cards, key=lambda c: (order.get(c.column, 99), c.escalated_at, c.case_id))
