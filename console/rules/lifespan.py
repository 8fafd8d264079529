"""Product lifespan (policy §12): pure, no I/O; every function takes the instant.

End of support = max(release + 3 years, discontinuation notice + 1 year).

Definitions (decided here, tested in tests/test_lifespan.py):

- ``end_of_support`` is the **last supported day** (a calendar date). A version is past
  its end of support from the next day on, judged on the UTC date of the instant asked
  about: past when ``at >= (end_of_support + 1 day) 00:00 UTC``.
- Adding years keeps the month and day; a 29 February with no 29 February in the target
  year becomes **28 February** (the last day of that February). With the last-supported-
  day reading above, a version released 2024-02-29 is supported through 2027-02-28 and
  flagged from 2027-03-01, the first day after three full years.
- A case is flagged, never refused, when its deployment's (product, version) is past its
  end of support; a version not in the matrix has no end of support and is not flagged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

SUPPORT_YEARS = 3
AFTER_NOTICE_YEARS = 1


def add_years(d: date, years: int) -> date:
    """``d`` plus whole years; 29 February -> 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February into a common year
        return d.replace(year=d.year + years, day=28)


def end_of_support(released: date, notice: date | None = None) -> date:
    """The last supported day of a version released on ``released``."""
    end = add_years(released, SUPPORT_YEARS)
    if notice is not None:
        end = max(end, add_years(notice, AFTER_NOTICE_YEARS))
    return end


def utc_date(at: int) -> date:
    return datetime.fromtimestamp(at, UTC).date()


def past_end_of_support(end: date | None, at: int) -> bool:
    """True when the UTC date of ``at`` is after ``end`` (None: unknown, never past)."""
    return end is not None and utc_date(at) > end


def first_unsupported_instant(end: date) -> int:
    """00:00 UTC of the day after ``end``: the first instant that is past it."""
    start = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    return int(start.timestamp())
