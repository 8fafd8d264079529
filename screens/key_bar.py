"""A key legend that wraps instead of scrolling off the edge.

Textual's Footer is one line; at 80 columns the case view's keys would be cut. This bar
lists keys (``key label``) and wraps onto further lines, never between a key and its label
(it packs whole entries into lines of the bar's width).

``KeyBar()`` draws the active bindings of its screen that are shown (``show=True``), with
their ``key_display`` (else the key) and ``description``: the bindings are the one source of
the keys, and a screen's ``check_action`` hides what does not apply. It redraws when the
screen's bindings change (``refresh_bindings``).

``KeyBar(palette=True)`` (the main screen's) also shows the app's command palette key at the
right of its last line, ``▏^p palette``, as Textual's Footer did: that binding is the App's
own (``show=False``, so that no other key bar lists it).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static


def pack(keys: list[tuple[str, str]], width: int, dim: frozenset[str] = frozenset()) -> Text:
    """The entries in lines of at most ``width`` cells, one space apart; entries whose key is
    in ``dim`` (disabled for now) are drawn dim."""
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
        text.append(key, style="dim reverse" if key in dim else "bold reverse")
        text.append(" " + label, style="dim" if key in dim else "")
        used += size
    return text


def with_palette(text: Text, width: int, key: str, label: str) -> Text:
    """``text`` with ``▏key label`` at the right of its last line (on a line of its own when
    the last line has no room), one cell from the edge, as Textual's Footer places it."""
    entry = Text()
    entry.append("▏", style="dim")
    entry.append(key, style="bold reverse")
    entry.append(f" {label} ")
    last = text.plain.rsplit("\n", 1)[-1]
    gap = width - cell_len(last) - entry.cell_len
    if last and gap < 1:
        text.append("\n")
        gap = width - entry.cell_len
    text.append(" " * max(0, gap))
    text.append_text(entry)
    return text


def shown_bindings(screen: Screen[object]) -> list[tuple[str, Binding, bool]]:
    """The screen's active bindings that a key bar shows, in binding order, one entry per
    action (a binding on several keys is one entry): ``(key shown, binding, enabled)``."""
    seen: set[tuple[int, str]] = set()
    out: list[tuple[str, Binding, bool]] = []
    for _key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.show or not binding.description:
            continue
        mark = (id(active.node), binding.action)
        if mark in seen:
            continue
        seen.add(mark)
        shown = binding.key_display or screen.app.get_key_display(binding)
        out.append((shown, binding, active.enabled))
    return out


class KeyBar(Static):
    # Its few rules here, not in a .tcss, so a bar mounted in any App (a test's too) looks right.
    DEFAULT_CSS = """
    KeyBar {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, *, id: str | None = None, palette: bool = False) -> None:
        super().__init__(id=id, markup=False)
        self.palette = palette  # show the App's command palette key at the right

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._pack()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self) -> None:
        self._pack()

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self._pack()

    def _pack(self) -> None:
        width = max(20, self.content_size.width or 78)
        entries = shown_bindings(self.screen)
        keys = [(shown, binding.description) for shown, binding, _ in entries]
        dim = frozenset(shown for shown, _, enabled in entries if not enabled)
        text = pack(keys, width, dim)
        palette = self._palette_binding()
        if palette is not None:
            text = with_palette(text, width, *palette)
        self.update(text)

    def _palette_binding(self) -> tuple[str, str] | None:
        """The command palette's key and words, when this bar shows it and the app has one."""
        app = self.app
        if not self.palette or not app.ENABLE_COMMAND_PALETTE:
            return None
        active = self.screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
        if active is None:
            return None
        return app.get_key_display(active.binding), active.binding.description
