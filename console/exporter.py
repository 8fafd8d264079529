"""``support-console export``: the whole database in the interchange format, streamed.

The output imports into an empty database and gives back the same data: cases carry
their priority as reported plus every event in record order, so reclassifications and
everything else replay exactly.

``write_export`` writes the document piece by piece, in constant memory whatever the
history's size: the small sections first, then the cases in ``reported_at`` order, read
through one streamed query and their events, links and attachments a chunk of cases at a
time. The text is what ``json.dumps(doc, ensure_ascii=False, indent=1)`` gives for the
same document (a test holds them equal), with DEL and the C1 controls escaped too: a
subscriber's text in a backup stays inert when the file is shown on a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from console.records import (
    Conn,
    case_link_table,
    case_table,
    deployment_change_table,
    deployment_table,
    event_table,
    subscriber_change_table,
    subscriber_table,
    suspension_rows,
)
from console.rules.timeutil import format_instant
from models import Attachment, Operator, PolicyVersionRow, ProductVersion, SupportUser, table_of

CHUNK = 1000  # cases whose events are read at once

_encode = json.JSONEncoder(ensure_ascii=False, indent=1, allow_nan=False).encode
#: The encoder escapes C0 controls itself; DEL and the C1 controls (0x9b: a one-byte CSI) too.
_C1 = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def _dumps(item: Any) -> str:
    text = _encode(item)
    return text if text.isascii() and "\x7f" not in text else text.translate(_C1)


def export(conn: Conn) -> dict[str, Any]:
    """The whole document in memory (small databases and tests)."""
    return {name: list(items) for name, items in sections(conn)}


def write_export(conn: Conn, out: TextIO, progress: Callable[[int], None] | None = None) -> int:
    """Write the whole document to ``out``; returns the number of cases written."""
    n = 0
    out.write("{")
    for k, (name, items) in enumerate(sections(conn)):
        out.write(("\n " if k == 0 else ",\n ") + json.dumps(name) + ": ")
        first = True
        for item in items:
            out.write(("[\n  " if first else ",\n  ") + _dumps(item).replace("\n", "\n  "))
            first = False
            if name == "cases":
                n += 1
                if progress is not None and n % CHUNK == 0:
                    progress(CHUNK)
        out.write("[]" if first else "\n ]")
    out.write("\n}\n")
    if progress is not None and n % CHUNK:
        progress(n % CHUNK)
    return n


def count_cases(conn: Conn) -> int:
    from sqlalchemy import func

    return int(conn.execute(select(func.count()).select_from(case_table)).scalar_one())


def sections(conn: Conn) -> Iterator[tuple[str, Iterable[dict[str, Any]]]]:
    """(name, items) of the document in order; every section but ``cases`` is small."""
    yield "policy_versions", _policy_versions(conn)
    yield "subscribers", _subscribers(conn)
    dep_changes = _changes(conn, deployment_change_table, "deployment_id")
    yield (
        "deployments",
        [
            {
                "id": r.id,
                "subscriber": r.subscriber_id,
                "environment": r.environment,
                "managed": bool(r.managed),
                "product": r.product,
                "version": r.version,
                "changes": dep_changes.get(r.id, []),
                "components": list(r.components or []),
            }
            for r in conn.execute(select(deployment_table).order_by(deployment_table.c.id))
        ],
    )
    su = table_of(SupportUser)
    yield (
        "users",
        [
            {
                "id": r.id,
                "subscriber": r.subscriber_id,
                "name": r.name,
                "email": r.email,
                "admin": bool(r.admin),
                "added_by": r.added_by,
                "added_at": format_instant(r.added_at),
                "removed_by": r.removed_by,
                "removed_at": format_instant(r.removed_at),
            }
            for r in conn.execute(select(su).order_by(su.c.id))
        ],
    )
    op = table_of(Operator)
    yield (
        "operators",
        [
            {"name": r.name, "role": r.role, "updated_by": r.updated_by}
            for r in conn.execute(select(op).order_by(op.c.name))
        ],
    )
    pv = table_of(ProductVersion)
    yield (
        "products",
        [
            {
                "product": r.product,
                "version": r.version,
                "released": r.released.isoformat(),
                "discontinuation_notice": r.discontinuation_notice.isoformat()
                if r.discontinuation_notice
                else None,
            }
            for r in conn.execute(select(pv).order_by(pv.c.product, pv.c.version))
        ],
    )
    yield "cases", _cases(conn)


def _policy_versions(conn: Conn) -> list[dict[str, Any]]:
    pvt = table_of(PolicyVersionRow)
    return [
        {
            "number": r.number,
            "effective_at": format_instant(r.effective_at),
            "text": r.text,
            "reason": r.reason,
            "by": r.by,
            "recorded_at": format_instant(r.recorded_at),
        }
        for r in conn.execute(select(pvt).order_by(pvt.c.number))
    ]


def _subscribers(conn: Conn) -> list[dict[str, Any]]:
    susp: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(suspension_rows(conn), key=lambda r: r.id):
        item = {
            "reason": r.reason,
            "from": format_instant(r.from_at),
            "until": format_instant(r.planned_until),
            "recorded_at": format_instant(r.recorded_at),
        }
        if r.by:
            item["by"] = r.by
        if r.lifted_at is not None:
            item.update(
                {
                    "lifted_at": format_instant(r.lifted_at),
                    "lifted_by": r.lifted_by,
                    "lift_recorded_at": format_instant(r.lift_recorded_at),
                }
            )
        susp.setdefault(r.subscriber_id, []).append(item)
    changes = _changes(conn, subscriber_change_table, "subscriber_id")
    return [
        {
            "id": r.id,
            "name": r.name,
            "plan": r.plan,
            "coverage": r.coverage,
            "timezone": r.timezone,
            "holidays": r.holidays,
            "query_hour_limit": r.query_hour_limit,
            "term_start": r.term_start.isoformat(),
            "term_end": r.term_end.isoformat(),
            "terminated_at": format_instant(r.terminated_at),
            "targets": r.targets or {},
            "suspensions": susp.get(r.id, []),
            "changes": changes.get(r.id, []),
        }
        for r in conn.execute(select(subscriber_table).order_by(subscriber_table.c.id))
    ]


def _changes(conn: Conn, table: Any, col: str) -> dict[str, list[dict[str, Any]]]:
    """Dated changes (policy §14) by subscriber or deployment, in record order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(select(table).order_by(table.c.id)):
        out.setdefault(getattr(r, col), []).append(
            {
                "effective_at": format_instant(r.effective_at),
                "facts": dict(r.facts or {}),
                "reason": r.reason,
                "by": r.by,
                "recorded_at": format_instant(r.recorded_at),
            }
        )
    return out


