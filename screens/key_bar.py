"""A key legend that wraps instead of scrolling off the edge.

Textual's Footer is one line; at 80 columns the case view's dozen action keys would be
cut. This bar lists every key (``key label``) and wraps onto a second line if needed.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    def __init__(self, keys: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.keys = keys

    def on_mount(self) -> None:
        text = Text()
        for i, (key, label) in enumerate(self.keys):
            if i:
                text.append("  ")
            text.append(key, style="bold reverse")
            text.append(" " + label)
        self.update(text)
