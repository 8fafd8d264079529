"""Dated changes of subscribers and deployments in the store (policy §14, leads).

A change is a record in force from its effective instant, never before: the subscriber and
deployment rows keep the facts first recorded, and the engine folds the changes in their
effective order. Recording one re-projects the subscriber's cases in the same
transaction. Refused, with nothing written: an operator who is not a lead, no reason, an
effective instant in the past or before the last recorded change of the same fact, a
value the policy does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select

from console.errors import Refused
from console.records import (
    Conn,
    case_facts,
    case_table,
    deployment_change_table,
    deployment_table,
    load_events,
    load_terms,
    subscriber_change_table,
    subscriber_table,
)
from console.rules.changes import (
    decode_subscriber,
    deployment_problems,
    subscriber_problems,
)
from console.rules.clocks import evaluate
from console.rules.policy import Terms
from console.rules.timeutil import BadValue, check_instant, format_instant


def _check_common(
    session: Any, actor: str | None, action: str, effective_at: int, recorded_at: int, reason: str
) -> str:
    from console.operators import require

    require(session, actor, action)  # NotAllowed: "not allowed: ..." as it stands
    try:
        check_instant(effective_at, "--effective")
    except BadValue as exc:
        raise Refused(str(exc)) from None
    reason = (reason or "").strip()
    if not reason:
        raise Refused("a change needs a reason (--reason)")
    if effective_at < recorded_at:
        raise Refused(
            f"--effective {format_instant(effective_at)} lies in the past: a change "
            f"applies from its effective instant on, never to the past (now is "
            f"{format_instant(recorded_at)})"
        )
    return reason


def _check_order(
    session: Any, table: Any, owner_col: Any, owner: str, facts: dict[str, Any], effective_at: int
) -> None:
    """No change may come before one already recorded of the same fact."""
    for eff, stored in session.execute(
        select(table.c.effective_at, table.c.facts).where(owner_col == owner)
    ):
        same = sorted(set(stored or {}) & set(facts))
        if same and eff >= effective_at:
            raise Refused(
                f"{', '.join(same)}: a change effective {format_instant(eff)} is "
                f"already recorded; a new one must come after it"
            )


def change_subscriber(
    store: Any,
    subscriber: str,
    facts: dict[str, Any],
    *,
    effective_at: int,
    reason: str,
    actor: str | None,
    recorded_at: int,
) -> int:
    """Record a dated change of ``subscriber``'s facts (interchange spelling); its id."""
    from console.actions import reproject
    from console.policy_store import load_book

    with store.write() as session:
        reason = _check_common(
            session, actor, "change_subscriber", effective_at, recorded_at, reason
        )
        if (
            session.execute(
                select(subscriber_table.c.id).where(subscriber_table.c.id == subscriber)
            ).first()
            is None
        ):
            raise Refused(f"unknown subscriber {subscriber!r}")
        policy = load_book(session).at(effective_at)
        problems = subscriber_problems(facts, policy)
        if problems:
            raise Refused("; ".join(f"{k}: {m}" for k, m in problems))
        _check_order(
            session,
            subscriber_change_table,
            subscriber_change_table.c.subscriber_id,
            subscriber,
            facts,
            effective_at,
        )
        res = session.execute(
            insert(subscriber_change_table).values(
                subscriber_id=subscriber,
                effective_at=effective_at,
                facts=facts,
                reason=reason,
                by=actor,
                recorded_at=recorded_at,
            )
        )
        reproject(session, subscriber)
        return int(res.inserted_primary_key[0])


def change_deployment(
    store: Any,
    deployment: str,
    facts: dict[str, Any],
    *,
    effective_at: int,
    reason: str,
    actor: str | None,
    recorded_at: int,
) -> int:
    with store.write() as session:
        reason = _check_common(
            session, actor, "change_deployment", effective_at, recorded_at, reason
        )
        if (
            session.execute(
                select(deployment_table.c.id).where(deployment_table.c.id == deployment)
            ).first()
            is None
        ):
            raise Refused(f"unknown deployment {deployment!r}")
        problems = deployment_problems(facts)
        if problems:
            raise Refused("; ".join(f"{k}: {m}" for k, m in problems))
        _check_order(
            session,
            deployment_change_table,
            deployment_change_table.c.deployment_id,
            deployment,
            facts,
            effective_at,
        )
        # Only a managed deployment carries managed third-party components (policy §5):
        # judged on the facts this change leaves in force.
        from console.records import load_deployment

        before = load_deployment(session, deployment, effective_at)
        assert before is not None
        managed = facts.get("managed", before.managed)
        components = facts.get("components", before.components)
        if components and not managed:
            raise Refused(
                f"components: only a managed deployment carries managed third-party "
                f"components ({deployment} is not managed then)"
            )
        res = session.execute(
            insert(deployment_change_table).values(
                deployment_id=deployment,
                effective_at=effective_at,
                facts=facts,
                reason=reason,
                by=actor,
                recorded_at=recorded_at,
            )
        )
        return int(res.inserted_primary_key[0])


