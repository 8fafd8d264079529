"""Where the tests find the worked examples (interchange files with ``at`` and ``expected``).

They ship in ``tests/data/examples`` (a copy of the specification's ``shared/examples``),
so a fresh clone runs its own tests with nothing beside it. ``SUPPORT_CONSOLE_EXAMPLES``
names another directory to check other scenarios the same way (``SUPPORT_CONSOLE_SHARED``,
a specification folder holding ``examples/``, is still honoured).
"""

from __future__ import annotations

import os
from pathlib import Path


def _examples_dir() -> Path:
    if os.environ.get("SUPPORT_CONSOLE_EXAMPLES"):
        return Path(os.environ["SUPPORT_CONSOLE_EXAMPLES"])
    if os.environ.get("SUPPORT_CONSOLE_SHARED"):
        return Path(os.environ["SUPPORT_CONSOLE_SHARED"]) / "examples"
    return Path(__file__).resolve().with_name("data") / "examples"


EXAMPLES_DIR = _examples_dir()
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("e*.json"))
E01 = EXAMPLES_DIR / "e01-weekday-simple.json"
