"""PostgreSQL as the boundary (issue 13): two database logins, an engineer and a lead, on
the throwaway server (password authentication; tests/conftest.py's pg_hba.conf).

The engineer is refused each lead-only action through the CLI, an import, the console
(Pilot, in tests/test_identity_console_pg.py) and psql itself; the database refuses even
when the console's own check is bypassed; the lead is allowed; nothing is written on any
refusal (a fingerprint of every table and of the logins' roles is unchanged).
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from cli_support import run

from console import clock

pytestmark = pytest.mark.pg

NOW = "2026-11-24T15:00:00Z"
LEAD_PW = "lead-Pa55word!"
ENG_PW = "eng-Pa55word!"
TABLES = (
    "subscriber",
    "subscriber_suspension",
    "suspension_lift",
    "deployment",
    "support_user",
    "support_case",
    "case_link",
    "case_event",
    "case_state",
    "time_entry",
    "escalation",
    "operator",
    "attachment",
    "purge_audit",
    "product_version",
    "policy_version",
)


def desk_doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme Bank",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
                "timezone": "America/New_York",
            },
            {
                "id": "beta",
                "name": "Beta Co",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
                "suspensions": [{"reason": "abuse", "from": "2026-11-02T00:00:00Z"}],
            },
        ],
        "deployments": [
            {
                "id": "acme-prod",
                "subscriber": "acme",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "4.2.0",
            }
        ],
        "users": [
            {
                "id": "acme-u1",
                "subscriber": "acme",
                "name": "Ana Silva",
                "email": "ana@acme.example",
                "admin": True,
            },
            {
                "id": "acme-u2",
                "subscriber": "acme",
                "name": "Bruno Costa",
                "email": "bruno@acme.example",
            },
        ],
        "cases": [
            {
                "id": "I-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P2",
                "title": "Gateway slow",
                "reported_at": "2026-11-24T14:00:00Z",
                "events": [{"at": "2026-11-24T14:10:00Z", "kind": "acknowledged", "by": "eng-old"}],
            },
            # Its workaround (24 counted hours) breached long ago: a sweep escalates it.
            {
                "id": "I-2",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P1",
                "title": "Gateway down",
                "reported_at": "2026-11-02T14:00:00Z",
                "events": [{"at": "2026-11-02T14:10:00Z", "kind": "acknowledged", "by": "eng-old"}],
            },
        ],
    }


@dataclass
class Desk:
    url: str  # the owner's (postgres)
    lead: str
    eng: str
    lead_url: str
    eng_url: str
    server: object
    tmp: Path

    def psql(self, sql: str, *, as_lead: bool = False):
        login, pw = (self.lead, LEAD_PW) if as_lead else (self.eng, ENG_PW)
        return self.server.psql(self.url, login, pw, sql)

    def owner(self) -> psycopg.Connection:
        name = self.url.split("/", 3)[3].split("?")[0]
        return psycopg.connect(
            host=str(self.server.dir),
            port=self.server.port,
            user="postgres",
            dbname=name,
            autocommit=True,
        )

    def fingerprint(self) -> dict[str, str]:
        """Every table's rows, and the test logins' memberships."""
        out = {}
        with self.owner() as conn:
            for t in TABLES:
                out[t] = conn.execute(
                    f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                    f"FROM {t} x"
                ).fetchone()[0]
            out["roles"] = conn.execute(
                "SELECT string_agg(m.rolname || '>' || g.rolname, ',' ORDER BY m.rolname, g.rolname) "
                "FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member "
                "JOIN pg_roles g ON g.oid = a.roleid WHERE m.rolname = ANY(%s)",
                [[self.lead, self.eng]],
            ).fetchone()[0]
        return out

    def rows(self, sql: str, *params) -> list[tuple]:
        with self.owner() as conn:
            return [tuple(r) for r in conn.execute(sql, list(params))]


def _write(path: Path, doc: dict) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _grant(capsys, monkeypatch, url: str, login: str, role: str, password: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    code, _, err = run(capsys, "--db", url, "grant", login, "--role", role, "--password")
    assert code == 0, err


def open_desk(pg_server, pg_url: str, tmp_path: Path, capsys, monkeypatch, doc: dict) -> Desk:
    """A desk on a fresh database: the owner creates it and names the first lead (with a
    password); the lead imports ``doc`` and grants an engineer a login."""
    tag = uuid.uuid4().hex[:8]
    lead, eng = f"lead_{tag}", f"eng_{tag}"
    code, _, err = run(capsys, "--db", pg_url, "init", "--lead", lead)
    assert code == 0, err
    _grant(capsys, monkeypatch, pg_url, lead, "lead", LEAD_PW)
    lead_url = pg_server.login_url(pg_url, lead, LEAD_PW)
    code, _, err = run(capsys, "--db", lead_url, "import", _write(tmp_path / "d.json", doc))
    assert code == 0, err
    _grant(capsys, monkeypatch, lead_url, eng, "engineer", ENG_PW)
    return Desk(
        pg_url, lead, eng, lead_url, pg_server.login_url(pg_url, eng, ENG_PW), pg_server, tmp_path
    )


def close_desk(d: Desk) -> None:
    d.server.ensure_running()
    d.server.drop_database(d.url)
    for login in (d.lead, d.eng):
        d.server._admin(f'DROP ROLE IF EXISTS "{login}"')


@pytest.fixture
def desk(pg_server, pg_url, tmp_path, capsys, monkeypatch):
    clock.freeze(NOW)
    d = open_desk(pg_server, pg_url, tmp_path, capsys, monkeypatch, desk_doc())
    yield d
    clock.freeze(None)
    close_desk(d)


def _policy_file(tmp: Path) -> str:
    from importlib import resources

    text = resources.files("console.rules").joinpath("policy.toml").read_text("utf-8")
    return _write_text(
        tmp / "p2.toml",
        text.replace('"incident.P1.response" = "1h"', '"incident.P1.response" = "2h"'),
    )


def _write_text(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _lead_only_commands(d: Desk) -> list[list[str]]:
    return [
        ["suspend", "acme", "--reason", "abuse"],
        ["lift", "beta"],
        ["renew", "acme", "--term-end", "2027-12-31"],
        ["event", "I-1", "suspended", "--reason", "custom_extension"],
        ["event", "I-1", "escalated", "--reason", "key account"],
        ["operators", "set", d.eng, "lead"],
        ["grant", d.eng, "--role", "lead"],
        ["product", "set", "gateway", "9.9", "--released", "2026-01-01"],
        ["policy", "publish", _policy_file(d.tmp), "--reason", "faster P1"],
        ["purge"],
        ["user-add", "acme", "acme-u3", "--name", "Cy", "--email", "cy@acme.example"],
        ["user-remove", "acme", "acme-u2"],
        [
            "import",
            _write(d.tmp / "ops.json", {"operators": [{"name": "mallory", "role": "lead"}]}),
        ],
        [
            "import",
            _write(
                d.tmp / "susp.json",
                {
                    "subscribers": [
                        {
                            "id": "gale",
                            "name": "Gale",
                            "plan": "basic",
                            "term_start": "2026-01-01",
                            "term_end": "2026-12-31",
                            "suspensions": [{"reason": "abuse", "from": "2026-11-01T00:00:00Z"}],
                        }
                    ]
                },
            ),
        ],
        [
            "import",
            _write(
                d.tmp / "ev.json",
                {
                    "cases": [
                        {
                            "id": "I-9",
                            "subscriber": "acme",
                            "deployment": "acme-prod",
                            "type": "incident",
                            "priority": "P3",
                            "title": "x",
                            "reported_at": "2026-11-20T14:00:00Z",
                            "events": [
                                {
                                    "at": "2026-11-20T15:00:00Z",
                                    "kind": "suspended",
                                    "by": d.eng,
                                    "reason": "custom_extension",
                                }
                            ],
                        }
                    ]
                },
            ),
        ],
    ]


def _one_line_refusal(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("not allowed: "), err
    for leak in ("INSERT", "UPDATE", "SELECT", "Traceback", "psycopg", "[SQL", "parameters"):
        assert leak not in err, err


def test_the_engineer_is_refused_every_lead_only_action_through_the_cli(desk, capsys):
    before = desk.fingerprint()
    for argv in _lead_only_commands(desk):
        code, out, err = run(capsys, "--db", desk.eng_url, *argv, now=NOW)
        assert code == 1, (argv, err)
        _one_line_refusal(err)
        assert f"({desk.eng} is an engineer)" in err, (argv, err)
    # --by names only a system account, and only for a system login.
    code, _, err = run(
        capsys, "--db", desk.eng_url, "event", "I-1", "status_update", "--note", "x", "--by", "cron"
    )
    assert code == 1
    assert "not allowed: recording as a system account (--by) needs the system role" in err
    code, _, err = run(
        capsys, "--db", desk.eng_url, "event", "I-1", "status_update", "--by", desk.lead
    )
    assert code == 1
    assert "--by takes only a system account" in err
    # --user is gone: who acts is the database login.
    code, _, err = run(
        capsys, "--db", desk.eng_url, "suspend", "acme", "--reason", "abuse", "--user", desk.lead
    )
    assert code == 1
    assert "unrecognized arguments: --user" in err
    assert desk.fingerprint() == before


def test_the_database_refuses_even_when_the_consoles_check_is_bypassed(desk, capsys, monkeypatch):
    """A modified client (the role check patched out) meets the database's own refusal,
    in one line of words."""
    import console.operators as operators

    monkeypatch.setattr(operators, "role_of", lambda conn, name: "lead" if name else "engineer")
    before = desk.fingerprint()
    words = {
        "suspend": "suspending a subscriber needs the lead role",
        "lift": "lifting a subscriber's suspension needs the lead role",
        "renew": "changing a subscriber needs the lead role",
        "suspended": "suspending a case's SLA needs the lead role",
        "escalated": "escalating an incident before a target is missed needs the lead role",
        "operators": "granting a database login needs the lead role",
        "grant": "granting a database login needs the lead role",
        "product": "editing the support matrix needs the lead role",
        "policy": "publishing a policy version needs the lead role",
        "purge": "purging needs the lead role",
        "user-add": "changing a subscriber needs the lead role",
        "user-remove": "changing a subscriber needs the lead role",
        "import": "needs the lead",
    }
    for argv in _lead_only_commands(desk):
        code, _, err = run(capsys, "--db", desk.eng_url, *argv, now=NOW)
        assert code == 1, (argv, err)
        _one_line_refusal(err)
        key = argv[2] if argv[0] == "event" else argv[0]
        assert words[key] in err, (argv, err)
    assert desk.fingerprint() == before


def test_the_engineer_is_refused_by_psql_itself(desk):
    before = desk.fingerprint()
    eng, lead = desk.eng, desk.lead
    from console.rules.timeutil import parse_instant

    t0 = parse_instant(NOW)
    t1 = t0 + 60
    refused = {
        "a lead-only event": f"INSERT INTO case_event (case_id, at, kind, by, data, recorded_at) "
        f"VALUES ('I-1', {t0}, 'suspended', '{eng}', "
        f'\'{{"reason": "abuse"}}\', {t1})',
        "a manual escalation": f"INSERT INTO case_event (case_id, at, kind, by, data, recorded_at) "
        f"VALUES ('I-1', {t0}, 'escalated', '{eng}', '{{}}', {t1})",
        "an escalation row of its own": f"INSERT INTO escalation (case_id, subscriber_id, missed, "
        f"escalated_at, recorded_at, by) VALUES ('I-1', 'acme', "
        f"'manual', {t0}, {t1}, '{eng}')",
        "a forged by": f"INSERT INTO case_event (case_id, at, kind, by, data, recorded_at) "
        f"VALUES ('I-1', {t0}, 'status_update', '{lead}', '{{}}', {t1})",
        "a forged system by": f"INSERT INTO case_event (case_id, at, kind, by, data, recorded_at) "
        f"VALUES ('I-1', {t0}, 'status_update', 'cron', '{{}}', {t1})",
        "no by at all": f"INSERT INTO case_event (case_id, at, kind, by, data, recorded_at) "
        f"VALUES ('I-1', {t0}, 'status_update', NULL, '{{}}', {t1})",
        "a forged time entry": f"INSERT INTO time_entry (case_id, event_id, subscriber_id, at, hours, "
        f"exempt, by) VALUES ('I-1', (SELECT min(id) FROM case_event), "
        f"'acme', {t0}, 1, false, '{lead}')",
        "a case opened in another's name": f"INSERT INTO support_case (id, subscriber_id, type, "
        f"title, reported_at, level, konneqt_initiated, version, "
        f"opened_by) VALUES ('X-1', 'acme', 'query', 'q', {t0}, "
        f"'L1', false, 1, '{lead}')",
        "UPDATE of history": "UPDATE case_event SET data = '{}'",
        "UPDATE of an event's by": f"UPDATE case_event SET by = '{eng}'",
        "DELETE of history": "DELETE FROM case_event",
        "TRUNCATE of history": "TRUNCATE case_event",
        "UPDATE of an escalation": "UPDATE escalation SET by = 'x'",
        "DELETE of the audit": "DELETE FROM purge_audit",
        "UPDATE of a policy version": "UPDATE policy_version SET reason = 'x'",
        "UPDATE of a suspension": "UPDATE subscriber_suspension SET until_at = 0",
        "DELETE of a time entry": "DELETE FROM time_entry",
        "DELETE of a case": "DELETE FROM support_case",
        "DELETE of a projection": "DELETE FROM case_state",
        "a title rewritten": "UPDATE support_case SET title = 'x'",
        "a suspension": f"INSERT INTO subscriber_suspension (subscriber_id, reason, from_at, by, "
        f"recorded_at) VALUES ('acme', 'abuse', {t0}, '{eng}', {t1})",
        "a lift": f"INSERT INTO suspension_lift (suspension_id, at, by, recorded_at) "
        f"SELECT id, {t0}, '{eng}', {t1} FROM subscriber_suspension",
        "a subscriber change": "UPDATE subscriber SET term_end = '2030-01-01'",
        "a new subscriber": "INSERT INTO subscriber (id, name, plan, coverage, term_start, term_end, "
        "targets) VALUES ('z', 'Z', 'basic', 'business', '2026-01-01', "
        "'2026-12-31', '{}')",
        "a support user": "INSERT INTO support_user (id, subscriber_id, name, email, admin) "
        "VALUES ('x', 'acme', 'X', 'x@acme.example', true)",
        "a product version": "INSERT INTO product_version (product, version, released) "
        "VALUES ('gateway', '9.9', '2026-01-01')",
        "a policy version": "INSERT INTO policy_version (number, effective_at, text, sha256, reason, "
        f"by, recorded_at) VALUES (9, {t1}, 'x', 'x', 'x', '{eng}', {t1})",
        "a role in the table": f"UPDATE operator SET role = 'lead' WHERE name = '{eng}'",
        "a role row": f"INSERT INTO operator (name, role, updated_at) VALUES ('m', 'lead', {t0})",
        "the grant function": f"SELECT support_console_grant('{eng}', 'lead', NULL, {t0})",
        "the purge function": f"SELECT support_console_purge({t0}, {t1})",
        "the policy reset": "SELECT support_console_reset_policy()",
        "a role membership": f'GRANT support_lead TO "{eng}"',
        "becoming a lead": "SET ROLE support_lead",
        "switching the checks off": "ALTER TABLE case_event DISABLE ROW LEVEL SECURITY",
    }
    for what, sql in refused.items():
        proc = desk.psql(sql)
        assert proc.returncode != 0, (what, proc.stdout)
        assert "ERROR" in proc.stderr, (what, proc.stderr)
        assert any(
            w in proc.stderr
            for w in (
                "permission denied",
                "row-level security",
                "not allowed",
                "must be owner",
                "must have admin",
            )
        ), (what, proc.stderr)
    assert desk.fingerprint() == before
    # What an engineer may do, psql does too, in the engineer's own name whatever it says.
    ok = desk.psql(
        f"INSERT INTO case_event (case_id, at, kind, data, recorded_at) "
        f"VALUES ('I-1', {t0}, 'status_update', '{{\"note\": \"by psql\"}}', {t1})"
    )
    assert ok.returncode == 0, ok.stderr
    assert desk.rows("SELECT by, recorded_by FROM case_event WHERE data->>'note' = 'by psql'") == [
        (eng, eng)
    ]


def test_the_lead_is_allowed(desk, capsys, monkeypatch):
    lead = desk.lead_url
    for argv in (
        ["suspend", "acme", "--reason", "abuse", "--from", "2026-11-24T14:30:00Z"],
        ["lift", "acme", "--at", "2026-11-24T14:45:00Z"],
        ["lift", "beta"],
        ["renew", "acme", "--term-end", "2027-12-31"],
        ["event", "I-1", "suspended", "--reason", "custom_extension"],
        ["event", "I-2", "escalated"],
        ["product", "set", "gateway", "9.9", "--released", "2026-01-01"],
        [
            "policy",
            "publish",
            _policy_file(desk.tmp),
            "--reason",
            "faster P1",
            "--effective",
            "2026-12-01T00:00:00Z",
        ],
        ["user-add", "acme", "acme-u3", "--name", "Cy", "--email", "cy@acme.example"],
        ["user-remove", "acme", "acme-u2"],
        [
            "import",
            _write(
                desk.tmp / "ops.json",
                {"operators": [{"name": f"exec_{desk.eng[4:]}", "role": "executive"}]},
            ),
        ],
        ["purge", "--dry-run"],
        ["purge"],
    ):
        code, _, err = run(capsys, "--db", lead, *argv, now=NOW)
        assert code == 0, (argv, err)
    _grant(capsys, monkeypatch, lead, desk.eng, "lead", ENG_PW)  # a lead promotes the engineer
    assert desk.fingerprint()["roles"] == (
        f"{desk.eng}>support_engineer,{desk.eng}>support_lead,{desk.lead}>support_lead"
    )
    assert desk.rows("SELECT name, role, updated_by FROM operator ORDER BY name") == sorted(
        [
            (desk.eng, "lead", desk.lead),
            (f"exec_{desk.eng[4:]}", "executive", desk.lead),
            (desk.lead, "lead", "postgres"),
        ]
    )
    # The lift is a record of its own; the suspension row is never changed.
    assert desk.rows(
        "SELECT s.until_at, l.by FROM subscriber_suspension s "
        "JOIN suspension_lift l ON l.suspension_id = s.id "
        "WHERE s.subscriber_id = 'acme'"
    ) == [(None, desk.lead)]
    for login in (f"exec_{desk.eng[4:]}",):
        desk.server._admin(f'DROP ROLE IF EXISTS "{login}"')


def test_identity_is_the_database_login(desk, capsys):
    code, _, err = run(
        capsys, "--db", desk.eng_url, "event", "I-1", "status_update", "--note", "on it", now=NOW
    )
    assert code == 0, err
    code, out, _ = run(capsys, "--db", desk.eng_url, "case", "I-1", "--json", now=NOW)
    assert json.loads(out)["history"][-1]["by"] == desk.eng
    # Every console sweeps; its escalations are the system's (`sweep`), and the database
    # keeps which login's console recorded them.
    code, out, err = run(capsys, "--db", desk.eng_url, "sweep", now=NOW)
    assert code == 0, err
    assert "ESCALATED I-2" in out, err
    assert desk.rows("SELECT by, recorded_by FROM case_event WHERE kind = 'escalated'") == [
        ("sweep", desk.eng)
    ]
    assert desk.rows("SELECT by FROM escalation") == [("sweep",)]
    code, out, _ = run(capsys, "--db", desk.eng_url, "operators")
    assert f"{desk.eng:<24} engineer" in out
    assert f"{desk.lead:<24} lead" in out


def test_the_first_lead_only_at_init_by_the_creator(desk, capsys):
    before = desk.fingerprint()
    for url in (desk.eng_url, desk.lead_url, desk.url):
        code, _, err = run(capsys, "--db", url, "init", "--lead", desk.eng)
        assert code == 1, err
        assert "has a lead already" in err, err
    assert desk.fingerprint() == before


def test_an_engineer_may_not_upgrade_the_schema(desk):
    from console.store.engine import HEAD, StoreUnavailable, open_store

    with desk.owner() as conn:  # as if an older version had made it
        conn.execute("UPDATE alembic_version SET version_num = '0005_sla_record'")
    with pytest.raises(StoreUnavailable, match="needs an upgrade that only its owner may run"):
        open_store(desk.eng_url)
    with desk.owner() as conn:
        conn.execute(f"UPDATE alembic_version SET version_num = '{HEAD}'")


def test_a_system_login_records_as_a_system_account(desk, capsys, monkeypatch):
    system = f"sys_{desk.eng[4:]}"
    _grant(capsys, monkeypatch, desk.lead_url, system, "system", "sys-Pa55word!")
    try:
        url = desk.server.login_url(desk.url, system, "sys-Pa55word!")
        code, _, err = run(
            capsys,
            "--db",
            url,
            "event",
            "I-1",
            "status_update",
            "--note",
            "nightly check",
            "--by",
            "cron",
            now=NOW,
        )
        assert code == 0, err
        assert desk.rows(
            "SELECT by, recorded_by FROM case_event WHERE data->>'note' = 'nightly check'"
        ) == [("cron", system)]
        code, _, err = run(capsys, "--db", url, "suspend", "acme", "--reason", "abuse", now=NOW)
        assert code == 1
        assert f"({system} is a system account)" in err
        # The database agrees: a system login may sign as cron, not record lead-only kinds.
        proc = desk.server.psql(
            desk.url,
            system,
            "sys-Pa55word!",
            "INSERT INTO case_event (case_id, at, kind, by, data, recorded_at) "
            "VALUES ('I-1', 1795964400, 'suspended', 'cron', '{}', 1795964460)",
        )
        assert proc.returncode != 0
        assert "row-level security" in proc.stderr
    finally:
        desk.server._admin(f'DROP ROLE IF EXISTS "{system}"')
