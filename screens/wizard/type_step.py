"""Step 2: the case type, each with its one-line help and, when unavailable, why (§5)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from screens.wizard.model import TypeChoice
from screens.wizard.parts import Themed


class TypeStep(Themed):
    """The four types, 1-4 or a cursor; an unavailable one is struck through with its
    reason (choosing it says the reason and stays)."""

    def __init__(self) -> None:
        super().__init__(id="type")

    def show(
        self, choices: Sequence[TypeChoice], cursor: int, chosen: str | None, current: str | None
    ) -> None:
        """``chosen``: the type chosen so far; ``current``: the case's type (reclassify)."""
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=3, no_wrap=True)
        grid.add_column(ratio=1)
        for i, c in enumerate(choices):
            here = i == cursor
            line = Text()
            style = "bold" if c.available else "dim strike"
            line.append(c.label, style=style + (" reverse" if here else ""))
            if c.ctype == chosen:
                line.append(
                    "  ✔ now" if c.ctype == current else "  ✔ chosen", style=self.look("wizard--ok")
                )
            grid.add_row(Text(("›" if here else " ") + f"{i + 1}", style="bold"), line)
            # One line each; the highlighted choice shows its whole explanation.
            grid.add_row(
                "",
                Text(
                    c.help,
                    style="" if c.available else "dim",
                    no_wrap=not here,
                    overflow="ellipsis",
                ),
            )
            if not c.available:
                grid.add_row(
                    "", Text("✖ unavailable: " + c.reason, style=self.look("wizard--refusal"))
                )
        self.update(Group(Text("What kind of case is it?", style="bold"), grid))
