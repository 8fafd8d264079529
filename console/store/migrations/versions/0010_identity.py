"""Identity and roles that hold (issue 13): lifts appended as records, the login that wrote
each event, and on PostgreSQL the database as the boundary.

Both backends:
- ``suspension_lift``: lifting a suspension appends a record (a change table is never
  updated); ``case_event.recorded_by``: the login that wrote the row.

PostgreSQL only (SQLite has no users: there every member of the group that may write the
file can write anything, and the roles are advisory):
- group roles ``support_engineer``, ``support_lead`` (a member of engineer) and
  ``support_system`` (a member of engineer), created when missing (they are cluster-wide);
  one login per person is a member of one of them (``support-console grant``);
- privileges: everyone reads; an engineer only ever adds rows (events, cases, links, time
  entries, escalations, attachments) and updates the case's projection and version;
  subscriber, deployment, support-user, suspension, product, policy and operator changes
  are a lead's; nobody but the owner (who runs the migrations) may UPDATE or DELETE the
  history, audit and change tables (case_event, escalation, time_entry, case_link,
  attachment, purge_audit, policy_version, subscriber_suspension, suspension_lift), and no
  support role may DELETE anything;
- row-level security on the tables engineers write: ``by`` (``opened_by``, ``added_by``)
  must be the session's login unless the login is a lead (a lead's import carries other
  people's names) or a system login; a sweep's escalation may be recorded as ``sweep``
  by any login (every console sweeps), and ``recorded_by`` keeps who did; lead-only event
  kinds (suspended, unsuspended, a manual escalation) need ``support_lead``, a war-team
  plan edit a lead or an executive;
- SECURITY DEFINER functions for the changes a lead makes beyond those privileges, each
  checking ``pg_has_role(session_user, ...)``: ``support_console_grant`` (logins and roles),
  ``support_console_purge`` (the retention purge: removes and forgets, policy §11) and
  ``support_console_reset_policy`` (an empty database takes an import's policy history).
  Functions run as the owner, so the owner needs CREATEROLE (or is a superuser).

A later migration that adds a table grants on it (default privileges give SELECT only).

Revision ID: 0010_identity
Revises: 0009_clauses
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_identity"
down_revision: str | Sequence[str] | None = "0009_clauses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The event kinds only a lead records (console.operators.ACTIONS; keep in step).
LEAD_KINDS = ("suspended", "unsuspended")
#: Tables whose rows are history, audit or change records: no UPDATE or DELETE but the owner's.
HISTORY = (
    "case_event",
    "escalation",
    "time_entry",
    "case_link",
    "attachment",
    "purge_audit",
    "policy_version",
    "subscriber_suspension",
    "suspension_lift",
    "subscriber_change",
    "deployment_change",
)
#: ``by``-like columns: their default is the session's login.
BY_COLUMNS = (
    ("case_event", "by"),
    ("time_entry", "by"),
    ("escalation", "by"),
    ("attachment", "added_by"),
    ("support_case", "opened_by"),
    ("subscriber_suspension", "by"),
    ("suspension_lift", "by"),
    ("policy_version", "by"),
    ("product_version", "updated_by"),
    ("operator", "updated_by"),
    ("purge_audit", "by"),
    ("support_user", "added_by"),
    ("subscriber_change", "by"),
    ("deployment_change", "by"),
)

_ROLES = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'support_engineer') THEN
    CREATE ROLE support_engineer NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'support_lead') THEN
    CREATE ROLE support_lead NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'support_system') THEN
    CREATE ROLE support_system NOLOGIN;
  END IF;
  IF NOT pg_has_role('support_lead', 'support_engineer', 'MEMBER') THEN
    GRANT support_engineer TO support_lead;
  END IF;
  IF NOT pg_has_role('support_system', 'support_engineer', 'MEMBER') THEN
    GRANT support_engineer TO support_system;
  END IF;
END
$$;
"""

