"""Only ``init`` and ``demo`` create a database (issue 15, item 1): any other command, and the
console, on a mistyped path says so and exits 2, creating nothing, never an empty desk
that shows "0 breached"."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run

from console.cli import main

COMMANDS = [
    ["queue"],
    ["queue", "--json"],
    ["case", "CS-1"],
    ["check"],
    ["sweep"],
    ["escalations"],
    ["meters"],
    ["export"],
    ["event", "CS-1", "acknowledged"],
    ["take", "CS-1"],
    ["assign", "CS-1", "ana"],
    ["unassign", "CS-1"],
    ["operators"],
    ["policy", "history"],
    ["products"],
    ["rebuild"],
    ["metrics"],
    ["purge", "--dry-run"],
    ["notify", "list"],
    ["classify", "--list"],
]


def _nothing_at(path: Path) -> None:
    for p in (
        path,
        path.with_name(path.name + "-wal"),
        path.with_name(path.name + "-shm"),
        path.with_name(path.name + "-journal"),
    ):
        assert not p.exists(), p
    assert not path.parent.exists() or not any(path.parent.iterdir())


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a))
def test_a_missing_sqlite_path_exits_2_and_creates_nothing(tmp_path: Path, capsys, argv):
    path = tmp_path / "srv" / "support" / "suport.db"  # a typo, in a directory that exists
    path.parent.mkdir(parents=True)
    code, out, err = run(capsys, "--db", str(path), *argv)
    assert code == 2, err
    assert err.strip() == f"no database at {path} (`support-console init` creates one)"
    assert out == ""
    _nothing_at(path)


def test_the_issues_own_line(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "--db", "/no/such/file.db", "queue")
    assert (code, err.strip()) == (
        2,
        "no database at /no/such/file.db (`support-console init` creates one)",
    )
    assert not Path("/no/such").exists()


def test_the_default_database_is_not_created_either(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.delenv("SUPPORT_CONSOLE_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    code, _, err = run(capsys, "queue")
    assert code == 2
    assert "no database at" in err
    assert "support-console init" in err
    assert not (tmp_path / "share").exists()
    assert run(capsys, "init")[0] == 0  # init creates it, directory included
    assert (tmp_path / "share" / "support-console" / "support.db").is_file()
    assert run(capsys, "queue")[0] == 0


def test_the_console_on_a_missing_path_exits_2_before_any_screen(tmp_path: Path, capsys):
    path = tmp_path / "typo.db"
    assert main(["--db", str(path)]) == 2
    assert "no database at" in capsys.readouterr().err
    _nothing_at(path)


def test_an_empty_file_is_no_database_and_is_left_untouched(tmp_path: Path, capsys):
    path = tmp_path / "empty.db"
    path.touch()
    code, _, err = run(capsys, "--db", str(path), "queue")
    assert code == 2
    assert err.strip() == (
        f"no support-console database at {path} (`support-console init` creates one)"
    )
    assert path.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_init_and_demo_create_and_then_every_command_opens_it(tmp_path: Path, capsys):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    assert run(capsys, "--db", str(a), "init")[0] == 0
    assert run(capsys, "--db", str(a), "queue")[0] == 0
    code, _, err = run(
        capsys, "--db", str(b), "demo", "--cases", "20", "--no-tui", "--at", "2026-11-24T15:00:00Z"
    )
    assert code == 0, err
    code, out, _ = run(capsys, "--db", str(b), "queue", "--json", now="2026-11-24T15:00:00Z")
    assert code == 0
    assert '"cases": [' in out


@pytest.mark.pg
def test_a_postgresql_database_without_the_schema_is_refused_until_init(pg_url: str, capsys):
    from sqlalchemy import create_engine, inspect

    code, _, err = run(capsys, "--db", pg_url, "queue")
    assert code == 2
    assert "no support-console database at" in err
    assert "`support-console init` creates one" in err
    engine = create_engine(pg_url)
    try:
        assert inspect(engine).get_table_names() == []  # nothing was created
    finally:
        engine.dispose()
    assert run(capsys, "--db", pg_url, "init")[0] == 0
    assert run(capsys, "--db", pg_url, "queue")[0] == 0
