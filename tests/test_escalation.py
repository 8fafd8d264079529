"""Escalation (policy §7): exactly once, the board's rules, the update cadence."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest
from examples_data import E01
from sqlalchemy import func, select

from console.actions import Refused, append_event
from console.escalation import load_board
from console.importer import existing_ids, validate, write
from console.rules.policy import default_policy
from console.rules.timeutil import format_instant, parse_instant
from console.store.engine import open_store
from console.sweep import sweep
from models import CaseEvent, Escalation

T = parse_instant


def _doc(n_cases: int = 6) -> dict:
    doc = json.loads(E01.read_text("utf-8"))
    doc.pop("at")
    doc.pop("expected")
    doc["cases"] = []
    for i in range(n_cases):
        # Acknowledged Mon 2026-02-02 14:00Z (09:00 New York): the P1 workaround's 24
        # covered hours run out Wed 17:00 local (22:00Z); it breaches when Thursday opens.
        doc["cases"].append(
            {
                "id": f"INC-{i}",
                "subscriber": "alder-finance",
                "deployment": "alder-prod-gw",
                "type": "incident",
                "priority": "P1",
                "title": f"Outage {i}",
                "reported_at": "2026-02-02T14:00:00Z",
                "level": "L1",
                "events": [{"at": "2026-02-02T14:00:00Z", "kind": "acknowledged", "by": "eng"}],
            }
        )
    doc["cases"].append(
        {
            "id": "Q-1",
            "subscriber": "alder-finance",
            "deployment": None,
            "type": "query",
            "priority": None,
            "title": "q",
            "reported_at": "2026-02-02T14:00:00Z",
            "level": "L1",
        }
    )
    return doc


def _load(url: str, doc: dict) -> None:
    policy = default_policy()
    with open_store(url) as store:
        with store.connection() as conn:
            prep = validate(doc, policy, existing_ids(conn, policy), T("2026-11-01T00:00:00Z"))
        with store.write() as s:
            write(s, prep, T("2026-11-01T00:00:00Z"))


def test_sweep_escalates_at_the_instant_missed_and_only_once(sqlite_url: str):
    _load(sqlite_url, _doc(2))
    default_policy()
    with open_store(sqlite_url) as store:
        assert sweep(store, T("2026-02-05T13:59:00Z"), recorded_at=T("2026-02-05T13:59:00Z")) == []
        made = sweep(store, T("2026-02-06T20:00:00Z"), recorded_at=T("2026-02-06T20:00:00Z"))
        assert [(e.case_id, e.missed, format_instant(e.escalated_at)) for e in made] == [
            ("INC-0", "workaround", "2026-02-04T22:00:00Z"),
            ("INC-1", "workaround", "2026-02-04T22:00:00Z"),
        ]
        assert sweep(store, T("2026-02-09T20:00:00Z"), recorded_at=T("2026-02-09T20:00:00Z")) == []
        with store.connection() as conn:
            kinds = [
                r[0]
                for r in conn.execute(
                    select(CaseEvent.__table__.c.kind).where(
                        CaseEvent.__table__.c.case_id == "INC-0"
                    )
                )
            ]
        assert kinds.count("escalated") == 1


def test_suspended_and_stopped_in_time_are_not_escalated(sqlite_url: str):
    _load(sqlite_url, _doc(2))
    default_policy()
    with open_store(sqlite_url) as store:
        append_event(
            store,
            "INC-0",
            "suspended",
            at=T("2026-02-03T14:00:00Z"),
            by="lead",
            data={"reason": "custom_extension"},
            recorded_at=T("2026-02-03T14:00:00Z"),
        )
        append_event(
            store,
            "INC-1",
            "workaround_provided",
            at=T("2026-02-05T13:00:00Z"),
            by="eng",
            recorded_at=T("2026-02-05T13:00:00Z"),
        )
        append_event(
            store,
            "INC-1",
            "fix_eta_agreed",
            at=T("2026-02-05T13:30:00Z"),
            by="eng",
            recorded_at=T("2026-02-05T13:30:00Z"),
        )
        assert sweep(store, T("2026-02-20T20:00:00Z"), recorded_at=T("2026-02-20T20:00:00Z")) == []


def _sweep_worker(url: str, out: mp.Queue) -> None:
    try:
        with open_store(url) as store:
            made = sweep(store, T("2026-02-09T20:00:00Z"), recorded_at=T("2026-02-09T20:00:00Z"))
        out.put(("ok", [e.case_id for e in made]))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out.put(("error", repr(exc)))


@pytest.mark.slow
def test_eight_processes_sweeping_at_once_escalate_each_case_once(db_url: str):
    _load(db_url, _doc(6))
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_sweep_worker, args=(db_url, out)) for _ in range(8)]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(status == "ok" for status, _ in results), results
    made = sorted(cid for _, ids in results for cid in ids)
    assert made == [f"INC-{i}" for i in range(6)]  # each case escalated by exactly one process
    with open_store(db_url) as store, store.connection() as conn:
        assert (
            conn.execute(select(func.count()).select_from(Escalation.__table__)).scalar_one() == 6
        )
        n = conn.execute(
            select(func.count())
            .select_from(CaseEvent.__table__)
            .where(CaseEvent.__table__.c.kind == "escalated")
        ).scalar_one()
        assert n == 6


@pytest.fixture
def escalated(sqlite_url: str) -> str:
    _load(sqlite_url, _doc(1))
    with open_store(sqlite_url) as store:
        sweep(store, T("2026-02-05T15:00:00Z"), recorded_at=T("2026-02-05T15:00:00Z"))
    return sqlite_url


def _ev(url: str, kind: str, at: str, **data) -> None:
    with open_store(url) as store:
        append_event(store, "INC-0", kind, at=T(at), by="lead", data=data, recorded_at=T(at))


def test_board_rules(escalated: str):
    url = escalated
    with pytest.raises(Refused, match="missing: engineer, executive, subscriber_rep"):
        _ev(url, "board_moved", "2026-02-05T15:01:00Z", column="team_formed")
    with pytest.raises(Refused, match="move one column at a time"):
        _ev(url, "board_moved", "2026-02-05T15:01:00Z", column="plan_agreed")
    with pytest.raises(Refused, match="when the incident is resolved"):
        _ev(url, "board_moved", "2026-02-05T15:01:00Z", column="resolved")
    _ev(url, "war_team_member", "2026-02-05T15:02:00Z", name="Bo Walsh", role="engineer")
    _ev(url, "war_team_member", "2026-02-05T15:02:00Z", name="Ida Okane", role="executive")
    _ev(url, "war_team_member", "2026-02-05T15:03:00Z", name="Rosa Klein", role="subscriber_rep")
    _ev(url, "board_moved", "2026-02-05T15:04:00Z", column="team_formed")
    with pytest.raises(
        Refused, match="plan_agreed needs the plan's assessment, mitigation, resources"
    ):
        _ev(url, "board_moved", "2026-02-05T15:05:00Z", column="plan_agreed")
    _ev(url, "plan_updated", "2026-02-05T15:06:00Z", part="assessment", text="DB failover loop")
    _ev(url, "plan_updated", "2026-02-05T15:06:00Z", part="mitigation", text="Pin primary")
    _ev(url, "plan_updated", "2026-02-05T15:07:00Z", part="resources", text="2 SREs")
    _ev(
        url,
        "plan_updated",
        "2026-02-05T15:08:00Z",
        part="assessment",
        text="DB failover loop, confirmed",
    )
    _ev(url, "board_moved", "2026-02-05T15:09:00Z", column="plan_agreed")
    _ev(url, "board_moved", "2026-02-05T15:10:00Z", column="mitigating")
    # A member changes role: the history keeps both.
    _ev(url, "war_team_member", "2026-02-05T15:11:00Z", name="Bo Walsh", role="executive")
    with open_store(url) as store, store.connection() as conn:
        (card,) = load_board(conn, default_policy(), T("2026-02-05T15:30:00Z"))
    assert card.column == "mitigating"
    assert card.team.plan_text("assessment") == "DB failover loop, confirmed"
    assert len(card.team.plan["assessment"]) == 2
    bo = [m for m in card.team.members if m.name == "Bo Walsh"]
    assert [(m.role, m.left_at is None) for m in bo] == [("engineer", False), ("executive", True)]
    _ev(url, "resolved", "2026-02-05T16:00:00Z")
    with open_store(url) as store, store.connection() as conn:
        (card,) = load_board(conn, default_policy(), T("2026-02-05T16:30:00Z"))
    assert card.column == "resolved"
    assert not card.update_overdue


def test_update_cadence_in_counted_time(escalated: str):
    """Escalated at Wed 17:00 New York (the missed instant, the end of the day's window):
    with the default 4 h, the next update is due Thu 13:00 local = 18:00Z; overdue
    strictly after that."""
    url = escalated
    with open_store(url) as store, store.connection() as conn:
        (card,) = load_board(conn, default_policy(), T("2026-02-05T18:00:00Z"))
        assert format_instant(card.next_update_due) == "2026-02-05T18:00:00Z"
        assert not card.update_overdue
        (card,) = load_board(conn, default_policy(), T("2026-02-05T18:00:01Z"))
        assert card.update_overdue
    _ev(url, "status_update", "2026-02-05T19:00:00Z", note="late")
    _ev(url, "plan_updated", "2026-02-05T19:05:00Z", part="update_frequency", text="2h")
    _ev(url, "status_update", "2026-02-05T20:30:00Z", note="on time")
    with open_store(url) as store, store.connection() as conn:
        (card,) = load_board(conn, default_policy(), T("2026-02-05T21:00:00Z"))
    assert [(u.note, u.late) for u in card.team.updates] == [("late", True), ("on time", False)]
    # 20:30Z is 15:30 local: 1.5 h left today, the rest from 09:00 next business day.
    assert format_instant(card.next_update_due) == "2026-02-06T14:30:00Z"


def test_export_import_keeps_escalations(escalated: str, tmp_path: Path):
    from console.exporter import export

    with open_store(escalated) as store, store.connection() as conn:
        doc = export(conn)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    _load(other, doc)
    with open_store(other) as store:
        with store.connection() as conn:
            (card,) = load_board(conn, default_policy(), T("2026-02-05T15:30:00Z"))
        assert card.missed == "workaround"
        assert sweep(store, T("2026-02-09T20:00:00Z"), recorded_at=T("2026-02-09T20:00:00Z")) == []


def test_watcher_sweeps_only_when_something_can_have_changed(sqlite_url: str):
    """Idle and far from any target: no sweep. A write, or the clock passing the earliest
    instant an escalation can fall due: a sweep."""
    from screens.escalation_watch import EscalationWatch

    _load(sqlite_url, _doc(1))
    default_policy()
    watch = EscalationWatch(bell=False)
    with open_store(sqlite_url) as store:
        watch.check(store, at=T("2026-02-03T15:00:00Z"))
        assert watch.sweeps == 1
        # INC-0's workaround reaches its target Wed 17:00 New York; it breaches one counted
        # second after Thursday 09:00.
        assert format_instant(watch.next_due) == "2026-02-05T14:00:01Z"
        for minutes in (1, 2, 4):  # idle: nothing written, nothing due (backstop: 5 min)
            watch.check(store, at=T("2026-02-03T15:00:00Z") + 60 * minutes)
        assert watch.sweeps == 1
        append_event(
            store,
            "INC-0",
            "status_update",
            at=T("2026-02-03T15:40:00Z"),
            by="e",
            data={"note": "x"},
            recorded_at=T("2026-02-03T15:40:00Z"),
        )
        watch.check(store, at=T("2026-02-03T15:41:00Z"))
        assert watch.sweeps == 2
        result = watch.check(store, at=T("2026-02-05T14:00:01Z"))  # past due
        assert watch.sweeps == 3
        assert [n.case_id for n in result.new] == ["INC-0"]
