"""Which events a case's state allows (interchange.md's event kinds).

``check_history`` replays a case's whole history in time order and names the first event
that its state at that moment does not allow. Appending an event (even a back-dated one)
re-checks the history with the event in its place, so no sequence that could not have
happened is ever stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from console.rules.classify import criterion_problem
from console.rules.clocks import CaseFacts, Event
from console.rules.policy import Policy
from console.rules.timeutil import BadValue, format_instant, parse_duration
from console.rules.warteam import WarTeam
from console.rules.warteam import apply as apply_to_team

EVENT_KINDS = (
    "acknowledged",
    "awaiting_subscriber",
    "subscriber_responded",
    "workaround_provided",
    "fix_eta_agreed",
    "resolved",
    "closed",
    "reopened",
    "status_update",
    "reclassified",
    "level_changed",
    "time_logged",
    "suspended",
    "unsuspended",
    "escalated",
    "war_team_member",
    "awaiting_vendor",
    "vendor_responded",
    "plan_updated",
    "board_moved",
    "cr_status",
    "vulnerability_confirmed",
    "assigned",
)

# Options each kind takes (beyond at/kind/by).
EVENT_OPTIONS: dict[str, tuple[str, ...]] = {
    "status_update": ("note",),
    "awaiting_subscriber": ("note",),
    "reclassified": ("priority", "type", "reason", "criterion", "component"),
    "level_changed": ("level", "link"),
    "time_logged": ("hours", "exempt", "note"),
    "suspended": ("reason", "note"),
    "unsuspended": ("reason", "note"),
    "war_team_member": ("name", "role", "action"),
    "escalated": ("missed", "reason"),
    "awaiting_vendor": ("note",),
    "vendor_responded": ("note",),
    "plan_updated": ("part", "text"),
    "board_moved": ("column",),
    "cr_status": ("status", "note"),
    "vulnerability_confirmed": ("incident", "priority", "note"),
    "assigned": ("to",),
    "resolved": ("note",),
    "closed": ("note",),
    "fix_eta_agreed": ("eta", "note"),
}
PLAN_PARTS = ("assessment", "mitigation", "resources", "update_frequency")

# A Change Request's own status (policy §5). A new CR is ``proposed``; each ``cr_status``
# event moves it one step: proposed -> approved -> scheduled -> implemented -> closed, or
# ``rejected`` from proposed or approved. ``closed`` and ``rejected`` are final.
CR_PATH = ("proposed", "approved", "scheduled", "implemented", "closed")
CR_STATUSES = (*CR_PATH, "rejected")
CR_NEXT: dict[str, tuple[str, ...]] = {
    "proposed": ("approved", "rejected"),
    "approved": ("scheduled", "rejected"),
    "scheduled": ("implemented",),
    "implemented": ("closed",),
    "closed": (),
    "rejected": (),
}
#: How an escalation came about: the first target missed, or a lead's decision (policy §7).
ESCALATION_MISSED = ("workaround", "resolution", "manual")
#: The level whose ``level_changed`` must name the Update or documentation fix (policy §10).
FIX_LEVEL = "L4"


def link_problem(link: Any) -> str | None:
    """Why ``link`` is not a web address (None when it is): ``http``/``https`` only, with a
    host, and no spaces or control characters (a ``javascript:`` or ``file:`` link, or
    one that rewrites the terminal, is refused)."""
    from urllib.parse import urlsplit

    if not isinstance(link, str) or not link.strip():
        return "a link is a web address (http:// or https://)"
    if any(ch.isspace() or not ch.isprintable() for ch in link):
        return "a link holds no spaces or control characters"
    try:
        parts = urlsplit(link)
    except ValueError:
        return f"not a web address: {link!r}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"a link must start with http:// or https://, got {parts.scheme or 'none'}:"
    if not parts.hostname:
        return f"a link names a host: {link!r}"
    return None


def assignee_of(events: Sequence[Event], initial: str | None = None) -> str | None:
    """Who the case is assigned to after ``events`` (time order): the last ``assigned``
    event's ``to`` (absent or null: unassigned; policy §10)."""
    who = initial
    for e in events:
        if e.kind == "assigned":
            to = e.data.get("to")
            who = to.strip() if isinstance(to, str) and to.strip() else None
    return who


