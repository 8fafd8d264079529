"""``support-console import``: validate a whole interchange file, then write it in one go.

Validation is pure (the file plus the ids already stored) and collects every problem as
``cases[3].priority: P0 needs a managed deployment``; only a file with no problem is
written, in a single transaction, so a refused import leaves the database untouched.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, CursorResult, insert, select
from sqlalchemy.orm import Session

from console.projection import project
from console.records import (
    Conn,
    case_link_table,
    case_state_table,
    case_table,
    deployment_facts,
    deployment_table,
    event_table,
    holiday_spec,
    load_terms,
    next_rev,
    subscriber_table,
    suspension_table,
    time_entry_table,
)
from console.rules.calendar import check_holiday_spec
from console.rules.changes import (
    decode_subscriber,
    deployment_at,
    deployment_problems,
    subscriber_problems,
)
from console.rules.classify import criterion_problem
from console.rules.clocks import CaseFacts, Event, sort_events
from console.rules.eligibility import (
    ENVIRONMENTS,
    DeploymentFacts,
    check_classification,
    component_problem,
)
from console.rules.escalation import judge_escalation
from console.rules.lifecycle import EVENT_KINDS, IllegalEvent, check_history
from console.rules.limits import data_problem, json_depth, text_problem, title_problem
from console.rules.policy import (
    PlanPolicy,
    Policy,
    Records,
    SubscriptionFacts,
    Terms,
    check_target_key,
)
from console.rules.policy_book import PolicyBook, TermsMap, as_book
from console.rules.timeutil import (
    MIN_INSTANT,
    BadValue,
    format_instant,
    parse_date,
    parse_duration,
    parse_instant,
    parse_utc_z,
    zone,
)
from models import table_of

SUPPORT_USERS = "support_user"

#: A subscriber's or deployment's record as stored (its values, its suspensions and dated
#: changes), compared to tell "the same record again" from a clash.
StoredRecord = tuple[object, ...]
_EVENT_FIELDS = frozenset(("at", "kind", "by", "recorded_at"))


class ImportRefused(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON can carry")


def read_document(text: str | bytes, source: str, records: Records | None = None) -> Any:
    """Parse an interchange file: NaN and Infinity refused, nesting bounded (policy data).

    Raises ImportRefused with one line naming the problem."""
    records = records or Records()
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ImportRefused(
            [f"{source}: not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise ImportRefused([f"{source}: {exc}"]) from None
    except RecursionError:
        raise ImportRefused(
            [f"{source}: nested deeper than {records.max_json_depth} levels"]
        ) from None
    except UnicodeDecodeError:
        raise ImportRefused([f"{source}: not UTF-8 text"]) from None
    if json_depth(doc) > records.max_json_depth:
        raise ImportRefused([f"{source}: nested deeper than {records.max_json_depth} levels"])
    return doc


@dataclass
class Existing:
    """Ids already in the database, and their facts where validation needs them."""

    subscribers: TermsMap | dict[str, Any] = field(default_factory=dict)
    deployments: dict[str, DeploymentFacts] = field(default_factory=dict)
    users: set[str] = field(default_factory=set)
    cases: dict[str, str] = field(default_factory=dict)  # id -> type (unless not read)
    has_cases: bool = False  # the database holds cases (``cases`` may be left unread)
    products: set[tuple[str, str]] = field(default_factory=set)  # (product, version)
    operators: set[str] = field(default_factory=set)
    # What an import may find again unchanged (the same record is no duplicate).
    subscriber_records: dict[str, StoredRecord] = field(default_factory=dict)
    deployment_records: dict[str, StoredRecord] = field(default_factory=dict)
    deployment_lines: dict[str, tuple[DeploymentFacts, list[tuple[int, dict[str, Any]]]]] = field(
        default_factory=dict
    )


@dataclass
class Prepared:
    subscribers: list[dict[str, Any]] = field(default_factory=list)
    suspensions: list[dict[str, Any]] = field(default_factory=list)
    lifts: list[dict[str, Any] | None] = field(default_factory=list)  # one per suspension
    deployments: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    operators: list[dict[str, Any]] = field(default_factory=list)
    policy_versions: list[dict[str, Any]] = field(default_factory=list)
    subscriber_changes: list[dict[str, Any]] = field(default_factory=list)
    deployment_changes: list[dict[str, Any]] = field(default_factory=list)
    replace_policy: bool = False  # an empty database takes the file's policy history
    # per case: (facts, events in record order, terms)
    histories: list[tuple[CaseFacts, list[Event], Terms]] = field(default_factory=list)
    # per case (as ``histories``): its events in time order
    ordered: list[list[Event]] = field(default_factory=list)
    # per case, when already computed (a parallel import): its case_state row
    states: list[dict[str, Any]] | None = None


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.note_limit = Records().max_note_bytes

    def add(self, path: str, msg: str) -> None:
        self.problems.append(f"{path}: {msg}")

    def get(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        kind: type | tuple[type, ...],
        *,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        v = obj.get(key)
        if (
            v.__class__ is str
            and kind is str  # the common case, checked in line
            and "\x00" not in v
            and v.isascii()
            and len(v) <= self.note_limit
            and (not required or v.strip())
        ):
            return v
        if v.__class__ is kind and (kind is list or kind is bool):  # also common
            return v
        if v is None:  # absent, or null
            if required:
                self.add(f"{path}.{key}", "missing")
            return default
        v = obj[key]
        if kind is float and isinstance(v, int) and not isinstance(v, bool):
            return float(v)
        if not isinstance(v, kind) or (kind is not bool and isinstance(v, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.add(f"{path}.{key}", f"expected {names}, got {v!r}")
            return default
        if isinstance(v, str) and required and not v.strip():
            self.add(f"{path}.{key}", "empty")
            return default
        if isinstance(v, str):
            why = text_problem(v, self.note_limit, key)
            if why:
                self.add(f"{path}.{key}", why)
                return default
        if isinstance(v, float) and not math.isfinite(v):
            self.add(f"{path}.{key}", f"{v!r} is not a number")
            return default
        return v

    def conv(self, fn: Callable[[Any], Any], value: Any, path: str) -> Any:
        try:
            return fn(value)
        except BadValue as exc:
            self.add(path, str(exc))
            return None


def _list(doc: Mapping[str, Any], key: str, chk: _Checker) -> list[Any]:
    v = doc.get(key, [])
    if v is None:
        return []
    if not isinstance(v, list):
        chk.add(key, "expected a list")
        return []
    return v


def validate(
    doc: Any, policy: Policy | PolicyBook, existing: Existing, recorded_at: int
) -> Prepared:
    """Check a whole document; raise ImportRefused with every problem, or return rows.

    ``recorded_at`` is now (the real clock): no instant in the file may lie beyond it
    (plus the future tolerance). Each event keeps the ``recorded_at`` the file gives, else
    takes its ``at`` (an import is a migration, not a late entry; policy §14).
    (``console.import_stream`` does the same for a file too large to hold, batch by batch.)
    """
    v = Validation(doc, policy, existing, recorded_at)
    raw = _list(doc, "cases", v.chk)
    v.cases(list(range(len(raw))), raw, dict(existing.cases), set(existing.cases))
    v.finish({})
    return v.out


@dataclass
class _Pending:
    """A case linking to cases later in the file: its classification and history are
    checked once every case is known (``Validation.finish``)."""

    path: str
    facts: CaseFacts
    ordered: list[Event]
    plan: PlanPolicy
    deployment: DeploymentFacts | None
    konneqt_initiated: bool
    links: list[str]


class Validation:
    """The checks of one import: the sections other than cases at once, then the cases
    in one or more batches (``cases``), then what needed every case (``finish``). Every
    problem is collected in ``chk.problems``; rows to write accumulate in ``out``."""

    def __init__(
        self,
        doc: Any,
        policy: Policy | PolicyBook,
        existing: Existing,
        recorded_at: int,
        *,
        defer_links: bool = False,
    ) -> None:
        self.pending: list[_Pending] = []
        self.defer_links = defer_links  # links may point to cases in later batches
        self.recorded_at = recorded_at
        chk = self.chk = _Checker()
        out = self.out = Prepared()
        if not isinstance(doc, dict):
            raise ImportRefused(
                ["(file): expected a JSON object with subscribers, deployments, users, cases"]
            )

        fresh = not existing.cases and not existing.has_cases and not existing.subscribers
        book = _with_file_versions(as_book(policy), doc, chk, out, recorded_at, fresh)
        policy = self.policy = book.at(recorded_at)
        records = self.records = policy.records
        horizon = self.horizon = recorded_at + records.future_tolerance
        known = existing.subscribers
        terms = self.terms = TermsMap(
            book, dict(known.facts) if isinstance(known, TermsMap) else {}
        )
        seen_subs: set[str] = set()
        self.seen_subs = seen_subs
        for i, s in enumerate(_list(doc, "subscribers", chk)):
            p = f"subscribers[{i}]"
            if not isinstance(s, dict):
                chk.add(p, "expected an object")
                continue
            n = len(chk.problems)
            sid = chk.get(s, "id", p, str)
            if sid and sid in seen_subs:
                chk.add(f"{p}.id", f"duplicate subscriber id {sid!r}")
            name = chk.get(s, "name", p, str)
            plan = chk.get(s, "plan", p, str)
            if plan and plan not in policy.plans:
                chk.add(f"{p}.plan", f"unknown plan {plan!r} (one of {', '.join(policy.plans)})")
            coverage = chk.get(s, "coverage", p, str, required=False, default="business")
            if coverage not in ("business", "24x7"):
                chk.add(f"{p}.coverage", f"coverage is 'business' or '24x7', got {coverage!r}")
            tz = chk.get(s, "timezone", p, str, required=False)
            if tz is not None:
                chk.conv(zone, tz, f"{p}.timezone")
            hol = s.get("holidays")
            if hol is not None:
                if isinstance(hol, list) and all(isinstance(x, str) for x in hol):
                    for j, x in enumerate(hol):
                        chk.conv(parse_date, x, f"{p}.holidays[{j}]")
                elif isinstance(hol, str):
                    chk.conv(check_holiday_spec, hol, f"{p}.holidays")
                else:
                    chk.add(
                        f"{p}.holidays", "a country code like 'US' or 'US-NY', or a list of dates"
                    )
            limit = chk.get(s, "query_hour_limit", p, float, required=False)
            if limit is not None and limit < 0:
                chk.add(f"{p}.query_hour_limit", "must not be negative")
            ts = (
                chk.conv(parse_date, chk.get(s, "term_start", p, str), f"{p}.term_start")
                if s.get("term_start")
                else None
            )
            if not s.get("term_start"):
                chk.add(f"{p}.term_start", "missing")
            te = (
                chk.conv(parse_date, chk.get(s, "term_end", p, str), f"{p}.term_end")
                if s.get("term_end")
                else None
            )
            if not s.get("term_end"):
                chk.add(f"{p}.term_end", "missing")
            if ts and te and te < ts:
                chk.add(f"{p}.term_end", f"term ends ({te}) before it starts ({ts})")
            term_raw = chk.get(s, "terminated_at", p, str, required=False)
            terminated = (
                chk.conv(parse_instant, term_raw, f"{p}.terminated_at") if term_raw else None
            )
            targets = chk.get(s, "targets", p, dict, required=False, default={}) or {}
            for key, val in targets.items():
                try:
                    check_target_key(key, policy)
                    if val is not None:
                        parse_duration(val, 8)
                except BadValue as exc:
                    chk.add(f"{p}.targets[{key!r}]", str(exc))
                except TypeError:
                    chk.add(f"{p}.targets[{key!r}]", f"a duration string or null, got {val!r}")
            spans: list[tuple[int, int | None]] = []
            for j, sp in enumerate(
                chk.get(s, "suspensions", p, list, required=False, default=[]) or []
            ):
                sp_p = f"{p}.suspensions[{j}]"
                if not isinstance(sp, dict):
                    chk.add(sp_p, "expected an object")
                    continue
                reason = chk.get(sp, "reason", sp_p, str)
                if reason and reason not in policy.suspension_reasons:
                    chk.add(f"{sp_p}.reason", f"not one of {', '.join(policy.suspension_reasons)}")
                elif reason in policy.case_only_suspension_reasons:
                    chk.add(
                        f"{sp_p}.reason",
                        f"{reason} suspends one case (a suspended event "
                        "on it), never a whole subscriber",
                    )
                f = (
                    chk.conv(parse_instant, chk.get(sp, "from", sp_p, str), f"{sp_p}.from")
                    if sp.get("from")
                    else None
                )
                u_raw = chk.get(sp, "until", sp_p, str, required=False)
                u = chk.conv(parse_instant, u_raw, f"{sp_p}.until") if u_raw else None
                if f is not None and u is not None and u <= f:
                    chk.add(f"{sp_p}.until", "ends before it starts")
                rec_raw = chk.get(sp, "recorded_at", sp_p, str, required=False)
                rec = chk.conv(parse_instant, rec_raw, f"{sp_p}.recorded_at") if rec_raw else f
                if rec is not None and rec > horizon:
                    chk.add(f"{sp_p}.recorded_at", f"{format_instant(rec)} lies in the future")
                by_sp = chk.get(sp, "by", sp_p, str, required=False)
                lifted_raw = chk.get(sp, "lifted_at", sp_p, str, required=False)
                lifted = (
                    chk.conv(parse_instant, lifted_raw, f"{sp_p}.lifted_at") if lifted_raw else None
                )
                lift_rec_raw = chk.get(sp, "lift_recorded_at", sp_p, str, required=False)
                lift_rec = (
                    chk.conv(parse_instant, lift_rec_raw, f"{sp_p}.lift_recorded_at")
                    if lift_rec_raw
                    else lifted
                )
                if lift_rec is not None and lift_rec > horizon:
                    chk.add(
                        f"{sp_p}.lift_recorded_at", f"{format_instant(lift_rec)} lies in the future"
                    )
                if f is not None and lifted is not None and lifted < f:
                    chk.add(f"{sp_p}.lifted_at", "lifted before it starts")
                if f is not None:
                    ends = u if lifted is None or (u is not None and u <= lifted) else lifted
                    spans.append((f, ends))
                    out.suspensions.append(
                        {
                            "subscriber_id": sid,
                            "reason": reason,
                            "from_at": f,
                            "until_at": u,
                            "by": by_sp,
                            "recorded_at": rec if rec is not None else recorded_at,
                        }
                    )
                    out.lifts.append(
                        None
                        if lifted is None
                        else {
                            "at": lifted,
                            "by": chk.get(sp, "lifted_by", sp_p, str, required=False),
                            "recorded_at": lift_rec if lift_rec is not None else recorded_at,
                        }
                    )
            if limit is not None and not math.isfinite(limit):
                chk.add(f"{p}.query_hour_limit", f"{limit!r} is not a number of hours")
            changes = _changes(
                s, p, chk, horizon, lambda facts, eff: subscriber_problems(facts, book.at(eff))
            )
            if len(chk.problems) > n or not sid:
                if sid:
                    seen_subs.add(sid)
                continue
            seen_subs.add(sid)
            row = {
                "id": sid,
                "name": name,
                "plan": plan,
                "coverage": coverage,
                "timezone": tz,
                "holidays": hol,
                "query_hour_limit": limit,
                "term_start": ts,
                "term_end": te,
                "terminated_at": terminated,
                "targets": targets,
            }
            same = _canonical_subscriber(
                row,
                [
                    (x["reason"], x["from_at"], x["until_at"])
                    for x in out.suspensions
                    if x["subscriber_id"] == sid
                ],
                changes,
            )
            if sid in existing.subscribers:
                # An import adds; it never rewrites a subscriber (its changes are dated records).
                if existing.subscriber_records.get(sid) != same:
                    chk.add(
                        f"{p}.id",
                        f"subscriber {sid!r} exists with other facts: an import "
                        "only adds (change it with `subscriber set`)",
                    )
                keep = [x["subscriber_id"] != sid for x in out.suspensions]
                out.suspensions = [x for x, k in zip(out.suspensions, keep, strict=True) if k]
                out.lifts = [x for x, k in zip(out.lifts, keep, strict=True) if k]
                continue
            out.subscribers.append(row)
            out.subscriber_changes.extend(dict(c, subscriber_id=sid) for c in changes)
            terms.add(
                SubscriptionFacts(
                    id=sid,
                    plan=plan,
                    coverage=coverage,
                    timezone=tz,
                    holidays=holiday_spec(hol),
                    targets=targets,
                    term_start=ts,
                    term_end=te,
                    query_hour_limit=limit,
                    suspensions=tuple(spans),
                    terminated_at=terminated,
                    changes=tuple(
                        (c["effective_at"], decode_subscriber(c["facts"]))
                        for c in sorted(changes, key=lambda c: c["effective_at"])
                    ),
                )
            )

        known_sub = self.known_sub

        deps: dict[str, DeploymentFacts] = dict(existing.deployments)
        self.deps = deps
        # Each deployment's facts over time: a case is checked against those of its report.
        dep_lines: dict[str, tuple[DeploymentFacts, list[tuple[int, dict[str, Any]]]]] = dict(
            existing.deployment_lines
        )
        self.dep_lines = dep_lines
        for i, d in enumerate(_list(doc, "deployments", chk)):
            p = f"deployments[{i}]"
            if not isinstance(d, dict):
                chk.add(p, "expected an object")
                continue
            n = len(chk.problems)
            did = chk.get(d, "id", p, str)
            if did and did in deps and did not in existing.deployments:
                chk.add(f"{p}.id", f"duplicate deployment id {did!r}")
            sid = chk.get(d, "subscriber", p, str)
            known_sub(sid, f"{p}.subscriber")
            env = chk.get(d, "environment", p, str)
            if env and env not in ENVIRONMENTS:
                chk.add(f"{p}.environment", f"one of {', '.join(ENVIRONMENTS)}, got {env!r}")
            managed = chk.get(d, "managed", p, bool, default=False)
            product = chk.get(d, "product", p, str)
            version = chk.get(d, "version", p, str)
            components = chk.get(d, "components", p, list, required=False, default=[]) or []
            try:
                components = list(component_names(components, managed=bool(managed)))
            except BadValue as exc:
                chk.add(f"{p}.components", str(exc))
            dchanges = _changes(d, p, chk, horizon, lambda facts, eff: deployment_problems(facts))
            if len(chk.problems) > n:
                continue
            record = (
                sid,
                env,
                managed,
                product,
                version,
                tuple(components),
                tuple(
                    (c["effective_at"], json.dumps(c["facts"], sort_keys=True)) for c in dchanges
                ),
            )
            if did in existing.deployments:
                if existing.deployment_records.get(did) != record:
                    chk.add(
                        f"{p}.id",
                        f"deployment {did!r} exists with other facts: an "
                        "import only adds (change it with `deployment set`)",
                    )
                continue
            base = DeploymentFacts(did, sid, env, managed, product, version, tuple(components))
            line = [(c["effective_at"], c["facts"]) for c in dchanges]
            deps[did] = deployment_at(base, line, None)
            dep_lines[did] = (base, line)
            out.deployments.append(
                {
                    "id": did,
                    "subscriber_id": sid,
                    "environment": env,
                    "managed": managed,
                    "product": product,
                    "version": version,
                    "components": components,
                }
            )
            out.deployment_changes.extend(dict(c, deployment_id=did) for c in dchanges)

        users = set(existing.users)
        for i, u in enumerate(_list(doc, "users", chk)):
            p = f"users[{i}]"
            if not isinstance(u, dict):
                chk.add(p, "expected an object")
                continue
            n = len(chk.problems)
            uid = chk.get(u, "id", p, str)
            if uid and uid in users:
                chk.add(f"{p}.id", f"duplicate user id {uid!r}")
            sid = chk.get(u, "subscriber", p, str)
            known_sub(sid, f"{p}.subscriber")
            name = chk.get(u, "name", p, str, required=False)
            email = chk.get(u, "email", p, str, required=False)
            admin = chk.get(u, "admin", p, bool, required=False, default=False)
            who: dict[str, Any] = {}
            for key in ("added_by", "removed_by"):
                who[key] = chk.get(u, key, p, str, required=False)
            for key in ("added_at", "removed_at"):
                raw = chk.get(u, key, p, str, required=False)
                who[key] = chk.conv(parse_instant, raw, f"{p}.{key}") if raw else None
            if who["removed_by"] is not None and who["removed_at"] is None:
                chk.add(f"{p}.removed_at", "a removed user needs removed_at")
            if len(chk.problems) > n:
                continue
            users.add(uid)
            out.users.append(
                {
                    "id": uid,
                    "subscriber_id": sid,
                    "name": name,
                    "email": email,
                    "admin": admin,
                    **who,
                }
            )

        products: set[tuple[str, str]] = set(existing.products)
        for i, pv in enumerate(_list(doc, "products", chk)):
            p = f"products[{i}]"
            if not isinstance(pv, dict):
                chk.add(p, "expected an object")
                continue
            n = len(chk.problems)
            product = chk.get(pv, "product", p, str)
            version = chk.get(pv, "version", p, str)
            if product and version and (product, version) in products:
                chk.add(f"{p}.version", f"duplicate product version {product} {version}")
            rel_raw = chk.get(pv, "released", p, str)
            released = chk.conv(parse_date, rel_raw, f"{p}.released") if rel_raw else None
            notice_raw = chk.get(pv, "discontinuation_notice", p, str, required=False)
            notice = (
                chk.conv(parse_date, notice_raw, f"{p}.discontinuation_notice")
                if notice_raw
                else None
            )
            if released and notice and notice < released:
                chk.add(
                    f"{p}.discontinuation_notice",
                    f"the notice ({notice}) is before the release ({released})",
                )
            if len(chk.problems) > n:
                continue
            products.add((product, version))
            out.products.append(
                {
                    "product": product,
                    "version": version,
                    "released": released,
                    "discontinuation_notice": notice,
                }
            )

        seen_ops: set[str] = set(existing.operators)
        for i, o in enumerate(_list(doc, "operators", chk)):
            p = f"operators[{i}]"
            if not isinstance(o, dict):
                chk.add(p, "expected an object")
                continue
            name = chk.get(o, "name", p, str)
            role = chk.get(o, "role", p, str)
            if role and role not in ("engineer", "lead", "executive", "system"):
                chk.add(f"{p}.role", f"one of engineer, lead, executive, system, got {role!r}")
            if name and name in seen_ops:
                chk.add(f"{p}.name", f"duplicate operator {name!r}")
            elif name and role:
                seen_ops.add(name)
                out.operators.append(
                    {
                        "name": name,
                        "role": role,
                        "updated_at": recorded_at,
                        "updated_by": o.get("updated_by"),
                    }
                )

    def known_sub(self, v: Any, path: str) -> bool:
        if v is None:
            return False
        if v not in self.terms and v not in self.seen_subs:
            self.chk.add(path, f"unknown subscriber {v!r}")
            return False
        return v in self.terms

    def cases(
        self, indexes: list[int], raw_cases: list[Any], case_types: dict[str, str], taken: set[str]
    ) -> None:
        """Check cases (``indexes``: their places in the file, for the messages).
        ``case_types``: id -> type of the cases links may name (stored ones, those of this
        batch are added); ``taken``: ids stored already (a duplicate). The prepared rows
        go to ``out``."""
        seen: set[str] = set()
        chk, out, terms, deps = self.chk, self.out, self.terms, self.deps
        policy, records, horizon = self.policy, self.records, self.horizon
        tolerance = records.future_tolerance
        known_sub = self.known_sub
        for c in raw_cases:
            if (
                isinstance(c, dict)
                and isinstance(c.get("id"), str)
                and isinstance(c.get("type"), str)
            ):
                case_types.setdefault(c["id"], c["type"])
        for i, c in zip(indexes, raw_cases, strict=True):
            p = f"cases[{i}]"
            if not isinstance(c, dict):
                chk.add(p, "expected an object")
                continue
            n = len(chk.problems)
            cid = chk.get(c, "id", p, str)
            if cid and (cid in taken or cid in seen):
                chk.add(f"{p}.id", f"duplicate case id {cid!r}")
            if cid:
                seen.add(cid)
            sid = chk.get(c, "subscriber", p, str)
            sub_ok = known_sub(sid, f"{p}.subscriber")
            dep_id = chk.get(c, "deployment", p, str, required=False)
            dep = None
            if dep_id is not None:
                dep = deps.get(dep_id)
                if dep is None:
                    chk.add(f"{p}.deployment", f"unknown deployment {dep_id!r}")
            ctype = chk.get(c, "type", p, str)
            prio = chk.get(c, "priority", p, str, required=False)
            title = chk.get(c, "title", p, str, required=False, default="")
            if not isinstance(c.get("title"), str):
                chk.add(f"{p}.title", "missing")
            else:
                why = title_problem(title, records)
                if why:
                    chk.add(f"{p}.title", why)
            rep_raw = chk.get(c, "reported_at", p, str)
            reported = chk.conv(parse_instant, rep_raw, f"{p}.reported_at") if rep_raw else None
            aw_raw = chk.get(c, "aware_at", p, str, required=False)
            aware = chk.conv(parse_instant, aw_raw, f"{p}.aware_at") if aw_raw else None
            case_rec_raw = chk.get(c, "recorded_at", p, str, required=False)
            case_recorded = (
                chk.conv(parse_instant, case_rec_raw, f"{p}.recorded_at")
                if case_rec_raw
                else reported
            )
            for name, ts in (
                ("reported_at", reported),
                ("aware_at", aware),
                ("recorded_at", case_recorded),
            ):
                if ts is not None and ts > horizon:
                    chk.add(f"{p}.{name}", f"{format_instant(ts)} lies in the future")
            level = chk.get(c, "level", p, str, required=False, default="L1")
            if level not in policy.levels:
                chk.add(f"{p}.level", f"one of {', '.join(policy.levels)}, got {level!r}")
            kinit = chk.get(c, "konneqt_initiated", p, bool, required=False, default=False)
            criterion = chk.get(c, "criterion", p, str, required=False)
            if criterion is not None and isinstance(ctype, str):
                why = criterion_problem(policy, criterion, ctype, prio)
                if why:
                    chk.add(f"{p}.criterion", why)
            component = chk.get(c, "component", p, str, required=False)
            links = chk.get(c, "links", p, list, required=False, default=[]) or []
            for j, lk in enumerate(links):
                if not isinstance(lk, str) or (lk not in case_types and not self.defer_links):
                    chk.add(f"{p}.links[{j}]", f"unknown case {lk!r}")
                elif lk == cid:
                    chk.add(f"{p}.links[{j}]", "a case cannot link to itself")
            if dep_id is not None and dep_id in self.dep_lines and reported is not None:
                base, line = self.dep_lines[dep_id]
                dep = deployment_at(base, line, reported)
            if (
                sub_ok
                and ctype
                and reported is not None
                and len(chk.problems) == n
                and all(lk in case_types for lk in links if isinstance(lk, str))
            ):
                plan = terms.case(sid, reported).at(reported).plan
                for fld, msg in check_classification(
                    policy,
                    plan,
                    sid,
                    dep,
                    ctype,
                    prio,
                    konneqt_initiated=kinit,
                    linked_types=tuple(
                        case_types.get(lk, "") for lk in links if isinstance(lk, str)
                    ),
                    component=component,
                ):
                    chk.add(f"{p}.{fld}", msg)
            events: list[Event] = []
            raw_events = chk.get(c, "events", p, list, required=False, default=[]) or []
            if len(raw_events) > records.max_events_per_case:
                chk.add(
                    f"{p}.events",
                    f"{len(raw_events)} events; a case holds at most {records.max_events_per_case}",
                )
                raw_events = []
            for j, e in enumerate(raw_events):
                if e.__class__ is dict:  # the well-formed event, checked in line
                    a, k, b = e.get("at"), e.get("kind"), e.get("by")
                    r = e.get("recorded_at")
                    if r is None:
                        r = a
                    if (
                        a.__class__ is str
                        and r.__class__ is str
                        and k.__class__ is str
                        and k in EVENT_KINDS
                        and (b is None or b.__class__ is str)
                    ):
                        at = parse_utc_z(a)
                        rec = at if r == a else parse_utc_z(r)
                        if (
                            at is not None
                            and rec is not None
                            and MIN_INSTANT <= at <= horizon
                            and MIN_INSTANT <= rec <= horizon
                            and at <= rec + tolerance
                        ):
                            data = {x: y for x, y in e.items() if x not in _EVENT_FIELDS}
                            if not data or data_problem(data, records) is None:
                                events.append(Event(at, k, b, data, j, rec))
                                continue
                ep = f"{p}.events[{j}]"
                if not isinstance(e, dict):
                    chk.add(ep, "expected an object")
                    continue
                at_raw = chk.get(e, "at", ep, str)
                at = chk.conv(parse_instant, at_raw, f"{ep}.at") if at_raw else None
                rec_raw = chk.get(e, "recorded_at", ep, str, required=False)
                rec = chk.conv(parse_instant, rec_raw, f"{ep}.recorded_at") if rec_raw else at
                kind = chk.get(e, "kind", ep, str)
                if kind and kind not in EVENT_KINDS:
                    chk.add(f"{ep}.kind", f"unknown event kind {kind!r}")
                by = e.get("by")
                if by is not None and not isinstance(by, str):
                    chk.add(f"{ep}.by", f"expected a user id, got {by!r}")
                data = {k: v for k, v in e.items() if k not in ("at", "kind", "by", "recorded_at")}
                bad = data_problem(data, records)
                if bad:
                    chk.add(f"{ep}.{bad[0]}", bad[1])
                    continue
                if at is not None and at > horizon:
                    chk.add(f"{ep}.at", f"{format_instant(at)} lies in the future")
                elif at is not None and rec is not None and at > rec + records.future_tolerance:
                    chk.add(
                        f"{ep}.at",
                        f"{format_instant(at)} lies after its recorded_at {format_instant(rec)}",
                    )
                elif rec is not None and rec > horizon:
                    chk.add(f"{ep}.recorded_at", f"{format_instant(rec)} lies in the future")
                elif at is not None and rec is not None and kind:
                    events.append(Event(at=at, kind=kind, by=by, data=data, seq=j, recorded_at=rec))
            if len(chk.problems) > n or reported is None or not sub_ok:
                continue
            unknown_links = [lk for lk in links if isinstance(lk, str) and lk not in case_types]
            facts = CaseFacts(
                id=cid,
                subscriber=sid,
                type=ctype,
                priority=prio,
                reported_at=reported,
                aware_at=aware,
                level=level,
                title=title,
                deployment=dep_id,
                recorded_at=case_recorded,
                component=component,
            )
            ordered = sort_events(events)
            case_terms = terms.case(sid, reported)
            plan = case_terms.at(reported).plan
            policy_c = case_terms.policy
            if not _judge_events(facts, ordered, case_terms, dep, p, chk):
                continue

            def classify_check(
                t: str,
                pr: str | None,
                _sid: str = sid,
                _dep: DeploymentFacts | None = dep,
                _plan: PlanPolicy = plan,
                _k: bool = kinit,
                _links: list[str] = links,
                _pol: Policy = policy_c,
            ) -> list[tuple[str, str]]:
                return check_classification(
                    _pol,
                    _plan,
                    _sid,
                    _dep,
                    t,
                    pr,
                    konneqt_initiated=_k,
                    linked_types=tuple(case_types.get(lk, "") for lk in _links),
                )

            if unknown_links:  # links to cases later in the file: checked at the end
                self.pending.append(
                    _Pending(
                        p,
                        facts,
                        ordered,
                        plan,
                        dep,
                        kinit,
                        [lk for lk in links if isinstance(lk, str)],
                    )
                )
            else:
                try:
                    check_history(facts, ordered, policy_c, classify_check)
                except IllegalEvent as exc:
                    j = ordered[exc.index].seq
                    chk.add(f"{p}.events[{j}].{exc.field}", exc.message)
                    continue
            out.cases.append(
                {
                    "id": cid,
                    "subscriber_id": sid,
                    "deployment_id": dep_id,
                    "type": ctype,
                    "priority": prio,
                    "title": title,
                    "reported_at": reported,
                    "aware_at": aware,
                    "level": level,
                    "konneqt_initiated": kinit,
                    "version": 1,
                    "criterion": criterion,
                    "component": component,
                    "opened_by": c.get("opened_by")
                    if isinstance(c.get("opened_by"), str)
                    else None,
                    "recorded_at": case_recorded,
                }
            )
            if not unknown_links:  # (else written by ``finish``, once the cases exist)
                out.links.extend({"case_id": cid, "linked_case_id": lk} for lk in links)
            out.attachments.extend(_attachments(c, p, cid, chk))
            for e in ordered:
                if e.kind == "escalated":
                    out.escalations.append(
                        {
                            "case_id": cid,
                            "subscriber_id": sid,
                            "missed": str(e.data.get("missed", "manual")),
                            "escalated_at": e.at,
                            "recorded_at": e.recorded_at,
                            "by": e.by,
                        }
                    )
            out.histories.append((facts, events, case_terms))
            out.ordered.append(ordered)

    def finish(self, stored_types: dict[str, str]) -> None:
        """The cases whose links named cases later in the file, now that all are known
        (``stored_types``: id -> type of the cases they name); raise ImportRefused with
        every problem of the whole import."""
        self.resolve(self.pending, stored_types, final=True)
        self.pending = []
        if self.chk.problems:
            raise ImportRefused(self.chk.problems)

    def resolve(
        self, pending: list[_Pending], stored_types: dict[str, str], *, final: bool = False
    ) -> list[_Pending]:
        """Check the pending cases whose linked cases are all known now; returns those
        still waiting (none when ``final``: a link to no case is then a problem). The
        links of the checked cases go to ``out.links``."""
        chk = self.chk
        waiting = []
        for pend in pending:
            missing = [lk for lk in pend.links if lk not in stored_types]
            if missing and not final:
                waiting.append(pend)
                continue
            for lk in missing:
                chk.add(f"{pend.path}.links", f"unknown case {lk!r}")
            if missing:
                continue
            ltypes = tuple(stored_types[lk] for lk in pend.links)
            f = pend.facts
            policy = self.terms.case(f.subscriber, f.reported_at).policy

            def classify_check(
                t: str,
                pr: str | None,
                _p: _Pending = pend,
                _pol: Policy = policy,
                _l: tuple[str, ...] = ltypes,
            ) -> list[tuple[str, str]]:
                return check_classification(
                    _pol,
                    _p.plan,
                    _p.facts.subscriber,
                    _p.deployment,
                    t,
                    pr,
                    konneqt_initiated=_p.konneqt_initiated,
                    linked_types=_l,
                )

            for fld, msg in check_classification(
                policy,
                pend.plan,
                f.subscriber,
                pend.deployment,
                f.type,
                f.priority,
                konneqt_initiated=pend.konneqt_initiated,
                linked_types=ltypes,
                component=f.component,
            ):
                chk.add(f"{pend.path}.{fld}", msg)
            try:
                check_history(f, pend.ordered, policy, classify_check)
            except IllegalEvent as exc:
                j = pend.ordered[exc.index].seq
                chk.add(f"{pend.path}.events[{j}].{exc.field}", exc.message)
            self.out.links.extend({"case_id": f.id, "linked_case_id": lk} for lk in pend.links)
        return waiting


def _changes(
    obj: Mapping[str, Any],
    p: str,
    chk: _Checker,
    horizon: int,
    problems: Callable[[dict[str, Any], int], list[tuple[str, str]]],
) -> list[dict[str, Any]]:
    """A subscriber's or deployment's ``changes`` list: dated records (policy §14)."""
    rows = []
    for j, c in enumerate(chk.get(obj, "changes", p, list, required=False, default=[]) or []):
        cp = f"{p}.changes[{j}]"
        if not isinstance(c, dict):
            chk.add(cp, "expected an object")
            continue
        n = len(chk.problems)
        eff_raw = chk.get(c, "effective_at", cp, str)
        eff = chk.conv(parse_instant, eff_raw, f"{cp}.effective_at") if eff_raw else None
        facts = chk.get(c, "facts", cp, dict)
        reason = chk.get(c, "reason", cp, str)
        by = chk.get(c, "by", cp, str, required=False)
        rec_raw = chk.get(c, "recorded_at", cp, str, required=False)
        rec = chk.conv(parse_instant, rec_raw, f"{cp}.recorded_at") if rec_raw else eff
        if rec is not None and rec > horizon:
            chk.add(f"{cp}.recorded_at", f"{format_instant(rec)} lies in the future")
        if isinstance(facts, dict) and eff is not None:
            for key, why in problems(facts, eff):
                chk.add(f"{cp}.facts.{key}", why)
        if len(chk.problems) == n and eff is not None and facts is not None:
            rows.append(
                {
                    "effective_at": eff,
                    "facts": facts,
                    "reason": reason,
                    "by": by,
                    "recorded_at": rec,
                }
            )
    return rows


def _canonical_subscriber(
    row: Mapping[str, Any],
    suspensions: list[tuple[str, int, int | None]],
    changes: list[dict[str, Any]],
) -> StoredRecord:
    """A subscriber record as stored, for telling "the same record" from a clash."""
    return (
        row["name"],
        row["plan"],
        row["coverage"],
        row["timezone"],
        json.dumps(row["holidays"], sort_keys=True),
        row["query_hour_limit"],
        row["term_start"],
        row["term_end"],
        row["terminated_at"],
        json.dumps(row["targets"] or {}, sort_keys=True),
        tuple(sorted(suspensions)),
        tuple((c["effective_at"], json.dumps(c["facts"], sort_keys=True)) for c in changes),
    )


def _with_file_versions(
    book: PolicyBook, doc: Mapping[str, Any], chk: _Checker, out: Prepared, now: int, fresh: bool
) -> PolicyBook:
    """The file's ``policy_versions`` (an export's). Into an empty database (a migration)
    they replace the stored history; otherwise a number already stored must hold the same
    text, and new ones are added. The file's cases are judged by the resulting book."""
    import hashlib

    from console.rules.policy import PolicyError, parse_policy
    from console.rules.policy_book import PolicyVersion

    has_versions = bool(_list(doc, "policy_versions", _Checker()))
    stored = {} if fresh and has_versions else {v.number: v for v in book.versions}
    out.replace_policy = fresh and has_versions
    added: list[PolicyVersion] = []
    for i, v in enumerate(_list(doc, "policy_versions", chk)):
        p = f"policy_versions[{i}]"
        if not isinstance(v, dict):
            chk.add(p, "expected an object")
            continue
        n = len(chk.problems)
        number = chk.get(v, "number", p, int)
        text = chk.get(v, "text", p, str)
        eff_raw = chk.get(v, "effective_at", p, str)
        effective = chk.conv(parse_instant, eff_raw, f"{p}.effective_at") if eff_raw else None
        rec_raw = chk.get(v, "recorded_at", p, str, required=False)
        rec = chk.conv(parse_instant, rec_raw, f"{p}.recorded_at") if rec_raw else effective
        reason = chk.get(v, "reason", p, str, required=False, default="") or ""
        by = chk.get(v, "by", p, str, required=False)
        if len(chk.problems) > n or number is None or text is None or effective is None:
            continue
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if number in stored:
            if stored[number].sha256 and stored[number].sha256 != sha:
                chk.add(f"{p}.text", f"policy version {number} is stored with other rules")
            continue
        try:
            parsed = parse_policy(text, f"{p}.text")
        except PolicyError as exc:
            chk.add(f"{p}.text", str(exc))
            continue
        if rec is not None and rec > now + 300:
            chk.add(f"{p}.recorded_at", f"{format_instant(rec)} lies in the future")
            continue
        added.append(PolicyVersion(number, effective, parsed, reason, by, rec or now, sha))
        out.policy_versions.append(
            {
                "number": number,
                "effective_at": effective,
                "text": text,
                "sha256": sha,
                "reason": reason,
                "by": by,
                "recorded_at": rec or now,
            }
        )
    if not added:
        return book
    if out.replace_policy:
        return PolicyBook(tuple(added), what_if=book.what_if)
    return PolicyBook((*book.versions, *added), what_if=book.what_if)


