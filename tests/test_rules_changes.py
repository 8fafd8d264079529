"""Subscriptions that change over time (policy §14, issue 12): the pure core.

Each instant counts on the calendar in force at that instant; a clock is judged against
the target in force at the instant asked about, over the whole elapsed time; a clock the
case gains starts at the change; a renewal ends a lapse at its effective instant and the
lapse stays a suspension for the time it lasted. Every scenario is checked against the
slow minute-stepping twin (tests/slow_twin.py), which folds the changes itself.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slow_twin import PLAN_ZONE, local_midnight, twin_evaluate, twin_specs

from console.rules.clocks import CaseFacts, Event, evaluate, sort_events
from console.rules.lifecycle import IllegalEvent, check_history
from console.rules.policy import SubscriptionFacts, Terms, default_policy
from console.rules.timeutil import parse_instant

POLICY = default_policy()
NY = ZoneInfo("America/New_York")
H = 3600
T = parse_instant


def ny(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=NY).timestamp())


def fold(facts: SubscriptionFacts, ts: int) -> dict:
    """The twin's own fold of the dated changes (independent of SubscriptionFacts.at)."""
    out = {
        "plan": facts.plan,
        "coverage": facts.coverage,
        "timezone": facts.timezone,
        "targets": dict(facts.targets),
        "term_end": facts.term_end,
    }
    for effective, change in sorted(facts.changes, key=lambda c: c[0]):
        if effective <= ts:
            out.update({k: v for k, v in change.items() if k in out})
    return out


def twin(
    case: CaseFacts,
    events: list[Event],
    facts: SubscriptionFacts,
    at: int,
    ctype: str,
    prio: str | None,
) -> dict:
    def specs_at(ts: int) -> dict:
        f = fold(facts, ts)
        return twin_specs(
            f["plan"], ctype, prio, f["coverage"], f["timezone"], overrides=f["targets"]
        )

    bounds = sorted({0, *(e for e, _ in facts.changes)})
    cache = {b: specs_at(b) for b in bounds}

    def minute_specs(m: int) -> dict:
        # A change effective after ``at`` is not foreseen: a due runs on from ``at`` with
        # the terms of ``at`` (and minutes before ``at`` count on their own terms).
        return cache[max(b for b in bounds if b <= min(m, at))]

    def lapsed(m: int) -> bool:
        f = fold(facts, m)
        if f["term_end"] is None:
            return False
        day_after = date.fromordinal(f["term_end"].toordinal() + 1)
        return m >= local_midnight(day_after, f["timezone"] or PLAN_ZONE[f["plan"]])

    return twin_evaluate(
        case.starts_at,
        [(e.at, e.kind) for e in events],
        specs_at(at),
        at,
        list(facts.suspensions),
        minute_specs=minute_specs,
        lapsed=lapsed,
    )


def check(case: CaseFacts, events: list[Event], facts: SubscriptionFacts, at: int) -> dict:
    ev = evaluate(case, sort_events(events), Terms(POLICY, facts), at)
    prio = case.priority
    for e in events:
        if e.at <= at and e.kind == "reclassified":
            prio = e.data.get("priority", prio)
    w = twin(case, events, facts, at, ev.type, prio)
    assert set(ev.clocks) == set(w), (set(ev.clocks), set(w))
    for name, c in ev.clocks.items():
        t = w[name]
        assert (c.state, c.target, c.elapsed, c.remaining, c.due, c.breached) == (
            t.state,
            t.target,
            t.elapsed,
            t.remaining,
            t.due,
            t.breached,
        ), name
    return ev.clocks


def sub(plan: str = "enterprise", changes: tuple = (), **kw) -> SubscriptionFacts:
    return SubscriptionFacts("s", plan, changes=changes, **kw)


# -- the scenarios of the issue ------------------------------------------------------------


