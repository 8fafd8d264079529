"""The console's escalation watcher (policy §7): sweep, notice new escalations, tell.

Every few seconds the app runs ``run_check`` from a timer; it starts one thread worker
(never two at once: a slow database skips a beat instead of piling up sweeps) which

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
``EscalationWatch.check``) themselves after moving the clock.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console import clock
from console.errors import fault_text

ENV_BELL = "SUPPORT_CONSOLE_BELL"
INTERVAL = 5.0  # seconds between sweeps of a running console
SWEEP_COST_FACTOR = 10  # sweep at most once per this many times its last cost
SWEEP_BACKSTOP = 300  # seconds: sweep at least this often whatever the signals say
SHOWN = 3  # escalations named in one notification; the rest are counted
NOTICE_SECONDS = 5  # a new escalation's notice; the header keeps counting it


Sweeper = Callable[[Any, int], tuple[list[Any], int | None]]


def sweep_in_process(store: Any, at: int) -> tuple[list[Any], int | None]:
    """``console.escalation.sweep_and_next`` here (tests: the clock is frozen)."""
    from console.sweep import sweep_and_next

    return sweep_and_next(store, at, recorded_at=clock.now())


def sweep_in_child(store: Any, at: int) -> tuple[list[Any], int | None]:
    """``support-console sweep --at AT --json --no-notify`` in a child process at nice 10,
    as cron runs it (its own interpreter, on the other core). The database URL goes by environment,
    not argv, so a password never shows in ``ps``."""
    import json
    import subprocess
    import sys

    from console.rules.timeutil import format_instant, parse_instant
    from console.sweep import Escalated

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
class NewEscalation:
    case_id: str
    subscriber: str
    priority: str | None
    missed: str


@dataclass
class CheckResult:
    new: list[NewEscalation] = field(default_factory=list)
    recorded: int = 0  # how many of them this console's sweep recorded
    changed: bool = False  # the board's content changed since the last check
    at: int = 0
    error: str | None = None


def board_signature(conn: Any) -> tuple[int, int, int]:
    """Changes whenever an escalation or any event of an escalated case still on the board
    is written (by any console or host): (escalated listed cases, their events, the newest
    such event id). Read through case_state's ``listed`` index: closed history is not."""
    from sqlalchemy import text

    n_esc, n_ev, last = conn.execute(
        text(
            "SELECT COUNT(DISTINCT s.case_id), COUNT(e.id), COALESCE(MAX(e.id), 0) "
            "FROM case_state s JOIN case_event e ON e.case_id = s.case_id "
            "WHERE s.listed = :t AND s.escalated = :t"
        ),
        {"t": True},
    ).one()
    return int(n_esc), int(n_ev), int(last)


def listed_escalated_ids(conn: Any) -> set[str]:
    """The escalated cases still listed (a new escalation always is)."""
    from sqlalchemy import text

    return {
        r[0]
        for r in conn.execute(
            text("SELECT case_id FROM case_state WHERE listed = :t AND escalated = :t"), {"t": True}
        )
    }


class EscalationWatch:
    """State kept between checks: the ids seen, the board's signature, the bell switch."""

    def __init__(self, *, bell: bool | None = None, sweeper: Sweeper | None = None) -> None:
        self.bell = bell_from_env() if bell is None else bell
        self.sweeper: Sweeper = sweeper or sweep_in_process
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
        self._running = threading.Lock()

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

    def check(self, store: Any, *, at: int | None = None) -> CheckResult:
        """Sweep as of ``at`` (now), then report escalations not seen before.

        The sweep's escalations are recorded by the system user ``sweep`` (policy §14),
        never by this console's operator; a what-if console (read-only store) only looks."""
        from sqlalchemy import func, select

        from console.escalation import ESC
        from console.records import C, E, load_events

        at = clock.now() if at is None else at
        with store.connection() as conn:
            if self.seen is None:
                self.seen = listed_escalated_ids(conn)
            event_id = conn.execute(select(func.max(E.c.id))).scalar()
        if (
            self.last is not None
            and event_id == self.seen_event_id
            and not self.sweep_due(at, event_id)
        ):
            # Nothing written since the last check and no escalation can be due: done (an
            # idle console costs one indexed query per beat).
            result = CheckResult([], 0, False, at)
            self.last = result
            return result
        made = []
        if self.sweep_due(at, event_id) and not getattr(store, "read_only", None):
            began = time.perf_counter()
            made, self.next_due = self.sweeper(store, at)
            self.sweep_cost = time.perf_counter() - began
            self.swept_at = at
            self.sweeps += 1
            with store.connection() as conn:  # our own escalated events count as seen
                self.swept_event_id = conn.execute(select(func.max(E.c.id))).scalar()
        with store.connection() as conn:
            ids = listed_escalated_ids(conn)
            fresh = sorted(ids - self.seen)
            new: list[NewEscalation] = []
            for i in range(0, len(fresh), 900):
                chunk = fresh[i : i + 900]
                rows = conn.execute(
                    select(ESC.c.case_id, ESC.c.subscriber_id, ESC.c.missed, C.c.priority)
                    .join(C, C.c.id == ESC.c.case_id)
                    .where(ESC.c.case_id.in_(chunk))
                )
                events = load_events(conn, chunk)
                new.extend(
                    NewEscalation(
                        r.case_id,
                        r.subscriber_id,
                        _priority(r.priority, events.get(r.case_id, [])),
                        r.missed,
                    )
                    for r in rows
                )
            signature = board_signature(conn)
        new.sort(key=lambda n: n.case_id)
        changed = signature != self.signature
        self.seen, self.signature = ids, signature
        with store.connection() as conn:
            self.seen_event_id = conn.execute(select(func.max(E.c.id))).scalar()
        made_ids = {e.case_id for e in made}
        result = CheckResult(new, sum(1 for n in new if n.case_id in made_ids), changed, at)
        self.last = result
        return result

    # -- telling the operator (the app's thread) ------------------------------------------

    def announce(self, app: Any, result: CheckResult) -> None:
        """New escalations: the header counts them (``⚑ N escalated``, until the board is
        looked at) and the bell rings; after start-up a short notice names them too. The
        first check's (a console opening on a desk no sweep had reached) is only counted:
        a notice then would cover the queue's due times and titles while the operator
        reads them. The board re-reads."""
        if result.new:
            header = getattr(app, "header", None)
            if header is not None:
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
        board = find_board(app)
        if board is not None:
            board.watch_result(result)


