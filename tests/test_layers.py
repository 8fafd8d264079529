"""The layers hold: every import-linter contract in pyproject.toml is kept.

The contracts: ``console.rules`` imports nothing of the store, SQLAlchemy, Textual or the
screens; ``console`` and ``models`` never import Textual or the screens (the CLI's deferred
start of the console is the one exception); the screens never touch the database directly;
no module imports another that imports it back (``acyclic_siblings``). That the command
line starts without loading Textual or SQLAlchemy at all is tests/test_cli_imports.py.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The contracts issue 17 asks for; more may be added, none of these removed.
LAYERS = {
    "The rules are pure: no store, database, Textual or screens",
    "console and models never import Textual or the screens",
    "The screens never touch the database directly",
    "No module imports another that imports it back",
}


def contract_names() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return [c["name"] for c in config["tool"]["importlinter"]["contracts"]]


def test_the_contracts_cover_the_layers():
    assert set(contract_names()) >= LAYERS


def test_every_import_contract_is_kept():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names = contract_names()
    for name in names:
        assert f"{name} KEPT" in done.stdout, done.stdout
    assert f"Contracts: {len(names)} kept, 0 broken." in done.stdout