def test_basic_to_enterprise_during_an_open_incident():
    """Basic P2 (response 4 h, workaround 24 h, -03:00 08-20) becomes enterprise (New York
    09-17) Tuesday 10:00 New York: resolution and update appear and start at the change."""
    case = CaseFacts("C", "s", "incident", "P2", T("2026-02-02T12:00:00Z"))
    events = [Event(T("2026-02-02T12:30:00Z"), "acknowledged", "e", {}, 0)]
    change = T("2026-02-03T15:00:00Z")
    facts = sub("basic", changes=((change, {"plan": "enterprise"}),))
    before = check(case, events, facts, change - 60)
    assert set(before) == {"response", "workaround"}
    clocks = check(case, events, facts, T("2026-02-04T18:00:00Z"))
    assert set(clocks) == {"response", "workaround", "resolution", "update"}
    # Tue 10:00-17:00 and Wed 09:00-13:00 New York: 11 h since the change.
    assert clocks["resolution"].elapsed == 11 * H
    assert clocks["resolution"].target == 72 * H
    # Basic Mon 09:30-20:00 and Tue 08:00-12:00 (-03:00) = 14.5 h, then 11 h enterprise.
    assert clocks["workaround"].elapsed == int(25.5 * H)
    assert clocks["workaround"].target == 48 * H


def test_business_hours_to_24x7_during_a_weekend():
    case = CaseFacts("C", "s", "incident", "P1", ny("2026-02-06 15:00"))
    events = [Event(ny("2026-02-06 15:10"), "acknowledged", "e", {}, 0)]
    change = ny("2026-02-07 00:00")  # Saturday
    facts = sub(changes=((change, {"coverage": "24x7"}),))
    clocks = check(case, events, facts, ny("2026-02-08 12:00"))
    # Fri 15:10-17:00 (1:50) then every hour from Saturday 00:00 (36 h).
    assert clocks["workaround"].elapsed == int(1 * H + 50 * 60 + 36 * H)
    assert clocks["workaround"].breached  # 24 h target


def test_a_zone_change_across_daylight_saving():
    """New York moved to DST on Sunday 8 March 2026; London only on 29 March."""
    case = CaseFacts("C", "s", "incident", "P2", ny("2026-03-06 10:00"))
    events = [Event(ny("2026-03-06 10:30"), "acknowledged", "e", {}, 0)]
    change = T("2026-03-10T12:00:00Z")
    facts = sub(changes=((change, {"timezone": "Europe/London"}),))
    for at in (
        "2026-03-09T18:00:00Z",
        "2026-03-10T13:00:00Z",
        "2026-03-12T20:00:00Z",
        "2026-03-31T12:00:00Z",
    ):
        check(case, events, facts, T(at))


def test_an_order_form_target_override_applies_from_its_instant_to_the_whole_time():
    case = CaseFacts("C", "s", "incident", "P1", ny("2026-02-02 09:00"))
    events = [Event(ny("2026-02-02 09:10"), "acknowledged", "e", {}, 0)]
    change = ny("2026-02-03 12:00")  # 7:50 on Monday and 3:00 on Tuesday counted by then
    facts = sub(changes=((change, {"targets": {"incident.P1.workaround": "8h"}}),))
    assert not check(case, events, facts, change - 60)["workaround"].breached
    clocks = check(case, events, facts, change)
    # Judged against the target in force now, over the whole elapsed time: breached at once;
    # its due is when the counted time reached 8 h (7:50 Monday, then 0:10 on Tuesday).
    assert clocks["workaround"].breached
    assert clocks["workaround"].target == 8 * H
    assert clocks["workaround"].due == ny("2026-02-03 09:10")


def test_a_renewal_after_a_lapse_keeps_the_lapse_suspended():
    """The issue's reproduction: term ended 31 March, renewed 10 April; no time counts and
    nothing is missed in between (so no escalation for the lapse)."""
    case = CaseFacts("C", "s", "incident", "P1", ny("2026-03-31 09:00"))
    events = [Event(ny("2026-03-31 09:00"), "acknowledged", "e", {}, 0)]
    renewal = T("2026-04-10T14:00:00Z")  # 10:00 New York (EDT)
    facts = sub(
        term_start=date(2025, 4, 1),
        term_end=date(2026, 3, 31),
        changes=((renewal, {"term_start": date(2026, 4, 1), "term_end": date(2027, 3, 31)}),),
    )
    terms = Terms(POLICY, facts)
    assert terms.suspension_intervals == (
        (ny("2026-04-01 00:00"), renewal),
        (ny("2027-04-01 00:00"), None),
    )
    at = T("2026-04-10T15:00:00Z")
    clocks = check(case, events, facts, at)
    assert clocks["workaround"].elapsed == 8 * H + H  # Mar 31 09-17, Apr 10 10-11
    assert not clocks["workaround"].breached
    ev = evaluate(case, events, terms, at)
    assert "workaround" not in ev.missed_at
    assert "resolution" not in ev.missed_at
    assert ev.suspended is False
    assert evaluate(case, events, terms, ny("2026-04-05 12:00")).suspended is True


