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

from console.errors import Conflict, NotAllowed, Refused
from console.importer import time_entry_row
from console.projection import project
from console.records import (
    case_facts,
    case_state_table,
    case_table,
    escalation_table,
    event_of,
    event_table,
    linked_types,
    load_deployment,
    load_events,
    load_links,
    load_terms,
    next_rev,
    time_entry_table,
)
from console.rules.clocks import CaseEval, Event, evaluate, sort_events
from console.rules.eligibility import check_classification, component_problem
from console.rules.lifecycle import IllegalEvent, check_history
from console.rules.policy import Policy
from console.rules.timeutil import format_instant
from console.store.engine import mark_changed


@dataclass(frozen=True)
class Appended:
    case_id: str
    event_id: int
    version: int
    eval: CaseEval


def append_event(
    store: Any,
    case_id: str,
    kind: str,
    *,
    at: int,
    by: str | None,
    data: dict[str, Any] | None = None,
    recorded_at: int,
    expected_version: int | None = None,
    actor: str | None = None,
) -> Appended:
    """Record one event in its own transaction (see module docstring).

    ``actor`` is the operator doing it, whose role is checked (None: a system action).
    The clocks are computed with the policy stored in the database, never a file's.
    """
    with store.write() as session:
        return append_in(
            session,
            store.is_sqlite,
            case_id,
            kind,
            at=at,
            by=by,
            data=data,
            recorded_at=recorded_at,
            expected_version=expected_version,
            actor=actor,
        )


def _refuse_instants(case_id: str, at: int, recorded_at: int) -> None:
    from console.rules.timeutil import BadValue, check_instant

    try:
        check_instant(at, "at")
        check_instant(recorded_at, "recorded_at")
    except BadValue as exc:
        raise Refused(f"{case_id}: at: {exc}") from None


def check_entry_time(
    session: Any,
    policy: Policy,
    case_id: str,
    *,
    at: int,
    recorded_at: int,
    actor: str | None,
    data: dict[str, Any],
) -> None:
    """Policy §14: ``at`` at most ``future_tolerance`` after ``recorded_at``; an ``at`` older
    than the late-entry window is a late entry, a lead's, with a reason. ``actor=None`` (a
    sweep stamping an escalation at the instant the target was missed) is not a late entry."""
    from console.operators import role_of

    rec = policy.records
    if at > recorded_at + rec.future_tolerance:
        raise Refused(
            f"{case_id}: at: {format_instant(at)} lies in the future (now is "
            f"{format_instant(recorded_at)}); events are recorded when they happen"
        )
    if actor is None or at >= recorded_at - rec.late_entry_window:
        return
    late = _ago(recorded_at - at)
    if role_of(session, actor) != "lead":
        raise Refused(
            f"{case_id}: at: {format_instant(at)} is {late} ago: a late entry "
            f"(older than {_ago(rec.late_entry_window)}) needs a lead; {actor} is "
            f"{role_of(session, actor)}"
        )
    reason = data.get("late_reason")
    if not isinstance(reason, str) or not reason.strip():
        raise Refused(
            f"{case_id}: late_reason: {format_instant(at)} is {late} ago: a late "
            "entry needs a reason (--late-reason)"
        )


def check_signature(session: Any, policy: Policy, by: str | None, actor: str | None) -> None:
    """An operator records in their own name; another name only a system account of the
    policy data (``--by cron``), by a login with the system role (policy §14)."""
    from console.operators import require

    if actor is None or by is None or by == actor:
        return
    if by not in policy.system_accounts:
        raise NotAllowed(
            f"not allowed: {actor} records in their own name; --by takes only a "
            f"system account ({', '.join(policy.system_accounts)})"
        )
    require(session, actor, "record_as_system")


def _ago(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} days"


