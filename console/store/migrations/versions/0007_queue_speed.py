"""History that does not slow the desk: indexes that let the queue, the sweep, the
console's first screen and the meters read only what is listed (open or resolved), never
the closed history.

- ``case_state (listed, reported_at)``: the listed cases up to an instant, and the cut
  points that split ``queue --json`` evenly between its workers;
- ``case_state (listed, anchor_at)``: cases closed after a past ``--at`` (and listed cases
  with an event just ahead of "now");
- ``case_state (listed, valid_until)``: listed cases whose summary a suspension boundary
  has made stale;
- ``time_entry (subscriber_id, at)`` and ``time_entry (at)``: the time entries of the
  current terms (one subscriber's, every subscriber's), not those of past years;
- ``case_state.title`` and ``.deployment_id`` (copied from support_case, where both are
  fixed at creation): the queue reads case_state alone, without a join per listed case;
- ``case_state.rev`` (indexed): a number that grows with every write of a case's summary,
  so a console told "something changed" (SQLite's change feed cannot say what) re-reads
  only the cases written since it last read (``rev > last``), not the whole queue.

Revision ID: 0007_queue_speed
Revises: 0005_sla_record
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_queue_speed"
down_revision: str | Sequence[str] | None = "0005_sla_record"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_case_state_listed_reported_at", "case_state", ["listed", "reported_at"]),
    ("ix_case_state_listed_anchor_at", "case_state", ["listed", "anchor_at"]),
    ("ix_case_state_listed_valid_until", "case_state", ["listed", "valid_until"]),
    ("ix_time_entry_subscriber_id_at", "time_entry", ["subscriber_id", "at"]),
    ("ix_time_entry_at", "time_entry", ["at"]),
)


def upgrade() -> None:
    with op.batch_alter_table("case_state") as batch:
        batch.add_column(sa.Column("rev", sa.BigInteger(), nullable=False,
                                   server_default=sa.text("0")))
        batch.add_column(sa.Column("title", sa.String(), nullable=False,
                                   server_default=sa.text("''")))
        batch.add_column(sa.Column("deployment_id", sa.String(), nullable=True))
    op.execute("UPDATE case_state SET "
               "title = (SELECT c.title FROM support_case c WHERE c.id = case_state.case_id), "
               "deployment_id = (SELECT c.deployment_id FROM support_case c "
               "WHERE c.id = case_state.case_id)")
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_index("ix_case_state_rev", "case_state", ["rev"])


def downgrade() -> None:
    op.drop_index("ix_case_state_rev", table_name="case_state")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("case_state") as batch:
        batch.drop_column("deployment_id")
        batch.drop_column("title")
        batch.drop_column("rev")
