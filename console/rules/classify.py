"""The priority-classification wizard's rules (policy §9), without a screen.

Criteria are asked most severe first and the first "yes" decides. A P0 criterion counts as
P0 only on a managed deployment on a plan that allows P0; otherwise it yields P1 and a
note says why. No "yes" at all gives P3 with a note. Eligibility (§5) is then checked on
the result, so the caller learns both the priority and whether it may be recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.rules.eligibility import DeploymentFacts, check_classification
from console.rules.policy import Criterion, PlanPolicy, Policy


@dataclass(frozen=True)
class Classification:
    type: str
    priority: str | None
    decided_by: str | None
    notes: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.problems


def p0_applies(plan: PlanPolicy, deployment: DeploymentFacts | None) -> bool:
    return plan.p0_allowed and deployment is not None and deployment.managed


def questions(
    policy: Policy, plan: PlanPolicy, deployment: DeploymentFacts | None
) -> list[Criterion]:
    """The criteria the wizard asks, in order: P0 ones only where P0 can apply."""
    return [c for c in policy.criteria if c.priority != "P0" or p0_applies(plan, deployment)]


def unknown_answers(policy: Policy, answers: Mapping[str, bool]) -> list[str]:
    keys = {c.key for c in policy.criteria}
    return [k for k in answers if k not in keys]


def classify(
    policy: Policy,
    plan: PlanPolicy,
    subscriber: str,
    deployment: DeploymentFacts | None,
    ctype: str,
    answers: Mapping[str, bool],
) -> Classification:
    if ctype != "incident":
        problems = check_classification(policy, plan, subscriber, deployment, ctype, None)
        return Classification(ctype, None, None, [], problems)
    notes: list[str] = []
    priority, decided = "P3", None
    for c in policy.criteria:
        if not answers.get(c.key):
            continue
        decided, priority = c.key, c.priority
        if c.priority == "P0" and not p0_applies(plan, deployment):
            priority = "P1"
            if not plan.p0_allowed:
                notes.append(
                    f"P0 criterion answered on the {plan.name} plan, which has no P0: classified P1"
                )
            else:
                notes.append("P0 criterion answered on a non-managed deployment: classified P1")
        break
    if decided is None:
        notes.append("no guideline matched: classified P3")
    problems = check_classification(policy, plan, subscriber, deployment, ctype, priority)
    return Classification(ctype, priority, decided, notes, problems)


def criterion_problem(policy: Policy, key: object, ctype: str, priority: str | None) -> str | None:
    """Why ``key`` cannot be the guideline criterion recorded for a case classified
    ``ctype``/``priority`` (policy §5, §9), or None.

    It must be one of §9's keys, on an incident, and decide that priority: a criterion's
    own priority, or P1 for a P0 criterion where P0 does not apply (§9's rule).
    """
    crit = policy.criterion(key) if isinstance(key, str) else None
    if crit is None:
        return f"unknown guideline criterion {key!r} (the §9 keys: see `support-console classify --list`)"
    if ctype != "incident":
        return f"a guideline criterion decides an incident's priority; a {ctype} has none"
    if priority == crit.priority or (crit.priority == "P0" and priority == "P1"):
        return None
    return f"criterion {crit.key} decides {crit.priority}, not {priority}"
