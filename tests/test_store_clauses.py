"""The policy's loose clauses (issue 18) through the engine's store functions, on SQLite and
on a throwaway PostgreSQL (``db_url``): what is written, what a refusal leaves untouched,
and that the stored projection (the queue's fast path) agrees with a full evaluation."""

from __future__ import annotations

import json

import pytest
from cli_support import make_lead
from sqlalchemy import func, select

from console import clock
from console.actions import Refused, append_event
from console.changes import change_deployment
from console.deployments import load
from console.exporter import export
from console.importer import existing_ids, validate, write
from console.links import create_change_request
from console.meters import load_meters
from console.output import case_json
from console.queue import evaluate_case, load_queue
from console.rules.policy import default_policy
from console.rules.timeutil import parse_instant
from console.store.engine import open_store
from console.suspensions import suspend
from models import CaseEvent, Escalation, SubscriberSuspension

T = parse_instant
POLICY = default_policy()
DOC = {
    "subscribers": [
        {
            "id": "acme",
            "name": "Acme",
            "plan": "enterprise",
            "coverage": "24x7",
            "term_start": "2026-01-01",
            "term_end": "2026-12-31",
        }
    ],
    "deployments": [
        {
            "id": "mgd",
            "subscriber": "acme",
            "environment": "production",
            "managed": True,
            "product": "gateway",
            "version": "4.2.0",
            "components": ["postgres", "kafka"],
        },
        {
            "id": "self",
            "subscriber": "acme",
            "environment": "production",
            "managed": False,
            "product": "gateway",
            "version": "4.2.0",
        },
    ],
    "cases": [
        {
            "id": "P0C",
            "subscriber": "acme",
            "deployment": "mgd",
            "type": "incident",
            "priority": "P0",
            "component": "kafka",
            "criterion": "component_unavailable",
            "title": "Kafka down",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [{"at": "2026-03-02T10:00:00Z", "kind": "acknowledged", "by": "eng"}],
        },
        {
            "id": "P1",
            "subscriber": "acme",
            "deployment": "self",
            "type": "incident",
            "priority": "P1",
            "title": "Slow",
            "reported_at": "2026-03-02T10:00:00Z",
            "events": [{"at": "2026-03-02T10:00:00Z", "kind": "acknowledged", "by": "eng"}],
        },
        {
            "id": "Q",
            "subscriber": "acme",
            "type": "query",
            "title": "How?",
            "reported_at": "2026-03-02T10:00:00Z",
        },
    ],
}


@pytest.fixture
def store(db_url: str):
    clock.freeze("2026-03-02T10:30:00Z")
    st = open_store(db_url)
    with st.connection() as conn:
        prep = validate(
            json.loads(json.dumps(DOC)), POLICY, existing_ids(conn, POLICY), clock.now()
        )
    with st.write() as s:
        write(s, prep, clock.now())
    make_lead(st, "lena", clock.now())
    yield st
    st.dispose()
    clock.freeze(None)


def count(store, table) -> int:
    with store.connection() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__)).scalar_one()


def record(store, case_id: str, kind: str, at: str, actor: str = "eng", **data):
    clock.freeze(at)
    return append_event(
        store, case_id, kind, at=T(at), by=actor, data=data, recorded_at=clock.now(), actor=actor
    )


def set_components(store, dep: str, names: list[str], *, actor: str):
    """A dated change of the deployment's components (policy §5, §14), from now."""
    now = clock.now()
    change_deployment(
        store,
        dep,
        {"components": names},
        effective_at=now,
        reason="components",
        actor=actor,
        recorded_at=now,
    )
    from console.records import load_deployment

    with store.connection() as conn:
        return load_deployment(conn, dep, now)


def test_components_are_stored_set_by_a_lead_and_exported(store):
    with store.connection() as conn:
        assert load(conn, "mgd").components == ("postgres", "kafka")
    with pytest.raises(Refused, match="changing a deployment needs the lead role"):
        set_components(store, "mgd", ["redis"], actor="eng")
    with pytest.raises(Refused, match="only a managed deployment carries"):
        set_components(store, "self", ["redis"], actor="lena")
    assert set_components(
        store, "mgd", ["postgres", "kafka", "redis"], actor="lena"
    ).components == ("postgres", "kafka", "redis")
    with store.connection() as conn:
        doc = export(conn)
    # The deployment keeps the list first recorded; the new one is a dated change.
    mgd = next(d for d in doc["deployments"] if d["id"] == "mgd")
    assert mgd["components"] == ["postgres", "kafka"]
    assert [c["facts"] for c in mgd["changes"]] == [{"components": ["postgres", "kafka", "redis"]}]
    assert {c["id"]: c["component"] for c in doc["cases"]} == {
        "P0C": "kafka",
        "P1": None,
        "Q": None,
    }


