"""Data retention (policy §11) in the store: the dry run and the purge.

What goes, and when (the due dates are pure: ``console.rules.retention``):

- support users' PII (name, e-mail): 90 days after the subscriber's contract terminates;
- "other portal data" of the subscriber, defined as its **support-user accounts
  themselves** (the ``support_user`` rows with admin flag and who added/removed them):
  also 90 days after termination. PII and accounts go together: the row is deleted;
- case attachments: 90 days after the case was first resolved or closed, or 90 days
  after termination, whichever comes first (the attachment record is deleted; the file
  at its path is not the console's and is listed for whoever owns it).

Cases stay (they are the support record). Their history keeps every event row; where a
purged user was named (``case_event.by``, ``support_case.opened_by``, ``time_entry.by``
on the subscriber's cases) the id is replaced by ``removed user``.

``plan`` is the dry run: read-only, nothing written. ``purge`` needs the lead role and
does everything in ONE transaction, ending with a ``purge_audit`` row holding counts and
ids (user ids, attachment ids, case ids touched), never names, e-mails or file names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update

from console.actions import Refused
from console.operators import NotAllowed, require
from console.records import TE, C, Conn, E, S
from console.rules.clocks import Event
from console.rules.retention import (
    REMOVED_USER,
    AttachmentRef,
    PurgePlan,
    UserRef,
    first_resolved_or_closed,
    plan_purge,
)
from console.rules.timeutil import format_instant, parse_instant
from console.store.engine import mark_changed
from models import Attachment, PurgeAudit, SupportUser

A = Attachment.__table__
U = SupportUser.__table__
PA = PurgeAudit.__table__


@dataclass(slots=True)
class PurgeResult:
    plan: PurgePlan
    audit_id: int | None = None  # None for a dry run
    paths: list[str] = field(default_factory=list)  # files the removed attachments pointed to
    cases_touched: list[str] = field(default_factory=list)


def terminations(conn: Conn, at: int) -> dict[str, int | None]:
    """Subscriber id -> the termination in force at ``at``: the subscriber's own
    ``terminated_at`` or a dated ``terminate`` effective by then (policy §14)."""
    from console.records import load_subscriber_changes

    out = {r.id: r.terminated_at for r in conn.execute(select(S.c.id, S.c.terminated_at))}
    for sid, changes in load_subscriber_changes(conn).items():
        for effective, facts in sorted(changes, key=lambda c: c[0]):
            if effective <= at and "terminated_at" in facts:
                raw = facts["terminated_at"]
                out[sid] = None if raw is None else parse_instant(raw)
    return out


def plan(conn: Conn, at: int) -> PurgePlan:
    """What a purge at ``at`` would remove (reads only)."""
    terminated = terminations(conn, at)
    users = [UserRef(r.id, r.subscriber_id) for r in conn.execute(select(U.c.id, U.c.subscriber_id))]
    atts = [AttachmentRef(r.id, r.case_id, r.subscriber_id) for r in conn.execute(
        select(A.c.id, A.c.case_id, C.c.subscriber_id).join(C, C.c.id == A.c.case_id))]
    case_ids = sorted({a.case_id for a in atts})
    resolved: dict[str, int | None] = {}
    for i in range(0, len(case_ids), 900):
        chunk = case_ids[i : i + 900]
        evs: dict[str, list[Event]] = {cid: [] for cid in chunk}
        q = select(E.c.case_id, E.c.at, E.c.kind, E.c.id).where(
            E.c.case_id.in_(chunk), E.c.kind.in_(("resolved", "closed")))
        for r in conn.execute(q):
            evs[r.case_id].append(Event(at=r.at, kind=r.kind, seq=r.id))
        resolved.update({cid: first_resolved_or_closed(v) for cid, v in evs.items()})
    return plan_purge(at, terminated, users, atts, resolved)


def plan_json(p: PurgePlan, *, dry_run: bool, audit_id: int | None = None,
              paths: list[str] | None = None, cases_touched: list[str] | None = None) -> dict[str, Any]:
    """The purge report (``purge [--dry-run] --json``): ids and due instants, no PII."""
    out: dict[str, Any] = {
        "at": format_instant(p.at),
        "dry_run": dry_run,
        "counts": _counts(p),
        "users": [{"id": d.id, "subscriber": d.subscriber, "due": format_instant(d.due)} for d in p.users],
        "attachments": [{"id": d.id, "case": d.case_id, "subscriber": d.subscriber,
                         "due": format_instant(d.due), "reason": d.reason} for d in p.attachments],
    }
    if not dry_run:
        out["audit_id"] = audit_id
        out["released_files"] = paths or []
        out["cases_touched"] = cases_touched or []
    return out


def _counts(p: PurgePlan) -> dict[str, int]:
    return {"user_pii": len(p.users), "user_accounts": len(p.users), "attachments": len(p.attachments)}


def purge(store: Any, at: int, *, actor: str | None, recorded_at: int) -> PurgeResult:
    """Remove everything due at ``at`` and record the audit, in one transaction (leads)."""
    with store.write() as session:
        try:
            require(session, actor, "purge")
        except NotAllowed as exc:
            raise Refused(str(exc)) from None
        p = plan(session, at)
        paths = _delete_attachments(session, [int(d.id) for d in p.attachments])
        touched = _forget_users(session, p)
        _delete_users(session, [str(d.id) for d in p.users])
        touched = sorted(set(touched) | {d.case_id for d in p.attachments if d.case_id})
        res = session.execute(insert(PA).values(
            at=at, recorded_at=recorded_at, by=actor, counts=_counts(p),
            ids={"users": [d.id for d in p.users],
                 "attachments": [d.id for d in p.attachments],
                 "cases_touched": touched}))
        if touched:
            mark_changed(session, *touched)
        return PurgeResult(p, int(res.inserted_primary_key[0]), paths, touched)


def _delete_attachments(session: Any, ids: list[int]) -> list[str]:
    paths: list[str] = []
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        paths += [r[0] for r in session.execute(select(A.c.path).where(A.c.id.in_(chunk)))]
        session.execute(delete(A).where(A.c.id.in_(chunk)))
    return sorted(set(paths))


def _forget_users(session: Any, p: PurgePlan) -> list[str]:
    """Replace the purged users' ids by ``removed user`` on their subscribers' cases;
    returns the ids of the cases whose history changed."""
    by_sub: dict[str, list[str]] = {}
    for d in p.users:
        by_sub.setdefault(d.subscriber, []).append(str(d.id))
    touched: set[str] = set()
    for sub, ids in by_sub.items():
        cases = select(C.c.id).where(C.c.subscriber_id == sub)
        touched |= {r[0] for r in session.execute(select(E.c.case_id).where(
            E.c.case_id.in_(cases), E.c.by.in_(ids)).distinct())}
        session.execute(update(E).where(E.c.case_id.in_(cases), E.c.by.in_(ids)).values(by=REMOVED_USER))
        touched |= {r[0] for r in session.execute(select(C.c.id).where(
            C.c.subscriber_id == sub, C.c.opened_by.in_(ids)))}
        session.execute(update(C).where(C.c.subscriber_id == sub, C.c.opened_by.in_(ids))
                        .values(opened_by=REMOVED_USER))
        session.execute(update(TE).where(TE.c.subscriber_id == sub, TE.c.by.in_(ids)).values(by=REMOVED_USER))
    return sorted(touched)


def _delete_users(session: Any, ids: list[str]) -> None:
    for i in range(0, len(ids), 900):
        session.execute(delete(U).where(U.c.id.in_(ids[i : i + 900])))


def audits(conn: Conn) -> list[dict[str, Any]]:
    """Every purge recorded, oldest first."""
    return [{"id": r.id, "at": format_instant(r.at), "recorded_at": format_instant(r.recorded_at),
             "by": r.by, "counts": r.counts, "ids": r.ids}
            for r in conn.execute(select(PA).order_by(PA.c.id))]
