"""The lifespan pane's read (policy §12): every product version by end of support, soonest
first, the versions deployments run that the matrix lacks, which deployments are past end
of support, and the operator's role. ``with_cases`` puts the queue's open cases under
their versions (the queue the app holds: no re-read)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select

from console.lifespan import load_matrix
from console.operators import role_of
from console.plain_sql import paced
from console.queue_rows import QueueRow
from console.records import deployment_table
from console.store.engine import Store


@dataclass(frozen=True)
class VersionRow:
    product: str
    version: str
    released: date | None
    notice: date | None
    end: date | None  # None: not in the support matrix
    past: bool
    updated_by: str | None = None
    cases: tuple[QueueRow, ...] = ()  # the open cases on this version

    @property
    def key(self) -> str:
        return f"{self.product}\x00{self.version}"


@dataclass(frozen=True)
class MatrixData:
    at: int
    versions: tuple[VersionRow, ...]
    dep_version: dict[str, tuple[str, str]]  # deployment -> (product, version)
    past_deployments: frozenset[str]
    role: str


def matrix_data(store: Store, at: int, user: str | None) -> MatrixData:
    deployment = deployment_table
    with store.connection() as conn:
        matrix = load_matrix(conn)
        dep_version = {
            str(r.id): (str(r.product), str(r.version))
            for r in conn.execute(
                select(deployment.c.id, deployment.c.product, deployment.c.version)
            )
        }
        role = role_of(conn, user)
    rows = [
        VersionRow(
            v.product,
            v.version,
            v.released,
            v.discontinuation_notice,
            v.end_of_support,
            v.past(at),
            v.updated_by,
        )
        for v in sorted(matrix.values(), key=lambda v: (v.end_of_support, v.product, v.version))
    ]
    for product, version in sorted(set(dep_version.values()) - set(matrix)):
        rows.append(VersionRow(product, version, None, None, None, False))
    past_versions = {(r.product, r.version) for r in rows if r.past}
    past = frozenset(d for d, pv in dep_version.items() if pv in past_versions)
    return MatrixData(at, tuple(rows), dep_version, past, role)


def with_cases(
    data: MatrixData, items: Iterable[QueueRow], pause: Callable[[], object] | None = None
) -> MatrixData:
    """``data`` with each listed, not closed case under its deployment's version;
    ``pause``: see ``console.plain_sql.paced`` (the console's queue: 100k rows)."""
    cases: dict[tuple[str, str], list[QueueRow]] = {}
    for it in paced(items, pause, every=5000):
        if it.deployment is None or it.status == "closed":
            continue
        pv = data.dep_version.get(it.deployment)
        if pv is not None:
            cases.setdefault(pv, []).append(it)
    versions = tuple(
        replace(
            r,
            cases=tuple(sorted(cases.get((r.product, r.version), []), key=lambda it: it.id)),
        )
        for r in data.versions
    )
    return replace(data, versions=versions)
