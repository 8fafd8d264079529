"""The policy's loose clauses (issue 18): a deployment's managed third-party components,
and the component a P0 incident names.

Revision ID: 0009_clauses
Revises: 0008_dated_changes
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_clauses"
down_revision: str | Sequence[str] | None = "0008_dated_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deployment") as batch:
        batch.add_column(
            sa.Column("components", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("support_case") as batch:
        batch.add_column(sa.Column("component", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("support_case") as batch:
        batch.drop_column("component")
    with op.batch_alter_table("deployment") as batch:
        batch.drop_column("components")
