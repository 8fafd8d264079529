"""Clock states of a case: a pure function of (case, events, terms, at) (policy §3, §4, §6).

One sweep walks the case's events and the subscriber's suspension boundaries in time
order. Between two consecutive change points each running clock adds the counted time of
its calendar; nothing is kept as a counter outside this function, so any past instant can
be evaluated exactly. Reclassification is handled by evaluating the whole history with the
targets in force at ``at`` (they apply "as if from the start").

Pauses: awaiting the subscriber pauses every clock but the response one (§3); awaiting a
managed third-party component's vendor (``awaiting_vendor`` ... ``vendor_responded``, a P0
naming the component only, which ``lifecycle`` enforces) pauses the resolution clock alone
(§5). ``paused_for`` says which holds a paused clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from console.rules.policy import CLOCKS, ClockSpec, Terms, TermsAt

PRIORITY_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
NO_PRIORITY_RANK = 4

PENDING, RUNNING, PAUSED, STOPPED, SUSPENDED = (
    "pending",
    "running",
    "paused",
    "stopped",
    "suspended",
)
# The only clock a vendor's awaited assistance pauses (policy §5).
VENDOR_CLOCK = "resolution"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The fixed facts of a case, as reported (before any reclassification)."""

    id: str
    subscriber: str
    type: str
    priority: str | None
    reported_at: int
    aware_at: int | None = None
    level: str = "L1"
    title: str = ""
    deployment: str | None = None
    recorded_at: int | None = None  # when the store took the case (policy §14)
    # The managed third-party component a P0 incident names (policy §5), as reported.
    component: str | None = None

    @property
    def starts_at(self) -> int:
        """The response clock starts at the earlier of reported and aware (policy §3)."""
        if self.aware_at is not None and self.aware_at < self.reported_at:
            return self.aware_at
        return self.reported_at


@dataclass(frozen=True, slots=True)
class Event:
    """One fact in a case's history: ``at`` when it happened, ``recorded_at`` when the
    store took it (policy §14; None for an event not stored yet), ``seq`` its record order."""

    at: int
    kind: str
    by: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0
    recorded_at: int | None = None


class ClockState(NamedTuple):
    """One clock at one instant (a tuple: built 100k times per queue refresh)."""

    state: str
    target: int | None
    elapsed: int
    remaining: int | None
    due: int | None
    breached: bool


@dataclass(slots=True)
class CaseEval:
    """A case as of one instant: current classification, status and clocks."""

    at: int
    type: str
    priority: str | None
    level: str
    status: str  # open | resolved | closed
    acknowledged: bool
    awaiting: bool
    suspended: bool
    clocks: dict[str, ClockState]
    next_boundary: int | None  # next subscriber-suspension start/end after `at`, if any
    # clock -> the instant its target was missed, for breached clocks (evaluate only)
    missed_at: dict[str, int] = field(default_factory=dict)
    # A P0 on a managed third-party component awaits the component's vendor (policy §5):
    # its resolution clock is paused (``awaiting_vendor`` ... ``vendor_responded``).
    awaiting_vendor: bool = False

    @property
    def listed(self) -> bool:
        return self.status != "closed"


def sort_events(events: Sequence[Event]) -> list[Event]:
    """Time order; equal times keep the order they were recorded in (policy §3)."""
    return sorted(events, key=lambda e: (e.at, e.seq))


def classification(case: CaseFacts, events: Sequence[Event]) -> tuple[str, str | None, str, str]:
    """(type, priority, level, status) after the given (sorted, already-filtered) events."""
    ctype, prio, level, status = case.type, case.priority, case.level, "open"
    for e in events:
        k = e.kind
        if k == "reclassified":
            new_type = e.data.get("type") or ctype
            if new_type != "incident":
                prio = None
            elif e.data.get("priority"):
                prio = e.data["priority"]
            ctype = new_type
        elif k == "level_changed":
            level = e.data.get("level", level)
        elif k == "resolved":
            status = "resolved"
        elif k == "closed":
            status = "closed"
        elif k == "reopened":
            status = "open"
    return ctype, prio, level, status


