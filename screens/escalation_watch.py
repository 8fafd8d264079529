"""The console's escalation watcher (policy §7): sweep, notice new escalations, tell.

Every few seconds the app runs ``run_check`` from a timer; it starts one thread worker
(never two at once: while the last check's worker runs, a beat is skipped instead of
piling up sweeps) which

1. runs a sweep (recorded by the system user ``sweep``, never the operator), so a running
   console records an escalation the moment its target is missed (the database keeps it
   to one per case however many consoles and cron jobs sweep). A running console sweeps
   in a separate process, ``support-console sweep --json`` as cron runs it, at a lower
   priority (``sweep_in_child``): recording a day's escalations never competes with the
   screen for the console's interpreter. Tests, whose clock is frozen, sweep in-process;
2. compares the set of escalated case ids with the set seen last time: the new ones,
   recorded by this console or by any other, become one notification and a terminal bell
   (``SUPPORT_CONSOLE_BELL=0`` or the board's ``b`` key switches the bell off);
3. tells the board pane when anything on the board changed (a new escalation, any event
   on an escalated case, from any console) so it re-reads.

The first check takes the escalations that already existed as seen: starting a console
does not ring for last week's escalations, only for those recorded from then on.

Cost. Noticing (step 2) is two small queries, run on every beat. The sweep (step 1) is a
process of its own (Python's start and SQLAlchemy's import, ~0.3 s of CPU on the other
core; with nothing due it reads three index ranges of ``case_state.escalate_at``), so it
runs only when it can find something: when anything was written since the last sweep, or
when the console's clock passes the earliest instant an escalation can fall due (the last
sweep computed it), or after SWEEP_BACKSTOP seconds (a suspension lifted, a policy
edited). And at most once per ten times its last cost. An idle console whose cases are far
from their targets does not sweep at all. Cron's ``support-console sweep`` and the other
consoles sweep as well; whichever gets there first records the escalation, which every
console then notices within a beat.

The app wires it with ``start_watch(self)`` once the whole queue is shown (``SUPPORT_CONSOLE_SWEEP=0``
turns it off); tests, whose clock is frozen, call ``run_check(app)`` (or
``EscalationWatch.check``) themselves after moving the clock. The database reads are
``console.views.board``'s; the board hears of each check through the watcher's ``checked``
signal (this module knows nothing of the board).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from textual.dom import DOMNode
from textual.signal import Signal

from console import clock
from console.errors import fault_text
from console.sweep import Escalated
from console.text import inert

if TYPE_CHECKING:  # the database layer is imported after the first screen (screens.app)
    from console.store.engine import Store
    from console.views.board import NewEscalation
    from screens.app import ConsoleApp

__all__ = ["CheckResult", "EscalationWatch", "run_check", "watcher_of"]

ENV_BELL = "SUPPORT_CONSOLE_BELL"
INTERVAL = 5.0  # seconds between sweeps of a running console
SWEEP_COST_FACTOR = 10  # sweep at most once per this many times its last cost
SWEEP_BACKSTOP = 300  # seconds: sweep at least this often whatever the signals say
SHOWN = 3  # escalations named in one notification; the rest are counted
NOTICE_SECONDS = 5  # a new escalation's notice; the header keeps counting it
GROUP = "escalation-watch"  # the checks' worker group (and the timer's name)


Sweeper = Callable[["Store", int], tuple[list[Escalated], int | None]]


def sweep_in_process(store: Store, at: int) -> tuple[list[Escalated], int | None]:
    """``console.escalation.sweep_and_next`` here (tests: the clock is frozen)."""
    from console.sweep import sweep_and_next

    return sweep_and_next(store, at, recorded_at=clock.now())


def sweep_in_child(store: Store, at: int) -> tuple[list[Escalated], int | None]:
    """``support-console sweep --at AT --json --no-notify`` in a child process at nice 10,
    as cron runs it (its own interpreter, on the other core). The database URL goes by environment,
    not argv, so a password never shows in ``ps``."""
    import json
    import subprocess
    import sys

    from console.rules.timeutil import format_instant, parse_instant

    env = dict(os.environ, SUPPORT_CONSOLE_DB=store.url)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "sweep",
            "--at",
            format_instant(at) or "",
            "--json",
            "--no-notify",
        ],  # notifying is cron's and ``notify --follow``'s, never a console's
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
        preexec_fn=_lower_priority if os.name == "posix" else None,
    )
    if proc.returncode != 0:
        lines = (proc.stderr or "").strip().splitlines()
        raise RuntimeError(
            lines[-1] if lines else f"support-console sweep exited {proc.returncode}"
        )
    out = json.loads(proc.stdout)
    made = [
        Escalated(e["case"], e["missed"], parse_instant(e["escalated_at"]))
        for e in out["escalated"]
    ]
    return made, parse_instant(out["next_due"]) if out["next_due"] else None


def _lower_priority() -> None:
    os.nice(10)


def bell_from_env() -> bool:
    """The bell rings unless SUPPORT_CONSOLE_BELL is 0/off/no/false."""
    return os.environ.get(ENV_BELL, "1").strip().lower() not in ("0", "off", "no", "false")


@dataclass(frozen=True)
class CheckResult:
    """One check: the escalations not seen before (by case id), how many of them this
    console's sweep recorded, whether anything on the board changed, or why it failed."""

    new: tuple[NewEscalation, ...] = ()
    recorded: int = 0  # how many of them this console's sweep recorded
    changed: bool = False  # the board's content changed since the last check
    at: int = 0
    error: str | None = None


