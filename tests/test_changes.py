"""Subscriptions and deployments that change over time, in the store and the CLI
(issue 12, policy §14): dated records, refusals, answers about the past that never change,
renewals, terminations and retention, lifespans after an upgrade, import and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, run

T0 = "2026-02-02T14:00:00Z"  # Monday 09:00 New York; 11:00 at -03:00
NOW = "2026-02-04T15:00:00Z"  # Wednesday: when the changes below are recorded
LATER = "2026-02-06T20:00:00Z"


def doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "bas",
                "name": "Basic Co",
                "plan": "basic",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
            },
            {
                "id": "ent",
                "name": "Ent Co",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
            },
        ],
        "deployments": [
            {
                "id": "bas-prod",
                "subscriber": "bas",
                "environment": "production",
                "managed": False,
                "product": "gateway",
                "version": "4.2.0",
            },
            {
                "id": "ent-prod",
                "subscriber": "ent",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "3.0.0",
            },
        ],
        "users": [
            {
                "id": "u-1",
                "subscriber": "bas",
                "name": "Rosa Klein",
                "email": "rosa@bas.example",
                "admin": True,
            }
        ],
        "products": [
            {"product": "gateway", "version": "3.0.0", "released": "2022-01-10"},
            {"product": "gateway", "version": "4.3.0", "released": "2025-06-01"},
        ],
        "cases": [
            {
                "id": "B-1",
                "subscriber": "bas",
                "deployment": "bas-prod",
                "type": "incident",
                "priority": "P2",
                "title": "slow",
                "reported_at": T0,
                "events": [{"at": "2026-02-02T14:30:00Z", "kind": "acknowledged", "by": "e"}],
            },
            {
                "id": "E-1",
                "subscriber": "ent",
                "deployment": "ent-prod",
                "type": "incident",
                "priority": "P0",
                "title": "down",
                "reported_at": T0,
                "events": [{"at": "2026-02-02T14:10:00Z", "kind": "acknowledged", "by": "e"}],
            },
        ],
    }


@pytest.fixture
def db(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "changes.db"
    src = tmp_path / "doc.json"
    src.write_text(json.dumps(doc()), "utf-8")
    init_db(capsys, path)
    assert run(capsys, "--db", str(path), "import", str(src), now=NOW)[0] == 0
    from cli_support import make_lead

    from console.store.engine import open_store

    with open_store(str(path)) as store:
        make_lead(store, "lena")
    return path


def lead(capsys, db: Path, *argv: str, now: str = NOW) -> tuple[int, str, str]:
    return run(capsys, "--db", str(db), *argv, now=now, login="lena")


def case(capsys, db: Path, cid: str, at: str, now: str = NOW) -> str:
    code, out, err = run(capsys, "--db", str(db), "case", cid, "--json", "--at", at, now=now)
    assert code == 0, err
    return out


def test_changes_are_refused_in_words_and_write_nothing(db: Path, capsys):
    before = fingerprint(db)
    cases = [
        (
            ["--user", "eve", "subscriber", "set", "bas", "--plan", "enterprise", "--reason", "x"],
            "changing a subscription needs the lead role",
        ),
        (["--user", "lena", "subscriber", "set", "bas", "--plan", "enterprise"], "needs a reason"),
        (
            [
                "--user",
                "lena",
                "subscriber",
                "set",
                "bas",
                "--plan",
                "enterprise",
                "--reason",
                "x",
                "--effective",
                "2026-02-03T00:00:00Z",
            ],
            "lies in the past",
        ),
        (
            [
                "--user",
                "lena",
                "subscriber",
                "set",
                "bas",
                "--timezone",
                "Mars/Olympus",
                "--reason",
                "x",
            ],
            "timezone: unknown time zone",
        ),
        (
            [
                "--user",
                "lena",
                "subscriber",
                "set",
                "bas",
                "--target",
                "incident.P9.response=1h",
                "--reason",
                "x",
            ],
            "unknown priority",
        ),
        (
            ["--user", "lena", "subscriber", "set", "bas", "--plan", "gold", "--reason", "x"],
            "plan: unknown plan",
        ),
        (
            ["--user", "lena", "subscriber", "set", "nope", "--plan", "basic", "--reason", "x"],
            "unknown subscriber",
        ),
        (
            [
                "--user",
                "lena",
                "deployment",
                "set",
                "bas-prod",
                "--managed",
                "maybe",
                "--reason",
                "x",
            ],
            "--managed: yes or no",
        ),
        (["--user", "lena", "subscriber", "set", "bas", "--reason", "x"], "name a fact"),
    ]
    for argv, words in cases:
        login, argv = argv[1], argv[2:]  # ["--user", NAME, ...]: run as that login
        code, _, err = run(capsys, "--db", str(db), *argv, now=NOW, login=login)
        assert code == 1, (argv, err)
        assert words in err, (argv, err)
    assert fingerprint(db) == before
    # A change before the last recorded change of the same fact is refused too.
    assert (
        lead(
            capsys,
            db,
            "subscriber",
            "set",
            "bas",
            "--coverage",
            "24x7",
            "--reason",
            "x",
            "--effective",
            "2026-02-10T00:00:00Z",
        )[0]
        == 0
    )
    code, _, err = lead(
        capsys,
        db,
        "subscriber",
        "set",
        "bas",
        "--coverage",
        "business",
        "--reason",
        "x",
        "--effective",
        "2026-02-09T00:00:00Z",
    )
    assert code == 1
    assert "coverage: a change effective 2026-02-10T00:00:00Z is already recorded" in err


def test_basic_to_enterprise_gains_clocks_from_the_change(db: Path, capsys):
    code, _, err = lead(
        capsys,
        db,
        "subscriber",
        "set",
        "bas",
        "--plan",
        "enterprise",
        "--reason",
        "upgraded on the order form",
    )
    assert code == 0, err
    code, out, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", LATER, now=LATER)
    b1 = next(c for c in json.loads(out)["cases"] if c["id"] == "B-1")
    assert set(b1["clocks"]) == {"response", "workaround", "resolution", "update"}
    # Enterprise 09-17 New York from Wed 10:00: Wed 7 h, Thu 8 h, Fri 09-15 6 h = 21 h.
    assert b1["clocks"]["resolution"]["elapsed"] == 21 * 3600
    code, out, _ = run(capsys, "--db", str(db), "subscriber", "history", "bas", "--json", now=LATER)
    (change,) = json.loads(out)["changes"]
    assert change == {
        "effective_at": NOW,
        "facts": {"plan": "enterprise"},
        "reason": "upgraded on the order form",
        "by": "lena",
        "recorded_at": NOW,
    }


def test_answers_about_the_past_never_change_when_a_change_is_recorded(db: Path, capsys):
    instants = ["2026-02-02T15:00:00Z", "2026-02-03T12:00:00Z", "2026-02-04T14:59:59Z"]
    before = {(c, t): case(capsys, db, c, t) for c in ("B-1", "E-1") for t in instants}
    later = "2026-02-05T15:00:00Z"
    for argv in (
        [
            "subscriber",
            "set",
            "bas",
            "--plan",
            "enterprise",
            "--coverage",
            "24x7",
            "--reason",
            "upgrade",
        ],
        [
            "subscriber",
            "set",
            "ent",
            "--target",
            "incident.P0.workaround=1h",
            "--timezone",
            "Europe/Lisbon",
            "--query-hours",
            "80",
            "--reason",
            "order form",
        ],
        [
            "deployment",
            "set",
            "ent-prod",
            "--managed",
            "no",
            "--version",
            "4.3.0",
            "--reason",
            "handed over",
        ],
        ["renew", "bas", "--term-end", "2027-12-31", "--effective", later],
        ["terminate", "ent", "--effective", later, "--reason", "contract ended"],
    ):
        code, _, err = lead(capsys, db, *argv)
        assert code == 0, (argv, err)
    for (c, t), text in before.items():
        assert case(capsys, db, c, t) == text, (c, t)


def test_a_termination_flags_open_cases_refuses_new_ones_and_starts_retention(db: Path, capsys):
    assert lead(capsys, db, "terminate", "bas", "--reason", "contract ended")[0] == 0
    code, out, _ = run(capsys, "--db", str(db), "queue", "--json", "--at", LATER, now=LATER)
    flags = {c["id"]: c["subscriber_terminated"] for c in json.loads(out)["cases"]}
    assert flags == {"B-1": True, "E-1": False}
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "change-request",
        "--subscriber",
        "bas",
        "--deployment",
        "bas-prod",
        "--title",
        "x",
        now=LATER,
    )
    assert code == 1
    assert "bas's contract terminated on 2026-02-04T15:00:00Z: no new cases" in err
    code, out, _ = run(
        capsys,
        "--db",
        str(db),
        "purge",
        "--dry-run",
        "--json",
        "--at",
        "2026-05-05T14:59:59Z",
        now=LATER,
    )
    assert json.loads(out)["users"] == []  # 90 days have not passed
    code, out, _ = run(
        capsys,
        "--db",
        str(db),
        "purge",
        "--dry-run",
        "--json",
        "--at",
        "2026-05-05T15:00:00Z",
        now=LATER,
    )
    assert [u["id"] for u in json.loads(out)["users"]] == ["u-1"]


def test_an_upgrade_moves_the_end_of_support_flag_from_its_instant(db: Path, capsys):
    before = json.loads(case(capsys, db, "E-1", NOW))
    assert before["past_end_of_support"] is True  # 3.0.0 released 2022-01-10
    assert (
        lead(
            capsys,
            db,
            "deployment",
            "set",
            "ent-prod",
            "--version",
            "4.3.0",
            "--reason",
            "upgraded",
        )[0]
        == 0
    )
    assert (
        json.loads(case(capsys, db, "E-1", "2026-02-04T14:59:59Z"))["past_end_of_support"] is True
    )
    after = json.loads(case(capsys, db, "E-1", LATER, now=LATER))
    assert after["past_end_of_support"] is False
    # Made unmanaged: the open P0 is flagged, not refused.
    assert (
        lead(
            capsys,
            db,
            "deployment",
            "set",
            "ent-prod",
            "--managed",
            "no",
            "--reason",
            "handed over",
            now=LATER,
        )[0]
        == 0
    )
    flags = json.loads(case(capsys, db, "E-1", LATER, now=LATER))["eligibility"]
    assert flags
    assert "P0 needs a managed deployment" in flags[0]
    code, out, _ = run(capsys, "--db", str(db), "deployment", "history", "ent-prod", now=LATER)
    assert "version=4.3.0" in out
    assert "managed=no" in out


def test_changes_round_trip_and_an_existing_subscriber_imports_only_unchanged(
    db: Path, tmp_path: Path, capsys
):
    assert (
        lead(capsys, db, "subscriber", "set", "bas", "--plan", "enterprise", "--reason", "up")[0]
        == 0
    )
    assert (
        lead(capsys, db, "deployment", "set", "bas-prod", "--version", "4.3.0", "--reason", "up")[0]
        == 0
    )
    code, first, _ = run(capsys, "--db", str(db), "export", now=LATER)
    exported = json.loads(first)
    again = tmp_path / "again.db"
    (tmp_path / "x.json").write_text(first, "utf-8")
    init_db(capsys, again)
    assert run(capsys, "--db", str(again), "import", str(tmp_path / "x.json"), now=LATER)[0] == 0
    assert json.loads(run(capsys, "--db", str(again), "export", now=LATER)[1]) == exported
    # The same subscriber with a new case: accepted (the subscriber is the same record).
    more = {
        "subscribers": [s for s in exported["subscribers"] if s["id"] == "bas"],
        "cases": [dict(doc()["cases"][0], id="B-2", reported_at=LATER, events=[])],
    }
    (tmp_path / "more.json").write_text(json.dumps(more), "utf-8")
    code, _, err = run(
        capsys, "--db", str(again), "import", str(tmp_path / "more.json"), now=LATER, login="lena"
    )  # the import brought lena's lead role: imports are hers
    assert code == 0, err
    # The same id with other facts: refused, nothing written.
    other = {"subscribers": [dict(more["subscribers"][0], plan="basic", changes=[])]}
    (tmp_path / "other.json").write_text(json.dumps(other), "utf-8")
    before = fingerprint(again)
    code, _, err = run(
        capsys, "--db", str(again), "import", str(tmp_path / "other.json"), now=LATER, login="lena"
    )
    assert code == 1
    assert "subscriber 'bas' exists with other facts" in err
    assert fingerprint(again) == before
