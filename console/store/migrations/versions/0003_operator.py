"""Operators and their roles (engineer, lead, executive).

Revision ID: 0003_operator
Revises: 0002_criterion_escalation
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_operator"
down_revision: str | Sequence[str] | None = "0002_criterion_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_operator"),
    )


def downgrade() -> None:
    op.drop_table("operator")
