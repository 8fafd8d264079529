"""The Textual app: composes the panes of ``screens/``, owns the store, the clock tick and
the workers that read the database.

Start-up puts the queue first. The screen is composed at once while a plain thread
imports SQLAlchemy, opens the store and reads exactly the first screenful of the queue
(``load_queue(top=...)``: a few hundred rows by index), then the whole queue. Nothing
else the console does competes with that: the other panes' reads, the change feed and the
escalation watcher start only once the whole queue is shown, and the watcher's sweep runs
in a separate process (``support-console sweep``, as cron runs it; see
``screens/escalation_watch.py``). When another process writes, the console re-reads only
the cases written since its last read (``case_state.rev``), never the whole queue.

Time: the queue ticks at the resolution it shows (minutes). A timer fires at each minute
boundary of ``console.clock.now()``; ``action_tick`` carries the visible rows forward and
re-sorts when a case's due has passed (a clock that breaches moves up and turns red).
Tests freeze the clock, ``clock.advance(...)`` and call ``action_tick``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import ContentSwitcher, Footer

from console import clock
from console.errors import fault_text
from console.first_screen import TOP_ROWS  # first screenful, read before the whole queue
from screens.palette import JumpProvider
from screens.panes import PANES
from screens.queue_pane import QueuePane
from screens.queue_table import QueueTable
from screens.status_header import StatusHeader

#: More changed cases than this in one refresh: re-read the whole queue instead.
MAX_CHANGED = 20_000


def _max_rev(conn: Any) -> int:
    from sqlalchemy import text

    return int(conn.execute(text("SELECT COALESCE(MAX(rev), 0) FROM case_state")).scalar_one())


def _changed_since(conn: Any, rev: int) -> set[str]:
    """The cases whose summary was written after ``rev`` (listed or not: a case closed
    meanwhile leaves the queue). An index range read on ``case_state.rev``."""
    from sqlalchemy import text

    return {
        r[0]
        for r in conn.execute(text("SELECT case_id FROM case_state WHERE rev > :r"), {"r": rev})
    }


def _book_key(terms: Any) -> tuple:
    """What the queue's order depends on besides the cases: the policy versions."""
    book = getattr(terms, "book", None)
    if book is None:
        return ()
    return tuple((v.number, v.effective_at, v.sha256) for v in book.versions) + (book.what_if,)


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
    TITLE = "support-console"
    COMMANDS = App.COMMANDS | {JumpProvider}
    CSS_PATH = sorted((Path(__file__).parent.parent / "screens").glob("**/*.tcss"))
    CSS = """
    Screen { layout: vertical; }
    #panes { height: 1fr; }
    """

    BINDINGS = [
        Binding("q", "close_or_quit", "Quit"),
        Binding("question_mark,f1", "key_help", "Keys"),
        *[Binding(p.key, f"switch_pane('{p.id}')", p.title, show=False) for p in PANES],
    ]

    def __init__(
        self,
        url: str | None = None,
        *,
        policy_path: str | None = None,
        user: str = "unknown",
        tz: tzinfo | None = None,
        store: Any = None,
        policy: Any = None,
        animations: bool = False,
        live: bool | None = None,
        bell: bool = True,
        first: Any = None,
    ) -> None:
        super().__init__()
        self._first = first  # console.first_screen.FirstScreen: the first rows, read apart
        # Follow other processes' writes; SUPPORT_CONSOLE_LIVE=0 switches it off (the
        # test suite does, except in the tests of the live feed, for stable snapshots).
        self.live = live if live is not None else os.environ.get("SUPPORT_CONSOLE_LIVE", "1") != "0"
        self.bell_enabled = bell
        self._feed: Any = None
        self._watch: Any = None
        self._changes: Any = None
        self._refreshing = False
        self.offline: str | None = None
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
        self.terms: Any = {}
        self.subscriber_names: dict[str, str] = {}
        self.at = clock.now()
        self.loaded = False
        self.rev = 0  # the newest case_state.rev the queue shown has read
        self._book_key: tuple = ()  # the policy versions the queue was read under
        self._started = False  # the feed, the watcher and the other panes are running
        self._shown_first = False  # the first screen came from console.first_screen
        self.panes_ready = False  # the other panes may read (the queue came first)
        self.first_paint_at: float | None = None
        self.load_done = threading.Event()  # the first read finished (or failed)
        self._first_painted = threading.Event()  # the first rows went to the terminal
        self._mounted = threading.Event()
        threading.Thread(target=self._preload, name="queue-preload", daemon=True).start()
        if not animations and not os.environ.get("TEXTUAL_ANIMATIONS"):
            self.animation_level = "none"
        from screens.no_color import install

        install(self)  # NO_COLOR: urgency bold and reversed, never a dimmed grey

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader(
            tz=self.tz,
            panes=[(p.key, p.id, p.title) for p in PANES],
            user=self.user,
            id="status",
            mode="WHAT-IF" if self.policy_path else None,
        )
        with ContentSwitcher(initial=PANES[0].id, id="panes"):
            for p in PANES:
                yield p.factory(self.tz)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.header.set_state(at=self.at)
        self.query_one(QueueTable).focus()
        self._mounted.set()
        self._arm_tick()

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    @property
    def queue(self) -> QueuePane:
        return self.query_one(QueuePane)

    def queue_items(self) -> list[Any]:
        return self.queue.items

    def action_switch_pane(self, pane_id: str) -> None:
        if self.screen is not self.screen_stack[0]:
            return
        self.query_one(ContentSwitcher).current = pane_id
        self.header.set_state(current=pane_id)
        if pane_id == "queue":
            self.query_one(QueueTable).focus()
        if pane_id == "board":
            self.header.set_state(escalated=0)  # the operator is looking at them now

    # -- keys that close, quit and explain ------------------------------------------------

    def action_close_or_quit(self) -> None:
        """``q``: close the view on top (a case, a subscriber, a menu); on the main screen
        ask once before quitting (``y`` quits; ``q`` again, ``n`` or Esc stays)."""
        from textual.screen import ModalScreen

        from screens.suspend_prompt import ConfirmPrompt

        top = self.screen
        if top is not self.screen_stack[0]:
            if isinstance(top, ConfirmPrompt) and getattr(top, "quit_prompt", False):
                top.dismiss(None)
            elif hasattr(top, "action_back"):
                top.action_back()
            elif isinstance(top, ModalScreen):
                top.dismiss(None)
            return
        prompt = ConfirmPrompt("Quit support-console?", yes="quit")
        prompt.quit_prompt = True

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
        from screens.offline import database_fault

        why = database_fault(error)
        if why is None or not self.is_running:
            super()._handle_exception(error)
            return
        self.went_offline(why)

    def went_offline(self, why: str) -> None:
        """A read or an action failed for want of the database: OFFLINE until a read works."""
        self._offline_by_fault = True
        self._set_offline(why)

    # -- loading --------------------------------------------------------------------------

    @property
    def what_if(self) -> str | None:
        """The policy file this console shows "what if" under (it writes nothing), or None."""
        return self.policy_path

    def _open(self) -> None:
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

    def _read_book(self, conn: Any) -> None:
        """The desk's policy versions, as stored now (a new version applies live)."""
        if not self._policy_fixed:
            from console.policy_store import load_book

            self.policy = load_book(conn)

    @work(thread=True, exclusive=True, group="load")
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
        try:
            message = first.next()
        finally:
            first.close()
        if message is not None and message[0] == "rows":
            _, rows, names, at = message
            self._shown_first = True
            self._hand_over(self._loaded, rows, None, names, at, True, 0)
            self._after_first_paint()

    def _after_first_paint(self) -> None:
        """Let the first rows reach the terminal (Textual writes from a thread of its own)
        before this thread takes the interpreter to read the whole queue."""
        import time

        if self._first_painted.wait(3):
            time.sleep(0.03)

    def _hand_over(self, fn: Any, *args: Any) -> None:
        """Run ``fn`` on the app's thread once the app is mounted."""
        self._mounted.wait()
        if self.is_running:
            self.call_from_thread(fn, *args)

    def _read_queue(self) -> None:
        import gc

        from console.queue import load_queue
        from console.queue_rows import breach_count

        gc.disable()  # 100k long-lived rows: collections during the read only cost
        previous = sys.getswitchinterval()
        # The queue in the background: hand the interpreter to a key press within a
        # millisecond (not Python's default 5 ms) meanwhile.
        sys.setswitchinterval(0.001)
        try:
            self._open()
            from sqlalchemy import select

            from console.records import S, load_terms

            at = clock.now()
            with self.store.connection() as conn:
                rev = _max_rev(conn)  # first: anything written after it is re-read later
                self._read_book(conn)
                terms = load_terms(conn, self.policy)
                names = {r.id: r.name for r in conn.execute(select(S.c.id, S.c.name))}
                from console.operators import role_of

                self._hand_over(self._role_read, role_of(conn, self.user))
                if not self.loaded and not self._shown_first:
                    top = load_queue(conn, None, at, terms=terms, top=TOP_ROWS)
                    self._hand_over(self._loaded, top, terms, names, at, True, rev)
                    if top:
                        self._after_first_paint()
                rows = load_queue(conn, None, at, terms=terms)
                breaches = breach_count(rows)
        except Exception as exc:  # unreachable database, bad policy: say so on screen
            msg = f"cannot load the queue: {fault_text(exc)}"
            self.panes_ready = True  # the other panes say what they can
            self._hand_over(self._load_failed, msg, exc)
            return
        finally:
            sys.setswitchinterval(previous)
            gc.enable()
        self._hand_over(self._loaded, rows, terms, names, at, False, rev, breaches)

    def _load_failed(self, msg: str, exc: Exception) -> None:
        from screens.offline import database_fault

        if not self.queue.items:  # nothing shown yet: the queue says why
            self.queue.show_error(msg)
        why = database_fault(exc)
        if why is not None and self.loaded:
            self.went_offline(why)  # keep the screen, say OFFLINE

    def _role_read(self, role: str) -> None:
        self.role = role
        self.header.set_state(role=role)

    def _other_panes(self) -> list[Any]:
        """The registered panes other than the queue (they tick and refresh themselves)."""
        out = []
        for p in PANES:
            if p.id != "queue":
                out.extend(self.query(f"#{p.id}"))
        return out

    def _loaded(
        self,
        items: list[Any],
        terms: Any,
        names: dict[str, str],
        at: int,
        partial: bool,
        rev: int,
        breaches: int | None = None,
    ) -> None:
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
        self.at = max(self.at, at)
        self.queue.show_items(items, at, partial=partial, breaches=breaches)
        self.header.set_state(at=self.at, breaches=None if partial else self.queue.breaches)
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
        for pane in self._other_panes():
            refresh = getattr(pane, "refresh_data", None)
            if refresh is not None:
                refresh()
        from screens.escalation_watch import start_watch

        start_watch(self)

    # -- live: other processes' writes, the policy file ---------------------------------------

    def _start_live(self) -> None:
        """Follow the database (console.live) and the policy/config files."""
        from console.config import config_path
        from console.live import Coalescer, feed_for
        from console.policy_watch import FileWatch

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

    def _from_thread(self, fn: Any, *args: Any) -> None:
        if self.is_running:
            with contextlib.suppress(RuntimeError):  # the app is shutting down
                self.call_from_thread(fn, *args)

    def _feed_changed(self, ids: set[str] | None) -> None:
        """Feed thread: something changed; coalesce, and let the app thread drain it."""
        self._changes.signal(ids)
        self._from_thread(self.drain_changes)

    def _feed_status(self, online: bool, message: str) -> None:
        self._from_thread(self._set_offline, None if online else message)

    _offline_by_fault = False

    def _set_offline(self, message: str | None) -> None:
        was = self.offline
        self.offline = message
        self.header.set_state(notice="OFFLINE" if message else None)
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
        if ids is False:
            return
        self._refreshing = True
        self._apply_changes(ids)

    @work(thread=True, group="live")
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

            at = clock.now()
            with self.store.connection() as conn:
                rev = _max_rev(conn)
                if not self._policy_fixed:
                    from console.policy_store import load_book

                    self.policy = load_book(conn)
                terms = load_terms(conn, self.policy)
                if _book_key(terms) != self._book_key:
                    fresh = None
                else:
                    if ids is None:
                        ids = _changed_since(conn, self.rev)
                    fresh = (
                        load_queue(conn, None, at, terms=terms, case_ids=sorted(ids))
                        if ids and len(ids) <= MAX_CHANGED
                        else []
                    )
            if fresh is None or (ids and len(ids) > MAX_CHANGED):
                self._read_queue()
            elif ids:
                self._from_thread(self._replace_cases, set(ids), fresh, at, terms, rev)
            else:
                self._from_thread(setattr, self, "rev", max(self.rev, rev))
            if views or fresh is None or ids:
                self._from_thread(self._refresh_views)
        except Exception as exc:  # the database went away mid-refresh: say so, keep the screen
            self._from_thread(self._set_offline, f"cannot re-read: {fault_text(exc)}")
        finally:
            self._from_thread(self._refresh_done)

    def _refresh_done(self) -> None:
        self._refreshing = False
        self.drain_changes()

    def _refresh_views(self) -> None:
        """The other panes and an open screen (case view, subscriber view) re-read (a pane
        with ``data_changed`` decides itself, e.g. re-reads only once shown)."""
        self._read_notify_failed()
        for pane in self._other_panes():
            refresh = getattr(pane, "data_changed", None) or getattr(pane, "refresh_data", None)
            if refresh is not None:
                refresh()
        if self.screen is not self.screen_stack[0]:
            reload = getattr(self.screen, "reload", None)
            if reload is not None:
                reload()

    def _policy_changed(self, policy: Any) -> None:
        from console.rules.calendar import calendar_for
        from console.rules.policy_book import PolicyBook

        self.policy = PolicyBook.of(policy, what_if=self.what_if)
        calendar_for.cache_clear()
        self.notify(f"what-if policy reloaded from {policy.source}", title="Policy", timeout=4)
        self._changes.signal(None)
        self.drain_changes()

    def _config_changed(self, cfg: Any) -> None:
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

    @work(thread=True, group="refresh")
    def _refresh_case(self, case_id: str) -> None:
        from console.queue import load_queue

        at = clock.now()
        try:
            with self.store.connection() as conn:
                fresh = load_queue(conn, None, at, terms=self.terms, case_ids=[case_id])
        except Exception as exc:  # the database went away after the write: keep the screen
            from screens.offline import database_fault

            why = database_fault(exc)
            if why is None:
                raise
            self.call_from_thread(self.went_offline, why)
            return
        self.call_from_thread(self._replace_cases, {case_id}, fresh, at)

    def _replace_cases(
        self,
        case_ids: set[str],
        fresh: list[Any],
        at: int,
        terms: Any = None,
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
        if at < self.at:
            at = self.at
        retick(items, at)
        self.queue.show_items(items, at, partial=not self.loaded)
        self.header.set_state(breaches=self.queue.breaches)

    # -- notifications ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="notify-count")
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
        self.header.set_state(notify_failed=n)

    # -- time -----------------------------------------------------------------------------

    def _arm_tick(self) -> None:
        delay = 60 - clock.now() % 60
        self.set_timer(max(1, delay) + 0.05, self._timer_tick)

    def _timer_tick(self) -> None:
        self.action_tick()
        self._arm_tick()

    def action_tick(self) -> None:
        """Time passed: tick the remaining times, re-sort what breached, update the header."""
        at = clock.now()
        if at == self.at:
            return
        self.at = at
        self.header.set_state(at=at)
        if self.loaded:
            from console.queue_rows import earliest_boundary

            boundary = earliest_boundary(self.queue.items)
            if boundary is not None and boundary <= at:
                self.load()  # a suspension began or ended: re-read the projections
            else:
                self.queue.tick(at)
            self.header.set_state(breaches=self.queue.breaches)
        self._read_notify_failed()
        for pane in self._other_panes():
            tick = getattr(pane, "tick", None)
            if tick is not None:
                tick(at)
        for screen in self.screen_stack[1:]:
            tick = getattr(screen, "tick", None)
            if tick is not None:
                tick(at)

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


def run(
    db: str | None,
    *,
    policy_path: str | None = None,
    mouse: bool = True,
    first: Any = None,
    cfg: Any = None,
) -> int:
    """Open the console (``support-console``); returns the exit code.

    The first screen of the queue is read by a forked process (``console.first_screen``)
    while this one imports Textual and lays out the screen; a database that cannot be
    opened exits 2 before the screen starts, as every command does."""
    from console.config import ConfigError, load_config

    if cfg is None:
        try:
            cfg = load_config()
        except ConfigError as exc:
            print(f"config: {exc}", file=sys.stderr)
            return 1
    policy_path = policy_path or cfg.policy
    if first is None:
        from console import first_screen

        first = first_screen.start(db, policy_path)
    from console.rules.timeutil import zone

    tz = zone(cfg.timezone) if cfg.timezone else None
    message = first.next()
    if message is None or message[0] == "error":
        first.close()
        print(message[1] if message else "cannot open the database", file=sys.stderr)
        return message[2] if message and message[2] else 2
    # The operator is the login the database was opened with (console.identity).
    app = ConsoleApp(
        message[1], policy_path=policy_path, user=message[2], tz=tz, bell=cfg.bell, first=first
    )
    app.run(mouse=mouse and cfg.mouse)
    return 0
