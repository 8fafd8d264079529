"""The classification wizard: open a new case or reclassify one, a step at a time.

Steps (policy §9, §5, §4): subscriber and deployment (new cases only; searchable) →
case type → priority guidelines (incidents only; criteria most severe first, the first
"yes" decides) → summary (result, deciding criterion, targets, each clock's due time or,
for a reclassification, every clock before and after) with the title or reason, then
Enter records it through ``console.actions`` (the same rules as the CLI).

Keys work without a mouse and without Escape: PgUp/PgDn (and ←/→ where no text box has the
cursor) move back and forward keeping every answer; Ctrl+G or Escape cancels and writes
nothing. The rules live in ``screens/wizard_model.py`` and ``console.rules``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, OptionList, Static
from textual.widgets.option_list import Option

from console import clock
from console.errors import fault_text
from console.rich_text import inert_rich as _t
from console.text import hm, inert
from console.text import local_time as _local
from screens.key_bar import KeyBar
from screens.offline import failed_text
from screens.wizard_model import (
    PRIORITY_LABELS,
    TYPE_LABELS,
    ClockLine,
    ReclassCase,
    Target,
    TypeChoice,
    WizardState,
    chosen_component,
    component_question,
    current_answers,
    deciding_index,
    load_reclass_case,
    load_targets,
    new_case_clocks,
    p0_excluded_reason,
    question_list,
    reclass_clocks,
    reclass_problem,
    result_of,
    type_choices,
)
from screens.words import refusal_text

STEP_TITLES = {
    "target": "Subscriber",
    "type": "Type",
    "priority": "Priority",
    "component": "Component",
    "summary": "Summary",
}


@dataclass(frozen=True)
class WizardDone:
    """What the wizard returns when it recorded something (None when cancelled)."""

    case_id: str
    message: str
    created: bool


def duration(seconds: int | None) -> str:
    """A target as people say it: ``30 min``, ``4 h``, ``1 h 30 min``, ``best efforts``."""
    if seconds is None:
        return "best efforts"
    h, m = divmod(seconds // 60, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


def keys_text(keys: list[tuple[str, str]]) -> Text:
    text = Text()
    for i, (key, label) in enumerate(keys):
        if i:
            text.append("  ")
        text.append(key, style="bold reverse")
        text.append(" " + label)
    return text


def target_lines(t: Target) -> list[Text]:
    """The subscriber and its plan; the deployment; its product version and whether that
    version is still supported (policy §12)."""
    lines = [Text(no_wrap=True, overflow="ellipsis") for _ in range(3)]
    first, second, third = lines
    first.append_text(_t(t.subscriber_name, "bold"))
    first.append(" (")
    first.append_text(_t(t.subscriber_id))
    first.append(f") · {t.plan} {t.coverage} · {inert(t.terms.tz_name)}")
    d = t.deployment
    if d is None:
        second.append("no deployment (a query or security report need not name one)", style="dim")
        return lines[:2]
    second.append_text(_t(d.id, "bold"))
    second.append(f" · {d.environment} · ")
    second.append("managed" if d.managed else "not managed")
    third.append("version ")
    third.append_text(_t(f"{d.product} {d.version}"))
    if t.support is None:
        third.append(" · support: unknown (not in the support matrix)", style="dim")
    elif t.support.supported:
        third.append(f" · supported until {t.support.end.isoformat()}")
    else:
        third.append(
            f" · support ENDED {t.support.end.isoformat()} (flagged, not refused)", style="bold red"
        )
    return lines


class ClassifyWizard(Screen[WizardDone | None]):
    """One screen for both modes: ``ClassifyWizard.new(...)`` and ``.reclassify(...)``."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    BINDINGS = [
        Binding("escape,ctrl+g", "cancel", "Cancel", show=False),
        Binding("pageup", "back", "Back", show=False),
        Binding("pagedown", "forward", "Forward", show=False),
        Binding("left,b,backspace", "back", "Back", show=False),
        Binding("right,enter", "forward", "Forward", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("1", "pick(0)", show=False),
        Binding("2", "pick(1)", show=False),
        Binding("3", "pick(2)", show=False),
        Binding("4", "pick(3)", show=False),
        Binding("5", "pick(4)", show=False),
        Binding("6", "pick(5)", show=False),
        Binding("7", "pick(6)", show=False),
        Binding("8", "pick(7)", show=False),
        Binding("9", "pick(8)", show=False),
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No", show=False),
        Binding("p", "p0_anyway", "P0 anyway", show=False),
    ]

    def __init__(
        self,
        mode: str,
        *,
        store: Any,
        policy: Any,
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
        self.state = WizardState(mode)
        self.step = "target" if mode == "new" else "type"
        self.qi = 0  # the question shown on the priority step
        self.type_cursor = 0
        self.component_cursor = 0
        self.component_picked = False  # a component (or "none of these") was chosen once
        self.targets: list[Target] = []
        self.shown: list[int] = []  # indexes into targets listed under the current search
        self.case: ReclassCase | None = None
        self.loaded = False
        self.saving = False
        self._when_saved: tuple[int, int] = (0, 0)  # (reported_at, aware_at) being recorded

    @classmethod
    def new(
        cls, *, store: Any, policy: Any, user: str, tz: tzinfo, now: Callable[[], int] = clock.now
    ) -> ClassifyWizard:
        return cls("new", store=store, policy=policy, user=user, tz=tz, now=now)

    @classmethod
    def reclassify(
        cls,
        case_id: str,
        *,
        store: Any,
        policy: Any,
        user: str,
        tz: tzinfo,
        now: Callable[[], int] = clock.now,
    ) -> ClassifyWizard:
        return cls(
            "reclassify", store=store, policy=policy, user=user, tz=tz, case_id=case_id, now=now
        )

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="wiz-head", markup=False)
        yield Static(id="wiz-context", markup=False)
        with ContentSwitcher(initial=self.step, id="wiz-steps"):
            with Vertical(id="target"):
                box = Input(
                    placeholder="search: subscriber, deployment, product, plan…",
                    id="wiz-search",
                    compact=True,
                    select_on_focus=False,
                )
                box.cursor_blink = False
                yield box
                yield OptionList(id="wiz-targets", markup=False, compact=True)
                yield Static(id="wiz-target-detail", markup=False)
            yield Static(id="type", markup=False)
            yield Static(id="priority", markup=False)
            yield Static(id="component", markup=False)
            with Vertical(id="summary"):
                with VerticalScroll(id="wiz-summary-scroll", can_focus=False):
                    yield Static(id="wiz-summary", markup=False)
                if self.mode == "new":  # policy §14: when reported, when Konneqt knew
                    with Horizontal(id="wiz-when"):
                        yield Static(Text("Reported at", style="bold"), classes="wiz-when-label")
                        yield self._time_box("wiz-reported")
                        yield Static(Text("Aware at", style="bold"), classes="wiz-when-label")
                        yield self._time_box("wiz-aware")
                yield Static(id="wiz-text-label", markup=False)
                box = Input(id="wiz-text", compact=True, placeholder="type here")
                box.cursor_blink = False
                yield box
        yield Static(id="wiz-notice", markup=False)
        yield KeyBar([], id="wiz-keys")

    @staticmethod
    def _time_box(id_: str) -> Input:
        box = Input(
            id=id_, compact=True, placeholder="now, or YYYY-MM-DD HH:MM", select_on_focus=False
        )
        box.cursor_blink = False
        return box

    def when(self, now: int) -> tuple[int, int]:
        """(reported_at, aware_at) typed on the summary, in the operator's zone; empty is now.
        Raises BadTime with what is wrong (a time in the future included, policy §14)."""
        from screens.when import BadTime, parse_local

        out = []
        for id_, what in (("wiz-reported", "reported at"), ("wiz-aware", "aware at")):
            ts = parse_local(self.query_one(f"#{id_}", Input).value, self.tz, now, what=what)
            if ts > now:
                raise BadTime(
                    f"{what}: {_local(ts, self.tz, '%a %d %b %H:%M')} lies in the "
                    "future; a case is reported and known by now at the latest"
                )
            out.append(ts)
        return out[0], out[1]

    @property
    def rules(self) -> Any:
        """The policy version the case is judged by (policy §14): the chosen subscriber's
        terms carry it; before a choice, the version in force now."""
        target = self.state.target
        if target is not None:
            return target.terms.policy
        from console.rules.policy_book import as_book

        return as_book(self.policy).at(self._now())

    def on_mount(self) -> None:
        self.query_one("#wiz-targets", OptionList).can_focus = False
        self.query_one("#wiz-head", Static).update(Text("loading…"))
        self.load()

    @work(thread=True, exclusive=True, group="wizard-read")
    def load(self) -> None:
        at = self._now()
        try:
            if self.mode == "new":
                targets = load_targets(self.store, self.policy, at)
                self.app.call_from_thread(self._loaded_targets, targets)
            else:
                assert self.case_id is not None
                case = load_reclass_case(self.store, self.policy, self.case_id, at)
                self.app.call_from_thread(self._loaded_case, case)
        except Exception as exc:  # database trouble: say so, keep the screen
            self.app.call_from_thread(self._say, f"cannot read: {fault_text(exc)}", True)

    def _loaded_targets(self, targets: list[Target]) -> None:
        self.targets = targets
        self.loaded = True
        self._filter(self.query_one("#wiz-search", Input).value)
        self._go("target")

    def _loaded_case(self, case: ReclassCase | None) -> None:
        if case is None:
            self._say(f"{self.case_id}: no such case", True)
            self.query_one("#wiz-head", Static).update(_t(f"Reclassify {self.case_id}"))
            return
        first_load = self.case is None
        self.case = case
        self.state.target = case.target
        self.loaded = True
        if first_load:
            self.state.ctype = case.current.type
            types = [c.ctype for c in self._choices()]
            if case.current.type in types:
                self.type_cursor = types.index(case.current.type)
        if self.step == "summary":
            self.state.text = self.query_one("#wiz-text", Input).value
        self._go(self.step)
        pending, self._after_reload = getattr(self, "_after_reload", None), None
        if pending:
            self._say(pending, True)

    # -- rendering -------------------------------------------------------------------------

    def steps(self) -> list[str]:
        out = ["target"] if self.mode == "new" else []
        out.append("type")
        if self.state.ctype in (None, "incident"):
            out.append("priority")
            if self._components():
                out.append("component")
        out.append("summary")
        return out

    def _go(self, step: str) -> None:
        self.step = step
        self.query_one("#wiz-steps", ContentSwitcher).current = step
        self._say("")
        if step == "component":
            options = self._component_options()
            if self.component_picked and self.state.component in options:  # coming back
                self.component_cursor = options.index(self.state.component)
        if step == "target":
            self.query_one("#wiz-search", Input).focus()
        elif step == "summary":
            box = self.query_one("#wiz-text", Input)
            box.value = self.state.text
            box.focus()
        else:
            self.set_focus(None)
        self._show_step()

    def _show_step(self) -> None:
        self._render_head()
        ctx = self.query_one("#wiz-context", Static)
        if self.step == "target" or self.state.target is None:
            ctx.display = False
        else:
            ctx.display = True
            ctx.update(Group(*target_lines(self.state.target)))
        render = {
            "target": self._render_target,
            "type": self._render_type,
            "priority": self._render_priority,
            "component": self._render_component,
            "summary": self._render_summary,
        }[self.step]
        render()
        self.query_one("#wiz-keys", KeyBar).update(keys_text(self._keys()))

    def _render_head(self) -> None:
        head = Text(no_wrap=True, overflow="ellipsis")
        if self.mode == "new":
            head.append("New case", style="bold")
        else:
            head.append("Reclassify ", style="bold")
            head.append_text(_t(self.case_id, "bold"))
            if self.case is not None:
                cur = self.case.current
                head.append(f" ({cur.type} {cur.priority or ''}".rstrip() + f", {cur.status})")
        head.append("   ")
        steps = self.steps()
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
        self.query_one("#wiz-head", Static).update(head)

    def _keys(self) -> list[tuple[str, str]]:
        back = [("PgUp/←", "back")]
        cancel = [("^G/Esc", "cancel")]
        if self.step == "target":
            return [("type", "search"), ("↑↓", "move"), ("enter", "choose"), *cancel]
        if self.step == "type":
            keys = [("1-4/↑↓", "type"), ("enter/→", "next")]
            return keys + (back if self.mode == "new" else []) + cancel
        if self.step == "component":
            return [("1-9/↑↓", "component"), ("enter/→", "next"), *back, *cancel]
        if self.step == "priority":
            keys = [("y", "yes"), ("n", "no"), ("→", "keep answer")]
            if self.state.target is not None and p0_excluded_reason(self.state.target):
                keys.append(("p", "P0 applies"))
            return keys + back + cancel
        label = "title" if self.mode == "new" else "reason"
        when = [("tab", "times")] if self.mode == "new" else []
        return [
            ("type", label),
            ("enter", "confirm"),
            *when,
            ("PgUp", "back"),
            ("↑↓", "scroll"),
            *cancel,
        ]

    # step 1: subscriber and deployment

    def _filter(self, query: str) -> None:
        tokens = query.lower().split()
        match = [all(tok in t.search_text() for tok in tokens) for t in self.targets]
        shown: list[int] = []
        for i, t in enumerate(self.targets):
            if t.deployment is None:
                # A subscriber's own row (no deployment) heads its deployments.
                j = i + 1
                any_dep = False
                while j < len(self.targets) and self.targets[j].deployment is not None:
                    any_dep = any_dep or match[j]
                    j += 1
                if match[i] or any_dep:
                    shown.append(i)
            elif match[i]:
                shown.append(i)
        self.shown = shown
        ol = self.query_one("#wiz-targets", OptionList)
        ol.clear_options()
        ol.add_options([Option(self._target_option(self.targets[i]), id=str(i)) for i in shown])
        if shown:
            chosen = self.state.target
            # The first entry that matches by itself (not a heading shown for context).
            idx = next((k for k, i in enumerate(shown) if match[i]), 0)
            if chosen is not None and chosen in self.targets:
                pos = self.targets.index(chosen)
                if pos in shown:
                    idx = shown.index(pos)
            ol.highlighted = idx
        self._render_target()

    def _target_option(self, t: Target) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        d = t.deployment
        if d is None:
            text.append_text(_t(t.subscriber_name, "bold"))
            text.append(" (")
            text.append_text(_t(t.subscriber_id))
            text.append(f") · {t.plan} {t.coverage}")
            text.append(" · no deployment", style="dim")
            return text
        text.append("   ")
        text.append_text(_t(d.id))
        text.append(f" · {d.environment} · {'managed' if d.managed else 'not managed'} · ")
        text.append_text(_t(f"{d.product} {d.version}"))
        return text

    def _highlighted_target(self) -> Target | None:
        ol = self.query_one("#wiz-targets", OptionList)
        if ol.highlighted is None or not self.shown:
            return None
        return self.targets[self.shown[ol.highlighted]]

    def _render_target(self) -> None:
        detail = self.query_one("#wiz-target-detail", Static)
        if not self.loaded:
            detail.update(Text("loading subscribers…", style="dim"))
            return
        t = self._highlighted_target()
        if t is None:
            detail.update(Text("nothing matches the search", style="dim"))
            return
        detail.update(Group(*target_lines(t)))

    @on(Input.Changed, "#wiz-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self.loaded:
            self._filter(event.value)

    @on(Input.Submitted, "#wiz-search")
    def _search_submitted(self) -> None:
        self._choose_target()

    @on(OptionList.OptionHighlighted, "#wiz-targets")
    def _target_highlighted(self) -> None:
        if self.step == "target":
            self._render_target()

    @on(OptionList.OptionSelected, "#wiz-targets")
    def _target_clicked(self) -> None:
        self._choose_target()

    def _choose_target(self) -> None:
        t = self._highlighted_target()
        if t is None:
            self._say("choose a subscriber or deployment first", True)
            return
        if t != self.state.target:
            self.state.target = t
            # A new deployment may change the questions: start them again, answers kept.
            self.qi = 0
        choices = self._choices()
        types = [c.ctype for c in choices]
        if self.state.ctype in types:
            self.type_cursor = types.index(self.state.ctype)
        else:
            self.type_cursor = next((i for i, c in enumerate(choices) if c.available), 0)
        self._go("type")

    # step 2: case type

    def _choices(self) -> list[TypeChoice]:
        if self.state.target is None:
            return []
        return type_choices(self.rules, self.state.target, self.case)

    def _render_type(self) -> None:
        choices = self._choices()
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=3, no_wrap=True)
        grid.add_column(ratio=1)
        for i, c in enumerate(choices):
            here = i == self.type_cursor
            line = Text()
            style = "bold" if c.available else "dim strike"
            line.append(c.label, style=style + (" reverse" if here else ""))
            if c.ctype == self.state.ctype:
                now = self.case is not None and c.ctype == self.case.current.type
                line.append("  ✔ now" if now else "  ✔ chosen", style="green")
            grid.add_row(Text(("›" if here else " ") + f"{i + 1}", style="bold"), line)
            # One line each; the highlighted choice shows its whole explanation.
            grid.add_row(
                "",
                Text(
                    c.help,
                    style="" if c.available else "dim",
                    no_wrap=not here,
                    overflow="ellipsis",
                ),
            )
            if not c.available:
                grid.add_row("", Text("✖ unavailable: " + c.reason, style="red"))
        self.query_one("#type", Static).update(
            Group(Text("What kind of case is it?", style="bold"), grid)
        )

    def action_pick(self, index: int) -> None:
        if self.step == "component":
            options = self._component_options()
            if 0 <= index < len(options):
                self.component_cursor = index
                self._pick_component()
            return
        if self.step != "type":
            return
        choices = self._choices()
        if 0 <= index < len(choices):
            self.type_cursor = index
            self._pick_type(choices[index])

    def _pick_type(self, c: TypeChoice) -> None:
        if not c.available:
            self._show_step()
            self._say(f"{c.label} is unavailable: {c.reason}", True)
            return
        if c.ctype != self.state.ctype:
            self.qi = 0
        self.state.ctype = c.ctype
        self._go("priority" if c.ctype == "incident" else "summary")

    # step 3: priority guidelines

    def _asked(self) -> list[Any]:
        assert self.state.target is not None
        return question_list(self.rules, self.state.target, self.state.ask_p0_anyway)

    def _render_priority(self) -> None:
        asked = self._asked()
        self.qi = max(0, min(self.qi, len(asked) - 1))
        target = self.state.target
        assert target is not None
        answers = current_answers(self.state, asked)
        why = p0_excluded_reason(target)
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=7, no_wrap=True)
        grid.add_column(width=3, no_wrap=True)
        grid.add_column(ratio=1)
        for i, c in enumerate(asked):
            ans = answers.get(c.key)
            mark = {True: "yes", False: "no", None: ""}[ans]
            p0_here = c.priority == "P0" and why is not None
            prio = f"{c.priority}→P1" if p0_here else c.priority
            if i == self.qi:
                grid.add_row(
                    Text(f"›{prio}", style="bold reverse"),
                    Text(mark, style="bold"),
                    Text(c.text + "?", style="bold reverse"),
                )
                if p0_here:
                    grid.add_row(
                        "",
                        "",
                        Text(f"a P0 criterion, but {why}: a yes classifies P1", style="yellow"),
                    )
            else:
                style = "green" if ans else ("dim" if ans is False else "")
                grid.add_row(
                    Text(f" {prio}", style=style),
                    Text(mark, style=style),
                    Text(c.text, style=style, no_wrap=True, overflow="ellipsis"),
                )
        parts: list[RenderableType] = [
            Text(
                f"Priority guidelines · question {self.qi + 1} of {len(asked)} · "
                "the first yes sets the priority",
                style="bold",
            ),
            grid,
        ]
        if why is not None and not self.state.ask_p0_anyway:
            parts.append(
                Text(
                    f"P0 criteria not asked: {why} (P0 needs a managed deployment "
                    "on the enterprise plan). p: a P0 criterion applies anyway "
                    "(classified P1)",
                    style="yellow",
                )
            )
        self.query_one("#priority", Static).update(Group(*parts))

    def action_answer(self, yes: bool) -> None:
        if self.step != "priority":
            return
        asked = self._asked()
        key = asked[self.qi].key
        self.state.answers[key] = yes
        if yes or self.qi == len(asked) - 1:
            self._go("component" if self._components() else "summary")
        else:
            self.qi += 1
            self._show_step()

    def action_p0_anyway(self) -> None:
        if self.step != "priority" or self.state.target is None:
            return
        if p0_excluded_reason(self.state.target) is None or self.state.ask_p0_anyway:
            return
        self.state.ask_p0_anyway = True
        self.qi = 0
        self._show_step()

    # step 3b: which managed third-party component (policy §5)

    def _components(self) -> tuple[str, ...]:
        """The deployment's components, when the P0 is about an unavailable component."""
        if self.state.ctype != "incident":
            return ()
        return component_question(self._classification(), self.state.target)

    def _component_options(self) -> list[str | None]:
        return [*self._components(), None]

    def _render_component(self) -> None:
        options = self._component_options()
        self.component_cursor = max(0, min(self.component_cursor, len(options) - 1))
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=3, no_wrap=True)
        grid.add_column(ratio=1)
        for i, name in enumerate(options):
            here = i == self.component_cursor
            label = (
                _t(name, "bold")
                if name is not None
                else Text("none of these: a supported Konneqt component is unavailable")
            )
            if here:
                label.stylize("reverse")
            if name is not None and name == self.state.component:
                label.append("  ✔ chosen", style="green")
            grid.add_row(Text(("›" if here else " ") + f"{i + 1}", style="bold"), label)
        dep = self.state.target.deployment if self.state.target else None
        head = Text("Which component is unavailable? ", style="bold")
        head.append_text(_t(dep.id if dep else "", "bold"))
        head.append(
            " lists these managed third-party components. While the vendor's "
            "assistance is awaited, the incident's resolution clock pauses "
            "(awaiting_vendor).",
            style="",
        )
        self.query_one("#component", Static).update(Group(head, grid))

    def _pick_component(self) -> None:
        options = self._component_options()
        self.state.component = options[self.component_cursor]
        self.component_picked = True
        self._go("summary")

    # step 4: summary

    def _classification(self) -> Any:
        return result_of(self.rules, self.state)

    def _problem(self, result: Any, now: int) -> str | None:
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
            self.when(now)
        except BadTime as exc:
            return str(exc)
        return None

    def _render_summary(self) -> None:
        now = self._now()
        result = self._classification()
        body: list[RenderableType] = []
        if result is None:
            self.query_one("#wiz-summary", Static).update(Text("choose a type first"))
            return
        head = Text()
        label = TYPE_LABELS.get(result.type, result.type)
        if self.case is not None:
            cur = self.case.current
            head.append(f"{TYPE_LABELS.get(cur.type, cur.type)} {cur.priority or ''}".rstrip())
            head.append("  →  ")
        head.append(label, style="bold")
        if result.priority:
            head.append(" " + PRIORITY_LABELS.get(result.priority, result.priority), style="bold")
        body.append(head)
        if result.type == "incident":
            crit = next((c for c in self.rules.criteria if c.key == result.decided_by), None)
            line = Text("decided by: ")
            if crit is not None:
                line.append(crit.key, style="bold")
                line.append(f" ({crit.priority}) — {crit.text}")
            else:
                line.append("no guideline matched", style="bold")
            body.append(line)
        if component_question(result, self.state.target):
            comp = chosen_component(result, self.state)
            line = Text("component: ")
            if comp is not None:
                line.append_text(_t(comp, "bold"))
                line.append(
                    " (managed third-party: awaiting its vendor pauses the resolution clock)"
                )
            else:
                line.append("a supported Konneqt component (no third-party vendor)", style="bold")
            body.append(line)
        for note in result.notes:
            body.append(Text("note: " + note, style="yellow"))
        problem = self._problem(result, now)
        if problem:
            body.append(Text("✖ cannot be recorded: " + problem, style="bold red"))
        body.append(Text(""))
        if self.case is None:
            body.append(self._new_clock_table(result, now))
        else:
            body.append(self._reclass_clock_table(result, now))
        self.query_one("#wiz-summary", Static).update(Group(*body))
        label = (
            "Title (required), then enter to open the case:"
            if self.mode == "new"
            else "Reason for the change (required), then enter to record it:"
        )
        self.query_one("#wiz-text-label", Static).update(Text(label, style="bold"))

    def _new_clock_table(self, result: Any, now: int) -> RenderableType:
        from screens.when import BadTime

        assert self.state.target is not None
        try:
            reported, aware = self.when(now)
        except BadTime:
            reported, aware = now, now
        start = min(reported, aware)
        lines = new_case_clocks(
            self.state.target,
            result.type,
            result.priority,
            now,
            reported_at=reported,
            aware_at=aware,
        )
        if not lines:
            return Text(
                f"no clocks: the {self.state.target.plan} plan sets no targets for a "
                f"{TYPE_LABELS.get(result.type, result.type)}",
                style="dim",
            )
        since = "now" if start >= now - 59 else "reported"
        t = Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style="bold",
            expand=False,
            title=f"Clocks from {since} ({_local(start, self.tz, '%a %d %b %H:%M %Z')})",
            title_justify="left",
            title_style="bold",
        )
        t.add_column("CLOCK", no_wrap=True)
        t.add_column("TARGET", no_wrap=True)
        t.add_column("DUE (local)", no_wrap=True)
        t.add_column("", no_wrap=True)
        for ln in lines:
            st = ln.after
            if ln.name == "response":
                due = (
                    _local(st.due, self.tz, "%a %d %b %H:%M")
                    if st is not None and st.due
                    else (st.state if st is not None else "—")
                )
                if ln.breaches_at_once:
                    t.add_row(
                        Text("! " + ln.name, style="bold red"),
                        duration(ln.target),
                        due,
                        Text(f"BREACHED at once ({hm(st.remaining)})", style="bold red"),
                    )
                else:
                    t.add_row(ln.name, duration(ln.target), due, f"running from {since}")
            else:
                due = (
                    _local(ln.due_if_ack_now, self.tz, "%a %d %b %H:%M")
                    if ln.due_if_ack_now
                    else "—"
                )
                t.add_row(
                    ln.name,
                    duration(ln.target),
                    due,
                    "if acknowledged now" if ln.target is not None else "",
                )
        return t

    def _cell(self, st: Any) -> Text:
        """One clock in one column: its target and state, in about 30 columns."""
        if st is None:
            return Text("— (no such clock)", style="dim")
        if st.target is None:
            return Text(f"best efforts, {st.state}")
        tgt = duration(st.target)
        if st.breached:
            over = f" {hm(st.remaining)}" if st.state == "running" else ""
            return Text(
                f"{tgt}, {st.state} BREACHED{over}".replace("running ", ""), style="bold red"
            )
        if st.state == "running":
            return Text(f"{tgt}, due {_local(st.due, self.tz, '%d %b %H:%M')}")
        if st.state in ("paused", "suspended"):
            return Text(f"{tgt}, {st.state}, {hm(st.remaining)} left")
        return Text(f"{tgt}, {st.state}")

    def _reclass_clock_table(self, result: Any, now: int) -> RenderableType:
        assert self.case is not None
        lines: list[ClockLine] = reclass_clocks(self.case, result.type, result.priority, now)
        t = Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style="bold",
            expand=False,
            title=f"Clocks at {_local(now, self.tz, '%a %d %b %H:%M %Z')}",
            title_justify="left",
            title_style="bold",
        )
        t.add_column("CLOCK", no_wrap=True)
        t.add_column("BEFORE", no_wrap=True)
        t.add_column("AFTER", no_wrap=True)
        if not lines:
            t.add_row("(no clocks)", "", "")
        at_once = []
        for ln in lines:
            t.add_row(
                Text(
                    ("! " if ln.breaches_at_once else "  ") + ln.name,
                    style="bold red" if ln.breaches_at_once else "",
                ),
                self._cell(ln.before),
                self._cell(ln.after),
            )
            if ln.breaches_at_once:
                at_once.append(ln.name)
        out: list[RenderableType] = [t]
        if at_once:
            out.append(
                Text(
                    f"⚠ this breaches at once: {', '.join(at_once)} "
                    "(time already counted is over the new target)",
                    style="bold red",
                )
            )
        return Group(*out)

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
        if self.saving:
            return
        text = self.state.text.strip()
        result = self._classification()
        problem = self._problem(result, self._now())
        if problem:
            self._say(f"cannot be recorded: {problem}", True)
            return
        if not text:
            self._say("a title is needed" if self.mode == "new" else "a reason is needed", True)
            return
        if self.mode == "new":
            self._when_saved = self.when(self._now())
        self.saving = True
        self._say("recording…")
        self.save(result, text)

    @work(thread=True, exclusive=True, group="wizard-write")
    def save(self, result: Any, text: str) -> None:
        from console.actions import Conflict, Refused, append_event, create_case

        now = self._now()
        target = self.state.target
        assert target is not None
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
                label = f"{result.type} {result.priority or ''}".rstrip()
                done = WizardDone(cid, f"{cid} opened: {label}", True)
            else:
                data = {
                    "type": result.type,
                    "priority": result.priority,
                    "reason": text,
                    "criterion": result.decided_by,
                    "component": chosen_component(result, self.state),
                }
                assert self.case_id is not None
                assert self.case is not None
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
                label = f"{result.type} {result.priority or ''}".rstrip()
                done = WizardDone(self.case_id, f"{self.case_id} reclassified: {label}", False)
        except Conflict as exc:
            self.app.call_from_thread(self._failed, f"nothing written: {fault_text(exc)}", True)
            return
        except Refused as exc:
            self.app.call_from_thread(self._failed, refusal_text(exc), False)
            return
        except Exception as exc:
            self.app.call_from_thread(self._failed, failed_text(self.app, exc), False)
            return
        self.app.call_from_thread(self.dismiss, done)

    def _failed(self, message: str, reload: bool) -> None:
        self.saving = False
        self._say(message, True)
        if reload:
            # The case changed under us: re-read it, keep every answer and the text, and
            # keep saying why nothing was written (enter applies it to the fresh case).
            self._after_reload = f"{message}; enter applies your answers to it again"
            self.load()

    # -- navigation ------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self.saving:
            self.dismiss(None)

    def action_back(self) -> None:
        if not self.loaded or self.saving:
            return
        if self.step == "target":
            return
        if self.step == "type":
            if self.mode == "new":
                self._go("target")
            return
        if self.step == "priority":
            if self.qi > 0:
                self.qi -= 1
                self._show_step()
            else:
                self._go("type")
            return
        if self.step == "component":
            asked = self._asked()
            i = deciding_index(asked, current_answers(self.state, asked))
            self.qi = len(asked) - 1 if i is None else i
            self._go("priority")
            return
        if self.step == "summary":
            if self._components():
                self._go("component")
            elif self.state.ctype == "incident":
                asked = self._asked()
                i = deciding_index(asked, current_answers(self.state, asked))
                self.qi = len(asked) - 1 if i is None else i
                self._go("priority")
            else:
                self._go("type")

    def action_forward(self) -> None:
        if not self.loaded or self.saving:
            return
        if self.step == "target":
            self._choose_target()
        elif self.step == "type":
            choices = self._choices()
            if choices:
                self._pick_type(choices[self.type_cursor])
        elif self.step == "component":
            self._pick_component()
        elif self.step == "priority":
            asked = self._asked()
            ans = self.state.answers.get(asked[self.qi].key)
            if ans is None:
                self._say("answer y (yes) or n (no)", True)
            else:
                self.action_answer(ans)
        elif self.step == "summary":
            self._confirm()

    def action_move(self, delta: int) -> None:
        if self.step == "target":
            ol = self.query_one("#wiz-targets", OptionList)
            if ol.option_count:
                ol.highlighted = max(0, min(ol.option_count - 1, (ol.highlighted or 0) + delta))
        elif self.step == "type":
            n = len(self._choices())
            if n:
                self.type_cursor = max(0, min(n - 1, self.type_cursor + delta))
                self._show_step()
        elif self.step == "component":
            n = len(self._component_options())
            self.component_cursor = max(0, min(n - 1, self.component_cursor + delta))
            self._show_step()
        elif self.step == "summary":
            # A long summary scrolls; the title/reason box stays put.
            self.query_one("#wiz-summary-scroll", VerticalScroll).scroll_relative(
                y=delta * 3, animate=False
            )
        elif self.step == "priority":
            asked = self._asked()
            answered = current_answers(self.state, asked)
            new = self.qi + delta
            # Up goes back; down only over questions already answered.
            if 0 <= new < len(asked) and (delta < 0 or asked[self.qi].key in answered):
                self.qi = new
                self._show_step()

    def _say(self, message: str, error: bool = False) -> None:
        text = Text()
        if message:
            if error:
                text.append("✖ ", style="bold red")
                text.append(inert(message), style="red")
            else:
                text.append(inert(message))
        self.query_one("#wiz-notice", Static).update(text)

    def tick(self, at: int) -> None:
        """Time passed (the app calls this once a minute): due times move on."""
        if self.step == "summary" and self.loaded:
            self._render_summary()


