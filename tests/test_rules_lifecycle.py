"""Which events a case's history allows (lifecycle.check_history)."""

from __future__ import annotations

import pytest

from console.rules.clocks import CaseFacts, Event, sort_events
from console.rules.eligibility import DeploymentFacts, check_classification
from console.rules.lifecycle import EVENT_KINDS, IllegalEvent, check_history
from console.rules.policy import default_policy
from console.rules.timeutil import parse_instant

POLICY = default_policy()
REPORTED = parse_instant("2026-02-02T14:00:00Z")
UNMANAGED = DeploymentFacts("acme-prod", "acme", "production", managed=False)
MANAGED = DeploymentFacts("acme-mgd", "acme", "production", managed=True)


def case(ctype: str = "incident", prio: str | None = "P2", level: str = "L1") -> CaseFacts:
    return CaseFacts("C-1", "acme", ctype, prio, REPORTED, None, level)


def classify_for(deployment: DeploymentFacts | None, plan: str = "enterprise"):
    def check(ctype: str, prio: str | None) -> list[tuple[str, str]]:
        return check_classification(POLICY, POLICY.plan(plan), "acme", deployment, ctype, prio)

    return check


ALLOW_ALL = classify_for(MANAGED)


def history(*items: tuple) -> list[Event]:
    """``(minutes after reported, kind, data)`` in recorded order."""
    evs = []
    for i, item in enumerate(items):
        minutes, kind, *rest = item
        evs.append(Event(REPORTED + 60 * minutes, kind, "eng", rest[0] if rest else {}, i))
    return sort_events(evs)


def refused(evs: list[Event], c: CaseFacts | None = None, check=ALLOW_ALL) -> IllegalEvent:
    with pytest.raises(IllegalEvent) as info:
        check_history(c or case(), evs, POLICY, check)
    return info.value


def allowed(evs: list[Event], c: CaseFacts | None = None, check=ALLOW_ALL) -> None:
    check_history(c or case(), evs, POLICY, check)


def test_a_full_ordinary_history_is_allowed():
    allowed(
        history(
            (0, "acknowledged"),
            (5, "level_changed", {"level": "L2"}),
            (10, "status_update", {"note": "looking"}),
            (20, "awaiting_subscriber", {"note": "need logs"}),
            (30, "subscriber_responded"),
            (40, "time_logged", {"hours": 1.5}),
            (50, "workaround_provided"),
            (60, "fix_eta_agreed"),
            (70, "resolved"),
            (80, "reopened"),
            (90, "resolved"),
            (100, "closed"),
            (110, "reopened"),
            (120, "closed"),
        )
    )
    allowed([])


def test_event_before_reported_at_is_refused():
    e = refused(history((-1, "acknowledged")))
    assert (e.index, e.field) == (0, "at")
    assert "before the case was reported" in e.message
    allowed(history((0, "acknowledged")))  # exactly at reported_at is fine


def test_closed_case_takes_only_reopened():
    for kind, data in [
        ("acknowledged", {}),
        ("status_update", {"note": "x"}),
        ("awaiting_subscriber", {}),
        ("resolved", {}),
        ("closed", {}),
        ("level_changed", {"level": "L2"}),
        ("time_logged", {"hours": 1}),
        ("reclassified", {"priority": "P1", "reason": "r"}),
        ("suspended", {"reason": "abuse"}),
    ]:
        e = refused(history((0, "closed"), (1, kind, data)))
        assert (e.index, e.field) == (1, "kind"), kind
        assert "closed" in e.message
    allowed(history((0, "closed"), (1, "reopened"), (2, "acknowledged")))


def test_reopened_needs_a_resolved_or_closed_case():
    e = refused(history((0, "reopened")))
    assert e.field == "kind"
    assert "open" in e.message
    allowed(history((0, "resolved"), (1, "reopened")))


def test_subscriber_responded_only_when_awaiting():
    e = refused(history((0, "acknowledged"), (1, "subscriber_responded")))
    assert (e.index, e.field) == (1, "kind")
    assert "not awaiting" in e.message
    e = refused(
        history(
            (0, "awaiting_subscriber"), (1, "subscriber_responded"), (2, "subscriber_responded")
        )
    )
    assert e.index == 2
    # resolved ends awaiting too
    e = refused(
        history(
            (0, "awaiting_subscriber"),
            (1, "resolved"),
            (2, "reopened"),
            (3, "subscriber_responded"),
        )
    )
    assert e.index == 3


