"""Linked cases (policy §5): change requests from service requests, and the incident a
confirmed vulnerability opens.

- ``create_change_request``: a Change Request linked to its Service Request (or, with no
  SR, marked Konneqt-initiated), on the SR's subscriber and deployment, which must be
  managed (policy §5). The CR then moves through its own status with ``cr_status`` events
  (``console.rules.lifecycle``): one step at a time, proposed -> approved -> scheduled ->
  implemented -> closed, or rejected from proposed/approved; closed and rejected are final.
- ``confirm_vulnerability``: on a Security Report Analysis, records
  ``vulnerability_confirmed`` and opens the Incident on the same deployment, linked to
  the SRA, in ONE transaction: if the incident is not eligible (e.g. P0 on an unmanaged
  deployment) or the SRA cannot take the event, nothing is written.
- ``case_links``: a case's links both ways, for the case view.

A link is stored once, from the newer case to the one it came from (CR -> SR,
incident -> SRA); ``case --json`` shows it as ``links`` on the newer case and as
``linked_from`` on the older one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from console.actions import Refused, append_in, create_case, create_case_in
from console.records import (
    Conn,
    case_facts,
    case_table,
    load_deployment,
    load_events,
    load_links,
)
from console.rules.clocks import classification, sort_events
from console.store.engine import mark_changed


@dataclass(frozen=True, slots=True)
class Confirmed:
    sra_id: str
    incident_id: str
    event_id: int


def _current_type(conn: Conn, row: Any) -> str:
    events = load_events(conn, [row.id])[row.id]
    return classification(case_facts(row), sort_events(events))[0]


def create_change_request(
    store: Any,
    *,
    sr_id: str | None,
    title: str,
    at: int,
    by: str | None,
    recorded_at: int,
    subscriber: str | None = None,
    deployment: str | None = None,
) -> str:
    """Open a Change Request; returns its id. With ``sr_id`` it is linked to that Service
    Request and takes its subscriber and deployment (unless ``deployment`` is given);
    without, it is Konneqt-initiated and needs ``subscriber``."""
    if sr_id is None:
        if not subscriber:
            raise Refused(
                "a change request without a service request is Konneqt-initiated "
                "and names its subscriber (--subscriber)"
            )
        return create_case(
            store,
            subscriber=subscriber,
            deployment=deployment,
            ctype="change_request",
            priority=None,
            title=title,
            reported_at=at,
            by=by,
            recorded_at=recorded_at,
            konneqt_initiated=True,
        )
    with store.connection() as conn:
        row = conn.execute(select(case_table).where(case_table.c.id == sr_id)).first()
        if row is None:
            raise Refused(f"unknown case {sr_id!r}")
        ctype = _current_type(conn, row)
    if ctype != "service_request":
        raise Refused(f"{sr_id} is a {ctype}: a change request is created from a service request")
    if subscriber is not None and subscriber != row.subscriber_id:
        raise Refused(f"{sr_id} belongs to {row.subscriber_id}, not {subscriber}")
    if at < row.reported_at:
        raise Refused(f"the change request cannot be opened before {sr_id} was reported")
    return create_case(
        store,
        subscriber=row.subscriber_id,
        deployment=deployment or row.deployment_id,
        ctype="change_request",
        priority=None,
        title=title,
        reported_at=at,
        by=by,
        recorded_at=recorded_at,
        links=(sr_id,),
    )


def confirm_vulnerability(
    store: Any,
    sra_id: str,
    *,
    priority: str,
    title: str | None,
    at: int,
    by: str | None,
    recorded_at: int,
    actor: str | None = None,
    note: str | None = None,
) -> Confirmed:
    """Record ``vulnerability_confirmed`` on the SRA and open the linked incident, in one
    transaction (see module docstring). ``title`` defaults to the SRA's title."""
    for attempt in range(5):
        try:
            return _confirm(
                store,
                sra_id,
                priority=priority,
                title=title,
                at=at,
                by=by,
                recorded_at=recorded_at,
                actor=actor,
                note=note,
            )
        except IntegrityError:  # another writer took the next case id (PostgreSQL)
            if attempt == 4:
                raise Refused("could not allocate a case id") from None
    raise AssertionError("unreachable")


def _confirm(
    store: Any,
    sra_id: str,
    *,
    priority: str,
    title: str | None,
    at: int,
    by: str | None,
    recorded_at: int,
    actor: str | None,
    note: str | None,
) -> Confirmed:
    with store.write() as session:
        q = select(case_table).where(case_table.c.id == sra_id)
        row = session.execute(q if store.is_sqlite else q.with_for_update()).first()
        if row is None:
            raise Refused(f"unknown case {sra_id!r}")
        ctype = _current_type(session, row)
        if ctype != "security_report":
            raise Refused(
                f"{sra_id} is a {ctype}: only a security report analysis confirms a vulnerability"
            )
        dep = load_deployment(session, row.deployment_id)
        if dep is None:
            raise Refused(f"{sra_id} names no deployment: the incident needs one")
        title = (title or "").strip() or f"Confirmed vulnerability: {row.title}"
        # Eligibility, the incident, its link to the analysis and its projection: all in
        # this transaction, with the analysis's event below.
        cid = create_case_in(
            session,
            subscriber=row.subscriber_id,
            deployment=dep.id,
            ctype="incident",
            priority=priority,
            title=title,
            reported_at=at,
            by=by,
            recorded_at=recorded_at,
            links=(sra_id,),
        )
        data = {"incident": cid, "priority": priority, "note": note}
        res = append_in(
            session,
            store.is_sqlite,
            sra_id,
            "vulnerability_confirmed",
            at=at,
            by=by,
            data=data,
            recorded_at=recorded_at,
            actor=actor,
        )
        mark_changed(session, cid)
        return Confirmed(sra_id, cid, res.event_id)


def case_links(conn: Conn, case_id: str) -> dict[str, list[str]]:
    """``{"links": cases this one links to, "linked_from": cases linking to it}``, sorted."""
    out, back = load_links(conn, case_id)
    return {"links": sorted(out), "linked_from": sorted(back)}
