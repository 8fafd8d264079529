"""Every command with random arguments and random JSON (issue 11, item 9).

Whatever a careless operator or an attacker types: no traceback, an exit code of the
contract (0 ok, 1 bad input or usage, 2 database unreachable, 3 breaches), and a refusal
(exit 1) leaves the database's bytes unchanged. Afterwards the export is whole, valid JSON
that imports into an empty database and exports back identically.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import fingerprint, init_db, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = "2026-11-23T18:00:00Z"

BASE = {
    "subscribers": [
        {
            "id": "acme",
            "name": "Acme",
            "plan": "enterprise",
            "term_start": "2026-01-01",
            "term_end": "2026-12-31",
        },
        {
            "id": "bas",
            "name": "Bas",
            "plan": "basic",
            "term_start": "2026-01-01",
            "term_end": "2026-12-31",
            "users": [],
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
        },
    ],
    "users": [{"id": "u1", "subscriber": "acme", "name": "Ana", "email": "a@x", "admin": True}],
    "cases": [
        {
            "id": "INC-1",
            "subscriber": "acme",
            "deployment": "acme-prod",
            "type": "incident",
            "priority": "P1",
            "title": "down",
            "reported_at": "2026-11-23T14:00:00Z",
            "events": [],
        },
        {
            "id": "Q-1",
            "subscriber": "acme",
            "type": "query",
            "title": "q",
            "reported_at": "2026-11-23T14:00:00Z",
            "events": [{"at": "2026-11-23T14:10:00Z", "kind": "acknowledged", "by": "e"}],
        },
        {
            "id": "SR-1",
            "subscriber": "acme",
            "deployment": "acme-prod",
            "type": "service_request",
            "title": "sr",
            "reported_at": "2026-11-23T14:00:00Z",
            "events": [],
        },
    ],
}

COMMANDS = [
    "queue",
    "case",
    "event",
    "check",
    "sweep",
    "escalations",
    "meters",
    "import",
    "export",
    "classify",
    "suspend",
    "lift",
    "renew",
    "products",
    "product",
    "change-request",
    "confirm-vulnerability",
    "users",
    "user-add",
    "user-remove",
    "attach",
    "purge",
    "operators",
    "policy",
    "rebuild",
    "init",
    "assign",
    "take",
    "unassign",
]
OPTIONS = [
    "--at",
    "--as-known-at",
    "--json",
    "--note",
    "--hours",
    "--priority",
    "--type",
    "--reason",
    "--level",
    "--link",
    "--name",
    "--role",
    "--status",
    "--column",
    "--part",
    "--text",
    "--criterion",
    "--exempt",
    "--late-reason",
    "--by",
    "--title",
    "--from",
    "--until",
    "--term-end",
    "--term-start",
    "--released",
    "--notice",
    "--dry-run",
    "--effective",
    "--subscriber",
    "--deployment",
    "--answer",
    "--list",
    "--email",
    "--admin",
    "--expect-version",
    "--policy",
    "-o",
    "--version",
    "--to",
    "--eta",
    "--mine",
    "--unassigned",
]
WORDS = [
    "INC-1",
    "Q-1",
    "SR-1",
    "acme",
    "bas",
    "acme-prod",
    "u1",
    "acknowledged",
    "resolved",
    "reopened",
    "status_update",
    "time_logged",
    "reclassified",
    "escalated",
    "suspended",
    "level_changed",
    "war_team_member",
    "P0",
    "P1",
    "P9",
    "L4",
    "lead",
    "set",
    "list",
    "publish",
    "history",
    "show",
    "custom_extension",
    "abuse",
    "nan",
    "inf",
    "-1",
    "1e999",
    "2026-11-23T15:00:00Z",
    "2026-11-23T18:00:00Z",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00Z",
    "2026-02-30",
    "+99:00",
    "javascript:alert(1)",
    "\x1b]52;c;SGVsbG8=\x07",
    "\x1b[2J",
    "[bold]x[/bold]",
    "",
    " ",
    "-",
    "yes",
    "x=yes",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def import_docs() -> st.SearchStrategy:
    """Random interchange documents: shapes near the real one, with random values."""
    field = st.sampled_from(
        [
            "id",
            "subscriber",
            "plan",
            "title",
            "reported_at",
            "events",
            "priority",
            "type",
            "term_end",
            "query_hour_limit",
            "timezone",
            "holidays",
            "targets",
            "at",
            "kind",
            "recorded_at",
            "size",
        ]
    )
    record = st.dictionaries(field, json_values | st.sampled_from(WORDS), max_size=8)
    return (
        st.fixed_dictionaries(
            {},
            optional={
                "subscribers": st.lists(record, max_size=2),
                "cases": st.lists(record, max_size=3),
                "deployments": st.lists(record, max_size=2),
                "users": st.lists(record, max_size=2),
                "operators": st.lists(record, max_size=2),
                "policy_versions": st.lists(record, max_size=1),
            },
        )
        | json_values
    )


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from console import clock
    from console.cli import main

    d = tmp_path_factory.mktemp("fuzz")
    (d / "base.json").write_text(json.dumps(BASE), "utf-8")
    clock.freeze(NOW)
    try:
        assert main(["--db", str(d / "f.db"), "init"]) == 0
        assert main(["--db", str(d / "f.db"), "import", str(d / "base.json")]) == 0
    finally:
        clock.freeze(None)
    return d


#: Each command with the positional words it needs drawn from the fixture's ids, so that
#: the random options reach the command's own checks rather than stopping at usage.
PREFIXES = {
    "event": [
        ["event", c, k]
        for c in ("INC-1", "Q-1", "SR-1", "NOPE")
        for k in (
            "acknowledged",
            "status_update",
            "time_logged",
            "reclassified",
            "level_changed",
            "suspended",
            "escalated",
            "war_team_member",
            "bogus",
            "assigned",
            "fix_eta_agreed",
        )
    ],
    "assign": [
        ["assign", c, who] for c in ("INC-1", "NOPE") for who in ("root", "nobody-x", "cron")
    ],
    "take": [["take", "INC-1"], ["take", "Q-1"]],
    "unassign": [["unassign", "INC-1"]],
    "case": [["case", c] for c in ("INC-1", "Q-1", "NOPE", "\x1b[2J")],
    "suspend": [["suspend", s] for s in ("acme", "nope")],
    "lift": [["lift", "acme"]],
    "renew": [["renew", "acme"]],
    "users": [["users", "acme"]],
    "user-add": [["user-add", "acme", "u9", "--name", "N", "--email", "n@x"]],
    "user-remove": [["user-remove", "acme", "u1"]],
    "product": [["product", "set", "gateway", "4.2.0"]],
    "change-request": [
        ["change-request", "SR-1", "--title", "t"],
        ["change-request", "--title", "t"],
    ],
    "confirm-vulnerability": [["confirm-vulnerability", "SR-1", "--priority", "P1"]],
    "operators": [["operators"], ["operators", "set", "x", "lead"]],
    "policy": [["policy", "history"], ["policy", "show"], ["policy", "publish"]],
    "attach": [["attach", "INC-1", "/etc/hostname"], ["attach", "NOPE", "/nonexistent"]],
}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    command=st.sampled_from(COMMANDS),
    args=st.lists(
        st.sampled_from(OPTIONS) | st.sampled_from(WORDS) | st.text(max_size=12), max_size=6
    ),
)
def test_random_command_lines(fuzz_db: Path, capsys, data, command, args):
    db = fuzz_db / "f.db"
    prefix = data.draw(st.sampled_from(PREFIXES.get(command, [[command]])))
    argv = ["--db", str(db), *prefix, *args]
    if "-o" in argv:  # never let a random path overwrite files outside the test's folder
        i = argv.index("-o")
        argv[i + 1 : i + 2] = [str(fuzz_db / "out.json")]
    _check(db, capsys, argv)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=import_docs(), raw=st.binary(max_size=40), as_bytes=st.booleans())
def test_random_import_files(fuzz_db: Path, capsys, doc, raw, as_bytes):
    file = fuzz_db / "in.json"
    if as_bytes:
        file.write_bytes(raw)  # not JSON, perhaps not even text
    else:
        file.write_text(json.dumps(doc, allow_nan=True), "utf-8")
    _check(fuzz_db / "f.db", capsys, ["--db", str(fuzz_db / "f.db"), "import", str(file)])


def _check(db: Path, capsys, argv: list[str]) -> None:
    before = fingerprint(db)
    try:
        code, _, err = run(capsys, *argv, now=NOW)
    except SystemExit as exc:  # --help
        code, err = exc.code, capsys.readouterr().err
    assert code in (0, 1, 2, 3), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 1:
        assert fingerprint(db) == before, (argv, err)


def test_after_the_fuzz_the_export_reimports_identically(fuzz_db: Path, capsys):
    db = fuzz_db / "f.db"
    code, first, err = run(capsys, "--db", str(db), "export", now=NOW)
    assert code == 0, err
    path = fuzz_db / "export.json"
    path.write_text(first, "utf-8")
    again = fuzz_db / "again.db"
    init_db(capsys, again)
    code, _, err = run(capsys, "--db", str(again), "import", str(path), now=NOW)
    assert code == 0, err
    assert json.loads(run(capsys, "--db", str(again), "export", now=NOW)[1]) == json.loads(first)
