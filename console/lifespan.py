"""The product support matrix (policy §12) in the store: read and edit (leads).

The rule itself (end of support, the flag) is pure, in ``console.rules.lifespan``. Here:

- ``load_matrix``: every (product, version) with its dates and end of support, and
  ``deployment_support``: deployment id -> (end of support, past it at ``at``), one query
  for all deployments, so a queue of 100k cases pays one dict lookup per row (both in
  ``console.support_matrix``, plain SQL, re-exported here);
- ``case_support``: the same for one case's deployment (the case view);
- ``set_version``: a lead adds or changes a version (``product set``).

The report of versions with their open cases (``products``) reads the queue, which reads
``deployment_support`` from here: it is ``console.support_report``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from console.errors import Refused
from console.operators import require
from console.records import Conn, load_deployment
from console.rules.timeutil import format_instant
from console.support_matrix import VersionSupport, deployment_support, load_matrix, version_support
from models import ProductVersion, table_of

__all__ = ["VersionSupport", "case_support", "deployment_support", "load_matrix", "set_version"]

PV = table_of(ProductVersion)


def case_support(conn: Conn, deployment_id: str | None, at: int) -> tuple[date | None, bool]:
    """(end of support, past it at ``at``) of a case's deployment; (None, False) without one."""
    if deployment_id is None:
        return None, False
    dep = load_deployment(conn, deployment_id, at)
    if dep is None:
        return None, False
    row = conn.execute(
        select(PV).where(PV.c.product == dep.product, PV.c.version == dep.version)
    ).first()
    if row is None:
        return None, False
    v = version_support(row)
    return v.end_of_support, v.past(at)


def set_version(
    store: Any,
    *,
    product: str,
    version: str,
    released: date,
    notice: date | None,
    actor: str | None,
    now: int,
) -> VersionSupport:
    """Add or replace a version's dates (leads only; ``actor=None`` is a system action).

    Both dates are set as given: omitting ``notice`` records that there is none.
    """
    product, version = (product or "").strip(), (version or "").strip()
    if not product or not version:
        raise Refused("a product version needs a product and a version")
    if notice is not None and notice < released:
        raise Refused(f"the discontinuation notice ({notice}) is before the release ({released})")
    with store.write() as session:
        require(session, actor, "product")
        values = {
            "released": released,
            "discontinuation_notice": notice,
            "updated_at": now,
            "updated_by": actor,
        }
        key = (PV.c.product == product) & (PV.c.version == version)
        if session.execute(select(PV.c.product).where(key)).first() is None:
            session.execute(insert(PV).values(product=product, version=version, **values))
        else:
            session.execute(update(PV).where(key).values(**values))
        return version_support(session.execute(select(PV).where(key)).one())


def version_json(v: VersionSupport, at: int) -> dict[str, Any]:
    return {
        "product": v.product,
        "version": v.version,
        "released": v.released.isoformat(),
        "discontinuation_notice": v.discontinuation_notice.isoformat()
        if v.discontinuation_notice
        else None,
        "end_of_support": v.end_of_support.isoformat(),
        "past_end_of_support": v.past(at),
        "updated_at": format_instant(v.updated_at),
        "updated_by": v.updated_by,
    }