_GRANTS = """
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO support_engineer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO support_engineer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO support_engineer;
GRANT INSERT ON case_event, support_case, case_link, case_state, time_entry, escalation,
  attachment TO support_engineer;
GRANT UPDATE ON case_state TO support_engineer;
GRANT UPDATE (version) ON support_case TO support_engineer;
GRANT INSERT, UPDATE ON subscriber, deployment, support_user, product_version, operator
  TO support_lead;
GRANT INSERT ON subscriber_suspension, suspension_lift, policy_version TO support_lead;
-- Dated changes of subscribers and deployments (policy §14): a lead's, added only.
GRANT INSERT ON subscriber_change, deployment_change TO support_lead;
-- Notifications: leads keep the receivers; any console's escalation enqueues a message in
-- its own transaction, and deliverers (any login running `notify`) mark them sent.
GRANT INSERT, UPDATE ON notify_receiver TO support_lead;
GRANT INSERT, UPDATE ON notify_outbox TO support_engineer;
"""

_HELPERS = """
CREATE OR REPLACE FUNCTION support_console_is_lead() RETURNS boolean
  LANGUAGE sql STABLE AS $$ SELECT pg_has_role(session_user, 'support_lead', 'MEMBER') $$;
CREATE OR REPLACE FUNCTION support_console_is_system() RETURNS boolean
  LANGUAGE sql STABLE AS $$ SELECT pg_has_role(session_user, 'support_system', 'MEMBER') $$;
CREATE OR REPLACE FUNCTION support_console_is_executive() RETURNS boolean
  LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM public.operator o
                   WHERE o.name = session_user AND o.role = 'executive') $$;
-- Who may sign a row with ``who``: the login itself, a lead (imports), a system login.
CREATE OR REPLACE FUNCTION support_console_may_sign(who text) RETURNS boolean
  LANGUAGE sql STABLE AS $$
    SELECT coalesce(who = session_user, false) OR support_console_is_lead()
           OR support_console_is_system() $$;
-- A needle as a literal in a regular expression (every non-alphanumeric escaped).
CREATE OR REPLACE FUNCTION support_console_re(t text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT regexp_replace(t, '([^[:alnum:][:space:]])', '\\\\\\1', 'g') $$;
CREATE OR REPLACE FUNCTION support_console_scrub(t text, pat text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL OR pat IS NULL THEN t
                ELSE regexp_replace(t, pat, 'removed user', 'gi') END $$;
CREATE OR REPLACE FUNCTION support_console_scrub_by(t text, ids text[], pat text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL THEN NULL WHEN t = ANY (ids) THEN 'removed user'
                ELSE support_console_scrub(t, pat) END $$;
"""

_POLICIES = f"""
ALTER TABLE case_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_event_read ON case_event FOR SELECT USING (true);
CREATE POLICY case_event_add ON case_event FOR INSERT WITH CHECK (
  (support_console_may_sign(by)
   OR (by = 'sweep' AND kind = 'escalated'
       AND (data->>'missed') IN ('workaround', 'resolution')))
  AND (kind NOT IN ({", ".join(f"'{k}'" for k in LEAD_KINDS)}) OR support_console_is_lead())
  AND (kind <> 'plan_updated' OR support_console_is_lead() OR support_console_is_executive())
  AND (kind <> 'escalated' OR coalesce(data->>'missed', 'manual') IN ('workaround', 'resolution')
       OR support_console_is_lead()));

ALTER TABLE escalation ENABLE ROW LEVEL SECURITY;
CREATE POLICY escalation_read ON escalation FOR SELECT USING (true);
CREATE POLICY escalation_add ON escalation FOR INSERT WITH CHECK (
  (missed IN ('workaround', 'resolution') AND (support_console_may_sign(by) OR by = 'sweep'))
  OR support_console_is_lead());

ALTER TABLE time_entry ENABLE ROW LEVEL SECURITY;
CREATE POLICY time_entry_read ON time_entry FOR SELECT USING (true);
CREATE POLICY time_entry_add ON time_entry FOR INSERT WITH CHECK (support_console_may_sign(by));

ALTER TABLE attachment ENABLE ROW LEVEL SECURITY;
CREATE POLICY attachment_read ON attachment FOR SELECT USING (true);
CREATE POLICY attachment_add ON attachment FOR INSERT WITH CHECK (support_console_may_sign(added_by));

ALTER TABLE support_case ENABLE ROW LEVEL SECURITY;
CREATE POLICY support_case_read ON support_case FOR SELECT USING (true);
CREATE POLICY support_case_add ON support_case FOR INSERT WITH CHECK (support_console_may_sign(opened_by));
CREATE POLICY support_case_version ON support_case FOR UPDATE USING (true) WITH CHECK (true);
"""

