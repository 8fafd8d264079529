"""Reads for the war-team board and the escalation watcher (policy §7).

The board pane shows ``read_board``; the watcher (``screens.escalation_watch``) asks on
every beat for the newest event id (one indexed query: an idle console costs no more) and,
when something was written, for ``escalation_news``: the escalated cases still listed, the
ones it has not seen yet, and the board's signature (which changes whenever anything on
the board does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass

from sqlalchemy import func, select, text

from console.escalation import Card, load_board
from console.records import Conn, case_table, escalation_table, event_table, load_events
from console.rules.clocks import Event
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook
from console.store.engine import Store

CHUNK = 900  # ids per IN (...) list: under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Board:
    """The board as of ``at``: every escalated incident still listed, as cards in column
    then escalation order."""

    cards: tuple[Card, ...]
    at: int


@dataclass(frozen=True)
class NewEscalation:
    """An escalation the watcher had not seen: what its notification names."""

    case_id: str
    subscriber: str
    priority: str | None
    missed: str


@dataclass(frozen=True)
class EscalationNews:
    """What the watcher compares between beats."""

    ids: frozenset[str]  # the escalated cases still listed
    new: tuple[NewEscalation, ...]  # those not in the ``seen`` set asked about, by case id
    signature: tuple[int, int, int]  # see ``board_signature``
    newest_event_id: int | None


def read_board(
    store: Store,
    policy: Policy | PolicyBook,
    now: int,
    pause: Callable[[], object] | None = None,
) -> Board:
    """The board's cards as of ``now`` (``console.escalation.load_board``)."""
    with store.connection() as conn:
        return Board(tuple(load_board(conn, policy, now, pause=pause)), now)


def newest_event_id(store: Store) -> int | None:
    """The id of the newest case event (None on an empty desk): changes with every write."""
    with store.connection() as conn:
        return _newest_event_id(conn)


def listed_escalated_ids(store: Store) -> frozenset[str]:
    """The escalated cases still listed (a new escalation always is)."""
    with store.connection() as conn:
        return _listed_escalated_ids(conn)


def escalation_news(store: Store, seen: Set[str]) -> EscalationNews:
    """The escalated cases still listed, those of them not in ``seen`` (with what their
    notification says), the board's signature and the newest event id, in one read."""
    with store.connection() as conn:
        ids = _listed_escalated_ids(conn)
        fresh = sorted(ids - seen)
        new: list[NewEscalation] = []
        for i in range(0, len(fresh), CHUNK):
            chunk = fresh[i : i + CHUNK]
            rows = conn.execute(
                select(
                    escalation_table.c.case_id,
                    escalation_table.c.subscriber_id,
                    escalation_table.c.missed,
                    case_table.c.priority,
                )
                .join(case_table, case_table.c.id == escalation_table.c.case_id)
                .where(escalation_table.c.case_id.in_(chunk))
            )
            events = load_events(conn, chunk)
            new.extend(
                NewEscalation(
                    r.case_id,
                    r.subscriber_id,
                    _priority(r.priority, events.get(r.case_id, [])),
                    r.missed,
                )
                for r in rows
            )
        signature = board_signature(conn)
        newest = _newest_event_id(conn)
    return EscalationNews(ids, tuple(sorted(new, key=lambda n: n.case_id)), signature, newest)


def board_signature(conn: Conn) -> tuple[int, int, int]:
    """Changes whenever an escalation or any event of an escalated case still on the board
    is written (by any console or host): (escalated listed cases, their events, the newest
    such event id). Read through case_state's ``listed`` index: closed history is not."""
    n_esc, n_ev, last = conn.execute(
        text(
            "SELECT COUNT(DISTINCT s.case_id), COUNT(e.id), COALESCE(MAX(e.id), 0) "
            "FROM case_state s JOIN case_event e ON e.case_id = s.case_id "
            "WHERE s.listed = :t AND s.escalated = :t"
        ),
        {"t": True},
    ).one()
    return int(n_esc), int(n_ev), int(last)


def _listed_escalated_ids(conn: Conn) -> frozenset[str]:
    rows = conn.execute(
        text("SELECT case_id FROM case_state WHERE listed = :t AND escalated = :t"), {"t": True}
    )
    return frozenset(str(r[0]) for r in rows)


def _newest_event_id(conn: Conn) -> int | None:
    newest = conn.execute(select(func.max(event_table.c.id))).scalar()
    return None if newest is None else int(newest)


def _priority(priority: str | None, events: Sequence[Event]) -> str | None:
    """The priority as of the last reclassification."""
    for e in events:
        if e.kind == "reclassified" and e.data.get("priority"):
            priority = str(e.data["priority"])
    return priority
