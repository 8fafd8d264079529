"""Identity on SQLite (issue 13): the operator is the real uid's OS login, never ``$USER``
nor an option; ``--by`` takes only the policy's system accounts, for a system login; the
first lead is named at ``init --lead`` by the database's creator, and only then; an import
is a lead's migration."""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, run

from console import clock, identity
from console.rules.policy import default_policy
from console.scrub import Scrubber

NOW = "2026-11-24T15:00:00Z"


def doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
            }
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
        "cases": [
            {
                "id": "I-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P2",
                "title": "Gateway slow",
                "reported_at": "2026-11-24T14:00:00Z",
            }
        ],
    }


@pytest.fixture
def db(tmp_path: Path, capsys) -> Path:
    clock.freeze(NOW)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc()), encoding="utf-8")
    db = tmp_path / "db.sqlite"
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", str(db), "import", str(path))  # the creator fills it
    assert code == 0, err
    code, _, err = run(capsys, "--db", str(db), "init", "--lead", "lena")
    assert code == 0, err
    yield db
    clock.freeze(None)


def test_the_operator_is_the_real_uids_login_not_user(db: Path, capsys, monkeypatch):
    monkeypatch.setenv("USER", "lena")
    monkeypatch.setenv("LOGNAME", "lena")
    real = pwd.getpwuid(os.getuid()).pw_name
    assert identity.login_name() == real
    code, _, err = run(capsys, "--db", str(db), "event", "I-1", "acknowledged")
    assert code == 0, err
    _, out, _ = run(capsys, "--db", str(db), "case", "I-1", "--json")
    assert json.loads(out)["history"][-1]["by"] == real
    # $USER=lena makes nobody a lead.
    code, _, err = run(capsys, "--db", str(db), "suspend", "acme", "--reason", "abuse")
    assert code == 1
    assert f"({real} is an engineer)" in err
    # --user is gone.
    code, _, err = run(
        capsys, "--db", str(db), "suspend", "acme", "--reason", "abuse", "--user", "lena"
    )
    assert code == 1
    assert "unrecognized arguments: --user lena" in err


def test_by_takes_only_a_system_account_and_only_for_a_system_login(db: Path, capsys):
    before = fingerprint(db)
    for name in ("lena", "acme-u1", "eng-x"):  # a lead, a subscriber's user, anyone
        code, _, err = run(
            capsys, "--db", str(db), "event", "I-1", "acknowledged", "--by", name, login="eve"
        )
        assert code == 1, err
        assert "--by takes only a system account (cron, sweep)" in err, err
    code, _, err = run(
        capsys, "--db", str(db), "event", "I-1", "acknowledged", "--by", "cron", login="eve"
    )
    assert code == 1
    assert err.strip() == (
        "not allowed: recording as a system account (--by) "
        "needs the system role (eve is an engineer)"
    )
    code, _, err = run(
        capsys, "--db", str(db), "attach", "I-1", str(db), "--by", "cron", login="lena"
    )
    assert code == 1
    assert "needs the system role (lena is a lead)" in err
    assert fingerprint(db) == before
    assert (
        run(capsys, "--db", str(db), "operators", "set", "cronjob", "system", login="lena")[0] == 0
    )
    code, _, err = run(
        capsys, "--db", str(db), "event", "I-1", "acknowledged", "--by", "cron", login="cronjob"
    )
    assert code == 0, err
    _, out, _ = run(capsys, "--db", str(db), "case", "I-1", "--json")
    assert json.loads(out)["history"][-1]["by"] == "cron"
    # A system login is no lead.
    code, _, err = run(
        capsys, "--db", str(db), "suspend", "acme", "--reason", "abuse", login="cronjob"
    )
    assert code == 1
    assert "(cronjob is a system account)" in err
    assert default_policy().system_accounts == ("cron", "sweep")


def test_the_first_lead_is_named_once_by_the_creator(tmp_path: Path, capsys):
    db = tmp_path / "fresh.sqlite"
    assert run(capsys, "--db", str(db), "init")[0] == 0
    before = fingerprint(db)
    # Nobody names a lead with `operators set` while there is none ("anyone may" is gone) ...
    code, _, err = run(
        capsys, "--db", str(db), "operators", "set", "mallory", "lead", login="mallory"
    )
    assert code == 1
    assert "this database has no lead yet" in err
    assert "init --lead" in err
    # ... nor with init unless they created the database.
    code, _, err = run(capsys, "--db", str(db), "init", "--lead", "mallory", login="mallory")
    assert code == 1
    assert "only whoever created the database names its first lead" in err
    # ... nor by importing operators (a lead's migration) into someone else's database.
    ops = tmp_path / "ops.json"
    ops.write_text(
        json.dumps({"operators": [{"name": "mallory", "role": "lead"}]}), encoding="utf-8"
    )
    code, _, err = run(capsys, "--db", str(db), "import", str(ops), login="mallory")
    assert code == 1
    assert err.startswith("not allowed: importing (a lead's migration)")
    assert fingerprint(db) == before
    code, _, err = run(capsys, "--db", str(db), "init", "--lead", "lena")  # the creator
    assert code == 0
    assert "lena is the first lead" in err
    code, _, err = run(capsys, "--db", str(db), "init", "--lead", "mallory")
    assert code == 1
    assert "has a lead already" in err
    code, out, _ = run(capsys, "--db", str(db), "operators")
    assert out.split() == ["lena", "lead"]
    code, _, err = run(capsys, "--db", str(db), "grant", "ben", "--role", "engineer", login="lena")
    assert code == 1
    assert "grant manages PostgreSQL logins" in err
    assert "operators set" in err


