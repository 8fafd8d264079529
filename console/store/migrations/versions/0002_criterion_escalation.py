"""Case criterion/opened_by; the escalation table (one row per escalated case).

Revision ID: 0002_criterion_escalation
Revises: 0001_initial
Create Date: 2026-11-26

The escalation's primary key is the case id: "exactly one escalation per case" is then
the database's promise, whatever number of consoles and cron sweeps race to record it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_criterion_escalation"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_case") as batch:
        batch.add_column(sa.Column("criterion", sa.String(), nullable=True))
        batch.add_column(sa.Column("opened_by", sa.String(), nullable=True))
    op.create_table(
        "escalation",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("subscriber_id", sa.String(), nullable=False),
        sa.Column("missed", sa.String(), nullable=False),
        sa.Column("escalated_at", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"], name="fk_escalation_case_id_support_case"
        ),
        sa.PrimaryKeyConstraint("case_id", name="pk_escalation"),
    )
    op.create_index("ix_escalation_subscriber_id", "escalation", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_escalation_subscriber_id", table_name="escalation")
    op.drop_table("escalation")
    with op.batch_alter_table("support_case") as batch:
        batch.drop_column("opened_by")
        batch.drop_column("criterion")
