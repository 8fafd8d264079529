"""The classification wizard's state and arithmetic, without Textual (policy §4, §5, §9).

Everything here is pure except the two loaders at the bottom, which read the database
(called from a worker thread). The screen (``screens/wizard.py``) only renders what this
module computes, so the rules stay where they are: ``console.rules.classify`` decides the
priority, ``console.rules.eligibility`` the eligibility, ``console.rules.clocks`` the
clocks and ``console.rules.lifecycle`` whether a reclassification may be recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from console.rules.classify import Classification, classify, p0_applies, questions
from console.rules.clocks import CaseEval, CaseFacts, Event, evaluate, sort_events
from console.rules.eligibility import DeploymentFacts, check_classification
from console.rules.policy import Criterion, Policy, Terms

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


@dataclass(frozen=True)
class VersionSupport:
    """Whether a product version is still supported (policy §12): flagged, never refused."""

    supported: bool
    end: date  # the last supported day


@dataclass(frozen=True)
class Target:
    """A subscriber and (optionally) one of its deployments: what a case is opened on."""

    subscriber_id: str
    subscriber_name: str
    terms: Terms
    deployment: DeploymentFacts | None
    support: VersionSupport | None = None  # product-version support (policy §12); None = unknown

    @property
    def plan(self) -> str:
        return self.terms.facts.plan

    @property
    def coverage(self) -> str:
        return (
            "24×7"
            if self.terms.facts.coverage == "24x7"
            else ("8×5" if self.plan == "enterprise" else "12×5")
        )

    def search_text(self) -> str:
        d = self.deployment
        parts = [self.subscriber_id, self.subscriber_name, self.plan]
        if d is not None:
            parts += [d.id, d.environment, d.product, d.version, "managed" if d.managed else ""]
        return " ".join(parts).lower()


@dataclass
class ReclassCase:
    """An existing case as the reclassification needs it."""

    facts: CaseFacts
    events: list[Event]
    target: Target
    current: CaseEval  # at load time (type, priority, status)
    konneqt_initiated: bool = False
    linked_types: tuple[str, ...] = ()
    version: int | None = None  # the case's version when read: the write must match it


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
    before: Any | None  # ClockState
    after: Any | None  # ClockState; None: the clock no longer applies
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
    out = []
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


# -- reading the database (worker threads) ---------------------------------------------------


def support_by_deployment(
    store: Any, at: int, deployment_id: str | None = None
) -> dict[str, VersionSupport]:
    """Deployment id -> whether its product version is supported at ``at`` (policy §12),
    from ``console.lifespan``; a version not in the support matrix is left out (unknown).

    One deployment (``deployment_id``) or all. Its own connection, and any trouble means
    unknown: the flag informs, it never blocks opening a case.
    """
    try:
        from console.lifespan import case_support, deployment_support

        with store.connection() as conn:
            if deployment_id is not None:
                found = {deployment_id: case_support(conn, deployment_id, at)}
            else:
                found = deployment_support(conn, at)
    except Exception:
        return {}
    return {d: VersionSupport(not past, end) for d, (end, past) in found.items() if end is not None}


def load_targets(store: Any, policy: Policy, at: int) -> list[Target]:
    """Every subscriber, each followed by its deployments, by subscriber name."""
    from sqlalchemy import select

    from console.records import deployment_facts, deployment_table, load_terms, subscriber_table

    with store.connection() as conn:
        terms = load_terms(conn, policy)
        subs = list(
            conn.execute(
                select(subscriber_table.c.id, subscriber_table.c.name).order_by(
                    subscriber_table.c.name, subscriber_table.c.id
                )
            )
        )
        deps = [
            deployment_facts(r)
            for r in conn.execute(select(deployment_table).order_by(deployment_table.c.id))
        ]
    support = support_by_deployment(store, at)
    by_sub: dict[str, list[DeploymentFacts]] = {}
    for d in deps:
        by_sub.setdefault(d.subscriber, []).append(d)
    out: list[Target] = []
    for sid, name in subs:
        if sid not in terms:
            continue
        now = terms.now(sid, at)
        out.append(Target(sid, name or sid, now, None))
        for d in by_sub.get(sid, []):
            out.append(Target(sid, name or sid, now, d, support.get(d.id)))
    return out


def load_reclass_case(store: Any, policy: Policy, case_id: str, at: int) -> ReclassCase | None:
    from sqlalchemy import select

    from console.records import (
        case_facts,
        linked_types,
        load_case_row,
        load_deployment,
        load_events,
        load_links,
        load_terms,
        subscriber_table,
    )

    with store.connection() as conn:
        row = load_case_row(conn, case_id)
        if row is None:
            return None
        terms = load_terms(conn, policy, [row.subscriber_id]).case(
            row.subscriber_id, row.reported_at
        )
        name = conn.execute(
            select(subscriber_table.c.name).where(subscriber_table.c.id == row.subscriber_id)
        ).scalar_one_or_none()
        dep = load_deployment(conn, row.deployment_id)
        events = sort_events(load_events(conn, [case_id])[case_id])
        links, _ = load_links(conn, case_id)
        ltypes = linked_types(conn, links)
        facts = case_facts(row)
        konneqt = bool(row.konneqt_initiated)
        version = int(row.version)
    support = support_by_deployment(store, at, dep.id).get(dep.id) if dep is not None else None
    target = Target(row.subscriber_id, name or row.subscriber_id, terms, dep, support)
    current = evaluate(facts, events, terms, at)
    return ReclassCase(facts, events, target, current, konneqt, ltypes, version)
