"""Governance: attachments, the purge audit, the product support matrix, and who added or
removed each support user.

Revision ID: 0004_governance
Revises: 0003_operator
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_governance"
down_revision: str | Sequence[str] | None = "0003_operator"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_user") as batch:
        batch.add_column(sa.Column("added_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("added_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("removed_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("removed_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"], name="fk_attachment_case_id_support_case"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attachment"),
    )
    op.create_index("ix_attachment_case_id", "attachment", ["case_id"])
    op.create_table(
        "purge_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_purge_audit"),
    )
    op.create_table(
        "product_version",
        sa.Column("product", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("released", sa.Date(), nullable=False),
        sa.Column("discontinuation_notice", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("product", "version", name="pk_product_version"),
    )


def downgrade() -> None:
    op.drop_table("product_version")
    op.drop_table("purge_audit")
    op.drop_index("ix_attachment_case_id", table_name="attachment")
    op.drop_table("attachment")
    with op.batch_alter_table("support_user") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("removed_by")
        batch.drop_column("added_at")
        batch.drop_column("added_by")
