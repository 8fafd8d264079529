"""Suspending and lifting the SLA (policy §6): the reason picker, a yes/no confirmation,
and the case-level actions for the case view.

Suspending and lifting need the lead role. The engine checks it on every write
(``console.suspensions``, ``console.actions.append_event(..., actor=)``); the screens also
ask the engine's ``require`` before showing a picker, so an engineer sees the refusal at
once instead of after choosing a reason. Either way nothing is written.

The case view binds ``S``/``U`` to ``suspend_case(self)`` / ``lift_case(self)`` (the lead
adds those bindings; see the report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.rules.policy_book import as_book
from console.text import inert
from screens.offline import failed_text
from screens.words import refusal_text

REASON_TEXT = {
    "subscription_lapsed": "term ended (normally automatic)",
    "unauthorized_use": "unauthorised use",
    "usage_limit_exceeded": "query-hour limit exceeded",
    "license_noncompliance": "licence non-compliance",
    "abuse": "abuse of the support service",
    "illegal_use": "illegal use",
    "custom_extension": "custom product extension",
}


class _Modal(ModalScreen[Any]):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("ctrl+g", "cancel", "Cancel"),
        # q closes the view on top, as everywhere (a text box takes it as a letter).
        Binding("q", "cancel", "Cancel", show=False),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)


class SuspendPrompt(_Modal):
    """Pick the reason for a suspension; returns the reason key (None: cancelled)."""

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
            for i, r in enumerate(self.reasons):
                label = Text(no_wrap=True, overflow="ellipsis")
                label.append(f"{i + 1}  {r}", style="bold")
                if r == self.suggested:
                    label.append("  (suggested)")
                label.append(f"  {REASON_TEXT.get(r, '')}", style="dim")
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

    def on_key(self, event: Any) -> None:
        if event.character and event.character.isdigit():
            i = int(event.character) - 1
            if 0 <= i < len(self.reasons):
                event.stop()
                self.dismiss(self.reasons[i])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ConfirmPrompt(_Modal):
    """A yes/no question; returns True, or None when refused or cancelled."""

    BINDINGS = [
        Binding("y", "yes", "Yes", show=False),
        Binding("n", "cancel", "No", show=False),
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


def refusal(store: Any, user: str, action: str, app: Any = None) -> str | None:
    """The engine's refusal for ``user`` doing ``action`` (None when allowed). A database
    that cannot be reached refuses too, in words (and ``app`` goes OFFLINE)."""
    from console.operators import NotAllowed, require
    from screens.offline import database_fault

    try:
        with store.connection() as conn:
            try:
                require(conn, user, action)
            except NotAllowed as exc:
                return str(exc)
    except Exception as exc:
        why = database_fault(exc)
        if why is None:
            raise
        went = getattr(app, "went_offline", None)
        if went is not None:
            went(why)
        return why
    return None


def _case_suspended_by_event(view: Any) -> bool:
    """Whether the case's own history has it suspended (a case-level suspension)."""
    state = False
    data = getattr(view, "data", None)
    for e in getattr(data, "history", None) or []:
        if e.kind == "suspended":
            state = True
        elif e.kind == "unsuspended":
            state = False
    return state


def suspend_case(view: Any) -> None:
    """For the case view (``S``): pick a reason, record ``suspended`` as the operator."""
    why = refusal(view.store, view.user, "suspended", view.app)
    if why is not None:
        view._say(refusal_text(why), error=True)
        return
    if _case_suspended_by_event(view):
        view._say(f"the SLA of case {view.case_id} is already suspended (U lifts it)", error=True)
        return

    def done(reason: str | None) -> None:
        if reason is not None:
            _record_case(view, "suspended", {"reason": reason})

    reasons = as_book(view.policy).at(view._now()).suspension_reasons
    view.app.push_screen(
        SuspendPrompt(f"case {view.case_id}", reasons, suggested="custom_extension"), done
    )


def lift_case(view: Any) -> None:
    """For the case view (``U``): confirm, record ``unsuspended`` as the operator."""
    why = refusal(view.store, view.user, "unsuspended", view.app)
    if why is not None:
        view._say(refusal_text(why), error=True)
        return

    def done(ok: bool | None) -> None:
        if ok:
            _record_case(view, "unsuspended", {})

    view.app.push_screen(
        ConfirmPrompt(f"Lift the SLA suspension of case {view.case_id}?", yes="lift"), done
    )


def _record_case(view: Any, kind: str, data: dict[str, Any]) -> None:
    def write() -> None:
        from console.actions import Refused, append_event
        from screens.case_view import load_case

        now = view._now()
        version = view.data.row.version if getattr(view, "data", None) is not None else None
        try:
            append_event(
                view.store,
                view.case_id,
                kind,
                at=now,
                by=view.user,
                data=data,
                recorded_at=now,
                expected_version=version,
                actor=view.user,
            )
        except Refused as exc:
            view.app.call_from_thread(view._say, refusal_text(exc), error=True)
            return
        except Exception as exc:
            view.app.call_from_thread(view._say, failed_text(view.app, exc), error=True)
            return
        fresh = load_case(view.store, view.policy, view.case_id, view._now())
        view.app.call_from_thread(view._show, fresh)
        label = (
            f"SLA suspended ({REASON_TEXT.get(data['reason'], data['reason'])})"
            if kind == "suspended"
            else "SLA suspension lifted"
        )
        view.app.call_from_thread(view._say, label)
        changed = getattr(view.app, "case_changed", None)
        if changed is not None:
            view.app.call_from_thread(changed, view.case_id)

    view.run_worker(write, thread=True, exclusive=True, group="case-write")
