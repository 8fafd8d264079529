"""The product support matrix (policy §12) in the store: read and edit (leads).

The rule itself (end of support, the flag) is pure, in ``console.rules.lifespan``. Here:

- ``load_matrix``: every (product, version) with its dates and end of support;
- ``deployment_support``: deployment id -> (end of support, past it at ``at``), one query
  for all deployments, so a queue of 100k cases pays one dict lookup per row;
- ``case_support``: the same for one case's deployment (the case view);
- ``set_version``: a lead adds or changes a version (``product set``).

The report of versions with their open cases (``products``) reads the queue, which reads
``deployment_support`` from here: it is ``console.support_report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from console.errors import Refused
from console.operators import require
from console.records import Conn, load_deployment, load_deployments
from console.rules.lifespan import end_of_support, past_end_of_support
from console.rules.timeutil import format_instant
from models import ProductVersion, table_of

PV = table_of(ProductVersion)


@dataclass(frozen=True, slots=True)
class VersionSupport:
    product: str
    version: str
    released: date
    discontinuation_notice: date | None
    end_of_support: date
    updated_at: int | None = None
    updated_by: str | None = None

    def past(self, at: int) -> bool:
        return past_end_of_support(self.end_of_support, at)


def _support(r: Any) -> VersionSupport:
    return VersionSupport(
        r.product,
        r.version,
        r.released,
        r.discontinuation_notice,
        end_of_support(r.released, r.discontinuation_notice),
        r.updated_at,
        r.updated_by,
    )


def load_matrix(conn: Conn) -> dict[tuple[str, str], VersionSupport]:
    """(product, version) -> its support facts."""
    return {
        (r.product, r.version): _support(r)
        for r in conn.execute(select(PV).order_by(PV.c.product, PV.c.version))
    }


def deployment_support(conn: Conn, at: int) -> dict[str, tuple[date | None, bool]]:
    """Deployment id -> (end of support or None when the version is not in the matrix,
    past it at ``at``). Computed once per (product, version)."""
    matrix = load_matrix(conn)
    per_version: dict[tuple[str, str], tuple[date | None, bool]] = {
        key: (v.end_of_support, v.past(at)) for key, v in matrix.items()
    }
    none: tuple[date | None, bool] = (None, False)
    # The version each deployment runs at ``at`` (dated changes, policy §14).
    return {
        did: per_version.get((d.product, d.version), none)
        for did, d in load_deployments(conn, at).items()
    }


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
    v = _support(row)
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
        return _support(session.execute(select(PV).where(key)).one())


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
