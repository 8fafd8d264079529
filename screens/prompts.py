"""Small modal inputs: a line of text, logged hours, a support level.

Each returns its answer to the callback of ``push_screen`` (``None`` when cancelled).
Enter confirms; ``ctrl+g`` or Escape cancels (Escape alone is slow
through tmux, so every prompt also names a plain-key way out).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from console.text import inert


def _input(**kw: Any) -> Input:  # Input's own keyword arguments
    """An Input that does not blink (a blinking cursor costs bytes on a slow link)."""
    box = Input(**kw)
    box.cursor_blink = False
    return box


ResultT = TypeVar("ResultT")


class _Prompt(ModalScreen[ResultT]):
    """The prompts' common keys; each returns its own kind of answer (or None)."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel", show=False, tooltip="cancel, nothing chosen"),
        Binding("ctrl+g", "cancel", "cancel", tooltip="cancel, nothing chosen"),
        # q closes the view on top, as everywhere (a text box takes it as a letter).
        Binding("q", "cancel", "cancel", show=False, tooltip="cancel, nothing chosen"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextPrompt(_Prompt[str | None]):
    """One line of text: a note, a filter value, a link, a time.

    ``required``: what to say when it is left empty (``True``: "a note is needed");
    ``check(text)`` returns why the text will not do (None: it will), shown without
    closing; ``ok`` names what Enter does; ``hint`` is a line under the question.
    """

    def __init__(
        self,
        question: str,
        *,
        value: str = "",
        required: bool | str = False,
        ok: str = "ok",
        check: Callable[[str], str | None] | None = None,
        hint: str = "",
        placeholder: str = "",
    ) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.required = "a note is needed" if required is True else required
        self.ok = ok
        self.check = check
        self.hint = hint
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Static(Text(self.question), classes="prompt-title")
            if self.hint:
                yield Static(Text(self.hint), classes="prompt-help")
            yield _input(value=self.value, id="prompt-text", placeholder=self.placeholder)
            yield Static(id="prompt-error", classes="prompt-error")
            yield Static(Text(f"enter: {self.ok}   ctrl+g/esc: cancel"), classes="prompt-help")

    def _error(self, message: str) -> None:
        self.query_one("#prompt-error", Static).update(Text("✖ " + inert(message)))

    @on(Input.Submitted, "#prompt-text")
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if self.required and not text:
            self._error(str(self.required))
            return
        if self.check is not None and text:
            why = self.check(text)
            if why:
                self._error(why)
                return
        self.dismiss(text)


class Tickbox(Checkbox):
    """A checkbox whose state reads without colour: ``X`` when ticked, blank when not
    (Textual's own shows ``X`` either way and tells them apart by colour alone)."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802
        return "X" if self.value else " "


class HoursPrompt(_Prompt[dict[str, Any] | None]):
    """Time logged: hours, exempt from the query-hour limit, note."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Static(Text("Log time on this case"), classes="prompt-title")
            yield _input(placeholder="hours, e.g. 1.5", id="prompt-hours")
            yield Tickbox("exempt (fix for a product error; needs a note)", id="prompt-exempt")
            yield _input(placeholder="note", id="prompt-note")
            yield Static(id="prompt-error", classes="prompt-error")
            yield Static(
                Text("tab: next field   space: toggle exempt   enter: ok   ctrl+g: cancel"),
                classes="prompt-help",
            )

    def _error(self, msg: str) -> None:
        self.query_one("#prompt-error", Static).update(Text("✖ " + msg))

    @on(Input.Submitted)
    def _submit(self) -> None:
        raw = self.query_one("#prompt-hours", Input).value.strip().replace(",", ".")
        try:
            hours = float(raw)
        except ValueError:
            self._error(f"hours: not a number: {raw!r}")
            self.query_one("#prompt-hours", Input).focus()
            return
        exempt = self.query_one("#prompt-exempt", Checkbox).value
        note = self.query_one("#prompt-note", Input).value.strip()
        self.dismiss({"hours": hours, "exempt": exempt, "note": note or None})


class LevelPrompt(_Prompt[str | None]):
    """Pick a support level (policy §10)."""

    LEVELS = (
        ("L1", "initial handling"),
        ("L2", "diagnosis and known solutions"),
        ("L3", "advanced troubleshooting"),
        ("L4", "product update or documentation fix"),
    )

    BINDINGS = [
        Binding("1", "pick('L1')", "L1", show=False, tooltip="L1: initial handling"),
        Binding("2", "pick('L2')", "L2", show=False, tooltip="L2: diagnosis, known solutions"),
        Binding("3", "pick('L3')", "L3", show=False, tooltip="L3: advanced troubleshooting"),
        Binding("4", "pick('L4')", "L4", show=False, tooltip="L4: product update or doc fix"),
    ]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Static(Text(f"Change level (now {self.current})"), classes="prompt-title")
            yield OptionList(
                *[
                    Option(Text(f"{i + 1}  {lv}  {desc}"), id=lv)
                    for i, (lv, desc) in enumerate(self.LEVELS)
                ],
                id="prompt-levels",
            )
            yield Static(Text("1-4 or enter: choose   ctrl+g/esc: cancel"), classes="prompt-help")

    def action_pick(self, level: str) -> None:
        self.dismiss(level)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
