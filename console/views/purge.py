"""The purge pane's read (policy §11): what is due for removal now, what becomes due in
the next 30 days, the subscribers' names and terminations, the last purge's audit entry
and the operator's role. Ids only, never PII."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from console.operators import role_of
from console.records import Conn, subscriber_table
from console.retention import plan
from console.rules.retention import AHEAD_DAYS, DAY, Due, PurgePlan
from console.store.engine import Store
from models import PurgeAudit, table_of


@dataclass(frozen=True)
class PurgeAuditEntry:
    """One purge's audit entry: who, when, how many and which ids."""

    id: int
    at: int
    by: str | None
    counts: dict[str, int]
    ids: dict[str, list[Any]]


@dataclass(frozen=True)
class PurgeData:
    at: int
    now: PurgePlan  # due at ``at``
    soon: tuple[tuple[str, Due], ...]  # ("user" | "attachment", due) in (at, at + 30 days]
    names: dict[str, str]
    terminated: dict[str, int | None]
    last_audit: PurgeAuditEntry | None
    role: str


def _entry(row: Any) -> PurgeAuditEntry:
    return PurgeAuditEntry(row.id, row.at, row.by, row.counts or {}, row.ids or {})


def _audit(conn: Conn, audit_id: int | None) -> PurgeAuditEntry | None:
    audit = table_of(PurgeAudit)
    q = select(audit).order_by(audit.c.id.desc()).limit(1)
    if audit_id is not None:
        q = select(audit).where(audit.c.id == audit_id)
    row = conn.execute(q).first()
    return None if row is None else _entry(row)


def purge_data(store: Store, at: int, user: str | None) -> PurgeData:
    """The plan at ``at`` and 30 days ahead (minus what is due now), and the last audit."""
    subscriber = subscriber_table
    with store.connection() as conn:
        now = plan(conn, at)
        ahead = plan(conn, at + AHEAD_DAYS * DAY)
        subs = list(
            conn.execute(select(subscriber.c.id, subscriber.c.name, subscriber.c.terminated_at))
        )
        last = _audit(conn, None)
        role = role_of(conn, user)
    due_users = {str(d.id) for d in now.users}
    due_atts = {str(d.id) for d in now.attachments}
    soon = [("user", d) for d in ahead.users if str(d.id) not in due_users]
    soon += [("attachment", d) for d in ahead.attachments if str(d.id) not in due_atts]
    return PurgeData(
        at,
        now,
        tuple(soon),
        {r.id: r.name for r in subs},
        {r.id: r.terminated_at for r in subs},
        last,
        role,
    )


def purge_audit(store: Store, audit_id: int | None) -> PurgeAuditEntry | None:
    """The audit entry ``audit_id`` (a purge just run)."""
    with store.connection() as conn:
        return _audit(conn, audit_id)
