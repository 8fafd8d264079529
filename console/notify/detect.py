"""What the passage of time makes worth a message: breaches, forecasts, late status updates.

Nobody writes anything when a clock breaches: the sweep notices it. ``plan`` reads the
queue (and the war-team board) as of ``at`` and lists the messages due; ``detect`` inserts
them into the outbox under their unique key, so any number of sweeps, on any number of
hosts, write each message once. The key's *period* tells apart the repeats of one clock:

- breach: a clock's first breach, period 0; the status-update clock breaches anew in each
  update period, so its period is the instant that period's target was missed;
- forecast: period = the predicted due (a pause that moves the due makes a new forecast);
- late_update: period = the war team's last update (or the escalation) it is counted from.

A receiver hears only of what happens after it was added (a breach missed, a due or an
update owed after its ``created_at``): adding one does not page for last month.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from console.notify import messages as words
from console.notify.messages import CaseRef
from console.notify.outbox import Message, insert_detected
from console.notify.receivers import O, Receiver, load_receivers
from console.records import Conn, case_facts, case_state_table, case_table, load_events, load_terms
from console.rules.clocks import RUNNING, evaluate
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook

TIMED_KINDS = ("breach", "forecast", "late_update")


def detect(store: Any, policy: Policy | PolicyBook, at: int, *, recorded_at: int) -> int:
    """Insert the messages due by ``at``; returns how many rows this call wrote."""
    with store.connection() as conn:
        receivers = [r for r in load_receivers(conn) if set(r.kinds) & set(TIMED_KINDS)]
        if not receivers:
            return 0
        planned = plan(conn, policy, at, receivers)
        planned = _not_yet_written(conn, planned)
    if not planned:
        return 0
    return insert_detected(store, planned, now=recorded_at)


def plan(
    conn: Conn, policy: Policy | PolicyBook, at: int, receivers: Sequence[Receiver]
) -> list[Message]:
    """Every timed message due by ``at`` for ``receivers`` (written or not)."""
    from console.queue import load_queue

    out: list[Message] = []
    wants = {k: [r for r in receivers if k in r.kinds and r.active] for k in TIMED_KINDS}
    if wants["breach"] or wants["forecast"]:
        terms = load_terms(conn, policy)
        rows = [r for r in load_queue(conn, policy, at, terms=terms) if r.eval.status == "open"]
        if wants["breach"]:
            out += _breaches(conn, terms, rows, at, wants["breach"])
        if wants["forecast"]:
            out += _forecasts(rows, at, wants["forecast"])
    if wants["late_update"]:
        out += _late_updates(conn, policy, at, wants["late_update"])
    return out


def _ref(row: Any) -> CaseRef:
    return CaseRef(row.id, row.subscriber, row.eval.priority, row.eval.type, row.title)


def _breaches(
    conn: Conn, terms: Any, rows: Sequence[Any], at: int, receivers: Sequence[Receiver]
) -> list[Message]:
    """First breaches. A running breached clock's ``due`` is the instant it was missed; a
    breached clock that has stopped, paused or been suspended since needs the case's
    history, read only when something changed on the case after the oldest receiver came."""
    since = min(r.created_at for r in receivers)
    found: list[tuple[Any, str, int]] = []  # (row, clock, missed at)
    others: dict[str, Any] = {}
    for row in rows:
        for name, st in row.eval.clocks.items():
            if not st.breached:
                continue
            if st.state == RUNNING and st.due is not None:
                found.append((row, name, st.due))
            else:
                others[row.id] = row
    if others:
        ids = list(others)
        anchors: dict[str, int] = {}
        for i in range(0, len(ids), 900):
            anchors.update(
                conn.execute(
                    select(case_state_table.c.case_id, case_state_table.c.anchor_at).where(
                        case_state_table.c.case_id.in_(ids[i : i + 900])
                    )
                ).all()
            )
        recent = [cid for cid in ids if anchors.get(cid, at) >= since or others[cid].eval.suspended]
        events = load_events(conn, recent)
        for i in range(0, len(recent), 900):
            for crow in conn.execute(
                select(case_table).where(case_table.c.id.in_(recent[i : i + 900]))
            ):
                ev = evaluate(
                    case_facts(crow),
                    events[crow.id],
                    terms.case(crow.subscriber_id, crow.reported_at),
                    at,
                )
                row = others[crow.id]
                for name, st in row.eval.clocks.items():
                    if st.breached and st.state != RUNNING and name in ev.missed_at:
                        found.append((row, name, ev.missed_at[name]))
    out = []
    for row, name, missed in found:
        st = row.eval.clocks[name]
        period = missed if name == "update" else 0
        for r in receivers:
            if missed < r.created_at or not r.wants("breach", row.subscriber, row.eval.priority):
                continue
            title, body = words.breach(
                _ref(row),
                clock=name,
                target=st.target or 0,
                missed_at=missed,
                over=-(st.remaining or 0),
                state=st.state,
                tz=r.tz,
            )
            out.append(Message(r.id, "breach", row.id, name, period, missed, title, body))
    return out


def _forecasts(rows: Sequence[Any], at: int, receivers: Sequence[Receiver]) -> list[Message]:
    """Running clocks that reach their target within a receiver's lead time."""
    horizon = max(r.lead_time for r in receivers)
    out = []
    for row in rows:
        for name, st in row.eval.clocks.items():
            if (
                st.state != RUNNING
                or st.breached
                or st.target is None
                or st.due is None
                or not 0 < st.due - at <= horizon
            ):
                continue
            for r in receivers:
                if (
                    st.due - at > r.lead_time
                    or st.due <= r.created_at
                    or not r.wants("forecast", row.subscriber, row.eval.priority)
                ):
                    continue
                title, body = words.forecast(
                    _ref(row), clock=name, target=st.target, due=st.due, at=at, tz=r.tz
                )
                out.append(Message(r.id, "forecast", row.id, name, st.due, st.due, title, body))
    return out


