"""Opening the database: URL resolution, engine set-up, sessions and schema upgrades.

SQLite follows SQLAlchemy's recipe "Transactions with SQLite and the sqlite3 driver": the
driver runs in autocommit mode and we emit ``BEGIN`` ourselves, so writes can start with
``BEGIN IMMEDIATE``. With the driver's default handling a read-then-write loses updates
between processes, and a deferred ``BEGIN`` that later writes fails with "database is
locked" instead of waiting.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import RootTransaction, make_url

from console.errors import Refused, StoreUnavailable

# Re-exported: where the database is (console.store.location, no SQLAlchemy).
from console.store.location import APP_NAME as APP_NAME
from console.store.location import BUSY_TIMEOUT as BUSY_TIMEOUT
from console.store.location import DEFAULT_FILE as DEFAULT_FILE
from console.store.location import ENV_VAR as ENV_VAR
from console.store.location import HEAD as HEAD
from console.store.location import resolve_url as resolve_url

if TYPE_CHECKING:
    from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_LOCK_ATTEMPTS = 4
_LOCK_BACKOFF = 0.1
#: pg_advisory_xact_lock key serializing schema upgrades across processes.
_PG_SCHEMA_LOCK = 0x5C0_2001


class NoDatabase(StoreUnavailable):
    """Nothing at the path or URL given is a support-console database, and the command may
    not create one (only ``init`` and ``demo`` do): a mistyped ``--db`` must never open an
    empty desk that shows "0 breached"."""

    def __init__(self, where: str, *, other: bool = False) -> None:
        what = "no support-console database" if other else "no database"
        super().__init__(f"{what} at {where} (`support-console init` creates one)")
        self.where = where


def mask_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


def _reason(err: BaseException) -> str:
    """The first line of the driver's message."""
    orig = getattr(err, "orig", None) or err
    lines = str(orig).strip().splitlines()
    return lines[0].strip() if lines else type(orig).__name__


_STORAGE_FAULTS = (
    ("database or disk is full", "the database is full: free disk space"),
    ("no space left", "the disk holding the database is full"),
    ("readonly database", "the database is read-only"),
    ("read-only", "the database is read-only"),
    ("disk i/o error", "the database file cannot be written (was it deleted or moved?)"),
    (
        "no such table",
        "the database file is not a support-console database any more "
        "(was it deleted or replaced?)",
    ),
    ("unable to open database", "the database file cannot be opened"),
)


def _fault_words(err: BaseException) -> str | None:
    """Plain words for a storage fault (full, read-only, vanished), or None."""
    reason = _reason(err).lower()
    for needle, words in _STORAGE_FAULTS:
        if needle in reason:
            return words
    return None


def _is_locked(err: exc.DBAPIError) -> bool:
    orig = err.orig
    return getattr(orig, "sqlite_errorcode", None) == 5 or "database is locked" in str(orig)


