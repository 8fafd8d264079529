"""Operators and roles: who may suspend, lift, purge, edit a war-team plan, manage
notification receivers, escalate by hand and list a deployment's components.

The operator is the login user (SSH has authenticated them on the jump host) unless
``--user`` is given. Someone with no row is an engineer. A lead sets roles; while no lead
exists, the first ``operators set`` may name one (bootstrap).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from console.records import Conn
from models import Operator

OP = Operator.__table__
ROLES = ("engineer", "lead", "executive")

# Which roles may do what (checked in the engine: the CLI and the console obey the same).
ALLOWED: dict[str, frozenset[str]] = {
    "suspended": frozenset({"lead"}),
    "unsuspended": frozenset({"lead"}),
    "suspend_subscriber": frozenset({"lead"}),
    "lift_subscriber": frozenset({"lead"}),
    "renew": frozenset({"lead"}),
    "purge": frozenset({"lead"}),
    "plan_updated": frozenset({"lead", "executive"}),
    "set_role": frozenset({"lead"}),
    "publish_policy": frozenset({"lead"}),
    "change_subscriber": frozenset({"lead"}),
    "change_deployment": frozenset({"lead"}),
    # Notification receivers (console.notify): their URLs hold secrets and they page people.
    "notify_add": frozenset({"lead"}),
    "notify_remove": frozenset({"lead"}),
    "notify_test": frozenset({"lead"}),
    "notify_reveal": frozenset({"lead"}),
    "notify_retry": frozenset({"lead"}),
    # An escalation before any target is missed (policy §7).
    "escalate_manual": frozenset({"lead"}),
}


class NotAllowed(Exception):
    """The operator's role does not allow the action; nothing was written."""


def role_of(conn: Conn, name: str | None) -> str:
    if not name:
        return "engineer"
    row = conn.execute(select(OP.c.role).where(OP.c.name == name)).first()
    return row[0] if row else "engineer"


def require(conn: Conn, actor: str | None, action: str) -> None:
    """Raise NotAllowed unless ``actor`` may do ``action``. ``actor=None``: a system action
    (import, sweep), which needs no role."""
    allowed = ALLOWED.get(action)
    if actor is None or allowed is None:
        return
    role = role_of(conn, actor)
    if role not in allowed:
        needs = " or ".join(sorted(allowed))
        raise NotAllowed(f"{action.replace('_', ' ')} needs the {needs} role; {actor} is {role}")


def list_operators(conn: Conn) -> list[tuple[str, str]]:
    return [(r.name, r.role) for r in conn.execute(select(OP).order_by(OP.c.name))]


def set_role(store: Any, actor: str, name: str, role: str, now: int) -> None:
    if role not in ROLES:
        raise NotAllowed(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    with store.write() as session:
        has_lead = session.execute(select(OP.c.name).where(OP.c.role == "lead")).first()
        if has_lead is not None:
            require(session, actor, "set_role")
        elif role != "lead":
            raise NotAllowed("name a lead first: `operators set NAME lead` (no lead exists yet)")
        exists = session.execute(select(OP.c.name).where(OP.c.name == name)).first()
        if exists:
            session.execute(update(OP).where(OP.c.name == name).values(
                role=role, updated_at=now, updated_by=actor))
        else:
            session.execute(insert(OP).values(name=name, role=role, updated_at=now, updated_by=actor))