# The login that wrote an event, whatever the client sent.
_STAMP = """
CREATE OR REPLACE FUNCTION support_console_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.recorded_by := session_user;
  RETURN NEW;
END
$$;
CREATE TRIGGER case_event_recorded_by BEFORE INSERT ON case_event
  FOR EACH ROW EXECUTE FUNCTION support_console_stamp();
"""

_GRANT_FN = """
CREATE OR REPLACE FUNCTION support_console_grant(p_login text, p_role text, p_verifier text,
                                                 p_now bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_owner boolean;
  v_target pg_roles%ROWTYPE;
  v_group text;
BEGIN
  SELECT pg_has_role(session_user, d.datdba, 'MEMBER') INTO v_owner
    FROM pg_database d WHERE d.datname = current_database();
  IF NOT (v_owner OR pg_has_role(session_user, 'support_lead', 'MEMBER')) THEN
    RAISE EXCEPTION 'not allowed: granting a database login needs the lead role (% is not a lead)',
      session_user USING ERRCODE = '42501';
  END IF;
  IF p_role NOT IN ('engineer', 'lead', 'executive', 'system') THEN
    RAISE EXCEPTION 'unknown role % (engineer, lead, executive or system)', p_role
      USING ERRCODE = '22023';
  END IF;
  IF p_login !~ '^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$' OR p_login LIKE 'pg\\_%'
     OR p_login IN ('support_engineer', 'support_lead', 'support_system', 'public') THEN
    RAISE EXCEPTION 'not a login name for a person: %', p_login USING ERRCODE = '22023';
  END IF;
  SELECT * INTO v_target FROM pg_roles WHERE rolname = p_login;
  IF FOUND AND (v_target.rolsuper OR v_target.rolcreaterole OR v_target.rolbypassrls
                OR v_target.rolreplication OR v_target.rolcreatedb) THEN
    RAISE EXCEPTION 'not allowed: % is a privileged database role; its administrator changes it',
      p_login USING ERRCODE = '42501';
  END IF;
  IF NOT FOUND THEN
    EXECUTE format('CREATE ROLE %I LOGIN', p_login);
  ELSE
    EXECUTE format('ALTER ROLE %I LOGIN', p_login);
  END IF;
  IF p_verifier IS NOT NULL THEN
    IF p_verifier !~ '^SCRAM-SHA-256\\$' THEN
      RAISE EXCEPTION 'a password reaches the database only as a SCRAM-SHA-256 verifier'
        USING ERRCODE = '22023';
    END IF;
    EXECUTE format('ALTER ROLE %I PASSWORD %L', p_login, p_verifier);
  END IF;
  IF pg_has_role(p_login, 'support_lead', 'MEMBER') AND p_role <> 'lead' THEN
    EXECUTE format('REVOKE support_lead FROM %I', p_login);
  END IF;
  IF pg_has_role(p_login, 'support_system', 'MEMBER') AND p_role <> 'system' THEN
    EXECUTE format('REVOKE support_system FROM %I', p_login);
  END IF;
  v_group := CASE p_role WHEN 'lead' THEN 'support_lead' WHEN 'system' THEN 'support_system'
                         ELSE 'support_engineer' END;
  IF NOT pg_has_role(p_login, v_group, 'MEMBER') THEN
    EXECUTE format('GRANT %I TO %I', v_group, p_login);
  END IF;
  INSERT INTO public.operator (name, role, updated_at, updated_by)
    VALUES (p_login, p_role, p_now, session_user)
    ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, updated_at = EXCLUDED.updated_at,
                                     updated_by = EXCLUDED.updated_by;
END
$$;
"""

_RESET_POLICY_FN = """
CREATE OR REPLACE FUNCTION support_console_reset_policy() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT pg_has_role(session_user, 'support_lead', 'MEMBER') THEN
    RAISE EXCEPTION 'not allowed: importing a policy history needs the lead role'
      USING ERRCODE = '42501';
  END IF;
  IF EXISTS (SELECT 1 FROM public.support_case) OR EXISTS (SELECT 1 FROM public.subscriber) THEN
    RAISE EXCEPTION 'the policy history is replaced only in an empty database'
      USING ERRCODE = '22023';
  END IF;
  DELETE FROM public.policy_version;
END
$$;
"""