def append_in(
    session: Any,
    is_sqlite: bool,
    case_id: str,
    kind: str,
    *,
    at: int,
    by: str | None,
    data: dict[str, Any] | None,
    recorded_at: int,
    expected_version: int | None = None,
    actor: str | None = None,
) -> Appended:
    """``append_event`` inside a transaction the caller owns."""
    from console.operators import require
    from console.policy_store import load_book
    from console.rules.limits import data_problem

    data = {k: v for k, v in (data or {}).items() if v is not None}
    require(session, actor, kind)
    _refuse_instants(case_id, at, recorded_at)
    q = select(case_table).where(case_table.c.id == case_id)
    if not is_sqlite:
        q = q.with_for_update()
    row = session.execute(q).first()
    if row is None:
        raise Refused(f"unknown case {case_id!r}")
    if expected_version is not None and row.version != expected_version:
        last = session.execute(
            select(event_table.c.by, event_table.c.recorded_at)
            .where(event_table.c.case_id == case_id)
            .order_by(event_table.c.id.desc())
            .limit(1)
        ).first()
        who, when = (
            (last.by or "someone", format_instant(last.recorded_at)) if last else ("someone", "?")
        )
        raise Conflict(f"case {case_id} was changed by {who} at {when}, reloaded")
    book = load_book(session)
    policy = book.at(row.reported_at)
    problem = data_problem(data, policy.records)
    if problem:
        raise Refused(f"{case_id}: {problem[0]}: {problem[1]}")
    check_entry_time(
        session, policy, case_id, at=at, recorded_at=recorded_at, actor=actor, data=data
    )
    check_signature(session, policy, by, actor)
    facts = case_facts(row)
    terms = load_terms(session, book, [row.subscriber_id]).case(row.subscriber_id, row.reported_at)
    events = load_events(session, [case_id])[case_id]
    if len(events) >= policy.records.max_events_per_case:
        raise Refused(
            f"{case_id}: the case holds {len(events)} events, the most one case may "
            "hold; open a new case and link it"
        )
    if kind == "escalated":
        _judge_escalation(session, facts, events, terms, at, data, actor, case_id)
    if kind == "assigned" and isinstance(data.get("to"), str) and data["to"].strip():
        from console.assignment import assignee_problem

        data["to"] = data["to"].strip()
        why = assignee_problem(
            session, data["to"], actor=actor, system_accounts=policy.system_accounts
        )
        if why:
            raise Refused(f"{case_id}: to: {why}")
    seq = (max((e.seq for e in events), default=0)) + 1
    new = Event(at=at, kind=kind, by=by, data=data, seq=seq, recorded_at=recorded_at)
    ordered = sort_events([*events, new])
    # Eligibility is judged against the facts in force when the event happened (§14).
    dep = load_deployment(session, row.deployment_id, at)
    links, _ = load_links(session, case_id)
    ltypes = linked_types(session, links)
    plan_then = terms.at(at).plan

    def classify_check(t: str, p: str | None) -> list[tuple[str, str]]:
        return check_classification(
            policy,
            plan_then,
            row.subscriber_id,
            dep,
            t,
            p,
            konneqt_initiated=bool(row.konneqt_initiated),
            linked_types=ltypes,
        )

    try:
        check_history(facts, ordered, policy, classify_check)
    except IllegalEvent as exc:
        raise Refused(f"{case_id}: {exc.field}: {exc.message}") from None
    if kind == "reclassified" and isinstance(data.get("component"), str):
        # Judged against the deployment's list now (policy §14: eligibility at the time).
        why = component_problem(dep, data["component"].strip())
        if why:
            raise Refused(f"{case_id}: component: {why}")
    if kind == "escalated" and not record_escalation(
        session, is_sqlite, case_id, row.subscriber_id, str(data["missed"]), at, recorded_at, by
    ):
        raise Refused(f"{case_id}: already escalated")
    res = session.execute(
        insert(event_table).values(
            case_id=case_id,
            at=at,
            kind=kind,
            by=by,
            data=data,
            recorded_at=recorded_at,
            recorded_by=actor or by,
        )
    )
    event_id = int(res.inserted_primary_key[0])
    stored = [
        *events,
        Event(at=at, kind=kind, by=by, data=data, seq=event_id, recorded_at=recorded_at),
    ]
    state = project(facts, sort_events(stored), terms)
    session.execute(
        update(case_state_table)
        .where(case_state_table.c.case_id == case_id)
        .values(**{k: v for k, v in state.items() if k != "case_id"}, rev=next_rev(session))
    )
    if kind == "time_logged":
        session.execute(
            insert(time_entry_table).values(
                **time_entry_row(event_id, case_id, row.subscriber_id, at, by, data)
            )
        )
    session.execute(
        update(case_table).where(case_table.c.id == case_id).values(version=row.version + 1)
    )
    mark_changed(session, case_id)
    ev = evaluate(facts, sort_events(stored), terms, max(at, recorded_at))
    if kind == "escalated":  # its notifications commit with it, or not at all
        from console.notify.outbox import enqueue_escalation

        enqueue_escalation(
            session,
            case_id=case_id,
            subscriber=row.subscriber_id,
            title=row.title,
            ev=ev,
            at=at,
            data=data,
            by=by,
            recorded_at=recorded_at,
        )
    return Appended(case_id, event_id, row.version + 1, ev)


