"""Small modals for the governance screens: a lettered menu (the case view's "more" key,
the priority of a confirmed vulnerability, a change request's next status), the release
and notice dates of a product version, and a list of cases to open.

Each returns its answer to the callback of ``push_screen`` (``None`` when cancelled).
A plain key chooses (shown before each line); ``ctrl+g`` or Escape cancels (Escape alone
is slow through tmux, so each modal names a plain-key way out as well).
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.text import inert

ResultT = TypeVar("ResultT")


class _Modal(ModalScreen[ResultT]):
    """The modals' common keys; each returns its own kind of answer (or None)."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel", show=False, tooltip="cancel, nothing chosen"),
        Binding("ctrl+g", "cancel", "cancel", tooltip="cancel, nothing chosen"),
        # q closes the view on top, as everywhere (a text box takes it as a letter).
        Binding("q", "cancel", "cancel", show=False, tooltip="cancel, nothing chosen"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceMenu(_Modal[str | None]):
    """Pick one of a few lettered choices: ``(key, id, label, note)``. A choice with a
    note that starts with ``"✖"`` is shown but not available (the note says why)."""

    #: Styles of the text drawn in code, from the theme (governance_prompts.tcss).
    COMPONENT_CLASSES = {"choice-menu--key", "choice-menu--off"}

    def __init__(
        self, title: str, choices: list[tuple[str, str, str, str]], *, current: str | None = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="gov"):
            yield Static(Text(inert(self.title_text)), classes="gov-title")
            options = []
            key_style = self.get_component_rich_style("choice-menu--key", partial=True)
            off_style = self.get_component_rich_style("choice-menu--off", partial=True)
            for key, cid, label, note in self.choices:
                line = Text(no_wrap=True, overflow="ellipsis")
                off = note.startswith("✖")
                line.append(f"{key}  ", style=off_style if off else key_style)
                line.append(label, style=off_style if off else Style())
                if note:
                    line.append(f"  {inert(note)}", style=off_style)
                options.append(Option(line, id=cid, disabled=off))
            yield OptionList(*options, id="gov-choices")
            keys = "/".join(k for k, _, _, n in self.choices if not n.startswith("✖"))
            yield Static(Text(f"{keys} or enter: choose   ctrl+g/esc: cancel"), classes="gov-help")

    def on_mount(self) -> None:
        box = self.query_one(OptionList)
        ids = [c[1] for c in self.choices if not c[3].startswith("✖")]
        if ids:
            all_ids = [c[1] for c in self.choices]
            box.highlighted = all_ids.index(self.current if self.current in ids else ids[0])
        box.focus()

    def on_key(self, event: events.Key) -> None:
        for key, cid, _, note in self.choices:
            if event.character == key and not note.startswith("✖"):
                event.stop()
                self.dismiss(cid)
                return

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def _parse(raw: str) -> date:
    from console.rules.timeutil import parse_date

    return parse_date(raw)


class DatesPrompt(_Modal[tuple[date, date | None] | None]):
    """A product version's release and discontinuation-notice dates (YYYY-MM-DD; an
    empty notice: none). Returns ``(released, notice)``."""

    def __init__(
        self, product: str, version: str, released: date | None, notice: date | None
    ) -> None:
        super().__init__()
        self.product = product
        self.version = version
        self.released = released
        self.notice = notice

    def compose(self) -> ComposeResult:
        with Vertical(classes="gov"):
            yield Static(
                Text(f"Support dates of {inert(self.product)} {inert(self.version)}"),
                classes="gov-title",
            )
            yield Static(Text("released (YYYY-MM-DD)"), classes="gov-label")
            yield _input(self.released.isoformat() if self.released else "", "gov-released")
            yield Static(
                Text("discontinuation notice (YYYY-MM-DD, empty: none)"), classes="gov-label"
            )
            yield _input(self.notice.isoformat() if self.notice else "", "gov-notice")
            yield Static(id="gov-error", classes="gov-error")
            yield Static(
                Text("end of support = max(release + 3 y, notice + 1 y)"), classes="gov-help"
            )
            yield Static(
                Text("tab: next field   enter: save   ctrl+g/esc: cancel"), classes="gov-help"
            )

    def on_mount(self) -> None:
        self.query_one("#gov-released", Input).focus()

    def _error(self, msg: str) -> None:
        self.query_one("#gov-error", Static).update(Text("✖ " + msg))

    @on(Input.Submitted)
    def _submit(self) -> None:
        raw_rel = self.query_one("#gov-released", Input).value.strip()
        raw_notice = self.query_one("#gov-notice", Input).value.strip()
        try:
            released = _parse(raw_rel)
        except Exception:
            self._error(f"released: not a date (YYYY-MM-DD): {raw_rel!r}")
            self.query_one("#gov-released", Input).focus()
            return
        try:
            notice = _parse(raw_notice) if raw_notice else None
        except Exception:
            self._error(f"notice: not a date (YYYY-MM-DD): {raw_notice!r}")
            self.query_one("#gov-notice", Input).focus()
            return
        self.dismiss((released, notice))


def _input(value: str, id: str) -> Input:
    box = Input(value=value, id=id)
    box.cursor_blink = False
    return box


class CaseListPrompt(_Modal[str | None]):
    """A list of cases (id, one line of facts); enter opens the highlighted one
    (returns its id)."""

    def __init__(self, title: str, cases: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.cases = cases

    def compose(self) -> ComposeResult:
        with Vertical(classes="gov gov-wide"):
            yield Static(
                Text(inert(self.title_text), no_wrap=True, overflow="ellipsis"), classes="gov-title"
            )
            width = max(20, min(100, self.app.size.width) - 6)
            options = []
            for cid, line in self.cases:
                text = Text(f"{inert(cid):<10} {inert(line)}", no_wrap=True)
                text.truncate(width, overflow="ellipsis")
                options.append(Option(text, id=cid))
            if not options:
                options = [Option(Text("(no open cases)"), id="", disabled=True)]
            yield OptionList(*options, id="gov-cases")
            yield Static(Text("enter: open the case   ctrl+g/esc: close"), classes="gov-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(event.option.id)
