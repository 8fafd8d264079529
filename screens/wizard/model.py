"""The classification wizard's state and transitions, without Textual (policy §4, §5, §9).

Everything here is pure: ``Flow`` holds where the operator is (the step, the question, the
cursors) over ``WizardState`` (the answers), and its transitions say where to go next. The
step widgets only render what this module computes, and the rules stay where they are:
``console.rules.classify`` decides the priority, ``console.rules.eligibility`` the
eligibility, ``console.rules.clocks`` the clocks and ``console.rules.lifecycle`` whether a
reclassification may be recorded. The reads are ``console.views.wizard``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from console.rules.classify import Classification, classify, p0_applies, questions
from console.rules.clocks import CaseFacts, ClockState, Event, evaluate, sort_events
from console.rules.eligibility import check_classification
from console.rules.policy import Criterion, Policy
from console.views.wizard import ReclassCase, Target

# The types the wizard offers (a Change Request is created by Konneqt, not classified).
WIZARD_TYPES = ("incident", "query", "security_report", "service_request")
TYPE_LABELS = {
    "incident": "Incident",
    "query": "Query",
    "security_report": "Security Report Analysis",
    "service_request": "Service Request",
    "change_request": "Change Request",
}
PRIORITY_LABELS = {"P0": "P0 Catastrophic", "P1": "P1 Critical", "P2": "P2 High", "P3": "P3 Medium"}
HYPOTHETICAL_SEQ = 10**9


@dataclass
class TypeChoice:
    ctype: str
    label: str
    help: str
    problems: list[tuple[str, str]]

    @property
    def available(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return "; ".join(m for _, m in self.problems)


@dataclass(frozen=True)
class ClockLine:
    """One clock on the summary. For a new case ``before`` is None."""

    name: str
    target: int | None
    before: ClockState | None
    after: ClockState | None  # None: the clock no longer applies
    due_if_ack_now: int | None = None  # new case: workaround/resolution/update
    breaches_at_once: bool = False
    applies: bool = True


@dataclass
class WizardState:
    """The answers so far. Going back and forward keeps every answer."""

    mode: str  # "new" | "reclassify"
    target: Target | None = None
    ctype: str | None = None
    answers: dict[str, bool] = field(default_factory=dict)
    ask_p0_anyway: bool = False  # the operator said a P0 criterion applies where P0 does not
    text: str = ""  # the title (new) or the reason (reclassify)
    # The managed third-party component that is unavailable (policy §5); None: a supported
    # Konneqt component. Asked only when ``component_question`` says so.
    component: str | None = None


# -- pure rules ------------------------------------------------------------------------------


def search_text(target: Target) -> str:
    """What the subscriber step's search matches: ids, names, plan, deployment facts."""
    d = target.deployment
    parts = [target.subscriber_id, target.subscriber_name, target.plan]
    if d is not None:
        parts += [d.id, d.environment, d.product, d.version, "managed" if d.managed else ""]
    return " ".join(parts).lower()


def filter_targets(
    targets: Sequence[Target], query: str, chosen: Target | None
) -> tuple[list[int], int]:
    """The targets the search ``query`` lists (indexes, a subscriber's own row heading any
    of its deployments that match) and which of them to highlight: the chosen target if it is
    listed, else the first that matches by itself (not a heading shown for context)."""
    tokens = query.lower().split()
    match = [all(tok in search_text(t) for tok in tokens) for t in targets]
    shown: list[int] = []
    for i, t in enumerate(targets):
        if t.deployment is None:
            j = i + 1
            any_dep = False
            while j < len(targets) and targets[j].deployment is not None:
                any_dep = any_dep or match[j]
                j += 1
            if match[i] or any_dep:
                shown.append(i)
        elif match[i]:
            shown.append(i)
    idx = next((k for k, i in enumerate(shown) if match[i]), 0)
    if chosen is not None and chosen in targets:
        pos = list(targets).index(chosen)
        if pos in shown:
            idx = shown.index(pos)
    return shown, idx


def p0_excluded_reason(target: Target) -> str | None:
    """Why P0 criteria are not asked for this target (None: they are asked)."""
    plan, dep = target.terms.plan, target.deployment
    if p0_applies(plan, dep):
        return None
    if not plan.p0_allowed:
        return f"the {plan.name} plan has no P0"
    if dep is None:
        return "no deployment named"
    return f"{dep.id} is not a managed deployment"


