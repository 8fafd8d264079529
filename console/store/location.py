"""Where the database is, and a reader's connection to a SQLite one without SQLAlchemy.

``resolve_url`` names the database of ``--db`` / $SUPPORT_CONSOLE_DB / the data directory;
``console.store.engine`` (which imports SQLAlchemy) opens it. ``sqlite_reader`` is the
light way in for ``queue --json`` (``console.queue_json``): the standard library's driver
alone, on a SQLite file already at the newest schema; anything else (no file, an older
schema to upgrade, PostgreSQL) goes through the store, which says what is wrong.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

ENV_VAR = "SUPPORT_CONSOLE_DB"
APP_NAME = "support-console"
DEFAULT_FILE = "support.db"
#: The newest migration; kept here so start-up can check the schema with one query
#: instead of loading the migration scripts (a test keeps it equal to Alembic's head).
HEAD = "0014_queue_json"
#: Seconds a SQLite writer waits for another writer before giving up.
BUSY_TIMEOUT = 30.0
_SQLITE = "sqlite:///"


def resolve_url(db: str | None = None) -> str:
    """The SQLAlchemy URL to use: ``db``, else $SUPPORT_CONSOLE_DB, else the data dir.

    A value containing ``://`` is a URL; anything else is a SQLite file path.
    """
    value = db or os.environ.get(ENV_VAR) or ""
    if not value:  # the directory is made when a database is created there (``init``)
        import platformdirs

        value = str(Path(platformdirs.user_data_dir(APP_NAME)) / DEFAULT_FILE)
    if "://" not in value:
        return _SQLITE + os.path.abspath(os.path.expanduser(value))
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def sqlite_reader(url: str) -> sqlite3.Connection | None:
    """A connection for reading the SQLite file of ``url`` (a plain ``sqlite:///path``),
    inside one read transaction begun before the schema is checked (every read sees the
    version checked; closing the connection ends it), or None when the store must open it
    instead: not such a URL, no file or an empty one, or a schema other than ``HEAD``."""
    if not url.startswith(_SQLITE) or "?" in url:
        return None
    path = url[len(_SQLITE) :]
    try:
        if not path or os.stat(path).st_size == 0:
            return None
    except OSError:
        return None
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        con.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        con.execute("PRAGMA query_only=ON")  # (a reader: nothing it runs can write)
        con.execute("BEGIN")
        heads = [r[0] for r in con.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.Error:
        con.close()
        return None
    if heads != [HEAD]:
        con.close()
        return None
    return con