class Store:
    """An open database: an engine plus transaction helpers. Make one with ``open_store``."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # Connections from this engine begin with BEGIN IMMEDIATE (see _sqlite_engine).
        self._write_engine = (
            engine.execution_options(sqlite_immediate=True) if self.is_sqlite else engine
        )
        db = engine.url.database if self.is_sqlite else None
        self._file: Path | None = Path(db) if db and db != ":memory:" else None
        self._ident: tuple[int, int] | None = None  # (device, inode) once the schema is ready
        #: Why this store may not write (a what-if console): ``write()`` refuses in words.
        self.read_only: str | None = None

    def _remember_file(self) -> None:
        if self._file is not None and self._file.exists():
            st = self._file.stat()
            self._ident = (st.st_dev, st.st_ino)

    def _check_file(self) -> None:
        """Before each use: an open SQLite handle keeps writing into a deleted file, where
        every write would be lost, so a vanished database is refused in words; a replaced
        one (restored from a backup) is reopened."""
        if self._file is None or self._ident is None:
            return
        try:
            st = self._file.stat()
        except FileNotFoundError:
            raise StoreUnavailable(
                f"the database file {self._file} is gone (deleted or moved); nothing was written"
            ) from None
        if (st.st_dev, st.st_ino) != self._ident:
            self.engine.dispose()
            self._ident = (st.st_dev, st.st_ino)

    def __repr__(self) -> str:
        return f"Store({mask_url(self.url)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    @property
    def safe_url(self) -> str:
        return mask_url(self.url)

    # -- transactions ----------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error.

        On SQLite the transaction starts with BEGIN IMMEDIATE, so a read-then-write holds
        the write lock from its first read. On PostgreSQL it is a READ COMMITTED
        transaction: lock the rows you read-then-write with ``SELECT ... FOR UPDATE``.
        Inside the block ``session.commit()`` only flushes: the block is the transaction.
        To undo, raise; do not call ``session.rollback()``.
        """
        if self.read_only:
            raise Refused(self.read_only)
        from sqlmodel import Session  # lazy: a read-only command never needs the ORM

        conn, trans = self._begin_write()
        session = Session(bind=conn, expire_on_commit=False)
        try:
            with self._translating():
                yield session
                session.commit()
                if not self.is_sqlite and not (
                    session.info.get("quiet") and not session.info.get("changed")
                ):
                    _notify(conn, session.info.get("changed"))
                trans.commit()
        except BaseException:
            if trans.is_active:  # a failed flush has already rolled it back
                with contextlib.suppress(exc.DBAPIError):
                    trans.rollback()
            raise
        finally:
            session.close()
            conn.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (deferred BEGIN on SQLite); rolled back at exit."""
        from sqlmodel import Session

        conn = self._connect(self.engine)
        session = Session(bind=conn, expire_on_commit=False)
        try:
            with self._translating():
                yield session
        finally:
            session.close()
            conn.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A raw Core connection for fast reads; rolled back at exit. Do not write."""
        conn = self._connect(self.engine)
        try:
            with self._translating():
                yield conn
        finally:
            conn.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # -- internals -------------------------------------------------------------------

    def _connect(self, engine: Engine) -> Connection:
        self._check_file()
        try:
            return engine.connect()
        except exc.DBAPIError as err:
            raise StoreUnavailable(
                f"cannot open the database {self.safe_url}: {_reason(err)}"
            ) from err

    @contextlib.contextmanager
    def _translating(self) -> Iterator[None]:
        """Turn a lost connection, a full disk, a read-only or vanished database into
        StoreUnavailable with a message in words (the transaction has rolled back)."""
        try:
            yield
        except exc.DBAPIError as err:
            from console.store.denials import denial, is_denial

            if is_denial(err):  # PostgreSQL refused: the login's role does not allow it
                raise denial(err) from None
            if err.connection_invalidated:
                raise StoreUnavailable(
                    f"lost the connection to the database {self.safe_url}: {_reason(err)}"
                ) from err
            words = _fault_words(err)
            if words:
                raise StoreUnavailable(
                    f"{words} ({self.safe_url}: {_reason(err)}); nothing was written"
                ) from err
            raise

    def _begin_write(self) -> tuple[Connection, RootTransaction]:
        """A connection inside a begun write transaction.

        SQLite waits up to its busy timeout for the write lock; should even that expire
        (a stuck writer), retry the BEGIN a few times with back-off, then give up with
        StoreUnavailable rather than show "database is locked".
        """
        delay = _LOCK_BACKOFF
        for attempt in range(_LOCK_ATTEMPTS):
            conn = self._connect(self._write_engine)
            try:
                return conn, conn.begin()
            except exc.DBAPIError as err:
                conn.close()
                words = _fault_words(err)
                if words:
                    raise StoreUnavailable(
                        f"{words} ({self.safe_url}: {_reason(err)}); nothing was written"
                    ) from err
                if not (self.is_sqlite and _is_locked(err)):
                    raise StoreUnavailable(
                        f"cannot start a transaction on {self.safe_url}: {_reason(err)}"
                    ) from err
            if attempt < _LOCK_ATTEMPTS - 1:
                time.sleep(delay)
                delay *= 4
        raise StoreUnavailable(
            f"database busy: {self.safe_url} stayed locked by another writer; try again"
        )

    def _at_head(self) -> bool:
        """One query: does alembic_version already say HEAD?"""
        with self._connect(self.engine) as conn:
            try:
                rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
            except exc.DBAPIError as err:
                if err.connection_invalidated:
                    raise StoreUnavailable(
                        f"cannot open the database {self.safe_url}: {_reason(err)}"
                    ) from err
                return False  # no such table yet
            return [r[0] for r in rows] == [HEAD]

    def _has_schema(self) -> bool:
        """Whether the database holds a support-console schema at all (any version)."""
        with self._connect(self.engine) as conn:
            try:
                conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
            except exc.DBAPIError as err:
                if err.connection_invalidated:
                    raise StoreUnavailable(
                        f"cannot open the database {self.safe_url}: {_reason(err)}"
                    ) from err
                return False
            return True

    def _upgrade(self) -> None:
        """Create or upgrade the schema, one process at a time.

        SQLite: the migration runs inside BEGIN IMMEDIATE (DDL is transactional there), so
        a second process waits and then finds nothing left to do. PostgreSQL: a
        transaction-scoped advisory lock does the same.
        """
        from alembic import command  # lazy: ~150 ms that a database at head never needs
        from alembic.util import CommandError

        conn, trans = self._begin_write()
        try:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SCHEMA_LOCK})
            command.upgrade(alembic_config(conn), "head")
            trans.commit()
        except CommandError as err:
            raise StoreUnavailable(
                f"cannot upgrade the database {self.safe_url}: {err} "
                "(was it written by a newer support-console?)"
            ) from err
        except exc.OperationalError as err:
            raise StoreUnavailable(
                f"cannot set up the database {self.safe_url}: {_reason(err)}"
            ) from err
        except exc.ProgrammingError as err:  # a login that may not change the schema
            raise StoreUnavailable(
                f"the database {self.safe_url} needs an upgrade that only its owner may run "
                f"(`support-console init` as the owner): {_reason(err)}"
            ) from err
        finally:
            if trans.is_active:
                with contextlib.suppress(exc.DBAPIError):
                    trans.rollback()
            conn.close()