def component_names(raw: Any, *, managed: bool) -> tuple[str, ...]:
    """A deployment's managed third-party components as given (a list of names): distinct,
    non-empty, no commas; only a managed deployment has them (policy §5). Raise BadValue."""
    if not isinstance(raw, list | tuple):
        raise BadValue("a list of component names")
    names: list[str] = []
    for v in raw:
        if not isinstance(v, str) or not v.strip():
            raise BadValue(f"a component is a non-empty name, got {v!r}")
        name = v.strip()
        if "," in name or not name.isprintable():
            raise BadValue(f"a component name has no commas or control characters: {name!r}")
        if name in names:
            raise BadValue(f"component {name!r} is listed twice")
        names.append(name)
    if names and not managed:
        raise BadValue("only a managed deployment carries managed third-party components")
    return tuple(names)


def _judge_events(
    facts: CaseFacts,
    ordered: list[Event],
    terms: Terms,
    dep: DeploymentFacts | None,
    p: str,
    chk: _Checker,
) -> bool:
    """What each event needs beyond ``check_history`` (as ``console.actions`` checks a new
    one): an escalation names a target really missed by then, or is ``manual`` (its
    ``missed`` is filled in when absent); a reclassification names a listed component."""
    ok = True
    for i, e in enumerate(ordered):
        if e.kind == "escalated":
            missed, problem = judge_escalation(facts, ordered[:i], terms, e.at, e.data)
            if problem is not None:
                chk.add(f"{p}.events[{e.seq}].{problem[0]}", problem[1])
                ok = False
            else:
                e.data["missed"] = missed  # type: ignore[index]
        elif e.kind == "reclassified" and isinstance(e.data.get("component"), str):
            why = component_problem(dep, e.data["component"].strip())
            if why:
                chk.add(f"{p}.events[{e.seq}].component", why)
                ok = False
    return ok


