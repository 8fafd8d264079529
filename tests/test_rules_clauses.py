"""The policy's loose clauses (issue 18) as pure rules: no database, fixed instants.

- §5 a P0 on a managed third-party component: the vendor pause (resolution clock only),
  who may use the vendor events, the component and criterion in force;
- §5 change-request steps, one at a time;
- §7 manual escalation and which target an escalation may name; the incomplete war team;
- §8 the meter's exact thresholds; §6 the case-only suspension reason.

The vendor pause is also checked against the minute-stepping twin by the hypothesis
properties in ``test_rules_clocks.py`` (``test_vendor_pauses_match_the_minute_by_minute_twin``).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_rules_clocks import SETUPS, histories

from console.rules.classify import criterion_problem
from console.rules.clocks import CaseFacts, Event, evaluate, paused_for, sort_events
from console.rules.escalation import ESCALATING_CLOCKS, judge_escalation, missed_targets
from console.rules.lifecycle import (
    CR_NEXT,
    CR_STATUSES,
    IllegalEvent,
    check_history,
    component_in_force,
    cr_next_steps,
    criterion_in_force,
)
from console.rules.meters import Entry, meter, meter_state, shown_percent
from console.rules.policy import SubscriptionFacts, Terms, default_policy
from console.rules.timeutil import parse_instant
from console.rules.warteam import WarTeam, move_problem, war_team

POLICY = default_policy()
NY = ZoneInfo("America/New_York")
M, H = 60, 3600
ENT = Terms(POLICY, SubscriptionFacts(id="s", plan="enterprise", coverage="24x7"))


def utc(text: str) -> int:
    return parse_instant(text)


def ny(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=NY).timestamp())


def allow_all(ctype: str, prio: str | None) -> list:
    return []


class Story:
    """A P0 incident on 24x7 (so counted time is wall time) naming ``component``."""

    def __init__(
        self, prio: str | None = "P0", component: str | None = "kafka", ctype: str = "incident"
    ) -> None:
        self.case = CaseFacts(
            "C-1", "s", ctype, prio, utc("2026-02-02T10:00:00Z"), component=component
        )
        self.events: list[Event] = []

    def on(self, minutes: int, kind: str, **data) -> Story:
        self.events.append(
            Event(self.case.reported_at + minutes * M, kind, "eng", data, len(self.events))
        )
        return self

    def history(self) -> list[Event]:
        return sort_events(self.events)

    def check(self) -> None:
        check_history(self.case, self.history(), POLICY, allow_all)

    def refused(self) -> IllegalEvent:
        with pytest.raises(IllegalEvent) as info:
            self.check()
        return info.value

    def at(self, minutes: int):
        return evaluate(self.case, self.history(), ENT, self.case.reported_at + minutes * M)


# --- §5: the vendor pause ----------------------------------------------------------------


def test_awaiting_the_vendor_pauses_only_the_resolution_clock():
    s = Story().on(0, "acknowledged").on(60, "awaiting_vendor", note="ticket 42")
    s.check()
    ev = s.at(180)
    assert ev.awaiting_vendor
    assert not ev.awaiting
    assert {n: c.state for n, c in ev.clocks.items()} == {
        "response": "stopped",
        "workaround": "running",
        "resolution": "paused",
        "update": "running",
    }
    assert ev.clocks["resolution"].elapsed == 60 * M  # counted until the vendor was awaited
    assert ev.clocks["workaround"].elapsed == 180 * M
    assert ev.clocks["update"].elapsed == 180 * M
    assert ev.clocks["resolution"].due is None
    assert paused_for(ev, "resolution") == "vendor"
    assert [paused_for(ev, n) for n in ("response", "workaround", "update")] == [None] * 3


def test_vendor_responded_resumes_the_resolution_clock_with_its_time_kept():
    s = Story().on(0, "acknowledged").on(60, "awaiting_vendor").on(300, "vendor_responded")
    s.check()
    ev = s.at(400)
    assert not ev.awaiting_vendor
    res = ev.clocks["resolution"]
    assert (res.state, res.elapsed) == ("running", (60 + 100) * M)
    assert res.due == s.case.reported_at + 400 * M + (48 * H - 160 * M)  # 24x7: wall time


def test_resolution_paused_for_the_vendor_does_not_breach():
    s = Story().on(0, "acknowledged").on(60, "awaiting_vendor")
    ev = s.at(5 * 24 * 60)  # five days on: 48 h target, but only 1 h counted
    assert not ev.clocks["resolution"].breached
    assert ev.clocks["resolution"].state == "paused"
    assert ev.clocks["workaround"].breached  # the workaround target is not the vendor's matter


def test_subscriber_and_vendor_both_awaited():
    s = Story().on(0, "acknowledged").on(10, "awaiting_vendor").on(20, "awaiting_subscriber")
    s.check()
    ev = s.at(60)
    assert paused_for(ev, "resolution") == "subscriber_and_vendor"
    assert paused_for(ev, "workaround") == "subscriber"
    s.on(30, "subscriber_responded")
    ev = s.at(60)
    assert paused_for(ev, "resolution") == "vendor"
    assert ev.clocks["workaround"].state == "running"


def test_resolving_ends_the_vendor_wait_and_a_reopen_does_not_restore_it():
    s = (
        Story()
        .on(0, "acknowledged")
        .on(10, "awaiting_vendor")
        .on(20, "resolved")
        .on(30, "reopened")
    )
    s.check()
    ev = s.at(90)
    assert not ev.awaiting_vendor
    assert ev.clocks["resolution"].state == "running"
    assert ev.clocks["resolution"].elapsed == (10 + 60) * M
    s.on(40, "vendor_responded")
    assert "not awaiting a vendor" in s.refused().message


def test_a_suspension_shows_over_the_vendor_pause():
    s = (
        Story()
        .on(0, "acknowledged")
        .on(10, "awaiting_vendor")
        .on(20, "suspended", reason="custom_extension")
    )
    ev = s.at(60)
    assert ev.clocks["resolution"].state == "suspended"  # precedence: suspended > paused
    assert paused_for(ev, "resolution") is None


@pytest.mark.parametrize(
    ("prio", "component", "ctype", "words"),
    [
        ("P1", None, "incident", "case C-1 is a incident P1"),
        ("P0", None, "incident", "a P0 incident that names no managed third-party component"),
        (None, None, "query", "case C-1 is a query"),
    ],
)
def test_only_a_p0_naming_a_component_awaits_a_vendor(prio, component, ctype, words):
    e = Story(prio, component, ctype).on(0, "acknowledged").on(5, "awaiting_vendor").refused()
    assert (e.index, e.field) == (1, "kind")
    assert e.message.startswith(
        "awaiting_vendor: only a P0 incident on a managed third-party component awaits a vendor"
    )
    assert words in e.message


def test_vendor_event_order_is_checked():
    e = Story().on(0, "vendor_responded").refused()
    assert "not awaiting a vendor" in e.message
    e = Story().on(0, "awaiting_vendor").on(1, "awaiting_vendor").refused()
    assert e.index == 1
    assert "already awaiting the vendor of kafka" in e.message
    e = Story().on(0, "resolved").on(1, "awaiting_vendor").refused()
    assert "is resolved" in e.message


def test_a_reclassification_may_name_the_component_and_lowering_drops_it():
    s = (
        Story("P1", None)
        .on(0, "acknowledged")
        .on(5, "reclassified", priority="P0", component="postgres", reason="db down")
    )
    s.on(10, "awaiting_vendor")
    s.check()
    assert component_in_force(s.case, s.history()) == "postgres"
    s.on(20, "vendor_responded").on(30, "reclassified", priority="P1", reason="partial")
    s.check()
    assert component_in_force(s.case, s.history()) is None
    s.on(40, "awaiting_vendor")
    assert "is a incident P1" in s.refused().message


def test_a_reclassification_that_changes_only_the_component_is_allowed():
    s = Story().on(0, "reclassified", priority="P0", component="redis", reason="it was redis")
    s.check()
    assert component_in_force(s.case, s.history()) == "redis"
    e = Story().on(0, "reclassified", priority="P0", component="kafka", reason="same").refused()
    assert "already incident P0" in e.message


def test_no_reclassification_away_from_the_component_while_its_vendor_is_awaited():
    e = Story().on(0, "awaiting_vendor").on(5, "reclassified", priority="P1", reason="r").refused()
    assert (e.index, e.field) == (1, "kind")
    assert "awaiting the vendor of kafka; record vendor_responded first" in e.message
    e = (
        Story()
        .on(0, "awaiting_vendor")
        .on(5, "reclassified", priority="P0", component="redis", reason="r")
        .refused()
    )
    assert "record vendor_responded first" in e.message


def test_a_component_is_named_only_on_a_p0():
    e = (
        Story("P2", None)
        .on(0, "reclassified", priority="P1", component="kafka", reason="r")
        .refused()
    )
    assert (e.field, e.message) == (
        "component",
        "only a P0 incident names a managed third-party component",
    )


# --- §5, §9: the criterion --------------------------------------------------------------


def test_criterion_must_be_a_guideline_key_of_the_priority():
    assert criterion_problem(POLICY, "substantial_service_loss", "incident", "P1") is None
    assert criterion_problem(POLICY, "component_unavailable", "incident", "P0") is None
    # a P0 criterion where P0 does not apply classifies P1 (§9)
    assert criterion_problem(POLICY, "component_unavailable", "incident", "P1") is None
    assert "unknown guideline criterion 'bogus_key'" in criterion_problem(
        POLICY, "bogus_key", "incident", "P1"
    )
    assert criterion_problem(POLICY, "noncritical_errors", "incident", "P1") == (
        "criterion noncritical_errors decides P3, not P1"
    )
    assert "a query has none" in criterion_problem(POLICY, "noncritical_errors", "query", None)


def test_reclassified_criterion_is_checked_and_in_force():
    e = (
        Story("P2", None)
        .on(0, "reclassified", priority="P1", criterion="bogus_key", reason="r")
        .refused()
    )
    assert e.field == "criterion"
    assert "unknown guideline criterion 'bogus_key'" in e.message
    s = Story("P2", None).on(
        0, "reclassified", priority="P1", criterion="critical_data_at_risk", reason="r"
    )
    s.check()
    c = s.case
    assert (
        criterion_in_force(c, "severe_performance_degradation", s.history())
        == "critical_data_at_risk"
    )
    assert (
        criterion_in_force(c, "severe_performance_degradation", [])
        == "severe_performance_degradation"
    )
    # a priority change without a criterion leaves none; a component-only one keeps it
    s.on(5, "reclassified", priority="P3", reason="agreed with the subscriber")
    assert criterion_in_force(c, "x", s.history()) is None
    s2 = Story().on(0, "reclassified", priority="P0", component="redis", reason="r")
    assert (
        criterion_in_force(s2.case, "component_unavailable", s2.history())
        == "component_unavailable"
    )


# --- §5: change-request steps -------------------------------------------------------------


def cr_story(*statuses: str) -> Story:
    s = Story(None, None, "change_request")
    for i, status in enumerate(statuses):
        s.on(i, "cr_status", status=status)
    return s


LEGAL = {(a, b) for a, nexts in CR_NEXT.items() for b in nexts}


def test_the_legal_steps_are_the_policys():
    assert {
        ("proposed", "approved"),
        ("approved", "scheduled"),
        ("scheduled", "implemented"),
        ("implemented", "closed"),
        ("proposed", "rejected"),
        ("approved", "rejected"),
    } == LEGAL
    assert cr_next_steps("closed") == ()
    assert cr_next_steps("rejected") == ()


PATH_TO = {
    "proposed": (),
    "approved": ("approved",),
    "scheduled": ("approved", "scheduled"),
    "implemented": ("approved", "scheduled", "implemented"),
    "closed": ("approved", "scheduled", "implemented", "closed"),
    "rejected": ("rejected",),
}


@pytest.mark.parametrize("frm", CR_STATUSES)
@pytest.mark.parametrize("to", CR_STATUSES)
def test_every_step_one_at_a_time(frm, to):
    s = cr_story(*PATH_TO[frm], to)
    if (frm, to) in LEGAL:
        s.check()
        return
    e = s.refused()
    assert (e.index, e.field) == (len(PATH_TO[frm]), "status")
    nexts = cr_next_steps(frm)
    if nexts:
        assert f"is {frm}: next is {' or '.join(nexts)}" in e.message
    else:
        assert f"is {frm} (final)" in e.message


# --- §7: which target an escalation names ---------------------------------------------------


def esc_story() -> Story:
    # P1 on 24x7: workaround 24 h, resolution 48 h from the acknowledgement.
    return Story("P1", None).on(0, "acknowledged")


def judge(s: Story, minutes: int, **data):
    at = s.case.reported_at + minutes * M
    prior = [e for e in s.history() if e.at <= at]
    return judge_escalation(s.case, prior, ENT, at, data)


def test_an_escalation_names_a_target_really_missed():
    s = esc_story()
    assert judge(s, 24 * 60 + 1, missed="workaround") == ("workaround", None)
    assert judge(s, 24 * 60, missed="workaround") == (
        "workaround",
        None,
    )  # reached: a sweep's stamp
    missed, problem = judge(s, 24 * 60 - 1, missed="workaround")
    assert problem == (
        "missed",
        "escalated: case C-1 had not missed its workaround target at "
        "2026-02-03T09:59:00Z; before a target is missed only a lead "
        "escalates, with a reason (manual)",
    )
    missed, problem = judge(s, 30 * 60, missed="resolution")
    assert problem is not None
    assert "(it missed workaround)" in problem[1]


def test_an_escalation_naming_nothing_takes_the_first_target_missed_else_manual():
    s = esc_story()
    assert judge(s, 50 * 60) == ("workaround", None)
    assert judge(s, 60) == ("manual", None)


def test_manual_is_only_before_any_target_is_missed():
    s = esc_story()
    assert judge(s, 60, missed="manual", reason="CEO asked") == ("manual", None)
    _, problem = judge(s, 25 * 60, missed="manual", reason="r")
    assert problem == (
        "missed",
        "escalated: case C-1 missed its workaround target at "
        "2026-02-03T10:00:00Z: the escalation names it (missed "
        "workaround), it is not manual",
    )
    assert judge(s, 60, missed="whenever")[1] == (
        "missed",
        "missed is workaround, resolution or manual, got 'whenever'",
    )


def test_a_workaround_provided_in_time_was_not_missed():
    s = esc_story().on(60, "workaround_provided")
    assert missed_targets(s.case, s.history(), ENT, s.case.reported_at + 30 * 60 * M) == []
    s2 = esc_story().on(24 * 60, "workaround_provided")  # exactly at the target: not missed
    at = s2.case.reported_at + 24 * 60 * M
    assert missed_targets(s2.case, s2.history(), ENT, at) == []


def test_a_manual_escalation_needs_a_reason_in_the_history():
    e = esc_story().on(5, "escalated", missed="manual").refused()
    assert (e.field, e.message) == (
        "reason",
        "a manual escalation (no target missed) needs a reason (--reason)",
    )
    esc_story().on(5, "escalated", missed="manual", reason="regulator deadline").check()
    e = esc_story().on(5, "escalated", missed="later").refused()
    assert e.field == "missed"


INCIDENT_SETUPS = [s for s in SETUPS if s[2] == "incident"]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(histories(setups=INCIDENT_SETUPS), st.integers(2 * 24 * 60, 14 * 24 * 60))
def test_a_sweeps_escalation_is_always_accepted(h, after):
    """What ``console.escalation.scan`` would record (the first breached target, stamped at
    the instant it was missed, not before a reclassification made it an incident) passes
    ``judge_escalation`` with the events before that stamp."""
    case, events, t = h
    at = case.reported_at + 60 * after
    ev = evaluate(case, events, t, at)
    assume(ev.type == "incident")
    missed = sorted((w, c) for c, w in ev.missed_at.items() if c in ESCALATING_CLOCKS)
    assume(missed)
    stamp, clock = missed[0]
    stamp = max([stamp, *[e.at for e in events if e.kind == "reclassified" and e.at <= at]])
    prior = [e for e in events if e.at <= stamp]
    assert judge_escalation(case, prior, t, stamp, {"missed": clock}) == (clock, None)


# --- §7: the war team's membership --------------------------------------------------------


def team_of(*steps: tuple) -> WarTeam:
    evs = [Event(0, "escalated", "cron", {"missed": "workaround"}, 0)]
    for i, (minutes, kind, data) in enumerate(steps, start=1):
        evs.append(Event(minutes * M, kind, "eng", data, i))
    cal = ENT.coverage_calendar
    return war_team(sort_events(evs), cal, 4 * H)


def join(minutes: int, name: str, role: str) -> tuple:
    return (minutes, "war_team_member", {"name": name, "role": role})


def leave(minutes: int, name: str, role: str | None = None) -> tuple:
    data = {"name": name, "action": "leave"}
    if role:
        data["role"] = role
    return (minutes, "war_team_member", data)


FORMED = (join(1, "Bo", "engineer"), join(2, "Ida", "executive"), join(3, "Rosa", "subscriber_rep"))


def test_a_team_still_forming_is_not_flagged():
    team = team_of(join(1, "Bo", "engineer"))
    assert team.missing_roles() == ["executive", "subscriber_rep"]
    assert not team.incomplete


def test_a_formed_team_that_loses_a_role_is_incomplete_until_it_is_filled():
    team = team_of(*FORMED, leave(10, "Ida"))
    assert team.incomplete
    assert team.missing_roles() == ["executive"]
    assert team.incomplete_since == 10 * M
    # the role history keeps both the join and the leave, with their times
    ida = [m for m in team.members if m.name == "Ida"]
    assert [(m.role, m.joined_at, m.left_at) for m in ida] == [("executive", 2 * M, 10 * M)]
    team = team_of(*FORMED, leave(10, "Ida"), join(20, "Max", "executive"))
    assert not team.incomplete
    assert team.incomplete_since is None


def test_a_team_past_escalated_lacking_a_role_is_incomplete_even_if_never_formed():
    team = team_of(
        *FORMED, (5, "board_moved", {"column": "team_formed"}), leave(10, "Bo"), leave(11, "Rosa")
    )
    assert team.incomplete
    assert team.missing_roles() == ["engineer", "subscriber_rep"]
    # a resolved incident's team is not flagged
    team = team_of(*FORMED, leave(10, "Bo"), (20, "resolved", {}))
    assert not team.incomplete


def test_leaving_names_the_role_when_given():
    team = team_of(join(1, "Ana", "engineer"), join(2, "Ana", "executive"))
    assert [(m.role, m.left_at) for m in team.members] == [("engineer", 2 * M), ("executive", None)]
    from console.rules.warteam import apply

    gone = {"name": "Ana", "role": "engineer", "action": "leave"}
    assert apply(team, Event(3 * M, "war_team_member", "eng", gone)) == (
        "Ana is not on the war team as engineer"
    )
    zed = {"name": "Zed", "action": "leave"}
    assert apply(team, Event(3 * M, "war_team_member", "eng", zed)) == "Zed is not on the war team"


def test_an_incomplete_team_cannot_move_on_but_may_move_back():
    team = team_of(*FORMED, (5, "board_moved", {"column": "team_formed"}), leave(10, "Bo"))
    assert move_problem(team, "plan_agreed") == (
        "the war team is incomplete (missing: engineer): it cannot move on to plan_agreed"
    )
    assert move_problem(team, "escalated") is None


def test_war_team_member_action_and_role_are_checked():
    s = esc_story().on(1, "escalated", missed="manual", reason="r")
    s.on(2, "war_team_member", name="Bo", role="engineer", action="quit")
    e = s.refused()
    assert (e.field, e.message) == ("action", "action is join or leave, got 'quit'")
    s = esc_story().on(1, "escalated", missed="manual", reason="r")
    s.on(2, "war_team_member", name="Bo", role="boss", action="leave")
    assert s.refused().field == "role"


# --- §8: the meter's exact thresholds -------------------------------------------------------


def meter_terms(limit: float | None = None) -> Terms:
    return Terms(
        POLICY,
        SubscriptionFacts(
            id="acme",
            plan="enterprise",
            term_start=date(2026, 1, 1),
            term_end=date(2026, 12, 31),
            query_hour_limit=limit,
        ),
    )


def used(*hours: float):
    entries = [
        Entry(utc("2026-03-01T12:00:00Z") + i, h, False, "query") for i, h in enumerate(hours)
    ]
    return meter(meter_terms(), entries, utc("2026-06-01T00:00:00Z"), POLICY.meter_warn_percent)


@pytest.mark.parametrize(
    ("hours", "state", "percent"),
    [
        ((39.99,), "ok", 79.9),  # 79.98 %: no warning, and not shown as 80.0
        ((40.0,), "warning", 80.0),  # exactly 80 %
        ((20.0, 20.0), "warning", 80.0),
        ((0.1,) * 400, "warning", 80.0),  # 400 x 0.1 h is 40 h exactly, not 39.99999...
        ((0.1,) * 399, "ok", 79.8),
        ((50.0,), "warning", 100.0),  # at the limit: not over
        ((50.01,), "over", 100.1),  # over means > 100 %, and shows above 100.0
        ((49.99, 0.02), "over", 100.1),
    ],
)
def test_meter_thresholds_are_exact(hours, state, percent):
    m = used(*hours)
    assert (m.state, m.percent) == (state, percent)


def test_meter_state_function():
    from fractions import Fraction

    assert meter_state(Fraction(3999, 100), Fraction(50), 80) == "ok"
    assert meter_state(Fraction(40), Fraction(50), 80) == "warning"
    assert meter_state(Fraction(50), Fraction(50), 80) == "warning"
    assert meter_state(Fraction(5001, 100), Fraction(50), 80) == "over"
    assert meter_state(Fraction(0), Fraction(0), 80) == "ok"
    assert meter_state(Fraction(1, 10), Fraction(0), 80) == "over"
    assert shown_percent(Fraction(0), Fraction(0)) == 0.0


# --- §6: custom_extension is a case's matter ----------------------------------------------


def test_custom_extension_is_not_a_subscriber_reason():
    assert "custom_extension" in POLICY.suspension_reasons
    assert POLICY.case_only_suspension_reasons == ("custom_extension",)
    assert "custom_extension" not in POLICY.subscriber_suspension_reasons
    assert set(POLICY.subscriber_suspension_reasons) == set(POLICY.suspension_reasons) - {
        "custom_extension"
    }


def test_a_target_reached_the_instant_the_case_is_resolved_is_missed_on_reopening():
    """Found by the property above: a P0 resolved exactly when its workaround clock reached
    its 4 hours (met: a breach is elapsed > target) and reopened a minute later is missed
    when counting resumes, not at the resolve; the sweep's stamp is then accepted."""
    reported = parse_instant("2026-03-02T05:00:00Z")
    case = CaseFacts("C-1", "s", "incident", "P0", reported, component="kafka")
    events = [
        Event(at=reported, kind="acknowledged", by="eng", seq=0),
        Event(at=reported + 4 * 3600, kind="resolved", by="eng", seq=1),
        Event(at=reported + 4 * 3600 + 60, kind="reopened", by="eng", seq=2),
    ]
    at_resolve = evaluate(case, events[:2], ENT, reported + 4 * 3600)
    assert at_resolve.clocks["workaround"].elapsed == 4 * 3600
    assert not at_resolve.clocks["workaround"].breached
    assert "workaround" not in at_resolve.missed_at
    later = evaluate(case, events, ENT, reported + 2 * 86400)
    assert later.clocks["workaround"].breached
    stamp = later.missed_at["workaround"]
    assert stamp == reported + 4 * 3600 + 60  # the reopen: counting resumes
    prior = [e for e in events if e.at <= stamp]
    assert judge_escalation(case, prior, ENT, stamp, {"missed": "workaround"}) == (
        "workaround",
        None,
    )
