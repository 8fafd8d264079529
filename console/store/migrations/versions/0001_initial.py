"""Initial schema.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26

Written out in full (not imported from models/) so it stays what it was when models change.
Instants are BigInteger epoch seconds UTC.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{ref_table}")


def upgrade() -> None:
    op.create_table(
        "subscriber",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("plan", sa.String(), nullable=False),
        sa.Column("coverage", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=True),
        sa.Column("holidays", sa.JSON(), nullable=True),
        sa.Column("query_hour_limit", sa.Float(), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("terminated_at", sa.BigInteger(), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriber"),
    )
    op.create_table(
        "subscriber_suspension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("from_at", sa.BigInteger(), nullable=False),
        sa.Column("until_at", sa.BigInteger(), nullable=True),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        _fk("subscriber_id", "subscriber_suspension", "subscriber.id"),
        sa.PrimaryKeyConstraint("id", name="pk_subscriber_suspension"),
    )
    op.create_index(
        "ix_subscriber_suspension_subscriber_id", "subscriber_suspension", ["subscriber_id"]
    )
    op.create_table(
        "deployment",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("subscriber_id", sa.String(), nullable=False),
        sa.Column("environment", sa.String(), nullable=False),
        sa.Column("managed", sa.Boolean(), nullable=False),
        sa.Column("product", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        _fk("subscriber_id", "deployment", "subscriber.id"),
        sa.PrimaryKeyConstraint("id", name="pk_deployment"),
    )
    op.create_index("ix_deployment_subscriber_id", "deployment", ["subscriber_id"])
    op.create_table(
        "support_user",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("subscriber_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("admin", sa.Boolean(), nullable=False),
        _fk("subscriber_id", "support_user", "subscriber.id"),
        sa.PrimaryKeyConstraint("id", name="pk_support_user"),
    )
    op.create_index("ix_support_user_subscriber_id", "support_user", ["subscriber_id"])
    op.create_table(
        "support_case",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("subscriber_id", sa.String(), nullable=False),
        sa.Column("deployment_id", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("reported_at", sa.BigInteger(), nullable=False),
        sa.Column("aware_at", sa.BigInteger(), nullable=True),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("konneqt_initiated", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _fk("subscriber_id", "support_case", "subscriber.id"),
        _fk("deployment_id", "support_case", "deployment.id"),
        sa.PrimaryKeyConstraint("id", name="pk_support_case"),
    )
    op.create_index("ix_support_case_subscriber_id", "support_case", ["subscriber_id"])
    op.create_table(
        "case_link",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("linked_case_id", sa.String(), nullable=False),
        _fk("case_id", "case_link", "support_case.id"),
        _fk("linked_case_id", "case_link", "support_case.id"),
        sa.PrimaryKeyConstraint("case_id", "linked_case_id", name="pk_case_link"),
    )
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        _fk("case_id", "case_event", "support_case.id"),
        sa.PrimaryKeyConstraint("id", name="pk_case_event"),
    )
    op.create_index("ix_case_event_case_id_at_id", "case_event", ["case_id", "at", "id"])
    op.create_table(
        "case_state",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("subscriber_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=True),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("reported_at", sa.BigInteger(), nullable=False),
        sa.Column("anchor_at", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
        sa.Column("next_due", sa.BigInteger(), nullable=True),
        sa.Column("clocks", sa.JSON(), nullable=False),
        _fk("case_id", "case_state", "support_case.id"),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_state"),
    )
    op.create_index("ix_case_state_subscriber_id", "case_state", ["subscriber_id"])
    op.create_index("ix_case_state_listed_next_due", "case_state", ["listed", "next_due"])
    op.create_table(
        "time_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.String(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("by", sa.String(), nullable=True),
        _fk("case_id", "time_entry", "support_case.id"),
        _fk("event_id", "time_entry", "case_event.id"),
        sa.PrimaryKeyConstraint("id", name="pk_time_entry"),
        sa.UniqueConstraint("event_id", name="uq_time_entry_event_id"),
    )
    op.create_index("ix_time_entry_case_id", "time_entry", ["case_id"])
    op.create_index("ix_time_entry_subscriber_id", "time_entry", ["subscriber_id"])


def downgrade() -> None:
    for table in (
        "time_entry",
        "case_state",
        "case_event",
        "case_link",
        "support_case",
        "support_user",
        "deployment",
        "subscriber_suspension",
        "subscriber",
    ):
        op.drop_table(table)  # drops its indexes too
