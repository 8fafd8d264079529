"""The policy file loaded into plain objects, and each subscription's resolved terms."""

from __future__ import annotations

import bisect
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from console.rules.calendar import (
    Calendar,
    CalendarRule,
    CountingCalendar,
    HolidaySpec,
    calendar_for,
)
from console.rules.timeutil import MAX_INSTANT, BadValue, parse_duration, zone

CLOCKS = ("response", "workaround", "resolution", "update")
BEST_EFFORTS = "best efforts"
#: The system accounts when the policy data names none (policy §14: `sweep` records sweeps).
DEFAULT_SYSTEM_ACCOUNTS = ("cron", "sweep")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the place."""


@dataclass(frozen=True, slots=True)
class ClockSpec:
    """One clock of a case: its target (None = best efforts) and the calendar it counts on."""

    target: int | None
    calendar: CountingCalendar


@dataclass(frozen=True)
class PlanPolicy:
    name: str
    timezone: str
    opens: time
    closes: time | None
    query_hour_limit: float
    p0_allowed: bool
    incident_environments: tuple[str, ...]
    targets: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Records:
    """How the record itself is bounded (policy §14): the late-entry window, how far an
    event may lie ahead of the clock that records it, and the size limits of input."""

    late_entry_window: int = 3600  # an event older than this when recorded is a late entry
    future_tolerance: int = 300  # `at` may lie at most this far after `recorded_at`
    max_title_bytes: int = 1024
    max_note_bytes: int = 65536
    max_events_per_case: int = 10000
    max_json_depth: int = 32


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    priority: str
    text: str


@dataclass(frozen=True)
class Policy:
    version: str
    case_types: tuple[str, ...]
    priorities: tuple[str, ...]
    levels: tuple[str, ...]
    suspension_reasons: tuple[str, ...]
    plans: dict[str, PlanPolicy]
    coverage_24x7: tuple[time, time | None]
    default_update_frequency: int
    board_columns: tuple[str, ...]
    war_team_roles: tuple[str, ...]
    meter_warn_percent: float
    retention: dict[str, int]
    lifespan: dict[str, int]
    criteria: tuple[Criterion, ...] = ()
    case_type_help: dict[str, str] = field(default_factory=dict)
    records: Records = field(default_factory=Records)
    #: Accounts that record what no person did (policy §14): the only names ``--by`` takes.
    system_accounts: tuple[str, ...] = DEFAULT_SYSTEM_ACCOUNTS
    source: str = ""
    # Reasons that suspend one case only, never a whole subscriber (policy §6).
    case_only_suspension_reasons: tuple[str, ...] = ("custom_extension",)

    @property
    def subscriber_suspension_reasons(self) -> tuple[str, ...]:
        """The reasons a subscriber-wide suspension may give (policy §6)."""
        return tuple(
            r for r in self.suspension_reasons if r not in self.case_only_suspension_reasons
        )

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)

    def plan(self, name: str) -> PlanPolicy:
        try:
            return self.plans[name]
        except KeyError:
            raise BadValue(f"unknown plan {name!r} (known: {', '.join(self.plans)})") from None


def _hours(text: str, where: str) -> tuple[time, time | None]:
    try:
        a, b = text.split("-")
        opens = time.fromisoformat(a.strip())
        closes = None if b.strip() in ("24:00", "00:00") else time.fromisoformat(b.strip())
    except ValueError:
        raise PolicyError(f"{where}: hours must look like 09:00-17:00, got {text!r}") from None
    return opens, closes


def _target_value(value: Any, where: str) -> str | None:
    if value is None or value == BEST_EFFORTS:
        return None
    if not isinstance(value, str):
        raise PolicyError(f"{where}: a duration string or {BEST_EFFORTS!r}, got {value!r}")
    try:
        parse_duration(value, 8)
    except BadValue as exc:
        raise PolicyError(f"{where}: {exc}") from None
    return value


def _system_accounts(raw: Any, source: str) -> tuple[str, ...]:
    """The optional ``[identity]`` table's ``system_accounts`` (default: cron, sweep)."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: identity: expected a table")
    names = raw.get("system_accounts", list(DEFAULT_SYSTEM_ACCOUNTS))
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise PolicyError(
            f"{source}: identity.system_accounts: a list of account names, got {names!r}"
        )
    return tuple(n.strip() for n in names)


