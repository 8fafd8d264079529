"""Shared fixtures: an isolated default database, a throwaway PostgreSQL 15 server, and the
console under test (its environment and clock, the test desk, the app over it).

A test file that needs another desk overrides ``db`` (or defines its own fixture) on top of
``console_env``; ``app`` then runs over that desk."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from screens.app import ConsoleApp

PG_BIN = Path(os.environ.get("SUPPORT_CONSOLE_PG_BIN", "/usr/lib/postgresql/15/bin"))


@pytest.fixture(autouse=True)
def _isolated_default_db(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """No test may touch the user's real data directory."""
    default = tmp_path_factory.mktemp("default-db") / "support.db"
    monkeypatch.setenv("SUPPORT_CONSOLE_DB", str(default))
    # Consoles under test do not follow other processes (stable snapshots), nor read the
    # developer's own config file; tests of the live feed switch it on themselves.
    monkeypatch.setenv("SUPPORT_CONSOLE_LIVE", "0")
    monkeypatch.setenv("SUPPORT_CONSOLE_CONFIG", str(default.with_name("no-config.toml")))


@pytest.fixture
def console_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The console under test: the desk's zone (app_support.TZ), nothing forced from the
    developer's shell (an instant, the bell, colours), the clock frozen at app_support.NOW."""
    from app_support import NOW, TZ

    from console import clock

    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    for name in ("SUPPORT_CONSOLE_NOW", "SUPPORT_CONSOLE_BELL", "NO_COLOR", "TEXTUAL_COLOR_SYSTEM"):
        monkeypatch.delenv(name, raising=False)
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def db(console_env: None, tmp_path: Path) -> str:
    """The URL of the console's test desk (app_support.make_db) in a fresh SQLite file."""
    from app_support import make_db

    return make_db(tmp_path / "console.db")


@pytest.fixture
def app(db: str) -> ConsoleApp:
    """The console over ``db``, as app_support.USER in app_support.TZ (not yet running)."""
    from zoneinfo import ZoneInfo

    from app_support import TZ, USER

    from screens.app import ConsoleApp

    return ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A PostgreSQL cluster in a temp dir, reached only through its Unix socket in that dir.

    PostgreSQL refuses to run as root, so as root the binaries run as ``postgres``.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "log"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        # The owner (postgres) connects without a password; every other login -- the
        # engineers and leads of tests/test_identity_pg.py -- with its SCRAM password,
        # as on a desk where people connect from elsewhere.
        hba = self.data / "pg_hba.conf"
        hba.write_text("local all postgres trust\nlocal all all scram-sha-256\n", encoding="utf-8")

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        cmd = [str(self.bin_dir / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {proc.stdout}{proc.stderr}{log}")
        return proc.returncode

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses='' -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def ensure_running(self) -> None:
        if not self.is_running():
            self.start()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.dir}&port={self.port}"

    def login_url(self, url: str, login: str, password: str) -> str:
        """``url`` (a database on this server) as ``login`` with ``password``."""
        from urllib.parse import quote

        return url.replace("postgres@", f"{quote(login, safe='')}:{quote(password, safe='')}@", 1)

    def psql(self, url: str, login: str, password: str, sql: str) -> subprocess.CompletedProcess:
        """``psql`` as ``login``, stopping at the first error: the client anyone has."""
        name = url.split("/", 3)[3].split("?")[0]
        env = {**os.environ, "PGPASSWORD": password}
        return subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.dir),
                "-p",
                str(self.port),
                "-U",
                login,
                "-d",
                name,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host=str(self.dir), port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        """A fresh empty database; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.split("/", 3)[3].split("?")[0]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        try:
            if self.is_running():
                self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running PostgreSQL 15; skipped when missing (a failure under CI=true)."""
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and not shutil.which("runuser")):
        msg = f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    server = PgServer(PG_BIN)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """URL of a fresh, empty database on the throwaway server; dropped afterwards."""
    url = pg_server.create_database()
    yield url
    pg_server.ensure_running()  # a test may have stopped it
    pg_server.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