def _attachments(c: Mapping[str, Any], p: str, cid: str, chk: _Checker) -> list[dict[str, Any]]:
    """A case's optional ``attachments``: [{name, size, sha256, path, added_at, added_by}]."""
    rows = []
    for j, a in enumerate(chk.get(c, "attachments", p, list, required=False, default=[]) or []):
        ap = f"{p}.attachments[{j}]"
        if not isinstance(a, dict):
            chk.add(ap, "expected an object")
            continue
        n = len(chk.problems)
        name = chk.get(a, "name", ap, str)
        size = chk.get(a, "size", ap, int)
        if isinstance(size, int) and not 0 <= size < 2**53:
            chk.add(f"{ap}.size", "must be a whole number of bytes from 0 to 2^53")
        sha = chk.get(a, "sha256", ap, str)
        if isinstance(sha, str) and (
            len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha)
        ):
            chk.add(f"{ap}.sha256", "expected 64 lowercase hex digits")
        path = chk.get(a, "path", ap, str)
        added_raw = chk.get(a, "added_at", ap, str)
        added = chk.conv(parse_instant, added_raw, f"{ap}.added_at") if added_raw else None
        by = chk.get(a, "added_by", ap, str, required=False)
        if len(chk.problems) == n:
            rows.append(
                {
                    "case_id": cid,
                    "name": name,
                    "size": size,
                    "sha256": sha,
                    "path": path,
                    "added_at": added,
                    "added_by": by,
                }
            )
    return rows