def test_the_vendor_pause_is_stored_and_the_queue_agrees(store):
    record(store, "P0C", "awaiting_vendor", "2026-03-02T11:00:00Z", note="vendor ticket")
    at = T("2026-03-02T15:00:00Z")
    with store.connection() as conn:
        (row,) = [r for r in load_queue(conn, POLICY, at) if r.id == "P0C"]
        case_row, ev, _ = evaluate_case(conn, POLICY, "P0C", at)
    assert row.eval.clocks == ev.clocks
    assert row.eval.awaiting_vendor
    assert ev.awaiting_vendor
    out = case_json("P0C", "acme", "Kafka down", row.eval)
    res = out["clocks"]["resolution"]
    assert (res["state"], res["paused_for"], res["elapsed"]) == ("paused", "vendor", 3600)
    assert out["clocks"]["workaround"]["elapsed"] == 5 * 3600
    record(store, "P0C", "vendor_responded", "2026-03-02T16:00:00Z")
    with store.connection() as conn:
        (row,) = [r for r in load_queue(conn, POLICY, T("2026-03-02T17:00:00Z")) if r.id == "P0C"]
    assert (row.eval.clocks["resolution"].state, row.eval.clocks["resolution"].elapsed) == (
        "running",
        2 * 3600,
    )


def test_refusals_write_nothing(store):
    events = count(store, CaseEvent)
    with pytest.raises(Refused, match="only a P0 incident on a managed third-party component"):
        record(store, "P1", "awaiting_vendor", "2026-03-02T11:00:00Z")
    with pytest.raises(
        Refused, match="escalating an incident before a target is missed needs the lead role"
    ):
        record(store, "P1", "escalated", "2026-03-02T11:00:00Z", reason="key account")
    with pytest.raises(Refused, match="had not missed its workaround target"):
        record(store, "P1", "escalated", "2026-03-02T11:00:00Z", actor="lena", missed="workaround")
    with pytest.raises(Refused, match="unknown guideline criterion 'bogus_key'"):
        record(
            store,
            "P1",
            "reclassified",
            "2026-03-02T11:00:00Z",
            priority="P2",
            criterion="bogus_key",
            reason="r",
        )
    with pytest.raises(Refused, match="lists no managed third-party component 'redis'"):
        record(
            store,
            "P0C",
            "reclassified",
            "2026-03-02T11:00:00Z",
            priority="P0",
            component="redis",
            reason="r",
        )
    with pytest.raises(Refused, match="a change request needs a managed deployment"):
        create_change_request(
            store,
            sr_id=None,
            title="t",
            at=T("2026-03-02T11:00:00Z"),
            by="eng",
            recorded_at=clock.now(),
            subscriber="acme",
            deployment="self",
        )
    with pytest.raises(Refused, match="custom_extension suspends one case"):
        suspend(
            store,
            "acme",
            reason="custom_extension",
            from_at=T("2026-03-02T11:00:00Z"),
            until_at=None,
            actor="lena",
            recorded_at=clock.now(),
        )
    assert count(store, CaseEvent) == events
    assert count(store, Escalation) == 0
    assert count(store, SubscriberSuspension) == 0


def test_manual_escalation_by_a_lead_is_recorded_once(store):
    res = record(
        store, "P1", "escalated", "2026-03-02T11:00:00Z", actor="lena", reason="key account at risk"
    )
    with store.connection() as conn:
        row = conn.execute(select(Escalation.__table__)).one()
        stored = conn.execute(
            select(CaseEvent.__table__.c.data).where(CaseEvent.__table__.c.id == res.event_id)
        ).scalar_one()
    assert (row.case_id, row.missed, row.by) == ("P1", "manual", "lena")
    assert stored == {"missed": "manual", "reason": "key account at risk"}


def test_change_request_steps_one_at_a_time(store):
    clock.freeze("2026-03-02T11:00:00Z")
    cid = create_change_request(
        store,
        sr_id=None,
        title="Patch",
        at=T("2026-03-02T11:00:00Z"),
        by="eng",
        recorded_at=clock.now(),
        subscriber="acme",
        deployment="mgd",
    )
    with pytest.raises(Refused, match="is proposed: next is approved or rejected"):
        record(store, cid, "cr_status", "2026-03-02T11:10:00Z", status="scheduled")
    for i, status in enumerate(("approved", "scheduled", "implemented", "closed")):
        record(store, cid, "cr_status", f"2026-03-02T11:2{i}:00Z", status=status)
    with pytest.raises(Refused, match="is closed \\(final\\)"):
        record(store, cid, "cr_status", "2026-03-02T11:30:00Z", status="rejected")


@pytest.mark.parametrize(("hours", "state"), [(39.99, "ok"), (40.0, "warning")])
def test_meter_state_from_the_store(store, hours, state):
    record(store, "Q", "time_logged", "2026-03-02T11:00:00Z", hours=hours, exempt=False)
    with store.connection() as conn:
        (m,) = load_meters(conn, POLICY, T("2026-03-02T12:00:00Z"))
    assert (m.used_hours, m.state) == (hours, state)
