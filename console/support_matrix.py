"""The product support matrix as stored (policy §12): every (product, version) with its
dates and end of support, and each deployment's flag at an instant.

Plain SQL (``console.plain_sql``): read on a SQLAlchemy connection or a bare driver
connection alike (``queue --json``). ``console.lifespan`` (editing) re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from console.plain_sql import rows
from console.rules.lifespan import end_of_support, past_end_of_support
from console.stored_terms import load_deployments


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


def version_support(r: Any) -> VersionSupport:
    return VersionSupport(
        r.product,
        r.version,
        r.released,
        r.discontinuation_notice,
        end_of_support(r.released, r.discontinuation_notice),
        r.updated_at,
        r.updated_by,
    )


def load_matrix(conn: Any) -> dict[tuple[str, str], VersionSupport]:
    """(product, version) -> its support facts."""
    found = rows(
        conn,
        "SELECT product, version, released, discontinuation_notice, updated_at, updated_by "
        "FROM product_version ORDER BY product, version",
        date_cols=("released", "discontinuation_notice"),
    )
    return {(r.product, r.version): version_support(r) for r in found}


def deployment_support(conn: Any, at: int) -> dict[str, tuple[date | None, bool]]:
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