def _judge_escalation(
    session: Any,
    facts: Any,
    events: list[Event],
    terms: Any,
    at: int,
    data: dict[str, Any],
    actor: str | None,
    case_id: str,
) -> None:
    """An escalation names a target really missed by ``at``, or is a lead's manual one
    (policy §7): fills in ``data["missed"]``; the reason is ``check_history``'s to demand."""
    from console.errors import NotAllowed
    from console.operators import require
    from console.rules.escalation import MANUAL, judge_escalation

    prior = [e for e in sort_events(events) if e.at <= at]
    missed, problem = judge_escalation(facts, prior, terms, at, data)
    if problem is not None:
        raise Refused(f"{case_id}: {problem[0]}: {problem[1]}")
    data["missed"] = missed
    if missed == MANUAL:
        try:
            require(session, actor, "escalate_manual")
        except NotAllowed as exc:
            raise NotAllowed(f"{exc}: {case_id} has missed no target yet") from None


def record_escalation(
    session: Any,
    is_sqlite: bool,
    case_id: str,
    subscriber: str,
    missed: str,
    at: int,
    recorded_at: int,
    by: str | None,
) -> bool:
    """Insert the case's escalation row unless one exists; True when this call made it.

    ``ON CONFLICT DO NOTHING`` on the primary key: with any number of racing sweeps on
    any number of hosts, exactly one row (and so one escalated event) is ever written.
    """
    if is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        # (each dialect's insert() has its own Insert class; both have on_conflict_do_nothing)
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    stmt = dialect_insert(escalation_table).values(
        case_id=case_id,
        subscriber_id=subscriber,
        missed=missed,
        escalated_at=at,
        recorded_at=recorded_at,
        by=by,
    )
    res = session.execute(stmt.on_conflict_do_nothing(index_elements=["case_id"]))
    return bool(res.rowcount)


def next_case_id(session: Any, prefix: str = "CS-") -> str:
    """The next free ``CS-<n>`` id (called inside the creating transaction)."""
    best = 10000
    for (cid,) in session.execute(
        select(case_table.c.id).where(case_table.c.id.like(f"{prefix}%"))
    ):
        tail = cid[len(prefix) :]
        if tail.isdigit():
            best = max(best, int(tail))
    return f"{prefix}{best + 1}"


