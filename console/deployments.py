"""A deployment's managed third-party components (policy §5), set by a lead.

A managed third-party component is a third-party product Konneqt administers inside a
managed deployment (a database, a message broker). A P0 incident on one names it, and
while its vendor's assistance is awaited the incident's resolution clock is paused.
The list is checked when a case names a component (creation, reclassification), never
against the cases already recorded: a component dropped later stays in their history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from console.actions import Refused
from console.importer import component_names
from console.operators import NotAllowed, require
from console.records import Conn, D, deployment_facts
from console.rules.eligibility import DeploymentFacts
from console.rules.timeutil import BadValue


def load(conn: Conn, deployment_id: str) -> DeploymentFacts:
    row = conn.execute(select(D).where(D.c.id == deployment_id)).first()
    if row is None:
        raise Refused(f"unknown deployment {deployment_id!r}")
    return deployment_facts(row)


def set_components(store: Any, deployment_id: str, names: list[str], *,
                   actor: str | None) -> DeploymentFacts:
    """Replace the deployment's component list (leads), in one transaction."""
    with store.write() as session:
        try:
            require(session, actor, "set_components")
        except NotAllowed as exc:
            raise Refused(str(exc)) from None
        q = select(D).where(D.c.id == deployment_id)
        row = session.execute(q if store.is_sqlite else q.with_for_update()).first()
        if row is None:
            raise Refused(f"unknown deployment {deployment_id!r}")
        try:
            clean = component_names(names, managed=bool(row.managed))
        except BadValue as exc:
            raise Refused(f"components: {exc} ({deployment_id} is "
                          f"{'managed' if row.managed else 'not managed'})") from None
        session.execute(update(D).where(D.c.id == deployment_id).values(components=list(clean)))
        return load(session, deployment_id)


def deployment_json(d: DeploymentFacts) -> dict[str, Any]:
    return {"id": d.id, "subscriber": d.subscriber, "environment": d.environment,
            "managed": d.managed, "product": d.product, "version": d.version,
            "components": list(d.components)}
