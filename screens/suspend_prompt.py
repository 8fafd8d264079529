"""Suspending and lifting the SLA (policy §6): the reason picker, a yes/no confirmation,
and the case-level actions for the case view.

Suspending and lifting need the lead role. The engine checks it on every write
(``console.suspensions``, ``console.actions.append_event(..., actor=)``); the screens also
ask the engine's ``require`` before showing a picker, so an engineer sees the refusal at
once instead of after choosing a reason. Either way nothing is written.

The case view binds ``S``/``U`` to ``suspend_case(self)`` / ``lift_case(self)``; the write
goes through the view's own ``record`` (the engine's ``append_event``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook, as_book
from console.text import inert
from screens.words import refusal_text

if TYPE_CHECKING:
    from console.store.engine import Store
    from console.views.case import CaseData
    from screens.app import ConsoleApp

# The app imports this module for its quit prompt: the database side (the role check in
# ``console.views.case``) is imported when a refusal is first asked for.

REASON_TEXT = {
    "subscription_lapsed": "term ended (normally automatic)",
    "unauthorized_use": "unauthorised use",
    "usage_limit_exceeded": "query-hour limit exceeded",
    "license_noncompliance": "licence non-compliance",
    "abuse": "abuse of the support service",
    "illegal_use": "illegal use",
    "custom_extension": "custom product extension",
}


ResultT = TypeVar("ResultT")


class _Modal(ModalScreen[ResultT]):
    BINDINGS = [
        Binding("escape", "cancel", "cancel", show=False, tooltip="cancel, nothing chosen"),
        Binding("ctrl+g", "cancel", "cancel", tooltip="cancel, nothing chosen"),
        # q closes the view on top, as everywhere (a text box takes it as a letter).
        Binding("q", "cancel", "cancel", show=False, tooltip="cancel, nothing chosen"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)


class SuspendPrompt(_Modal[str | None]):
    """Pick the reason for a suspension; returns the reason key (None: cancelled)."""

    #: Styles of the text drawn in code, from the theme (suspend_prompt.tcss).
    COMPONENT_CLASSES = {"suspend-prompt--key", "suspend-prompt--hint"}

    def __init__(
        self,
        target: str,
        reasons: tuple[str, ...] | list[str],
        *,
        suggested: str | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.target = target
        self.reasons = tuple(reasons)
        self.suggested = suggested if suggested in self.reasons else None
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="suspend"):
            yield Static(
                Text(f"Suspend the SLA of {inert(self.target)}: why?"), classes="suspend-title"
            )
            if self.note:
                yield Static(Text(inert(self.note)), classes="suspend-note")
            options = []
            key_style = self.get_component_rich_style("suspend-prompt--key", partial=True)
            hint_style = self.get_component_rich_style("suspend-prompt--hint", partial=True)
            for i, r in enumerate(self.reasons):
                label = Text(no_wrap=True, overflow="ellipsis")
                label.append(f"{i + 1}  {r}", style=key_style)
                if r == self.suggested:
                    label.append("  (suggested)")
                label.append(f"  {REASON_TEXT.get(r, '')}", style=hint_style)
                options.append(Option(label, id=r))
            yield OptionList(*options, id="suspend-reasons")
            yield Static(
                Text(f"1-{len(self.reasons)} or enter: choose   ctrl+g/esc: cancel"),
                classes="suspend-help",
            )

    def on_mount(self) -> None:
        box = self.query_one(OptionList)
        if self.suggested is not None:
            box.highlighted = self.reasons.index(self.suggested)
        box.focus()

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            i = int(event.character) - 1
            if 0 <= i < len(self.reasons):
                event.stop()
                self.dismiss(self.reasons[i])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ConfirmPrompt(_Modal[bool | None]):
    """A yes/no question; returns True, or None when refused or cancelled."""

    BINDINGS = [
        Binding("y", "yes", "yes", show=False, tooltip="yes: do it"),
        Binding("n", "cancel", "no", show=False, tooltip="no: cancel, nothing written"),
    ]

    def __init__(self, question: str, *, yes: str = "yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="suspend"):
            yield Static(Text(inert(self.question)), classes="suspend-title")
            yield Static(Text(f"y: {self.yes}   n/q/esc: cancel"), classes="suspend-help")

    def action_yes(self) -> None:
        self.dismiss(True)


# -- the case view's suspend / lift (policy §6, scope: one case) ----------------------------


class CaseTarget(Protocol):
    """What the suspend and lift keys need of the case view (``screens.case_view``, which
    imports this module: the view is named here by what it offers, not imported)."""

    case_id: str
    store: Store
    user: str
    policy: Policy | PolicyBook
    data: CaseData | None

    @property
    def app(self) -> App[Any]: ...

    def _now(self) -> int: ...

    def _say(self, message: str, *, error: bool = False) -> None: ...

    def record(self, kind: str, data: dict[str, Any], *, said: str | None = None) -> object: ...


def refusal(store: Store, user: str, action: str, app: App[Any] | None = None) -> str | None:
    """The engine's refusal for ``user`` doing ``action`` (None when allowed). A database
    that cannot be reached refuses too, in words (and ``app`` goes OFFLINE)."""
    from console.views.case import action_refusal
    from screens.offline import database_fault

    try:
        return action_refusal(store, user, action)
    except Exception as exc:
        why = database_fault(exc)
        if why is None:
            raise
        if app is not None:
            cast("ConsoleApp", app).went_offline(why)
        return why


def suspend_case(view: CaseTarget) -> None:
    """For the case view (``S``): pick a reason, record ``suspended`` as the operator."""
    why = refusal(view.store, view.user, "suspended", view.app)
    if why is not None:
        view._say(refusal_text(why), error=True)
        return
    if view.data is not None and view.data.suspended_by_event:
        view._say(f"the SLA of case {view.case_id} is already suspended (U lifts it)", error=True)
        return

    def done(reason: str | None) -> None:
        if reason is not None:
            said = f"SLA suspended ({REASON_TEXT.get(reason, reason)})"
            view.record("suspended", {"reason": reason}, said=said)

    reasons = as_book(view.policy).at(view._now()).suspension_reasons
    view.app.push_screen(
        SuspendPrompt(f"case {view.case_id}", reasons, suggested="custom_extension"), done
    )


def lift_case(view: CaseTarget) -> None:
    """For the case view (``U``): confirm, record ``unsuspended`` as the operator."""
    why = refusal(view.store, view.user, "unsuspended", view.app)
    if why is not None:
        view._say(refusal_text(why), error=True)
        return

    def done(ok: bool | None) -> None:
        if ok:
            view.record("unsuspended", {}, said="SLA suspension lifted")

    view.app.push_screen(
        ConfirmPrompt(f"Lift the SLA suspension of case {view.case_id}?", yes="lift"), done
    )