def cr_status_of(events: Sequence[Event]) -> str:
    """A change request's status after ``events`` (time order): the last ``cr_status``."""
    status = CR_STATUSES[0]
    for e in events:
        if e.kind == "cr_status" and e.data.get("status") in CR_STATUSES:
            status = e.data["status"]
    return status


def cr_next_steps(status: str) -> tuple[str, ...]:
    """The statuses a change request may move to from ``status`` (one step, policy §5)."""
    return CR_NEXT.get(status, ())


def component_in_force(case: CaseFacts, events: Sequence[Event]) -> str | None:
    """The managed third-party component the case names after ``events`` (time order).

    A reclassification to anything but a P0 incident drops it; one to P0 may name a
    component (else the one in force stays)."""
    component = case.component
    ctype, prio = case.type, case.priority
    for e in events:
        if e.kind != "reclassified":
            continue
        ctype = e.data.get("type") or ctype
        prio = (e.data.get("priority") or prio) if ctype == "incident" else None
        if ctype != "incident" or prio != "P0":
            component = None
        elif e.data.get("component"):
            component = e.data["component"]
    return component


def criterion_in_force(
    case: CaseFacts, case_criterion: str | None, events: Sequence[Event]
) -> str | None:
    """The guideline criterion (policy §9) that decided the case's classification now: the
    latest reclassification's, else the case's own (``case_criterion``). A
    reclassification that changes the type or priority without naming one leaves none (the
    old one decided another priority); one that changes only the component keeps it."""
    criterion = case_criterion
    ctype, prio = case.type, case.priority
    for e in events:
        if e.kind != "reclassified":
            continue
        new_type = e.data.get("type") or ctype
        new_prio = (e.data.get("priority") or prio) if new_type == "incident" else None
        if e.data.get("criterion"):
            criterion = e.data["criterion"]
        elif (new_type, new_prio) != (ctype, prio):
            criterion = None
        ctype, prio = new_type, new_prio
    return criterion


def _eta_problem(eta: Any, at: int) -> str | None:
    """Why ``eta`` is not an agreed fix ETA for an event at ``at`` (an ISO 8601 instant,
    not before the agreement)."""
    from console.rules.timeutil import parse_instant

    if not isinstance(eta, str):
        return f"the fix ETA is an instant (ISO 8601 with an offset), got {eta!r}"
    try:
        when = parse_instant(eta)
    except BadValue as exc:
        return f"the fix ETA: {exc}"
    if when < at:
        return f"the fix ETA {format_instant(when)} is before the agreement ({format_instant(at)})"
    return None


