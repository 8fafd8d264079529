"""Step 3b: which managed third-party component is unavailable, when a P0 is decided by
``component_unavailable`` on a deployment that lists any (policy §5)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from screens.wizard.parts import Themed, inert_rich


class ComponentStep(Themed):
    """The deployment's components and "none of these", 1-9 or a cursor."""

    def __init__(self) -> None:
        super().__init__(id="component")

    def show(
        self, options: Sequence[str | None], cursor: int, chosen: str | None, deployment: str
    ) -> None:
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=3, no_wrap=True)
        grid.add_column(ratio=1)
        for i, name in enumerate(options):
            here = i == cursor
            label = (
                inert_rich(name, "bold")
                if name is not None
                else Text("none of these: a supported Konneqt component is unavailable")
            )
            if here:
                label.stylize("reverse")
            if name is not None and name == chosen:
                label.append("  ✔ chosen", style=self.look("wizard--ok"))
            grid.add_row(Text(("›" if here else " ") + f"{i + 1}", style="bold"), label)
        head = Text("Which component is unavailable? ", style="bold")
        head.append_text(inert_rich(deployment, "bold"))
        head.append(
            " lists these managed third-party components. While the vendor's "
            "assistance is awaited, the incident's resolution clock pauses "
            "(awaiting_vendor).",
            style="",
        )
        self.update(Group(head, grid))
