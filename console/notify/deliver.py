"""Delivering the outbox: claim one message, send it, record the outcome.

Any number of deliverers (``notify --follow`` on several hosts, every ``sweep``) work on
one outbox. A deliverer *claims* a row in a short write transaction: it picks the oldest
message due (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent claimers take
different rows without waiting; under ``BEGIN IMMEDIATE`` on SQLite, where claims run
one at a time) and marks it ``sending`` with a fresh claim token and a lease. It sends
outside any transaction, then records the outcome where the token still matches:
``sent``; or ``pending`` again after a back-off that doubles with each try; or, after the
last try, ``failed`` (shown in the console and by ``notify failed``).

A deliverer killed mid-send leaves its one row ``sending``; when the lease runs out,
another deliverer (or the same after a restart) claims it again. So a message is sent
exactly once, except the one in flight at a crash, which may reach its receiver twice
(at-least-once for that window: the receiver may have got it before the kill). The lease
is far longer than any send (apprise's services time out after seconds), so a slow but
live deliverer never has its row taken from under it.

Retry timing runs on the machine's clock (``time.time``): real seconds between tries,
whatever ``--at`` or a frozen console clock say about the cases.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from console.notify.receivers import O, R
from console.store.engine import mark_changed, mark_quiet

Sender = Callable[[str, str, str], tuple[bool, str | None]]
Log = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """Delivery settings; the environment may change each (for a site, or a test)."""

    attempts: int = 6  # tries before a message is given up as failed
    backoff: float = 30.0  # seconds before the first retry; doubles each time
    max_backoff: float = 3600.0
    lease: float = 300.0  # seconds a claim holds before another deliverer may take it over
    poll: float = 30.0  # longest a follower sleeps without a wake-up (a backstop)
    sweep_budget: float = 40.0  # seconds a sweep spends delivering at most

    @classmethod
    def from_env(cls) -> Settings:
        def num(name: str, default: float) -> float:
            raw = os.environ.get(f"SUPPORT_CONSOLE_NOTIFY_{name}")
            if raw is None or not raw.strip():
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"SUPPORT_CONSOLE_NOTIFY_{name}: not a number: {raw!r}") from None
            if value <= 0:
                raise ValueError(f"SUPPORT_CONSOLE_NOTIFY_{name}: must be more than 0")
            return value

        d = cls()
        return cls(
            attempts=max(1, int(num("ATTEMPTS", d.attempts))),
            backoff=num("BACKOFF", d.backoff),
            max_backoff=num("MAX_BACKOFF", d.max_backoff),
            lease=num("LEASE", d.lease),
            poll=num("POLL", d.poll),
            sweep_budget=num("SWEEP_BUDGET", d.sweep_budget),
        )

    def retry_after(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed try."""
        return min(self.max_backoff, self.backoff * (1 << max(0, attempts - 1)))


@dataclass(frozen=True)
class Claimed:
    id: int
    receiver_id: int
    url: str
    title: str
    body: str
    attempts: int  # including this one
    token: str
    case_id: str = ""


@dataclass
class Stats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost_claims: int = 0  # outcomes not recorded: the lease had passed to another deliverer
    log: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def deliverer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(store: Any, *, now: float, lease: float, me: str) -> Claimed | None:
    """Take the oldest message due (or whose claim's lease ran out), or None."""
    due = or_(
        and_(O.c.status == "pending", O.c.next_attempt_at <= now),
        and_(O.c.status == "sending", O.c.lease_until <= now),
    )
    q = (
        select(
            O.c.id,
            O.c.receiver_id,
            O.c.case_id,
            O.c.title,
            O.c.body,
            O.c.attempts,
            R.c.url,
            R.c.removed_at,
        )
        .join(R, R.c.id == O.c.receiver_id)
        .where(due)
        .order_by(O.c.next_attempt_at, O.c.id)
        .limit(1)
    )
    with store.write() as session:
        mark_quiet(session)
        if not store.is_sqlite:
            q = q.with_for_update(skip_locked=True, of=O)
        while True:
            row = session.execute(q).first()
            if row is None:
                return None
            if row.removed_at is not None:  # its receiver went away meanwhile
                session.execute(
                    update(O)
                    .where(O.c.id == row.id)
                    .values(status="cancelled", last_error="receiver removed", lease_until=None)
                )
                continue
            token = uuid.uuid4().hex
            session.execute(
                update(O)
                .where(O.c.id == row.id)
                .values(
                    status="sending",
                    attempts=row.attempts + 1,
                    lease_until=int(now + lease) + 1,
                    claim_token=token,
                    claimed_by=me,
                )
            )
            return Claimed(
                row.id,
                row.receiver_id,
                row.url,
                row.title,
                row.body,
                row.attempts + 1,
                token,
                row.case_id,
            )


