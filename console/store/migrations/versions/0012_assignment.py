"""Assignment (policy §10): every case has at most one assignee, set by ``assigned``
events (take, hand over, unassign). The projection keeps it (``case_state.assignee``) so
the queue's column and its "mine" and "unassigned" filters need no event reads; this
migration computes it for the cases already stored, from their latest ``assigned`` event
in time order (the same as ``console.projection.project``).

PostgreSQL: an engineer records an ``assigned`` event signed with their own login under
the row-level security of 0010_identity (``case_event_add``: any kind not reserved to
leads, ``by`` = the session's login) and updates ``case_state`` (a table-wide UPDATE
grant, which covers the new column): nothing to grant here.

Revision ID: 0012_assignment
Revises: 0011_queue_speed
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_assignment"
down_revision: str | Sequence[str] | None = "0011_queue_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch (SQLite's batch copies and renames case_state, which
    # the title-copy trigger of 0011_queue_speed on support_case refuses mid-way).
    op.add_column("case_state", sa.Column("assignee", sa.String(), nullable=True))
    to = (
        "json_extract(e.data, '$.to')"
        if op.get_bind().dialect.name == "sqlite"
        else "(e.data ->> 'to')"
    )
    op.execute(
        "UPDATE case_state SET assignee = ("
        f"SELECT NULLIF(TRIM({to}), '') FROM case_event e "
        "WHERE e.case_id = case_state.case_id AND e.kind = 'assigned' "
        "ORDER BY e.at DESC, e.id DESC LIMIT 1)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE case_state DROP COLUMN assignee")  # SQLite 3.35+ and PostgreSQL
