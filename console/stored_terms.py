"""The subscribers' terms and the deployments as stored, read into the engine's facts.

Plain SQL (``console.plain_sql``): the same readers serve a SQLAlchemy connection and a
bare driver connection (``queue --json`` on SQLite, which never imports SQLAlchemy).
``console.records`` re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from console.plain_sql import in_list, rows
from console.rules.eligibility import DeploymentFacts
from console.rules.policy import Policy, SubscriptionFacts
from console.rules.policy_book import PolicyBook, TermsMap, as_book


def holiday_spec(value: str | list[str] | None) -> str | tuple[str, ...] | None:
    """A holiday calendar as stored (a name, or a JSON list of names) as the rules take it."""
    if isinstance(value, list):
        return tuple(value)
    return value


def subscription_facts(
    row: Any,
    suspensions: Sequence[tuple[int, int | None]],
    changes: Sequence[tuple[int, dict[str, Any]]] = (),
) -> SubscriptionFacts:
    """The engine's facts of a subscriber: its row as first recorded, its suspensions, and
    its dated changes in effective order (policy §14)."""
    from console.rules.changes import decode_subscriber

    return SubscriptionFacts(
        id=row.id,
        plan=row.plan,
        coverage=row.coverage,
        timezone=row.timezone,
        holidays=holiday_spec(row.holidays),
        targets=dict(row.targets or {}),
        term_start=row.term_start,
        term_end=row.term_end,
        query_hour_limit=row.query_hour_limit,
        suspensions=tuple(suspensions),
        terminated_at=row.terminated_at,
        changes=tuple(
            (eff, decode_subscriber(facts)) for eff, facts in sorted(changes, key=lambda c: c[0])
        ),
    )


def _where(conditions: list[str]) -> str:
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def load_terms(
    conn: Any,
    policy: Policy | PolicyBook,
    ids: Iterable[str] | None = None,
    *,
    known_at: int | None = None,
) -> TermsMap:
    """Subscribers' terms under the policy book; ``known_at`` keeps only the suspensions
    and policy versions recorded by then (``--as-known-at``). ``conn``: a SQLAlchemy
    connection or session, or a driver's connection."""
    book = as_book(policy)
    if known_at is not None:
        book = book.known_at(known_at)
    params: dict[str, Any] = {}
    where = []
    if ids is not None:
        ids = list(ids)
        where.append("id IN " + in_list("s", ids, params))
    susp: dict[str, list[tuple[int, int | None]]] = {}
    for r in suspension_rows(conn, ids, known_at=known_at):
        susp.setdefault(r.subscriber_id, []).append((r.from_at, r.until_at))
    changes = load_subscriber_changes(conn, ids, known_at=known_at)
    found = rows(
        conn,
        "SELECT id, plan, coverage, timezone, holidays, targets, term_start, term_end, "
        "query_hour_limit, terminated_at FROM subscriber" + _where(where),
        params,
        json_cols=("holidays", "targets"),
        date_cols=("term_start", "term_end"),
    )
    return TermsMap(
        book,
        {r.id: subscription_facts(r, susp.get(r.id, ()), changes.get(r.id, ())) for r in found},
    )


