"""What the wizard's steps share: a Static whose colours come from the theme (component
classes styled in ``wizard.tcss``), subscriber text made inert, targets as people say them."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.widgets import Input, Static

from console.rich_text import inert_rich
from console.text import inert
from console.views.wizard import Target

#: The wizard's colours by meaning; ``wizard.tcss`` gives each its theme variable.
LOOKS = frozenset({"wizard--error", "wizard--refusal", "wizard--ok", "wizard--warning"})


class Themed(Static):
    """A Static drawn from Rich Text whose colours are the theme's (``look(name)``)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(LOOKS)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)

    def look(self, name: str) -> Style:
        """The style of one of ``LOOKS`` under the current theme."""
        return self.get_component_rich_style(name, partial=True)


class TextBox(Input, inherit_bindings=False):
    """A one-line box with Input's own keys only: without the scrolling keys it inherits
    (↑↓ PgUp PgDn, which it cannot use), the wizard's bindings for them are the active
    ones, so its key bar shows them."""

    BINDINGS: ClassVar[list[BindingType]] = list(Input.BINDINGS)


def duration(seconds: int | None) -> str:
    """A target as people say it: ``30 min``, ``4 h``, ``1 h 30 min``, ``best efforts``."""
    if seconds is None:
        return "best efforts"
    h, m = divmod(seconds // 60, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


def target_lines(t: Target, error: Style) -> list[Text]:
    """The subscriber and its plan; the deployment; its product version and whether that
    version is still supported (policy §12; an ended support in ``error``)."""
    lines = [Text(no_wrap=True, overflow="ellipsis") for _ in range(3)]
    first, second, third = lines
    first.append_text(inert_rich(t.subscriber_name, "bold"))
    first.append(" (")
    first.append_text(inert_rich(t.subscriber_id))
    first.append(f") · {t.plan} {t.coverage} · {inert(t.terms.tz_name)}")
    d = t.deployment
    if d is None:
        second.append("no deployment (a query or security report need not name one)", style="dim")
        return lines[:2]
    second.append_text(inert_rich(d.id, "bold"))
    second.append(f" · {d.environment} · ")
    second.append("managed" if d.managed else "not managed")
    third.append("version ")
    third.append_text(inert_rich(f"{d.product} {d.version}"))
    if t.support is None:
        third.append(" · support: unknown (not in the support matrix)", style="dim")
    elif t.support.supported:
        third.append(f" · supported until {t.support.end.isoformat()}")
    else:
        third.append(
            f" · support ENDED {t.support.end.isoformat()} (flagged, not refused)",
            style=error,
        )
    return lines