class IllegalEvent(ValueError):
    """An event the case's state does not allow. ``index`` is its place in the history."""

    def __init__(self, index: int, field: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.field = field
        self.message = message


@dataclass
class _State:
    status: str = "open"
    type: str = ""
    priority: str | None = None
    level: str = "L1"
    acknowledged: bool = False
    awaiting: bool = False
    workaround: bool = False
    fix_eta: bool = False
    suspended: bool = False
    escalated: bool = False
    team: WarTeam | None = None
    cr_status: str = CR_STATUSES[0]
    vulnerability_confirmed: bool = False
    component: str | None = None
    awaiting_vendor: bool = False
    assignee: str | None = None


ClassifyCheck = Callable[[str, str | None], list[tuple[str, str]]]


def _text(data: dict[str, Any], key: str) -> str:
    v = data.get(key)
    return v.strip() if isinstance(v, str) else ""


def check_history(
    case: CaseFacts, events: Sequence[Event], policy: Policy, classify_check: ClassifyCheck
) -> None:
    """Raise IllegalEvent for the first event the history does not allow.

    ``events`` must be in time order (``sort_events``). ``classify_check(type, priority)``
    applies eligibility (§5) to a reclassification.
    """
    st = _State(
        type=case.type,
        priority=case.priority,
        level=case.level,
        team=WarTeam(),
        component=case.component,
    )
    for i, e in enumerate(events):
        _check_one(i, e, st, case, policy, classify_check)
        if e.kind in _TEAM_KINDS:
            assert st.team is not None
            problem = apply_to_team(st.team, e)
            if problem:
                field = {"board_moved": "column", "plan_updated": "text"}.get(e.kind, "name")
                raise IllegalEvent(i, field, f"{e.kind}: {problem}")


_TEAM_KINDS = frozenset(
    {
        "escalated",
        "war_team_member",
        "plan_updated",
        "board_moved",
        "resolved",
        "closed",
        "reopened",
    }
)


def _check_one(
    i: int, e: Event, st: _State, case: CaseFacts, policy: Policy, classify_check: ClassifyCheck
) -> None:
    def refuse(field: str, msg: str) -> NoReturn:
        raise IllegalEvent(i, field, msg)

    k, d = e.kind, dict(e.data)
    if k not in EVENT_KINDS:
        refuse("kind", f"unknown event kind {k!r}")
    if e.at < case.reported_at:
        refuse(
            "at",
            f"{k} at {format_instant(e.at)} is before the case was reported ({format_instant(case.reported_at)})",
        )
    if st.status == "closed" and k != "reopened":
        refuse("kind", f"{k}: case {case.id} is closed (reopen it first)")
    resolved = st.status == "resolved"
    if k == "acknowledged":
        if st.acknowledged:
            refuse("kind", f"case {case.id} is already acknowledged")
        st.acknowledged = True
    elif k == "awaiting_subscriber":
        if resolved:
            refuse("kind", f"awaiting_subscriber: case {case.id} is resolved")
        if st.awaiting:
            refuse("kind", f"case {case.id} is already awaiting the subscriber")
        st.awaiting = True
    elif k == "subscriber_responded":
        if not st.awaiting:
            refuse("kind", f"subscriber_responded: case {case.id} is not awaiting the subscriber")
        st.awaiting = False
    elif k == "workaround_provided":
        if resolved:
            refuse("kind", f"workaround_provided: case {case.id} is resolved")
        if not st.acknowledged:
            refuse("kind", f"workaround_provided: case {case.id} is not acknowledged yet")
        if st.workaround:
            refuse("kind", f"a workaround was already provided on case {case.id}")
        st.workaround = True
    elif k == "fix_eta_agreed":
        if resolved:
            refuse("kind", f"fix_eta_agreed: case {case.id} is resolved")
        if not st.acknowledged:
            refuse("kind", f"fix_eta_agreed: case {case.id} is not acknowledged yet")
        if st.fix_eta:
            refuse("kind", f"a fix ETA was already agreed on case {case.id}")
        if "eta" in d:
            why = _eta_problem(d["eta"], e.at)
            if why:
                refuse("eta", why)
        st.fix_eta = True
    elif k == "assigned":
        to = d.get("to")
        if to is not None and (not isinstance(to, str) or not to.strip()):
            refuse("to", "a case is assigned to a login name (or to nobody)")
        if isinstance(to, str) and any(ch.isspace() or not ch.isprintable() for ch in to.strip()):
            refuse("to", f"a login name holds no spaces or control characters: {to!r}")
        to = to.strip() if isinstance(to, str) else None
        if to is None and st.assignee is None:
            refuse("to", f"case {case.id} is not assigned to anyone")
        if to is not None and to == st.assignee:
            refuse("to", f"case {case.id} is already assigned to {to}")
        st.assignee = to
    elif k == "resolved":
        if resolved:
            refuse("kind", f"case {case.id} is already resolved")
        st.status, st.awaiting, st.awaiting_vendor = "resolved", False, False
    elif k == "closed":
        st.status, st.awaiting, st.awaiting_vendor = "closed", False, False
    elif k == "awaiting_vendor":
        if not (st.type == "incident" and st.priority == "P0" and st.component):
            what = f"a {st.type} {st.priority or ''}".rstrip()
            if st.type == "incident" and st.priority == "P0":
                what = "a P0 incident that names no managed third-party component"
            refuse(
                "kind",
                f"awaiting_vendor: only a P0 incident on a managed third-party "
                f"component awaits a vendor; case {case.id} is {what}",
            )
        if resolved:
            refuse("kind", f"awaiting_vendor: case {case.id} is resolved")
        if st.awaiting_vendor:
            refuse("kind", f"case {case.id} is already awaiting the vendor of {st.component}")
        st.awaiting_vendor = True
    elif k == "vendor_responded":
        if not st.awaiting_vendor:
            refuse("kind", f"vendor_responded: case {case.id} is not awaiting a vendor")
        st.awaiting_vendor = False
    elif k == "reopened":
        if st.status == "open":
            refuse(
                "kind", f"reopened: case {case.id} is open (only a resolved or closed case reopens)"
            )
        st.status = "open"
    elif k == "status_update":
        if d.get("note") is not None and not isinstance(d.get("note"), str):
            refuse("note", "a status update's note is text")
    elif k == "reclassified":
        if resolved:
            refuse("kind", f"reclassified: case {case.id} is resolved (reopen it first)")
        if not _text(d, "reason"):
            refuse("reason", "a reclassification needs a reason")
        new_type = d.get("type") or st.type
        if new_type not in policy.case_types:
            refuse("type", f"unknown case type {new_type!r}")
        if new_type == "incident":
            new_prio = d.get("priority") or (st.priority if st.type == "incident" else None)
        else:
            if d.get("priority"):
                refuse("priority", f"a priority applies to incidents only, not to a {new_type}")
            new_prio = None
        p0 = new_type == "incident" and new_prio == "P0"
        named = d.get("component")
        if named is not None:
            if not isinstance(named, str) or not named.strip():
                refuse("component", "a component is named by its name")
            if not p0:
                refuse("component", "only a P0 incident names a managed third-party component")
        new_component = (named.strip() if named is not None else st.component) if p0 else None
        if new_type == st.type and new_prio == st.priority and new_component == st.component:
            refuse("priority", f"case {case.id} is already {new_type} {new_prio or ''}".rstrip())
        if st.awaiting_vendor and new_component != st.component:
            refuse(
                "kind",
                f"reclassified: case {case.id} is awaiting the vendor of "
                f"{st.component}; record vendor_responded first",
            )
        if d.get("criterion") is not None:
            why = criterion_problem(policy, d["criterion"], new_type, new_prio)
            if why:
                refuse("criterion", why)
        problems = classify_check(new_type, new_prio)
        if problems:
            field, msg = problems[0]
            refuse(field, msg)
        st.type, st.priority, st.component = new_type, new_prio, new_component
    elif k == "level_changed":
        lvl = d.get("level")
        if not isinstance(lvl, str) or lvl not in policy.levels:
            refuse("level", f"unknown level {lvl!r} (one of {', '.join(policy.levels)})")
        if lvl == st.level:
            refuse("level", f"case {case.id} is already at {lvl}")
        if lvl == FIX_LEVEL and not _text(d, "link"):
            refuse(
                "link",
                f"moving to {FIX_LEVEL} needs a link to the product update or "
                "documentation fix (--link)",
            )
        if "link" in d:
            why = link_problem(d["link"])
            if why:
                refuse("link", why)
        st.level = lvl
    elif k == "cr_status":
        if st.type != "change_request":
            refuse(
                "kind",
                f"cr_status: only change requests have a change-request status; "
                f"case {case.id} is a {st.type}",
            )
        new = d.get("status")
        if not isinstance(new, str) or new not in CR_STATUSES:
            refuse(
                "status",
                f"change-request status must be one of {', '.join(CR_STATUSES)}, got {new!r}",
            )
        allowed = cr_next_steps(st.cr_status)
        if not allowed:
            refuse("status", f"change request {case.id} is {st.cr_status} (final)")
        if new not in allowed:
            refuse(
                "status",
                f"change request {case.id} is {st.cr_status}: next is "
                f"{' or '.join(allowed)} (one step at a time: "
                f"{' -> '.join(CR_PATH)}, or rejected from proposed/approved)",
            )
        st.cr_status = new
    elif k == "vulnerability_confirmed":
        if st.type != "security_report":
            refuse(
                "kind",
                f"vulnerability_confirmed: only a security report analysis confirms a "
                f"vulnerability; case {case.id} is a {st.type}",
            )
        if st.vulnerability_confirmed:
            refuse("kind", f"case {case.id} already confirmed a vulnerability")
        if not _text(d, "incident"):
            refuse("incident", "vulnerability_confirmed names the incident it opened")
        st.vulnerability_confirmed = True
    elif k == "time_logged":
        hours = d.get("hours")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 7:
            refuse("hours", f"hours must be a number above 0 (at most 168), got {hours!r}")
        exempt = d.get("exempt", False)
        if not isinstance(exempt, bool):
            refuse("exempt", f"exempt is true or false, got {exempt!r}")
        if exempt and not _text(d, "note"):
            refuse("note", "an exempt time entry needs a note saying which fix it was")
    elif k == "suspended":
        reason = d.get("reason")
        if reason not in policy.suspension_reasons:
            refuse(
                "reason",
                f"suspension reason {reason!r} is not one of {', '.join(policy.suspension_reasons)}",
            )
        if st.suspended:
            refuse("kind", f"the SLA of case {case.id} is already suspended")
        st.suspended = True
    elif k == "unsuspended":
        if not st.suspended:
            refuse("kind", f"the SLA of case {case.id} is not suspended")
        st.suspended = False
    elif k == "escalated":
        if st.type != "incident":
            refuse("kind", f"only incidents are escalated; case {case.id} is a {st.type}")
        if st.escalated:
            refuse("kind", f"case {case.id} is already escalated")
        missed = d.get("missed")
        # (A stored escalation without ``missed`` predates the field's check: left alone.)
        if missed is not None and missed not in ESCALATION_MISSED:
            refuse("missed", f"missed is {', '.join(ESCALATION_MISSED)}, got {missed!r}")
        if missed == "manual" and not _text(d, "reason"):
            refuse("reason", "a manual escalation (no target missed) needs a reason (--reason)")
        st.escalated = True
    elif k in ("war_team_member", "plan_updated", "board_moved"):
        if not st.escalated:
            refuse("kind", f"{k}: case {case.id} has no war team (not escalated)")
        if k == "war_team_member":
            if not _text(d, "name"):
                refuse("name", "a war-team member needs a name")
            action = d.get("action", "join")
            if action not in ("join", "leave"):
                refuse("action", f"action is join or leave, got {action!r}")
            role = d.get("role")
            if (action == "join" or role is not None) and role not in policy.war_team_roles:
                refuse(
                    "role", f"role must be one of {', '.join(policy.war_team_roles)}, got {role!r}"
                )
        elif k == "plan_updated":
            if d.get("part") not in PLAN_PARTS:
                refuse(
                    "part",
                    f"plan part must be one of {', '.join(PLAN_PARTS)}, got {d.get('part')!r}",
                )
            if not _text(d, "text"):
                refuse("text", "a plan part needs text")
            if d["part"] == "update_frequency":
                try:
                    parse_duration(d["text"], 8)
                except BadValue as exc:
                    refuse("text", str(exc))
        elif d.get("column") not in policy.board_columns:
            refuse(
                "column",
                f"board column must be one of {', '.join(policy.board_columns)}, got {d.get('column')!r}",
            )
