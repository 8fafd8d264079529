"""The subscriber view's change form (policy §14, leads): a dated change of the
subscription, previewed before it is recorded.

What changes (a list), the new value, the effective instant in the operator's zone
(default now) and a reason; the first Enter on the reason computes what the change does
to the subscriber's open cases (which clocks breach, which clear, which appear or
disappear) and shows it; the second records it through ``console.changes`` with the same
rules as ``support-console subscriber set`` (an engineer is refused before the form opens).
Changing any field after a preview asks for a new preview. Escape or ctrl+g cancels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from console.changes import FORM_KINDS, Effect, change_subscriber
from console.errors import Refused
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook
from console.rules.timeutil import format_instant
from console.store.engine import Store
from console.text import hm, inert
from console.views.subscriber import preview_change
from screens.offline import worker_failed_text
from screens.words import refusal_text

LOCAL = "%Y-%m-%d %H:%M"
PREVIEW_LINES = 8


def _input(**kw: Any) -> Input:  # Input's own keyword arguments
    box = Input(compact=True, **kw)
    box.cursor_blink = False
    return box


class ChangeForm(ModalScreen[str | None]):
    """Returns a one-line description of the recorded change, or None (cancelled)."""

    #: Styles of the text drawn in code, from the theme (change_form.tcss).
    COMPONENT_CLASSES = {"change-form--strong", "change-form--aside", "change-form--next"}
    BINDINGS = [
        Binding("escape", "cancel", "cancel", show=False, tooltip="cancel, nothing written"),
        Binding("ctrl+g", "cancel", "cancel", tooltip="cancel, nothing written"),
    ]

    # -- what the workers report (posted from their thread, handled on the app's) ------------

    class Previewed(Message):
        """What the change would do: ``key`` (kind, value, effective) as typed, ``facts``
        the subscription after it, ``effects`` on the open cases' clocks at ``at``."""

        def __init__(
            self,
            key: tuple[str, str, int | None],
            facts: Mapping[str, Any],
            at: int,
            effects: tuple[Effect, ...],
        ) -> None:
            super().__init__()
            self.key = key
            self.facts = facts
            self.at = at
            self.effects = effects

    class Failed(Message):
        """Nothing previewed or written: ``text`` says why (``strong``: a refusal)."""

        def __init__(self, text: str, *, strong: bool) -> None:
            super().__init__()
            self.text = text
            self.strong = strong

    class Recorded(Message):
        """The change was recorded: ``said`` describes it (the form closes with it)."""

        def __init__(self, said: str) -> None:
            super().__init__()
            self.said = said

    def __init__(
        self,
        subscriber: str,
        *,
        store: Store,
        policy: Policy | PolicyBook,
        user: str,
        tz: tzinfo,
        now: Callable[[], int],
    ) -> None:
        super().__init__()
        self.subscriber = subscriber
        self.store, self.policy, self.user, self.tz, self._now = store, policy, user, tz, now
        # (kind, value, effective, facts) last previewed
        self.previewed: tuple[str, str, int | None, Mapping[str, Any]] | None = None
        self.busy = False

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"change-form--{name}", partial=True)

    def compose(self) -> ComposeResult:
        with Vertical(classes="change"):
            yield Static(
                Text(f"Change {inert(self.subscriber)}: a dated record, never the past"),
                classes="change-title",
            )
            yield OptionList(
                *[Option(Text(label), id=kind) for kind, label, _ in FORM_KINDS], id="change-kind"
            )
            yield Static(id="change-hint", classes="change-help")
            yield _input(placeholder="new value (tab: next)", id="change-value")
            yield Static(
                Text("effective, in your zone (YYYY-MM-DD HH:MM):"), classes="change-label"
            )
            yield _input(
                value=datetime.fromtimestamp(self._now(), self.tz).strftime(LOCAL),
                id="change-effective",
            )
            yield _input(placeholder="reason (required)", id="change-reason")
            yield Static(id="change-preview", classes="change-preview")
            yield Static(
                Text(
                    "tab: next field   enter: preview, then enter again to record   "
                    "ctrl+g/esc: cancel"
                ),
                classes="change-help",
            )

    def on_mount(self) -> None:
        kinds = self.query_one("#change-kind", OptionList)
        kinds.highlighted = 0
        kinds.focus()
        self._hint()

    # -- fields --------------------------------------------------------------------------

    def _kind(self) -> str:
        index = self.query_one("#change-kind", OptionList).highlighted or 0
        return FORM_KINDS[index][0]

    def _hint(self) -> None:
        hint = dict((k, h) for k, _, h in FORM_KINDS)[self._kind()]
        self.query_one("#change-hint", Static).update(Text(hint))

    @on(OptionList.OptionHighlighted, "#change-kind")
    def _kind_moved(self) -> None:
        self._hint()
        self._stale()

    @on(OptionList.OptionSelected, "#change-kind")
    def _kind_chosen(self) -> None:
        self.query_one("#change-value", Input).focus()

    @on(Input.Changed)
    def _stale(self) -> None:
        if self.previewed is not None:
            self.previewed = None
            self._show(Text("changed: enter previews again", style=self._style("aside")))

    def _show(self, text: Text) -> None:
        self.query_one("#change-preview", Static).update(text)

    def _effective(self) -> int | None:
        """The effective instant typed, or None for "now" (the current minute: the change
        is then in force from the instant it is recorded)."""
        raw = self.query_one("#change-effective", Input).value.strip()
        try:
            local = datetime.strptime(raw, LOCAL).replace(tzinfo=self.tz)
        except ValueError:
            raise ValueError(
                f"effective: write YYYY-MM-DD HH:MM in your zone, not {raw!r}"
            ) from None
        ts = int(local.timestamp())
        now = self._now()
        return None if ts <= now < ts + 60 else ts

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if event.input.id != "change-reason":
            self.focus_next()
            return
        if self.busy:
            return
        kind = self._kind()
        value = self.query_one("#change-value", Input).value
        reason = self.query_one("#change-reason", Input).value.strip()
        try:
            effective = self._effective()
        except ValueError as exc:
            self._show(Text("✖ " + str(exc), style=self._style("strong")))
            return
        if not reason:
            self._show(Text("✖ a reason is needed", style=self._style("strong")))
            return
        key = (kind, value, effective)
        self.busy = True
        if self.previewed is not None and self.previewed[:3] == key:
            self._record(dict(self.previewed[3]), effective, reason, kind)
        else:
            self._preview(kind, value, effective)

    # -- preview and record (workers: the database is read and written off the UI thread) --

    @work(thread=True, exclusive=True, group="change-form", exit_on_error=False, name="previewing")
    def _preview(self, kind: str, value: str, when: int | None) -> None:
        effective = self._now() if when is None else when
        try:
            shown = preview_change(
                self.store,
                self.policy,
                self.subscriber,
                kind,
                value,
                effective_at=effective,
                now=self._now(),
            )
        except Refused as exc:
            self.post_message(self.Failed("✖ " + inert(str(exc)), strong=True))
            return
        except Exception as exc:  # the database went away: say so, keep the form
            self.post_message(self.Failed(f"✖ cannot preview: {inert(str(exc))}", strong=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(
                self.Previewed((kind, value, when), shown.facts, shown.at, shown.effects)
            )

    @on(Previewed)
    def _previewed(self, message: Previewed) -> None:
        self.previewed = (*message.key, message.facts)
        self._done_busy(self._effects_text(message.at, message.effects))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._done_busy(Text(message.text, style=self._style("strong") if message.strong else ""))

    @on(Recorded)
    def _recorded(self, message: Recorded) -> None:
        self.dismiss(message.said)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised past its own handling: said in the form, never an exit."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            why = worker_failed_text(self.app, error, event.worker.name)
            self._done_busy(Text("✖ " + inert(why)))

    def _effects_text(self, at: int, effects: tuple[Effect, ...]) -> Text:
        when = datetime.fromtimestamp(at, self.tz).strftime("%a %d %b %H:%M")
        out = Text()
        if not effects:
            out.append(f"At {when}: no open case's clock breaches, clears, appears or goes.\n")
        else:
            out.append(f"At {when} this change:\n", style=self._style("strong"))
            for e in effects[:PREVIEW_LINES]:
                words = e.words
                mark = "! " if words in ("breaches", "appears breached") else "  "
                target = ""
                if (
                    e.before is not None
                    and e.after is not None
                    and e.before.target != e.after.target
                ):
                    target = f" (target {hm(e.before.target)} → {hm(e.after.target)})"
                out.append(
                    f"{mark}{inert(e.case_id)} {e.clock}: {words}{target}\n",
                    style=self._style("strong") if mark.strip() else Style(),
                )
            if len(effects) > PREVIEW_LINES:
                out.append(f"  … and {len(effects) - PREVIEW_LINES} more\n")
        out.append("enter again to record it", style=self._style("next"))
        return out

    def _done_busy(self, text: Text) -> None:
        self.busy = False
        self._show(text)

    # Not exclusive: a write's result is always said.
    @work(thread=True, group="change-form", exit_on_error=False, name="recording")
    def _record(self, facts: dict[str, Any], when: int | None, reason: str, kind: str) -> None:
        now = self._now()
        effective = now if when is None else when
        if kind == "terminate":  # the termination instant is the effective one
            facts = dict(facts, terminated_at=format_instant(effective))
        try:
            change_subscriber(
                self.store,
                self.subscriber,
                facts,
                effective_at=effective,
                reason=reason,
                actor=self.user,
                recorded_at=now,
            )
        except Refused as exc:
            self.post_message(self.Failed("✖ " + inert(refusal_text(exc)), strong=True))
            return
        except Exception as exc:
            self.post_message(self.Failed(f"✖ not recorded: {inert(str(exc))}", strong=False))
            return
        said = datetime.fromtimestamp(effective, self.tz).strftime("%a %d %b %H:%M")
        what = {k: label for k, label, _ in FORM_KINDS}.get(kind, kind)
        self.post_message(self.Recorded(f"{self.subscriber}: {what} changed from {said}"))

    def action_cancel(self) -> None:
        self.dismiss(None)
