"""The policy file loaded into plain objects, and each subscription's resolved terms."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from console.rules.calendar import Calendar, CalendarRule, HolidaySpec, calendar_for
from console.rules.timeutil import BadValue, parse_duration, zone

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
    calendar: Calendar


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
        raise PolicyError(f"{source}: identity.system_accounts: a list of account names, got {names!r}")
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
    """What the engine needs of a subscriber (a plain copy of the stored row)."""

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


@dataclass(frozen=True)
class Terms:
    """A subscription's rules, resolved once and shared by all of its cases."""

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
        return calendar_for(CalendarRule(self.tz_name, opens, closes, not always, self.facts.holidays))

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

    def specs(self, ctype: str, priority: str | None) -> dict[str, ClockSpec]:
        """The clocks a case of this type and priority has, in display order."""
        key = (ctype, priority)
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
