"""Step 3 of an incident: the priority guidelines, most severe first; the first yes decides
(policy §9). Where P0 is not asked, ``p`` says a P0 criterion applies anyway (it then
classifies P1, with a note)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from console.rules.policy import Criterion
from screens.wizard.parts import Themed


class PriorityStep(Themed):
    """The questions with the answers given; the one asked now highlighted."""

    def __init__(self) -> None:
        super().__init__(id="priority")

    def show(
        self,
        asked: Sequence[Criterion],
        qi: int,
        answers: Mapping[str, bool],
        p0_excluded: str | None,
        p0_anyway: bool,
    ) -> None:
        """``p0_excluded``: why P0 is not asked here (None: it is)."""
        ok, warning = self.look("wizard--ok"), self.look("wizard--warning")
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=7, no_wrap=True)
        grid.add_column(width=3, no_wrap=True)
        grid.add_column(ratio=1)
        for i, c in enumerate(asked):
            ans = answers.get(c.key)
            mark = {True: "yes", False: "no", None: ""}[ans]
            p0_here = c.priority == "P0" and p0_excluded is not None
            prio = f"{c.priority}→P1" if p0_here else c.priority
            if i == qi:
                grid.add_row(
                    Text(f"›{prio}", style="bold reverse"),
                    Text(mark, style="bold"),
                    Text(c.text + "?", style="bold reverse"),
                )
                if p0_here:
                    grid.add_row(
                        "",
                        "",
                        Text(
                            f"a P0 criterion, but {p0_excluded}: a yes classifies P1",
                            style=warning,
                        ),
                    )
            else:
                style = ok if ans else ("dim" if ans is False else "")
                grid.add_row(
                    Text(f" {prio}", style=style),
                    Text(mark, style=style),
                    Text(c.text, style=style, no_wrap=True, overflow="ellipsis"),
                )
        parts: list[RenderableType] = [
            Text(
                f"Priority guidelines · question {qi + 1} of {len(asked)} · "
                "the first yes sets the priority",
                style="bold",
            ),
            grid,
        ]
        if p0_excluded is not None and not p0_anyway:
            parts.append(
                Text(
                    f"P0 criteria not asked: {p0_excluded} (P0 needs a managed deployment "
                    "on the enterprise plan). p: a P0 criterion applies anyway "
                    "(classified P1)",
                    style=warning,
                )
            )
        self.update(Group(*parts))
