"""The war team of an escalated incident (policy §7): members, plan, cadence, column.

Everything here derives from the case's events (``escalated``, ``war_team_member``,
``plan_updated``, ``board_moved``, ``status_update``, ``resolved``/``closed``): membership
keeps a role history (joined/left, as Netflix Dispatch does), each plan part keeps every
version, and the status-update cadence is counted on the subscription's coverage calendar.
A team that was formed (one of each role) or whose card is past ``escalated``, and now
lacks a role, is ``incomplete`` (policy §7): flagged wherever shown, and its card does not
move on until the role is filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from console.rules.calendar import CountingCalendar
from console.rules.clocks import Event
from console.rules.timeutil import BadValue, parse_duration

COLUMNS = ("escalated", "team_formed", "plan_agreed", "mitigating", "resolved")
ROLES = ("engineer", "executive", "subscriber_rep")
PLAN_TEXT_PARTS = ("assessment", "mitigation", "resources")


@dataclass
class Membership:
    name: str
    role: str
    joined_at: int
    left_at: int | None = None
    by: str | None = None


@dataclass
class PlanVersion:
    part: str
    text: str
    at: int
    by: str | None


@dataclass
class UpdateLogEntry:
    at: int
    by: str | None
    note: str
    late: bool
    gap: int  # counted seconds since the previous update (or the escalation)


@dataclass
class WarTeam:
    escalated_at: int | None = None
    column: str = "escalated"
    members: list[Membership] = field(default_factory=list)
    plan: dict[str, list[PlanVersion]] = field(default_factory=dict)
    update_frequency: int = 4 * 3600
    updates: list[UpdateLogEntry] = field(default_factory=list)
    resolved: bool = False
    last_update_at: int | None = None
    # Every column the card was moved to, in order: a reopen replays these moves against
    # the team as it is now and stops at the first whose conditions no longer hold.
    moves: list[str] = field(default_factory=list)
    # Has the team ever had one of each role (policy §7: "counts as formed")?
    formed: bool = False
    escalation_reason: str | None = None  # a lead's manual escalation says why
    incomplete_since: int | None = None  # when the team last fell below one of each role

    def active(self) -> list[Membership]:
        return [m for m in self.members if m.left_at is None]

    def missing_roles(self) -> list[str]:
        have = {m.role for m in self.active()}
        return [r for r in ROLES if r not in have]

    @property
    def incomplete(self) -> bool:
        """The team lacks a role it must have (policy §7): it was formed once, or its card
        is past ``escalated``, and now misses an engineer, an executive or a subscriber
        representative. A team still being formed, or a resolved incident's, is not flagged."""
        if self.resolved or self.escalated_at is None or not self.missing_roles():
            return False
        return self.formed or self.column != COLUMNS[0]

    def plan_text(self, part: str) -> str | None:
        versions = self.plan.get(part)
        return versions[-1].text if versions else None

    def missing_plan_parts(self) -> list[str]:
        return [p for p in PLAN_TEXT_PARTS if not self.plan_text(p)]


def frequency_of(text: str) -> int:
    seconds, _ = parse_duration(text, 8)
    if seconds <= 0:
        raise BadValue("the update frequency must be more than zero")
    return seconds


def move_problem(team: WarTeam, column: str) -> str | None:
    """Why the card may not move to ``column`` now (None: it may)."""
    if column not in COLUMNS:
        return f"unknown board column {column!r} (one of {', '.join(COLUMNS)})"
    if team.resolved:
        return "the incident is resolved: its card stays in resolved"
    if column == "resolved":
        return "a card reaches resolved when the incident is resolved, not by a move"
    here, there = COLUMNS.index(team.column), COLUMNS.index(column)
    if there == here:
        return f"the card is already in {column}"
    if there > here + 1:
        return f"move one column at a time: next is {COLUMNS[here + 1]}"
    if there > here:  # a step forward has conditions
        if column == "team_formed" and team.missing_roles():
            return (
                "team_formed needs at least one engineer, one executive and one subscriber "
                f"representative; missing: {', '.join(team.missing_roles())}"
            )
        if team.missing_roles():
            return (
                f"the war team is incomplete (missing: {', '.join(team.missing_roles())}): "
                f"it cannot move on to {column}"
            )
        if column == "plan_agreed" and team.missing_plan_parts():
            return f"plan_agreed needs the plan's {', '.join(team.missing_plan_parts())}"
    return None