def type_choices(
    policy: Policy, target: Target, case: ReclassCase | None = None
) -> list[TypeChoice]:
    """The four types with their one-line help and, when unavailable, the reason (§5)."""
    out: list[TypeChoice] = []
    for t in WIZARD_TYPES:
        if t not in policy.case_types:
            continue
        # Priority does not matter for availability: judge an incident as the mildest one.
        prio = "P3" if t == "incident" else None
        probs = check_classification(
            policy,
            target.terms.plan,
            target.subscriber_id,
            target.deployment,
            t,
            prio,
            konneqt_initiated=case.konneqt_initiated if case else False,
            linked_types=case.linked_types if case else (),
        )
        probs = [p for p in probs if p[0] != "priority"]
        out.append(TypeChoice(t, TYPE_LABELS.get(t, t), policy.case_type_help.get(t, ""), probs))
    return out


def question_list(policy: Policy, target: Target, p0_anyway: bool) -> list[Criterion]:
    """The criteria to ask, most severe first: ``questions()``, plus the P0 criteria it left
    out when the operator says one applies anyway (they then classify P1, with a note)."""
    asked = questions(policy, target.terms.plan, target.deployment)
    if p0_anyway and p0_excluded_reason(target) is not None:
        extra = [c for c in policy.criteria if c.priority == "P0"]
        return extra + asked
    return asked


def current_answers(state: WizardState, asked: Sequence[Criterion]) -> dict[str, bool]:
    """Only the answers to questions asked now (a changed deployment may drop some)."""
    keys = {c.key for c in asked}
    return {k: v for k, v in state.answers.items() if k in keys}


def deciding_index(asked: Sequence[Criterion], answers: Mapping[str, bool]) -> int | None:
    for i, c in enumerate(asked):
        if answers.get(c.key):
            return i
    return None


def result_of(policy: Policy, state: WizardState) -> Classification | None:
    if state.target is None or state.ctype is None:
        return None
    t = state.target
    answers: dict[str, bool] = {}
    if state.ctype == "incident":
        answers = current_answers(state, question_list(policy, t, state.ask_p0_anyway))
    return classify(policy, t.terms.plan, t.subscriber_id, t.deployment, state.ctype, answers)


#: The P0 criterion about an unavailable component (policy §9), after which the wizard asks
#: which managed third-party component it is, when the deployment lists any.
COMPONENT_CRITERION = "component_unavailable"


def component_question(result: Classification | None, target: Target | None) -> tuple[str, ...]:
    """The deployment's components to choose from when the classification is P0 by
    ``component_unavailable`` on a deployment that lists managed third-party components;
    () when the question does not arise."""
    if (
        result is None
        or target is None
        or target.deployment is None
        or result.priority != "P0"
        or result.decided_by != COMPONENT_CRITERION
    ):
        return ()
    return target.deployment.components


def chosen_component(result: Classification | None, state: WizardState) -> str | None:
    """The component to record: the one chosen, if the question arose and it is listed."""
    options = component_question(result, state.target)
    return state.component if state.component in options else None


def new_case_clocks(
    target: Target,
    ctype: str,
    priority: str | None,
    now: int,
    *,
    reported_at: int | None = None,
    aware_at: int | None = None,
) -> list[ClockLine]:
    """The clocks of a case opened now: response runs from the earlier of ``reported_at`` and
    ``aware_at`` (default now; policy §3), so a case reported hours ago may be breached at
    once; the others start at the acknowledgement, so they are shown "if acknowledged now"."""
    terms = target.terms
    facts = CaseFacts(
        id="(new)",
        subscriber=target.subscriber_id,
        type=ctype,
        priority=priority,
        reported_at=now if reported_at is None else reported_at,
        aware_at=aware_at,
        deployment=target.deployment.id if target.deployment else None,
    )
    ev = evaluate(facts, [], terms, now)
    out = []
    for name, spec in terms.specs(ctype, priority).items():
        st = ev.clocks.get(name)
        if name == "response":
            out.append(
                ClockLine(
                    name, spec.target, None, st, breaches_at_once=st is not None and st.breached
                )
            )
        else:
            due = None if spec.target is None else spec.calendar.add(now, spec.target)
            out.append(ClockLine(name, spec.target, None, st, due_if_ack_now=due))
    return out


def hypothetical(
    now: int,
    ctype: str,
    priority: str | None,
    reason: str,
    criterion: str | None,
    component: str | None = None,
) -> Event:
    data = {
        "type": ctype,
        "priority": priority,
        "reason": reason,
        "criterion": criterion,
        "component": component,
    }
    return Event(
        at=now,
        kind="reclassified",
        data={k: v for k, v in data.items() if v is not None},
        seq=HYPOTHETICAL_SEQ,
    )