def existing_ids(conn: Conn, policy: Policy | PolicyBook, *, cases: bool = True) -> Existing:
    """What the database holds already; ``cases=False`` leaves the case ids unread (a
    streamed import asks the database about each batch's ids instead)."""
    ex = Existing()
    ex.subscribers = load_terms(conn, policy)
    from console.records import (
        deployment_change_table,
        load_deployment_changes,
        subscriber_change_table,
    )

    dchanges = load_deployment_changes(conn)
    for r in conn.execute(select(deployment_table)):
        base = deployment_facts(r)
        mine = dchanges.get(r.id, [])
        ex.deployments[r.id] = deployment_at(base, mine, None)
        ex.deployment_lines[r.id] = (base, mine)
        ex.deployment_records[r.id] = (
            r.subscriber_id,
            r.environment,
            bool(r.managed),
            r.product,
            r.version,
            tuple(r.components or ()),
            tuple(
                (eff, json.dumps(f, sort_keys=True))
                for eff, f in conn.execute(
                    select(deployment_change_table.c.effective_at, deployment_change_table.c.facts)
                    .where(deployment_change_table.c.deployment_id == r.id)
                    .order_by(deployment_change_table.c.id)
                )
            ),
        )
    susp: dict[str, list[tuple[str, int, int | None]]] = {}
    for r in conn.execute(
        select(
            suspension_table.c.subscriber_id,
            suspension_table.c.reason,
            suspension_table.c.from_at,
            suspension_table.c.until_at,
        )
    ):
        susp.setdefault(r.subscriber_id, []).append((r.reason, r.from_at, r.until_at))
    sch: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
        select(
            subscriber_change_table.c.subscriber_id,
            subscriber_change_table.c.effective_at,
            subscriber_change_table.c.facts,
        ).order_by(subscriber_change_table.c.id)
    ):
        sch.setdefault(r.subscriber_id, []).append(
            {"effective_at": r.effective_at, "facts": dict(r.facts or {})}
        )
    for r in conn.execute(select(subscriber_table)):
        row = {
            "name": r.name,
            "plan": r.plan,
            "coverage": r.coverage,
            "timezone": r.timezone,
            "holidays": r.holidays,
            "query_hour_limit": r.query_hour_limit,
            "term_start": r.term_start,
            "term_end": r.term_end,
            "terminated_at": r.terminated_at,
            "targets": r.targets or {},
        }
        ex.subscriber_records[r.id] = _canonical_subscriber(
            row, susp.get(r.id, []), sch.get(r.id, [])
        )
    from models import SupportUser

    ex.users = {r[0] for r in conn.execute(select(table_of(SupportUser).c.id))}
    if cases:
        ex.cases = {r[0]: r[1] for r in conn.execute(select(case_table.c.id, case_table.c.type))}
    ex.has_cases = (
        bool(ex.cases) or conn.execute(select(case_table.c.id).limit(1)).first() is not None
    )
    from models import ProductVersion

    pv = table_of(ProductVersion)
    ex.products = {(r[0], r[1]) for r in conn.execute(select(pv.c.product, pv.c.version))}
    from models import Operator

    ex.operators = {r[0] for r in conn.execute(select(table_of(Operator).c.name))}
    return ex


