"""A purge forgets the notification outbox too (policy §11): a queued or sent message's
title and body quote the case's title, which may name a subscriber's user.

On PostgreSQL the purge is the database's function (``support_console_purge``, migration
0010_identity), which deletes the purged users; a trigger on that deletion takes the
user's name and e-mail address out of every outbox message, with the same whole-word
pattern the purge uses for titles and notes. On SQLite the engine does the same
(``console.retention``). ``vacuum`` then rewrites the table (``TOUCHED_TABLES``).

Revision ID: 0013_outbox_forgets
Revises: 0012_assignment
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_outbox_forgets"
down_revision: str | Sequence[str] | None = "0012_assignment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SECURITY DEFINER: the purging lead may not write the outbox's texts; the owner does, for
# exactly the rows that name the deleted user.
_PG = r"""
CREATE FUNCTION support_console_forget_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_pat text;
BEGIN
  SELECT '(?<![[:alnum:]_])(?:'
         || string_agg(public.support_console_re(x), '|' ORDER BY length(x) DESC, x)
         || ')(?![[:alnum:]_])'
    INTO v_pat
    FROM unnest(ARRAY[btrim(OLD.name), btrim(OLD.email)]) x
   WHERE coalesce(x, '') <> '';
  IF v_pat IS NOT NULL THEN
    UPDATE public.notify_outbox
       SET title = public.support_console_scrub(title, v_pat),
           body = public.support_console_scrub(body, v_pat),
           last_error = public.support_console_scrub(last_error, v_pat)
     WHERE title ~* v_pat OR body ~* v_pat OR coalesce(last_error, '') ~* v_pat;
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION support_console_forget_outbox() FROM PUBLIC;
CREATE TRIGGER support_user_forget_outbox AFTER DELETE ON support_user
  FOR EACH ROW EXECUTE FUNCTION support_console_forget_outbox();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # As it is, no bind-parameter parsing (``[[:alnum:]_]``).
        driver = op.get_bind().connection.driver_connection
        assert driver is not None  # (None only once the connection is closed)
        driver.execute(_PG)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS support_user_forget_outbox ON support_user")
        op.execute("DROP FUNCTION IF EXISTS support_console_forget_outbox()")