class EscalationWatch:
    """State kept between checks: the ids seen, the board's signature, the bell switch.

    ``checked`` (made by ``watcher_of`` for the app's one watcher) is published on the
    app's thread after every check; the board subscribes to it."""

    def __init__(self, *, bell: bool | None = None, sweeper: Sweeper | None = None) -> None:
        self.bell = bell_from_env() if bell is None else bell
        self.sweeper: Sweeper = sweeper or sweep_in_process
        self.checked: Signal[CheckResult] | None = None
        self.seen: set[str] | None = None
        self.signature: tuple[int, int, int] | None = None
        self.last: CheckResult | None = None
        self.swept_at: int | None = None  # console clock of the last sweep
        self.sweep_cost = 0.0  # seconds the last sweep took
        self.next_due: int | None = None  # the earliest instant an escalation may fall due
        self.swept_event_id: int | None = None  # the newest event when it last swept
        self.seen_event_id: int | None = None  # the newest event when it last looked
        self.sweeps = 0
        self.announced = False  # the first check's result was told (start-up)

    def sweep_due(self, at: int, event_id: int | None = None) -> bool:
        if self.swept_at is None:
            return True
        if at - self.swept_at < SWEEP_COST_FACTOR * self.sweep_cost:
            return False
        return (
            event_id != self.swept_event_id
            or (self.next_due is not None and at >= self.next_due)
            or at - self.swept_at >= SWEEP_BACKSTOP
        )

    # -- the check (a worker thread; no Textual here) ---------------------------------------

    def check(self, store: Store, *, at: int | None = None) -> CheckResult:
        """Sweep as of ``at`` (now), then report escalations not seen before.

        The sweep's escalations are recorded by the system user ``sweep`` (policy §14),
        never by this console's operator; a what-if console (read-only store) only looks."""
        from console.views.board import escalation_news, listed_escalated_ids, newest_event_id

        at = clock.now() if at is None else at
        if self.seen is None:
            self.seen = set(listed_escalated_ids(store))
        event_id = newest_event_id(store)
        if (
            self.last is not None
            and event_id == self.seen_event_id
            and not self.sweep_due(at, event_id)
        ):
            # Nothing written since the last check and no escalation can be due: done (an
            # idle console costs one indexed query per beat).
            result = CheckResult((), 0, False, at)
            self.last = result
            return result
        made: list[Escalated] = []
        if self.sweep_due(at, event_id) and not store.read_only:
            began = time.perf_counter()
            made, self.next_due = self.sweeper(store, at)
            self.sweep_cost = time.perf_counter() - began
            self.swept_at = at
            self.sweeps += 1
            self.swept_event_id = newest_event_id(store)  # our own escalations count as seen
        news = escalation_news(store, self.seen)
        changed = news.signature != self.signature
        self.seen, self.signature = set(news.ids), news.signature
        self.seen_event_id = news.newest_event_id
        made_ids = {e.case_id for e in made}
        recorded = sum(1 for n in news.new if n.case_id in made_ids)
        result = CheckResult(news.new, recorded, changed, at)
        self.last = result
        return result

    # -- telling the operator (the app's thread) ------------------------------------------

    def announce(self, app: ConsoleApp, result: CheckResult) -> None:
        """New escalations: the header counts them (``⚑ N escalated``, until the board is
        looked at) and the bell rings; after start-up a short notice names them too. The
        first check's (a console opening on a desk no sweep had reached) is only counted:
        a notice then would cover the queue's due times and titles while the operator
        reads them. The board hears of every check (``checked``) and re-reads."""
        if result.new:
            header = app.header
            header.escalated += len(result.new)
            if self.announced:
                app.notify(
                    notification_text(result.new),
                    title=notification_title(result.new),
                    severity="warning",
                    timeout=NOTICE_SECONDS,
                    markup=False,
                )
            if self.bell:
                app.bell()
        self.announced = True
        if self.checked is not None:
            self.checked.publish(result)


