"""User actions that write: each is one transaction through the same rules.

``append_event`` serves the CLI's ``event`` and every action key of the console. It locks
the case (BEGIN IMMEDIATE on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), re-checks
the case's whole history with the new event in its place, writes the event, its
projection and any time entry, and bumps the case's version, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from console.importer import time_entry_row
from console.projection import project
from console.records import (
    CS,
    TE,
    C,
    E,
    case_facts,
    event_of,
    linked_types,
    load_deployment,
    load_events,
    load_links,
    load_terms,
)
from console.rules.clocks import CaseEval, Event, evaluate, sort_events
from console.rules.eligibility import check_classification
from console.rules.lifecycle import IllegalEvent, check_history
from console.rules.policy import Policy
from console.rules.timeutil import format_instant


class Refused(Exception):
    """The action is not allowed; nothing was written. The message says why."""


class Conflict(Refused):
    """The case changed since the operator's view was loaded (stale version)."""


@dataclass(frozen=True)
class Appended:
    case_id: str
    event_id: int
    version: int
    eval: CaseEval


def append_event(store: Any, policy: Policy, case_id: str, kind: str, *, at: int, by: str | None,
                 data: dict[str, Any] | None = None, recorded_at: int,
                 expected_version: int | None = None) -> Appended:
    data = {k: v for k, v in (data or {}).items() if v is not None}
    with store.write() as session:
        q = select(C).where(C.c.id == case_id)
        if not store.is_sqlite:
            q = q.with_for_update()
        row = session.execute(q).first()
        if row is None:
            raise Refused(f"unknown case {case_id!r}")
        if expected_version is not None and row.version != expected_version:
            last = session.execute(
                select(E.c.by, E.c.recorded_at).where(E.c.case_id == case_id)
                .order_by(E.c.id.desc()).limit(1)).first()
            who, when = (last.by or "someone", format_instant(last.recorded_at)) if last else ("someone", "?")
            raise Conflict(f"case {case_id} was changed by {who} at {when}, reloaded")
        facts = case_facts(row)
        terms = load_terms(session, policy, [row.subscriber_id])[row.subscriber_id]
        events = load_events(session, [case_id])[case_id]
        seq = (max((e.seq for e in events), default=0)) + 1
        new = Event(at=at, kind=kind, by=by, data=data, seq=seq)
        ordered = sort_events([*events, new])
        dep = load_deployment(session, row.deployment_id)
        links, _ = load_links(session, case_id)
        ltypes = linked_types(session, links)

        def classify_check(t: str, p: str | None) -> list[tuple[str, str]]:
            return check_classification(policy, terms.plan, row.subscriber_id, dep, t, p,
                                        konneqt_initiated=bool(row.konneqt_initiated),
                                        linked_types=ltypes)

        try:
            check_history(facts, ordered, policy, classify_check)
        except IllegalEvent as exc:
            raise Refused(f"{case_id}: {exc.field}: {exc.message}") from None
        res = session.execute(insert(E).values(case_id=case_id, at=at, kind=kind, by=by, data=data,
                                               recorded_at=recorded_at))
        event_id = int(res.inserted_primary_key[0])
        stored = [*events, Event(at=at, kind=kind, by=by, data=data, seq=event_id)]
        state = project(facts, sort_events(stored), terms)
        session.execute(update(CS).where(CS.c.case_id == case_id)
                        .values(**{k: v for k, v in state.items() if k != "case_id"}))
        if kind == "time_logged":
            session.execute(insert(TE).values(**time_entry_row(
                event_id, case_id, row.subscriber_id, at, by, data)))
        session.execute(update(C).where(C.c.id == case_id).values(version=row.version + 1))
        ev = evaluate(facts, sort_events(stored), terms, max(at, recorded_at))
        return Appended(case_id, event_id, row.version + 1, ev)


def rebuild(store: Any, policy: Policy, progress: Callable[[int], None] | None = None,
            batch: int = 2000) -> int:
    """Recompute every case's projection from its events, in one transaction."""
    n = 0
    with store.write() as session:
        terms = load_terms(session, policy)
        ids = [r[0] for r in session.execute(select(C.c.id).order_by(C.c.id))]
        for i in range(0, len(ids), batch):
            chunk = ids[i : i + batch]
            events = load_events(session, chunk)
            rows = session.execute(select(C).where(C.c.id.in_(chunk))).all()
            for r in rows:
                facts = case_facts(r)
                state = project(facts, events[r.id], terms[r.subscriber_id])
                values = {k: v for k, v in state.items() if k != "case_id"}
                res = session.execute(update(CS).where(CS.c.case_id == r.id).values(**values))
                if res.rowcount == 0:
                    session.execute(insert(CS).values(**state))
            n += len(rows)
            if progress:
                progress(len(rows))
    return n


def count_cases(conn: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(C)).scalar_one())


__all__ = ["Appended", "Conflict", "Refused", "append_event", "rebuild", "count_cases", "event_of"]
