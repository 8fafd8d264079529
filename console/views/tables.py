"""The tables the views read, looked up by their database names in SQLModel's metadata
(typed as ``Table``, and independent of any module's short aliases)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel

import models  # noqa: F401 - importing the models registers their tables


def table(name: str) -> Table:
    """The table called ``name`` in the database (``"subscriber"``, ``"case_state"``...)."""
    found: Table = SQLModel.metadata.tables[name]
    return found
