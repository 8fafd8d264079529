"""The change feed (SQLite and PostgreSQL) and crash safety of a long write."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from examples_data import E01

from console.actions import append_event
from console.importer import existing_ids, validate, write
from console.live import Coalescer, PostgresFeed, SqliteFeed
from console.rules.policy import default_policy
from console.rules.timeutil import parse_instant
from console.store.engine import open_store

ROOT = Path(__file__).resolve().parents[1]
T0 = parse_instant("2026-02-03T15:00:00Z")
NOW = parse_instant("2026-11-01T00:00:00Z")  # imports: after every instant in the data


def _load(url: str) -> None:
    doc = json.loads(E01.read_text("utf-8"))
    doc.pop("at")
    doc.pop("expected")
    policy = default_policy()
    with open_store(url) as store:
        with store.connection() as conn:
            prep = validate(doc, policy, existing_ids(conn, policy), NOW)
        with store.write() as s:
            write(s, prep, NOW)


class Recorder:
    def __init__(self) -> None:
        self.changes: list[set[str] | None] = []
        self.status: list[tuple[bool, str]] = []
        self.event = threading.Event()

    def on_change(self, ids: set[str] | None) -> None:
        self.changes.append(ids)
        self.event.set()

    def on_status(self, online: bool, msg: str) -> None:
        self.status.append((online, msg))
        self.event.set()

    def wait(self, pred, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return True
            self.event.wait(0.05)
            self.event.clear()
        return pred()


WRITER = """
import sys
from console.actions import append_event
from console.rules.policy import default_policy
from console.store.engine import open_store
url, n = sys.argv[1], int(sys.argv[2])
with open_store(url) as store:
    for i in range(n):
        append_event(store, "CS-1101", "status_update", at=1770145200 + 60 + i,
                     by="other-host", data={"note": f"n{i}"}, recorded_at=1770145200 + 60 + i)
"""


def _write_elsewhere(url: str, n: int) -> None:
    subprocess.run([sys.executable, "-c", WRITER, url, str(n)], check=True, cwd=ROOT, timeout=120)


def test_sqlite_feed_sees_another_process_and_ignores_reads(tmp_path: Path):
    db = tmp_path / "live.db"
    url = f"sqlite:///{db}"
    _load(url)
    rec = Recorder()
    feed = SqliteFeed(db, rec.on_change, rec.on_status, poll=0.5)
    feed.start()
    try:
        time.sleep(0.3)
        # Reads by anyone touch -wal/-shm but must not count as a change.
        for _ in range(20):
            con = sqlite3.connect(db)
            con.execute("SELECT count(*) FROM case_event").fetchone()
            con.close()
        time.sleep(1.2)
        assert rec.changes == []
        _write_elsewhere(url, 1)
        assert rec.wait(lambda: len(rec.changes) >= 1, timeout=5)
    finally:
        feed.stop()


def test_a_burst_of_writes_coalesces_into_few_refreshes(tmp_path: Path):
    db = tmp_path / "burst.db"
    url = f"sqlite:///{db}"
    _load(url)
    co = Coalescer()
    feed = SqliteFeed(db, co.signal, poll=0.5)
    feed.start()
    refreshes = 0
    stop = threading.Event()

    def consumer() -> None:  # a console that refreshes whenever something is pending
        nonlocal refreshes
        while not stop.is_set():
            if co.take() is not False:
                refreshes += 1
                time.sleep(0.2)  # a refresh takes a while; signals meanwhile coalesce
            time.sleep(0.02)

    t = threading.Thread(target=consumer)
    t.start()
    burst = (
        "import sqlite3, sys\n"
        "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "con.execute('CREATE TABLE IF NOT EXISTS burst (n INTEGER)')\n"
        "for i in range(1000):\n"
        "    con.execute('INSERT INTO burst VALUES (?)', (i,))\n"
    )
    try:
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", burst, str(db)], check=True, timeout=120)
        took = time.monotonic() - started
        time.sleep(1.5)
    finally:
        stop.set()
        t.join()
        feed.stop()
    # 1,000 commits in `took` seconds: a refresh at most every ~0.2 s while they last.
    assert 1 <= refreshes <= 3 + took / 0.2, (refreshes, took)
    assert refreshes < 100


def test_coalescer_unions_ids_and_full_wins():
    co = Coalescer()
    assert co.take() is False
    co.signal({"a"})
    co.signal({"b"})
    assert co.take() == {"a", "b"}
    co.signal({"a"})
    co.signal(None)
    co.signal({"c"})
    assert co.take() is None
    assert co.take() is False


@pytest.mark.pg
def test_postgres_feed_notify_and_reconnect(pg_server, pg_url: str):
    _load(pg_url)
    rec = Recorder()
    feed = PostgresFeed(pg_url, rec.on_change, rec.on_status, max_backoff=0.5)
    feed.start()
    try:
        assert rec.wait(lambda: (True, "") in rec.status)
        with open_store(pg_url) as store:
            append_event(
                store,
                "CS-1102",
                "acknowledged",
                at=T0 + 5 * 3600,
                by="e",
                recorded_at=T0 + 5 * 3600,
            )
        assert rec.wait(lambda: {"CS-1102"} in rec.changes)
        pg_server.stop()
        assert rec.wait(lambda: any(not online for online, _ in rec.status), timeout=15)
        assert "offline" in [m for online, m in rec.status if not online][0]
        n_before = len(rec.changes)
        pg_server.start()
        assert rec.wait(lambda: rec.status[-1][0] is True, timeout=20)
        assert rec.wait(lambda: None in rec.changes[n_before:])  # full resync after reconnect
    finally:
        pg_server.ensure_running()
        feed.stop()


def test_killed_import_leaves_the_database_as_it_was(tmp_path: Path):
    from console.demo import generate

    db = tmp_path / "k.db"
    url = f"sqlite:///{db}"
    policy = default_policy()
    seed_doc = {
        "subscribers": [
            {
                "id": "zz-kept",
                "name": "Kept",
                "plan": "basic",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
            }
        ],
        "cases": [
            {
                "id": "K-1",
                "subscriber": "zz-kept",
                "type": "query",
                "title": "kept",
                "reported_at": "2026-02-03T15:00:00Z",
            }
        ],
    }
    with open_store(url) as store:
        with store.connection() as conn:
            prep = validate(seed_doc, policy, existing_ids(conn, policy), NOW)
        with store.write() as s:
            write(s, prep, NOW)
    big = tmp_path / "big.json"
    big.write_text(
        json.dumps(generate(20000, seed=3, now=parse_instant("2026-11-24T15:00:00Z"))), "utf-8"
    )
    con = sqlite3.connect(db)
    before = con.execute("SELECT count(*) FROM support_case").fetchone()[0]
    con.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "--db", str(db), "import", str(big)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Wait until the import holds the write lock (it is writing), then kill it.
    deadline = time.monotonic() + 60
    locked = False
    while time.monotonic() < deadline and proc.poll() is None:
        probe = sqlite3.connect(db, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            locked = True
            break
        finally:
            probe.close()
        time.sleep(0.05)
    assert locked, "the import never started writing"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM support_case").fetchone()[0] == before
    con.close()
