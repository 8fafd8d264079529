"""Operators and roles: who may suspend, lift, purge, import, publish the policy, change a
subscription, manage notification receivers, escalate by hand and edit a war-team plan.

The operator is who logged in (``console.identity``): the OS login on SQLite, the database
login on PostgreSQL. Roles: engineer (everyone unless named), lead, executive (war-team
plans), system (records as ``cron``/``sweep``).

- SQLite: the ``operator`` table holds the roles. They are advisory: every member of the
  group that may write the shared file can write the table too.
- PostgreSQL: lead and system come from membership of the database roles
  ``support_lead``/``support_system`` (granted by ``support-console grant``), which the
  database itself enforces; the ``operator`` table adds ``executive``.

The first lead is named by whoever created the database (``init --lead NAME``), and only
while there is none; after that, leads name roles.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from console.errors import NotAllowed, Refused
from console.grants import check_login, scram_verifier
from console.identity import is_creator
from console.records import Conn
from models import Operator, table_of

OP = table_of(Operator)
ROLES = ("engineer", "lead", "executive", "system")

# Which roles may do what, and the words for it (checked in the engine: the CLI, the
# console and import obey the same rule; on PostgreSQL the database checks it again).
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "suspended": (frozenset({"lead"}), "suspending a case's SLA"),
    "unsuspended": (frozenset({"lead"}), "lifting a case's SLA suspension"),
    "escalate_manual": (frozenset({"lead"}), "escalating an incident before a target is missed"),
    "suspend_subscriber": (frozenset({"lead"}), "suspending a subscriber"),
    "lift_subscriber": (frozenset({"lead"}), "lifting a subscriber's suspension"),
    "renew": (frozenset({"lead"}), "renewing a subscription"),
    "purge": (frozenset({"lead"}), "purging"),
    "plan_updated": (frozenset({"lead", "executive"}), "editing a war-team plan"),
    # Policy §10: engineers and leads assign cases (a system login too, for a script).
    "assigned": (frozenset({"engineer", "lead", "system"}), "assigning a case"),
    "set_role": (frozenset({"lead"}), "setting a role"),
    "grant": (frozenset({"lead"}), "granting a database login"),
    "publish_policy": (frozenset({"lead"}), "publishing a policy version"),
    "product": (frozenset({"lead"}), "editing the support matrix"),
    "support_users": (frozenset({"lead"}), "changing a subscriber's support users"),
    "import": (frozenset({"lead"}), "importing (a lead's migration)"),
    "late_entry": (frozenset({"lead"}), "a late entry"),
    "record_as_system": (frozenset({"system"}), "recording as a system account (--by)"),
    "change_subscriber": (frozenset({"lead"}), "changing a subscription"),
    "change_deployment": (frozenset({"lead"}), "changing a deployment"),
    # Notification receivers (console.notify): their URLs hold secrets and they page people.
    "notify_add": (frozenset({"lead"}), "adding a notification receiver"),
    "notify_remove": (frozenset({"lead"}), "removing a notification receiver"),
    "notify_test": (frozenset({"lead"}), "testing a notification receiver"),
    "notify_reveal": (frozenset({"lead"}), "revealing receivers' URLs"),
    "notify_retry": (frozenset({"lead"}), "queueing failed notifications again"),
}
#: Kept for callers that only need the roles.
ALLOWED: dict[str, frozenset[str]] = {k: v[0] for k, v in ACTIONS.items()}

_ARTICLE = {
    "engineer": "an engineer",
    "lead": "a lead",
    "executive": "an executive",
    "system": "a system account",
}


def dialect_name(conn: Conn) -> str:
    """ "sqlite" or "postgresql", from a Connection or a Session."""
    if isinstance(conn, Session):
        return conn.get_bind().dialect.name
    return conn.dialect.name


def is_postgres(conn: Conn) -> bool:
    return dialect_name(conn) == "postgresql"


def role_of(conn: Conn, name: str | None) -> str:
    """``name``'s role (engineer when nothing names another)."""
    if not name:
        return "engineer"
    if is_postgres(conn):
        row = conn.execute(
            text(
                "SELECT pg_has_role(r.oid, 'support_lead', 'MEMBER') AS lead, "
                "pg_has_role(r.oid, 'support_system', 'MEMBER') AS system "
                "FROM pg_roles r WHERE r.rolname = :n"
            ),
            {"n": name},
        ).first()
        if row is not None and row.lead:
            return "lead"
        if row is not None and row.system:
            return "system"
        stored = conn.execute(select(OP.c.role).where(OP.c.name == name)).first()
        return "executive" if stored and stored[0] == "executive" else "engineer"
    row = conn.execute(select(OP.c.role).where(OP.c.name == name)).first()
    return row[0] if row else "engineer"


def words_for(action: str) -> str:
    return ACTIONS[action][1] if action in ACTIONS else action.replace("_", " ")


def not_allowed(action: str, actor: str | None, role: str) -> NotAllowed:
    allowed = ACTIONS.get(action, (frozenset({"lead"}), ""))[0]
    needs = " or ".join(sorted(allowed))
    who = f" ({actor} is {_ARTICLE.get(role, role)})" if actor else ""
    return NotAllowed(f"not allowed: {words_for(action)} needs the {needs} role{who}")


