"""The queue's background read gives way to key presses (``ConsoleApp._pause_for_keys``):
from a key until the screen was refreshed after it, a read pausing between its batches
waits; it never waits longer than ``KEY_PAUSE`` for a frame that does not come."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from app_support import settle
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
            reader = threading.Thread(target=app._pause_for_keys)
            reader.start()
            app.call_after_refresh(app._keys_idle.set)
            app.refresh()
            await pilot.pause()
            await asyncio.to_thread(reader.join, 30)
            assert not reader.is_alive()
            # A frame that never comes: the read goes on after KEY_PAUSE all the same.
            app._keys_idle.clear()
            app.KEY_PAUSE = 0.01
            app._pause_for_keys()
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