def reclass_clocks(
    case: ReclassCase, ctype: str, priority: str | None, now: int
) -> list[ClockLine]:
    """Every clock before and after the reclassification, as of ``now`` (policy §4)."""
    terms = case.target.terms
    before = evaluate(case.facts, case.events, terms, now)
    after_events = sort_events([*case.events, hypothetical(now, ctype, priority, "-", None)])
    after = evaluate(case.facts, after_events, terms, now)
    names = list(after.clocks) + [n for n in before.clocks if n not in after.clocks]
    out = []
    for n in names:
        b, a = before.clocks.get(n), after.clocks.get(n)
        at_once = a is not None and a.breached and not (b is not None and b.breached)
        out.append(
            ClockLine(
                n,
                a.target if a else (b.target if b else None),
                b,
                a,
                breaches_at_once=at_once,
                applies=a is not None,
            )
        )
    return out


def reclass_problem(
    policy: Policy,
    case: ReclassCase,
    ctype: str,
    priority: str | None,
    now: int,
    criterion: str | None = None,
    component: str | None = None,
) -> str | None:
    """What the engine would refuse about this reclassification (None: it may be recorded).

    The same ``check_history`` that ``append_event`` runs, with a placeholder reason."""
    from console.rules.lifecycle import IllegalEvent, check_history

    t = case.target

    def classify_check(ty: str, p: str | None) -> list[tuple[str, str]]:
        return check_classification(
            policy,
            t.terms.plan,
            t.subscriber_id,
            t.deployment,
            ty,
            p,
            konneqt_initiated=case.konneqt_initiated,
            linked_types=case.linked_types,
        )

    events = sort_events(
        [*case.events, hypothetical(now, ctype, priority, "-", criterion, component)]
    )
    try:
        check_history(case.facts, events, policy, classify_check)
    except IllegalEvent as exc:
        return exc.message
    return None


# -- the flow: which step, which question, which cursor ---------------------------------------

STEP_TITLES = {
    "target": "Subscriber",
    "type": "Type",
    "priority": "Priority",
    "component": "Component",
    "summary": "Summary",
}


@dataclass(frozen=True)
class Move:
    """What a transition asks of the screen: go to ``step``, or (None) redraw the step shown;
    with ``error``, redraw and say why nothing moved."""

    step: str | None = None
    error: str | None = None


STAY = Move()


