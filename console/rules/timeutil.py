"""Instants, zones and duration strings.

Inside the engine every instant is an ``int`` of UTC epoch seconds: comparisons and
arithmetic on ints are what keep clock evaluation fast. These helpers convert at the
edges (import, CLI, output).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class BadValue(ValueError):
    """A value from outside (a file, an option) that cannot be understood."""


#: Instants and dates outside the years 2000-2099 (UTC) are refused everywhere (policy
#: §14): nothing the desk records lies there, and year 1 or 9999 breaks date arithmetic.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MIN_INSTANT = 946684800  # 2000-01-01T00:00:00Z
MAX_INSTANT = 4102444800  # 2100-01-01T00:00:00Z (exclusive)


def check_instant(ts: int, what: str = "instant") -> int:
    """``ts`` unchanged, or BadValue when it lies outside 2000-2099 (UTC)."""
    if not MIN_INSTANT <= ts < MAX_INSTANT:
        raise BadValue(f"{what} must lie in the years {FIRST_YEAR}-{LAST_YEAR}")
    return ts


def parse_utc_z(raw: str) -> int | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` (what exports and the JSON outputs write) -> epoch seconds,
    or None for any other shape (then ``parse_instant``'s general path decides). An import
    reads millions of these: the C parser and day arithmetic, no time zone object."""
    if (
        len(raw) != 20
        or raw[19] != "Z"
        or raw[4] != "-"
        or raw[7] != "-"
        or raw[10] != "T"
        or raw[13] != ":"
        or raw[16] != ":"
        or not raw.isascii()
    ):
        return None
    try:
        d = _fromisoformat(raw[:19])
    except ValueError:
        return None
    return (d.toordinal() - _EPOCH_ORDINAL) * 86400 + d.hour * 3600 + d.minute * 60 + d.second


_fromisoformat = datetime.fromisoformat
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


def parse_instant(text: str) -> int:
    """ISO 8601 with an offset (``Z`` accepted) -> epoch seconds. A naive time is refused."""
    if text.__class__ is str:
        ts = parse_utc_z(text)
        if ts is not None and MIN_INSTANT <= ts < MAX_INSTANT:
            return ts
    if not isinstance(text, str) or not text.strip():
        raise BadValue(f"not a timestamp: {text!r}")
    raw = text.strip()
    try:
        dt = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise BadValue(f"not an ISO 8601 timestamp: {text!r}") from None
    if dt.tzinfo is None:
        raise BadValue(f"timestamp has no UTC offset: {text!r}")
    try:
        ts = int(dt.timestamp() // 1)
    except (OverflowError, ValueError):
        ts = -1
    if not MIN_INSTANT <= ts < MAX_INSTANT:
        raise BadValue(f"{text!r} lies outside the years {FIRST_YEAR}-{LAST_YEAR}")
    return ts


@lru_cache(maxsize=1 << 16)
def format_instant(ts: int | None) -> str | None:
    """Epoch seconds -> ``2026-11-24T15:00:00Z`` (cached: dues repeat across a queue)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text: str) -> date:
    try:
        d = date.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadValue(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise BadValue(f"{text!r} lies outside the years {FIRST_YEAR}-{LAST_YEAR}")
    return d


_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$")


@lru_cache(maxsize=256)
def zone(name: str) -> tzinfo:
    """An IANA zone name, or a fixed offset like ``-03:00`` (no DST)."""
    m = _OFFSET.match(name.strip())
    if m:
        sign = -1 if m.group(1) == "-" else 1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
            raise BadValue(f"unknown time zone: {name!r} (offsets run from -14:00 to +14:00)")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValue(f"unknown time zone: {name!r}") from None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|bd|bw)\s*$")


def parse_duration(text: str, business_day_hours: float) -> tuple[int, bool]:
    """A policy duration -> (seconds of counted time, counts on the business-day calendar).

    ``30m``, ``4h`` count on the coverage calendar; ``1bd`` and ``2bw`` on the business-day
    calendar, a business day being as many hours as the plan covers (policy §3).
    """
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m:
        raise BadValue(f"not a duration (e.g. 30m, 4h, 1bd, 2bw): {text!r}")
    amount, unit = float(m.group(1)), m.group(2)
    if unit in ("m", "min"):
        seconds, business = round(amount * 60), False
    elif unit == "h":
        seconds, business = round(amount * 3600), False
    else:
        days = amount * (5 if unit == "bw" else 1)
        seconds, business = round(days * business_day_hours * 3600), True
    if seconds > MAX_DURATION:
        raise BadValue(f"duration {text.strip()!r} is longer than a year of counted time")
    return seconds, business


#: The longest duration a target or frequency may have (a year of round-the-clock time).
MAX_DURATION = 366 * 86400
