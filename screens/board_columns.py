"""The board's two card views: the narrow list (the chosen column, one line a card) and the
wide layout's columns (a few lines a card). The pane hands each what to draw with ``show``;
the drawing itself is ``screens.board_render``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from screens.board_render import Look, card_list, column_text

if TYPE_CHECKING:  # the database layer is imported after the first screen (screens.app)
    from console.escalation import Card


class CardList(Widget):
    """The chosen column's cards, one line each, windowed around the cursor."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cards: Sequence[Card] = ()
        self.column = "escalated"
        self.cursor = 0
        self.look: Look | None = None  # None: not shown yet
        self.loaded = False  # the board was read (before: blank)
        self.cap = 3  # at most this many lines (a third of the pane)

    def show(
        self, cards: Sequence[Card], column: str, cursor: int, look: Look, *, loaded: bool, cap: int
    ) -> None:
        self.cards, self.column, self.cursor = cards, column, cursor
        self.look, self.loaded, self.cap = look, loaded, cap
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        if self.look is None or not self.loaded:
            return Text("")
        width, height = self.size.width, max(1, self.size.height)
        return card_list(self.cards, self.column, self.cursor, width, height, self.look)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        n = len(self.cards) if self.loaded else 1
        return max(1, min(n, self.cap))


class BoardColumn(Widget):
    """One column of the wide layout: a header and its cards, windowed around the cursor."""

    def __init__(self, column: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.column = column
        self.cards: Sequence[Card] = ()
        self.cursor = 0
        self.chosen = False
        self.look: Look | None = None  # None: not shown yet

    def show(self, cards: Sequence[Card], cursor: int, chosen: bool, look: Look) -> None:
        self.cards, self.cursor, self.chosen, self.look = cards, cursor, chosen, look
        self.refresh()

    def render(self) -> RenderableType:
        if self.look is None:
            return Text("")
        width, height = self.size.width, max(2, self.size.height)
        return column_text(
            self.cards, self.column, self.cursor, self.chosen, width, height, self.look
        )
