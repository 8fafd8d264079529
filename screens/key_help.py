"""The key help (``?``, F1, or "Keys" in the palette): the keys of what is on screen, the
keys that work everywhere, and the legend of the marks the screens use. Esc, ``q``, ``?``
or F1 close it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "queue": (
        "Queue",
        [
            ("↑↓ j k", "move; PgUp/PgDn a page; Home/g, End/G first and last"),
            ("enter", "open the case under the cursor"),
            ("n", "new case (the classification wizard)"),
            ("/", "search id, subscriber, title (enter: keep; esc: drop)"),
            ("m", "assigned to me (again: all)"),
            ("u", "unassigned (again: all)"),
            ("b", "breached only"),
            ("p", "priority: P0 → P3 → all"),
            ("t", "type: incident → … → all"),
            ("s", "one subscriber"),
            ("x", "clear every filter"),
            ("r", "read again"),
        ],
    ),
    "board": (
        "War-team board",
        [
            ("← → h l", "column"),
            ("↑ ↓", "card"),
            ("> <", "move the card on or back"),
            ("a", "a member joins"),
            ("x", "a member leaves"),
            ("e", "edit the plan (leads and executives)"),
            ("u", "post a status update"),
            ("enter", "open the case"),
            ("PgUp/PgDn", "scroll the detail"),
            ("b", "escalation bell on/off"),
            ("r", "read again"),
        ],
    ),
    "meters": (
        "Query-hour meters",
        [("↑ ↓", "move"), ("enter", "open the subscriber"), ("r", "read again")],
    ),
    "purge": (
        "Retention purges",
        [("P", "purge what is due now (leads; asks y/n)"), ("r", "read again")],
    ),
    "lifespan": (
        "Product lifespans",
        [
            ("↑ ↓", "move"),
            ("enter", "the version's cases"),
            ("e", "edit release and notice dates (leads)"),
            ("r", "read again"),
        ],
    ),
    "notify": (
        "Notifications",
        [("R", "queue the failed ones again (leads; asks y/n)"), ("r", "read again")],
    ),
    "case": (
        "Case view",
        [
            ("a", "acknowledge"),
            ("w", "awaiting the subscriber (a note)"),
            ("s", "the subscriber responded"),
            ("o", "workaround provided"),
            ("f", "fix ETA agreed (asks the ETA)"),
            ("u", "status update (a note)"),
            ("t", "log time"),
            ("l", "level (L4 asks for the link to the fix)"),
            ("c", "reclassify (the wizard)"),
            ("T", "take the case (assign it to me)"),
            ("H", "hand over to another engineer (empty: unassign)"),
            ("R", "resolve (asks, with an optional note)"),
            ("C", "close (asks, with an optional note)"),
            ("O", "reopen"),
            ("S U", "suspend or lift the case's SLA (leads)"),
            (".", "more: change request, vulnerability, CR status, vendor, attach"),
            ("A", "apply again an action refused because the case changed"),
            ("PgUp/PgDn ↑↓", "scroll"),
            ("q esc", "back"),
        ],
    ),
    "subscriber": (
        "Subscriber view",
        [
            ("E", "change a fact, dated (leads)"),
            ("S L", "suspend or lift its SLA (leads)"),
            ("c", "its cases in the queue"),
            ("r", "read again"),
            ("q esc", "back"),
        ],
    ),
    "wizard": (
        "Classification wizard",
        [
            ("1-9 ↑↓", "choose"),
            ("y n", "answer a guideline question"),
            ("enter →", "next"),
            ("PgUp ←", "back, answers kept"),
            ("tab", "next field"),
            ("esc ctrl+g", "cancel, nothing written"),
        ],
    ),
}
EVERYWHERE = [
    ("1-6", "panes: queue, board, meters, purge, lifespans, notifications"),
    ("ctrl+p", "jump to a case or subscriber (replaces the case view shown)"),
    ("? F1", "this help"),
    ("q", "close the view on top; on the main screen: quit? y/n"),
    ("esc", "close the view or prompt on top"),
]
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


def context_of(app: Any) -> str:
    """Which keys to show: the view under the help, else the pane shown."""
    from textual.widgets import ContentSwitcher

    stack = [s for s in app.screen_stack if not isinstance(s, KeyHelp)]
    top = stack[-1] if stack else None
    name = type(top).__name__
    if name == "CaseView":
        return "case"
    if name == "SubscriberView":
        return "subscriber"
    if name == "ClassifyWizard":
        return "wizard"
    try:
        return app.query_one("#panes", ContentSwitcher).current or "queue"
    except Exception:
        return "queue"


def _table(rows: list[tuple[str, str]], title: str) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(no_wrap=True, style="bold")
    t.add_column()
    for key, words in rows:
        t.add_row(key, words)
    return Group(Text(title, style="bold underline"), t)  # type: ignore[return-value]


class KeyHelp(ModalScreen[None]):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")
    BINDINGS = [
        Binding("escape,q,question_mark,f1,ctrl+g", "close", "Close", show=False),
        Binding("up,k", "scroll(-1)", show=False),
        Binding("down,j", "scroll(1)", show=False),
        Binding("pageup", "scroll(-10)", show=False),
        Binding("pagedown,space", "scroll(10)", show=False),
    ]

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.context = context_of(app)

    def compose(self) -> ComposeResult:
        title, keys = KEYS.get(self.context, KEYS["queue"])
        with Vertical(id="help-box"):
            with VerticalScroll(id="help-body", can_focus=False):
                yield Static(
                    Group(
                        _table(keys, f"Keys: {title}"),
                        Text(""),
                        _table(EVERYWHERE, "Everywhere"),
                        Text(""),
                        _table(LEGEND, "Marks"),
                    ),
                    id="help-text",
                )
            yield Static(Text("esc/q/?: close   ↑↓ PgUp/PgDn: scroll"), id="help-foot")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=lines, animate=False)