# The retention purge (policy §11), mirroring console/retention.py (SQLite) exactly:
# the same due instants (console/rules/retention.py), the same text scrub
# (console/scrub.py). tests/test_identity_pg.py checks the two agree.
_PURGE_FN = """
CREATE OR REPLACE FUNCTION support_console_purge(p_at bigint, p_recorded_at bigint)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  keep constant bigint := 7776000;  -- 90 days
  v_users text[];
  v_needles text[];
  v_pat text;
  v_jpat text;
  v_atts json;
  v_att_ids bigint[];
  v_cases text[] := '{}';
  v_more text[];
  v_fields bigint := 0;
  v_n bigint;
  v_audit bigint;
BEGIN
  IF NOT pg_has_role(session_user, 'support_lead', 'MEMBER') THEN
    RAISE EXCEPTION 'not allowed: purging needs the lead role (% is not a lead)', session_user
      USING ERRCODE = '42501';
  END IF;
  IF p_at > p_recorded_at + 300 THEN
    RAISE EXCEPTION 'a purge removes what is due by now, not later' USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_xact_lock(96780013);
  SELECT coalesce(array_agg(u.id ORDER BY u.id), '{}') INTO v_users
    FROM public.support_user u JOIN public.subscriber s ON s.id = u.subscriber_id
   WHERE s.terminated_at IS NOT NULL AND s.terminated_at + keep <= p_at;
  SELECT coalesce(array_agg(DISTINCT x), '{}') INTO v_needles FROM (
    SELECT btrim(u.name) AS x FROM public.support_user u WHERE u.id = ANY (v_users)
    UNION ALL
    SELECT btrim(u.email) FROM public.support_user u WHERE u.id = ANY (v_users)) q
   WHERE coalesce(x, '') <> '';
  IF cardinality(v_needles) > 0 THEN
    SELECT '(?<![[:alnum:]_])(?:'
           || string_agg(support_console_re(x), '|' ORDER BY length(x) DESC, x)
           || ')(?![[:alnum:]_])',
           '(?<![[:alnum:]_])(?:'
           || string_agg(support_console_re(substr(to_json(x)::text, 2,
                                                   length(to_json(x)::text) - 2)),
                         '|' ORDER BY length(x) DESC, x)
           || ')(?![[:alnum:]_])'
      INTO v_pat, v_jpat FROM unnest(v_needles) x;
  END IF;

  -- Attachments due: 90 days after the latest resolution or closure while the case is
  -- still resolved or closed, or 90 days after termination, whichever comes first.
  SELECT coalesce(json_agg(json_build_object('id', a.id, 'case', a.case_id, 'path', a.path,
                                             'sha256', a.sha256) ORDER BY a.case_id, a.id),
                  '[]'::json),
         coalesce(array_agg(a.id::bigint ORDER BY a.case_id, a.id), '{}')
    INTO v_atts, v_att_ids
    FROM public.attachment a
    JOIN public.support_case c ON c.id = a.case_id
    JOIN public.subscriber s ON s.id = c.subscriber_id
    LEFT JOIN LATERAL (
      SELECT CASE WHEN e.kind = 'reopened' THEN NULL ELSE e.at END AS at
        FROM public.case_event e
       WHERE e.case_id = a.case_id AND e.kind IN ('resolved', 'closed', 'reopened')
         AND e.at <= p_at
       ORDER BY e.at DESC, e.id DESC LIMIT 1) r ON true
   WHERE (r.at IS NOT NULL AND r.at + keep <= p_at)
      OR (s.terminated_at IS NOT NULL AND s.terminated_at + keep <= p_at);
  SELECT coalesce(array_agg(DISTINCT a.case_id), '{}') INTO v_more
    FROM public.attachment a WHERE a.id = ANY (v_att_ids);
  v_cases := v_cases || v_more;
  DELETE FROM public.attachment WHERE id = ANY (v_att_ids);

  IF cardinality(v_users) > 0 THEN
    WITH ch AS (
      UPDATE public.support_case c
         SET title = support_console_scrub(c.title, v_pat),
             opened_by = support_console_scrub_by(c.opened_by, v_users, v_pat)
       WHERE c.opened_by = ANY (v_users)
          OR (v_pat IS NOT NULL AND (c.title ~* v_pat OR c.opened_by ~* v_pat))
      RETURNING c.id)
    SELECT coalesce(array_agg(id), '{}'), count(*) INTO v_more, v_n FROM ch;
    v_cases := v_cases || v_more; v_fields := v_fields + v_n;

    WITH ch AS (
      UPDATE public.case_event e
         SET by = support_console_scrub_by(e.by, v_users, v_pat),
             recorded_by = support_console_scrub_by(e.recorded_by, v_users, v_pat),
             data = CASE WHEN v_jpat IS NOT NULL AND e.data::jsonb::text ~* v_jpat
                         THEN regexp_replace(e.data::jsonb::text, v_jpat, 'removed user',
                                             'gi')::jsonb::json
                         ELSE e.data END
       WHERE e.by = ANY (v_users) OR e.recorded_by = ANY (v_users)
          OR (v_pat IS NOT NULL AND (e.by ~* v_pat OR e.recorded_by ~* v_pat
                                     OR e.data::jsonb::text ~* v_jpat))
      RETURNING e.case_id)
    SELECT coalesce(array_agg(case_id), '{}'), count(*) INTO v_more, v_n FROM ch;
    v_cases := v_cases || v_more; v_fields := v_fields + v_n;

    WITH ch AS (
      UPDATE public.time_entry t
         SET note = support_console_scrub(t.note, v_pat),
             by = support_console_scrub_by(t.by, v_users, v_pat)
       WHERE t.by = ANY (v_users)
          OR (v_pat IS NOT NULL AND (t.note ~* v_pat OR t.by ~* v_pat))
      RETURNING t.case_id)
    SELECT coalesce(array_agg(case_id), '{}'), count(*) INTO v_more, v_n FROM ch;
    v_cases := v_cases || v_more; v_fields := v_fields + v_n;

    WITH ch AS (
      UPDATE public.escalation x SET by = support_console_scrub_by(x.by, v_users, v_pat)
       WHERE x.by = ANY (v_users) OR (v_pat IS NOT NULL AND x.by ~* v_pat)
      RETURNING x.case_id)
    SELECT coalesce(array_agg(case_id), '{}'), count(*) INTO v_more, v_n FROM ch;
    v_cases := v_cases || v_more; v_fields := v_fields + v_n;

    WITH ch AS (
      UPDATE public.attachment a
         SET name = support_console_scrub(a.name, v_pat),
             added_by = support_console_scrub_by(a.added_by, v_users, v_pat)
       WHERE a.added_by = ANY (v_users)
          OR (v_pat IS NOT NULL AND (a.name ~* v_pat OR a.added_by ~* v_pat))
      RETURNING a.case_id)
    SELECT coalesce(array_agg(case_id), '{}'), count(*) INTO v_more, v_n FROM ch;
    v_cases := v_cases || v_more; v_fields := v_fields + v_n;

    UPDATE public.subscriber_suspension s SET by = support_console_scrub_by(s.by, v_users, v_pat)
     WHERE s.by = ANY (v_users) OR (v_pat IS NOT NULL AND s.by ~* v_pat);
    GET DIAGNOSTICS v_n = ROW_COUNT; v_fields := v_fields + v_n;
    UPDATE public.suspension_lift s SET by = support_console_scrub_by(s.by, v_users, v_pat)
     WHERE s.by = ANY (v_users) OR (v_pat IS NOT NULL AND s.by ~* v_pat);
    GET DIAGNOSTICS v_n = ROW_COUNT; v_fields := v_fields + v_n;

    DELETE FROM public.support_user WHERE id = ANY (v_users);
    UPDATE public.support_user u
       SET added_by = support_console_scrub_by(u.added_by, v_users, v_pat),
           removed_by = support_console_scrub_by(u.removed_by, v_users, v_pat)
     WHERE u.added_by = ANY (v_users) OR u.removed_by = ANY (v_users)
        OR (v_pat IS NOT NULL AND (u.added_by ~* v_pat OR u.removed_by ~* v_pat));
    GET DIAGNOSTICS v_n = ROW_COUNT; v_fields := v_fields + v_n;
  END IF;

  SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') INTO v_cases FROM unnest(v_cases) x;
  INSERT INTO public.purge_audit (at, recorded_at, by, counts, ids)
  VALUES (p_at, p_recorded_at, session_user,
          json_build_object('user_pii', cardinality(v_users),
                            'user_accounts', cardinality(v_users),
                            'attachments', cardinality(v_att_ids),
                            'text_fields', v_fields),
          json_build_object('users', to_json(v_users), 'attachments', to_json(v_att_ids),
                            'cases_touched', to_json(v_cases)))
  RETURNING id INTO v_audit;
  RETURN json_build_object('audit_id', v_audit, 'users', to_json(v_users),
                           'attachments', v_atts, 'cases_touched', to_json(v_cases),
                           'text_fields', v_fields);
END
$$;
"""

