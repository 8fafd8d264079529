"""The Textual app: composes the panes of ``screens/``, owns the store, the clock tick and
the workers that read the database.

Start-up puts the queue first. ``support-console`` forks a process that reads the first
screenful (``console.first_screen``) while this one lays out the screen: neither this
module nor the panes import SQLAlchemy or the models before the first paint (each pane
imports the views it reads with in its ``load``). Then a plain thread opens the store and
reads the whole queue (without the forked reader, as in the tests, the first screenful
first: ``load_queue(top=...)``); the rows reach the app's thread as messages
(``QueueRead``; re-read cases as ``CasesRead``). Nothing else the console does competes
with that: the other panes' reads, the change feed and the escalation watcher start only
once the whole queue is shown, and the watcher's sweep runs in a separate process
(``support-console sweep``, as cron runs it; see ``screens/escalation_watch.py``). Every
background read gives way to key presses (``pause_for_keys`` between its batches). When
another process writes, the console re-reads only the cases written since its last read
(``case_state.rev``), never the whole queue.

Time: the queue ticks at the resolution it shows (minutes). A timer fires at each minute
boundary of ``console.clock.now()``; ``action_tick`` moves ``now`` on, and the queue pane
(``QueuePane.on_time``, watching ``now``) carries the rows forward and re-sorts when a case's
due has passed (a clock that breaches moves up and turns red). Tests freeze the clock,
``clock.advance(...)`` and call ``action_tick``.

Shared state is carried by reactives: ``now`` (the instant the screens show),
``breaches`` (the header's count) and ``offline`` (None, or why the database cannot be
used). The header is bound to them; panes (``screens.pane.Pane``) watch ``now``. Workers
run with ``exit_on_error=False``; the one ``on_worker_state_changed`` handler turns a
failed one into OFFLINE (a database gone) and a sentence, never an exit.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import ContentSwitcher
from textual.worker import Worker, WorkerState

from console import clock
from console.errors import database_fault, fault_text
from console.first_screen import TOP_ROWS, FirstScreen  # first screenful, read apart
from screens.key_bar import KeyBar
from screens.notify_pane import NotifyPane
from screens.palette import JumpProvider
from screens.pane import Pane
from screens.panes import PANES
from screens.queue_pane import CasesRead, QueuePane, QueueRead, QueueReadFailed
from screens.queue_table import QueueTable
from screens.status_header import StatusHeader
from screens.suspend_prompt import ConfirmPrompt

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from console.config import Config
    from console.live import Coalescer, PostgresFeed, SqliteFeed
    from console.policy_watch import FileWatch
    from console.queue_rows import QueueRow
    from console.rules.policy import Policy
    from console.rules.policy_book import PolicyBook, TermsMap
    from console.store.engine import Store

#: More changed cases than this in one refresh: re-read the whole queue instead.
MAX_CHANGED = 20_000


#: The pane keys 1-6: one row in the key help.
PANE_KEYS = Binding.Group("a pane: " + ", ".join(p.title for p in PANES))


class RoleRead(Message):
    """The operator's role, read with the queue (for the header)."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role


class LiveRefreshDone(Message):
    """A live refresh (``_apply_changes``) ended: the next may start."""


class QuitPrompt(ConfirmPrompt):
    """The question before quitting: ``q`` on it stays, as ``n`` does."""


@runtime_checkable
class Rereads(Protocol):
    """A screen on top that re-reads its data after another process wrote (``reload``)."""

    def reload(self) -> None: ...


def _book_key(terms: TermsMap | None) -> tuple[object, ...]:
    """What the queue's order depends on besides the cases: the policy versions."""
    book = getattr(terms, "book", None)
    if book is None:
        return ()
    return tuple((v.number, v.effective_at, v.sha256) for v in book.versions) + (book.what_if,)