def write(
    conn: Conn,
    prep: Prepared,
    recorded_at: int,
    progress: Callable[[int], None] | None = None,
    *,
    by: str | None = None,
) -> dict[str, int]:
    """Insert everything prepared; the caller owns the transaction. ``by``: the login
    importing (each event's ``recorded_by``; on PostgreSQL the database sets it)."""
    write_head(conn, prep)
    n_events = write_cases(conn, prep, recorded_at, progress, by=by)
    write_tail(conn, prep)
    return {
        "subscribers": len(prep.subscribers),
        "deployments": len(prep.deployments),
        "users": len(prep.users),
        "cases": len(prep.cases),
        "events": n_events,
        **({"products": len(prep.products)} if prep.products else {}),
    }


def write_head(conn: Conn, prep: Prepared) -> None:
    """The sections the cases depend on: policy versions, subscribers (and suspensions),
    deployments (and their dated changes), users, products."""
    from console.operators import is_postgres
    from models import SupportUser

    if prep.policy_versions:
        from sqlalchemy import delete, text

        from models import PolicyVersionRow

        if prep.replace_policy and is_postgres(conn):
            # policy_version is never deleted but by its owner's function.
            conn.execute(text("SELECT support_console_reset_policy()"))
        elif prep.replace_policy:
            conn.execute(delete(table_of(PolicyVersionRow)))
        conn.execute(insert(table_of(PolicyVersionRow)), prep.policy_versions)
    if prep.subscribers:
        conn.execute(insert(subscriber_table), prep.subscribers)
    if prep.subscriber_changes:
        from models import SubscriberChange

        conn.execute(insert(table_of(SubscriberChange)), prep.subscriber_changes)
    if prep.suspensions:
        from console.records import suspension_lift_table

        for row, lift in zip(prep.suspensions, prep.lifts, strict=True):
            res = conn.execute(insert(suspension_table).values(**row))
            if lift is not None:
                # (a Session's result too, for an INSERT; one row: its key is known)
                assert isinstance(res, CursorResult)
                assert res.inserted_primary_key is not None
                conn.execute(
                    insert(suspension_lift_table).values(
                        suspension_id=int(res.inserted_primary_key[0]), **lift
                    )
                )
    if prep.deployments:
        conn.execute(insert(deployment_table), prep.deployments)
    if prep.deployment_changes:
        from models import DeploymentChange

        conn.execute(insert(table_of(DeploymentChange)), prep.deployment_changes)
    if prep.users:
        conn.execute(insert(table_of(SupportUser)), prep.users)
    if prep.products:
        from models import ProductVersion

        conn.execute(insert(table_of(ProductVersion)), prep.products)