_FUNCTION_GRANTS = """
REVOKE ALL ON FUNCTION support_console_grant(text, text, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION support_console_purge(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION support_console_reset_policy() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION support_console_grant(text, text, text, bigint) TO support_engineer;
GRANT EXECUTE ON FUNCTION support_console_purge(bigint, bigint) TO support_engineer;
GRANT EXECUTE ON FUNCTION support_console_reset_policy() TO support_engineer;
"""


def _pg(sql: str) -> None:
    """Run SQL text as it is (no bind-parameter parsing: ``[[:alnum:]]``, ``%I``)."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # (None only once the connection is closed)
    driver.execute(sql)


def upgrade() -> None:
    op.create_table(
        "suspension_lift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suspension_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["suspension_id"],
            ["subscriber_suspension.id"],
            name="fk_suspension_lift_suspension_id_subscriber_suspension",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_suspension_lift"),
    )
    op.create_index("ix_suspension_lift_suspension_id", "suspension_lift", ["suspension_id"])
    with op.batch_alter_table("case_event") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    _pg(_ROLES)
    _pg(_GRANTS)
    for table, column in BY_COLUMNS:
        _pg(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT session_user')
    _pg(_HELPERS)
    _pg(_POLICIES)
    _pg(_STAMP)
    _pg(_GRANT_FN)
    _pg(_RESET_POLICY_FN)
    _pg(_PURGE_FN)
    _pg(_FUNCTION_GRANTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg("""
