"""NO_COLOR: urgency by bold and reverse, never by a dimmed grey.

Textual's own NO_COLOR filter turns every colour into its grey level; red, the colour of
everything urgent here (a breached row, the header's breach count, the board's overdue
figures and ``LATE``, a refusal), has a low luminance, so the most urgent text became the
faintest (grey 237 on 235). This filter replaces it: whatever would be drawn in red is
drawn bold and reversed (light background, dark text) and never dim; the rest goes grey as
before. The screens keep marking urgency with symbols too (``!``, ``✖``, ``LATE``), so a
monochrome terminal reads the same as a colour one.
"""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter, Monochrome, monochrome_style

LIGHT = RichColor.from_rgb(235, 235, 235)


def is_red(color: RichColor | None) -> bool:
    """A red (or the theme's crimson error colour), however dimmed towards the background."""
    if color is None or color.triplet is None:
        return False
    r, g, b = color.triplet
    return r >= 90 and r > 1.6 * g and r > 1.3 * b


@lru_cache(1024)
def _urgent(style: Style, background: RichColor) -> Style:
    return style + Style(color=LIGHT, bgcolor=background, bold=True, reverse=True, dim=False)


class UrgentMonochrome(LineFilter):
    """Grey levels, with red drawn bold and reversed (see the module docstring)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        base = Color.from_rich_color(background.rich_color).monochrome.rich_color
        out = []
        for text, style, _control in segments:
            if style is not None and is_red(style.color):
                style = _urgent(style, base)
            out.append(Segment(text, None if style is None else monochrome_style(style), None))
        return out


def install(app: object) -> None:
    """Swap Textual's NO_COLOR filter for ours (a no-op when colour is on)."""
    filters = getattr(app, "_filters", None)
    if not getattr(app, "no_color", False) or filters is None:
        return
    for i, f in enumerate(filters):
        if isinstance(f, Monochrome):
            filters[i] = UrgentMonochrome()