NOTIFY_CHANNEL = "support_console"


def mark_changed(session: Session, *case_ids: str) -> None:
    """Name the cases a write changed, for other consoles' change feeds (PostgreSQL)."""
    session.info.setdefault("changed", set()).update(case_ids)


def mark_quiet(session: Session) -> None:
    """This write changed no case (a notification's bookkeeping): other consoles need not
    re-read anything, so no NOTIFY is sent (PostgreSQL) unless a case is named as well."""
    session.info["quiet"] = True


def _notify(conn: Connection, changed: set[str] | None) -> None:
    """One NOTIFY per write transaction, delivered at commit: the changed case ids, or
    ``*`` (anything may have changed) when the writer named none or too many to send."""
    payload = ",".join(sorted(changed)) if changed else "*"
    if len(payload) > 7000:  # PostgreSQL's payload limit is 8000 bytes
        payload = "*"
    conn.execute(text("SELECT pg_notify(:ch, :p)"), {"ch": NOTIFY_CHANNEL, "p": payload})


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code; env.py uses ``connection`` when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _sqlite_engine(url: Any, busy_timeout: float, cache_kib: int | None = None) -> Engine:
    engine = create_engine(url, connect_args={"timeout": busy_timeout})
    busy_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver must not BEGIN on its own
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: the next one may wait
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten content is zeroed in the file, so a purge leaves no
            # copy behind (policy §11); set on every connection, since any write may move a
            # row and free the space it held.
            cur.execute("PRAGMA secure_delete=ON")
            if cache_kib is not None:  # per connection; the OS caches the file anyway
                cur.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_store(
    url: str | None = None,
    *,
    create: bool = True,
    existing: bool = False,
    busy_timeout: float = BUSY_TIMEOUT,
    cache_kib: int | None = None,
) -> Store:
    """Open (and by default create or upgrade) the database named by ``resolve_url(url)``.

    Raises StoreUnavailable when it cannot be opened or reached. With ``create=False`` the
    schema is left alone and a missing SQLite file is an error. With ``existing=True`` (every
    command but ``init`` and ``demo``) the database must exist already: a missing SQLite
    file, or a file or PostgreSQL database without the schema, raises NoDatabase and nothing
    is created (no file, no ``-wal``/``-shm``); an older schema is still upgraded.
    ``cache_kib``: SQLite's page cache per connection (default 2 MB; a console with many
    threads keeps it small).
    """
    resolved = resolve_url(url)
    safe = mask_url(resolved)
    try:
        sa_url = make_url(resolved)
        backend = sa_url.get_backend_name()
        if backend == "sqlite":
            path = sa_url.database or ""  # (none: an in-memory database, as ":memory:")
            missing = bool(path) and path != ":memory:" and not Path(path).exists()
            if missing and existing:
                raise NoDatabase(str(path))
            if (
                existing
                and not missing
                and path
                and path != ":memory:"
                and Path(path).is_file()
                and Path(path).stat().st_size == 0
            ):
                raise NoDatabase(str(path), other=True)  # an empty file: left untouched
            if missing and not create:
                raise StoreUnavailable(f"no database at {safe}")
            if create and missing:
                from console.store.shared_file import create_file

                with contextlib.suppress(OSError):  # SQLite says why in its own words
                    if Path(path).parent == Path(platformdirs.user_data_dir(APP_NAME)):
                        Path(path).parent.mkdir(parents=True, exist_ok=True)  # the default
                    create_file(Path(path))
            engine = _sqlite_engine(sa_url, busy_timeout, cache_kib)
        else:
            connect_args: dict[str, Any] = {}
            if backend == "postgresql" and "connect_timeout" not in sa_url.query:
                connect_args["connect_timeout"] = 10
            engine = create_engine(sa_url, pool_pre_ping=True, connect_args=connect_args)
    except (exc.ArgumentError, ImportError) as err:
        raise StoreUnavailable(f"cannot use the database URL {safe}: {err}") from err

    store = Store(resolved, engine)
    try:
        if not store._at_head():
            if existing and not store._has_schema():
                where = str(sa_url.database) if backend == "sqlite" else safe
                raise NoDatabase(where, other=True)
            if create or existing:
                store._upgrade()
    except BaseException:
        engine.dispose()
        raise
    store._remember_file()
    return store