def test_double_awaiting_is_refused():
    e = refused(history((0, "awaiting_subscriber"), (1, "awaiting_subscriber")))
    assert e.index == 1
    assert "already awaiting" in e.message


def test_double_acknowledge_is_refused():
    e = refused(history((0, "acknowledged"), (1, "acknowledged")))
    assert (e.index, e.field) == (1, "kind")
    assert "already acknowledged" in e.message
    # Not even across a reopen.
    e = refused(history((0, "acknowledged"), (1, "resolved"), (2, "reopened"), (3, "acknowledged")))
    assert e.index == 3


@pytest.mark.parametrize("kind", ["workaround_provided", "fix_eta_agreed"])
def test_workaround_and_fix_eta_need_acknowledged_and_come_once(kind):
    e = refused(history((0, kind)))
    assert e.field == "kind"
    assert "not acknowledged" in e.message
    e = refused(history((0, "acknowledged"), (1, kind), (2, kind)))
    assert e.index == 2
    assert "already" in e.message
    e = refused(history((0, "acknowledged"), (1, "resolved"), (2, kind)))
    assert e.index == 2
    assert "resolved" in e.message


def test_double_resolve_is_refused():
    e = refused(history((0, "resolved"), (1, "resolved")))
    assert e.index == 1
    assert "already resolved" in e.message


def test_reclassified_needs_a_reason():
    for data in (
        {"priority": "P1"},
        {"priority": "P1", "reason": "   "},
        {"priority": "P1", "reason": None},
    ):
        e = refused(history((0, "reclassified", data)))
        assert (e.index, e.field) == (0, "reason")
    allowed(history((0, "reclassified", {"priority": "P1", "reason": "all users down"})))


def test_reclassified_to_the_same_classification_is_refused():
    e = refused(history((0, "reclassified", {"priority": "P2", "reason": "r"})))
    assert e.field == "priority"
    e = refused(history((0, "reclassified", {"type": "incident", "reason": "r"})))
    assert e.field == "priority"


def test_reclassified_on_a_resolved_case_is_refused():
    e = refused(history((0, "resolved"), (1, "reclassified", {"priority": "P1", "reason": "r"})))
    assert e.index == 1
    assert "resolved" in e.message


def test_reclassify_to_p0_on_unmanaged_deployment_is_refused():
    e = refused(
        history((0, "reclassified", {"priority": "P0", "reason": "outage"})),
        check=classify_for(UNMANAGED),
    )
    assert (e.index, e.field) == (0, "priority")
    assert "managed" in e.message
    allowed(
        history((0, "reclassified", {"priority": "P0", "reason": "outage"})),
        check=classify_for(MANAGED),
    )
    # Nor on the basic plan, even on a managed deployment.
    e = refused(
        history((0, "reclassified", {"priority": "P0", "reason": "outage"})),
        check=classify_for(MANAGED, "basic"),
    )
    assert "basic" in e.message


def test_reclassify_type_changes():
    # Incident -> query drops the priority; a priority on a non-incident is refused.
    allowed(history((0, "reclassified", {"type": "query", "reason": "how-to"})))
    e = refused(history((0, "reclassified", {"type": "query", "priority": "P2", "reason": "r"})))
    assert e.field == "priority"
    e = refused(history((0, "reclassified", {"type": "ticket", "reason": "r"})))
    assert e.field == "type"
    # Query -> incident needs a priority (eligibility says so).
    e = refused(
        history((0, "reclassified", {"type": "incident", "reason": "outage"})),
        c=case("query", None),
    )
    assert e.field == "priority"
    allowed(
        history((0, "reclassified", {"type": "incident", "priority": "P1", "reason": "outage"})),
        c=case("query", None),
    )
    # A service request needs a managed deployment.
    e = refused(
        history((0, "reclassified", {"type": "service_request", "reason": "r"})),
        check=classify_for(UNMANAGED),
    )
    assert e.field == "deployment"


