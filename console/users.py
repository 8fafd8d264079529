"""Support users: each subscriber's portal users (any number of them).

Adding or removing one is a change to the subscriber's record, so it is a lead's action
(policy §14's attribution: the console records who did it, the lead's login; it never
acts in the name of a subscriber's administrator). A subscriber's administrator who asks
for a change does so through the desk, and the lead records it.

Every change records who did it and when: ``added_by``/``added_at``,
``removed_by``/``removed_at`` (imports keep the names their file gives). Removal keeps
the row, marked removed (the retention purge deletes it 90 days after the contract
terminates). A removal that would leave the subscriber without an active administrator is
refused, as is adding users to a subscriber whose contract has terminated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from console.actions import Refused
from console.operators import require
from console.records import Conn, subscriber_table
from console.rules.timeutil import format_instant
from models import SupportUser, table_of

U = table_of(SupportUser)


@dataclass(frozen=True, slots=True)
class SupportUserInfo:
    id: str
    subscriber: str
    name: str | None
    email: str | None
    admin: bool
    added_by: str | None
    added_at: int | None
    removed_by: str | None
    removed_at: int | None

    @property
    def active(self) -> bool:
        return self.removed_at is None


def _info(r: Any) -> SupportUserInfo:
    return SupportUserInfo(
        r.id,
        r.subscriber_id,
        r.name,
        r.email,
        bool(r.admin),
        r.added_by,
        r.added_at,
        r.removed_by,
        r.removed_at,
    )


def list_users(
    conn: Conn, subscriber: str, *, include_removed: bool = True
) -> list[SupportUserInfo]:
    """A subscriber's support users by id (removed ones too unless ``include_removed=False``)."""
    if (
        conn.execute(
            select(subscriber_table.c.id).where(subscriber_table.c.id == subscriber)
        ).first()
        is None
    ):
        raise Refused(f"unknown subscriber {subscriber!r}")
    q = select(U).where(U.c.subscriber_id == subscriber).order_by(U.c.id)
    users = [_info(r) for r in conn.execute(q)]
    return users if include_removed else [u for u in users if u.active]


def user_json(u: SupportUserInfo) -> dict[str, Any]:
    return {
        "id": u.id,
        "subscriber": u.subscriber,
        "name": u.name,
        "email": u.email,
        "admin": u.admin,
        "active": u.active,
        "added_by": u.added_by,
        "added_at": format_instant(u.added_at),
        "removed_by": u.removed_by,
        "removed_at": format_instant(u.removed_at),
    }


def _authorize(session: Any, actor: str | None) -> str | None:
    """Who the change is recorded as: the lead doing it (``actor=None``: a system action)."""
    require(session, actor, "support_users")
    return actor


def _subscriber(session: Any, subscriber: str, lock: bool) -> Any:
    """The subscriber's row; ``lock`` (PostgreSQL) serializes changes to its users, as
    BEGIN IMMEDIATE does on SQLite (the last-admin check must see the other removals)."""
    q = select(subscriber_table).where(subscriber_table.c.id == subscriber)
    row = session.execute(q.with_for_update() if lock else q).first()
    if row is None:
        raise Refused(f"unknown subscriber {subscriber!r}")
    return row


def add_user(
    store: Any,
    subscriber: str,
    user_id: str,
    *,
    name: str,
    email: str,
    admin: bool = False,
    actor: str | None,
    at: int,
) -> SupportUserInfo:
    """Add a support user to ``subscriber`` in one transaction (see module docstring)."""
    user_id, name, email = (user_id or "").strip(), (name or "").strip(), (email or "").strip()
    if not user_id:
        raise Refused("a support user needs an id")
    if not name:
        raise Refused("a support user needs a name (--name)")
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise Refused(f"not an e-mail address: {email!r}")
    with store.write() as session:
        who = _authorize(session, actor)
        sub = _subscriber(session, subscriber, not store.is_sqlite)
        if sub.terminated_at is not None and sub.terminated_at <= at:
            raise Refused(
                f"{subscriber}'s contract terminated at {format_instant(sub.terminated_at)}"
            )
        if session.execute(select(U.c.id).where(U.c.id == user_id)).first() is not None:
            raise Refused(f"support user id {user_id!r} is taken")
        session.execute(
            insert(U).values(
                id=user_id,
                subscriber_id=subscriber,
                name=name,
                email=email,
                admin=admin,
                added_by=who,
                added_at=at,
            )
        )
        return _info(session.execute(select(U).where(U.c.id == user_id)).one())


def remove_user(
    store: Any, subscriber: str, user_id: str, *, actor: str | None, at: int
) -> SupportUserInfo:
    """Mark a support user removed (the row stays), in one transaction."""
    with store.write() as session:
        who = _authorize(session, actor)
        _subscriber(session, subscriber, not store.is_sqlite)
        row = session.execute(select(U).where(U.c.id == user_id)).first()
        if row is None or row.subscriber_id != subscriber:
            raise Refused(f"{user_id!r} is not a support user of {subscriber}")
        if row.removed_at is not None:
            raise Refused(f"{user_id} was already removed at {format_instant(row.removed_at)}")
        if row.admin:
            admins = [
                r.id
                for r in session.execute(
                    select(U.c.id).where(
                        U.c.subscriber_id == subscriber,
                        U.c.admin.is_(True),
                        U.c.removed_at.is_(None),
                    )
                )
            ]
            if admins == [user_id]:
                raise Refused(f"{user_id} is {subscriber}'s last administrator; add another first")
        session.execute(update(U).where(U.c.id == user_id).values(removed_by=who, removed_at=at))
        return _info(session.execute(select(U).where(U.c.id == user_id)).one())
