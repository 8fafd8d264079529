"""The queue's background read gives way to key presses (``ConsoleApp.pause_for_keys``):
from a key until the screen was refreshed after it, a read pausing between its batches
waits; it never waits longer than ``KEY_PAUSE`` for a frame that does not come."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from app_support import USER, settle
from test_app_queue import make_app

from screens.queue_table import QueueTable


def test_a_key_holds_the_background_read_until_its_frame(db, monkeypatch):
    seen: list[bool] = []
    move = QueueTable.action_cursor

    def cursor(self: QueueTable, delta: int) -> None:
        seen.append(self.app._keys_idle.is_set())  # while the key is handled
        move(self, delta)

    monkeypatch.setattr(QueueTable, "action_cursor", cursor)

    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app._keys_idle.is_set()  # no key: the read runs freely
            await pilot.press("down")
            await pilot.pause()
            assert seen == [False]  # held while the key was handled...
            assert app._keys_idle.is_set()  # ...and let go once its frame was drawn
            # A read pausing while a key is handled goes on when the frame is drawn.
            app._keys_idle.clear()
            app.KEY_PAUSE = 60
            reader = threading.Thread(target=app.pause_for_keys)
            reader.start()
            app.call_after_refresh(app._keys_idle.set)
            app.refresh()
            await pilot.pause()
            await asyncio.to_thread(reader.join, 30)
            assert not reader.is_alive()
            # A frame that never comes: the read goes on after KEY_PAUSE all the same.
            app._keys_idle.clear()
            app.KEY_PAUSE = 0.01
            app.pause_for_keys()
            assert app._keys_idle.is_set()

    asyncio.run(go())


def test_the_panes_read_one_at_a_time(db, monkeypatch):
    from screens.lifespan_pane import LifespanPane
    from screens.meters_pane import MetersPane

    lock = threading.Lock()
    running: list[int] = [0]
    most: list[int] = [0]
    calls: list[str] = []
    started = threading.Barrier(2, timeout=0.5)

    def counted(read):
        def load(self, store, now, user):
            with lock:
                calls.append(type(self).__name__)
                running[0] += 1
                most[0] = max(most[0], running[0])
            with contextlib.suppress(threading.BrokenBarrierError):
                started.wait()  # the other read would be here too if reads overlapped
            with lock:
                running[0] -= 1
            return read(self, store, now, user)

        return load

    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            monkeypatch.setattr(MetersPane, "load", counted(MetersPane.load))
            monkeypatch.setattr(LifespanPane, "load", counted(LifespanPane.load))
            app.query_one(MetersPane).refresh_data()
            app.query_one(LifespanPane).refresh_data()
            await app.workers.wait_for_complete()
            await pilot.pause()

    asyncio.run(go())
    assert sorted(calls) == ["LifespanPane", "MetersPane"]
    assert most == [1]  # each read alone (the barrier timed out in each)


def test_paced_pauses_before_the_first_item_and_after_every_n():
    from console.plain_sql import paced

    calls: list[int] = []
    items = list(range(10))
    out = []
    for x in paced(items, lambda: calls.append(len(out)), every=4):
        out.append(x)
    assert out == items
    assert calls == [0, 4, 8]
    assert list(paced(items, None)) == items


def test_the_panes_reads_pause_between_their_batches_and_read_the_same(db):
    """The board's, the meters' and the lifespan pane's reads call ``pause`` between their
    batches (a key press then has the interpreter to itself) and read what they would
    without it."""
    from console import clock
    from console.policy_store import load_book
    from console.queue import load_queue
    from console.store.engine import open_store
    from console.sweep import sweep
    from console.views.board import read_board
    from console.views.lifespan import matrix_data, with_cases
    from console.views.meters import meter_rows

    store = open_store(db)
    now = clock.now()
    assert sweep(store, now, recorded_at=now)  # the fixture's breached incidents escalated
    with store.connection() as conn:
        book = load_book(conn)
        items = load_queue(conn, book, now)
    calls: list[str] = []
    board = read_board(store, book, now, pause=lambda: calls.append("board"))
    assert board == read_board(store, book, now)
    assert board.cards
    meters = meter_rows(store, book, now, pause=lambda: calls.append("meters"))
    assert meters == meter_rows(store, book, now)
    matrix = matrix_data(store, now, USER)
    lifespan = with_cases(matrix, items, lambda: calls.append("lifespan"))
    assert lifespan == with_cases(matrix, items)
    store.dispose()
    assert calls.count("board") >= 2  # each chunk's events, then its cases
    assert calls.count("meters") >= 1  # (the time entries, then the subscribers)
    assert calls.count("lifespan") >= 1


def test_the_worker_pool_s_threads_start_with_the_app(db):
    """Started later, behind the queue's read, a new thread's start took a key press tens
    of milliseconds (``Thread.start`` waits until it runs)."""

    async def go():
        app = make_app(db)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            pool = [t for t in threading.enumerate() if t.name.startswith("asyncio_")]
            assert len(pool) >= app.POOL_THREADS

    asyncio.run(go())