DROP FUNCTION IF EXISTS support_console_purge(bigint, bigint);
DROP FUNCTION IF EXISTS support_console_reset_policy();
DROP FUNCTION IF EXISTS support_console_grant(text, text, text, bigint);
DROP TRIGGER IF EXISTS case_event_recorded_by ON case_event;
DROP FUNCTION IF EXISTS support_console_stamp();
""")
        for table in ("case_event", "escalation", "time_entry", "attachment", "support_case"):
            _pg(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
            for name in ("read", "add", "version"):
                _pg(f"DROP POLICY IF EXISTS {table}_{name} ON {table}")
        for table, column in BY_COLUMNS:
            _pg(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')
        _pg("""
DROP FUNCTION IF EXISTS support_console_scrub_by(text, text[], text);
DROP FUNCTION IF EXISTS support_console_scrub(text, text);
DROP FUNCTION IF EXISTS support_console_re(text);
DROP FUNCTION IF EXISTS support_console_may_sign(text);
DROP FUNCTION IF EXISTS support_console_is_executive();
DROP FUNCTION IF EXISTS support_console_is_system();
DROP FUNCTION IF EXISTS support_console_is_lead();
""")
    # A lift becomes the suspension's end again.
    op.execute(
        "UPDATE subscriber_suspension SET until_at = (SELECT MIN(l.at) FROM suspension_lift l "
        "WHERE l.suspension_id = subscriber_suspension.id) WHERE EXISTS (SELECT 1 FROM "
        "suspension_lift l WHERE l.suspension_id = subscriber_suspension.id AND "
        "(subscriber_suspension.until_at IS NULL OR l.at < subscriber_suspension.until_at))"
    )
    with op.batch_alter_table("case_event") as batch:
        batch.drop_column("recorded_by")
    op.drop_index("ix_suspension_lift_suspension_id", table_name="suspension_lift")
    op.drop_table("suspension_lift")
