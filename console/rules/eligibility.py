"""Eligibility (policy §5): which case type and priority a subscription and deployment allow.

Each check returns problems as ``(field, message)``; an empty list means allowed. The same
function serves import, ``event reclassified``, the wizard and ``classify``.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.rules.policy import PlanPolicy, Policy


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    id: str
    subscriber: str
    environment: str  # production | pre-production
    managed: bool
    product: str = ""
    version: str = ""
    # The managed third-party components Konneqt administers inside it (policy §5).
    components: tuple[str, ...] = ()


ENVIRONMENTS = ("production", "pre-production")


def component_problem(deployment: DeploymentFacts | None, component: str) -> str | None:
    """Why a case on ``deployment`` cannot name ``component`` (None: it can)."""
    if deployment is None:
        return "a managed third-party component is named on a deployment"
    if component not in deployment.components:
        listed = ", ".join(deployment.components) or "none"
        return (
            f"{deployment.id} lists no managed third-party component {component!r} "
            f"(it lists: {listed})"
        )
    return None


def check_classification(
    policy: Policy,
    plan: PlanPolicy,
    subscriber: str,
    deployment: DeploymentFacts | None,
    ctype: str,
    priority: str | None,
    *,
    konneqt_initiated: bool = False,
    linked_types: tuple[str, ...] = (),
    component: str | None = None,
) -> list[tuple[str, str]]:
    """``component``: the managed third-party component a new case names, if any."""
    problems: list[tuple[str, str]] = []
    if ctype not in policy.case_types:
        return [("type", f"unknown case type {ctype!r} (one of {', '.join(policy.case_types)})")]
    if deployment is not None and deployment.subscriber != subscriber:
        problems.append(
            (
                "deployment",
                f"deployment {deployment.id} belongs to {deployment.subscriber}, not {subscriber}",
            )
        )
    if ctype == "incident":
        if priority is None:
            problems.append(("priority", "an incident needs a priority (P0-P3)"))
        elif priority not in policy.priorities:
            problems.append(
                (
                    "priority",
                    f"unknown priority {priority!r} (one of {', '.join(policy.priorities)})",
                )
            )
        if deployment is None:
            problems.append(("deployment", "an incident names a deployment"))
        if priority == "P0":
            if not plan.p0_allowed:
                problems.append(("priority", f"P0 is not available on the {plan.name} plan"))
            elif deployment is not None and not deployment.managed:
                problems.append(
                    ("priority", f"P0 needs a managed deployment ({deployment.id} is not managed)")
                )
        if deployment is not None and deployment.environment not in plan.incident_environments:
            allowed = " or ".join(plan.incident_environments)
            problems.append(
                (
                    "deployment",
                    f"{plan.name} plan: incidents only on {allowed} deployments "
                    f"({deployment.id} is {deployment.environment})",
                )
            )
    elif priority is not None:
        problems.append(("priority", f"a priority applies to incidents only, not to a {ctype}"))
    if ctype == "service_request" and (deployment is None or not deployment.managed):
        problems.append(("deployment", "a service request needs a managed deployment"))
    if ctype == "security_report" and deployment is None:
        problems.append(
            (
                "deployment",
                "a security report analysis names the production or "
                "pre-production deployment whose scan it analyses",
            )
        )
    if ctype == "change_request":
        if deployment is None:
            problems.append(
                (
                    "deployment",
                    "a change request tracks a change to a managed deployment: it names one",
                )
            )
        elif not deployment.managed:
            problems.append(
                (
                    "deployment",
                    f"a change request needs a managed deployment ({deployment.id} is not managed)",
                )
            )
        if not konneqt_initiated and "service_request" not in linked_types:
            problems.append(
                (
                    "links",
                    "a change request is linked to a service request or marked konneqt_initiated",
                )
            )
    if component is not None:
        if ctype != "incident" or priority != "P0":
            problems.append(
                ("component", "only a P0 incident names a managed third-party component")
            )
        elif deployment is not None:
            why = component_problem(deployment, component)
            if why:
                problems.append(("component", why))
    return problems
