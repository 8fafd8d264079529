"""The policy as data (policy §2, §3 calendars, §6 lapse): targets, calendars, overrides."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from importlib import resources

import pytest

from console.rules.policy import (
    PolicyError,
    SubscriptionFacts,
    Terms,
    check_target_key,
    default_policy,
    parse_policy,
)
from console.rules.timeutil import (
    BadValue,
    format_instant,
    parse_date,
    parse_duration,
    parse_instant,
    zone,
)

POLICY = default_policy()
M, H = 60, 3600


def terms(plan: str = "enterprise", **kw) -> Terms:
    return Terms(POLICY, SubscriptionFacts(id="s", plan=plan, **kw))


def targets(t: Terms, ctype: str, prio: str | None) -> dict[str, int | None]:
    return {c: s.target for c, s in t.specs(ctype, prio).items()}


def on_business_calendar(t: Terms, ctype: str, prio: str | None) -> dict[str, bool]:
    return {c: s.calendar is t.business_calendar for c, s in t.specs(ctype, prio).items()}


# --- the tables of §2 ------------------------------------------------------------------

ENTERPRISE_INCIDENTS = {
    "P0": dict(response=30 * M, workaround=4 * H, resolution=48 * H, update=4 * H),
    "P1": dict(response=1 * H, workaround=24 * H, resolution=48 * H, update=4 * H),
    "P2": dict(response=4 * H, workaround=48 * H, resolution=72 * H, update=4 * H),
    "P3": dict(response=6 * H, workaround=72 * H, resolution=40 * H, update=4 * H),
}


@pytest.mark.parametrize("prio", ["P0", "P1", "P2", "P3"])
def test_enterprise_incident_targets(prio):
    t = terms()
    assert targets(t, "incident", prio) == ENTERPRISE_INCIDENTS[prio]
    assert list(t.specs("incident", prio)) == ["response", "workaround", "resolution", "update"]


def test_enterprise_p3_resolution_is_one_business_week_shorter_than_workaround():
    t = terms()
    specs = t.specs("incident", "P3")
    assert specs["resolution"].target == 5 * 8 * H
    assert specs["resolution"].target < specs["workaround"].target  # applied as written
    assert specs["resolution"].calendar is t.business_calendar
    assert specs["workaround"].calendar is t.coverage_calendar


def test_enterprise_queries_security_reports_service_requests():
    t = terms()
    assert targets(t, "query", None) == dict(response=8 * H, resolution=None)
    assert targets(t, "security_report", None) == dict(response=1 * H, resolution=80 * H)
    assert targets(t, "service_request", None) == dict(response=8 * H, resolution=None)
    assert on_business_calendar(t, "security_report", None)["resolution"]
    assert t.query_hour_limit == 50


@pytest.mark.parametrize(
    ("prio", "expected"),
    [
        ("P1", dict(response=2 * H, workaround=12 * H)),
        ("P2", dict(response=4 * H, workaround=24 * H)),
        ("P3", dict(response=8 * H, workaround=72 * H)),  # "72 Business Week" read as 72 h
    ],
)
def test_basic_incidents_have_no_resolution_or_update_clock(prio, expected):
    assert targets(terms("basic"), "incident", prio) == expected


def test_basic_has_no_p0_sra_or_sr_clocks_and_query_response_only():
    b = terms("basic")
    assert b.specs("incident", "P0") == {}
    assert b.specs("security_report", None) == {}
    assert b.specs("service_request", None) == {}
    assert targets(b, "query", None) == dict(response=12 * H)  # 1bd = 12 h on 12x5
    assert b.query_hour_limit == 25


@pytest.mark.parametrize("plan", ["enterprise", "basic"])
@pytest.mark.parametrize("coverage", ["business", "24x7"])
def test_change_requests_have_no_clocks(plan, coverage):
    t = terms(plan, coverage=coverage, targets={"change_request.any.response": "1h"})
    assert t.specs("change_request", None) == {}


def test_best_efforts_counts_on_the_coverage_calendar():
    t = terms(coverage="24x7")
    spec = t.specs("query", None)["resolution"]
    assert spec.target is None
    assert spec.calendar is t.coverage_calendar


# --- Business Day / Business Week ------------------------------------------------------


def test_business_day_is_as_many_hours_as_the_plan_covers():
    assert terms().specs("query", None)["response"].target == 8 * H
    assert terms("basic").specs("query", None)["response"].target == 12 * H
    assert terms(coverage="24x7").specs("query", None)["response"].target == 24 * H
    assert terms("basic", coverage="24x7").specs("query", None)["response"].target == 24 * H
    assert terms(coverage="24x7").business_day_hours == 24
    assert terms("basic").business_day_hours == 12


def test_24x7_business_week_target_counts_on_business_days():
    t = terms(coverage="24x7")
    res = t.specs("incident", "P3")["resolution"]
    assert res.target == 5 * 24 * H
    assert res.calendar is t.business_calendar
    work = t.specs("incident", "P3")["workaround"]
    assert work.target == 72 * H
    assert work.calendar is t.coverage_calendar
    assert t.specs("security_report", None)["resolution"].target == 10 * 24 * H
    # 1bw from Monday 00:00 New York under 24x7 ends Saturday 00:00.
    mon = parse_instant("2026-02-02T00:00:00-05:00")
    assert format_instant(res.calendar.add(mon, res.target)) == "2026-02-07T05:00:00Z"
    # ... and with a holiday in the week it runs into the next Monday.
    thx = parse_instant("2026-11-23T00:00:00-05:00")
    assert format_instant(res.calendar.add(thx, res.target)) == "2026-12-01T05:00:00Z"


def test_enterprise_business_week_from_monday_morning():
    t = terms()
    res = t.specs("incident", "P3")["resolution"]
    mon = parse_instant("2026-02-02T09:00:00-05:00")
    assert format_instant(res.calendar.add(mon, res.target)) == "2026-02-06T22:00:00Z"


# --- order-form overrides --------------------------------------------------------------


def test_order_form_target_overrides():
    t = terms(
        targets={
            "incident.P1.response": "30m",
            "incident.P1.workaround": None,  # best efforts
            "query.any.response": "2h",
            "incident.P2.resolution": "2bd",
        }
    )
    p1 = t.specs("incident", "P1")
    assert p1["response"].target == 30 * M
    assert p1["workaround"].target is None
    assert p1["workaround"].calendar is t.coverage_calendar
    assert p1["resolution"].target == 48 * H  # untouched
    assert t.specs("query", None)["response"].target == 2 * H
    assert t.specs("query", None)["response"].calendar is t.coverage_calendar
    assert t.specs("incident", "P2")["resolution"].target == 16 * H
    assert on_business_calendar(t, "incident", "P2")["resolution"]
    assert terms().specs("incident", "P1")["response"].target == 1 * H  # others unaffected


def test_order_form_any_key_overrides_every_priority():
    t = terms(targets={"incident.any.update": "2h"})
    for prio in ("P0", "P1", "P2", "P3"):
        assert t.specs("incident", prio)["update"].target == 2 * H
    # The specific key wins over the any key within the order form.
    t2 = terms(targets={"incident.any.update": "2h", "incident.P0.update": "1h"})
    assert t2.specs("incident", "P0")["update"].target == 1 * H
    assert t2.specs("incident", "P1")["update"].target == 2 * H


def test_order_form_can_add_clocks_a_plan_lacks():
    t = terms(
        "basic", targets={"incident.P2.resolution": "5bd", "service_request.any.response": "4h"}
    )
    assert targets(t, "incident", "P2") == dict(
        response=4 * H, workaround=24 * H, resolution=60 * H
    )
    assert targets(t, "service_request", None) == dict(response=4 * H)


def test_order_form_query_hour_limit():
    assert terms(query_hour_limit=80).query_hour_limit == 80
    assert terms("basic", query_hour_limit=10.5).query_hour_limit == 10.5


def test_update_frequency_defaults_to_four_hours():
    assert terms().update_frequency() == 4 * H
    assert terms(targets={"incident.P1.update": "2h"}).update_frequency() == 2 * H
    assert terms("basic").update_frequency() == 4 * H


# --- zones and the automatic lapse -----------------------------------------------------


def test_plan_zone_and_subscriber_override():
    assert terms().tz_name == "America/New_York"
    assert terms("basic").tz_name == "-03:00"
    assert terms("basic", timezone="America/Sao_Paulo").tz_name == "America/Sao_Paulo"
    assert zone("-03:00").utcoffset(None) == timedelta(hours=-3)


@pytest.mark.parametrize(
    ("plan", "tz", "term_end", "lapse"),
    [
        ("enterprise", None, "2026-12-31", "2027-01-01T05:00:00Z"),  # EST
        ("enterprise", None, "2026-06-30", "2026-07-01T04:00:00Z"),  # EDT
        ("basic", None, "2026-06-30", "2026-07-01T03:00:00Z"),  # fixed -03:00
        ("basic", None, "2026-12-31", "2027-01-01T03:00:00Z"),
        ("enterprise", "-03:00", "2026-12-31", "2027-01-01T03:00:00Z"),
        ("basic", "America/New_York", "2026-03-07", "2026-03-08T05:00:00Z"),
    ],
)
def test_lapse_starts_at_local_midnight_after_term_end(plan, tz, term_end, lapse):
    t = terms(plan, timezone=tz, term_end=parse_date(term_end))
    assert format_instant(t.lapse_from) == lapse
    assert t.suspension_intervals[-1] == (parse_instant(lapse), None)


def test_no_term_end_no_lapse_and_intervals_sorted():
    assert terms().lapse_from is None
    a, b = parse_instant("2026-05-01T00:00:00Z"), parse_instant("2026-03-01T00:00:00Z")
    t = terms(suspensions=((a, None), (b, a)), term_end=date(2026, 1, 31))
    assert [s[0] for s in t.suspension_intervals] == sorted([a, b, t.lapse_from])


# --- durations and instants ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours", "expected"),
    [
        ("30m", 8, (1800, False)),
        ("45min", 8, (2700, False)),
        ("4h", 8, (14400, False)),
        ("1.5h", 8, (5400, False)),
        ("1bd", 8, (28800, True)),
        ("1bd", 12, (43200, True)),
        ("1bd", 24, (86400, True)),
        ("1bw", 8, (144000, True)),
        ("2bw", 8, (288000, True)),
        (" 2h ", 8, (7200, False)),
    ],
)
def test_parse_duration(text, hours, expected):
    assert parse_duration(text, hours) == expected


@pytest.mark.parametrize("text", ["", "2", "2d", "h", "-1h", "2 hours", None, 3])
def test_parse_duration_refuses(text):
    with pytest.raises(BadValue):
        parse_duration(text, 8)


def test_instants_need_an_offset():
    assert parse_instant("2026-11-24T15:00:00Z") == parse_instant("2026-11-24T10:00:00-05:00")
    assert format_instant(parse_instant("2026-11-24T12:00:00-03:00")) == "2026-11-24T15:00:00Z"
    assert format_instant(None) is None
    for bad in ("2026-11-24T15:00:00", "yesterday", "", None):
        with pytest.raises(BadValue):
            parse_instant(bad)
    with pytest.raises(BadValue):
        zone("Mars/Olympus")
    assert datetime(2026, 1, 1, tzinfo=zone("America/New_York")).utcoffset() == timedelta(hours=-5)


# --- the policy file is data ----------------------------------------------------------

TOML = resources.files("console.rules").joinpath("policy.toml").read_text("utf-8")


def test_shipped_policy_file_loads():
    assert POLICY.version == "2025-02-26"
    assert POLICY.priorities == ("P0", "P1", "P2", "P3")
    assert "subscription_lapsed" in POLICY.suspension_reasons
    assert POLICY.default_update_frequency == 4 * H
    assert POLICY.plan("enterprise").p0_allowed
    assert not POLICY.plan("basic").p0_allowed
    assert POLICY.plan("basic").incident_environments == ("production",)
    with pytest.raises(BadValue):
        POLICY.plan("gold")


def test_other_terms_are_a_change_of_data():
    text = TOML.replace('"incident.P1.response" = "1h"', '"incident.P1.response" = "15m"')
    text = text.replace('hours = "09:00-17:00"', 'hours = "08:00-18:00"')
    pol = parse_policy(text)
    t = Terms(pol, SubscriptionFacts(id="s", plan="enterprise"))
    assert t.specs("incident", "P1")["response"].target == 15 * M
    assert t.specs("query", None)["response"].target == 10 * H  # 1bd = 10 h now


def test_business_day_with_half_hours_is_what_the_window_covers():
    # Bug fixed: business_day_hours used whole hours only (08:30-17:00 gave 9 h).
    pol = parse_policy(TOML.replace('hours = "09:00-17:00"', 'hours = "08:30-17:00"'))
    t = Terms(pol, SubscriptionFacts(id="s", plan="enterprise"))
    assert t.business_day_hours == 8.5
    assert t.specs("query", None)["response"].target == 8 * H + 30 * M
    day = t.coverage_calendar.elapsed(
        parse_instant("2026-02-02T00:00:00-05:00"), parse_instant("2026-02-03T00:00:00-05:00")
    )
    assert day == t.specs("query", None)["response"].target


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('hours = "09:00-17:00"', 'hours = "nine to five"', "hours"),
        (
            '"incident.P1.response" = "1h"',
            '"incident.P1.response" = "soon"',
            "incident.P1.response",
        ),
        ('"incident.P1.response" = "1h"', '"incident.P9.response" = "1h"', "P9"),
        ('"incident.P1.response" = "1h"', '"incident.P1.reaction" = "1h"', "reaction"),
        ('version = "2025-02-26"', "", "version"),
        ('timezone = "America/New_York"', 'timezone = "Mars/Olympus"', "Mars"),
        ("[meters]", "[meters\n", "policy"),
    ],
)
def test_bad_policy_files_are_refused_with_the_place(old, new, needle):
    with pytest.raises(PolicyError, match=needle):
        parse_policy(TOML.replace(old, new, 1), "policy")


def test_check_target_key():
    check_target_key("incident.P1.response", POLICY)
    check_target_key("query.any.resolution", POLICY)
    for bad in ("incident.P1", "ticket.P1.response", "incident.P5.response", "incident.P1.eta"):
        with pytest.raises(BadValue):
            check_target_key(bad, POLICY)
