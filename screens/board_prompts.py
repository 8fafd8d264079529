"""The board's modals: a member joins or leaves the war team, a plan part is edited, a
status update is posted.

Each modal is given ``save(value) -> message``, which writes through the engine and raises
``Refused`` with the reason. The modal runs it in a thread worker: on success it closes
with the message; on a refusal it stays open, shows the reason and keeps what the
operator typed, so they can fix it or retry (a plan edit refused for the operator's role
keeps the text; ``ctrl+g``/Escape then keeps it as a draft for the next try).

Enter confirms (ctrl+s in the plan's text area, where enter starts a new line);
ctrl+g or Escape cancels (Escape alone is slow through tmux).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from console.text import inert
from screens.offline import failed_text
from screens.words import refusal_text

ValueT = TypeVar("ValueT")

ROLES = (
    ("engineer", "support engineer"),
    ("executive", "executive"),
    ("subscriber_rep", "subscriber representative"),
)


def _input(*, placeholder: str, id: str) -> Input:
    box = Input(placeholder=placeholder, id=id)
    box.cursor_blink = False
    return box


class BoardModal(ModalScreen[str | None], Generic[ValueT]):
    """What the board's modals share: cancel keys, the error line, the write in a worker
    (``save(value)``), whose outcome comes back as a ``Written`` message. Each closes with a
    message for the board (or the part picked, for the plan's part picker), None when
    cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel", show=False, tooltip="cancel, nothing written"),
        Binding("ctrl+g", "cancel", "cancel", tooltip="cancel, nothing written"),
        # q closes the view on top, as everywhere (a text box takes it as a letter).
        Binding("q", "cancel", "cancel", show=False, tooltip="cancel, nothing written"),
    ]

    class Written(Message):
        """The save's outcome: ``message`` to close with, else why it was refused."""

        bubble = False

        def __init__(self, message: str | None, refused: str | None) -> None:
            super().__init__()
            self.message = message
            self.refused = refused

    def __init__(self, save: Callable[[ValueT], str] | None = None) -> None:
        super().__init__(classes="board-prompt")
        self.save = save
        self.busy = False

    def action_cancel(self) -> None:
        self.dismiss(None)

    def error(self, message: str) -> None:
        text = Text("✖ " + inert(message)) if message else Text("")
        self.query_one("#board-prompt-error", Static).update(text)

    def _error_box(self) -> Static:
        return Static(id="board-prompt-error", classes="prompt-error", markup=False)

    def submit(self, value: ValueT) -> None:
        if self.busy or self.save is None:
            return
        self.busy = True
        self.error("")
        self._write(self.save, value)

    @work(thread=True, exit_on_error=False, group="board-modal")
    def _write(self, save: Callable[[ValueT], str], value: ValueT) -> None:
        from console.actions import Refused

        try:
            outcome = self.Written(save(value), None)
        except Refused as exc:
            outcome = self.Written(None, refusal_text(exc))
        except Exception as exc:
            outcome = self.Written(None, failed_text(self.app, exc))
        self.post_message(outcome)

    @on(Written)
    def _written(self, outcome: Written) -> None:
        if outcome.message is not None:
            self._saved(outcome.message)
        else:
            self._refused(outcome.refused or "not recorded")

    def _refused(self, message: str) -> None:
        self.busy = False
        self.error(message)

    def _saved(self, message: str) -> None:
        self.busy = False
        self.dismiss(message)


class MemberJoin(BoardModal[dict[str, str]]):
    """A member joins the war team: a name, then a role (1-3 or enter)."""

    BINDINGS = [
        Binding("1", "role(0)", "engineer", show=False, tooltip="role: support engineer"),
        Binding("2", "role(1)", "executive", show=False, tooltip="role: executive"),
        Binding(
            "3",
            "role(2)",
            "subscriber rep",
            show=False,
            tooltip="role: subscriber representative",
        ),
    ]

    def __init__(self, case_id: str, save: Callable[[dict[str, str]], str]) -> None:
        super().__init__(save)
        self.case_id = case_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Static(Text(f"Join {inert(self.case_id)}'s war team"), classes="prompt-title")
            yield _input(placeholder="name", id="member-name")
            yield OptionList(
                *[
                    Option(Text(f"{i + 1}  {label}"), id=role)
                    for i, (role, label) in enumerate(ROLES)
                ],
                id="member-role",
            )
            yield self._error_box()
            yield Static(
                Text("name, enter, then 1-3 or ↑↓ enter: role   ctrl+g/esc: cancel"),
                classes="prompt-help",
            )

    def on_mount(self) -> None:
        self.query_one("#member-name", Input).focus()

    @on(Input.Submitted, "#member-name")
    def _named(self) -> None:
        if not self.member_name():
            self.error("a name is needed")
            return
        self.error("")
        self.query_one("#member-role", OptionList).focus()

    def member_name(self) -> str:
        return " ".join(self.query_one("#member-name", Input).value.split())

    def action_role(self, index: int) -> None:
        self._choose(ROLES[index][0])

    @on(OptionList.OptionSelected, "#member-role")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self._choose(str(event.option.id))

    def _choose(self, role: str) -> None:
        name = self.member_name()
        if not name:
            self.error("a name is needed")
            self.query_one("#member-name", Input).focus()
            return
        self.submit({"name": name, "role": role})