def record(
    store: Any, c: Claimed, ok: bool, error: str | None, *, now: float, settings: Settings
) -> str | None:
    """Record a send's outcome; returns the new status, or None when the claim was lost."""
    if ok:
        values: dict[str, Any] = {"status": "sent", "sent_at": int(now), "last_error": None}
    elif c.attempts >= settings.attempts:
        values = {"status": "failed", "last_error": error}
    else:
        values = {
            "status": "pending",
            "last_error": error,
            "next_attempt_at": int(now + settings.retry_after(c.attempts)),
        }
    values.update(lease_until=None)
    with store.write() as session:
        mark_quiet(session)
        if values["status"] == "failed" and c.case_id:
            mark_changed(session, c.case_id)  # consoles re-read it, and their failed count
        res = session.execute(
            update(O).where(O.c.id == c.id, O.c.claim_token == c.token).values(**values)
        )
        return values["status"] if res.rowcount else None


def next_wake(store: Any) -> float | None:
    """The machine-clock instant something next falls due (a retry, a lapsed lease)."""
    with store.connection() as conn:
        a = conn.execute(
            select(func.min(O.c.next_attempt_at)).where(O.c.status == "pending")
        ).scalar()
        b = conn.execute(select(func.min(O.c.lease_until)).where(O.c.status == "sending")).scalar()
    vals = [v for v in (a, b) if v is not None]
    return float(min(vals)) if vals else None


class Deliverer:
    """Claims and sends messages until none is due (``deliver_due``) or for as long as it
    runs (``follow``). ``sender`` is apprise (``console.notify.send.send``) unless a test
    gives another; ``now`` is the machine clock."""

    def __init__(
        self,
        store: Any,
        settings: Settings | None = None,
        *,
        sender: Sender | None = None,
        name: str | None = None,
        log: Log | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        if sender is None:
            from console.notify.send import send

            sender = send
        self.store = store
        self.settings = settings or Settings.from_env()
        self.sender: Sender = sender
        self.name = name or deliverer_name()
        self.log = log or (lambda line: None)
        self.now = now

    def deliver_one(self, stats: Stats) -> bool:
        """Claim, send and record one message; False when none was due."""
        c = claim(self.store, now=self.now(), lease=self.settings.lease, me=self.name)
        if c is None:
            return False
        ok, error = self.sender(c.url, c.title, c.body)
        status = None
        for attempt in range(5):  # the database may blink between the send and its record
            try:
                status = record(self.store, c, ok, error, now=self.now(), settings=self.settings)
                break
            except Exception as exc:  # noqa: BLE001 - StoreUnavailable and driver errors alike
                if attempt == 4:
                    self.log(
                        f"#{c.id}: could not record the outcome ({exc}); it will be "
                        "claimed again when its lease ends"
                    )
                    stats.lost_claims += 1
                    return True
                time.sleep(0.2 * 2**attempt)
        if status is None:
            stats.lost_claims += 1
            self.log(f"#{c.id}: the claim had lapsed before the outcome was recorded")
        elif status == "sent":
            stats.sent += 1
            self.log(f"sent #{c.id} to receiver {c.receiver_id}: {c.title}")
        elif status == "failed":
            stats.failed += 1
            self.log(
                f"FAILED #{c.id} to receiver {c.receiver_id} after {c.attempts} tries: {error}"
            )
        else:
            stats.retrying += 1
            wait = self.settings.retry_after(c.attempts)
            self.log(
                f"retry #{c.id} to receiver {c.receiver_id} in {wait:g} s (try {c.attempts} "
                f"of {self.settings.attempts}): {error}"
            )
        return True

    def deliver_due(
        self, *, budget: float | None = None, stop: threading.Event | None = None
    ) -> Stats:
        """Send what is due now, until nothing is, ``budget`` seconds pass or ``stop``."""
        stats = Stats()
        began = time.monotonic()
        while not (stop is not None and stop.is_set()):
            if budget is not None and time.monotonic() - began >= budget:
                break
            if not self.deliver_one(stats):
                break
        return stats

    def follow(
        self,
        stop: threading.Event,
        *,
        on_status: Callable[[bool, str], None] | None = None,
    ) -> None:
        """Deliver until ``stop``: woken by the change feed (SQLite: the file's change
        feed; PostgreSQL: LISTEN on the outbox channel), by a retry or a lapsed lease
        falling due, and at least every ``settings.poll`` seconds."""
        from console.live import feed_for
        from console.notify.outbox import OUTBOX_CHANNEL
        from console.notify.send import warm_up

        warm_up()

        wake = threading.Event()

        def wake_on_stop() -> None:
            stop.wait()
            wake.set()

        threading.Thread(target=wake_on_stop, name="notify-stop", daemon=True).start()
        feed = feed_for(
            self.store.url,
            lambda ids: wake.set(),
            on_status or (lambda online, msg: None),
            channel=OUTBOX_CHANNEL,
        )
        feed.start()
        try:
            while not stop.is_set():
                wake.clear()
                delay = self.settings.poll
                try:
                    self.deliver_due(stop=stop)
                    nxt = next_wake(self.store)
                    if nxt is not None:
                        delay = min(delay, max(0.05, nxt - self.now()))
                except Exception as exc:  # noqa: BLE001 - the database went away: wait, retry
                    self.log(f"database trouble, trying again in 5 s: {exc}")
                    delay = 5.0
                if stop.is_set():
                    break
                wake.wait(delay)
        finally:
            feed.stop()
