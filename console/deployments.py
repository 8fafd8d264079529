"""A deployment's managed third-party components (policy §5), shown; a lead sets them as a
dated change (``console.changes.change_deployment``, ``deployment set --components``).

A managed third-party component is a third-party product Konneqt administers inside a
managed deployment (a database, a message broker). A P0 incident on one names it, and
while its vendor's assistance is awaited the incident's resolution clock is paused.
The list is checked when a case names a component (creation, reclassification), never
against the cases already recorded: a component dropped later stays in their history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from console.actions import Refused
from console.records import Conn, deployment_facts, deployment_table
from console.rules.eligibility import DeploymentFacts


def load(conn: Conn, deployment_id: str) -> DeploymentFacts:
    row = conn.execute(
        select(deployment_table).where(deployment_table.c.id == deployment_id)
    ).first()
    if row is None:
        raise Refused(f"unknown deployment {deployment_id!r}")
    return deployment_facts(row)


def deployment_json(d: DeploymentFacts) -> dict[str, Any]:
    return {
        "id": d.id,
        "subscriber": d.subscriber,
        "environment": d.environment,
        "managed": d.managed,
        "product": d.product,
        "version": d.version,
        "components": list(d.components),
    }