def require(conn: Conn, actor: str | None, action: str) -> None:
    """Raise NotAllowed unless ``actor`` may do ``action``. ``actor=None``: an action no
    person took (a sweep's escalation), which needs no role."""
    allowed = ALLOWED.get(action)
    if actor is None or allowed is None:
        return
    role = role_of(conn, actor)
    if role not in allowed:
        raise not_allowed(action, actor, role)


def list_operators(conn: Conn) -> list[tuple[str, str]]:
    """(name, role) of everyone with a role: the operator table, and on PostgreSQL every
    login that is a member of a support role."""
    named = {r.name: r.role for r in conn.execute(select(OP).order_by(OP.c.name))}
    if is_postgres(conn):
        logins = (
            conn.execute(
                text(
                    "SELECT r.rolname FROM pg_roles r WHERE NOT r.rolsuper AND r.rolcanlogin "
                    "AND pg_has_role(r.oid, 'support_engineer', 'MEMBER')"
                )
            )
            .scalars()
            .all()
        )
        names = set(named) | set(logins)
        return sorted((n, role_of(conn, n)) for n in names)
    return sorted(named.items())


def lead_exists(conn: Conn) -> bool:
    return conn.execute(select(OP.c.name).where(OP.c.role == "lead").limit(1)).first() is not None


def require_import(store: Any, conn: Conn, actor: str | None) -> None:
    """An import is a lead's migration; while a database has no lead yet, its creator fills
    it (as ``demo`` does) and names the first lead."""
    if lead_exists(conn):
        require(conn, actor, "import")
    elif actor is not None and not is_creator(store, conn):
        raise NotAllowed(
            "not allowed: importing (a lead's migration) needs the lead role; this "
            "database has no lead yet: whoever created it names the first with "
            "`support-console init --lead NAME`"
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise NotAllowed(f"unknown role {role!r} (one of {', '.join(ROLES)})")


def _store_role(session: Any, actor: str | None, name: str, role: str, now: int) -> None:
    exists = session.execute(select(OP.c.name).where(OP.c.name == name)).first()
    if exists:
        session.execute(
            update(OP).where(OP.c.name == name).values(role=role, updated_at=now, updated_by=actor)
        )
    else:
        session.execute(insert(OP).values(name=name, role=role, updated_at=now, updated_by=actor))


def grant(
    store: Any,
    actor: str | None,
    login: str,
    role: str,
    *,
    now: int,
    password: str | None = None,
    first: bool = False,
) -> None:
    """Create or change ``login`` with ``role`` (engineer, lead, executive, system), in one
    transaction, as a lead or the database's owner. ``first``: the creator naming the first
    lead (``init --lead``)."""
    if store.is_sqlite:
        raise Refused(
            "grant manages PostgreSQL logins; this desk's database is SQLite, where "
            "roles are advisory: `support-console operators set NAME ROLE`"
        )
    login = check_login(login)
    if role not in ROLES:
        raise Refused(f"--role: one of {', '.join(ROLES)}, got {role!r}")
    verifier = scram_verifier(password) if password else None
    with store.write() as session:
        # The database's owner may too (as the function allows): it names the first lead.
        if not first and not is_creator(store, session):
            require(session, actor, "grant")
        session.execute(
            text("SELECT support_console_grant(:login, :role, :verifier, :now)"),
            {"login": login, "role": role, "verifier": verifier, "now": now},
        )


def set_role(store: Any, actor: str, name: str, role: str, now: int) -> None:
    """A lead sets ``name``'s role (on PostgreSQL: the login and its role membership)."""
    _check_role(role)
    if not store.is_sqlite:
        grant(store, actor, name, role, now=now)
        return
    with store.write() as session:
        if not lead_exists(session):
            raise NotAllowed(
                "not allowed: this database has no lead yet; whoever created it "
                "names the first with `support-console init --lead NAME`"
            )
        require(session, actor, "set_role")
        _store_role(session, actor, name, role, now)


def first_lead(store: Any, actor: str, name: str, now: int) -> None:
    """``init --lead NAME``: the database's creator names its first lead, and only while
    it has none."""
    name = (name or "").strip()
    if not name:
        raise NotAllowed("init --lead: name the lead (a login name)")
    with store.read() as conn:
        if lead_exists(conn):
            raise NotAllowed(
                "not allowed: this database has a lead already; leads name "
                "others (`operators set NAME lead`, `grant LOGIN --role lead`)"
            )
        if not is_creator(store, conn):
            raise NotAllowed(
                f"not allowed: only whoever created the database names its first "
                f"lead; {actor} did not create it"
            )
    if not store.is_sqlite:
        grant(store, actor, name, "lead", now=now, first=True)
        return
    with store.write() as session:
        if lead_exists(session):  # another process named one meanwhile
            raise NotAllowed("not allowed: this database has a lead already")
        _store_role(session, actor, name, "lead", now)
