"""``queue --json`` from stored templates (issue 14): each listed case's projection keeps
its queue entry as JSON text at its anchor, with slots for what moves with time
(``console.output.queue_template``), so that writing a 100k-case queue fills in a few
values per case instead of formatting every field. This migration writes the templates of
the cases already listed, from their stored summaries (the evaluation at their anchor);
closed cases keep NULL.

PostgreSQL: the column is covered by the table-wide grants of 0010_identity; its text holds
no user's name (the title and the assignee are slots, read from their own columns, so a
purge has nothing more to rewrite).

Revision ID: 0014_queue_json
Revises: 0013_outbox_forgets
Create Date: 2026-11-30
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_queue_json"
down_revision: str | Sequence[str] | None = "0013_outbox_forgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch (see 0012_assignment: SQLite's batch copy of
    # case_state trips the title-copy trigger of 0011_queue_speed).
    op.add_column("case_state", sa.Column("queue_json", sa.Text(), nullable=True))
    from console.output import queue_template
    from console.projection import decode

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT case_id, subscriber_id, deployment_id, reported_at, anchor_at, valid_until,"
            " type, priority, level, status, clocks FROM case_state WHERE listed = :t"
        ),
        {"t": True},
    ).all()
    update = sa.text("UPDATE case_state SET queue_json = :doc WHERE case_id = :id")
    batch = []
    for r in rows:
        clocks = json.loads(r.clocks) if isinstance(r.clocks, str) else r.clocks
        ev = decode(
            clocks,
            at=r.anchor_at,
            type_=r.type,
            priority=r.priority,
            level=r.level,
            status=r.status,
            valid_until=r.valid_until,
        )
        doc = queue_template(r.case_id, r.subscriber_id, r.deployment_id, r.reported_at, ev)
        batch.append({"id": r.case_id, "doc": doc})
        if len(batch) >= 2000:
            bind.execute(update, batch)
            batch.clear()
    if batch:
        bind.execute(update, batch)


def downgrade() -> None:
    op.execute("ALTER TABLE case_state DROP COLUMN queue_json")  # SQLite 3.35+ and PostgreSQL