def evaluate(case: CaseFacts, events: Sequence[Event], terms: Terms | TermsAt, at: int) -> CaseEval:
    """All clocks of ``case`` at instant ``at``. ``events`` must be in time order. ``terms``:
    a subscription's terms over time, or those of one instant (the wizard's new case)."""
    evs = [e for e in events if e.at <= at]
    ctype, prio, level, status = classification(case, evs)
    specs: dict[str, ClockSpec] = terms.specs(ctype, prio, at)

    start = case.starts_at
    # Per clock: started, active (counting unless paused/suspended), stopped by resolve/close.
    started = {c: False for c in CLOCKS}
    active = {c: False for c in CLOCKS}
    by_close = {c: False for c in CLOCKS}
    counter = {c: 0 for c in CLOCKS}
    cross: dict[str, int | None] = {c: None for c in CLOCKS}
    started["response"] = active["response"] = True
    awaiting = False
    vendor = False
    acknowledged = False
    case_susp = False
    sub_susp = 0

    # Merge events with subscriber-wide suspension boundaries (kind None = boundary).
    points: list[tuple[int, int, int, Event | None]] = []
    next_boundary: int | None = None
    for s_from, s_until in terms.suspension_intervals:
        for t, delta in ((s_from, 1), (s_until, -1)):
            if t is None:
                continue
            if t <= at:
                points.append((t, 0, delta, None))
            elif next_boundary is None or t < next_boundary:
                next_boundary = t
    # A dated change of the subscription's terms (policy §14) changes targets and clocks:
    # the summary cannot be carried past it either.
    change = terms.next_change_after(at)
    if change is not None and (next_boundary is None or change < next_boundary):
        next_boundary = change
    if points:
        points.sort(key=lambda p: (p[0], p[1]))
        merged: list[tuple[int, int, int, Event | None]] = []
        i = 0
        for event in evs:
            while i < len(points) and points[i][0] <= event.at:
                merged.append(points[i])
                i += 1
            merged.append((event.at, 1, 0, event))
        merged.extend(points[i:])
    else:
        merged = [(e.at, 1, 0, e) for e in evs]

    spec_items = list(specs.items())

    def accumulate(a: int, b: int) -> None:
        if case_susp or sub_susp > 0:
            return
        seen: dict[int, int] = {}
        for c, spec in spec_items:
            if not active[c] or (awaiting and c != "response") or (vendor and c == VENDOR_CLOCK):
                continue
            cal = spec.calendar
            key = id(cal)
            d = seen.get(key)
            if d is None:
                d = seen[key] = cal.elapsed(a, b)
            if not d:
                continue
            before = counter[c]
            counter[c] = before + d
            tgt = spec.target
            if tgt is not None and cross[c] is None:
                if before < tgt <= before + d:
                    cross[c] = cal.add(a, tgt - before)
                elif before == tgt:  # at its target since a stop (below): missed on resuming
                    cross[c] = cal.add(a, 1) - 1  # the first counted instant from ``a``

    t_prev = start
    for t, _order, delta, e in merged:
        if t > t_prev:
            accumulate(t_prev, t)
            t_prev = t
        if e is None:
            sub_susp += delta
            continue
        k = e.kind
        if k == "acknowledged":
            if not acknowledged:
                acknowledged = True
                # The response clock stops here for good, even if a resolve/close had
                # already stopped it: a later reopen must not restart it.
                active["response"] = False
                by_close["response"] = False
                for c in ("workaround", "resolution", "update"):
                    if not started[c]:
                        started[c] = True
                        active[c] = not by_close[c]
        elif k == "awaiting_subscriber":
            awaiting = True
        elif k == "subscriber_responded":
            awaiting = False
        elif k == "awaiting_vendor":
            vendor = True
        elif k == "vendor_responded":
            vendor = False
        elif k == "workaround_provided":
            active["workaround"] = False
        elif k == "fix_eta_agreed":
            active["resolution"] = False
        elif k == "status_update":
            if active["update"]:
                counter["update"] = 0
                cross["update"] = None
        elif k in ("resolved", "closed"):
            awaiting = vendor = False
            for c in CLOCKS:
                if active[c] or not started[c]:
                    active[c] = False
                    by_close[c] = True
                    # Stopped the instant it reached its target: met, not missed (a breach
                    # is elapsed > target). Reopened, it is missed when counting resumes.
                    spec = specs.get(c)
                    if spec is not None and cross[c] == t and counter[c] == spec.target:
                        cross[c] = None
        elif k == "reopened":
            for c in CLOCKS:
                if by_close[c]:
                    by_close[c] = False
                    active[c] = started[c]
        elif k == "suspended":
            case_susp = True
        elif k == "unsuspended":
            case_susp = False
    if at > t_prev:
        accumulate(t_prev, at)

    suspended = case_susp or sub_susp > 0
    clocks: dict[str, ClockState] = {}
    for c, spec in spec_items:
        tgt = spec.target
        if by_close[c] or (started[c] and not active[c]):
            state = STOPPED
        elif not started[c]:
            state = PENDING
        elif suspended:
            state = SUSPENDED
        elif (awaiting and c != "response") or (vendor and c == VENDOR_CLOCK):
            state = PAUSED
        else:
            state = RUNNING
        elapsed = counter[c]
        remaining = None if tgt is None else tgt - elapsed
        breached = tgt is not None and elapsed > tgt
        due = None
        if state == RUNNING and tgt is not None:
            due = cross[c] if cross[c] is not None else spec.calendar.add(at, tgt - elapsed)
        clocks[c] = ClockState(state, tgt, elapsed, remaining, due, breached)
    missed = {c: due for c, st in clocks.items() if st.breached and (due := cross[c]) is not None}
    return CaseEval(
        at=at,
        type=ctype,
        priority=prio,
        level=level,
        status=status,
        acknowledged=acknowledged,
        awaiting=awaiting,
        suspended=suspended,
        clocks=clocks,
        next_boundary=next_boundary,
        missed_at=missed,
        awaiting_vendor=vendor,
    )