def _late_updates(
    conn: Conn, policy: Policy | PolicyBook, at: int, receivers: Sequence[Receiver]
) -> list[Message]:
    """Escalated incidents whose war team owes a status update (policy §7)."""
    from console.escalation import load_board

    out = []
    for card in load_board(conn, policy, at):
        if not card.update_overdue or card.next_update_due is None:
            continue
        team = card.team
        last = team.last_update_at if team.last_update_at is not None else card.escalated_at
        ref = CaseRef(card.case_id, card.subscriber, card.priority, "incident", card.title)
        for r in receivers:
            if card.next_update_due < r.created_at or not r.wants(
                "late_update", card.subscriber, card.priority
            ):
                continue
            title, body = words.late_update(
                ref,
                due=card.next_update_due,
                last=last,
                frequency=team.update_frequency,
                column=card.column,
                tz=r.tz,
            )
            out.append(
                Message(
                    r.id,
                    "late_update",
                    card.case_id,
                    "update",
                    last,
                    card.next_update_due,
                    title,
                    body,
                )
            )
    return out


def _not_yet_written(conn: Conn, planned: list[Message]) -> list[Message]:
    """Drop the messages already in the outbox (a cheap read before the write, so a sweep
    that finds nothing new does not take the write lock)."""
    if not planned:
        return planned
    cases = sorted({m.case_id for m in planned})
    have: set[tuple[int, str, str, str, int]] = set()
    for i in range(0, len(cases), 900):
        q = select(O.c.receiver_id, O.c.case_id, O.c.clock, O.c.kind, O.c.period).where(
            O.c.case_id.in_(cases[i : i + 900]), O.c.kind.in_(TIMED_KINDS)
        )
        have.update(tuple(r) for r in conn.execute(q))
    return [m for m in planned if m.key not in have]
