"""The classification wizard's screen: it reads what the steps need, sequences the step
widgets, maps keys to the ``Flow``'s transitions and records the result.

Steps (policy §9, §5, §4): subscriber and deployment (new cases only; searchable) →
case type → priority guidelines (incidents only; criteria most severe first, the first
"yes" decides) → component (a P0 on an unavailable managed component) → summary, then Enter
records it through ``console.actions`` (the same rules as the CLI).

Keys work without a mouse and without Escape: PgUp/PgDn (and ←/→ where no text box has the
cursor) move back and forward keeping every answer; Ctrl+G or Escape cancels and writes
nothing. ``check_action`` shows only the keys of the step shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input

from console import clock
from console.errors import fault_text
from console.rules.classify import Classification
from console.rules.policy import Policy
from console.text import inert
from console.views.wizard import ReclassCase, Target, reclass_case, wizard_targets
from screens.key_bar import KeyBar
from screens.offline import failed_text
from screens.wizard.component_step import ComponentStep
from screens.wizard.model import (
    STEP_TITLES,
    Flow,
    Move,
    WizardState,
    chosen_component,
    current_answers,
    p0_excluded_reason,
    reclass_problem,
)
from screens.wizard.parts import Themed, inert_rich, target_lines
from screens.wizard.priority_step import PriorityStep
from screens.wizard.summary_step import SummaryStep
from screens.wizard.target_step import TargetStep
from screens.wizard.type_step import TypeStep
from screens.words import refusal_text

if TYPE_CHECKING:
    from console.rules.policy_book import PolicyBook
    from console.store.engine import Store

#: Which step each step-specific action belongs to (the rest apply on every step).
STEP_ACTIONS: dict[str, frozenset[str]] = {
    "choose_target": frozenset({"target"}),
    "forward": frozenset({"type", "priority", "component"}),
    "confirm": frozenset({"summary"}),
    "move": frozenset({"target", "type", "priority", "component"}),
    "scroll": frozenset({"summary"}),
    "pick": frozenset({"type", "component"}),
    "answer": frozenset({"priority"}),
    "p0_anyway": frozenset({"priority"}),
}

# The words of the actions bound to several keys (one line each in the help).
FORWARD = "next: take the highlighted choice, or keep the answer given"
PICK = "choose by number"
BACK = "back a question or a step, answers kept"


@dataclass(frozen=True)
class WizardDone:
    """What the wizard returns when it recorded something (None when cancelled)."""

    case_id: str
    message: str
    created: bool


class ClassifyWizard(Screen[WizardDone | None]):
    """One screen for both modes: ``ClassifyWizard.new(...)`` and ``.reclassify(...)``."""

    # The first binding of an action that is shown draws it in the key bar; the same keys
    # bound again with show=False only add keys (with the same words and key_display, so
    # the help lists the action once). Several actions share a key (enter, ↑↓):
    # ``check_action`` lets through the one of the step shown.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "pagedown",
            "choose_target",
            "choose",
            key_display="enter",
            tooltip="take the highlighted subscriber or deployment",
        ),
        Binding("pagedown", "forward", "next", key_display="enter →", tooltip=FORWARD),
        Binding("pagedown", "confirm", "confirm", key_display="enter", tooltip="record it"),
        Binding(
            "right,enter", "forward", "next", key_display="enter →", tooltip=FORWARD, show=False
        ),
        Binding("up,k", "move(-1)", "move", key_display="↑↓", tooltip="move the highlight"),
        Binding("down,j", "move(1)", show=False),
        Binding("up,k", "scroll(-1)", "scroll", key_display="↑↓", tooltip="scroll the summary"),
        Binding("down,j", "scroll(1)", show=False),
        Binding("1", "pick(0)", "choose", key_display="1-9", tooltip=PICK),
        *[
            Binding(str(i + 1), f"pick({i})", "choose", key_display="1-9", tooltip=PICK, show=False)
            for i in range(1, 9)
        ],
        Binding("y", "answer(True)", "yes", tooltip="yes: this guideline applies (it decides)"),
        Binding("n", "answer(False)", "no", tooltip="no: ask the next guideline"),
        Binding(
            "p",
            "p0_anyway",
            "P0 applies",
            tooltip="a P0 criterion applies where P0 is not asked (classified P1, with a note)",
        ),
        Binding(
            "tab",
            "next_field",
            "times",
            tooltip="next field: the title, when reported, when Konneqt knew",
        ),
        Binding("tab", "app.focus_next", show=False),
        Binding("pageup", "back", "back", key_display="PgUp ←", tooltip=BACK),
        Binding("left,b,backspace", "back", "back", key_display="PgUp ←", tooltip=BACK, show=False),
        Binding(
            "escape,ctrl+g",
            "cancel",
            "cancel",
            key_display="esc ^G",
            tooltip="cancel, nothing written",
        ),
    ]

    class TargetsRead(Message):
        def __init__(self, targets: tuple[Target, ...]) -> None:
            super().__init__()
            self.targets = targets

    class CaseRead(Message):
        def __init__(self, case: ReclassCase | None) -> None:
            super().__init__()
            self.case = case

    class ReadFailed(Message):
        def __init__(self, why: str) -> None:
            super().__init__()
            self.why = why

    class Saved(Message):
        def __init__(self, done: WizardDone) -> None:
            super().__init__()
            self.done = done

    class SaveFailed(Message):
        """Nothing was written; ``reload``: the case changed meanwhile, read it again."""

        def __init__(self, why: str, reload: bool) -> None:
            super().__init__()
            self.why = why
            self.reload = reload

    def __init__(
        self,
        mode: str,
        *,
        store: Store,
        policy: Policy | PolicyBook,
        user: str,
        tz: tzinfo,
        case_id: str | None = None,
        now: Callable[[], int] = clock.now,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.store = store
        self.policy = policy
        self.user = user
        self.tz = tz
        self.case_id = case_id
        self._now = now
        self.flow = Flow.start(mode)
        self.loaded = False
        self.saving = False
        self._when_saved: tuple[int, int] = (0, 0)  # (reported_at, aware_at) being recorded
        self._after_reload: str | None = None  # said again once the case is read again

    @classmethod
    def new(
        cls,
        *,
        store: Store,
        policy: Policy | PolicyBook,
        user: str,
        tz: tzinfo,
        now: Callable[[], int] = clock.now,
    ) -> ClassifyWizard:
        return cls("new", store=store, policy=policy, user=user, tz=tz, now=now)

    @classmethod
    def reclassify(
        cls,
        case_id: str,
        *,
        store: Store,
        policy: Policy | PolicyBook,
        user: str,
        tz: tzinfo,
        now: Callable[[], int] = clock.now,
    ) -> ClassifyWizard:
        return cls(
            "reclassify", store=store, policy=policy, user=user, tz=tz, case_id=case_id, now=now
        )

    # -- the flow's position, as tests and the steps read it --------------------------------

    @property
    def step(self) -> str:
        return self.flow.step

    @property
    def state(self) -> WizardState:
        return self.flow.state

    @property
    def qi(self) -> int:
        return self.flow.qi

    @property
    def case(self) -> ReclassCase | None:
        return self.flow.case

    @property
    def rules(self) -> Policy:
        """The policy version the case is judged by (policy §14): the chosen subscriber's
        terms carry it; before a choice, the version in force now."""
        target = self.state.target
        if target is not None:
            return target.terms.policy
        from console.rules.policy_book import as_book

        return as_book(self.policy).at(self._now())

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Themed(id="wiz-head")
        yield Themed(id="wiz-context")
        with ContentSwitcher(initial=self.step, id="wiz-steps"):
            yield TargetStep()
            yield TypeStep()
            yield PriorityStep()
            yield ComponentStep()
            yield SummaryStep(self.mode, self.tz)
        yield Themed(id="wiz-notice")
        yield KeyBar(id="wiz-keys")

    def on_mount(self) -> None:
        self.query_one("#wiz-head", Themed).update(Text("loading…"))
        self.watch(self.app, "now", self._on_now, init=False)
        self.load()

    # -- reading (a worker; its answer comes back as a message) ------------------------------

    @work(thread=True, exclusive=True, group="wizard-read", exit_on_error=False)
    def load(self) -> None:
        at = self._now()
        try:
            if self.mode == "new":
                self.post_message(self.TargetsRead(wizard_targets(self.store, self.policy, at)))
            else:
                assert self.case_id is not None
                case = reclass_case(self.store, self.policy, self.case_id, at)
                self.post_message(self.CaseRead(case))
        except Exception as exc:  # database trouble: say so, keep the screen
            self.post_message(self.ReadFailed(f"cannot read: {fault_text(exc)}"))

    @on(TargetsRead)
    def _targets_read(self, message: TargetsRead) -> None:
        self.loaded = True
        self.query_one(TargetStep).set_targets(message.targets)
        self._go("target")

    @on(CaseRead)
    def _case_read(self, message: CaseRead) -> None:
        case = message.case
        if case is None:
            self._say(f"{self.case_id}: no such case", True)
            self.query_one("#wiz-head", Themed).update(inert_rich(f"Reclassify {self.case_id}"))
            return
        self.flow.case_loaded(case, case.target.terms.policy)
        self.loaded = True
        if self.step == "summary":
            self.state.text = self.query_one("#wiz-text", Input).value
        self._go(self.step)
        pending, self._after_reload = self._after_reload, None
        if pending:
            self._say(pending, True)

    @on(ReadFailed)
    def _read_failed(self, message: ReadFailed) -> None:
        self._say(message.why, True)

    # -- drawing -------------------------------------------------------------------------

    def _go(self, step: str) -> None:
        self.flow.enter(step, self.rules)
        self.query_one("#wiz-steps", ContentSwitcher).current = step
        self._say("")
        if step == "target":
            self.query_one(TargetStep).focus_search()
        elif step == "summary":
            self.query_one(SummaryStep).enter(self.state.text)
        else:
            self.set_focus(None)
        self._show_step()

    def _apply(self, move: Move | None) -> None:
        if move is None:
            return
        if move.step is not None and move.error is None:
            self._go(move.step)
            return
        self._show_step()
        if move.error is not None:
            self._say(move.error, True)

    def _show_step(self) -> None:
        self._render_head()
        ctx = self.query_one("#wiz-context", Themed)
        if self.step == "target" or self.state.target is None:
            ctx.display = False
        else:
            ctx.display = True
            ctx.update(Group(*target_lines(self.state.target, ctx.look("wizard--error"))))
        self.flow.clamp(self.rules)
        flow, rules = self.flow, self.rules
        if self.step == "target":
            self.query_one(TargetStep).show_detail()
        elif self.step == "type":
            current = self.case.current.type if self.case is not None else None
            self.query_one(TypeStep).show(
                flow.choices(rules), flow.type_cursor, self.state.ctype, current
            )
        elif self.step == "priority":
            target = self.state.target
            assert target is not None
            asked = flow.asked(rules)
            self.query_one(PriorityStep).show(
                asked,
                flow.qi,
                current_answers(self.state, asked),
                p0_excluded_reason(target),
                self.state.ask_p0_anyway,
            )
        elif self.step == "component":
            dep = self.state.target.deployment if self.state.target else None
            self.query_one(ComponentStep).show(
                flow.component_options(rules),
                flow.component_cursor,
                self.state.component,
                dep.id if dep else "",
            )
        else:
            self._render_summary()
        self.refresh_bindings()

    def _render_head(self) -> None:
        head = Text(no_wrap=True, overflow="ellipsis")
        if self.mode == "new":
            head.append("New case", style="bold")
        else:
            head.append("Reclassify ", style="bold")
            head.append_text(inert_rich(self.case_id, "bold"))
            if self.case is not None:
                cur = self.case.current
                head.append(f" ({cur.type} {cur.priority or ''}".rstrip() + f", {cur.status})")
        head.append("   ")
        steps = self.flow.steps(self.rules)
        here = steps.index(self.step) if self.step in steps else 0
        for i, s in enumerate(steps):
            if i:
                head.append(" › ", style="dim")
            label = f"{i + 1} {STEP_TITLES[s]}"
            if s == self.step:
                head.append(f" {label} ", style="bold reverse")
            elif i < here:
                head.append(label)
            else:
                head.append(label, style="dim")
        self.query_one("#wiz-head", Themed).update(head)

    def _render_summary(self) -> None:
        now = self._now()
        result = self._classification()
        self.query_one(SummaryStep).show(
            self.flow, self.rules, result, self._problem(result, now), now
        )

    def _say(self, message: str, error: bool = False) -> None:
        notice = self.query_one("#wiz-notice", Themed)
        text = Text()
        if message:
            if error:
                text.append("✖ ", style=notice.look("wizard--error"))
                text.append(inert(message), style=notice.look("wizard--refusal"))
            else:
                text.append(inert(message))
        notice.update(text)

    def _on_now(self, at: int) -> None:
        """Time passed (``ConsoleApp.now``, once a minute): due times move on."""
        if self.step == "summary" and self.loaded:
            self._render_summary()

    # -- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys of the step shown: back not on the first step, y/n/p only on a
        guideline question (p only where P0 is not asked), tab only among a new case's
        fields; none but cancel while loading or recording."""
        steps = STEP_ACTIONS.get(action)
        if steps is not None and self.step not in steps:
            return False
        if action == "back" and self.step == self.flow.first_step:
            return False
        if action == "p0_anyway" and not self.flow.p0_offered():
            return False
        if action == "next_field":
            return self.step == "summary" and self.mode == "new"
        if action != "cancel" and (not self.loaded or self.saving):
            return None
        return True

    def action_cancel(self) -> None:
        if not self.saving:
            self.dismiss(None)

    def action_back(self) -> None:
        if self.loaded and not self.saving:
            self._apply(self.flow.back(self.rules))

    def action_forward(self) -> None:
        if self.loaded and not self.saving:
            self._apply(self.flow.forward(self.rules))

    def action_choose_target(self) -> None:
        self._choose_target()

    def action_confirm(self) -> None:
        self._confirm()

    def action_move(self, delta: int) -> None:
        if self.step == "target":
            self.query_one(TargetStep).move(delta)
        else:
            self._apply(self.flow.move(self.rules, delta))

    def action_scroll(self, delta: int) -> None:
        self.query_one(SummaryStep).scroll(delta)

    def action_pick(self, index: int) -> None:
        if self.step == "component":
            self._apply(self.flow.pick_component(self.rules, index))
        elif self.step == "type":
            self._apply(self.flow.pick_type(self.rules, index))

    def action_answer(self, yes: bool) -> None:
        if self.step == "priority":
            self._apply(self.flow.answer(self.rules, yes))

    def action_p0_anyway(self) -> None:
        if self.step == "priority":
            self._apply(self.flow.p0_anyway())

    def action_next_field(self) -> None:
        self.focus_next()

    # step 1: subscriber and deployment

    def _highlighted_target(self) -> Target | None:
        return self.query_one(TargetStep).highlighted()

    @on(TargetStep.Chosen)
    def _target_chosen(self) -> None:
        self._choose_target()

    def _choose_target(self) -> None:
        step = self.query_one(TargetStep)
        move = self.flow.choose_target(step.highlighted())
        step.chosen = self.state.target
        self._apply(move)

    # the summary: the title or reason, the times, recording

    def _classification(self) -> Classification | None:
        return self.flow.classification(self.rules)

    def _problem(self, result: Classification | None, now: int) -> str | None:
        """Why this cannot be recorded (eligibility, or what the engine would refuse)."""
        if result is None:
            return "choose a type first"
        if result.problems:
            return "; ".join(m for _, m in result.problems)
        if self.case is not None:
            return reclass_problem(
                self.rules,
                self.case,
                result.type,
                result.priority,
                now,
                result.decided_by,
                chosen_component(result, self.state),
            )
        if self.mode != "new":
            return None
        from screens.when import BadTime

        try:
            self.query_one(SummaryStep).when(now)
        except BadTime as exc:
            return str(exc)
        return None

    @on(Input.Changed, "#wiz-text")
    def _text_changed(self, event: Input.Changed) -> None:
        self.state.text = event.value

    @on(Input.Changed, "#wiz-reported, #wiz-aware")
    def _when_changed(self) -> None:
        if self.step == "summary" and self.loaded:
            self._render_summary()

    @on(Input.Submitted, "#wiz-reported, #wiz-aware")
    def _when_submitted(self) -> None:
        self.focus_next()

    @on(Input.Submitted, "#wiz-text")
    def _confirm(self) -> None:
        if self.saving or not self.loaded:
            return
        text = self.state.text.strip()
        result = self._classification()
        problem = self._problem(result, self._now())
        if problem or result is None:
            self._say(f"cannot be recorded: {problem}", True)
            return
        if not text:
            self._say("a title is needed" if self.mode == "new" else "a reason is needed", True)
            return
        if self.mode == "new":
            self._when_saved = self.query_one(SummaryStep).when(self._now())
        self.saving = True
        self.refresh_bindings()
        self._say("recording…")
        self.save(result, text)

    @work(thread=True, exclusive=True, group="wizard-write", exit_on_error=False)
    def save(self, result: Classification, text: str) -> None:
        from console.actions import Conflict, Refused, append_event, create_case

        now = self._now()
        target = self.state.target
        assert target is not None
        label = f"{result.type} {result.priority or ''}".rstrip()
        try:
            if self.case is None:
                reported, aware = self._when_saved
                cid = create_case(
                    self.store,
                    subscriber=target.subscriber_id,
                    deployment=target.deployment.id if target.deployment else None,
                    ctype=result.type,
                    priority=result.priority,
                    title=text,
                    reported_at=reported,
                    aware_at=aware,
                    by=self.user,
                    recorded_at=now,
                    criterion=result.decided_by,
                    component=chosen_component(result, self.state),
                )
                done = WizardDone(cid, f"{cid} opened: {label}", True)
            else:
                data: dict[str, Any] = {
                    "type": result.type,
                    "priority": result.priority,
                    "reason": text,
                    "criterion": result.decided_by,
                    "component": chosen_component(result, self.state),
                }
                assert self.case_id is not None
                # The version read with the case: a reclassification recorded meanwhile by
                # another console refuses this one (Conflict), answers kept, case re-read.
                append_event(
                    self.store,
                    self.case_id,
                    "reclassified",
                    at=now,
                    by=self.user,
                    data=data,
                    recorded_at=now,
                    actor=self.user,
                    expected_version=self.case.version,
                )
                done = WizardDone(self.case_id, f"{self.case_id} reclassified: {label}", False)
        except Conflict as exc:
            self.post_message(self.SaveFailed(f"nothing written: {fault_text(exc)}", True))
            return
        except Refused as exc:
            self.post_message(self.SaveFailed(refusal_text(exc), False))
            return
        except Exception as exc:
            self.post_message(self.SaveFailed(failed_text(self.app, exc), False))
            return
        self.post_message(self.Saved(done))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.dismiss(message.done)

    @on(SaveFailed)
    def _save_failed(self, message: SaveFailed) -> None:
        self.saving = False
        self.refresh_bindings()
        self._say(message.why, True)
        if message.reload:
            # The case changed under us: re-read it, keep every answer and the text, and
            # keep saying why nothing was written (enter applies it to the fresh case).
            self._after_reload = f"{message.why}; enter applies your answers to it again"
            self.load()