def write_cases(
    conn: Conn,
    prep: Prepared,
    recorded_at: int,
    progress: Callable[[int], None] | None = None,
    batch: int = 2000,
    *,
    by: str | None = None,
) -> int:
    """The prepared cases with their events, summaries (``case_state``), attachments,
    escalations and time entries; returns the number of events. Links are left to
    ``write_tail`` (a link may name a case written later)."""
    n_events = 0
    states = prep.states
    for k in range(0, len(prep.cases), batch):
        cases = prep.cases[k : k + batch]
        hist = prep.histories[k : k + batch]
        bulk_insert(conn, case_table, cases)
        ev_rows: list[dict[str, Any]] = []
        for facts, events, _ in hist:
            for e in events:  # record order, so ids keep it
                ev_rows.append(
                    {
                        "case_id": facts.id,
                        "at": e.at,
                        "kind": e.kind,
                        "by": e.by,
                        "data": dict(e.data),
                        "recorded_by": by,
                        "recorded_at": e.recorded_at if e.recorded_at is not None else recorded_at,
                    }
                )
        if ev_rows:
            bulk_insert(conn, event_table, ev_rows)
        n_events += len(ev_rows)
        rev = next_rev(conn)
        rows = (
            states[k : k + batch]
            if states is not None
            else [project(f, sort_events(ev), t) for f, ev, t in hist]
        )
        bulk_insert(conn, case_state_table, [dict(r, rev=rev + j) for j, r in enumerate(rows)])
        if progress:
            progress(len(cases))
    if prep.attachments:
        from models import Attachment

        bulk_insert(conn, table_of(Attachment), prep.attachments)
    if prep.escalations:
        from models import Escalation

        bulk_insert(conn, table_of(Escalation), prep.escalations)
    # Time entries need the events' ids.
    logged = [f.id for f, evs, _ in prep.histories if any(e.kind == "time_logged" for e in evs)]
    if logged:
        sub_of = {f.id: f.subscriber for f, _, _ in prep.histories}
        for i in range(0, len(logged), 900):
            chunk = logged[i : i + 900]
            q = select(
                event_table.c.id,
                event_table.c.case_id,
                event_table.c.at,
                event_table.c.by,
                event_table.c.data,
            ).where(event_table.c.case_id.in_(chunk), event_table.c.kind == "time_logged")
            rows = [
                time_entry_row(r.id, r.case_id, sub_of[r.case_id], r.at, r.by, r.data)
                for r in conn.execute(q)
            ]
            if rows:
                bulk_insert(conn, time_entry_table, rows)
    return n_events


