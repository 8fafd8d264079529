"""The command line starts light: importing ``console.cli`` and asking for ``--help`` load
neither Textual nor SQLAlchemy (nor sqlmodel, nor the screens); the console's app is
imported in one function only, when the console starts.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import COMMANDS, HELP_ORDER

REPO = Path(__file__).resolve().parent.parent
CLI = REPO / "console" / "cli"
HEAVY = ("textual", "sqlalchemy", "sqlmodel", "screens")

#: Prints, as JSON, the heavy top-level packages loaded after running ``body``.
PROBE = """
import json, sys
{body}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def python(*args: str) -> str:
    """The stdout of a fresh interpreter run with ``args`` in the repository (exit 0)."""
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def heavy_loaded(body: str) -> tuple[list[str], str]:
    """(heavy packages loaded, stdout before the JSON line) of ``body`` run in a fresh
    interpreter."""
    stdout = python("-c", PROBE.format(body=body, heavy=HEAVY))
    *before, last = stdout.rstrip("\n").split("\n")
    return json.loads(last), "\n".join(before)


def test_importing_the_cli_loads_neither_textual_nor_sqlalchemy():
    loaded, _ = heavy_loaded("import console.cli")
    assert loaded == []


def test_help_loads_neither_textual_nor_sqlalchemy():
    body = """
from console.cli import main
try:
    main(["--help"])
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""
    loaded, out = heavy_loaded(body)
    assert loaded == []
    assert out.startswith("usage: support-console")
    assert "confirm-vulnerability" in out


def test_every_commands_help_loads_neither_textual_nor_sqlalchemy():
    body = f"""
from console.cli import main
for name in {list(HELP_ORDER)!r}:
    try:
        main([name, "--help"])
    except SystemExit as exc:
        assert exc.code == 0, (name, exc.code)
    else:
        raise AssertionError(name + " --help did not exit")
"""
    loaded, out = heavy_loaded(body)
    assert loaded == []
    assert out.count("usage: support-console ") == len(HELP_ORDER)


def test_help_lists_every_command_of_every_area_once():
    assert len(HELP_ORDER) == len(set(HELP_ORDER))
    assert set(HELP_ORDER) == set(COMMANDS)


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module imported, the function importing it or None at module level) in ``path``;
    imports under ``if TYPE_CHECKING:`` are for the type checker only and not counted."""
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if (
                isinstance(child, ast.If)
                and isinstance(child.test, ast.Name)
                and child.test.id == "TYPE_CHECKING"
            ):
                visit(ast.Module(body=child.orelse, type_ignores=[]), function)
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, function or child.name)
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.module, function))
            visit(child, function)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_no_module_of_the_cli_imports_anything_heavy_at_its_top(path: Path):
    top = [m for m, function in _imports(path) if function is None]
    assert [m for m in top if m.split(".")[0] in HEAVY] == []


def test_the_app_is_imported_in_one_function_only():
    app_modules = ("console.app", "screens.app")
    starts = [
        (path.name, function)
        for path in sorted(CLI.glob("*.py"))
        for module, function in _imports(path)
        if module in app_modules or module.split(".")[0] in ("textual", "screens")
    ]
    assert starts == [("start.py", "run_app")]


def test_a_sweep_with_nothing_to_notify_loads_no_notification_module(tmp_path: Path):
    """A cron sweep on a desk with no receiver and nothing queued skips the notification
    step without importing it (nor sqlmodel's models it reads through); with a receiver
    it runs it (the notify tests check what it then does)."""
    db = tmp_path / "desk.db"
    probe = """
import json, sys
from console.cli import main
assert main(["--db", {db!r}, "sweep"]) == 0
print(json.dumps(sorted(m for m in sys.modules if m.startswith("console.notify"))))
"""

    def notify_modules() -> list[str]:
        return json.loads(python("-c", probe.format(db=str(db))).rstrip("\n").split("\n")[-1])

    def cli(*argv: str) -> None:
        python("-m", "console", "--db", str(db), *argv)

    import os
    import pwd

    cli("init", "--lead", pwd.getpwuid(os.getuid()).pw_name)  # this login: a lead
    assert notify_modules() == []
    cli("notify", "add", "json://localhost:9/", "--on", "breach")
    assert "console.notify.detect" in notify_modules()
