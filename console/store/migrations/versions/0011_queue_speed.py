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
  fixed at creation): the queue reads case_state alone, without a join per listed case.
  The one rewrite of a title, the retention purge's scrub (policy §11), reaches the copy
  through a trigger on both backends, so a purged name is left in no summary;
- ``case_state.escalate_at`` (indexed with listed): when an incident falls due for
  escalation if nothing more happens, so that a sweep reads only the incidents due, not
  every open one; filled here for the listed incidents from their events;
- ``case_state.rev`` (indexed): a number that grows with every write of a case's summary,
  so a console told "something changed" (SQLite's change feed cannot say what) re-reads
  only the cases written since it last read (``rev > last``), not the whole queue.

Revision ID: 0011_queue_speed
Revises: 0010_identity
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_queue_speed"
down_revision: str | Sequence[str] | None = "0010_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_case_state_listed_reported_at", "case_state", ["listed", "reported_at"]),
    ("ix_case_state_listed_anchor_at", "case_state", ["listed", "anchor_at"]),
    ("ix_case_state_listed_valid_until", "case_state", ["listed", "valid_until"]),
    ("ix_case_state_listed_escalate_at", "case_state", ["listed", "escalate_at"]),
    ("ix_time_entry_subscriber_id_at", "time_entry", ["subscriber_id", "at"]),
    ("ix_time_entry_at", "time_entry", ["at"]),
)


def upgrade() -> None:
    with op.batch_alter_table("case_state") as batch:
        batch.add_column(
            sa.Column("rev", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("title", sa.String(), nullable=False, server_default=sa.text("''"))
        )
        batch.add_column(sa.Column("deployment_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("escalate_at", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE case_state SET "
        "title = (SELECT c.title FROM support_case c WHERE c.id = case_state.case_id), "
        "deployment_id = (SELECT c.deployment_id FROM support_case c "
        "WHERE c.id = case_state.case_id)"
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_index("ix_case_state_rev", "case_state", ["rev"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_TITLE_COPY)
    else:
        op.execute(_SQLITE_TITLE_COPY)
    _fill_escalate_at(op.get_bind())


_SQLITE_TITLE_COPY = """
CREATE TRIGGER support_case_title_copy AFTER UPDATE OF title ON support_case
BEGIN
  UPDATE case_state SET title = NEW.title WHERE case_id = NEW.id;
END
"""

# SECURITY DEFINER: the purge function rewrites titles as the schema's owner, and the copy
# must follow whatever row-level security the summaries are under.
_PG_TITLE_COPY = """
CREATE FUNCTION support_console_title_copy() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public.case_state SET title = NEW.title WHERE case_id = NEW.id;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION support_console_title_copy() FROM PUBLIC;
CREATE TRIGGER support_case_title_copy AFTER UPDATE OF title ON support_case
  FOR EACH ROW EXECUTE FUNCTION support_console_title_copy();
"""


def _fill_escalate_at(conn: sa.Connection) -> None:
    """``escalate_at`` of every listed incident not escalated yet, from its events (the
    projection's own function; closed cases and escalated ones never need it)."""
    from console.policy_store import load_book
    from console.projection import anchor_of, escalate_at
    from console.records import case_facts, load_events, load_terms
    from console.rules.clocks import evaluate

    ids = [
        r[0]
        for r in conn.execute(
            sa.text(
                "SELECT case_id FROM case_state WHERE listed = :t AND type = 'incident' "
                "AND escalated = :f"
            ),
            {"t": True, "f": False},
        )
    ]
    if not ids:
        return
    terms = load_terms(conn, load_book(conn))
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        events = load_events(conn, chunk)
        rows = conn.execute(
            sa.text("SELECT * FROM support_case WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        )
        for r in rows:
            if r.subscriber_id not in terms:
                continue
            facts, evs = case_facts(r), events[r.id]
            t = terms.case(r.subscriber_id, r.reported_at)
            value = escalate_at(evaluate(facts, evs, t, anchor_of(facts, evs)), t)
            conn.execute(
                sa.text("UPDATE case_state SET escalate_at = :e WHERE case_id = :c"),
                {"e": value, "c": r.id},
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS support_case_title_copy ON support_case")
        op.execute("DROP FUNCTION IF EXISTS support_console_title_copy()")
    else:
        op.execute("DROP TRIGGER IF EXISTS support_case_title_copy")
    op.drop_index("ix_case_state_rev", table_name="case_state")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("case_state") as batch:
        batch.drop_column("escalate_at")
        batch.drop_column("deployment_id")
        batch.drop_column("title")
        batch.drop_column("rev")