def renew(
    store: Any,
    subscriber: str,
    *,
    term_start: date | None,
    term_end: date,
    effective_at: int,
    reason: str,
    actor: str | None,
    recorded_at: int,
) -> dict[str, Any]:
    """Extend the subscription's term from ``effective_at`` (policy §6, §14): an automatic
    lapse ends then, and stays a suspension for the time it lasted. Returns the new term."""
    with store.connection() as conn:
        facts = renewal_facts(
            conn, subscriber, term_start=term_start, term_end=term_end, effective_at=effective_at
        )
    change_subscriber(
        store,
        subscriber,
        facts,
        effective_at=effective_at,
        reason=reason or "renewal",
        actor=actor,
        recorded_at=recorded_at,
    )
    return facts


def terminate(
    store: Any,
    subscriber: str,
    *,
    effective_at: int,
    reason: str,
    actor: str | None,
    recorded_at: int,
) -> None:
    """The contract terminates at ``effective_at``: retention runs from then (policy §11),
    its open cases are flagged and new cases for it refused."""
    change_subscriber(
        store,
        subscriber,
        {"terminated_at": format_instant(effective_at)},
        effective_at=effective_at,
        reason=reason,
        actor=actor,
        recorded_at=recorded_at,
    )


def renewal_facts(
    conn: Conn, subscriber: str, *, term_start: date | None, term_end: date, effective_at: int
) -> dict[str, Any]:
    """A renewal's facts: the new term; without ``term_start`` the new term starts the day
    after the term in force at ``effective_at`` ends (a new term: its own query hours)."""
    terms = load_terms(conn, load_book_of(conn), [subscriber])
    if subscriber not in terms:
        raise Refused(f"unknown subscriber {subscriber!r}")
    current = terms[subscriber].at(effective_at)
    start = term_start
    if start is None:
        if current.term_end is None:
            raise Refused("give --term-start: the subscription has no term end to follow")
        start = current.term_end + timedelta(days=1)
    return {"term_start": start.isoformat(), "term_end": term_end.isoformat()}


def load_book_of(conn: Conn) -> Any:
    from console.policy_store import load_book

    return load_book(conn)


def history(conn: Conn, table: Any, owner_col: Any, owner: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(table).where(owner_col == owner).order_by(table.c.effective_at, table.c.id)
    )
    return [
        {
            "effective_at": format_instant(r.effective_at),
            "facts": dict(r.facts or {}),
            "reason": r.reason,
            "by": r.by,
            "recorded_at": format_instant(r.recorded_at),
        }
        for r in rows
    ]


def subscriber_history(conn: Conn, subscriber: str) -> list[dict[str, Any]]:
    return history(
        conn, subscriber_change_table, subscriber_change_table.c.subscriber_id, subscriber
    )


def deployment_history(conn: Conn, deployment: str) -> list[dict[str, Any]]:
    return history(
        conn, deployment_change_table, deployment_change_table.c.deployment_id, deployment
    )


@dataclass(frozen=True)
class Effect:
    """What a proposed change does to one open case's clock, judged at one instant."""

    case_id: str
    clock: str
    before: Any  # ClockState | None (the clock may appear or disappear)
    after: Any

    @property
    def words(self) -> str:
        b, a = self.before, self.after
        if b is None:
            return "appears" + (" breached" if a.breached else "")
        if a is None:
            return "disappears"
        if a.breached and not b.breached:
            return "breaches"
        if b.breached and not a.breached:
            return "clears"
        return "target changes"


def preview(
    conn: Conn, policy: Any, subscriber: str, facts: dict[str, Any], *, effective_at: int, now: int
) -> tuple[int, list[Effect]]:
    """(the instant judged, the effects) of a proposed change on ``subscriber``'s open
    cases: each case's clocks with and without it at ``max(now, effective_at)``."""
    from console.queue import load_queue

    at = max(now, effective_at)
    terms = load_terms(conn, policy, [subscriber])
    if subscriber not in terms:
        raise Refused(f"unknown subscriber {subscriber!r}")
    problems = subscriber_problems(facts, terms.book.at(effective_at))
    if problems:
        raise Refused("; ".join(f"{k}: {m}" for k, m in problems))
    if effective_at < now:
        raise Refused(
            f"the effective instant {format_instant(effective_at)} lies in the past: "
            "a change applies from then on, never to the past"
        )
    base = terms[subscriber]
    with_change = replace(base, changes=(*base.changes, (effective_at, decode_subscriber(facts))))

    out: list[Effect] = []
    rows = {
        r.id: r
        for r in conn.execute(select(case_table).where(case_table.c.subscriber_id == subscriber))
    }
    listed = load_queue(conn, policy, at, terms=terms, case_ids=list(rows))
    open_ids = [r.id for r in listed if r.eval.status == "open"]
    events = load_events(conn, open_ids)
    for cid in open_ids:
        row = rows[cid]
        version = terms.case(subscriber, row.reported_at).policy
        before = evaluate(case_facts(row), events[cid], terms.case(subscriber, row.reported_at), at)
        after = evaluate(case_facts(row), events[cid], Terms(version, with_change), at)
        for clock in sorted(set(before.clocks) | set(after.clocks)):
            b, a = before.clocks.get(clock), after.clocks.get(clock)
            if b is not None and a is not None and (b.breached, b.target) == (a.breached, a.target):
                continue
            out.append(Effect(cid, clock, b, a))
    return at, out


