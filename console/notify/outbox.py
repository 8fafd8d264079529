"""The outbox: one row per message and receiver, written in the transaction that causes it.

An escalation's messages are inserted by ``enqueue_escalation`` inside the escalation's
own write (``console.actions.append_in``): the escalation and its messages commit
together or not at all, so a crash can neither lose a page nor page for an escalation
that was rolled back. Breaches, forecasts and late status updates happen by the passage
of time; the sweep notices them (``console.notify.detect``) and inserts their rows here.

Every row has the unique key (receiver, case, clock, kind, period), and every insert is
``ON CONFLICT DO NOTHING``: two sweeps (or two hosts) that see the same breach write one
row. On PostgreSQL the writing transaction also sends ``NOTIFY support_console_outbox``
(delivered at commit), which wakes the ``notify --follow`` deliverers at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from console.notify.receivers import O, R, ReceiverRefused, load_receivers, mask
from console.records import Conn

OUTBOX_CHANNEL = "support_console_outbox"
STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


@dataclass(frozen=True)
class Message:
    receiver_id: int
    kind: str
    case_id: str
    clock: str
    period: int
    event_at: int
    title: str
    body: str

    @property
    def key(self) -> tuple[int, str, str, str, int]:
        return (self.receiver_id, self.case_id, self.clock, self.kind, self.period)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def wake_deliverers(session: Any) -> None:
    """PostgreSQL: NOTIFY the deliverers; sent at commit, dropped on rollback. (SQLite's
    deliverers follow the file's change feed instead.)"""
    if _dialect(session) == "postgresql":
        session.execute(text("SELECT pg_notify(:ch, '')"), {"ch": OUTBOX_CHANNEL})


def insert_messages(session: Any, messages: Iterable[Message], *, now: int) -> int:
    """Insert each message unless its key exists; returns how many rows were written."""
    if _dialect(session) == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        # (each dialect's insert() has its own Insert class; both have on_conflict_do_nothing)
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    made = 0
    for m in messages:
        stmt = dialect_insert(O).values(
            receiver_id=m.receiver_id,
            kind=m.kind,
            case_id=m.case_id,
            clock=m.clock,
            period=m.period,
            event_at=m.event_at,
            created_at=now,
            title=m.title,
            body=m.body,
            status="pending",
            attempts=0,
            next_attempt_at=0,
        )
        res = session.execute(
            stmt.on_conflict_do_nothing(
                index_elements=["receiver_id", "case_id", "clock", "kind", "period"]
            ).returning(O.c.id)
        )
        made += res.first() is not None  # (rowcount is not reliable with RETURNING)
    if made:
        wake_deliverers(session)
    return made


def insert_detected(store: Any, messages: Sequence[Message], *, now: int) -> int:
    """``insert_messages`` in a transaction of its own that changes no case (consoles are
    not asked to re-read anything)."""
    from console.store.engine import mark_quiet

    with store.write() as session:
        mark_quiet(session)
        return insert_messages(session, messages, now=now)


def enqueue_escalation(
    session: Any,
    *,
    case_id: str,
    subscriber: str,
    title: str,
    ev: Any,
    at: int,
    data: dict[str, Any],
    by: str | None,
    recorded_at: int,
) -> int:
    """The messages of a new escalation, inside the escalation's transaction.

    ``ev`` is the case evaluated just after the escalation (``append_in``): its priority and
    the missed clock's target and overshoot at the time it was recorded.
    """
    from console.notify import messages as words
    from console.notify.messages import CaseRef

    receivers = [
        r for r in load_receivers(session) if r.wants("escalation", subscriber, ev.priority)
    ]
    if not receivers:
        return 0
    missed = str(data.get("missed", "manual"))
    clock = ev.clocks.get(missed)
    overdue = -(clock.remaining or 0) if clock is not None and clock.breached else 0
    ref = CaseRef(case_id, subscriber, ev.priority, ev.type, title)
    out = []
    for r in receivers:
        head, body = words.escalation(
            ref,
            missed=missed,
            target=clock.target if clock is not None else None,
            missed_at=at,
            overdue=overdue,
            column="escalated",
            tz=r.tz,
            by=by,
            reason=data.get("reason"),
        )
        out.append(Message(r.id, "escalation", case_id, missed, 0, at, head, body))
    return insert_messages(session, out, now=recorded_at)


# -- reading -----------------------------------------------------------------------------


def status_counts(conn: Conn) -> dict[str, int]:
    """Rows by status (every status present, zero when none)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in conn.execute(select(O.c.status, func.count()).group_by(O.c.status)):
        counts[status] = int(n)
    return counts


def failed_count(conn: Conn) -> int:
    return int(
        conn.execute(select(func.count()).select_from(O).where(O.c.status == "failed")).scalar_one()
    )


def oldest_waiting(conn: Conn) -> int | None:
    """``created_at`` of the oldest message not yet delivered nor given up (or None)."""
    return conn.execute(
        select(func.min(O.c.created_at)).where(O.c.status.in_(("pending", "sending")))
    ).scalar()


def failed_messages(conn: Conn, limit: int = 200) -> list[Any]:
    """Messages given up after their last try, newest first, with their receiver's URL."""
    q = (
        select(O, R.c.url, R.c.removed_at.label("receiver_removed_at"))
        .join(R, R.c.id == O.c.receiver_id)
        .where(O.c.status == "failed")
        .order_by(O.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(q))


def message_json(row: Any) -> dict[str, Any]:
    from console.rules.timeutil import format_instant

    return {
        "id": row.id,
        "receiver": row.receiver_id,
        "url": mask(row.url),
        "kind": row.kind,
        "case": row.case_id or None,
        "clock": row.clock or None,
        "event_at": format_instant(row.event_at),
        "created_at": format_instant(row.created_at),
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "title": row.title,
        "body": row.body,
    }


def retry_failed(store: Any, ids: Sequence[int] | None, *, actor: str | None) -> int:
    """Put failed messages back in the queue, tries counted afresh (leads). ``ids=None``:
    every failed message of a receiver still in place."""
    from console.errors import NotAllowed
    from console.operators import require
    from console.store.engine import mark_changed

    with store.write() as session:
        try:
            require(session, actor, "notify_retry")
        except NotAllowed as exc:
            raise ReceiverRefused(str(exc)) from None
        live = select(R.c.id).where(R.c.removed_at.is_(None))
        q = update(O).where(O.c.status == "failed", O.c.receiver_id.in_(live))
        if ids is not None:
            found = {
                r[0]
                for r in session.execute(
                    select(O.c.id).where(O.c.id.in_(list(ids)), O.c.status == "failed")
                )
            }
            missing = [str(i) for i in ids if i not in found]
            if missing:
                raise ReceiverRefused(f"no failed message {', '.join(missing)} (see notify failed)")
            q = q.where(O.c.id.in_(list(ids)))
        cases = select(O.c.case_id).where(O.c.status == "failed", O.c.case_id != "")
        if ids is not None:
            cases = cases.where(O.c.id.in_(list(ids)))
        # Consoles re-read these cases, and with them their count of failed messages.
        mark_changed(session, *sorted({r[0] for r in session.execute(cases)}))
        res = session.execute(
            q.values(
                status="pending", attempts=0, next_attempt_at=0, lease_until=None, claim_token=None
            )
        )
        n = int(res.rowcount or 0)
        if n:
            wake_deliverers(session)
        return n
