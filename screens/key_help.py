"""The key help (``?``, F1, or "Keys" in the palette): the keys of what is on screen, the
keys that work everywhere, and the legend of the marks the screens use. Esc, ``q``, ``?``
or F1 close it.

The keys come from the bindings, the one source the key bars draw from too: the active
bindings of the screen under the help (on the main screen, the focused widget's chain: the
pane shown), each with its ``tooltip`` (else its ``description``) and its ``key_display``
(else its keys), then the app's own bindings. A binding a screen's ``check_action`` hides is
not listed; one it disables is listed dim. A section is titled by the nearest node's
``BINDING_GROUP_TITLE``, else the pane's title, else the screen's class name in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from screens.panes import PANES

LEGEND = [
    ("!", "breached: a clock went over its target (marked in any state), or escalated"),
    ("-0:42", "time over the target, in counted time; 3:15 is time left"),
    ("⏸", "paused: awaiting the subscriber; ⏸vendor, paused (vendor): awaiting the vendor"),
    ("…", "pending: the clock starts later (at the acknowledgement)"),
    ("■", "stopped: what the clock waits for happened (acknowledged, workaround, …)"),
    ("⊘", "suspended: the SLA is suspended for this case or its subscriber"),
    ("→Tue 09:00", "at its target outside covered hours: breaches when counting resumes"),
    ("†", "the deployment's version is past its end of support (flagged, not refused)"),
    ("?", "the version is not in the support matrix (lifespans)"),
    ("✕", "the subscriber's contract has terminated (flagged)"),
    ("LATE", "a status update is overdue; in a history, an entry recorded late"),
    ("INCOMPLETE 2/3", "a formed war team lacks an engineer, executive or subscriber rep"),
    ("⚑ 3 escalated", "new escalations since you last looked at the board (2)"),
    ("✉ 2 failed", "notifications given up after their last try (6)"),
    ("⚠ OFFLINE", "the database cannot be reached: what is shown is the last read"),
    ("✖ / ✔", "an action refused (nothing written) / recorded"),
]
PANE_TITLES = {p.id: p.title for p in PANES}


@dataclass(frozen=True)
class KeyRow:
    """One line of the help: the keys as shown, what they do, and whether they apply now."""

    keys: str
    words: str
    enabled: bool = True


@dataclass
class _Entry:
    keys: list[str]
    words: list[str]
    enabled: bool


@cache
def textual_bindings(cls: type[DOMNode]) -> frozenset[Binding]:
    """The bindings ``cls`` inherits from Textual's own classes (scrolling, focus, copy,
    ctrl+q): generic keys the help leaves out. A screen that wants one listed declares it
    in its own ``BINDINGS`` with its words."""
    return frozenset(
        binding
        for base in cls.__mro__
        if base.__module__.startswith("textual.")
        for binding in Binding.make_bindings(base.__dict__.get("BINDINGS", []))
    )


def _words(binding: Binding) -> str:
    if binding.group is not None and binding.group.description:
        return binding.group.description
    return binding.tooltip or binding.description


def key_rows(screen: Screen[Any]) -> tuple[list[KeyRow], list[KeyRow]]:
    """The described active bindings of ``screen``: those of the screen and its focused
    widgets, then the app's. One row per action of a node (or per binding group): a binding
    on several keys is one row. System bindings and undescribed ones are left out."""
    app = screen.app
    entries: dict[tuple[int, object], _Entry] = {}
    of_app: list[tuple[int, object]] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        words = _words(binding)
        if binding.system or not words or binding in textual_bindings(type(active.node)):
            continue
        mark = (id(active.node), binding.group or binding.action.partition("(")[0])
        shown = binding.key_display or app.get_key_display(binding)
        entry = entries.get(mark)
        if entry is None:
            entries[mark] = _Entry([shown], [words], active.enabled)
            if active.node is app:
                of_app.append(mark)
            continue
        if shown not in entry.keys:
            entry.keys.append(shown)
        if words not in entry.words:
            entry.words.append(words)
        entry.enabled = entry.enabled or active.enabled
    rows = {
        mark: KeyRow(" ".join(e.keys), " / ".join(e.words), e.enabled)
        for mark, e in entries.items()
    }
    own = [row for mark, row in rows.items() if mark not in of_app]
    return own, [rows[mark] for mark in of_app]


def section_title(screen: Screen[Any]) -> str:
    """What the screen under the help is called: the ``BINDING_GROUP_TITLE`` of the node
    nearest the focus that has one, else the title of the pane shown, else the screen's class
    name in words (``CaseView``: "Case view")."""
    nodes: list[DOMNode] = list(screen.focused.ancestors_with_self) if screen.focused else []
    nodes = [n for n in nodes if n is not screen.app] or [screen]
    for node in nodes:
        if node.BINDING_GROUP_TITLE:
            return node.BINDING_GROUP_TITLE
        if node.id in PANE_TITLES:
            return PANE_TITLES[node.id]
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(screen).__name__)
    return name[:1] + name[1:].lower()


def _table(rows: list[KeyRow], title: str) -> Group:
    t = Table.grid(padding=(0, 2))
    t.add_column(no_wrap=True, style="bold")
    t.add_column()
    for row in rows:
        style = "" if row.enabled else "dim"
        t.add_row(Text(row.keys, style=style), Text(row.words, style=style))
    return Group(Text(title, style="bold underline"), t)


class KeyHelp(ModalScreen[None]):
    CSS_PATH = "key_help.tcss"
    BINDINGS = [
        Binding("escape,q,question_mark,f1,ctrl+g", "close", "Close", show=False),
        Binding("up,k", "scroll(-1)", "Up", show=False),
        Binding("down,j", "scroll(1)", "Down", show=False),
        Binding("pageup", "scroll(-10)", "Page up", show=False),
        Binding("pagedown,space", "scroll(10)", "Page down", show=False),
    ]

    def __init__(self, app: App[Any]) -> None:
        """``app``: the app whose top screen (the one under the help) has its keys shown."""
        super().__init__()
        under = [s for s in app.screen_stack if not isinstance(s, KeyHelp)]
        self.under = under[-1] if under else app.screen

    def compose(self) -> ComposeResult:
        own, everywhere = key_rows(self.under)
        legend = [KeyRow(mark, words) for mark, words in LEGEND]
        with Vertical(id="help-box"):
            with VerticalScroll(id="help-body", can_focus=False):
                yield Static(
                    Group(
                        _table(own, f"Keys: {section_title(self.under)}"),
                        Text(""),
                        _table(everywhere, "Everywhere"),
                        Text(""),
                        _table(legend, "Marks"),
                    ),
                    id="help-text",
                )
            yield Static(Text("esc/q/?: close   ↑↓ PgUp/PgDn: scroll"), id="help-foot")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=lines, animate=False)