def case_flags(conn: Conn, policy: Any, row: Any, ev: Any, at: int) -> dict[str, Any]:
    """What later changes say about an open case (policy §14: a change never refuses an
    open case, it flags it): the subscriber's termination, and the eligibility of its
    classification under the facts in force at ``at``."""
    from console.records import linked_types, load_deployment, load_links
    from console.rules.eligibility import check_classification

    terms = load_terms(conn, policy, [row.subscriber_id])
    if row.subscriber_id not in terms:
        return {"subscriber_terminated": False, "eligibility": []}
    now = terms.case(row.subscriber_id, row.reported_at).at(at)
    ended = now.facts.terminated_at
    links, _ = load_links(conn, row.id)
    problems = check_classification(
        now.policy,
        now.plan,
        row.subscriber_id,
        load_deployment(conn, row.deployment_id, at),
        ev.type,
        ev.priority,
        konneqt_initiated=bool(row.konneqt_initiated),
        linked_types=linked_types(conn, links),
    )
    return {
        "subscriber_terminated": ended is not None and ended <= at,
        "eligibility": [f"{f}: {m}" for f, m in problems],
    }


#: What the subscriber view's change form offers: (kind, label, hint for the value).
FORM_KINDS = (
    ("plan", "plan", "enterprise or basic"),
    ("coverage", "coverage", "business or 24x7"),
    ("timezone", "time zone", "an IANA zone (America/New_York) or -03:00; empty: the plan's"),
    ("holidays", "holidays", "a country (US, US-NY, CA) or dates 2026-12-24,2026-12-31"),
    ("target", "order-form target", "incident.P1.response=30m (or =best-efforts)"),
    ("query_hours", "query-hour limit", "hours per term, e.g. 80"),
    ("renew", "renew the term", "the new term's end, YYYY-MM-DD"),
    ("terminate", "terminate the contract", "no value: it ends at the effective instant"),
)


def form_facts(kind: str, value: str, current: Any, effective_at: int) -> dict[str, Any]:
    """The facts a change form asks for (``current``: the subscription's facts in force at
    ``effective_at``). Raises Refused naming what is wrong with the value."""
    from console.rules.timeutil import parse_date

    value = (value or "").strip()
    try:
        if kind in ("plan", "coverage"):
            if not value:
                raise BadValue(f"give the new {kind}")
            return {kind: value}
        if kind == "timezone":
            return {"timezone": value or None}
        if kind == "holidays":
            if not value:
                return {"holidays": None}
            if value[:4].isdigit():
                return {"holidays": [d.strip() for d in value.split(",") if d.strip()]}
            return {"holidays": value}
        if kind == "target":
            key, sep, raw = value.partition("=")
            if not sep or not key.strip():
                raise BadValue("write KEY=DURATION, e.g. incident.P1.response=30m")
            raw = raw.strip()
            best = raw.lower() in ("best-efforts", "best efforts", "none", "null")
            return {"targets": {**dict(current.targets), key.strip(): None if best else raw}}
        if kind == "query_hours":
            try:
                return {"query_hour_limit": float(value)}
            except ValueError:
                raise BadValue(f"not a number of hours: {value!r}") from None
        if kind == "renew":
            end = parse_date(value)
            if current.term_end is None:
                raise BadValue("the subscription has no term end to follow")
            start = current.term_end + timedelta(days=1)
            return {"term_start": start.isoformat(), "term_end": end.isoformat()}
        if kind == "terminate":
            return {"terminated_at": format_instant(effective_at)}
    except BadValue as exc:
        raise Refused(f"{kind}: {exc}") from None
    raise Refused(f"unknown change {kind!r}")


def facts_text(facts: dict[str, Any]) -> str:
    """A change's facts in words: ``plan=enterprise, targets: incident.P1.workaround=2h``."""
    parts = []
    for key, value in facts.items():
        if isinstance(value, dict):
            inner = ", ".join(
                f"{k}={v if v is not None else 'best efforts'}" for k, v in sorted(value.items())
            )
            parts.append(f"{key}: {inner or '(none)'}")
        elif isinstance(value, list):
            parts.append(f"{key}={','.join(str(v) for v in value)}")
        elif isinstance(value, bool):
            parts.append(f"{key}={'yes' if value else 'no'}")
        elif value is None:
            parts.append(f"{key}=(plan default)" if key != "terminated_at" else f"{key}=(none)")
        else:
            parts.append(f"{key}={value}")
    return "; ".join(parts)