def apply(team: WarTeam, e: Event) -> str | None:
    """Apply one event; return why it is not allowed (nothing applied) or None."""
    d = e.data
    if e.kind == "escalated":
        team.escalated_at = e.at
        team.last_update_at = e.at
        reason = d.get("reason")
        team.escalation_reason = reason if isinstance(reason, str) and reason.strip() else None
    elif e.kind == "war_team_member":
        name, role = str(d.get("name", "")).strip(), d.get("role")
        action = d.get("action", "join")
        current = [m for m in team.active() if m.name == name]
        if action == "leave":
            leaving = [m for m in current if role is None or m.role == role]
            if not leaving:
                return f"{name} is not on the war team" + (
                    f" as {role}" if role and current else ""
                )
            for m in leaving:
                m.left_at = e.at
            if team.incomplete and team.incomplete_since is None:
                team.incomplete_since = e.at
        elif action == "join":
            if any(m.role == role for m in current):
                return f"{name} is already on the war team as {role}"
            for m in current:  # a new role ends the old one: the history keeps both
                m.left_at = e.at
            team.members.append(Membership(name, str(role), e.at, None, e.by))
            if not team.missing_roles():
                team.formed = True
                team.incomplete_since = None
            elif team.incomplete and team.incomplete_since is None:  # a role change
                team.incomplete_since = e.at
        else:
            return f"war_team_member action is join or leave, not {action!r}"
    elif e.kind == "plan_updated":
        part, text = d.get("part"), str(d.get("text", "")).strip()
        if part == "update_frequency":
            try:
                team.update_frequency = frequency_of(text)
            except BadValue as exc:
                return str(exc)
        team.plan.setdefault(str(part), []).append(PlanVersion(str(part), text, e.at, e.by))
    elif e.kind == "board_moved":
        problem = move_problem(team, str(d.get("column")))
        if problem:
            return problem
        team.column = str(d["column"])
        team.moves.append(team.column)
    elif e.kind in ("resolved", "closed"):
        team.resolved = True
        team.column = "resolved"
    elif e.kind == "reopened":
        team.resolved = False
        if team.escalated_at is not None:
            team.column = replay_moves(team)
    return None


def replay_moves(team: WarTeam) -> str:
    """The column a reopened incident's card returns to: its recorded moves replayed from
    ``escalated``, each re-checked against the team and plan as they are now, up to the
    first that would be refused (policy §7: a card never sits where the board's own rules
    would not let it move)."""
    team.column = COLUMNS[0]
    for column in team.moves:
        if move_problem(team, column) is not None:
            break
        team.column = column
    return team.column


def war_team(
    events: Sequence[Event], calendar: CountingCalendar, default_frequency: int
) -> WarTeam:
    """The team as of the end of ``events`` (sorted, already cut at the instant asked)."""
    team = WarTeam(update_frequency=default_frequency)
    for e in events:
        if e.kind == "status_update" and team.escalated_at is not None and not team.resolved:
            prev = team.last_update_at if team.last_update_at is not None else team.escalated_at
            gap = calendar.elapsed(prev, e.at)
            team.updates.append(
                UpdateLogEntry(
                    e.at, e.by, str(e.data.get("note") or ""), gap > team.update_frequency, gap
                )
            )
            team.last_update_at = e.at
            continue
        apply(team, e)
    return team


def next_update_due(team: WarTeam, calendar: CountingCalendar) -> int | None:
    if team.escalated_at is None or team.resolved:
        return None
    base = team.last_update_at if team.last_update_at is not None else team.escalated_at
    return calendar.add(base, team.update_frequency)


def update_overdue(team: WarTeam, calendar: CountingCalendar, at: int) -> bool:
    """Overdue once more counted time than the team's frequency has passed since the last
    update (or the escalation): strictly greater, as for every clock."""
    if team.escalated_at is None or team.resolved:
        return False
    base = team.last_update_at if team.last_update_at is not None else team.escalated_at
    return calendar.elapsed(base, at) > team.update_frequency