# -- opening the wizard from the app ---------------------------------------------------------


def _ready(app: Any) -> bool:
    if getattr(app, "store", None) is None or getattr(app, "policy", None) is None:
        app.notify("the database is still opening", severity="warning")
        return False
    return True


def _done(app: Any) -> Callable[[WizardDone | None], None]:
    def done(result: WizardDone | None) -> None:
        if result is None:
            return
        app.notify(result.message)
        changed = getattr(app, "case_changed", None)
        if changed is not None:
            changed(result.case_id)
        if result.created:
            opener = getattr(app, "open_case", None)
            if opener is not None:
                opener(result.case_id)
        else:
            reload = getattr(app.screen, "reload", None)
            if reload is not None and getattr(app.screen, "case_id", None) == result.case_id:
                reload()

    return done


def open_new_case_wizard(app: Any) -> None:
    """Push the wizard for a new case (bind to ``n`` on the queue pane)."""
    if _ready(app):
        app.push_screen(
            ClassifyWizard.new(store=app.store, policy=app.policy, user=app.user, tz=app.tz),
            _done(app),
        )


def open_reclassify_wizard(app: Any, case_id: str) -> None:
    """Push the wizard to reclassify ``case_id`` (bind to ``c`` in the case view)."""
    if _ready(app):
        app.push_screen(
            ClassifyWizard.reclassify(
                case_id, store=app.store, policy=app.policy, user=app.user, tz=app.tz
            ),
            _done(app),
        )