@dataclass
class Flow:
    """Where the operator is in the wizard. Every transition takes the rules the case is
    judged by (``Policy``), changes the position and the answers, and returns the ``Move``
    the screen makes (None: the key does nothing here). Going back and forward keeps every
    answer."""

    mode: str  # "new" | "reclassify"
    state: WizardState
    step: str
    qi: int = 0  # the question shown on the priority step
    type_cursor: int = 0
    component_cursor: int = 0
    component_picked: bool = False  # a component (or "none of these") was chosen once
    case: ReclassCase | None = None

    @classmethod
    def start(cls, mode: str) -> Flow:
        return cls(mode, WizardState(mode), "target" if mode == "new" else "type")

    @property
    def first_step(self) -> str:
        return "target" if self.mode == "new" else "type"

    # what the rules say about the answers so far

    def choices(self, rules: Policy) -> list[TypeChoice]:
        if self.state.target is None:
            return []
        return type_choices(rules, self.state.target, self.case)

    def asked(self, rules: Policy) -> list[Criterion]:
        assert self.state.target is not None
        return question_list(rules, self.state.target, self.state.ask_p0_anyway)

    def classification(self, rules: Policy) -> Classification | None:
        return result_of(rules, self.state)

    def components(self, rules: Policy) -> tuple[str, ...]:
        """The deployment's components, when the P0 is about an unavailable component."""
        if self.state.ctype != "incident":
            return ()
        return component_question(self.classification(rules), self.state.target)

    def component_options(self, rules: Policy) -> list[str | None]:
        return [*self.components(rules), None]

    def steps(self, rules: Policy) -> list[str]:
        out = ["target"] if self.mode == "new" else []
        out.append("type")
        if self.state.ctype in (None, "incident"):
            out.append("priority")
            if self.components(rules):
                out.append("component")
        out.append("summary")
        return out

    def p0_offered(self) -> bool:
        """Whether ``p`` (a P0 criterion applies anyway) can still be said."""
        target = self.state.target
        return (
            target is not None
            and p0_excluded_reason(target) is not None
            and not self.state.ask_p0_anyway
        )

    # transitions

    def enter(self, step: str, rules: Policy) -> None:
        """Arrive at ``step`` (coming back to the component step shows the one chosen)."""
        self.step = step
        if step == "component":
            options = self.component_options(rules)
            if self.component_picked and self.state.component in options:
                self.component_cursor = options.index(self.state.component)

    def clamp(self, rules: Policy) -> None:
        """Keep the question and the cursors on entries that exist (answers may drop some)."""
        if self.step == "priority":
            self.qi = max(0, min(self.qi, len(self.asked(rules)) - 1))
        elif self.step == "component":
            last = len(self.component_options(rules)) - 1
            self.component_cursor = max(0, min(self.component_cursor, last))

    def choose_target(self, target: Target | None) -> Move:
        """Step 1 answered: ``target`` (None: nothing highlighted); the types are then judged
        by the policy version the target's terms carry."""
        if target is None:
            return Move(error="choose a subscriber or deployment first")
        if target != self.state.target:
            self.state.target = target
            # A new deployment may change the questions: start them again, answers kept.
            self.qi = 0
        choices = self.choices(target.terms.policy)
        types = [c.ctype for c in choices]
        if self.state.ctype in types:
            self.type_cursor = types.index(self.state.ctype)
        else:
            self.type_cursor = next((i for i, c in enumerate(choices) if c.available), 0)
        return Move("type")

    def case_loaded(self, case: ReclassCase, rules: Policy) -> None:
        """The case to reclassify was read (again): its target, and on the first read its
        type as the one chosen."""
        first_load = self.case is None
        self.case = case
        self.state.target = case.target
        if first_load:
            self.state.ctype = case.current.type
            types = [c.ctype for c in self.choices(rules)]
            if case.current.type in types:
                self.type_cursor = types.index(case.current.type)

    def pick_type(self, rules: Policy, index: int) -> Move | None:
        choices = self.choices(rules)
        if not 0 <= index < len(choices):
            return None
        self.type_cursor = index
        c = choices[index]
        if not c.available:
            return Move(error=f"{c.label} is unavailable: {c.reason}")
        if c.ctype != self.state.ctype:
            self.qi = 0
        self.state.ctype = c.ctype
        return Move("priority" if c.ctype == "incident" else "summary")

    def answer(self, rules: Policy, yes: bool) -> Move:
        """y/n on the question shown: the first yes decides; a no asks the next."""
        asked = self.asked(rules)
        self.state.answers[asked[self.qi].key] = yes
        if yes or self.qi == len(asked) - 1:
            return Move("component" if self.components(rules) else "summary")
        self.qi += 1
        return STAY

    def keep_answer(self, rules: Policy) -> Move:
        """Forward on a question: the answer it has, again."""
        answer = self.state.answers.get(self.asked(rules)[self.qi].key)
        if answer is None:
            return Move(error="answer y (yes) or n (no)")
        return self.answer(rules, answer)

    def p0_anyway(self) -> Move | None:
        """The operator says a P0 criterion applies where P0 is not asked (it classifies P1)."""
        if not self.p0_offered():
            return None
        self.state.ask_p0_anyway = True
        self.qi = 0
        return STAY

    def pick_component(self, rules: Policy, index: int | None = None) -> Move | None:
        options = self.component_options(rules)
        if index is not None:
            if not 0 <= index < len(options):
                return None
            self.component_cursor = index
        self.state.component = options[self.component_cursor]
        self.component_picked = True
        return Move("summary")

    def move(self, rules: Policy, delta: int) -> Move | None:
        """↑/↓ on the type, component and priority steps (up goes back over the questions,
        down only over questions already answered)."""
        if self.step == "type":
            n = len(self.choices(rules))
            if not n:
                return None
            self.type_cursor = max(0, min(n - 1, self.type_cursor + delta))
            return STAY
        if self.step == "component":
            n = len(self.component_options(rules))
            self.component_cursor = max(0, min(n - 1, self.component_cursor + delta))
            return STAY
        if self.step == "priority":
            asked = self.asked(rules)
            new = self.qi + delta
            answered = current_answers(self.state, asked)
            if 0 <= new < len(asked) and (delta < 0 or asked[self.qi].key in answered):
                self.qi = new
                return STAY
        return None

    def forward(self, rules: Policy) -> Move | None:
        """→/enter on the type, priority and component steps."""
        if self.step == "type":
            return self.pick_type(rules, self.type_cursor) if self.choices(rules) else None
        if self.step == "component":
            return self.pick_component(rules)
        if self.step == "priority":
            return self.keep_answer(rules)
        return None

    def _to_decider(self, rules: Policy) -> Move:
        asked = self.asked(rules)
        i = deciding_index(asked, current_answers(self.state, asked))
        self.qi = len(asked) - 1 if i is None else i
        return Move("priority")

    def back(self, rules: Policy) -> Move | None:
        """Back a question or a step, every answer kept (None on the first step)."""
        if self.step == "type":
            return Move("target") if self.mode == "new" else None
        if self.step == "priority":
            if self.qi > 0:
                self.qi -= 1
                return STAY
            return Move("type")
        if self.step == "component":
            return self._to_decider(rules)
        if self.step == "summary":
            if self.components(rules):
                return Move("component")
            if self.state.ctype == "incident":
                return self._to_decider(rules)
            return Move("type")
        return None