def _cases(conn: Conn) -> Iterator[dict[str, Any]]:
    """Every case in (reported_at, id) order, read through one streamed query; events,
    links and attachments a chunk at a time (index reads by case id)."""
    if isinstance(conn, Session):
        conn = conn.connection()  # (the session's own: streaming is a Connection's option)
    rows = conn.execution_options(yield_per=CHUNK).execute(
        select(case_table).order_by(case_table.c.reported_at, case_table.c.id)
    )
    for chunk in rows.partitions():
        yield from _chunk(conn, chunk)


def _chunk(conn: Conn, rows: Sequence[Row[Any]]) -> Iterator[dict[str, Any]]:
    ids = [r.id for r in rows]
    events: dict[str, list[dict[str, Any]]] = {}
    links: dict[str, list[str]] = {}
    attachments: dict[str, list[dict[str, Any]]] = {}
    at_t = table_of(Attachment)
    for i in range(0, len(ids), 900):
        part = ids[i : i + 900]
        for r in conn.execute(
            select(event_table).where(event_table.c.case_id.in_(part)).order_by(event_table.c.id)
        ):
            item = {"at": format_instant(r.at), "kind": r.kind, "by": r.by}
            item.update(r.data or {})
            item["recorded_at"] = format_instant(r.recorded_at)
            events.setdefault(r.case_id, []).append(item)
        for r in conn.execute(select(case_link_table).where(case_link_table.c.case_id.in_(part))):
            links.setdefault(r.case_id, []).append(r.linked_case_id)
        for r in conn.execute(select(at_t).where(at_t.c.case_id.in_(part)).order_by(at_t.c.id)):
            attachments.setdefault(r.case_id, []).append(
                {
                    "name": r.name,
                    "size": r.size,
                    "sha256": r.sha256,
                    "path": r.path,
                    "added_at": format_instant(r.added_at),
                    "added_by": r.added_by,
                }
            )
    for r in rows:
        case = {
            "id": r.id,
            "subscriber": r.subscriber_id,
            "deployment": r.deployment_id,
            "type": r.type,
            "priority": r.priority,
            "title": r.title,
            "reported_at": format_instant(r.reported_at),
            "aware_at": format_instant(r.aware_at),
            "level": r.level,
            "konneqt_initiated": bool(r.konneqt_initiated),
            "criterion": r.criterion,
            "component": r.component,
            "opened_by": r.opened_by,
            "recorded_at": format_instant(
                r.recorded_at if r.recorded_at is not None else r.reported_at
            ),
            "links": sorted(links.get(r.id, [])),
            "events": events.get(r.id, []),
        }
        if r.id in attachments:
            case["attachments"] = attachments[r.id]
        yield case
