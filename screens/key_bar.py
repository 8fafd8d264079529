"""A key legend that wraps instead of scrolling off the edge.

Textual's Footer is one line; at 80 columns the case view's keys would be cut. This bar
lists every key (``key label``) and wraps onto further lines, never between a key and its
label (it packs whole entries into lines of the bar's width).
"""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static


def pack(keys: list[tuple[str, str]], width: int) -> Text:
    """The entries in lines of at most ``width`` cells, one space apart."""
    text = Text()
    used = 0
    for key, label in keys:
        size = cell_len(key) + 1 + cell_len(label)
        if used and used + 1 + size > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(" ")
            used += 1
        text.append(key, style="bold reverse")
        text.append(" " + label)
        used += size
    return text


class KeyBar(Static):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    def __init__(self, keys: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.keys = keys

    def on_mount(self) -> None:
        self._pack()

    def on_resize(self) -> None:
        self._pack()

    def _pack(self) -> None:
        if self.keys:
            self.update(pack(self.keys, max(20, self.content_size.width or 78)))
