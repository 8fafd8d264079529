"""The SLA record (policy §14): when each case was recorded, the projection's escalated
flag and recorded-up-to instant, and the policy stored as versions (version 1 = the
policy this package ships).

Revision ID: 0005_sla_record
Revises: 0004_governance
Create Date: 2026-11-30
"""

import hashlib
from collections.abc import Sequence
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sla_record"
down_revision: str | Sequence[str] | None = "0004_governance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_EFFECTIVE = 946684800  # 2000-01-01T00:00:00Z: version 1 judges every case


def upgrade() -> None:
    with op.batch_alter_table("support_case") as batch:
        batch.add_column(sa.Column("recorded_at", sa.BigInteger(), nullable=True))
    op.execute("UPDATE support_case SET recorded_at = reported_at")
    with op.batch_alter_table("case_state") as batch:
        batch.add_column(
            sa.Column("escalated", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
        batch.add_column(sa.Column("recorded_upto", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE case_state SET escalated = EXISTS "
        "(SELECT 1 FROM escalation e WHERE e.case_id = case_state.case_id)"
    )
    op.execute(
        "UPDATE case_state SET recorded_upto = "
        "(SELECT MAX(e.recorded_at) FROM case_event e WHERE e.case_id = case_state.case_id)"
    )
    op.execute(
        "UPDATE case_state SET recorded_upto = "
        "(SELECT c.recorded_at FROM support_case c WHERE c.id = case_state.case_id) "
        "WHERE recorded_upto IS NULL OR recorded_upto < "
        "(SELECT c.recorded_at FROM support_case c WHERE c.id = case_state.case_id)"
    )
    table = op.create_table(
        "policy_version",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("effective_at", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_policy_version"),
    )
    text = resources.files("console.rules").joinpath("policy.toml").read_text("utf-8")
    op.bulk_insert(
        table,
        [
            {
                "number": 1,
                "effective_at": FIRST_EFFECTIVE,
                "text": text,
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "reason": "the policy shipped with support-console (first version)",
                # Version 1 judges every case from the start: it is known from its effective
                # instant, so that what the desk "knew" at any instant always includes a policy.
                "by": "support-console",
                "recorded_at": FIRST_EFFECTIVE,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("policy_version")
    with op.batch_alter_table("case_state") as batch:
        batch.drop_column("recorded_upto")
        batch.drop_column("escalated")
    with op.batch_alter_table("support_case") as batch:
        batch.drop_column("recorded_at")
