"""Subscriber and operator text as Rich ``Text`` for the screens: literal (no markup is
read from it) and inert (control characters made visible, ``console.text.inert``).

Apart from console/text.py so that the CLI, which imports that module, does not load Rich.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from console.text import inert


def inert_rich(value: object, style: str | Style = "") -> Text:
    """``value`` (None as empty) as literal, inert Text in ``style``."""
    return Text(inert("" if value is None else str(value)), style=style)
