"""Dated changes of subscribers and deployments (policy §14): each a record in force from
its effective instant; the subscriber and deployment rows keep the facts first recorded.

Revision ID: 0008_dated_changes
Revises: 0006_notifications
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_dated_changes"
down_revision: str | Sequence[str] | None = "0006_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _table(name: str, owner: str, owner_table: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(owner, sa.String(), nullable=False),
        sa.Column("effective_at", sa.BigInteger(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            [owner], [f"{owner_table}.id"], name=f"fk_{name}_{owner}_{owner_table}"
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_{owner}", name, [owner])


def upgrade() -> None:
    _table("subscriber_change", "subscriber_id", "subscriber")
    _table("deployment_change", "deployment_id", "deployment")


def downgrade() -> None:
    for name, owner in (
        ("deployment_change", "deployment_id"),
        ("subscriber_change", "subscriber_id"),
    ):
        op.drop_index(f"ix_{name}_{owner}", table_name=name)
        op.drop_table(name)
