"""Coverage and business-day calendars (policy §1, §3): windows, holidays, zones, DST.

Every instant is fixed; nothing reads the wall clock. The hypothesis part checks the
fast interval arithmetic against itself (inverse, monotone, additive) and against the
minute-by-minute twin in ``slow_twin.py``.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slow_twin import local_midnight, twin_calendars

from console.rules.calendar import Calendar, CalendarRule, check_holiday_spec, holiday_dates
from console.rules.policy import SubscriptionFacts, Terms, default_policy
from console.rules.timeutil import BadValue, parse_instant

H = 3600
POLICY = default_policy()


def utc(text: str) -> int:
    return parse_instant(text)


def terms(plan: str = "enterprise", **kw) -> Terms:
    return Terms(POLICY, SubscriptionFacts(id="s", plan=plan, **kw))


def day_hours(cal: Calendar, day: str, tz_name: str) -> float:
    """Counted hours of one local day."""
    d = date.fromisoformat(day)
    return (
        cal.elapsed(local_midnight(d, tz_name), local_midnight(d + timedelta(days=1), tz_name)) / H
    )


NY = "America/New_York"
ENT = terms().coverage_calendar
BASIC = terms("basic").coverage_calendar
FULL = terms(coverage="24x7")  # enterprise with First/Second Level Support


# --- enterprise 8x5, America/New_York -------------------------------------------------


def test_enterprise_window_is_nine_to_five_new_york_time():
    # Monday 2026-02-02, EST (-05:00): 09:00-17:00 local = 14:00-22:00Z.
    assert ENT.elapsed(utc("2026-02-02T00:00:00Z"), utc("2026-02-03T00:00:00Z")) == 8 * H
    assert ENT.elapsed(utc("2026-02-02T13:59:00Z"), utc("2026-02-02T14:01:00Z")) == 60
    assert ENT.elapsed(utc("2026-02-02T21:59:00Z"), utc("2026-02-02T22:30:00Z")) == 60
    assert not ENT.is_open(utc("2026-02-02T13:59:59Z"))
    assert ENT.is_open(utc("2026-02-02T14:00:00Z"))
    assert ENT.is_open(utc("2026-02-02T21:59:59Z"))
    assert not ENT.is_open(utc("2026-02-02T22:00:00Z"))


def test_enterprise_week_is_forty_hours_and_weekend_counts_nothing():
    assert ENT.elapsed(utc("2026-02-02T00:00:00-05:00"), utc("2026-02-09T00:00:00-05:00")) == 40 * H
    assert ENT.elapsed(utc("2026-02-06T17:00:00-05:00"), utc("2026-02-09T09:00:00-05:00")) == 0
    for day in ("2026-02-07", "2026-02-08"):
        assert day_hours(ENT, day, NY) == 0


def test_enterprise_add_runs_over_nights_and_weekends():
    # Friday 16:00 + 2 h = Monday 10:00 (local).
    assert ENT.add(utc("2026-02-06T16:00:00-05:00"), 2 * H) == utc("2026-02-09T10:00:00-05:00")
    # Before opening: counting starts at 09:00.
    assert ENT.add(utc("2026-02-02T07:00:00-05:00"), H) == utc("2026-02-02T10:00:00-05:00")
    # Exactly a full day from opening ends at the close, not at the next opening.
    assert ENT.add(utc("2026-02-02T09:00:00-05:00"), 8 * H) == utc("2026-02-02T17:00:00-05:00")
    assert ENT.add(utc("2026-02-02T17:00:00-05:00"), 1) == utc("2026-02-03T09:00:01-05:00")


def test_empty_and_zero_spans():
    t = utc("2026-02-02T15:00:00Z")
    assert ENT.elapsed(t, t) == 0
    assert ENT.elapsed(t, t - 10) == 0
    assert ENT.add(t, 0) == t
    assert ENT.add(utc("2026-02-07T12:00:00Z"), 0) == utc("2026-02-07T12:00:00Z")


def test_subscriber_timezone_overrides_plan_zone():
    berlin = terms(timezone="Europe/Berlin").coverage_calendar
    # 09:00-17:00 CET = 08:00-16:00Z.
    assert berlin.elapsed(utc("2026-02-02T08:00:00Z"), utc("2026-02-02T16:00:00Z")) == 8 * H
    assert not berlin.is_open(utc("2026-02-02T16:30:00Z"))
    sao = terms("basic", timezone="America/Sao_Paulo").coverage_calendar
    assert sao.is_open(utc("2026-02-02T08:00:00-03:00"))
    assert terms("basic", timezone="Asia/Tokyo").tz_name == "Asia/Tokyo"


# --- basic 12x5, fixed -03:00 ----------------------------------------------------------


def test_basic_window_is_eight_to_eight_at_fixed_minus_three():
    # 08:00-20:00 -03:00 = 11:00-23:00Z, in winter and summer alike (no DST).
    for day in ("2026-01-12", "2026-07-13", "2026-11-02"):
        assert BASIC.elapsed(utc(f"{day}T11:00:00Z"), utc(f"{day}T23:00:00Z")) == 12 * H
        assert BASIC.elapsed(utc(f"{day}T00:00:00-03:00"), utc(f"{day}T23:59:59-03:00")) == 12 * H
        assert not BASIC.is_open(utc(f"{day}T10:59:59Z"))
        assert not BASIC.is_open(utc(f"{day}T23:00:00Z"))
    assert (
        BASIC.elapsed(utc("2026-01-12T00:00:00-03:00"), utc("2026-01-19T00:00:00-03:00")) == 60 * H
    )


def test_basic_plan_uses_us_holidays_in_its_own_zone():
    assert day_hours(BASIC, "2026-11-26", "-03:00") == 0  # Thanksgiving
    assert day_hours(BASIC, "2026-11-27", "-03:00") == 12
    assert BASIC.add(utc("2026-11-25T19:00:00-03:00"), 2 * H) == utc("2026-11-27T09:00:00-03:00")


# --- holidays --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        "2026-11-26",  # Thanksgiving
        "2026-07-03",  # Independence Day observed (July 4 2026 is a Saturday)
        "2026-10-12",  # Columbus Day
        "2026-01-01",
        "2026-01-19",
        "2026-05-25",
        "2026-06-19",
        "2026-09-07",
        "2026-11-11",
        "2026-12-25",
        "2027-12-31",  # New Year 2028 (a Saturday) observed the Friday before, across the year
    ],
)
def test_us_holidays_count_nothing(day):
    assert day_hours(ENT, day, NY) == 0
    assert day_hours(FULL.business_calendar, day, NY) == 0


def test_days_around_holidays_count_normally():
    for day in ("2026-11-25", "2026-11-27", "2026-07-02", "2026-07-06", "2026-10-13"):
        assert day_hours(ENT, day, NY) == 8
    # Thanksgiving week: 4 business days.
    assert ENT.elapsed(utc("2026-11-23T00:00:00-05:00"), utc("2026-11-30T00:00:00-05:00")) == 32 * H
    # Wednesday 16:00 + 2 h skips Thanksgiving: Friday 10:00.
    assert ENT.add(utc("2026-11-25T16:00:00-05:00"), 2 * H) == utc("2026-11-27T10:00:00-05:00")
    # Thursday 2 July 16:00 + 1 h skips the observed Friday and the weekend.
    assert ENT.add(utc("2026-07-02T16:00:00-04:00"), 2 * H) == utc("2026-07-06T10:00:00-04:00")


def test_holiday_is_a_whole_local_day_in_the_subscription_zone():
    # Thanksgiving in Tokyo time: the local day 2026-11-26 JST counts nothing ...
    tokyo = terms(timezone="Asia/Tokyo").coverage_calendar
    assert day_hours(tokyo, "2026-11-26", "Asia/Tokyo") == 0
    assert day_hours(tokyo, "2026-11-25", "Asia/Tokyo") == 8
    # ... and under 24x7 the business-day calendar drops exactly that local day.
    full_tokyo = terms(coverage="24x7", timezone="Asia/Tokyo").business_calendar
    assert full_tokyo.elapsed(utc("2026-11-25T15:00:00Z"), utc("2026-11-26T15:00:00Z")) == 0
    assert full_tokyo.elapsed(utc("2026-11-26T15:00:00Z"), utc("2026-11-27T15:00:00Z")) == 24 * H


def test_explicit_holiday_list_replaces_the_country():
    cal = terms(holidays=("2026-12-24", "2026-12-31")).coverage_calendar
    assert day_hours(cal, "2026-12-24", NY) == 0
    assert day_hours(cal, "2026-12-31", NY) == 0
    assert day_hours(cal, "2026-11-26", NY) == 8  # Thanksgiving is no longer a holiday
    assert day_hours(cal, "2026-12-25", NY) == 8
    assert day_hours(cal, "2026-12-26", NY) == 0  # a Saturday is still a weekend
    empty = terms(holidays=()).coverage_calendar
    assert day_hours(empty, "2026-07-03", NY) == 8


def test_other_country_replaces_us():
    ca = terms(holidays="CA").coverage_calendar
    assert day_hours(ca, "2026-07-01", NY) == 0  # Canada Day
    assert day_hours(ca, "2026-11-26", NY) == 8  # US Thanksgiving
    assert day_hours(ca, "2026-07-03", NY) == 8  # US Independence Day observed


def test_us_ny_subdivision_adds_state_holidays():
    ny = terms(holidays="US-NY").coverage_calendar
    assert day_hours(ny, "2026-02-12", NY) == 0  # Lincoln's Birthday
    assert day_hours(ny, "2026-11-03", NY) == 0  # Election Day
    assert day_hours(ny, "2026-11-26", NY) == 0  # federal holidays stay
    assert day_hours(ENT, "2026-02-12", NY) == 8
    assert day_hours(ENT, "2026-11-03", NY) == 8


def test_holiday_dates_and_spec_check():
    us = holiday_dates("US", 2026)
    assert date(2026, 7, 3) in us
    assert date(2026, 11, 26) in us
    assert date(2026, 10, 12) in us
    assert holiday_dates(None, 2026) == us
    assert holiday_dates(("2026-12-24", "2027-01-02"), 2026) == {date(2026, 12, 24)}
    check_holiday_spec("US-NY")
    with pytest.raises(BadValue):
        check_holiday_spec("XX")
    with pytest.raises(BadValue):
        check_holiday_spec(("2026-13-01",))


# --- DST in New York -------------------------------------------------------------------


def test_spring_forward_week_moves_the_window_in_utc():
    # Friday 6 March (EST): 14:00-22:00Z. Monday 9 March (EDT): 13:00-21:00Z.
    assert ENT.elapsed(utc("2026-03-06T14:00:00Z"), utc("2026-03-06T22:00:00Z")) == 8 * H
    assert ENT.elapsed(utc("2026-03-09T13:00:00Z"), utc("2026-03-09T21:00:00Z")) == 8 * H
    assert ENT.is_open(utc("2026-03-09T13:00:00Z"))
    assert not ENT.is_open(utc("2026-03-09T21:00:00Z"))
    for day in ("2026-03-02", "2026-03-06", "2026-03-09", "2026-03-10", "2026-03-13"):
        assert day_hours(ENT, day, NY) == 8
    assert day_hours(ENT, "2026-03-08", NY) == 0
    # The week across the change still has 40 covered hours.
    assert ENT.elapsed(utc("2026-03-05T00:00:00-05:00"), utc("2026-03-12T00:00:00-04:00")) == 40 * H
    assert ENT.add(utc("2026-03-06T16:00:00-05:00"), 2 * H) == utc("2026-03-09T10:00:00-04:00")


def test_fall_back_week_moves_the_window_in_utc():
    # Friday 30 October (EDT): 13:00-21:00Z. Monday 2 November (EST): 14:00-22:00Z.
    assert ENT.elapsed(utc("2026-10-30T13:00:00Z"), utc("2026-10-30T21:00:00Z")) == 8 * H
    assert ENT.elapsed(utc("2026-11-02T14:00:00Z"), utc("2026-11-02T22:00:00Z")) == 8 * H
    assert not ENT.is_open(utc("2026-11-02T13:30:00Z"))
    for day in ("2026-10-29", "2026-10-30", "2026-11-02", "2026-11-04"):
        assert day_hours(ENT, day, NY) == 8
    assert ENT.elapsed(utc("2026-10-29T00:00:00-04:00"), utc("2026-11-05T00:00:00-05:00")) == 40 * H
    assert ENT.add(utc("2026-10-30T16:00:00-04:00"), 2 * H) == utc("2026-11-02T10:00:00-05:00")


def test_basic_fixed_offset_ignores_new_york_dst():
    for day in ("2026-03-06", "2026-03-09", "2026-10-30", "2026-11-02"):
        assert BASIC.elapsed(utc(f"{day}T11:00:00Z"), utc(f"{day}T23:00:00Z")) == 12 * H


# --- 24x7 ------------------------------------------------------------------------------


def test_24x7_coverage_counts_every_hour():
    cov = FULL.coverage_calendar
    assert cov.elapsed(utc("2026-02-06T22:00:00Z"), utc("2026-02-09T14:00:00Z")) == 64 * H
    assert cov.elapsed(utc("2026-11-26T00:00:00-05:00"), utc("2026-11-27T00:00:00-05:00")) == 24 * H
    assert cov.add(utc("2026-02-07T12:00:00Z"), 90 * 60) == utc("2026-02-07T13:30:00Z")
    assert cov.is_open(utc("2026-02-08T03:00:00Z"))
    # Local days on the DST Sundays are 23 and 25 real hours, all of them counted.
    assert day_hours(cov, "2026-03-08", NY) == 23
    assert day_hours(cov, "2026-11-01", NY) == 25


def test_business_day_calendar_under_24x7_is_whole_business_days():
    bd = FULL.business_calendar
    assert FULL.business_day_hours == 24
    assert day_hours(bd, "2026-02-02", NY) == 24
    assert day_hours(bd, "2026-02-07", NY) == 0
    assert day_hours(bd, "2026-02-16", NY) == 0  # Washington's Birthday
    assert bd.elapsed(utc("2026-02-02T00:00:00-05:00"), utc("2026-02-09T00:00:00-05:00")) == 120 * H
    # Friday 23:00 + 2 h of business time = Monday 01:00.
    assert bd.add(utc("2026-02-06T23:00:00-05:00"), 2 * H) == utc("2026-02-09T01:00:00-05:00")
    # 1 Business Day from Wednesday noon before Thanksgiving = Friday noon.
    assert bd.add(utc("2026-11-25T12:00:00-05:00"), 24 * H) == utc("2026-11-27T12:00:00-05:00")
    # Midnight between two business days is not a gap.
    assert bd.elapsed(utc("2026-02-02T23:00:00-05:00"), utc("2026-02-03T01:00:00-05:00")) == 2 * H


def test_24x7_business_day_target_across_the_spring_forward_weekend():
    bd = FULL.business_calendar
    fri = utc("2026-03-06T12:00:00-05:00")
    mon = bd.add(fri, 24 * H)  # 1bd: 12 h on Friday, 12 h on Monday
    assert mon == utc("2026-03-09T12:00:00-04:00")
    assert mon - fri == 71 * H  # the weekend lost an hour of wall time
    fall = utc("2026-10-30T12:00:00-04:00")
    assert bd.add(fall, 24 * H) - fall == 73 * H


def test_24_hour_business_day_on_a_dst_day_has_23_or_25_real_hours():
    # New York changes on Sundays (never business days); Asia/Jerusalem springs forward on
    # Friday 27 March 2026 and Africa/Cairo falls back on Thursday 29 October 2026.
    jer = terms(coverage="24x7", timezone="Asia/Jerusalem").business_calendar
    assert day_hours(jer, "2026-03-27", "Asia/Jerusalem") == 23
    assert day_hours(jer, "2026-03-26", "Asia/Jerusalem") == 24
    cairo = terms(coverage="24x7", timezone="Africa/Cairo").business_calendar
    assert day_hours(cairo, "2026-10-29", "Africa/Cairo") == 25
    assert day_hours(cairo, "2026-04-24", "Africa/Cairo") == 23
    # From Thursday 00:00: 24 h end at Friday 00:00; Thursday and the short Friday hold
    # 47 h, so the 48th ends at 01:00 on Monday.
    thu = local_midnight(date(2026, 3, 26), "Asia/Jerusalem")
    fri = local_midnight(date(2026, 3, 27), "Asia/Jerusalem")
    mon = local_midnight(date(2026, 3, 30), "Asia/Jerusalem")
    assert jer.add(thu, 24 * H) == fri
    assert jer.add(thu, 47 * H) == local_midnight(date(2026, 3, 28), "Asia/Jerusalem")
    assert jer.add(thu, 48 * H) == mon + H
    # Enterprise 8x5 in Jerusalem: the DST Friday still has 8 covered hours.
    assert (
        day_hours(
            terms(timezone="Asia/Jerusalem").coverage_calendar, "2026-03-27", "Asia/Jerusalem"
        )
        == 8
    )


def test_8x5_and_12x5_business_calendar_is_the_coverage_calendar():
    assert terms().business_calendar is terms().coverage_calendar
    assert terms("basic").business_calendar is terms("basic").coverage_calendar
    assert FULL.business_calendar is not FULL.coverage_calendar


# --- layout over many years ------------------------------------------------------------


def test_long_spans_lay_out_further_years():
    cal = Calendar(CalendarRule(NY, ENT.rule.opens, ENT.rule.closes, True, "US"))
    s = utc("2026-02-02T14:00:00Z")
    big = 4000 * H  # 100 business weeks: about two years
    end = cal.add(s, big)
    assert utc("2027-12-01T00:00:00Z") < end < utc("2028-06-01T00:00:00Z")
    assert cal.elapsed(s, end) == big
    # A fresh calendar asked about a far instant first, then about an early one.
    cal2 = Calendar(CalendarRule(NY, ENT.rule.opens, ENT.rule.closes, True, "US"))
    assert day_hours(cal2, "2035-07-05", NY) == 8
    assert day_hours(cal2, "2020-11-26", NY) == 0
    assert cal2.elapsed(s, end) == big


# --- properties ------------------------------------------------------------------------

CONFIGS = {
    "enterprise": dict(plan="enterprise"),
    "basic": dict(plan="basic"),
    "enterprise-us-ny": dict(plan="enterprise", holidays="US-NY"),
    "enterprise-list": dict(plan="enterprise", holidays=("2026-03-10", "2026-11-27")),
    "enterprise-berlin": dict(plan="enterprise", timezone="Europe/Berlin"),
    "24x7": dict(plan="enterprise", coverage="24x7"),
    "24x7-basic": dict(plan="basic", coverage="24x7"),
    "24x7-jerusalem": dict(plan="enterprise", coverage="24x7", timezone="Asia/Jerusalem"),
}
# Weeks with DST changes and holidays in them, and a year end.
ANCHORS = [
    utc("2026-03-02T00:00:00Z"),
    utc("2026-03-23T00:00:00Z"),
    utc("2026-06-29T00:00:00Z"),
    utc("2026-10-05T00:00:00Z"),
    utc("2026-10-26T00:00:00Z"),
    utc("2026-11-20T00:00:00Z"),
    utc("2026-12-21T00:00:00Z"),
]


@st.composite
def calendars(draw) -> tuple[str, str, Calendar]:
    name = draw(st.sampled_from(sorted(CONFIGS)))
    which = draw(st.sampled_from(["coverage", "business"]))
    t = terms(**CONFIGS[name])
    return name, which, t.coverage_calendar if which == "coverage" else t.business_calendar


def instants(minutes_only: bool = False):
    unit = 60 if minutes_only else 1
    return st.builds(
        lambda a, k: a + k * unit,
        st.sampled_from(ANCHORS),
        st.integers(-7 * 86400 // unit, 14 * 86400 // unit),
    )


@settings(max_examples=300, deadline=None)
@given(calendars(), instants(), st.integers(0, 200 * H))
def test_elapsed_inverts_add(c, s, d):
    cal = c[2]
    end = cal.add(s, d)
    assert end >= s
    assert cal.elapsed(s, end) == d
    if d > 0:  # the earliest such instant
        assert cal.elapsed(s, end - 1) == d - 1


@settings(max_examples=300, deadline=None)
@given(calendars(), instants(), st.integers(0, 10 * 86400), st.integers(0, 10 * 86400))
def test_elapsed_is_monotone_in_end_and_additive(c, s, x, y):
    cal = c[2]
    a, b = s + min(x, y), s + max(x, y)
    assert cal.elapsed(s, a) <= cal.elapsed(s, b)
    assert cal.elapsed(s, b) == cal.elapsed(s, a) + cal.elapsed(a, b)
    assert 0 <= cal.elapsed(a, b) <= b - a


@settings(max_examples=300, deadline=None)
@given(calendars(), instants(), st.integers(0, 100 * H), st.integers(0, 100 * H))
def test_add_is_monotone_in_duration(c, s, d1, d2):
    cal = c[2]
    lo, hi = min(d1, d2), max(d1, d2)
    assert cal.add(s, lo) <= cal.add(s, hi)
    # Adding in two steps is adding once.
    assert cal.add(cal.add(s, lo), hi - lo) == cal.add(s, hi)


# --- against the minute-by-minute twin -------------------------------------------------


def _twin(name: str, which: str):
    cfg = dict(CONFIGS[name])
    cover, business = twin_calendars(cfg.pop("plan"), **cfg)
    return cover if which == "coverage" else business


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), instants(minutes_only=True), st.integers(0, 10 * 24 * 60))
def test_elapsed_matches_slow_twin(c, s, minutes):
    name, which, cal = c
    e = s + minutes * 60
    assert cal.elapsed(s, e) == _twin(name, which).elapsed(s, e)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), instants(minutes_only=True), st.integers(0, 60 * 60))
def test_add_matches_slow_twin(c, s, minutes):
    name, which, cal = c
    assert cal.add(s, minutes * 60) == _twin(name, which).add(s, minutes * 60)


def test_a_country_calendar_loads_its_one_module_and_the_same_holidays():
    """The US calendar loads the United States' module alone (not the 250 countries that
    any import of ``holidays.countries.<module>`` brings), with the library's dates."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from console.rules.calendar import _country_class\n"
        "cls = _country_class('US')\n"
        "print(cls.__name__, sum(m.startswith('holidays.countries.') for m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["US", "1"]
    import holidays

    from console.rules.calendar import _country_class

    for country in ("US", "PT", "BR"):
        for year in (2025, 2026, 2027):
            assert dict(_country_class(country)(years=year)) == dict(
                holidays.country_holidays(country, years=year)
            ), (country, year)