def bulk_insert(conn: Conn, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys). On SQLite straight through the driver's
    ``executemany`` (JSON columns encoded as SQLAlchemy would: ``json.dumps``), which an
    import of a million cases needs: SQLAlchemy's per-row parameter processing would cost
    it a third of its time. Elsewhere through SQLAlchemy."""
    if not rows:
        return
    if isinstance(conn, Session):
        conn = conn.connection()
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    cols = list(rows[0])
    encode = [isinstance(table.c[c].type, JSON) for c in cols]
    dumps = json.dumps
    if any(encode):
        params = [
            tuple(dumps(r[c]) if e else r[c] for c, e in zip(cols, encode, strict=True))
            for r in rows
        ]
    else:
        params = [tuple(r[c] for c in cols) for r in rows]
    _executemany(conn, table, cols, params)


def insert_rows(conn: Conn, table: Any, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows``: tuples in the order of ``cols``, their JSON columns encoded already
    (``json.dumps``' text). On SQLite the driver's ``executemany`` takes them as they are;
    elsewhere SQLAlchemy takes dicts (the JSON decoded again: it encodes it itself)."""
    if not rows:
        return
    if isinstance(conn, Session):
        conn = conn.connection()
    if conn.dialect.name == "sqlite":
        _executemany(conn, table, cols, rows)
        return
    loads = json.loads
    encoded = [c for c in cols if isinstance(table.c[c].type, JSON)]
    dicts = [dict(zip(cols, r, strict=True)) for r in rows]
    for d in dicts:
        for c in encoded:
            d[c] = loads(d[c])
    conn.execute(insert(table), dicts)