#: What the other panes, the change feed and the escalation watcher read with.
_THE_REST = (
    "console.views.board",
    "console.views.meters",
    "console.views.purge",
    "console.views.lifespan",
    "console.views.notify",
    "console.notify.outbox",
    "console.live",
    "console.policy_watch",
    "console.config",
    "watchfiles",
)


def _import_the_rest() -> None:
    """Import ``_THE_REST`` in the queue's reading thread (some 30 ms), before the queue is
    read. Imported instead by the threads that start once the queue is shown, each waited
    for another's import (the import lock), and a key pressed then waited for them all."""
    import importlib

    for name in _THE_REST:
        importlib.import_module(name)


def operator_zone() -> tzinfo:
    """SUPPORT_CONSOLE_TZ (an IANA name), else the machine's local zone."""
    from console.rules.timeutil import zone

    name = os.environ.get("SUPPORT_CONSOLE_TZ") or os.environ.get("TZ")
    if name:
        try:
            return zone(name)
        except Exception:
            pass
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("localtime")
    except Exception:
        tz = datetime.now().astimezone().tzinfo
        assert tz is not None
        return tz


class ConsoleApp(App[int]):
    """The console: a header, the panes of ``screens.panes`` and the key bar."""

    TITLE = "support-console"
    COMMANDS = App.COMMANDS | {JumpProvider}
    #: Every stylesheet of the screens, so that ``textual run --dev`` reloads them.
    CSS_PATH: ClassVar[list[str | PurePath]] = sorted(Path(__file__).parent.glob("**/*.tcss"))
    CSS = """
    Screen { layout: vertical; }
    #panes { height: 1fr; }
    #keys { padding: 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "q",
            "close_or_quit",
            "Quit",
            tooltip="close the view on top; on the main screen, quit (asks first)",
        ),
        Binding(
            "question_mark,f1",
            "key_help",
            "Keys",
            key_display="?",
            tooltip="this help: the keys of the screen under it, the marks",
        ),
        *[
            Binding(
                p.key,
                f"switch_pane('{p.id}')",
                p.title,
                show=False,
                group=PANE_KEYS,
            )
            for p in PANES
        ],
    ]

    #: The instant the screens show (epoch seconds; moves on once a minute).
    now: reactive[int] = reactive(0, init=False)
    #: The breached cases in the queue, for the header (set after every read; the header
    #: shows "…" until the whole queue was read once).
    breaches: reactive[int] = reactive(0, always_update=True, init=False)
    #: None while the database answers, else why it cannot be used, in words.
    offline: reactive[str | None] = reactive(None, init=False)

    def __init__(
        self,
        url: str | None = None,
        *,
        policy_path: str | None = None,
        user: str = "unknown",
        tz: tzinfo | None = None,
        store: Store | None = None,
        policy: Policy | PolicyBook | None = None,
        animations: bool = False,
        live: bool | None = None,
        bell: bool = True,
        first: FirstScreen | None = None,
    ) -> None:
        super().__init__()
        self._first = first  # the first rows, read apart by console.first_screen
        # Follow other processes' writes; SUPPORT_CONSOLE_LIVE=0 switches it off (the
        # test suite does, except in the tests of the live feed, for stable snapshots).
        self.live = live if live is not None else os.environ.get("SUPPORT_CONSOLE_LIVE", "1") != "0"
        self.bell_enabled = bell
        self._feed: SqliteFeed | PostgresFeed | None = None
        self._watch: FileWatch | None = None
        self._changes: Coalescer | None = None
        # One live refresh at a time, the signals of its run coalesced for the next: a
        # thread worker cannot be stopped, so an "exclusive" one would read alongside the
        # one it replaced and drop the case ids that one took from the coalescer.
        self._refreshing = False
        self.requeries = 0  # refreshes caused by the change feed (bench/live.py reads it)
        self.role: str | None = None  # the operator's role, read with the queue
        self.url = url
        self.policy_path = policy_path
        self.user = user
        self.tz = tz or operator_zone()
        self.store = store
        # The desk's policy book (policy §14), re-read from the database with the queue;
        # a policy given here (tests) or a what-if file (``--policy``) stays fixed.
        self.policy = policy
        self._policy_fixed = policy is not None
        self.terms: TermsMap | None = None
        self.subscriber_names: dict[str, str] = {}
        self.set_reactive(ConsoleApp.now, clock.now())
        self.loaded = False
        self.rev = 0  # the newest case_state.rev the queue shown has read
        self._book_key: tuple[object, ...] = ()  # the policy versions the queue was read under
        self._started = False  # the feed, the watcher and the other panes are running
        self._shown_first = False  # the first screen came from console.first_screen
        self.panes_ready = False  # the other panes may read (the queue came first)
        self.first_paint_at: float | None = None
        self.load_done = threading.Event()  # the first read finished (or failed)
        self._first_painted = threading.Event()  # the first rows went to the terminal
        self._mounted = threading.Event()
        # Clear from a key press until the screen has been refreshed after it: the queue's
        # background read waits meanwhile (``pause_for_keys``) instead of taking every
        # other millisecond of the interpreter from the key's handling and frame.
        self._keys_idle = threading.Event()
        self._keys_idle.set()
        threading.Thread(target=self._preload, name="queue-preload", daemon=True).start()
        if not animations and not os.environ.get("TEXTUAL_ANIMATIONS"):
            self.animation_level = "none"
        from screens.no_color import install

        install(self)  # NO_COLOR: urgency bold and reversed, never a dimmed grey

    @property
    def at(self) -> int:
        """``now``, by its older name."""
        return self.now

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader(
            tz=self.tz,
            panes=[(p.key, p.id, p.title) for p in PANES],
            user=self.user,
            id="status",
            mode="WHAT-IF" if self.policy_path else None,
        ).data_bind(now=ConsoleApp.now, offline=ConsoleApp.offline)
        with ContentSwitcher(initial=PANES[0].id, id="panes"):
            for p in PANES:
                yield p.factory(self.tz)
        # The keys of the pane shown and the app's (and the command palette's), wrapped.
        yield KeyBar(id="keys", palette=True)

    def on_mount(self) -> None:
        self.query_one(QueueTable).focus()
        self._start_pool_threads()
        self._mounted.set()
        self._arm_tick()

    #: Threads of the worker pool started at once (the default pool's size on two cores).
    POOL_THREADS = 6

    def _start_pool_threads(self) -> None:
        """Start the worker pool's threads now, while nothing competes for the interpreter.
        Textual runs thread workers in the event loop's default executor, which starts a
        thread when a task finds none idle, and ``Thread.start`` waits until the new thread
        runs: started later, behind the queue's read and the panes', that wait took tens of
        milliseconds from a key press. Each task waits for the others, so that each has a
        thread of its own (no more tasks than the pool has threads: asyncio's default)."""
        import asyncio

        n = min(self.POOL_THREADS, (os.cpu_count() or 1) + 4)
        gate = threading.Barrier(n)

        def hold() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait(1)

        loop = asyncio.get_running_loop()
        for _ in range(n):
            loop.run_in_executor(None, hold)

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    @property
    def queue(self) -> QueuePane:
        return self.query_one(QueuePane)

    def queue_items(self) -> list[QueueRow]:
        return self.queue.items

    def panes(self) -> list[Pane[Any]]:
        """The panes reading their own data (all but the queue, which the app reads)."""
        return [p for p in self.query(Pane) if not isinstance(p, QueuePane)]

    def refresh_panes(self) -> None:
        """Re-read every pane (a screen calls it after its write)."""
        for pane in self.panes():
            pane.refresh_data()

    def action_switch_pane(self, pane_id: str) -> None:
        if self.screen is not self.screen_stack[0]:
            return
        self.query_one(ContentSwitcher).current = pane_id
        self.header.current = pane_id
        if pane_id == "queue":
            self.query_one(QueueTable).focus()
        if pane_id == "board":
            self.header.escalated = 0  # the operator is looking at them now
        self.screen.refresh_bindings()  # the key bar shows the keys of the pane shown

    # -- keys that close, quit and explain ------------------------------------------------

    def action_close_or_quit(self) -> None:
        """``q``: close the view on top (a case, a subscriber, a menu); on the main screen
        ask once before quitting (``y`` quits; ``q`` again, ``n`` or Esc stays)."""
        from textual.screen import ModalScreen

        top = self.screen
        if top is not self.screen_stack[0]:
            back: Callable[[], object] | None = getattr(top, "action_back", None)
            if isinstance(top, QuitPrompt):
                top.dismiss(None)
            elif back is not None:
                back()
            elif isinstance(top, ModalScreen):
                top.dismiss(None)
            return
        prompt = QuitPrompt("Quit support-console?", yes="quit")

        def done(ok: bool | None) -> None:
            if ok:
                self.exit(0)

        self.push_screen(prompt, done)

    def action_key_help(self) -> None:
        from screens.key_help import KeyHelp

        if isinstance(self.screen, KeyHelp):
            self.screen.dismiss(None)
            return
        self.push_screen(KeyHelp(self))

    def action_show_help_panel(self) -> None:
        """The palette's "Keys" command: our key help (Esc closes it; it has the legend of
        the marks) instead of Textual's side panel."""
        self.action_key_help()

    # -- the database gone from under a running console ---------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """A database that went away mid-action is said in words (OFFLINE in the header,
        a notice), never an exit: every other error stays fatal, as Textual makes it."""
        why = database_fault(error)
        if why is None or not self.is_running:
            super()._handle_exception(error)
            return
        self.went_offline(why)

    def went_offline(self, why: str) -> None:
        """A read or an action failed for want of the database: OFFLINE until a read works."""
        self._offline_by_fault = True
        self._set_offline(why)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker is said: a database gone puts the console
        OFFLINE; a pane's read says why on its status line and keeps what it showed;
        another worker's failure becomes a notice. Never an exit."""
        worker = event.worker
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        error = worker.error
        why = database_fault(error)
        if why is not None and self.loaded:
            self.went_offline(why)
        pane = next((p for p in self.panes() if p.id == worker.group), None)
        if pane is not None:
            pane.worker_failed(worker, fault_text(error))
        elif why is None:
            self.notify(
                f"{worker.name or 'a background task'} failed: {fault_text(error)}",
                title="Error",
                severity="error",
                timeout=8,
                markup=False,
            )

    # -- loading --------------------------------------------------------------------------

    @property
    def what_if(self) -> str | None:
        """The policy file this console shows "what if" under (it writes nothing), or None."""
        return self.policy_path

    def _open(self) -> Store:
        """Runs in a worker: import the database layer and open the store."""
        from console.rules.policy import load_policy
        from console.rules.policy_book import PolicyBook, as_book
        from console.store.engine import open_store

        if self.store is None:
            # Small page caches: a console's threads each hold a connection, and the
            # operating system caches the database file anyway.
            self.store = open_store(self.url, create=False, cache_kib=256)
        if self.policy_path and not self._policy_fixed:
            self.policy = PolicyBook.of(load_policy(self.policy_path), what_if=self.policy_path)
            self._policy_fixed = True
            self.store.read_only = (
                f"this console shows the what-if policy {self.policy_path}: "
                "nothing is written (start it without --policy to act)"
            )
        elif self.policy is not None:
            self.policy = as_book(self.policy)
        return self.store

    def _read_book(self, conn: Connection) -> Policy | PolicyBook:
        """The desk's policy versions, as stored now (a new version applies live)."""
        if not self._policy_fixed or self.policy is None:
            from console.policy_store import load_book

            self.policy = load_book(conn)
        return self.policy

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        """(Re)read the whole queue in a worker."""
        self._read_queue()

    def _preload(self) -> None:
        """The first read, in a plain thread started with the app: it overlaps the
        database work with Textual's own start-up instead of waiting for the mount. With
        a first screen read by another process, its rows come first, then this process
        reads the whole queue."""
        try:
            if self._first is not None:
                self._take_first_screen()
            self._read_queue()
        finally:
            self.load_done.set()

    def _take_first_screen(self) -> None:
        first, self._first = self._first, None
        if first is None:
            return
        try:
            message = first.next()
        finally:
            first.close()
        if message is not None and message[0] == "rows":
            _, rows, names, at = message
            self._shown_first = True
            self._hand_over(QueueRead(rows, None, names, at, partial=True, rev=0))
            self._after_first_paint()

    def _after_first_paint(self) -> None:
        """Let the first rows reach the terminal (Textual writes from a thread of its own)
        before this thread takes the interpreter to read the whole queue."""
        import time

        if self._first_painted.wait(3):
            time.sleep(0.03)

    def _hand_over(self, message: Message) -> None:
        """Post ``message`` (from the reading thread) once the app is mounted."""
        self._mounted.wait()
        if self.is_running:
            self.post_message(message)

    def _read_queue(self) -> None:
        import gc

        from console.queue import load_queue
        from console.queue_rows import breach_count, retick

        gc.disable()  # 100k long-lived rows: collections during the read only cost
        previous = sys.getswitchinterval()
        # The queue in the background: hand the interpreter to a key press within a
        # millisecond (not Python's default 5 ms) meanwhile.
        sys.setswitchinterval(0.001)
        try:
            store = self._open()
            _import_the_rest()
            from console.records import load_terms
            from console.views.queue import queue_rev, subscriber_names

            at = clock.now()
            with store.connection() as conn:
                rev = queue_rev(conn)  # first: anything written after it is re-read later
                policy = self._read_book(conn)
                terms = load_terms(conn, policy)
                names = subscriber_names(conn)
                from console.operators import role_of

                self._hand_over(RoleRead(role_of(conn, self.user)))
                if not self.loaded and not self._shown_first:
                    top = load_queue(conn, None, at, terms=terms, top=TOP_ROWS)
                    self._hand_over(QueueRead(top, terms, names, at, partial=True, rev=rev))
                    if top:
                        self._after_first_paint()
                rows = load_queue(conn, None, at, terms=terms, pause=self.pause_for_keys)
            # Carried to the instant the read ends, here rather than on the app's thread
            # (what breached meanwhile moves up: a sort of 100k rows).
            now = clock.now()
            if now > at:
                retick(rows, now)
                at = now
            breaches = 0
            for i in range(0, len(rows), 5000):  # counted between key presses too
                self.pause_for_keys()
                breaches += breach_count(rows[i : i + 5000])
        except Exception as exc:  # unreachable database, bad policy: say so on screen
            msg = f"cannot load the queue: {fault_text(exc)}"
            self.panes_ready = True  # the other panes say what they can
            self._hand_over(QueueReadFailed(msg, exc))
            return
        finally:
            sys.setswitchinterval(previous)
            # The rows read are long-lived: into the permanent generation before the
            # collector runs again, or its first pass walks every one of them (0.1 s of
            # a key press's time at 100k rows).
            gc.freeze()
            gc.enable()
        self._hand_over(
            QueueRead(rows, terms, names, at, partial=False, rev=rev, breaches=breaches)
        )

    #: The longest a background read waits for one key's frame.
    KEY_PAUSE = 0.1

    def pause_for_keys(self) -> None:
        """The reading thread, between batches of rows: wait while a key press is handled
        (at most ``KEY_PAUSE``; a frame that never comes must not stop the read)."""
        if not self._keys_idle.wait(self.KEY_PAUSE):
            self._keys_idle.set()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._keys_idle.clear()
            self.call_after_refresh(self._keys_idle.set)
        await super().on_event(event)

    @on(QueueReadFailed)
    def _load_failed(self, event: QueueReadFailed) -> None:
        if not self.queue.items:  # nothing shown yet: the queue says why
            self.queue.show_error(event.message)
        why = database_fault(event.error)
        if why is not None and self.loaded:
            self.went_offline(why)  # keep the screen, say OFFLINE

    @on(RoleRead)
    def _role_read(self, event: RoleRead) -> None:
        self.role = event.role
        self.header.role = event.role

    @on(CasesRead)
    def _cases_read(self, event: CasesRead) -> None:
        self._replace_cases(event.case_ids, event.fresh, event.at, event.terms, event.rev)

    @on(QueueRead)
    def _queue_read(self, event: QueueRead) -> None:
        items, terms, names, at = event.items, event.terms, event.names, event.at
        partial, rev, breaches = event.partial, event.rev, event.breaches
        self.subscriber_names = names
        if terms is not None:  # (None: rows read by the first-screen process)
            self.terms = terms
            self._book_key = _book_key(terms)
        if self._offline_by_fault and not partial:  # a read worked: the database is back
            self._offline_by_fault = False
            self._set_offline(None)
        if not partial:
            self.loaded = True
            self.rev = max(self.rev, rev)
            # 100k long-lived rows: keep them out of the collector's full passes, which
            # otherwise pause a key press now and then.
            import gc

            gc.freeze()
        now = clock.now()
        if now > at and not partial:
            from console.queue_rows import retick

            if retick(items, now):
                breaches = None  # (counted again when asked)
            at = now
        # The rows first: the queue's ``on_time`` then finds them at ``at`` already.
        self.queue.show_items(items, at, partial=partial, breaches=breaches)
        self.now = max(self.now, at)
        if not partial:
            self.breaches = self.queue.breaches
        if self.first_paint_at is None and items:
            self.call_after_refresh(self._painted)
        if not partial and not self._started:
            self._started = True
            self.call_after_refresh(self._start_the_rest)

    def _painted(self) -> None:
        import time

        self.first_paint_at = time.perf_counter()
        self._first_painted.set()

    def _start_the_rest(self) -> None:
        """Once the whole queue is on screen: the change feed (and a catch-up read of what
        was written since the queue was read), the other panes' reads, the escalation
        watcher (off when the clock is frozen in tests, or with SUPPORT_CONSOLE_SWEEP=0)."""
        self.panes_ready = True
        self._read_notify_failed()
        if self.live and self._feed is None and self.store is not None:
            self._start_live()
            if not self._refreshing:  # catch up with writes made since the queue was read
                self._refreshing = True
                self._apply_changes(None, views=False)
        self.refresh_panes()
        from screens.escalation_watch import start_watch

        start_watch(self)

    # -- live: other processes' writes, the policy file ---------------------------------------

    def _start_live(self) -> None:
        """Follow the database (console.live) and the policy/config files."""
        from console.config import config_path
        from console.live import Coalescer, feed_for
        from console.policy_watch import FileWatch

        assert self.store is not None
        self._changes = Coalescer()
        self._feed = feed_for(self.store.url, self._feed_changed, self._feed_status)
        self._feed.start()
        # The desk's policy lives in the database and arrives with the change feed; only a
        # what-if console follows a policy file.
        cfg = config_path()
        self._watch = FileWatch(
            self.what_if,
            cfg if cfg.exists() else None,
            lambda p: self._from_thread(self._policy_changed, p),
            lambda c: self._from_thread(self._config_changed, c),
            lambda m: self._from_thread(self._file_refused, m),
        )
        self._watch.start()

    def _from_thread(self, fn: Callable[..., object], *args: Any) -> None:
        if self.is_running:
            with contextlib.suppress(RuntimeError):  # the app is shutting down
                self.call_from_thread(fn, *args)

    def _feed_changed(self, ids: set[str] | None) -> None:
        """Feed thread: something changed; coalesce, and let the app thread drain it."""
        if self._changes is not None:
            self._changes.signal(ids)
        self._from_thread(self.drain_changes)

    def _feed_status(self, online: bool, message: str) -> None:
        self._from_thread(self._set_offline, None if online else message)

    _offline_by_fault = False

    def _set_offline(self, message: str | None) -> None:
        self.offline = message

    def watch_offline(self, was: str | None, message: str | None) -> None:
        """Said once when it goes and once when it is back (the header shows OFFLINE)."""
        if message and not was:
            self.notify(
                f"{message}. Showing what was last read; actions are refused until it is back.",
                title="Database offline",
                severity="error",
                timeout=6,
                markup=False,
            )
        elif was and not message:
            self.notify("Database back: everything re-read.", title="Online", timeout=4)

    def drain_changes(self) -> None:
        """Start one refresh for everything signalled so far, unless one is running (its
        end drains again): a burst of writes costs a handful of re-reads."""
        if self._refreshing or self._changes is None:
            return
        ids = self._changes.take()
        if ids is False or ids is True:
            return
        self._refreshing = True
        self._apply_changes(ids)

    @work(thread=True, group="live", exit_on_error=False)
    def _apply_changes(self, ids: set[str] | None, views: bool = True) -> None:
        """Re-read what changed: the cases named (PostgreSQL's notifications), else those
        whose summary was written since the last read (``case_state.rev``); the whole
        queue only when the policy versions changed or most of the queue did. ``views``:
        the other panes re-read too (anything may have changed: products, purges...);
        else only if cases did."""
        self.requeries += 1
        try:
            from console.queue import load_queue
            from console.records import load_terms
            from console.views.queue import changed_since, queue_rev

            at = clock.now()
            store = self._open()
            with store.connection() as conn:
                rev = queue_rev(conn)
                terms = load_terms(conn, self._read_book(conn))
                if _book_key(terms) != self._book_key:
                    fresh = None
                else:
                    if ids is None:
                        ids = changed_since(conn, self.rev)
                    fresh = (
                        load_queue(conn, None, at, terms=terms, case_ids=sorted(ids))
                        if ids and len(ids) <= MAX_CHANGED
                        else []
                    )
            if fresh is None or (ids and len(ids) > MAX_CHANGED):
                self._read_queue()
            elif ids:
                self.post_message(CasesRead(set(ids), fresh, at, terms, rev))
            else:
                self._from_thread(self._read_up_to, rev)
            if views or fresh is None or ids:
                self._from_thread(self._refresh_views)
        except Exception as exc:  # the database went away mid-refresh: say so, keep the screen
            self._from_thread(self._set_offline, f"cannot re-read: {fault_text(exc)}")
        finally:
            # A message, after the rows' (CasesRead): the next refresh starts from their rev.
            self.post_message(LiveRefreshDone())

    def _read_up_to(self, rev: int) -> None:
        self.rev = max(self.rev, rev)

    @on(LiveRefreshDone)
    def _refresh_done(self) -> None:
        self._refreshing = False
        self.drain_changes()

    def _refresh_views(self) -> None:
        """The other panes and an open screen (case view, subscriber view) re-read (a pane
        decides itself in ``data_changed``, e.g. re-reads only once shown)."""
        self._read_notify_failed()
        for pane in self.panes():
            pane.data_changed()
        if self.screen is not self.screen_stack[0] and isinstance(self.screen, Rereads):
            self.screen.reload()

    def _policy_changed(self, policy: Policy) -> None:
        from console.rules.calendar import calendar_for
        from console.rules.policy_book import PolicyBook

        self.policy = PolicyBook.of(policy, what_if=self.what_if)
        calendar_for.cache_clear()
        self.notify(f"what-if policy reloaded from {policy.source}", title="Policy", timeout=4)
        if self._changes is not None:
            self._changes.signal(None)
        self.drain_changes()

    def _config_changed(self, cfg: Config) -> None:
        self.bell_enabled = cfg.bell
        self.notify(
            "config reloaded (a new timezone applies on restart)", title="Config", timeout=4
        )

    def _file_refused(self, message: str) -> None:
        self.notify(message, title="Refused", severity="error", timeout=15)

    def on_unmount(self) -> None:
        for part in (self._feed, self._watch):
            if part is not None:
                part.stop()

    @on(QueuePane.ReloadRequested)
    def _reload(self) -> None:
        self.load()

    def case_changed(self, case_id: str) -> None:
        """An action wrote to ``case_id``: re-read its row and put it in its place."""
        self._refresh_case(case_id)

    @work(thread=True, group="refresh", exit_on_error=False)
    def _refresh_case(self, case_id: str) -> None:
        """A database gone after the write: the screen stays, OFFLINE is said (the
        handler of failed workers)."""
        from console.queue import load_queue

        at = clock.now()
        with self._open().connection() as conn:
            fresh = load_queue(conn, None, at, terms=self.terms, case_ids=[case_id])
        self.post_message(CasesRead({case_id}, fresh, at))

    def _replace_cases(
        self,
        case_ids: set[str],
        fresh: list[QueueRow],
        at: int,
        terms: TermsMap | None = None,
        rev: int | None = None,
    ) -> None:
        """Put re-read rows in their places; the cursor stays on the case it was on."""
        from console.queue_rows import retick

        if terms is not None:
            self.terms = terms
        if rev is not None:
            self.rev = max(self.rev, rev)
        items = [it for it in self.queue.items if it.id not in case_ids]
        items.extend(fresh)
        items.sort(key=lambda it: it.key)
        at = max(at, self.now)
        retick(items, at)
        self.queue.show_items(items, at, partial=not self.loaded)
        self.breaches = self.queue.breaches

    # -- notifications ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="notify-count", exit_on_error=False)
    def _read_notify_failed(self) -> None:
        """Count the notifications given up after their last try, for the header."""
        if self.store is None:
            return
        from console.notify.outbox import failed_count

        try:
            with self.store.connection() as conn:
                n = failed_count(conn)
        except Exception:  # the database went away: the offline notice says so
            return
        self._from_thread(self.set_notify_failed, n)

    def set_notify_failed(self, n: int) -> None:
        self.header.notify_failed = n

    @on(NotifyPane.FailedCounted)
    def _failed_counted(self, event: NotifyPane.FailedCounted) -> None:
        self.set_notify_failed(event.failed)

    # -- time -----------------------------------------------------------------------------

    def _arm_tick(self) -> None:
        delay = 60 - clock.now() % 60
        self.set_timer(max(1, delay) + 0.05, self._timer_tick)

    def _timer_tick(self) -> None:
        self.action_tick()
        self._arm_tick()

    def action_tick(self) -> None:
        """Time passed: ``now`` moves on (the header, the queue and the panes watch it): the
        queue's remaining times tick and what breached moves up."""
        at = clock.now()
        if at == self.now:
            return
        self.now = at  # the queue ticks (or re-reads) in ``QueuePane.on_time``
        if self.loaded:
            self.breaches = self.queue.breaches
        self._read_notify_failed()

    # -- navigation -------------------------------------------------------------------------

    @on(QueueTable.Selected)
    def _selected(self, event: QueueTable.Selected) -> None:
        self.open_case(event.case_id)

    def open_case(self, case_id: str, *, replace: bool = False) -> None:
        """Show a case. ``replace`` (a jump with ctrl+p): a case view on top is replaced,
        not stacked, so Esc or ``q`` goes back to where the operator was before it."""
        from screens.case_view import CaseView

        if self.store is None or self.policy is None:
            self.notify("the database is still opening", severity="warning")
            return
        view = CaseView(
            case_id, store=self.store, policy=self.policy, user=self.user, tz=self.tz, now=clock.now
        )
        if replace and isinstance(self.screen, CaseView):
            self.switch_screen(view)
        else:
            self.push_screen(view)

    def filter_subscriber(self, subscriber_id: str) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.action_switch_pane("queue")
        self.queue.set_filters(self.queue.filters.with_(subscriber=subscriber_id))
        self.query_one(QueueTable).focus()