def notification_title(new: Sequence[NewEscalation]) -> str:
    n = len(new)
    return "Escalated to the war team" if n == 1 else f"{n} incidents escalated to the war team"


def notification_text(new: Sequence[NewEscalation]) -> str:
    """Plain text (shown with markup off; control characters made visible), short enough
    for a toast at 80 columns: one escalation in full, several one id a line."""
    if len(new) == 1:
        n = new[0]
        missed = "escalated by hand" if n.missed == "manual" else f"{n.missed} missed"
        return inert(f"{n.case_id} {n.priority or '-'} {n.subscriber}: {missed}") + "\n2: the board"
    lines = [inert(f"{n.case_id} {n.priority or '-'} {n.subscriber}") for n in new[:SHOWN]]
    more = f"and {len(new) - SHOWN} more · " if len(new) > SHOWN else ""
    lines.append(f"{more}2: the board")
    return "\n".join(lines)


_WATCHERS: WeakKeyDictionary[DOMNode, EscalationWatch] = WeakKeyDictionary()


def watcher_of(app: DOMNode) -> EscalationWatch:
    """The app's one watcher (made on first use, with its ``checked`` signal)."""
    watch = _WATCHERS.get(app)
    if watch is None:
        watch = EscalationWatch()
        watch.checked = Signal(app, "escalation-checked")
        _WATCHERS[app] = watch
    return watch


def _check(app: ConsoleApp, watch: EscalationWatch, store: Store) -> None:
    """One check (a thread worker); a failure is said on the board, never raised. The
    result goes to ``announce`` on the app's thread (``call_from_thread``: the watcher is
    no widget to post a message to, and the app has no handler of its own for one)."""
    try:
        result = watch.check(store)
    except Exception as exc:  # database unreachable or locked: say so on the board
        result = CheckResult(at=clock.now(), error=f"escalation sweep failed: {fault_text(exc)}")
    if app.is_running:
        app.call_from_thread(watch.announce, app, result)


def run_check(app: ConsoleApp) -> None:
    """Timer callback: start one check in a thread worker, unless the last check's worker
    is still running (a slow database skips a beat instead of piling up sweeps, and the
    watcher's state has one writer) or the store is not open yet."""
    watch = watcher_of(app)
    store = app.store
    if store is None or app.policy is None:
        return
    if any(w.group == GROUP and not w.is_finished for w in app.workers):
        return
    app.run_worker(
        partial(_check, app, watch, store),
        thread=True,
        group=GROUP,
        exit_on_error=False,
        name=GROUP,
    )


def start_watch(app: ConsoleApp, every: float = INTERVAL) -> EscalationWatch:
    """Check every ``every`` seconds from now on (call once the app is mounted).

    Not started when SUPPORT_CONSOLE_SWEEP=0, nor when a test froze the clock with
    ``clock.freeze`` (time then moves only when the test says so, and the test calls
    ``run_check`` itself: Pilot tests and snapshots stay deterministic).
    """
    watch = watcher_of(app)
    if os.environ.get("SUPPORT_CONSOLE_SWEEP", "1").strip() == "0" or clock._frozen is not None:
        return watch
    watch.sweeper = sweep_in_child
    app.set_interval(every, partial(run_check, app), name=GROUP)
    app.call_later(run_check, app)
    return watch
