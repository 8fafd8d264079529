"""Slow, obviously-correct twins of the calendar and clock engine (design.md, Testing habits).

Nothing here imports ``console.rules.calendar`` or ``console.rules.clocks``: coverage is
decided minute by minute from the local wall time (``zoneinfo`` or a fixed offset) and
the ``holidays`` package directly, and the clocks are a plain state machine stepped one
minute at a time through the case's events. Every instant handled here is a whole
minute of UTC epoch seconds, so a minute ``[m, m + 60)`` is covered exactly when its
first second is (every window edge is a whole local minute).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import holidays as holidays_lib

MINUTE = 60

# The policy's tables (policy.md §2), written out again: (target text or None, clock).
# "h"/"m" count on the coverage calendar, "bd"/"bw" on the business-day calendar.
POLICY_TARGETS: dict[str, dict[str, str | None]] = {
    "enterprise": {
        "incident.P0.response": "30m",
        "incident.P0.workaround": "4h",
        "incident.P0.resolution": "48h",
        "incident.P0.update": "4h",
        "incident.P1.response": "1h",
        "incident.P1.workaround": "24h",
        "incident.P1.resolution": "48h",
        "incident.P1.update": "4h",
        "incident.P2.response": "4h",
        "incident.P2.workaround": "48h",
        "incident.P2.resolution": "72h",
        "incident.P2.update": "4h",
        "incident.P3.response": "6h",
        "incident.P3.workaround": "72h",
        "incident.P3.resolution": "1bw",
        "incident.P3.update": "4h",
        "query.any.response": "1bd",
        "query.any.resolution": None,
        "security_report.any.response": "1h",
        "security_report.any.resolution": "2bw",
        "service_request.any.response": "1bd",
        "service_request.any.resolution": None,
    },
    "basic": {
        "incident.P1.response": "2h",
        "incident.P1.workaround": "12h",
        "incident.P2.response": "4h",
        "incident.P2.workaround": "24h",
        "incident.P3.response": "8h",
        "incident.P3.workaround": "72h",
        "query.any.response": "1bd",
    },
}
PLAN_HOURS = {"enterprise": (9, 17), "basic": (8, 20)}
PLAN_ZONE = {"enterprise": "America/New_York", "basic": "-03:00"}
CLOCK_NAMES = ("response", "workaround", "resolution", "update")


def tz_of(name: str) -> tzinfo:
    """An IANA name, or a fixed offset such as ``-03:00``."""
    m = re.fullmatch(r"([+-])(\d\d):(\d\d)", name)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    return ZoneInfo(name)


def local_midnight(day: date, tz_name: str) -> int:
    return int(datetime.combine(day, time(0), tz_of(tz_name)).timestamp())


@dataclass
class TwinCalendar:
    """Coverage decided one minute at a time from local wall time.

    ``opens``/``closes`` are whole local hours (``closes=24`` = midnight at the day's end);
    ``business_days_only`` drops Saturdays, Sundays and holidays. ``holidays`` is a
    country (``"US"``), a country-subdivision (``"US-NY"``) or a tuple of ISO dates.
    """

    tz_name: str
    opens: int
    closes: int
    business_days_only: bool
    holidays: str | tuple[str, ...] | None = None
    _tz: tzinfo = field(init=False, repr=False)
    _days: dict[date, bool] = field(init=False, repr=False, default_factory=dict)
    _table: object = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._tz = tz_of(self.tz_name)
        spec = self.holidays or "US"
        if isinstance(spec, tuple):
            self._table = {date.fromisoformat(s) for s in spec}
        else:
            country, _, subdiv = spec.partition("-")
            self._table = holidays_lib.country_holidays(country, subdiv=subdiv or None)

    def is_business_day(self, day: date) -> bool:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = day.weekday() < 5 and day not in self._table
        return known

    def covered(self, minute: int) -> bool:
        """Is the minute starting at ``minute`` inside the calendar?"""
        assert minute % MINUTE == 0, minute
        local = datetime.fromtimestamp(minute, self._tz)
        if self.business_days_only and not self.is_business_day(local.date()):
            return False
        return self.opens <= local.hour < self.closes

    def elapsed(self, start: int, end: int) -> int:
        total = 0
        m = start
        while m < end:
            if self.covered(m):
                total += MINUTE
            m += MINUTE
        return total

    def add(self, start: int, seconds: int) -> int:
        assert seconds % MINUTE == 0
        m, left = start, seconds
        while left > 0:
            if self.covered(m):
                left -= MINUTE
            m += MINUTE
        return m


def twin_calendars(
    plan: str,
    coverage: str = "business",
    timezone: str | None = None,
    holidays: str | tuple[str, ...] | None = None,
) -> tuple[TwinCalendar, TwinCalendar]:
    """(coverage calendar, business-day calendar) of a subscription, from policy §1 and §3."""
    tz_name = timezone or PLAN_ZONE[plan]
    opens, closes = (0, 24) if coverage == "24x7" else PLAN_HOURS[plan]
    business = TwinCalendar(tz_name, opens, closes, True, holidays)
    if coverage == "24x7":
        return TwinCalendar(tz_name, 0, 24, False, holidays), business
    return business, business


@dataclass(frozen=True)
class TwinClockSpec:
    target: int | None
    calendar: TwinCalendar


def twin_specs(
    plan: str,
    ctype: str,
    priority: str | None,
    coverage: str = "business",
    tz_name: str | None = None,
    holidays: str | tuple[str, ...] | None = None,
    overrides: dict[str, str | None] | None = None,
) -> dict[str, TwinClockSpec]:
    """The clocks of a case per policy §2/§3 (order-form ``overrides`` first)."""
    cover, business = twin_calendars(plan, coverage, tz_name, holidays)
    day_hours = 24 if coverage == "24x7" else PLAN_HOURS[plan][1] - PLAN_HOURS[plan][0]
    out: dict[str, TwinClockSpec] = {}
    if ctype == "change_request":
        return out
    for clock in CLOCK_NAMES:
        found, text = False, None
        for table in (overrides or {}, POLICY_TARGETS[plan]):
            for key in (f"{ctype}.{priority or 'any'}.{clock}", f"{ctype}.any.{clock}"):
                if not found and key in table:
                    found, text = True, table[key]
        if not found:
            continue
        if text is None:
            out[clock] = TwinClockSpec(None, cover)
            continue
        m = re.fullmatch(r"(\d+)(m|h|bd|bw)", text)
        assert m, text
        n, unit = int(m.group(1)), m.group(2)
        if unit == "m":
            out[clock] = TwinClockSpec(n * 60, cover)
        elif unit == "h":
            out[clock] = TwinClockSpec(n * 3600, cover)
        else:
            days = n * (5 if unit == "bw" else 1)
            out[clock] = TwinClockSpec(days * day_hours * 3600, business)
    return out


@dataclass(frozen=True)
class TwinClock:
    state: str
    target: int | None
    elapsed: int
    remaining: int | None
    due: int | None
    breached: bool


def twin_evaluate(
    start: int,
    events: list[tuple[int, str]],
    specs: dict[str, TwinClockSpec],
    at: int,
    suspensions: list[tuple[int, int | None]] = (),
    minute_specs: Callable[[int], dict[str, TwinClockSpec]] | None = None,
    lapsed: Callable[[int], bool] | None = None,
) -> dict[str, TwinClock]:
    """Clocks at ``at``, stepping one minute at a time from ``start``.

    ``events`` are ``(instant, kind)`` in recorded order; they are applied in time order
    (a stable sort keeps equal times in recorded order) and an event at minute ``m`` has
    happened for the minute ``[m, m + 60)``. ``suspensions`` are subscriber-wide
    ``[from, until)`` spans (``until=None``: open-ended).

    Terms that change over time (policy §14): ``specs`` are the clocks and targets in force
    at ``at``; ``minute_specs(m)`` the clocks in force at minute ``m``, whose calendar
    decides whether that minute counts (a clock absent then counts nothing); ``lapsed(m)``
    says whether an automatic lapse suspends minute ``m``.
    """
    evs = sorted(events, key=lambda e: e[0])
    # Per clock: "pending", "running" (started, not stopped) or "stopped".
    status = {c: "pending" for c in CLOCK_NAMES}
    status["response"] = "running"
    before_close: dict[str, str] = {}  # clocks resolved/closed stopped -> status they had
    # ``vendor``: a P0 on a managed third-party component awaits its vendor (policy §5):
    # the resolution clock alone stands still.
    acknowledged = awaiting = vendor = case_suspended = False
    elapsed = {c: 0 for c in CLOCK_NAMES}
    reached: dict[str, int | None] = {c: None for c in CLOCK_NAMES}

    def apply(kind: str) -> None:
        nonlocal acknowledged, awaiting, vendor, case_suspended
        if kind == "acknowledged":
            if acknowledged:
                return
            acknowledged = True
            # The response clock stops for good (a reopen after a resolve that came
            # before the acknowledgement does not restart it).
            status["response"] = "stopped"
            before_close.pop("response", None)
            for c in ("workaround", "resolution", "update"):
                if status[c] == "pending":
                    status[c] = "running"
                elif before_close.get(c) == "pending":
                    before_close[c] = "running"  # starts when the case is reopened
        elif kind == "awaiting_subscriber":
            awaiting = True
        elif kind == "subscriber_responded":
            awaiting = False
        elif kind == "awaiting_vendor":
            vendor = True
        elif kind == "vendor_responded":
            vendor = False
        elif kind == "workaround_provided":
            if status["workaround"] == "running":
                status["workaround"] = "stopped"
        elif kind == "fix_eta_agreed":
            if status["resolution"] == "running":
                status["resolution"] = "stopped"
        elif kind == "status_update":
            if status["update"] == "running":
                elapsed["update"] = 0
                reached["update"] = None
        elif kind in ("resolved", "closed"):
            awaiting = vendor = False
            for c in CLOCK_NAMES:
                if status[c] != "stopped":
                    before_close[c] = status[c]
                    status[c] = "stopped"
        elif kind == "reopened":
            for c, was in list(before_close.items()):
                status[c] = was
            before_close.clear()
        elif kind == "suspended":
            case_suspended = True
        elif kind == "unsuspended":
            case_suspended = False

    def subscriber_suspended(m: int) -> bool:
        if lapsed is not None and lapsed(m):
            return True
        return any(f <= m and (u is None or m < u) for f, u in suspensions)

    def counts(c: str, m: int) -> bool:
        if minute_specs is None:
            return specs[c].calendar.covered(m)
        here = minute_specs(m).get(c)
        return here is not None and here.calendar.covered(m)

    def add(c: str, from_: int, seconds: int) -> int:
        if minute_specs is None:
            return specs[c].calendar.add(from_, seconds)
        m, left = from_, seconds
        while left > 0:
            if counts(c, m):
                left -= MINUTE
            m += MINUTE
        return m

    i = 0
    m = start
    while m < at:
        while i < len(evs) and evs[i][0] <= m:
            apply(evs[i][1])
            i += 1
        counting = not case_suspended and not subscriber_suspended(m)
        for c, spec in specs.items():
            waiting = (awaiting and c != "response") or (vendor and c == "resolution")
            if not counting or status[c] != "running" or waiting:
                continue
            if counts(c, m):
                elapsed[c] += MINUTE
                if spec.target is not None and elapsed[c] == spec.target:
                    reached[c] = m + MINUTE
        m += MINUTE
    while i < len(evs) and evs[i][0] <= at:
        apply(evs[i][1])
        i += 1

    suspended_now = case_suspended or subscriber_suspended(at)
    out: dict[str, TwinClock] = {}
    for c, spec in specs.items():
        if status[c] == "stopped":
            state = "stopped"
        elif status[c] == "pending":
            state = "pending"
        elif suspended_now:
            state = "suspended"
        elif (awaiting and c != "response") or (vendor and c == "resolution"):
            state = "paused"
        else:
            state = "running"
        tgt = spec.target
        due = None
        if state == "running" and tgt is not None:
            due = reached[c] if elapsed[c] >= tgt else add(c, at, tgt - elapsed[c])
        out[c] = TwinClock(
            state,
            tgt,
            elapsed[c],
            None if tgt is None else tgt - elapsed[c],
            due,
            tgt is not None and elapsed[c] > tgt,
        )
    return out


def utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
