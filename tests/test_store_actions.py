"""The write path on both backends: import, events, projections, concurrency."""

from __future__ import annotations

import json
import multiprocessing as mp

import pytest
from examples_data import E01
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from console.actions import Conflict, Refused, append_event, rebuild
from console.exporter import export
from console.importer import ImportRefused, existing_ids, validate, write
from console.queue import load_queue
from console.rules.policy import default_policy
from console.rules.timeutil import parse_instant
from console.store.engine import open_store
from models import CaseEvent, CaseState, TimeEntry

T0 = parse_instant("2026-02-03T15:00:00Z")
#: "Now" for these tests: after every event they record (an event may not lie in the future).
NOW = parse_instant("2026-02-04T12:00:00Z")


def _doc() -> dict:
    doc = json.loads(E01.read_text("utf-8"))
    doc.pop("at")
    doc.pop("expected")
    doc["cases"].append(
        {
            "id": "Q-1",
            "subscriber": "alder-finance",
            "deployment": None,
            "type": "query",
            "priority": None,
            "title": "How do I rotate keys?",
            "reported_at": "2026-02-03T15:00:00Z",
            "aware_at": None,
            "level": "L1",
            "links": [],
            "events": [{"at": "2026-02-03T15:10:00Z", "kind": "acknowledged", "by": "eng-a"}],
        }
    )
    return doc


def _load(url: str, doc: dict | None = None) -> None:
    policy = default_policy()
    with open_store(url) as store:
        with store.connection() as conn:
            ex = existing_ids(conn, policy)
        prep = validate(doc or _doc(), policy, ex, NOW)
        with store.write() as s:
            write(s, prep, NOW)


def test_import_and_events_on_both_backends(db_url: str):
    _load(db_url)
    policy = default_policy()
    with open_store(db_url) as store:
        res = append_event(
            store,
            "CS-1102",
            "acknowledged",
            at=parse_instant("2026-02-03T19:00:00Z"),
            by="eng-b",
            recorded_at=NOW,
        )
        assert res.version == 2
        with pytest.raises(Refused, match="already acknowledged"):
            append_event(
                store,
                "CS-1102",
                "acknowledged",
                at=parse_instant("2026-02-03T19:30:00Z"),
                by="eng-b",
                recorded_at=NOW,
            )
        append_event(
            store,
            "Q-1",
            "time_logged",
            at=parse_instant("2026-02-03T16:00:00Z"),
            by="eng-a",
            data={"hours": 1.5, "exempt": False},
            recorded_at=NOW,
        )
        with store.connection() as conn:
            rows = load_queue(conn, policy, parse_instant("2026-02-03T20:00:00Z"))
            assert [r.id for r in rows][:2] == ["CS-1101", "CS-1102"]
            assert rows[1].eval.clocks["response"].state == "stopped"
            assert (
                conn.execute(select(func.count()).select_from(TimeEntry.__table__)).scalar_one()
                == 1
            )
            doc = export(conn)
        assert [e["kind"] for e in next(c for c in doc["cases"] if c["id"] == "Q-1")["events"]] == [
            "acknowledged",
            "time_logged",
        ]


def test_import_is_all_or_nothing_on_both_backends(db_url: str):
    _load(db_url)
    bad = {
        "subscribers": [],
        "cases": [
            {
                "id": "Z-1",
                "subscriber": "alder-finance",
                "deployment": "alder-prod-gw",
                "type": "incident",
                "priority": "P0",
                "title": "x",
                "reported_at": "2026-02-03T15:00:00Z",
                "level": "L1",
            }
        ],
    }
    policy = default_policy()
    with open_store(db_url) as store:
        with store.connection() as conn, pytest.raises(ImportRefused) as info:
            validate(bad, policy, existing_ids(conn, policy), NOW)
        assert info.value.problems == [
            "cases[0].priority: P0 needs a managed deployment (alder-prod-gw is not managed)"
        ]


def test_a_failure_mid_write_leaves_nothing(db_url: str):
    """A transaction that fails after inserting rows leaves no trace (one per action)."""
    _load(db_url)
    policy = default_policy()
    doc = {
        "cases": [
            {
                "id": "N-1",
                "subscriber": "alder-finance",
                "deployment": "alder-prod-gw",
                "type": "incident",
                "priority": "P2",
                "title": "x",
                "reported_at": "2026-02-03T15:00:00Z",
                "level": "L1",
            }
        ]
    }
    with open_store(db_url) as store:
        with store.connection() as conn:
            prep = validate(doc, policy, existing_ids(conn, policy), NOW)
        prep.links.append(
            {"case_id": "N-1", "linked_case_id": "DOES-NOT-EXIST"}
        )  # FK violation last
        with pytest.raises(IntegrityError), store.write() as s:
            write(s, prep, NOW)
        with store.connection() as conn:
            assert "N-1" not in existing_ids(conn, policy).cases


def test_stale_version_is_refused(db_url: str):
    _load(db_url)
    default_policy()
    with open_store(db_url) as store:
        append_event(
            store,
            "CS-1102",
            "acknowledged",
            at=parse_instant("2026-02-03T19:00:00Z"),
            by="eng-b",
            recorded_at=NOW,
            expected_version=1,
        )
        with pytest.raises(Conflict, match="changed by eng-b"):
            append_event(
                store,
                "CS-1102",
                "status_update",
                at=parse_instant("2026-02-03T19:10:00Z"),
                by="eng-c",
                data={"note": "x"},
                recorded_at=NOW,
                expected_version=1,
            )


def _append_many(url: str, worker: int, n: int, out: mp.Queue) -> None:
    errors = []
    default_policy()
    try:
        with open_store(url) as store:
            for i in range(n):
                case = "Q-1" if i % 2 else "CS-1101"
                kind, data = (
                    ("time_logged", {"hours": 0.25, "exempt": False})
                    if case == "Q-1"
                    else ("status_update", {"note": f"w{worker} #{i}"})
                )
                try:
                    append_event(
                        store,
                        case,
                        kind,
                        at=T0 + 3600 * 6 + i,
                        by=f"w{worker}",
                        data=data,
                        recorded_at=NOW,
                    )
                except Exception as exc:  # noqa: BLE001 - every error is reported to the parent
                    errors.append(repr(exc))
    except Exception as exc:  # noqa: BLE001
        errors.append(repr(exc))
    out.put((worker, errors))


@pytest.mark.slow
def test_eight_processes_append_200_events_each_lose_nothing(db_url: str):
    _load(db_url)
    policy = default_policy()
    with open_store(db_url) as store, store.connection() as conn:
        before = conn.execute(select(func.count()).select_from(CaseEvent.__table__)).scalar_one()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_append_many, args=(db_url, w, 200, out)) for w in range(8)]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(not errs for _, errs in results), results
    with open_store(db_url) as store:
        with store.connection() as conn:
            n = conn.execute(select(func.count()).select_from(CaseEvent.__table__)).scalar_one()
            entries = conn.execute(
                select(func.count()).select_from(TimeEntry.__table__)
            ).scalar_one()
            versions = dict(
                conn.execute(
                    select(CaseState.__table__.c.case_id, CaseState.__table__.c.anchor_at)
                ).all()
            )
            queue_before = {r.id: r.eval.clocks for r in load_queue(conn, policy, T0 + 86400)}
        assert n - before == 1600
        assert entries == 800
        assert versions["Q-1"] == T0 + 3600 * 6 + 199  # the projection saw the last event
        rebuild(store)
        with store.connection() as conn:
            assert {
                r.id: r.eval.clocks for r in load_queue(conn, policy, T0 + 86400)
            } == queue_before