def _records(raw: Any, source: str) -> Records:
    """The optional ``[records]`` table; absent keys keep the defaults of ``Records``."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: records: expected a table")
    values: dict[str, int] = {}
    for key in ("late_entry_window", "future_tolerance"):
        if key in raw:
            try:
                values[key], _ = parse_duration(raw[key], 8)
            except BadValue as exc:
                raise PolicyError(f"{source}: records.{key}: {exc}") from None
    for key in ("max_title_bytes", "max_note_bytes", "max_events_per_case", "max_json_depth"):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise PolicyError(f"{source}: records.{key}: a whole number above 0, got {v!r}")
            values[key] = v
    return Records(**values)


def check_target_key(key: str, policy: Policy) -> None:
    """``incident.P1.response``-style keys; raise BadValue naming what is wrong."""
    parts = key.split(".")
    if len(parts) != 3:
        raise BadValue(f"target key {key!r} is not <type>.<priority|any>.<clock>")
    ctype, prio, clock = parts
    if ctype not in policy.case_types:
        raise BadValue(f"target key {key!r}: unknown case type {ctype!r}")
    if prio != "any" and prio not in policy.priorities:
        raise BadValue(f"target key {key!r}: unknown priority {prio!r}")
    if clock not in CLOCKS:
        raise BadValue(f"target key {key!r}: unknown clock {clock!r}")


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: {exc}") from None
    try:
        plans: dict[str, PlanPolicy] = {}
        for name, p in raw["plans"].items():
            where = f"{source}: plans.{name}"
            opens, closes = _hours(p["hours"], where + ".hours")
            zone(p["timezone"])
            targets = {
                k: _target_value(v, f"{where}.targets.{k!r}") for k, v in p["targets"].items()
            }
            plans[name] = PlanPolicy(
                name=name,
                timezone=p["timezone"],
                opens=opens,
                closes=closes,
                query_hour_limit=float(p["query_hour_limit"]),
                p0_allowed=bool(p["p0_allowed"]),
                incident_environments=tuple(p["incident_environments"]),
                targets=targets,
            )
        wt = raw["war_team"]
        freq, _ = parse_duration(wt["default_update_frequency"], 8)
        policy = Policy(
            version=str(raw["version"]),
            case_types=tuple(raw["case_types"]),
            priorities=tuple(raw["priorities"]),
            levels=tuple(raw["levels"]),
            suspension_reasons=tuple(raw["suspension_reasons"]),
            plans=plans,
            coverage_24x7=_hours(raw["coverage"]["24x7"]["hours"], f"{source}: coverage.24x7"),
            default_update_frequency=freq,
            board_columns=tuple(wt["columns"]),
            war_team_roles=tuple(wt["roles"]),
            meter_warn_percent=float(raw["meters"]["warn_percent"]),
            retention={k: int(v) for k, v in raw["retention"].items()},
            lifespan={k: int(v) for k, v in raw["lifespan"].items()},
            criteria=tuple(
                Criterion(str(c["key"]), str(c["priority"]), str(c["text"]))
                for c in raw.get("criteria", [])
            ),
            case_type_help={str(k): str(v) for k, v in raw.get("case_type_help", {}).items()},
            records=_records(raw.get("records", {}), source),
            system_accounts=_system_accounts(raw.get("identity", {}), source),
            source=source,
            case_only_suspension_reasons=tuple(
                raw.get("case_only_suspension_reasons", ["custom_extension"])
            ),
        )
    except KeyError as exc:
        raise PolicyError(f"{source}: missing key {exc}") from None
    except BadValue as exc:
        raise PolicyError(f"{source}: {exc}") from None
    for c in policy.criteria:
        if c.priority not in policy.priorities:
            raise PolicyError(f"{source}: criteria {c.key!r}: unknown priority {c.priority!r}")
    if len({c.key for c in policy.criteria}) != len(policy.criteria):
        raise PolicyError(f"{source}: criteria: a key is used twice")
    for r in policy.case_only_suspension_reasons:
        if r not in policy.suspension_reasons:
            raise PolicyError(
                f"{source}: case_only_suspension_reasons: {r!r} is not one of suspension_reasons"
            )
    for plan in policy.plans.values():
        for key in plan.targets:
            try:
                check_target_key(key, policy)
            except BadValue as exc:
                raise PolicyError(f"{source}: plans.{plan.name}.targets: {exc}") from None
    return policy


_DEFAULT: Policy | None = None


def default_policy() -> Policy:
    """The policy shipped with the package (loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("console.rules").joinpath("policy.toml").read_text("utf-8")
        _DEFAULT = parse_policy(text, "policy.toml")
    return _DEFAULT


def load_policy(path: str | Path | None) -> Policy:
    if path is None:
        return default_policy()
    p = Path(path)
    return parse_policy(p.read_text("utf-8"), str(p))


@dataclass(frozen=True)
class SubscriptionFacts:
    """What the engine needs of a subscriber: its facts as first recorded, plus the dated
    changes recorded since (policy §14), each ``(effective_at, {fact: new value})``."""

    id: str
    plan: str
    coverage: str = "business"
    timezone: str | None = None
    holidays: HolidaySpec = None
    targets: dict[str, str | None] = field(default_factory=dict)
    term_start: date | None = None
    term_end: date | None = None
    query_hour_limit: float | None = None
    suspensions: tuple[tuple[int, int | None], ...] = ()  # [from, until) epoch seconds
    terminated_at: int | None = None
    changes: tuple[tuple[int, Mapping[str, Any]], ...] = ()

    def at(self, ts: int) -> SubscriptionFacts:
        """The facts in force at ``ts`` (changes effective by then applied, in order)."""
        out = replace(self, changes=())
        for effective, change in self.changes:
            if effective > ts:
                break
            out = replace(out, **change)
        return out


#: The facts a dated subscriber change may set (policy §14).
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


@dataclass(frozen=True)
class Terms:
    """A subscription's rules over time, resolved once and shared by all of its cases.

    The facts may change at dated instants (policy §14): each instant counts on the
    calendar in force at that instant, and a clock is judged against the target in force
    at the instant asked about. ``at(t)`` gives the terms of one instant (``TermsAt``); the
    clock engine asks ``specs(type, priority, at)``, whose calendars run piecewise over
    the changes. The convenience properties (``plan``, ``tz_name``...) describe the
    subscription as last recorded.
    """

    policy: Policy
    facts: SubscriptionFacts

    @cached_property
    def segments(self) -> tuple[tuple[int, TermsAt], ...]:
        """(start, terms in force from then) in time order; the first starts at 0."""
        current = replace(self.facts, changes=())
        out: list[tuple[int, TermsAt]] = [(0, TermsAt(self.policy, current))]
        for effective, change in sorted(self.facts.changes, key=lambda c: c[0]):
            current = replace(current, **change)
            if effective <= out[-1][0]:
                out[-1] = (out[-1][0], TermsAt(self.policy, current))
            else:
                out.append((effective, TermsAt(self.policy, current)))
        return tuple(out)

    @cached_property
    def _starts(self) -> list[int]:
        return [start for start, _ in self.segments]

    def at(self, ts: int) -> TermsAt:
        segs = self.segments
        if len(segs) == 1:
            return segs[0][1]
        return segs[max(bisect.bisect_right(self._starts, ts) - 1, 0)][1]

    @property
    def latest(self) -> TermsAt:
        return self.segments[-1][1]

    def next_change_after(self, ts: int) -> int | None:
        """The next instant after ``ts`` at which the facts change, if one is recorded."""
        starts = self._starts
        i = bisect.bisect_right(starts, ts)
        return starts[i] if i < len(starts) else None

    # -- as last recorded ------------------------------------------------------------------

    @property
    def plan(self) -> PlanPolicy:
        return self.latest.plan

    @property
    def tz_name(self) -> str:
        return self.latest.tz_name

    @property
    def query_hour_limit(self) -> float:
        return self.latest.query_hour_limit

    @property
    def lapse_from(self) -> int | None:
        return self.latest.lapse_from

    @property
    def business_day_hours(self) -> float:
        return self.latest.business_day_hours

    # -- over time ---------------------------------------------------------------------------

    @cached_property
    def coverage_calendar(self) -> CountingCalendar:
        """The coverage calendar in force at each instant (the war team's cadence)."""
        return self._piecewise([t.coverage_calendar for _, t in self.segments])

    @cached_property
    def business_calendar(self) -> CountingCalendar:
        return self._piecewise([t.business_calendar for _, t in self.segments])

    @cached_property
    def suspension_intervals(self) -> tuple[tuple[int, int | None], ...]:
        """Subscriber-wide suspensions, and each automatic lapse for as long as it lasted:
        from 00:00 local after the term end in force, until a renewal's effective instant
        (policy §6, §14), sorted by start."""
        spans = list(self.facts.suspensions)
        segs = self.segments
        for i, (start, terms) in enumerate(segs):
            lapse = terms.lapse_from
            if lapse is None:
                continue
            end = segs[i + 1][0] if i + 1 < len(segs) else None
            begin = max(start, lapse)
            if end is None or begin < end:
                spans.append((begin, end))
        return tuple(sorted(spans, key=lambda s: s[0]))

    def specs(
        self, ctype: str, priority: str | None, at: int | None = None
    ) -> dict[str, ClockSpec]:
        """The clocks a case of this type and priority has at ``at`` (display order): the
        targets in force then, each counting on the calendar in force at every instant (no
        time counts while the subscription's terms give the case no such clock)."""
        segs = self.segments
        if len(segs) == 1:
            return segs[0][1].specs(ctype, priority)
        # The terms as they stand at ``at``: a change effective later is not foreseen (a
        # due runs on with the calendar of ``at``, like a suspension that starts later), so
        # recording a future change never alters an answer about an earlier instant.
        n = len(segs) if at is None else max(bisect.bisect_right(self._starts, at), 1)
        here = segs[n - 1][1]
        key = (ctype, priority, n)
        cache: dict[tuple[str, str | None, int], dict[str, ClockSpec]]
        cache = self.__dict__.setdefault("_spec_cache", {})
        found = cache.get(key)
        if found is not None:
            return found
        out = {}
        for clock, spec in here.specs(ctype, priority).items():
            cals = [
                None if (s := t.specs(ctype, priority).get(clock)) is None else s.calendar
                for _, t in segs[:n]
            ]
            out[clock] = ClockSpec(spec.target, self._piecewise(cals))
        cache[key] = out
        return out

    def _piecewise(self, cals: list[CountingCalendar | None]) -> CountingCalendar:
        first = cals[0]
        if first is not None and all(c is first for c in cals):
            return first
        return segmented_calendar(tuple(self._starts[: len(cals)]), tuple(cals))

    def update_frequency(self, at: int | None = None) -> int:
        return (self.at(at) if at is not None else self.latest).update_frequency()


class SegmentedCalendar:
    """A calendar that changes at dated instants: ``cals[i]`` counts on
    ``[starts[i], starts[i + 1])``; ``None`` counts nothing there (a clock the terms of
    that time do not have). Same interface as ``Calendar``."""

    __slots__ = ("starts", "cals")

    def __init__(self, starts: tuple[int, ...], cals: tuple[CountingCalendar | None, ...]) -> None:
        self.starts, self.cals = starts, cals

    def _end(self, i: int) -> int | None:
        return self.starts[i + 1] if i + 1 < len(self.starts) else None

    def elapsed(self, start: int, end: int) -> int:
        total = 0
        for i, cal in enumerate(self.cals):
            seg_end = self._end(i)
            lo = max(start, self.starts[i])
            hi = end if seg_end is None else min(end, seg_end)
            if cal is not None and hi > lo:
                total += cal.elapsed(lo, hi)
        return total

    def add(self, start: int, seconds: int) -> int:
        """The earliest instant ``seconds`` of counted time after ``start``; if the last
        terms never count this clock, the end of the years handled (it never comes)."""
        if seconds <= 0:
            return start
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        t, left = start, seconds
        while True:
            cal, seg_end = self.cals[i], self._end(i)
            if cal is not None:
                if seg_end is None:
                    return cal.add(t, left)
                avail = cal.elapsed(t, seg_end)
                if avail >= left:
                    return cal.add(t, left)
                left -= avail
            if seg_end is None:
                return MAX_INSTANT
            t, i = max(t, seg_end), i + 1

    def is_open(self, ts: int) -> bool:
        i = max(bisect.bisect_right(self.starts, ts) - 1, 0)
        cal = self.cals[i]
        return cal is not None and cal.is_open(ts)


_segmented: dict[tuple[tuple[int, ...], tuple[int, ...]], SegmentedCalendar] = {}


def segmented_calendar(
    starts: tuple[int, ...], cals: tuple[CountingCalendar | None, ...]
) -> SegmentedCalendar:
    """Shared like the plain calendars: two clocks on the same calendars over the same
    changes get one object (the clock engine computes a shared calendar's time once)."""
    key = (starts, tuple(id(c) for c in cals))
    found = _segmented.get(key)
    if found is None:
        if len(_segmented) > 4096:
            _segmented.clear()
        found = _segmented[key] = SegmentedCalendar(starts, cals)
    return found


@dataclass(frozen=True)
class TermsAt:
    """A subscription's rules at one instant (its facts then), resolved once."""

    policy: Policy
    facts: SubscriptionFacts

    @cached_property
    def plan(self) -> PlanPolicy:
        return self.policy.plan(self.facts.plan)

    @cached_property
    def tz_name(self) -> str:
        return self.facts.timezone or self.plan.timezone

    @cached_property
    def coverage_calendar(self) -> Calendar:
        opens, closes = self._window()
        always = self.facts.coverage == "24x7"
        return calendar_for(
            CalendarRule(self.tz_name, opens, closes, not always, self.facts.holidays)
        )

    @cached_property
    def business_calendar(self) -> Calendar:
        """Business days only, with as many hours a day as the plan covers (policy §3)."""
        opens, closes = self._window()
        return calendar_for(CalendarRule(self.tz_name, opens, closes, True, self.facts.holidays))

    def _window(self) -> tuple[time, time | None]:
        if self.facts.coverage == "24x7":
            return self.policy.coverage_24x7
        return self.plan.opens, self.plan.closes

    @cached_property
    def business_day_hours(self) -> float:
        opens, closes = self._window()
        # Minutes count too: "08:30-17:00" covers 8.5 hours a day.
        end = 24 * 60 if closes is None else closes.hour * 60 + closes.minute
        return (end - (opens.hour * 60 + opens.minute)) / 60

    @cached_property
    def query_hour_limit(self) -> float:
        if self.facts.query_hour_limit is not None:
            return float(self.facts.query_hour_limit)
        return self.plan.query_hour_limit

    @cached_property
    def lapse_from(self) -> int | None:
        """00:00 local on the day after term_end: the automatic `subscription_lapsed` start."""
        if self.facts.term_end is None:
            return None
        day = self.facts.term_end + timedelta(days=1)
        return int(datetime.combine(day, time(0), zone(self.tz_name)).timestamp())

    @cached_property
    def suspension_intervals(self) -> tuple[tuple[int, int | None], ...]:
        """Subscriber-wide suspensions including the automatic lapse, sorted by start."""
        spans = list(self.facts.suspensions)
        if self.lapse_from is not None:
            spans.append((self.lapse_from, None))
        return tuple(sorted(spans, key=lambda s: s[0]))

    def _raw_target(self, ctype: str, priority: str | None, clock: str) -> tuple[bool, str | None]:
        prio = priority or "any"
        for table in (self.facts.targets, self.plan.targets):
            for key in (f"{ctype}.{prio}.{clock}", f"{ctype}.any.{clock}"):
                if key in table:
                    return True, table[key]
        return False, None

    def next_change_after(self, ts: int) -> int | None:
        return None

    def at(self, ts: int) -> TermsAt:
        return self

    def specs(
        self, ctype: str, priority: str | None, at: int | None = None
    ) -> dict[str, ClockSpec]:
        """The clocks a case of this type and priority has, in display order."""
        key = (ctype, priority)
        cache: dict[tuple[str, str | None], dict[str, ClockSpec]]
        cache = self.__dict__.setdefault("_spec_cache", {})
        found = cache.get(key)
        if found is not None:
            return found
        out: dict[str, ClockSpec] = {}
        if ctype != "change_request":
            for clock in CLOCKS:
                present, value = self._raw_target(ctype, priority, clock)
                if not present:
                    continue
                if value is None:
                    out[clock] = ClockSpec(None, self.coverage_calendar)
                    continue
                seconds, business = parse_duration(value, self.business_day_hours)
                cal = self.business_calendar if business else self.coverage_calendar
                out[clock] = ClockSpec(seconds, cal)
        cache[key] = out
        return out

    def update_frequency(self) -> int:
        spec = self.specs("incident", "P1").get("update")
        if spec is not None and spec.target is not None:
            return spec.target
        return self.policy.default_update_frequency
