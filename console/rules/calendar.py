"""Counted-time arithmetic on a coverage calendar (policy §1, §3).

A calendar is a set of disjoint windows ``[start, end)`` in UTC epoch seconds, laid out a
whole year at a time from local wall-clock rules (so DST moves windows in UTC), with a
running sum of the seconds before each window. ``elapsed`` and ``add`` are then two
binary searches: no loop over minutes, hours or even days at query time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Protocol

import holidays as holidays_lib

from console.rules.timeutil import BadValue, parse_date, zone

HolidaySpec = str | tuple[str, ...] | None
"""``"US"``, ``"US-NY"``, ``"CA"``, or an explicit tuple of ISO dates (which replaces any country)."""


@lru_cache(maxsize=4096)
def holiday_dates(spec: HolidaySpec, year: int) -> frozenset[date]:
    """The holidays of one year, observed dates included, for a holiday spec."""
    if spec is None:
        spec = "US"
    if isinstance(spec, tuple):
        return frozenset(d for d in (parse_date(s) for s in spec) if d.year == year)
    country, _, subdiv = spec.partition("-")
    try:
        table = _country_class(country)(subdiv=subdiv or None, years=year)
    except (NotImplementedError, KeyError) as exc:
        raise BadValue(f"unknown holiday calendar: {spec!r}") from exc
    return frozenset(table.keys())


@lru_cache(maxsize=64)
def _country_class(country: str) -> Any:
    """The holidays library's class for ``country`` (``US``), loading its one module:
    ``holidays.country_holidays``, and any import of ``holidays.countries.<module>``
    (the package's ``__init__`` comes first), import all 250 countries' modules, 0.06-0.1 s
    of every command's start and of the console's first screen. The module's file is loaded
    by itself under its own name; the same class either way."""
    import importlib.util
    import sys
    from pathlib import Path

    from holidays.registry import COUNTRIES

    for module, names in COUNTRIES.items():
        if country not in names[1:]:
            continue
        name = f"holidays.countries.{module}"
        loaded = sys.modules.get(name)
        if loaded is None:
            path = Path(holidays_lib.__file__).parent / "countries" / f"{module}.py"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                break
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[name] = loaded
            try:
                spec.loader.exec_module(loaded)
            except BaseException:
                del sys.modules[name]
                raise
        found = getattr(loaded, country, None)
        if found is not None:
            return found
    return lambda **kw: holidays_lib.country_holidays(country, **kw)


def check_holiday_spec(spec: HolidaySpec) -> None:
    """Raise BadValue now for a spec that would fail later."""
    holiday_dates(spec, 2026)


@dataclass(frozen=True, slots=True)
class CalendarRule:
    """How one calendar is laid out in local time.

    ``opens``/``closes`` are local wall times; ``closes=None`` means midnight at the end of
    the day (a 24-hour day). ``business_days_only`` drops weekends and holidays.
    """

    tz_name: str
    opens: time
    closes: time | None
    business_days_only: bool
    holidays: HolidaySpec

    @property
    def hours_per_day(self) -> int:
        if self.closes is None:
            return 24 - self.opens.hour
        return self.closes.hour - self.opens.hour


class CountingCalendar(Protocol):
    """What a clock counts on: a ``Calendar``, or one that changes at dated instants
    (``console.rules.policy.SegmentedCalendar``)."""

    def elapsed(self, start: int, end: int) -> int: ...

    def add(self, start: int, seconds: int) -> int: ...

    def is_open(self, ts: int) -> bool: ...


class Calendar:
    """Windows of counted time and arithmetic over them."""

    __slots__ = (
        "rule",
        "_tz",
        "_years",
        "_layout",
        "_all_time",
        "_safe_lo",
        "_safe_hi",
        "_last_end",
    )

    def __init__(self, rule: CalendarRule) -> None:
        self.rule = rule
        self._tz: tzinfo = zone(rule.tz_name)
        self._all_time = (
            not rule.business_days_only and rule.closes is None and rule.opens == time(0)
        )
        self._years: tuple[int, int] | None = None
        # Instants inside [_safe_lo, _safe_hi) need no layout work: a plain int check.
        self._safe_lo = 0
        # (layout, end, counted before end) of the last ``elapsed``: a queue asks for
        # ``elapsed(anchor, now)`` of 100k cases with the same ``now``.
        self._last_end: tuple[object, int, int] | None = None
        self._safe_hi = -1
        # (starts, ends, cum, cum_end), replaced as one tuple so that a reader in another
        # thread never sees arrays of two different layouts.
        self._layout: tuple[list[int], list[int], list[int], list[int]] = ([], [], [], [])

    # -- layout -----------------------------------------------------------------------

    def _day_window(self, day: date) -> tuple[int, int] | None:
        rule = self.rule
        if rule.business_days_only and (
            day.weekday() >= 5 or day in holiday_dates(rule.holidays, day.year)
        ):
            return None
        start = datetime.combine(day, rule.opens, self._tz)
        if rule.closes is None:
            end = datetime.combine(day + timedelta(days=1), time(0), self._tz)
        else:
            end = datetime.combine(day, rule.closes, self._tz)
        return int(start.timestamp()), int(end.timestamp())

    def _windows(self, y0: int, y1: int) -> Iterable[tuple[int, int]]:
        day, last = date(y0, 1, 1), date(y1, 12, 31)
        one = timedelta(days=1)
        while day <= last:
            w = self._day_window(day)
            if w is not None:
                yield w
            day += one

    def _ensure(self, ts: int) -> None:
        """Lay out whole years so that ``ts`` lies well inside the laid-out range."""
        if self._safe_lo <= ts < self._safe_hi:
            return
        year = datetime.fromtimestamp(ts, self._tz).year
        if self._years is not None and self._years[0] < year < self._years[1]:
            return
        lo, hi = year - 1, year + 2  # four years; further out, laid out when asked
        if self._years is not None:
            lo, hi = min(lo, self._years[0]), max(hi, self._years[1])
        starts: list[int] = []
        ends: list[int] = []
        for s, e in self._windows(lo, hi):
            if ends and ends[-1] == s:  # merge touching windows (24-hour business days)
                ends[-1] = e
            else:
                starts.append(s)
                ends.append(e)
        cum: list[int] = []
        cum_end: list[int] = []
        total = 0
        for s, e in zip(starts, ends, strict=True):
            cum.append(total)
            total += e - s
            cum_end.append(total)
        self._layout = (starts, ends, cum, cum_end)
        self._years = (lo, hi)
        self._safe_lo = int(datetime(lo + 1, 1, 1, tzinfo=self._tz).timestamp())
        self._safe_hi = int(datetime(hi, 1, 1, tzinfo=self._tz).timestamp())

    # -- arithmetic --------------------------------------------------------------------

    @staticmethod
    def _counted_before(layout: tuple[list[int], list[int], list[int], list[int]], ts: int) -> int:
        starts, ends, cum, _ = layout
        i = bisect.bisect_right(starts, ts) - 1
        if i < 0:
            return 0
        return cum[i] + min(ts, ends[i]) - starts[i]

    def elapsed(self, start: int, end: int) -> int:
        """Counted seconds in ``[start, end)``; 0 when ``end <= start``.

        Both ends are read off one layout: calendars are shared between threads, and a
        layout laid out further back in between would shift every running sum.
        """
        if end <= start:
            return 0
        if self._all_time:
            return end - start
        self._ensure(start)
        layout = self._layout
        last = self._last_end
        if last is not None and last[0] is layout and last[1] == end:
            before_end = last[2]
        else:
            self._ensure(end)
            layout = self._layout
            before_end = self._counted_before(layout, end)
            # One tuple, replaced whole: another thread reads either the old or the new
            # one, and uses it only with the layout it was computed on.
            self._last_end = (layout, end, before_end)
        return before_end - self._counted_before(layout, start)

    def add(self, start: int, seconds: int) -> int:
        """The earliest instant at which ``seconds`` of counted time have passed since ``start``."""
        if seconds <= 0:
            return start
        if self._all_time:
            return start + seconds
        self._ensure(start)
        while True:
            layout = self._layout
            starts, ends, cum, cum_end = layout
            target = self._counted_before(layout, start) + seconds
            j = bisect.bisect_left(cum_end, target)
            if j < len(cum_end):
                return starts[j] + (target - cum[j])
            self._ensure(ends[-1] + 366 * 86400)  # lay out further years

    def is_open(self, ts: int) -> bool:
        if self._all_time:
            return True
        self._ensure(ts)
        starts, ends, _, _ = self._layout
        i = bisect.bisect_right(starts, ts) - 1
        return i >= 0 and ts < ends[i]


@lru_cache(maxsize=1024)
def calendar_for(rule: CalendarRule) -> Calendar:
    """Calendars are shared: every case of a subscriber uses the same two."""
    return Calendar(rule)
