"""Who is acting: the login that opened the database, never a name someone typed.

- SQLite: the operator is the process's real login, looked up in the OS user database for
  the real uid (``pwd.getpwuid(os.getuid())``). ``$USER``/``$LOGNAME`` are ignored: anyone
  can set them. Every member of the group that may write the shared file can also write
  it with ``sqlite3``, so on SQLite the roles are advisory (README, "One shared database").
- PostgreSQL: the operator is the database login, ``session_user``; the database itself
  checks the roles (migration 0010_identity), whatever client is used.

System accounts (``cron``, ``sweep``: the policy data's ``[identity]``) record what no
person did; ``--by NAME`` takes only those, and only for a login with the system role.

The creator of a database (the owner of the SQLite file, or of the PostgreSQL database)
names its first lead (``init --lead``), and only while it has none; until then it may also
fill it (an import, the demo), which is no more than it could do to its own file.
"""

from __future__ import annotations

import os
import pwd
from typing import Any


def login_name() -> str:
    """The real uid's login name (``uid1234`` when the user database has no entry)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def operator_of(store: Any) -> str:
    """The operator of an open store: the OS login on SQLite, ``session_user`` on
    PostgreSQL (asked once per store)."""
    if store.is_sqlite:
        return login_name()
    cached = getattr(store, "_session_user", None)
    if cached is None:
        from sqlalchemy import text

        with store.connection() as conn:
            cached = str(conn.execute(text("SELECT session_user")).scalar_one())
        store._session_user = cached
    return cached


def is_creator(store: Any, conn: Any) -> bool:
    """Whether the operator created (owns) the database: the owner of the SQLite file, or
    the owner of the PostgreSQL database (a superuser counts as its owner)."""
    if store.is_sqlite:
        path = store.engine.url.database
        if not path or path == ":memory:":
            return True
        try:
            owner = os.stat(path).st_uid
        except OSError:
            return False
        try:
            return pwd.getpwuid(owner).pw_name == login_name()
        except KeyError:
            return owner == os.getuid()
    from sqlalchemy import text

    return bool(
        conn.execute(
            text(
                "SELECT pg_has_role(session_user, d.datdba, 'MEMBER') FROM pg_database d "
                "WHERE d.datname = current_database()"
            )
        ).scalar()
    )
