"""The products report (``products``, policy §12): every version of the support matrix by
end of support, with the open cases of the queue whose deployment runs it.

Apart from ``console.lifespan`` because it reads the queue, and the queue reads the matrix
(each row's end-of-support flag) from ``console.lifespan``.
"""

from __future__ import annotations

from typing import Any

from console.lifespan import load_matrix, version_json
from console.queue import load_queue
from console.records import Conn, load_deployments
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook


def support_report(conn: Conn, policy: Policy | PolicyBook, at: int) -> list[dict[str, Any]]:
    """Versions by end of support (soonest first; then product, version) with their open
    cases at ``at``: the cases listed in the queue (reported, not closed; a resolved case
    awaiting closure counts) whose deployment runs that version.

    Deployed versions missing from the matrix come last with ``end_of_support`` null, so
    a gap in the matrix is visible.
    """
    matrix = load_matrix(conn)
    dep_version = {did: (d.product, d.version) for did, d in load_deployments(conn, at).items()}
    cases: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in load_queue(conn, policy, at):
        key = dep_version.get(row.deployment) if row.deployment else None
        if key is None:
            continue
        cases.setdefault(key, []).append(
            {
                "id": row.id,
                "subscriber": row.subscriber,
                "deployment": row.deployment,
                "type": row.type,
                "priority": row.priority,
                "status": row.status,
                "title": row.title,
            }
        )
    out = []
    for v in sorted(matrix.values(), key=lambda v: (v.end_of_support, v.product, v.version)):
        item = version_json(v, at)
        item["open_cases"] = sorted(cases.get((v.product, v.version), []), key=lambda c: c["id"])
        out.append(item)
    for key in sorted(set(dep_version.values()) - set(matrix)):
        out.append(
            {
                "product": key[0],
                "version": key[1],
                "released": None,
                "discontinuation_notice": None,
                "end_of_support": None,
                "past_end_of_support": False,
                "updated_at": None,
                "updated_by": None,
                "open_cases": sorted(cases.get(key, []), key=lambda c: c["id"]),
            }
        )
    return out