def test_time_logged_exempt_needs_a_note():
    e = refused(history((0, "time_logged", {"hours": 2, "exempt": True})))
    assert (e.index, e.field) == (0, "note")
    e = refused(history((0, "time_logged", {"hours": 2, "exempt": True, "note": "  "})))
    assert e.field == "note"
    allowed(history((0, "time_logged", {"hours": 2, "exempt": True, "note": "connector fix"})))
    allowed(history((0, "time_logged", {"hours": 0.25})))


@pytest.mark.parametrize("hours", [0, -1, 169, "2", True, None])
def test_time_logged_hours_must_be_a_sensible_number(hours):
    e = refused(history((0, "time_logged", {"hours": hours})))
    assert e.field == "hours"


def test_time_logged_exempt_must_be_a_boolean():
    e = refused(history((0, "time_logged", {"hours": 1, "exempt": "yes"})))
    assert e.field == "exempt"


def test_level_changed_to_the_same_level_is_refused():
    e = refused(history((0, "level_changed", {"level": "L1"})))
    assert (e.index, e.field) == (0, "level")
    assert "already at L1" in e.message
    e = refused(
        history((0, "level_changed", {"level": "L3"}), (1, "level_changed", {"level": "L3"}))
    )
    assert e.index == 1
    e = refused(history((0, "level_changed", {"level": "L9"})))
    assert e.field == "level"
    allowed(
        history(
            (0, "level_changed", {"level": "L4", "link": "https://kb.example/KB-1042"}),
            (1, "level_changed", {"level": "L2"}),
        )
    )
    e = refused(history((0, "level_changed", {"level": "L2"})), c=case(level="L2"))
    assert e.field == "level"


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("war_team_member", {"name": "Ana", "role": "engineer"}),
        ("plan_updated", {"part": "assessment", "text": "db"}),
        ("board_moved", {"column": "team_formed"}),
    ],
)
def test_war_team_events_before_escalated_are_refused(kind, data):
    e = refused(history((0, "acknowledged"), (1, kind, data)))
    assert (e.index, e.field) == (1, "kind")
    assert "not escalated" in e.message
    allowed(
        history(
            (0, "acknowledged"),
            (1, "escalated"),
            (2, "war_team_member", {"name": "Ana", "role": "engineer"}),
        )
    )


def test_escalation_once_and_only_for_incidents():
    e = refused(history((0, "escalated"), (1, "escalated")))
    assert e.index == 1
    assert "already escalated" in e.message
    e = refused(history((0, "escalated")), c=case("query", None))
    assert "only incidents" in e.message


def test_suspension_reasons():
    for reason in POLICY.suspension_reasons:
        allowed(
            history((0, "suspended", {"reason": reason}), (1, "unsuspended", {"reason": reason}))
        )
    for bad in ("holiday", None, ""):
        e = refused(history((0, "suspended", {"reason": bad})))
        assert (e.index, e.field) == (0, "reason")


def test_suspension_state_is_checked():
    e = refused(history((0, "unsuspended", {"reason": "abuse"})))
    assert e.field == "kind"
    assert "not suspended" in e.message
    e = refused(
        history((0, "suspended", {"reason": "abuse"}), (1, "suspended", {"reason": "abuse"}))
    )
    assert e.index == 1
    assert "already suspended" in e.message


def test_unknown_kind_is_refused():
    e = refused(history((0, "teleported")))
    assert e.field == "kind"
    assert "acknowledged" in EVENT_KINDS
    assert "board_moved" in EVENT_KINDS


def test_status_update_note_is_text():
    e = refused(history((0, "status_update", {"note": 42})))
    assert e.field == "note"


def test_back_dated_event_is_checked_in_its_place():
    # An acknowledged recorded last but stamped before a workaround: in time order it is fine.
    evs = history((10, "workaround_provided"), (5, "acknowledged"))
    allowed(evs)
    # A subscriber_responded back-dated before the awaiting it answers is refused.
    evs = history((10, "awaiting_subscriber"), (5, "subscriber_responded"))
    assert refused(evs).index == 0