def create_case(
    store: Any,
    *,
    subscriber: str,
    deployment: str | None,
    ctype: str,
    priority: str | None,
    title: str,
    reported_at: int,
    by: str | None,
    recorded_at: int,
    level: str = "L1",
    criterion: str | None = None,
    links: tuple[str, ...] = (),
    konneqt_initiated: bool = False,
    case_id: str | None = None,
    aware_at: int | None = None,
    component: str | None = None,
) -> str:
    """Open a new case (the wizard's last step), eligibility checked, in one transaction.

    On PostgreSQL two consoles may take the same next id at once: the loser's insert fails
    on the primary key and the whole transaction is tried again with a fresh id.
    """
    from sqlalchemy.exc import IntegrityError

    for attempt in range(5):
        try:
            with store.write() as session:
                return create_case_in(
                    session,
                    subscriber=subscriber,
                    deployment=deployment,
                    ctype=ctype,
                    priority=priority,
                    title=title,
                    reported_at=reported_at,
                    by=by,
                    level=level,
                    criterion=criterion,
                    links=links,
                    konneqt_initiated=konneqt_initiated,
                    case_id=case_id,
                    recorded_at=recorded_at,
                    aware_at=aware_at,
                    component=component,
                )
        except IntegrityError:
            if case_id is not None or attempt == 4:
                raise Refused(f"case id {case_id or '(next)'} is taken") from None
    raise Refused("could not allocate a case id")


def create_case_in(
    session: Any,
    *,
    subscriber: str,
    deployment: str | None,
    ctype: str,
    priority: str | None,
    title: str,
    reported_at: int,
    by: str | None,
    recorded_at: int,
    level: str = "L1",
    criterion: str | None = None,
    links: tuple[str, ...] = (),
    konneqt_initiated: bool = False,
    case_id: str | None = None,
    aware_at: int | None = None,
    component: str | None = None,
) -> str:
    """``create_case`` inside a transaction the caller owns (checks, case, links, projection).

    ``criterion``: the §9 guideline that decided the priority; ``component``: the managed
    third-party component a P0 incident names (policy §5).

    ``reported_at`` (and ``aware_at``) may lie in the past (the subscriber wrote two hours
    ago) but not more than the future tolerance ahead of ``recorded_at`` (policy §14).
    """
    from console.policy_store import load_book
    from console.records import case_link_table, load_terms, subscriber_table
    from console.rules.classify import criterion_problem
    from console.rules.limits import title_problem
    from console.rules.timeutil import BadValue, check_instant

    book = load_book(session)
    policy = book.at(reported_at)
    title = title.strip() if isinstance(title, str) else title
    problem = title_problem(title, policy.records)
    if problem:
        raise Refused(f"title: {problem}")
    try:
        check_instant(reported_at, "reported_at")
        check_instant(recorded_at, "recorded_at")
        if aware_at is not None:
            check_instant(aware_at, "aware_at")
    except BadValue as exc:
        raise Refused(str(exc)) from None
    ahead = policy.records.future_tolerance
    for name, ts in (("reported_at", reported_at), ("aware_at", aware_at)):
        if ts is not None and ts > recorded_at + ahead:
            raise Refused(
                f"{name}: {format_instant(ts)} lies in the future (now is "
                f"{format_instant(recorded_at)})"
            )
    if level not in policy.levels:
        raise Refused(f"unknown level {level!r}")
    if criterion is not None and criterion not in {c.key for c in policy.criteria}:
        raise Refused(f"criterion: unknown guideline criterion {criterion!r}")
    if (
        session.execute(
            select(subscriber_table.c.id).where(subscriber_table.c.id == subscriber)
        ).first()
        is None
    ):
        raise Refused(f"unknown subscriber {subscriber!r}")
    terms = load_terms(session, book, [subscriber]).case(subscriber, reported_at)
    # Eligibility against the facts in force now, when the case is opened (policy §14).
    now_terms = terms.at(recorded_at)
    ended = now_terms.facts.terminated_at
    if ended is not None and ended <= recorded_at:
        raise Refused(
            f"{subscriber}'s contract terminated on {format_instant(ended)}: no new cases for it"
        )
    dep = load_deployment(session, deployment, recorded_at)
    if deployment is not None and dep is None:
        raise Refused(f"unknown deployment {deployment!r}")
    if dep is not None and dep.subscriber != subscriber:
        raise Refused(f"deployment {deployment!r} belongs to {dep.subscriber}, not {subscriber}")
    ltypes = linked_types(session, list(links))
    if len(ltypes) != len(links):
        raise Refused(f"unknown linked case among {', '.join(links)}")
    component = component.strip() if isinstance(component, str) and component.strip() else None
    problems = check_classification(
        policy,
        now_terms.plan,
        subscriber,
        dep,
        ctype,
        priority,
        konneqt_initiated=konneqt_initiated,
        linked_types=ltypes,
        component=component,
    )
    if criterion is not None:
        why = criterion_problem(policy, criterion, ctype, priority)
        if why:
            problems.append(("criterion", why))
    if problems:
        raise Refused("; ".join(f"{f}: {m}" for f, m in problems))
    cid = case_id or next_case_id(session)
    session.execute(
        insert(case_table).values(
            id=cid,
            subscriber_id=subscriber,
            deployment_id=deployment,
            type=ctype,
            priority=priority,
            title=title,
            reported_at=reported_at,
            aware_at=aware_at,
            level=level,
            konneqt_initiated=konneqt_initiated,
            criterion=criterion,
            component=component,
            opened_by=by,
            recorded_at=recorded_at,
            version=1,
        )
    )
    for lk in links:
        session.execute(insert(case_link_table).values(case_id=cid, linked_case_id=lk))
    facts = case_facts(session.execute(select(case_table).where(case_table.c.id == cid)).one())
    session.execute(
        insert(case_state_table).values(**project(facts, [], terms), rev=next_rev(session))
    )
    mark_changed(session, cid)
    return cid