def load_subscriber_changes(
    conn: Any, ids: Iterable[str] | None = None, *, known_at: int | None = None
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Subscriber id -> [(effective_at, facts)] in record order."""
    params: dict[str, Any] = {}
    where = []
    if ids is not None:
        where.append("subscriber_id IN " + in_list("s", list(ids), params))
    if known_at is not None:
        where.append("recorded_at <= :known")
        params["known"] = known_at
    return _changes(conn, "subscriber_change", "subscriber_id", where, params)


def load_deployment_changes(
    conn: Any, ids: Iterable[str] | None = None
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    params: dict[str, Any] = {}
    where = []
    if ids is not None:
        where.append("deployment_id IN " + in_list("d", list(ids), params))
    return _changes(conn, "deployment_change", "deployment_id", where, params)


def _changes(
    conn: Any, table: str, owner: str, where: list[str], params: dict[str, Any]
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Owner id -> [(effective_at, facts)] of the dated changes in ``table``, in record
    order."""
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for oid, eff, facts in rows(
        conn,
        f"SELECT {owner}, effective_at, facts FROM {table}" + _where(where) + " ORDER BY id",
        params,
        json_cols=("facts",),
    ):
        out.setdefault(oid, []).append((eff, dict(facts or {})))
    return out


def deployment_facts(row: Any) -> DeploymentFacts:
    return DeploymentFacts(
        id=row.id,
        subscriber=row.subscriber_id,
        environment=row.environment,
        managed=bool(row.managed),
        product=row.product,
        version=row.version,
        components=tuple(row.components or ()),
    )


def load_deployments(conn: Any, at: int | None = None) -> dict[str, DeploymentFacts]:
    """Every deployment's facts in force at ``at`` (None: as last recorded)."""
    from console.rules.changes import deployment_at

    changes = load_deployment_changes(conn)
    found = rows(
        conn,
        "SELECT id, subscriber_id, environment, managed, product, version, components "
        "FROM deployment",
        json_cols=("components",),
        bool_cols=("managed",),
    )
    return {r.id: deployment_at(deployment_facts(r), changes.get(r.id, ()), at) for r in found}


@dataclass(frozen=True, slots=True)
class SuspensionRow:
    """A subscriber-wide suspension as in force: ``until_at`` is its planned end or the
    instant a lead lifted it (``lifted_at``), whichever comes first."""

    id: int
    subscriber_id: str
    reason: str
    from_at: int
    until_at: int | None
    by: str | None
    recorded_at: int
    lifted_at: int | None = None
    lifted_by: str | None = None
    lift_recorded_at: int | None = None
    planned_until: int | None = None  # the end set when it was suspended


def suspension_rows(
    conn: Any, ids: Iterable[str] | None = None, *, known_at: int | None = None
) -> list[SuspensionRow]:
    """Subscribers' suspensions with their lifts applied (``known_at``: only what was
    recorded by then, the lifts included), by subscriber and start."""
    params: dict[str, Any] = {}
    swhere: list[str] = []
    lwhere: list[str] = []
    if known_at is not None:
        params["known"] = known_at
        swhere.append("recorded_at <= :known")
        lwhere.append("recorded_at <= :known")
    if ids is not None:
        listed = in_list("s", list(ids), params)
        swhere.append("subscriber_id IN " + listed)
        lwhere.append(
            f"suspension_id IN (SELECT id FROM subscriber_suspension WHERE subscriber_id IN {listed})"
        )
    lifts: dict[int, tuple[int, str | None, int]] = {}
    for sid, at, by, rec in rows(
        conn,
        'SELECT suspension_id, "at", "by", recorded_at FROM suspension_lift'
        + _where(lwhere)
        + ' ORDER BY "at", id',
        params,
    ):
        lifts.setdefault(sid, (at, by, rec))  # the earliest lift ends it
    out = []
    for r in rows(
        conn,
        'SELECT id, subscriber_id, reason, from_at, until_at, "by", recorded_at '
        "FROM subscriber_suspension" + _where(swhere) + " ORDER BY subscriber_id, from_at, id",
        params,
    ):
        lift = lifts.get(r.id)
        until = r.until_at
        if lift is not None and (until is None or lift[0] < until):
            until = lift[0]
        out.append(
            SuspensionRow(
                r.id,
                r.subscriber_id,
                r.reason,
                r.from_at,
                until,
                r.by,
                r.recorded_at,
                lift[0] if lift else None,
                lift[1] if lift else None,
                lift[2] if lift else None,
                r.until_at,
            )
        )
    return out


def subscriber_names(conn: Any) -> dict[str, str]:
    """Every subscriber's name by id (the palette and the first screen)."""
    return {str(r.id): str(r.name) for r in rows(conn, "SELECT id, name FROM subscriber")}
