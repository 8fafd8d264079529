"""``support-console export``: the whole database in the interchange format.

The output imports into an empty database and gives back the same data: cases carry
their priority as reported plus every event in record order, so reclassifications and
everything else replay exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from console.records import C, Conn, D, E, L, S, suspension_rows
from console.rules.timeutil import format_instant
from models import SupportUser


def export(conn: Conn) -> dict[str, Any]:
    susp: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(suspension_rows(conn), key=lambda r: r.id):
        item = {"reason": r.reason, "from": format_instant(r.from_at),
                "until": format_instant(r.planned_until), "recorded_at": format_instant(r.recorded_at)}
        if r.by:
            item["by"] = r.by
        if r.lifted_at is not None:
            item.update({"lifted_at": format_instant(r.lifted_at), "lifted_by": r.lifted_by,
                         "lift_recorded_at": format_instant(r.lift_recorded_at)})
        susp.setdefault(r.subscriber_id, []).append(item)
    from console.records import DC, SC

    def changes_of(table: Any, col: Any) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for r in conn.execute(select(table).order_by(table.c.id)):
            out.setdefault(getattr(r, col), []).append({
                "effective_at": format_instant(r.effective_at), "facts": dict(r.facts or {}),
                "reason": r.reason, "by": r.by, "recorded_at": format_instant(r.recorded_at)})
        return out

    sub_changes = changes_of(SC, "subscriber_id")
    dep_changes = changes_of(DC, "deployment_id")
    subscribers = []
    for r in conn.execute(select(S).order_by(S.c.id)):
        subscribers.append({
            "id": r.id, "name": r.name, "plan": r.plan, "coverage": r.coverage,
            "timezone": r.timezone, "holidays": r.holidays,
            "query_hour_limit": r.query_hour_limit,
            "term_start": r.term_start.isoformat(), "term_end": r.term_end.isoformat(),
            "terminated_at": format_instant(r.terminated_at), "targets": r.targets or {},
            "suspensions": susp.get(r.id, []),
            "changes": sub_changes.get(r.id, []),
        })
    deployments = [
        {"id": r.id, "subscriber": r.subscriber_id, "environment": r.environment,
         "managed": bool(r.managed), "product": r.product, "version": r.version,
         "changes": dep_changes.get(r.id, []), "components": list(r.components or [])}
        for r in conn.execute(select(D).order_by(D.c.id))
    ]
    users = [
        {"id": r.id, "subscriber": r.subscriber_id, "name": r.name, "email": r.email,
         "admin": bool(r.admin), "added_by": r.added_by, "added_at": format_instant(r.added_at),
         "removed_by": r.removed_by, "removed_at": format_instant(r.removed_at)}
        for r in conn.execute(select(SupportUser.__table__).order_by(SupportUser.__table__.c.id))
    ]
    links: dict[str, list[str]] = {}
    for r in conn.execute(select(L)):
        links.setdefault(r.case_id, []).append(r.linked_case_id)
    events: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(select(E).order_by(E.c.id)):
        item = {"at": format_instant(r.at), "kind": r.kind, "by": r.by}
        item.update(r.data or {})
        item["recorded_at"] = format_instant(r.recorded_at)
        events.setdefault(r.case_id, []).append(item)
    from models import Attachment

    at_t = Attachment.__table__
    attachments: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(select(at_t).order_by(at_t.c.id)):
        attachments.setdefault(r.case_id, []).append({
            "name": r.name, "size": r.size, "sha256": r.sha256, "path": r.path,
            "added_at": format_instant(r.added_at), "added_by": r.added_by})
    cases = []
    # Linked-to cases first is not needed: import resolves links across the whole file.
    for r in conn.execute(select(C).order_by(C.c.reported_at, C.c.id)):
        cases.append({
            "id": r.id, "subscriber": r.subscriber_id, "deployment": r.deployment_id,
            "type": r.type, "priority": r.priority, "title": r.title,
            "reported_at": format_instant(r.reported_at), "aware_at": format_instant(r.aware_at),
            "level": r.level, "konneqt_initiated": bool(r.konneqt_initiated),
            "criterion": r.criterion, "component": r.component, "opened_by": r.opened_by,
            "recorded_at": format_instant(r.recorded_at if r.recorded_at is not None
                                          else r.reported_at),
            "links": sorted(links.get(r.id, [])), "events": events.get(r.id, []),
        })
        if r.id in attachments:
            cases[-1]["attachments"] = attachments[r.id]
    from models import Operator

    op = Operator.__table__
    operators = [{"name": r.name, "role": r.role, "updated_by": r.updated_by}
                 for r in conn.execute(select(op).order_by(op.c.name))]
    from models import ProductVersion

    pv = ProductVersion.__table__
    products = [
        {"product": r.product, "version": r.version, "released": r.released.isoformat(),
         "discontinuation_notice": r.discontinuation_notice.isoformat() if r.discontinuation_notice else None}
        for r in conn.execute(select(pv).order_by(pv.c.product, pv.c.version))
    ]
    from models import PolicyVersionRow

    pvt = PolicyVersionRow.__table__
    policy_versions = [
        {"number": r.number, "effective_at": format_instant(r.effective_at), "text": r.text,
         "reason": r.reason, "by": r.by, "recorded_at": format_instant(r.recorded_at)}
        for r in conn.execute(select(pvt).order_by(pvt.c.number))
    ]
    return {"policy_versions": policy_versions, "subscribers": subscribers,
            "deployments": deployments, "users": users, "cases": cases,
            "operators": operators, "products": products}
