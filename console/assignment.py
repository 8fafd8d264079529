"""Assignment (policy §10): every case has at most one assignee, a support engineer, set by
an ``assigned`` event (``data["to"]``: a login name, or absent for "unassigned").

The lifecycle rules (``console.rules.lifecycle``) refuse what a case's history does not
allow (nobody to unassign, the same engineer again, a closed case); this module adds what
needs the database: the name must be a support engineer of this desk, so that a typo never
parks a case with nobody.

- PostgreSQL: a database login that is a member of ``support_engineer`` (an engineer or a
  lead; ``support-console grant`` makes one).
- SQLite: a name the operator list holds as an engineer or a lead, or a login of this host
  (every engineer of a shared SQLite desk has one).
- Never a system account (``cron``, ``sweep``), an executive or a system login; the
  operator may always take a case themselves, unless their own role is one of those.

``take``, ``hand over`` and ``unassign`` are one ``append_event`` each (the CLI's ``take``,
``assign``, ``unassign`` and the case view's ``T``/``H``).
"""

from __future__ import annotations

import pwd
import re
from typing import Any

from sqlalchemy import select, text

#: A login name (the shape ``support-console grant`` accepts).
LOGIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.@-]{0,62}")
ENGINEER_ROLES = ("engineer", "lead")


def _os_login(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def assignee_problem(
    conn: Any, name: str, *, actor: str | None, system_accounts: tuple[str, ...] = ("cron", "sweep")
) -> str | None:
    """Why ``name`` cannot be assigned a case (None: they can)."""
    from console.operators import OP, is_postgres, role_of

    if not LOGIN.fullmatch(name):
        return f"{name!r} is not a login name"
    if name in system_accounts:
        return f"{name} is a system account, not a support engineer"
    role = role_of(conn, name)
    if role not in ENGINEER_ROLES:
        article = "an executive" if role == "executive" else "a system login"
        return f"{name} is {article}, not a support engineer"
    if name == actor:
        return None
    if is_postgres(conn):
        known = conn.execute(
            text(
                "SELECT 1 FROM pg_roles r WHERE r.rolname = :n AND r.rolcanlogin "
                "AND pg_has_role(r.oid, 'support_engineer', 'MEMBER')"
            ),
            {"n": name},
        ).first()
        if known is None:
            return (
                f"no support engineer named {name} (no database login with a support "
                f"role; a lead adds one with `support-console grant {name} --role engineer`)"
            )
        return None
    listed = conn.execute(select(OP.c.role).where(OP.c.name == name)).first()
    if listed is not None or _os_login(name):
        return None
    return (
        f"no support engineer named {name} (neither a login on this host nor in the "
        f"operator list; a lead adds one with `support-console operators set {name} "
        "engineer`)"
    )


def known_engineers(conn: Any) -> list[str]:
    """Names the hand-over prompt offers: the desk's engineers and leads (the operator
    list, on PostgreSQL every login with a support role) and whoever holds a case now."""
    from console.operators import list_operators

    names = {n for n, role in list_operators(conn) if role in ENGINEER_ROLES}
    rows = conn.execute(
        text("SELECT DISTINCT assignee FROM case_state WHERE assignee IS NOT NULL AND listed = :t"),
        {"t": True},
    )
    names.update(r[0] for r in rows)
    return sorted(names)
