"""Every CLI text output is inert (issue 13): subscriber and operator text with ESC]52
(a clipboard write), ESC[2J (clear screen), BEL and CR reaches the terminal as visible
text, never as those bytes; a level-change link is http(s) only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import init_db, run

from console import clock

NOW = "2026-11-24T15:00:00Z"
EVIL = "Pay\x1b]52;c;aGk=\x07 now\x1b[2J\rOK fake line\x07 \x9b31m"
BAD_BYTES = ("\x1b", "\x07", "\r", "\x9b")


def doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": f"Acme {EVIL}",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
                "terminated_at": "2026-01-02T00:00:00Z",
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
        "users": [
            {
                "id": "acme-u1",
                "subscriber": "acme",
                "name": f"Ann {EVIL}",
                "email": "ann@acme.example",
                "admin": True,
            }
        ],
        "products": [{"product": "gateway", "version": "4.2.0", "released": "2020-01-01"}],
        "operators": [{"name": "lena", "role": "lead"}],
        "policy_versions": [],
        "cases": [
            {
                "id": "I-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P1",
                "title": EVIL,
                "reported_at": "2026-11-02T14:00:00Z",
                "events": [
                    {"at": "2026-11-02T14:10:00Z", "kind": "acknowledged", "by": f"eng {EVIL}"},
                    {
                        "at": "2026-11-02T15:00:00Z",
                        "kind": "status_update",
                        "by": "eng",
                        "note": EVIL,
                    },
                    {
                        "at": "2026-11-02T16:00:00Z",
                        "kind": "time_logged",
                        "by": "eng",
                        "hours": 1.0,
                        "exempt": True,
                        "note": EVIL,
                    },
                ],
            },
            {
                "id": "Q-1",
                "subscriber": "acme",
                "type": "query",
                "title": EVIL,
                "reported_at": "2026-11-02T14:00:00Z",
                "events": [
                    {
                        "at": "2026-11-02T16:00:00Z",
                        "kind": "time_logged",
                        "by": "eng",
                        "hours": 60.0,
                        "note": EVIL,
                    }
                ],
            },
        ],
    }


@pytest.fixture
def db(tmp_path: Path, capsys) -> str:
    clock.freeze(NOW)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc()), encoding="utf-8")
    db = str(tmp_path / "db.sqlite")
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", db, "import", str(path))
    assert code == 0, err
    code, _, err = run(capsys, "--db", db, "sweep", login="lena")  # I-1 missed its workaround
    assert code == 0, err
    code, _, err = run(
        capsys,
        "--db",
        db,
        "event",
        "I-1",
        "war_team_member",
        "--name",
        EVIL,
        "--role",
        "executive",
        login="lena",
    )
    assert code == 0, err
    code, _, err = run(
        capsys,
        "--db",
        db,
        "event",
        "I-1",
        "plan_updated",
        "--part",
        "assessment",
        "--text",
        EVIL,
        login="lena",
    )
    assert code == 0, err
    yield db
    clock.freeze(None)


COMMANDS = [
    ["queue"],
    ["case", "I-1"],
    ["case", "Q-1"],
    ["check"],
    ["escalations"],
    ["meters"],
    ["users", "acme"],
    ["products"],
    ["operators"],
    ["purge", "--dry-run"],
    ["policy", "history"],
    ["policy", "show"],
    ["classify", "--list"],
    ["case", EVIL],
    ["users", EVIL],
    ["event", EVIL, "acknowledged"],
    ["event", "I-1", EVIL],
    ["queue", "--json"],
    ["case", "I-1", "--json"],
    ["escalations", "--json"],
    ["meters", "--json"],
    ["users", "acme", "--json"],
    ["export"],
]


@pytest.mark.parametrize(
    "argv", COMMANDS, ids=lambda a: " ".join(a)[:30].encode("unicode_escape").decode()
)
def test_text_output_carries_no_terminal_control(db: str, capsys, argv: list[str]):
    code, out, err = run(capsys, "--db", db, *argv, login="lena")
    assert code in (0, 1, 3), err
    for stream in (out, err):
        for bad in BAD_BYTES:
            assert bad not in stream, (argv, bad, stream[:400])
    if argv in (["case", "I-1"], ["users", "acme"], ["queue"]):
        assert "^[]52;c;aGk=^G" in out or "Pay^[" in out, out  # shown, as text


def test_the_subscriber_text_is_still_all_there(db: str, capsys):
    _, out, _ = run(capsys, "--db", db, "case", "I-1", login="lena")
    assert "Pay^[]52;c;aGk=^G now^[[2J^MOK fake line^G \\u009b31m" in out
    _, out, _ = run(capsys, "--db", db, "case", "I-1", "--json", login="lena")
    assert json.loads(out)["title"] == EVIL  # JSON carries it exactly, escaped


@pytest.mark.parametrize(
    ("link", "ok"),
    [
        ("https://updates.example/1234", True),
        ("http://kb.example/a?b=c#d", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("file:///etc/passwd", False),
        ("data:text/html,<script>", False),
        ("https://x.example/\x1b]52;c;aGk=\x07", False),
        ("https:///nohost", False),
        ("KB-1042", False),
    ],
)
def test_a_link_is_http_or_https_only(db: str, capsys, link: str, ok: bool):
    code, _, err = run(
        capsys,
        "--db",
        db,
        "event",
        "Q-1",
        "level_changed",
        "--level",
        "L4",
        "--link",
        link,
        login="lena",
    )
    assert code == (0 if ok else 1), err
    if not ok:
        assert "link" in err
        assert "\x1b" not in err


def test_an_import_refuses_a_javascript_link(tmp_path: Path, capsys):
    d = doc()
    d["cases"][1]["events"].append(
        {
            "at": "2026-11-02T17:00:00Z",
            "kind": "level_changed",
            "by": "eng",
            "level": "L4",
            "link": "javascript:alert(1)",
        }
    )
    path = tmp_path / "d.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    init_db(capsys, tmp_path / "x.sqlite")
    code, _, err = run(capsys, "--db", str(tmp_path / "x.sqlite"), "import", str(path), now=NOW)
    assert code == 1
    assert "cases[1].events[1].link: a link must start with http:// or https://" in err