def _executemany(conn: Any, table: Any, cols: Sequence[str], params: list[tuple[Any, ...]]) -> None:
    sql = (
        f"INSERT INTO {table.name} ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)}) "
        f"VALUES ({', '.join('?' * len(cols))})"
    )
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None  # (None only once the connection is closed)
    cur = dbapi.cursor()
    try:
        cur.executemany(sql, params)
    finally:
        cur.close()


def write_tail(conn: Conn, prep: Prepared) -> None:
    """What names cases or needs them all written: links, operators."""
    from console.operators import is_postgres

    if prep.links:
        conn.execute(insert(case_link_table), prep.links)
    if prep.operators and is_postgres(conn):
        # A role on PostgreSQL is a login's membership: each operator becomes (or stays) a
        # login with that role, through the lead's grant function.
        from sqlalchemy import text

        for o in prep.operators:
            conn.execute(
                text("SELECT support_console_grant(:n, :r, NULL, :now)"),
                {"n": o["name"], "r": o["role"], "now": o["updated_at"]},
            )
    elif prep.operators:
        from models import Operator

        conn.execute(insert(table_of(Operator)), prep.operators)


def time_entry_row(
    event_id: int, case_id: str, subscriber: str, at: int, by: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "event_id": event_id,
        "subscriber_id": subscriber,
        "at": at,
        "hours": float(data.get("hours", 0)),
        "exempt": bool(data.get("exempt", False)),
        "note": data.get("note"),
        "by": by,
    }