def reproject(session: Any, subscriber: str) -> int:
    """Recompute the projections of one subscriber's cases (its terms changed), with the
    policy stored in the database."""
    from console.policy_store import load_book

    terms = load_terms(session, load_book(session), [subscriber])
    rows = session.execute(select(case_table).where(case_table.c.subscriber_id == subscriber)).all()
    events = load_events(session, [r.id for r in rows])
    rev = next_rev(session)
    for i, r in enumerate(rows):
        state = project(case_facts(r), events[r.id], terms.case(subscriber, r.reported_at))
        session.execute(
            update(case_state_table)
            .where(case_state_table.c.case_id == r.id)
            .values(**{k: v for k, v in state.items() if k != "case_id"}, rev=rev + i)
        )
    return len(rows)


def rebuild(store: Any, progress: Callable[[int], None] | None = None, batch: int = 2000) -> int:
    """Recompute every case's projection from its events, in one transaction, with the
    policy stored in the database (a policy file can never reach the shared summaries)."""
    from console.policy_store import load_book

    n = 0
    with store.write() as session:
        terms = load_terms(session, load_book(session))
        ids = [r[0] for r in session.execute(select(case_table.c.id).order_by(case_table.c.id))]
        rev = next_rev(session)
        for i in range(0, len(ids), batch):
            chunk = ids[i : i + batch]
            events = load_events(session, chunk)
            rows = session.execute(select(case_table).where(case_table.c.id.in_(chunk))).all()
            for r in rows:
                facts = case_facts(r)
                state = project(facts, events[r.id], terms.case(r.subscriber_id, r.reported_at))
                values = {k: v for k, v in state.items() if k != "case_id"}
                values["rev"] = rev
                rev += 1
                res = session.execute(
                    update(case_state_table)
                    .where(case_state_table.c.case_id == r.id)
                    .values(**values)
                )
                if res.rowcount == 0:
                    session.execute(insert(case_state_table).values(**state, rev=values["rev"]))
            n += len(rows)
            if progress:
                progress(len(rows))
    return n


def count_cases(conn: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(case_table)).scalar_one())


__all__ = ["Appended", "Conflict", "Refused", "append_event", "rebuild", "count_cases", "event_of"]