class MemberLeave(BoardModal[tuple[str, str]]):
    """A current member leaves the war team (their role history keeps the time)."""

    def __init__(
        self, case_id: str, members: list[tuple[str, str]], save: Callable[[tuple[str, str]], str]
    ) -> None:
        super().__init__(save)
        self.case_id = case_id
        self.members = members

    def compose(self) -> ComposeResult:
        labels = dict(ROLES)
        with Vertical(classes="prompt"):
            yield Static(
                Text(f"Who leaves {inert(self.case_id)}'s war team?"), classes="prompt-title"
            )
            yield OptionList(
                *[
                    Option(Text(f"{inert(name)} — {labels.get(role, role)}"), id=str(i))
                    for i, (name, role) in enumerate(self.members)
                ],
                id="member-leave",
            )
            yield self._error_box()
            yield Static(Text("↑↓ enter: leaves   ctrl+g/esc: cancel"), classes="prompt-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.submit(self.members[int(str(event.option.id))])


class PlanPartPick(BoardModal[str]):
    """Which part of the response plan to edit (a, m, r, f or ↑↓ enter)."""

    LETTERS = {"assessment": "a", "mitigation": "m", "resources": "r", "update_frequency": "f"}
    #: The part's letter and name; its text now (board_prompts.tcss).
    COMPONENT_CLASSES: ClassVar[set[str]] = {"plan-pick--part", "plan-pick--current"}
    BINDINGS = [
        Binding("a", "pick('assessment')", "assessment", show=False),
        Binding("m", "pick('mitigation')", "mitigation", show=False),
        Binding("r", "pick('resources')", "resources", show=False),
        Binding("f", "pick('update_frequency')", "update frequency", show=False),
    ]

    def __init__(
        self, case_id: str, parts: tuple[tuple[str, str], ...], current: dict[str, str | None]
    ) -> None:
        super().__init__()
        self.case_id = case_id
        self.parts = parts
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Static(
                Text(f"Edit {inert(self.case_id)}'s response plan"), classes="prompt-title"
            )
            yield OptionList(id="plan-part")
            yield Static(
                Text("a/m/r/f or ↑↓ enter: edit   ctrl+g/esc: cancel"), classes="prompt-help"
            )

    def on_mount(self) -> None:
        """The parts, drawn with the stylesheet's component classes (read once mounted)."""
        part_style = self.get_component_rich_style("plan-pick--part", partial=True)
        now_style = self.get_component_rich_style("plan-pick--current", partial=True)
        options = []
        for part, label in self.parts:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{self.LETTERS[part]}  {label}", style=part_style)
            now = " ".join((self.current.get(part) or "—").split())
            text.append(f"  {inert(now)}", style=now_style)
            options.append(Option(text, id=part))
        box = self.query_one(OptionList)
        box.add_options(options)
        box.highlighted = 0
        box.focus()

    def action_pick(self, part: str) -> None:
        self.dismiss(part)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))


class PlanEdit(BoardModal[str]):
    """One part of the plan in a text area; ctrl+s saves a new version."""

    BINDINGS = [Binding("ctrl+s", "save", "save", priority=True, tooltip="save a new version")]

    def __init__(
        self,
        case_id: str,
        label: str,
        text: str,
        save: Callable[[str], str],
        keep: Callable[[str | None], None],
        *,
        draft: bool = False,
    ) -> None:
        super().__init__(save)
        self.case_id = case_id
        self.label = label
        self.text = text
        self.keep = keep  # keep(text) holds an unsaved draft; keep(None) drops it
        self.draft = draft
        self.refused = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt plan-edit"):
            yield Static(
                Text(
                    f"{inert(self.case_id)} · {self.label}"
                    + ("  (your unsaved draft)" if self.draft else "")
                ),
                classes="prompt-title",
            )
            area = TextArea(self.text, id="plan-text", soft_wrap=True, compact=True)
            area.cursor_blink = False
            yield area
            yield self._error_box()
            yield Static(
                Text("ctrl+s: save   ctrl+g/esc: cancel (a refused text is kept)"),
                classes="prompt-help",
            )

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @property
    def value(self) -> str:
        return self.query_one(TextArea).text

    def action_save(self) -> None:
        text = self.value.strip()
        if not text:
            self.error("the text is empty")
            return
        self.submit(text)

    def _refused(self, message: str) -> None:
        self.refused = True
        self.keep(self.value)
        super()._refused(message)

    def _saved(self, message: str) -> None:
        self.keep(None)
        super()._saved(message)

    def action_cancel(self) -> None:
        if self.refused or self.draft:
            self.keep(self.value)
        self.dismiss(None)


class UpdatePost(BoardModal[str]):
    """A status update to the subscriber, logged against the team's cadence."""

    def __init__(self, case_id: str, due: str, save: Callable[[str], str]) -> None:
        super().__init__(save)
        self.case_id = case_id
        self.due = due

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            title = f"Status update on {inert(self.case_id)}"
            if self.due:
                title += f" ({self.due})"
            yield Static(Text(title), classes="prompt-title")
            yield _input(placeholder="what the subscriber was told", id="update-note")
            yield self._error_box()
            yield Static(Text("enter: post   ctrl+g/esc: cancel"), classes="prompt-help")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#update-note")
    def _posted(self, event: Input.Submitted) -> None:
        note = event.value.strip()
        if not note:
            self.error("a note is needed")
            return
        self.submit(note)