def test_an_import_is_a_leads_migration(db: Path, tmp_path: Path, capsys):
    before = fingerprint(db)
    files = {
        "operators": {"operators": [{"name": "mallory", "role": "lead"}]},
        "suspensions": {
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
        "products": {
            "products": [{"product": "gateway", "version": "9.9", "released": "2026-01-01"}]
        },
        "events": {
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
                            "by": "eve",
                            "reason": "custom_extension",
                        }
                    ],
                }
            ]
        },
    }
    for name, content in files.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content), encoding="utf-8")
        code, _, err = run(capsys, "--db", str(db), "import", str(path), login="eve")
        assert code == 1, (name, err)
        assert err.strip() == (
            "not allowed: importing (a lead's migration) needs the lead role (eve is an engineer)"
        ), (name, err)
    assert fingerprint(db) == before
    for name in files:
        code, _, err = run(
            capsys, "--db", str(db), "import", str(tmp_path / f"{name}.json"), login="lena"
        )
        assert code == 0, (name, err)


def test_a_lift_is_a_record_of_its_own_and_as_known_at_sees_it_from_then(db: Path, capsys):
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "suspend",
        "acme",
        "--reason",
        "abuse",
        "--from",
        "2026-11-24T14:20:00Z",
        login="lena",
        now="2026-11-24T14:20:00Z",
    )
    assert code == 0, err
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "lift",
        "acme",
        "--at",
        "2026-11-24T14:40:00Z",
        login="lena",
        now="2026-11-24T14:40:00Z",
    )
    assert code == 0, err
    _, out, _ = run(capsys, "--db", str(db), "export")
    (s,) = [x for x in json.loads(out)["subscribers"] if x["id"] == "acme"][0]["suspensions"]
    assert (s["until"], s["lifted_at"], s["lifted_by"]) == (None, "2026-11-24T14:40:00Z", "lena")
    # As the desk knew it at 14:30, the suspension had no end; later, it ended at 14:40.
    _, out, _ = run(
        capsys,
        "--db",
        str(db),
        "case",
        "I-1",
        "--json",
        "--at",
        "2026-11-24T14:50:00Z",
        "--as-known-at",
        "2026-11-24T14:30:00Z",
    )
    assert json.loads(out)["clocks"]["response"]["state"] == "suspended"
    _, out, _ = run(
        capsys, "--db", str(db), "case", "I-1", "--json", "--at", "2026-11-24T14:50:00Z"
    )
    assert json.loads(out)["clocks"]["response"]["state"] == "running"


# -- the purge's text scrub --------------------------------------------------------------------


def test_the_scrub_takes_whole_names_and_addresses_in_any_case():
    s = Scrubber(["u-1"], ["Ana Silva", "ana@acme.example", "Al", None, "  "])
    assert (
        s.text("Called ANA SILVA (Ana@Acme.Example) re: Also Al's Alps, al")
        == "Called removed user (removed user) re: Also removed user's Alps, removed user"
    )
    assert s.by("u-1") == "removed user"
    assert s.by("ana silva") == "removed user"
    assert s.by("eng-7") == "eng-7"
    assert s.by(None) is None
    assert s.data({"note": "Ana Silva", "n": 3, "list": ["al", {"x": "Al!"}]}) == {
        "note": "removed user",
        "n": 3,
        "list": ["removed user", {"x": "removed user!"}],
    }
    assert Scrubber([], []).empty
    assert Scrubber([], []).text("Al") == "Al"
    # LIKE terms cover the JSON-escaped form of non-ASCII names.
    assert "%Jos\\\\u00e9%" in Scrubber([], ["José"]).like_terms()


def test_the_databases_lead_only_kinds_are_the_engines():
    """Migration 0006 writes the lead-only event kinds into PostgreSQL's row policy; they
    must be those the engine checks (console.operators.ACTIONS)."""
    import importlib.util

    from console.operators import ACTIONS
    from console.rules.lifecycle import EVENT_KINDS
    from console.store.engine import MIGRATIONS_DIR

    spec = importlib.util.spec_from_file_location(
        "m0006", MIGRATIONS_DIR / "versions" / "0010_identity.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    engine = {k for k in EVENT_KINDS if k in ACTIONS and ACTIONS[k][0] == {"lead"}}
    assert set(mod.LEAD_KINDS) == engine == {"suspended", "unsuspended"}