def advance(snapshot: CaseEval, terms: Terms | TermsAt, at: int) -> CaseEval:
    """Carry an evaluation forward to a later ``at`` with no event in between.

    Valid while ``at < snapshot.next_boundary``: only running clocks move, each by the
    counted time of its calendar. This is how the queue ticks 100k cases cheaply.
    """
    if at == snapshot.at:
        return snapshot
    specs = terms.specs(snapshot.type, snapshot.priority, at)
    clocks: dict[str, ClockState] = {}
    for c, st in snapshot.clocks.items():
        if st.state != RUNNING:
            clocks[c] = st
            continue
        spec = specs[c]
        elapsed = st.elapsed + spec.calendar.elapsed(snapshot.at, at)
        tgt = st.target
        remaining = None if tgt is None else tgt - elapsed
        clocks[c] = ClockState(
            RUNNING, tgt, elapsed, remaining, st.due, tgt is not None and elapsed > tgt
        )
    return CaseEval(
        at=at,
        type=snapshot.type,
        priority=snapshot.priority,
        level=snapshot.level,
        status=snapshot.status,
        acknowledged=snapshot.acknowledged,
        awaiting=snapshot.awaiting,
        suspended=snapshot.suspended,
        clocks=clocks,
        next_boundary=snapshot.next_boundary,
        awaiting_vendor=snapshot.awaiting_vendor,
    )


def paused_for(ev: CaseEval, name: str) -> str | None:
    """Why clock ``name`` of ``ev`` is paused: ``subscriber``, ``vendor`` or
    ``subscriber_and_vendor`` (None unless its state is ``paused``)."""
    st = ev.clocks.get(name)
    if st is None or st.state != PAUSED:
        return None
    subscriber = ev.awaiting and name != "response"
    vendor = ev.awaiting_vendor and name == VENDOR_CLOCK
    if subscriber and vendor:
        return "subscriber_and_vendor"
    return "vendor" if vendor else ("subscriber" if subscriber else None)


def risk_group(clocks: Mapping[str, ClockState]) -> tuple[int, int | None]:
    """(group 1-4, the due that orders it) per policy §13."""
    breached_due: int | None = None
    running_due: int | None = None
    waiting = False
    for st in clocks.values():
        if st.target is None:
            continue
        if st.state == RUNNING and st.due is not None:
            if st.breached and (breached_due is None or st.due < breached_due):
                breached_due = st.due
            if running_due is None or st.due < running_due:
                running_due = st.due
        elif st.state in (PAUSED, PENDING, SUSPENDED):
            waiting = True
    if breached_due is not None:
        return 1, breached_due
    if running_due is not None:
        return 2, running_due
    return (3 if waiting else 4), None


#: A case's place in the queue (policy §13): (risk group, due or 0, priority rank,
#: reported at, case id); tuples compare in C.
RiskKey = tuple[int, int, int, int, str]


def risk_key(
    case_id: str, priority: str | None, reported_at: int, clocks: Mapping[str, ClockState]
) -> RiskKey:
    group, due = risk_group(clocks)
    return (
        group,
        due if due is not None else 0,
        PRIORITY_RANK.get(priority or "", NO_PRIORITY_RANK),
        reported_at,
        case_id,
    )