def test_the_past_does_not_change_when_a_change_is_recorded():
    """Any instant before a change's effective instant gives the same answer with it."""
    case = CaseFacts("C", "s", "incident", "P2", ny("2026-02-02 09:00"))
    events = [
        Event(ny("2026-02-02 10:00"), "acknowledged", "e", {}, 0),
        Event(ny("2026-02-03 11:00"), "awaiting_subscriber", "e", {}, 1),
    ]
    change = ny("2026-02-04 09:30")
    plain = Terms(POLICY, sub())
    changed = Terms(POLICY, sub(changes=((change, {"plan": "basic", "coverage": "24x7"}),)))
    for minutes in range(0, 3 * 24 * 60, 37):
        at = ny("2026-02-02 09:00") + minutes * 60
        if at >= change:
            break
        assert (
            evaluate(case, events, plain, at).clocks == evaluate(case, events, changed, at).clocks
        )


def test_a_change_bounds_the_summary_that_can_be_carried():
    case = CaseFacts("C", "s", "incident", "P2", ny("2026-02-02 09:00"))
    change = ny("2026-02-05 09:00")
    terms = Terms(POLICY, sub(changes=((change, {"plan": "basic"}),)))
    assert evaluate(case, [], terms, ny("2026-02-03 09:00")).next_boundary == change
    assert evaluate(case, [], terms, change).next_boundary is None


# -- the property: random changes against the twin ---------------------------------------------


CHANGES = [
    {"plan": "basic"},
    {"plan": "enterprise"},
    {"coverage": "24x7"},
    {"coverage": "business"},
    {"timezone": "Europe/Berlin"},
    {"timezone": "America/Sao_Paulo"},
    {"timezone": None},
    {"targets": {"incident.P2.workaround": "8h"}},
    {"targets": {"incident.P1.resolution": "1bd"}},
    {"targets": {"incident.P3.response": None}},
    {"targets": {}},
]
KINDS = [
    "acknowledged",
    "awaiting_subscriber",
    "subscriber_responded",
    "workaround_provided",
    "fix_eta_agreed",
    "status_update",
    "resolved",
    "reopened",
]
ANCHORS = [
    ny(d) for d in ("2026-03-02 00:00", "2026-10-26 00:00", "2026-11-23 00:00", "2026-02-02 00:00")
]


@st.composite
def changing_histories(draw):
    plan = draw(st.sampled_from(["enterprise", "basic"]))
    prio = draw(st.sampled_from(["P1", "P2", "P3"]))
    reported = draw(st.sampled_from(ANCHORS)) + 60 * draw(st.integers(0, 2 * 24 * 60))
    case = CaseFacts("C", "s", "incident", prio, reported)
    events: list[Event] = []
    now = reported
    for _ in range(draw(st.integers(0, 8))):
        now += 60 * draw(st.sampled_from([0, 15, 60, 240, 600, 1440]))
        e = Event(now, draw(st.sampled_from(KINDS)), "e", {}, len(events))
        try:
            check_history(case, [*events, e], POLICY, lambda t, p: [])
        except IllegalEvent:
            continue
        events.append(e)
    changes = []
    for _ in range(draw(st.integers(1, 3))):
        when = reported + 60 * draw(st.integers(-600, 5 * 24 * 60))
        changes.append((when, draw(st.sampled_from(CHANGES))))
    term_end = None
    if draw(st.integers(0, 3)) == 0:
        term_end = (
            datetime.fromtimestamp(reported, NY) + timedelta(days=draw(st.integers(0, 4)))
        ).date()
        if draw(st.booleans()):
            changes.append(
                (
                    reported + 60 * draw(st.integers(0, 6 * 24 * 60)),
                    {"term_end": term_end + timedelta(days=365)},
                )
            )
    facts = sub(plan, changes=tuple(sorted(changes, key=lambda c: c[0])), term_end=term_end)
    return case, events, facts


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changing_histories(), st.integers(0, 6 * 24 * 60))
def test_changing_terms_match_the_minute_by_minute_twin(h, after):
    case, events, facts = h
    check(case, events, facts, case.reported_at + 60 * after)
