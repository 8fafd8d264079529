"""Query-hour meters (policy §8): hours used against the subscription term's limit.

Only time logged on query cases counts; an ``exempt`` entry (a fix for an error that
blocks basic use) is shown apart and does not count. The term runs from 00:00 local on
``term_start`` to 00:00 local on the day after ``term_end``. The forecast extrapolates
the term's burn rate so far.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from console.rules.policy import Terms, TermsAt
from console.rules.timeutil import zone


@dataclass(frozen=True, slots=True)
class Entry:
    at: int
    hours: float
    exempt: bool
    case_type: str  # the case's type now (a query reclassified as an incident stops counting)


@dataclass(frozen=True)
class Meter:
    subscriber: str
    plan: str
    term_start: date
    term_end: date
    limit_hours: float
    used_hours: float
    exempt_hours: float
    percent: float
    state: str  # ok | warning | over
    forecast_limit_date: date | None
    reached_on: date | None  # the day the limit was reached, when it has been


def term_bounds(terms: Terms | TermsAt) -> tuple[int, int]:
    """[start, end) of the term in epoch seconds, in the subscription's zone."""
    tz = zone(terms.tz_name)
    assert terms.facts.term_start is not None
    assert terms.facts.term_end is not None
    start = datetime.combine(terms.facts.term_start, time(0), tz)
    end = datetime.combine(terms.facts.term_end + timedelta(days=1), time(0), tz)
    return int(start.timestamp()), int(end.timestamp())


def exact(hours: float) -> Fraction:
    """Hours as the decimal figure people typed (0.1 is one tenth, not the nearest binary
    fraction), so sums and the 80 % / 100 % thresholds are exact (policy §8)."""
    return Fraction(repr(float(hours)))


def meter_state(used: Fraction, limit: Fraction, warn_percent: float) -> str:
    """``over`` past 100 % of the limit, ``warning`` from exactly ``warn_percent`` % of it
    (on the exact hours, never a rounded percentage), else ``ok``."""
    if used > limit:
        return "over"
    if used * 100 >= limit * exact(warn_percent) and (limit > 0 or used > 0):
        return "warning"
    return "ok"


def shown_percent(used: Fraction, limit: Fraction) -> float:
    """Used / limit in percent to one decimal, cut toward the meter's state: never 80.0
    below 80 % nor 100.0 over the limit (rounding 79.98 up would read as a warning)."""
    if limit <= 0:
        return 100.0 if used else 0.0
    tenths = used * 1000 / limit
    return (math.ceil(tenths) if used > limit else math.floor(tenths)) / 10


def meter(
    terms: Terms | TermsAt, entries: Iterable[Entry], at: int, warn_percent: float = 80.0
) -> Meter:
    start, end = term_bounds(terms)
    tz = zone(terms.tz_name)
    used = exempt = Fraction(0)
    limit = terms.query_hour_limit
    exact_limit = exact(limit)
    reached_on = None
    for e in sorted(entries, key=lambda e: e.at):
        if e.case_type != "query" or not (start <= e.at < end) or e.at > at:
            continue
        if e.exempt:
            exempt += exact(e.hours)
            continue
        used += exact(e.hours)
        if reached_on is None and limit > 0 and used >= exact_limit:
            reached_on = datetime.fromtimestamp(e.at, tz).date()
    state = meter_state(used, exact_limit, warn_percent)
    percent = shown_percent(used, exact_limit)
    used_f = float(used)
    forecast = None
    if reached_on is not None:
        forecast = reached_on
    elif used > 0 and at > start:
        rate = used / (min(at, end) - start)  # hours per second of term so far
        when = min(at, end) + math.ceil((exact_limit - used) / rate)
        if when < end:
            forecast = datetime.fromtimestamp(when, tz).date()
    return Meter(
        subscriber=terms.facts.id,
        plan=terms.facts.plan,
        term_start=terms.facts.term_start,  # type: ignore[arg-type]
        term_end=terms.facts.term_end,  # type: ignore[arg-type]
        limit_hours=limit,
        used_hours=round(used_f, 2),
        exempt_hours=round(float(exempt), 2),
        percent=percent,
        state=state,
        forecast_limit_date=forecast,
        reached_on=reached_on,
    )


def closeness(m: Meter) -> tuple[float, str]:
    """Sort key: closest to (or furthest over) the limit first."""
    return (-m.percent, m.subscriber)
