"""The storage engine on SQLite and PostgreSQL: schema, transactions, errors, concurrency."""

import multiprocessing as mp
import sqlite3
import time
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import SQLModel, select

import models
from console.store import engine as engine_mod
from console.store.engine import (
    HEAD,
    StoreUnavailable,
    alembic_config,
    open_store,
    resolve_url,
)
from models import Case, CaseEvent, Deployment, Subscriber

TABLES = {
    "subscriber",
    "subscriber_suspension",
    "suspension_lift",
    "deployment",
    "support_user",
    "support_case",
    "case_link",
    "case_event",
    "case_state",
    "time_entry",
    "escalation",
    "operator",
    "attachment",
    "purge_audit",
    "product_version",
    "policy_version",
    "notify_receiver",
    "notify_outbox",
    "subscriber_change",
    "deployment_change",
}


def _subscriber(id: str = "acme") -> Subscriber:
    return Subscriber(
        id=id,
        name="Acme Bank",
        plan="enterprise",
        coverage="business",
        holidays=["2026-12-24"],
        term_start=date(2026, 1, 1),
        term_end=date(2026, 12, 31),
        targets={"response": {"P1": 3600}},
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- schema ---------------------------------------------------------------------------


def test_head_constant_matches_migrations() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_schema_created_on_first_open_and_matches_models(db_url: str) -> None:
    with open_store(db_url) as store, store.connection() as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        assert list(version) == [HEAD]
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []


def test_reopen_takes_the_fast_path(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_store(db_url).dispose()

    def fail(self: object) -> None:
        raise AssertionError("schema upgrade ran on an up-to-date database")

    monkeypatch.setattr(engine_mod.Store, "_upgrade", fail)
    open_store(db_url).dispose()


def test_downgrade_then_upgrade_again(db_url: str) -> None:
    with open_store(db_url) as store, store.write() as session:
        conn = session.connection()
        command.downgrade(alembic_config(conn), "base")
        assert not TABLES & set(inspect(conn).get_table_names())
    with open_store(db_url) as store, store.read() as session:
        assert session.exec(select(Subscriber)).all() == []


def test_create_false_leaves_schema_alone(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no database"):
        open_store(str(tmp_path / "missing.db"), create=False)
    open_store(str(tmp_path / "db.sqlite")).dispose()
    with open_store(str(tmp_path / "db.sqlite"), create=False) as store:
        assert store.is_sqlite


def test_sqlite_pragmas(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store, store.connection() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30000
        assert pragma("synchronous") == 1  # NORMAL


# -- transactions ---------------------------------------------------------------------


def test_write_commits_and_round_trips(db_url: str) -> None:
    with open_store(db_url) as store:
        with store.write() as session:
            session.add(_subscriber())
            session.flush()  # no relationship(): the unit of work does not order by FKs
            session.add(
                Case(
                    id="C-1",
                    subscriber_id="acme",
                    type="incident",
                    priority="P1",
                    title="502",
                    reported_at=1_790_000_000,
                    level="L1",
                )
            )
            session.flush()
            session.add(CaseEvent(case_id="C-1", at=2**40, kind="acknowledged", recorded_at=1))
        with store.read() as session:
            sub = session.get(Subscriber, "acme")
            assert sub is not None
            assert sub.holidays == ["2026-12-24"]
            assert sub.targets == {"response": {"P1": 3600}}
            assert sub.term_end == date(2026, 12, 31)
            event = session.exec(select(CaseEvent)).one()
            assert (event.at, event.data, event.by) == (2**40, {}, None)
            case = session.get(Case, "C-1")
            assert case is not None
            assert case.version == 1
            assert case.konneqt_initiated is False


def test_write_rolls_back_everything_on_error(db_url: str) -> None:
    with open_store(db_url) as store:
        with pytest.raises(RuntimeError, match="boom"), store.write() as session:  # noqa: PT012 (the block is the transaction)
            session.add(_subscriber())
            session.flush()
            session.commit()  # only flushes: the block is the transaction
            raise RuntimeError("boom")
        with store.read() as session:
            assert session.exec(select(Subscriber)).all() == []


def test_foreign_key_violation_is_refused(db_url: str) -> None:
    with open_store(db_url) as store:
        with pytest.raises(IntegrityError), store.write() as session:
            session.add(
                Deployment(
                    id="d",
                    subscriber_id="nobody",
                    environment="production",
                    managed=True,
                    product="gateway",
                    version="4.2.0",
                )
            )
        with store.read() as session:
            assert session.exec(select(Deployment)).all() == []


def test_stale_case_write_raises(db_url: str) -> None:
    with open_store(db_url) as store:
        with store.write() as session:
            session.add(_subscriber())
            session.flush()
            session.add(
                Case(
                    id="C-1",
                    subscriber_id="acme",
                    type="query",
                    title="t",
                    reported_at=0,
                    level="L1",
                )
            )
        with store.read() as session:
            stale = session.get(Case, "C-1")
        with store.write() as session:
            fresh = session.get(Case, "C-1")
            fresh.title = "changed by someone else"
        assert stale is not None
        assert stale.version == 1
        with pytest.raises(StaleDataError), store.write() as session:  # noqa: PT012 (the block is the transaction)
            stale = session.merge(stale, load=False)
            stale.title = "mine"
        with store.read() as session:
            case = session.get(Case, "C-1")
            assert (case.title, case.version) == ("changed by someone else", 2)


def test_sqlite_write_gives_up_when_busy(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "_LOCK_BACKOFF", 0.01)
    with open_store(sqlite_url, busy_timeout=0.05) as store:
        holder = sqlite3.connect(store.engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailable, match="database busy"), store.write():
                pass
            with store.read() as session:  # readers are not blocked (WAL)
                assert session.exec(select(Subscriber)).all() == []
        finally:
            holder.rollback()
            holder.close()
        with store.write() as session:
            session.add(_subscriber())


# -- URLs and errors ------------------------------------------------------------------


def test_resolve_url_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_url("rel/x.db") == f"sqlite:///{tmp_path}/rel/x.db"
    assert resolve_url("/abs/x.db") == "sqlite:////abs/x.db"
    assert resolve_url("sqlite:///keep.db") == "sqlite:///keep.db"
    assert resolve_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert resolve_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"

    monkeypatch.setenv("SUPPORT_CONSOLE_DB", "postgresql://env@h/db")
    assert resolve_url(None) == "postgresql+psycopg://env@h/db"
    assert resolve_url("explicit.db") == f"sqlite:///{tmp_path}/explicit.db"

    monkeypatch.delenv("SUPPORT_CONSOLE_DB")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    data_dir = tmp_path / "home" / ".local" / "share" / "support-console"
    assert resolve_url(None) == f"sqlite:///{data_dir}/support.db"
    assert not data_dir.exists()  # resolving creates nothing; `init` makes the directory
    open_store(None).dispose()
    assert (data_dir / "support.db").is_file()


def test_unreachable_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{_free_port()}/x?connect_timeout=2"
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as info:
        open_store(url)
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert "postgresql+psycopg://postgres:***@127.0.0.1:" in message
    assert "s3cret" not in message


def test_sqlite_in_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "db.sqlite"
    with pytest.raises(StoreUnavailable, match=f"sqlite:///{path}"):
        open_store(str(path))
    assert not path.parent.exists()


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, this is not a database\n" * 200)
    with pytest.raises(StoreUnavailable, match="notes.txt"):
        open_store(str(path))


@pytest.mark.pg
def test_postgres_restart_under_an_open_store(pg_server, pg_url: str) -> None:
    with open_store(pg_url) as store:
        with store.write() as session:
            session.add(_subscriber())
        pg_server.stop()
        try:
            with pytest.raises(StoreUnavailable, match="postgres"), store.read() as session:
                session.exec(select(Subscriber)).all()
        finally:
            pg_server.start()
        with store.read() as session:  # pooled connections are re-checked on checkout
            assert [s.id for s in session.exec(select(Subscriber))] == ["acme"]
        try:
            # The block is the transaction: the server stops inside it.
            with (  # noqa: PT012
                pytest.raises(StoreUnavailable, match="lost the connection"),
                store.write() as session,
            ):
                session.get(Subscriber, "acme")
                pg_server.stop()
                session.add(_subscriber("other"))
        finally:
            pg_server.start()
        with store.read() as session:
            assert [s.id for s in session.exec(select(Subscriber))] == ["acme"]


# -- concurrency ----------------------------------------------------------------------


def _open_worker(url: str, barrier, errors) -> None:
    try:
        barrier.wait(30)
        open_store(url).dispose()
    except BaseException as err:
        errors.put(repr(err))


def _count_worker(url: str, n: int, barrier, errors) -> None:
    try:
        store = open_store(url)
        lock = "" if store.is_sqlite else " FOR UPDATE"
        barrier.wait(30)
        for _ in range(n):
            with store.write() as session:
                conn = session.connection()
                value = conn.execute(text(f"SELECT n FROM counter WHERE id = 1{lock}")).scalar()
                conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": value + 1})
        store.dispose()
    except BaseException as err:
        errors.put(repr(err))


def _run_processes(target, args: tuple, count: int) -> list[str]:
    ctx = mp.get_context("spawn")
    barrier, errors = ctx.Barrier(count), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, errors)) for _ in range(count)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    found += [f"exit code {p.exitcode}" for p in procs if p.exitcode != 0]
    return found


@pytest.mark.slow
def test_concurrent_first_open(db_url: str) -> None:
    assert _run_processes(_open_worker, (db_url,), 4) == []
    with open_store(db_url) as store, store.connection() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


@pytest.mark.slow
def test_concurrent_read_then_write_loses_nothing(db_url: str) -> None:
    with open_store(db_url) as store, store.write() as session:
        session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (1, 0)"))
    assert _run_processes(_count_worker, (db_url, 200), 8) == []
    with open_store(db_url) as store, store.connection() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 1600


def test_models_package_reexports_tables() -> None:
    assert {t.__tablename__ for t in vars(models).values() if hasattr(t, "__table__")} == TABLES
