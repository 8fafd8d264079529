"""Dated changes of a subscription or a deployment (policy §14), as plain data.

A change is ``{fact: value}`` in the interchange file's own spelling (dates as
``YYYY-MM-DD``, instants as ISO 8601 with an offset), in force from its effective instant.
Here: which facts may change, the check of a change's values (one line per problem,
naming the fact), and the decoding into the engine's types (``SubscriptionFacts``,
``DeploymentFacts``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from console.rules.calendar import check_holiday_spec
from console.rules.eligibility import ENVIRONMENTS, DeploymentFacts
from console.rules.policy import Policy, check_target_key
from console.rules.timeutil import BadValue, parse_date, parse_duration, parse_instant, zone

SUBSCRIBER_FACTS = (
    "plan",
    "coverage",
    "timezone",
    "holidays",
    "targets",
    "query_hour_limit",
    "term_start",
    "term_end",
    "terminated_at",
)
DEPLOYMENT_FACTS = ("environment", "managed", "product", "version", "components")
COVERAGES = ("business", "24x7")


def subscriber_problems(facts: Mapping[str, Any], policy: Policy) -> list[tuple[str, str]]:
    """(fact, why) for each value a subscriber change may not hold."""
    out: list[tuple[str, str]] = []
    if not facts:
        return [("facts", "a change names at least one fact")]
    for key, value in facts.items():
        try:
            if key not in SUBSCRIBER_FACTS:
                raise BadValue(f"not a subscriber fact (one of {', '.join(SUBSCRIBER_FACTS)})")
            _check_subscriber_value(key, value, policy)
        except BadValue as exc:
            out.append((key, str(exc)))
    start, end = facts.get("term_start"), facts.get("term_end")
    if not out and start and end and parse_date(end) < parse_date(start):
        out.append(("term_end", f"the term ends ({end}) before it starts ({start})"))
    return out


def _check_subscriber_value(key: str, value: Any, policy: Policy) -> None:
    if key == "plan":
        if value not in policy.plans:
            raise BadValue(f"unknown plan {value!r} (one of {', '.join(policy.plans)})")
    elif key == "coverage":
        if value not in COVERAGES:
            raise BadValue(f"coverage is business or 24x7, not {value!r}")
    elif key == "timezone":
        if value is not None:
            if not isinstance(value, str):
                raise BadValue(f"a time zone name, not {value!r}")
            zone(value)
    elif key == "holidays":
        if isinstance(value, list):
            for d in value:
                parse_date(d)
        elif value is not None:
            if not isinstance(value, str):
                raise BadValue("a country code like 'US' or 'US-NY', or a list of dates")
            check_holiday_spec(value)
    elif key == "targets":
        if not isinstance(value, dict):
            raise BadValue("the order form's targets are a table of <type>.<priority|any>.<clock>")
        for k, v in value.items():
            check_target_key(k, policy)
            if v is not None:
                if not isinstance(v, str):
                    raise BadValue(f"target {k!r}: a duration string (30m, 4h, 1bd) or null")
                parse_duration(v, 8)
    elif key == "query_hour_limit":
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise BadValue(f"a number of hours from 0, not {value!r}")
    elif key in ("term_start", "term_end"):
        parse_date(value)
    elif key == "terminated_at" and value is not None:
        parse_instant(value)


def deployment_problems(facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not facts:
        return [("facts", "a change names at least one fact")]
    for key, value in facts.items():
        if key not in DEPLOYMENT_FACTS:
            out.append((key, f"not a deployment fact (one of {', '.join(DEPLOYMENT_FACTS)})"))
        elif key == "environment" and value not in ENVIRONMENTS:
            out.append((key, f"one of {', '.join(ENVIRONMENTS)}, not {value!r}"))
        elif key == "managed" and not isinstance(value, bool):
            out.append((key, f"true or false, not {value!r}"))
        elif key in ("product", "version") and (not isinstance(value, str) or not value.strip()):
            out.append((key, "a name is needed"))
        elif key == "components":
            why = _components_problem(value)
            if why:
                out.append((key, why))
    return out


def _components_problem(value: Any) -> str | None:
    """Managed third-party components (policy §5): distinct names, no commas."""
    if not isinstance(value, list | tuple):
        return "a list of component names"
    seen: set[str] = set()
    for v in value:
        if not isinstance(v, str) or not v.strip():
            return f"a component is a non-empty name, got {v!r}"
        name = v.strip()
        if "," in name or not name.isprintable():
            return f"a component name has no commas or control characters: {name!r}"
        if name in seen:
            return f"component {name!r} is listed twice"
        seen.add(name)
    return None


def decode_subscriber(facts: Mapping[str, Any]) -> dict[str, Any]:
    """A stored change's values as ``SubscriptionFacts`` holds them."""
    out: dict[str, Any] = {}
    for key, value in facts.items():
        if key in ("term_start", "term_end"):
            out[key] = parse_date(value)
        elif key == "terminated_at":
            out[key] = None if value is None else parse_instant(value)
        elif key == "holidays":
            out[key] = tuple(value) if isinstance(value, list) else value
        elif key == "targets":
            out[key] = dict(value)
        elif key in SUBSCRIBER_FACTS:
            out[key] = value
    return out


def deployment_at(
    base: DeploymentFacts, changes: Sequence[tuple[int, Mapping[str, Any]]], ts: int | None
) -> DeploymentFacts:
    """A deployment's facts in force at ``ts`` (None: as last recorded)."""
    out = base
    for effective, change in sorted(changes, key=lambda c: c[0]):
        if ts is not None and effective > ts:
            break
        facts: dict[str, Any] = {
            k: (tuple(v) if k == "components" else v)
            for k, v in change.items()
            if k in DEPLOYMENT_FACTS
        }
        out = replace(out, **facts)
    return out