def _priority(priority: str | None, events: list[Any]) -> str | None:
    """The priority as of the last reclassification."""
    for e in events:
        if e.kind == "reclassified" and e.data.get("priority"):
            priority = e.data["priority"]
    return priority


def notification_title(new: list[NewEscalation]) -> str:
    n = len(new)
    return "Escalated to the war team" if n == 1 else f"{n} incidents escalated to the war team"


def notification_text(new: list[NewEscalation]) -> str:
    """Plain text (shown with markup off; control characters made visible), short enough
    for a toast at 80 columns: one escalation in full, several one id a line."""
    from console.text import inert

    if len(new) == 1:
        n = new[0]
        missed = "escalated by hand" if n.missed == "manual" else f"{n.missed} missed"
        return inert(f"{n.case_id} {n.priority or '-'} {n.subscriber}: {missed}") + "\n2: the board"
    lines = [inert(f"{n.case_id} {n.priority or '-'} {n.subscriber}") for n in new[:SHOWN]]
    more = f"and {len(new) - SHOWN} more · " if len(new) > SHOWN else ""
    lines.append(f"{more}2: the board")
    return "\n".join(lines)


def find_board(app: Any) -> Any:
    from screens.board_pane import BoardPane

    for board in app.query(BoardPane):
        return board
    return None


def watcher_of(app: Any) -> EscalationWatch:
    """The app's one watcher (made on first use)."""
    watch = getattr(app, "escalation_watch", None)
    if watch is None:
        watch = EscalationWatch()
        app.escalation_watch = watch
    return watch


def run_check(app: Any) -> None:
    """Timer callback: start one check in a thread worker unless one is still running or
    the store is not open yet."""
    watch = watcher_of(app)
    if getattr(app, "store", None) is None or getattr(app, "policy", None) is None:
        return
    if not watch._running.acquire(blocking=False):
        return

    def work() -> None:
        try:
            try:
                result = watch.check(app.store)
            except Exception as exc:  # database unreachable or locked: say so on the board
                result = CheckResult(
                    at=clock.now(), error=f"escalation sweep failed: {fault_text(exc)}"
                )
            if app.is_running:
                app.call_from_thread(watch.announce, app, result)
        finally:
            watch._running.release()

    app.run_worker(
        work, thread=True, group="escalation-watch", exit_on_error=False, name="escalation-watch"
    )


def start_watch(app: Any, every: float = INTERVAL) -> EscalationWatch:
    """Check every ``every`` seconds from now on (call once the app is mounted).

    Not started when SUPPORT_CONSOLE_SWEEP=0, nor when a test froze the clock with
    ``clock.freeze`` (time then moves only when the test says so, and the test calls
    ``run_check`` itself: Pilot tests and snapshots stay deterministic).
    """
    watch = watcher_of(app)
    if os.environ.get("SUPPORT_CONSOLE_SWEEP", "1").strip() == "0" or clock._frozen is not None:
        return watch
    watch.sweeper = sweep_in_child
    app.set_interval(every, lambda: run_check(app), name="escalation-watch")
    app.call_later(run_check, app)
    return watch
