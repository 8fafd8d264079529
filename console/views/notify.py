"""The notifications pane's read: the outbox's counts, the messages given up after their
last try (newest first), the receivers with their URLs masked, and the operator's role."""

from __future__ import annotations

from dataclasses import dataclass

from console.notify.outbox import failed_messages, status_counts
from console.notify.receivers import Receiver, load_receivers, mask
from console.operators import role_of
from console.store.engine import Store

SHOWN_FAILED = 100


@dataclass(frozen=True)
class FailedMessage:
    id: int
    receiver: int
    kind: str
    created_at: int
    title: str
    attempts: int
    error: str
    gone: bool  # its receiver was removed since


@dataclass(frozen=True)
class NotifyData:
    at: int
    counts: dict[str, int]
    failed: tuple[FailedMessage, ...]
    receivers: tuple[Receiver, ...]
    masked: dict[int, str]  # receiver id -> its URL masked
    role: str


def notify_data(store: Store, at: int, user: str | None) -> NotifyData:
    with store.connection() as conn:
        counts = status_counts(conn)
        rows = failed_messages(conn, limit=SHOWN_FAILED)
        receivers = load_receivers(conn)
        role = role_of(conn, user)
    failed = tuple(
        FailedMessage(
            r.id,
            r.receiver_id,
            r.kind,
            r.created_at,
            r.title,
            r.attempts,
            r.last_error or "?",
            r.receiver_removed_at is not None,
        )
        for r in rows
    )
    return NotifyData(
        at, counts, failed, tuple(receivers), {r.id: mask(r.url) for r in receivers}, role
    )
