"""Realistic demo data in the interchange format, at any size (``demo --cases 100000``).

Deterministic for a seed and a "now": subscribers on both plans (some 24x7, some in other
zones, one with order-form overrides, one lapsed), managed and unmanaged production and
pre-production deployments, and cases of every type walked through plausible lifecycles
(new, acknowledged, awaiting the subscriber, workaround, reclassified, suspended, resolved,
closed, reopened) with every event in the past.

``--closed M`` adds a desk's history (``history``, a generator: a million cases are never
held at once): M closed cases reported over the three years before "now", numbered before
the open ones in the order they came in, each walked to its close: acknowledgement,
status updates, time logged on queries, waits for the subscriber, workarounds,
escalations to a war team (team, plan, board moves) for some incidents that missed a
target, resolution, the odd reopening, closure.

So that every pane has something to show a newcomer: a support matrix in which some
versions are past their end of support (``†`` in the queue, the lifespans pane) and one is
missing from it (``?``); two terminated subscribers whose support users are due for purge
now and within 30 days (the purge pane; a termination is ``terminated_at`` on the
subscriber record: a dated change cannot be recorded in the past); cases assigned to the
engineers who took them, some handed over, a few to the person running the demo (``m``);
and the demo's engineers in the operator list, so a case can be handed over to them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from console.rules.timeutil import format_instant

_FIRST = [
    "Alder",
    "Birch",
    "Cedar",
    "Dogwood",
    "Elm",
    "Faro",
    "Gale",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Linden",
    "Maple",
    "Nimbus",
    "Oak",
    "Pine",
    "Quartz",
    "Rowan",
    "Sable",
    "Tern",
    "Umber",
    "Vale",
    "Willow",
    "Yarrow",
    "Zephyr",
]
_SECOND = [
    "Finance",
    "Media",
    "Insurance",
    "Retail",
    "Logistics",
    "Comércio",
    "Health",
    "Energy",
    "Telecom",
    "Bank",
    "Foods",
    "Travel",
    "Labs",
    "Mobility",
    "Games",
]
_PEOPLE = [
    "Ana Silva",
    "Rosa Klein",
    "Jonas Berg",
    "Mia Lopez",
    "Ken Ito",
    "Zoe Carter",
    "Lucas Pereira",
    "Priya Nair",
    "Omar Haddad",
    "Lena Novak",
    "Sam Okafor",
    "Yuki Sato",
]
_ENGINEERS = ["eng-bwalsh", "eng-fsouza", "eng-mchen", "eng-aortiz", "eng-kdubois", "eng-rpatel"]
_LEADS = ["lead-okane", "lead-imarsh"]
_PRODUCTS = [
    ("gateway", ["4.1.3", "4.2.0", "4.3.1"]),
    ("identity", ["6.0.0", "7.0.2"]),
    ("integrator", ["3.2.0", "4.0.1"]),
    ("streaming", ["2.5.4"]),
]
# Managed third-party components Konneqt administers inside a managed deployment (policy §5).
_COMPONENTS = {
    "gateway": ["postgres", "redis"],
    "identity": ["openldap"],
    "integrator": ["kafka"],
    "streaming": ["kafka", "zookeeper"],
}
# The §9 guideline criteria by priority (the keys of console/rules/policy.toml).
_CRITERIA = {
    "P0": ["component_unavailable", "legal_order_cessation"],
    "P1": [
        "substantial_service_loss",
        "critical_data_at_risk",
        "operations_severely_disrupted",
        "reputational_risk",
        "preprod_blocks_critical_release",
    ],
    "P2": [
        "long_term_productivity",
        "recoverable_software_errors",
        "severe_performance_degradation",
    ],
    "P3": [
        "components_impaired_usable",
        "milestones_at_risk",
        "nominal_performance_degradation",
        "noncritical_errors",
    ],
}
_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "America/Sao_Paulo",
]
_INCIDENT_TITLES = [
    "{p} returns 502 on all routes",
    "{p} latency above 5 s for token calls",
    "{p} pods restart in a loop after upgrade",
    "{p} drops messages under load",
    "{p} rejects valid certificates",
    "{p} admin console unreachable",
    "Memory leak in {p} worker",
    "{p} throttling ignores per-tenant quota",
    "Stale cache entries served by {p}",
    "{p} fails over to the wrong region",
]
_QUERY_TITLES = [
    "How to rotate signing keys in {p}?",
    "Best practice for {p} blue/green deploys",
    "Can {p} cache responses per user?",
    "Migrating policies to {p} {v}",
    "Como configurar OAuth para parceiros no {p}?",
    "Rate limits per API key in {p}",
]
_SRA_TITLES = [
    "Scan report: TLS findings on {p}",
    "Pen-test report for {p} {v}",
    "CVE triage request for {p}",
]
_SR_TITLES = [
    "Increase {p} replica count",
    "Export {p} audit logs for March",
    "Rotate {p} database credentials",
    "Add IP allow-list entry on {p}",
]
_CR_TITLES = ["Scale out {p} cluster", "Apply {p} {v} security patch", "Change {p} TLS policy"]
_ODD_TITLES = [
    "Portal shows [bold]markup[/bold] literally",
    "Error text contains \x1b[31mESC codes\x1b[0m",
    "Alert mail says [red]CRITICAL[/] \x07 twice",
]

HOUR = 3600
DAY = 86400


def generate(
    n_cases: int, *, seed: int = 7, now: int, first_id: int = 10001, me: str | None = None
) -> dict[str, Any]:
    """Subscribers, deployments, users and ``n_cases`` recent cases (open or lately done),
    numbered from ``first_id``; ``me``: the login running the demo, who holds a few cases."""
    rnd = random.Random(seed)
    # A second stream for what issue 18 added (components, criteria, vendor waits, change
    # request steps), so the rest of the data stays what it was for a seed.
    extra = random.Random(seed * 7919 + 18)
    # A third for issue 15's additions (assignments, the matrix, terminated subscribers).
    third = random.Random(seed * 104729 + 15)
    today = datetime.fromtimestamp(now, UTC).date()
    n_subs = max(6, min(250, n_cases // 300 + 6))
    subscribers, deployments, users = [], [], []
    by_sub: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for i in range(n_subs):
        name = f"{_FIRST[i % len(_FIRST)]} {_SECOND[(i * 7) % len(_SECOND)]}"
        if i >= len(_FIRST):
            name += f" {i // len(_FIRST) + 1}"
        sid = name.lower().replace(" ", "-").replace("é", "e")
        plan = "basic" if i % 3 == 2 else "enterprise"
        start = today - timedelta(days=rnd.randint(30, 330))
        sub: dict[str, Any] = {
            "id": sid,
            "name": name,
            "plan": plan,
            "coverage": "24x7" if plan == "enterprise" and i % 5 == 4 else "business",
            "term_start": start.isoformat(),
            "term_end": (date(start.year + 1, start.month, 1) - timedelta(days=1)).isoformat(),
            "terminated_at": None,
            "targets": {},
        }
        if plan == "enterprise" and i % 4 == 1:
            sub["timezone"] = _ZONES[i % len(_ZONES)]
        if i == 3:
            sub["targets"] = {"incident.P1.response": "30m"}
            sub["query_hour_limit"] = 80
        if i == 5:  # a lapsed subscription: suspended automatically
            sub["term_start"] = (today - timedelta(days=380)).isoformat()
            sub["term_end"] = (today - timedelta(days=16)).isoformat()
        subscribers.append(sub)
        deps: dict[str, list[dict[str, Any]]] = {
            "production": [],
            "pre-production": [],
            "managed": [],
        }
        for j, (env, managed) in enumerate(
            [
                ("production", plan == "enterprise" and i % 2 == 0),
                ("production", False),
                ("pre-production", False),
            ]
        ):
            if j == 1 and i % 3 == 0:
                continue
            product, versions = _PRODUCTS[(i + j) % len(_PRODUCTS)]
            d = {
                "id": f"{sid}-{'prod' if env == 'production' else 'stage'}-{j}",
                "subscriber": sid,
                "environment": env,
                "managed": managed,
                "product": product,
                "version": versions[(i + j) % len(versions)],
                "components": list(_COMPONENTS[product]) if managed else [],
            }
            deployments.append(d)
            deps[env].append(d)
            if managed:
                deps["managed"].append(d)
        by_sub[sid] = deps
        for k in range(1 + i % 3):
            person = _PEOPLE[(i * 3 + k) % len(_PEOPLE)]
            first, last = person.lower().split(" ")
            users.append(
                {
                    "id": f"{sid}-u{k + 1}",
                    "subscriber": sid,
                    "name": person,
                    "email": f"{first}.{last}@{sid.split('-')[0]}.example",
                    "admin": k == 0,
                }
            )

    # Query hours: aim each subscriber's term total at a spread around its limit (most
    # comfortably under, some in the warning band, a few over), whatever the demo's size.
    queries_per_sub = max(1.0, n_cases * 0.22 / n_subs)
    hour_scale = {
        s["id"]: rnd.choice([0.3, 0.5, 0.6, 0.7, 0.85, 0.95, 1.2])
        * (50 if s["plan"] == "enterprise" else 25)
        / queries_per_sub
        for s in subscribers
    }
    cases: list[dict[str, Any]] = []
    srs: list[dict[str, Any]] = []
    for n in range(n_cases):
        sub = subscribers[rnd.randrange(n_subs)]
        sid, plan = sub["id"], sub["plan"]
        deps = by_sub[sid]
        # Recent cases are more common: most of the queue is days old, a tail is weeks old.
        age = int(rnd.expovariate(1 / (3 * DAY))) + rnd.randint(60, 3 * HOUR)
        age = min(age, 40 * DAY)
        reported = now - age
        roll = rnd.random()
        if roll < 0.05 and srs:
            ctype = "change_request"
        elif roll < 0.14 and deps["managed"] and plan == "enterprise":
            ctype = "service_request"
        elif roll < 0.20 and plan == "enterprise":
            ctype = "security_report"
        elif roll < 0.42:
            ctype = "query"
        else:
            ctype = "incident"
        dep = None
        prio = None
        if ctype == "incident":
            pool = deps["production"] + (deps["pre-production"] if plan == "enterprise" else [])
            dep = rnd.choice(pool)
            prio = rnd.choices(["P0", "P1", "P2", "P3"], [1, 3, 6, 8])[0]
            if prio == "P0" and not (dep["managed"] and plan == "enterprise"):
                prio = "P1"
        elif ctype in ("service_request",):
            dep = rnd.choice(deps["managed"])
        elif ctype == "security_report":
            dep = rnd.choice(deps["production"] + deps["pre-production"])
        elif ctype == "query" and rnd.random() < 0.5:
            dep = rnd.choice(deps["production"])
        links: list[str] = []
        kinit = False
        if ctype == "change_request":
            parent = rnd.choice(srs)
            sub = next(s for s in subscribers if s["id"] == parent["subscriber"])
            sid, plan = sub["id"], sub["plan"]
            dep = next(d for d in deployments if d["id"] == parent["deployment"])
            links = [parent["id"]]
            reported = max(reported, _at_of(parent["reported_at"]) + HOUR)
            reported = min(reported, now - 60)
        product = dep["product"] if dep else _PRODUCTS[n % len(_PRODUCTS)][0]
        version = dep["version"] if dep else ""
        templates = {
            "incident": _INCIDENT_TITLES,
            "query": _QUERY_TITLES,
            "security_report": _SRA_TITLES,
            "service_request": _SR_TITLES,
            "change_request": _CR_TITLES,
        }[ctype]
        title = rnd.choice(templates).format(p=product.capitalize(), v=version)
        if n % 997 == 13:
            title = _ODD_TITLES[(n // 997) % len(_ODD_TITLES)]
        case = {
            "id": f"CS-{first_id + n}",
            "subscriber": sid,
            "deployment": dep["id"] if dep else None,
            "type": ctype,
            "priority": prio,
            "title": title,
            "reported_at": format_instant(reported),
            "aware_at": None,
            "level": "L1",
            "links": links,
            "konneqt_initiated": False,
            "events": [],
        }
        if prio is not None:
            criterion = extra.choice(_CRITERIA[prio])
            if prio == "P0" and dep is not None and dep["components"] and extra.random() < 0.6:
                criterion = "component_unavailable"
                case["component"] = extra.choice(dep["components"])
                case["title"] = f"{case['component'].capitalize()} unavailable in {dep['id']}"
            case["criterion"] = criterion
        if ctype == "change_request" and not links:
            kinit = True
        case["konneqt_initiated"] = kinit
        case["events"] = _lifecycle(rnd, case, reported, now, plan, dep, hour_scale[sid])
        if case.get("component"):
            _vendor_wait(extra, case, now)
        elif ctype == "change_request":
            _cr_steps(extra, case, reported, now)
        _assignments(third, case, now, me)
        cases.append(case)
        if ctype == "service_request":
            srs.append(case)
    _terminated(subscribers, users, today, now)
    return {
        "subscribers": subscribers,
        "deployments": deployments,
        "users": users,
        "cases": cases,
        "products": _matrix(today),
        "operators": [{"name": e, "role": "engineer"} for e in _ENGINEERS],
    }


def _matrix(today: date) -> list[dict[str, Any]]:
    """The support matrix (policy §12) around ``today``: each product's oldest version past
    its end of support (released over three years ago, or a year after a notice), one near
    it, the newest supported; streaming 2.5.4 is left out (``?``: not in the matrix)."""

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    return [
        {
            "product": "gateway",
            "version": "4.1.3",
            "released": ago(3 * 365 + 120),
            "discontinuation_notice": None,
        },
        {
            "product": "gateway",
            "version": "4.2.0",
            "released": ago(3 * 365 - 20),
            "discontinuation_notice": None,
        },
        {
            "product": "gateway",
            "version": "4.3.1",
            "released": ago(200),
            "discontinuation_notice": None,
        },
        {
            "product": "identity",
            "version": "6.0.0",
            "released": ago(4 * 365),
            "discontinuation_notice": ago(2 * 365),
        },
        {
            "product": "identity",
            "version": "7.0.2",
            "released": ago(400),
            "discontinuation_notice": None,
        },
        {
            "product": "integrator",
            "version": "3.2.0",
            "released": ago(3 * 365 + 10),
            "discontinuation_notice": ago(380),
        },
        {
            "product": "integrator",
            "version": "4.0.1",
            "released": ago(500),
            "discontinuation_notice": None,
        },
    ]


def _terminated(
    subscribers: list[dict[str, Any]], users: list[dict[str, Any]], today: date, now: int
) -> None:
    """Two former subscribers, terminated 100 and 75 days ago, with their support users:
    retention (policy §11) makes the first's due for purge now and the second's within the
    next 30 days. They have no cases (their contracts ended before the demo's history)."""
    for name, days in (("Umber Freight", 100), ("Vale Optics", 75)):
        sid = name.lower().replace(" ", "-")
        ended = now - days * DAY
        start = datetime.fromtimestamp(ended, UTC).date() - timedelta(days=300)
        subscribers.append(
            {
                "id": sid,
                "name": name,
                "plan": "basic",
                "coverage": "business",
                "term_start": start.isoformat(),
                "term_end": (start + timedelta(days=364)).isoformat(),
                "terminated_at": format_instant(ended),
                "targets": {},
            }
        )
        for k, person in enumerate(("Nora Lind", "Theo Marsh") if days > 90 else ("Ivy Chen",)):
            first, last = person.lower().split(" ")
            users.append(
                {
                    "id": f"{sid}-u{k + 1}",
                    "subscriber": sid,
                    "name": person,
                    "email": f"{first}.{last}@{sid.split('-')[0]}.example",
                    "admin": k == 0,
                }
            )


def _assignments(rnd: random.Random, case: dict[str, Any], now: int, me: str | None) -> None:
    """Who holds the case (policy §10): most acknowledged cases were taken by the engineer
    who acknowledged them; some were handed over later, a few to ``me``."""
    events = case["events"]
    kinds = [e["kind"] for e in events]
    if "acknowledged" not in kinds or rnd.random() < 0.25:
        return
    i = kinds.index("acknowledged")
    ack = events[i]
    taker = ack["by"]
    events.insert(i + 1, {"at": ack["at"], "kind": "assigned", "by": taker, "to": taker})
    ends = [_at_of(e["at"]) for e in events if e["kind"] == "closed"]
    start, stop = _at_of(ack["at"]) + 60, min([now - 60, *ends])
    if start >= stop:
        return
    roll = rnd.random()
    if roll < 0.12 and me:
        to = me
    elif roll < 0.30:
        to = rnd.choice([e for e in _ENGINEERS if e != taker])
    else:
        return
    if to == taker:
        return
    at = rnd.randint(start, stop)
    events.append({"at": format_instant(at), "kind": "assigned", "by": taker, "to": to})
    events.sort(key=lambda e: _at_of(e["at"]))


def _vendor_wait(rnd: random.Random, case: dict[str, Any], now: int) -> None:
    """A P0 on a managed third-party component: after the acknowledgement the vendor's
    assistance is often awaited (its resolution clock paused), sometimes answered."""
    events = case["events"]
    kinds = [e["kind"] for e in events]
    if "acknowledged" not in kinds or "reclassified" in kinds or rnd.random() < 0.3:
        return
    ack = _at_of(events[kinds.index("acknowledged")]["at"])
    # Wait from after the acknowledgement; the rest of the history must not need the
    # case open meanwhile, so only cases still open past the wait get one.
    ends = [_at_of(e["at"]) for e in events if e["kind"] in ("resolved", "closed")]
    start = ack + rnd.randint(20 * 60, 3 * HOUR)
    stop = min([now - 60, *ends])
    if start >= stop:
        return
    events.append(
        {
            "at": format_instant(start),
            "kind": "awaiting_vendor",
            "by": _ENGINEERS[0],
            "note": f"Ticket opened with the {case['component']} vendor",
        }
    )
    answered = start + rnd.randint(HOUR, 2 * DAY)
    if ends or (answered < now - 60 and rnd.random() < 0.5):
        answered = min(answered, stop - 60)  # before a resolution (which ends the wait anyway)
        if answered > start:
            events.append(
                {
                    "at": format_instant(answered),
                    "kind": "vendor_responded",
                    "by": _ENGINEERS[0],
                    "note": "Vendor supplied a hotfix",
                }
            )
    events.sort(key=lambda e: _at_of(e["at"]))


def _cr_steps(rnd: random.Random, case: dict[str, Any], reported: int, now: int) -> None:
    """A change request walked some steps of its status (policy §5), one at a time."""
    t = reported
    path = rnd.choice(
        [["approved", "scheduled", "implemented", "closed"], ["rejected"], ["approved", "rejected"]]
    )
    for status in path[: rnd.randint(0, len(path))]:
        t += rnd.randint(HOUR, DAY)
        if t >= now:
            return
        case["events"].append(
            {
                "at": format_instant(t),
                "kind": "cr_status",
                "by": rnd.choice(_LEADS),
                "status": status,
            }
        )


def _at_of(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _lifecycle(
    rnd: random.Random,
    case: dict[str, Any],
    reported: int,
    now: int,
    plan: str,
    dep: dict[str, Any] | None,
    hour_scale: float = 1.0,
) -> list[dict[str, Any]]:
    """A plausible history ending before ``now``; the walk stops where time runs out."""
    events: list[dict[str, Any]] = []
    t = reported
    eng = rnd.choice(_ENGINEERS)
    state = {"level": "L1", "prio": case["priority"]}

    def step(delay: int, kind: str, by: str = eng, **data: Any) -> bool:
        nonlocal t
        nt = t + max(60, delay)
        if nt >= now:
            return False
        t = nt
        events.append({"at": format_instant(t), "kind": kind, "by": by, **data})
        return True

    ctype = case["type"]
    if ctype == "change_request":
        return events
    fate = rnd.random()
    if fate < 0.12 and now - reported < 10 * HOUR:  # new, not yet acknowledged
        return events
    if not step(rnd.randint(5 * 60, 5 * HOUR), "acknowledged"):
        return events
    if ctype == "incident" and rnd.random() < 0.08:
        choices = [p for p in ("P1", "P2", "P3") if p != state["prio"]]
        new = rnd.choice(choices)
        if not step(
            rnd.randint(600, 2 * HOUR),
            "reclassified",
            by=rnd.choice(_LEADS),
            priority=new,
            reason="Impact re-assessed with the subscriber",
        ):
            return events
        state["prio"] = new
    n_updates = rnd.randint(0, 4)
    for _ in range(n_updates):
        if ctype == "incident" and not step(
            rnd.randint(HOUR, 5 * HOUR),
            "status_update",
            note=rnd.choice(
                [
                    "Investigating logs",
                    "Reproduced in lab",
                    "Fix in review",
                    "Monitoring after change",
                ]
            ),
        ):
            return events
        if ctype == "query":
            hours = max(0.25, round(hour_scale * rnd.uniform(0.3, 0.9) * 4) / 4)
            exempt = rnd.random() < 0.08
            note = (
                "Documentation fix: the migration guide omitted a required step"
                if exempt
                else "Research and answer"
            )
            if not step(
                rnd.randint(HOUR, DAY), "time_logged", hours=hours, exempt=exempt, note=note
            ):
                return events
    if rnd.random() < 0.25:
        if not step(
            rnd.randint(HOUR, 6 * HOUR), "awaiting_subscriber", note="Need logs and request ids"
        ):
            return events
        if rnd.random() < 0.5 and now - t < 3 * DAY:
            return events  # still waiting
        if not step(
            rnd.randint(2 * HOUR, 2 * DAY), "subscriber_responded", by=f"{case['subscriber']}-u1"
        ):
            return events
    if (
        rnd.random() < 0.15
        and state["level"] == "L1"
        and not step(rnd.randint(HOUR, DAY), "level_changed", level=rnd.choice(["L2", "L3"]))
    ):
        return events
    if ctype == "incident" and rnd.random() < 0.03:
        if not step(
            rnd.randint(HOUR, DAY),
            "suspended",
            by=rnd.choice(_LEADS),
            reason="custom_extension",
            note="Issue is in the subscriber's custom extension",
        ):
            return events
        return events
    if (
        ctype == "incident"
        and rnd.random() < 0.5
        and not step(rnd.randint(2 * HOUR, 2 * DAY), "workaround_provided")
    ):
        return events
    if fate < 0.55:  # open, in progress: most teams keep their status updates current
        if ctype == "incident" and rnd.random() < 0.85:
            step(
                max(60, now - t - rnd.randint(10 * 60, 3 * HOUR)),
                "status_update",
                note="Still working on it; next update within 4 h",
            )
        return events
    if not step(rnd.randint(2 * HOUR, 3 * DAY), "resolved"):
        return events
    if fate < 0.70:
        return events  # resolved, waiting to close
    if fate < 0.74:
        step(rnd.randint(HOUR, DAY), "reopened", by=f"{case['subscriber']}-u1")
        return events
    step(rnd.randint(HOUR, 2 * DAY), "closed")
    return events


YEAR = 365 * DAY


def history(
    doc: dict[str, Any],
    n_closed: int,
    *,
    seed: int = 7,
    now: int,
    first_id: int = 10001,
    years: int = 3,
) -> Iterator[dict[str, Any]]:
    """``n_closed`` closed cases of the subscribers and deployments of ``doc``, reported
    evenly over the ``years`` before ``now`` (up to 40 days before it), oldest first,
    numbered from ``first_id``; made one at a time."""
    rnd = random.Random(seed * 7919 + 1)
    subs = doc["subscribers"]
    deps_of: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for d in doc["deployments"]:
        bucket = deps_of.setdefault(
            d["subscriber"], {"production": [], "pre-production": [], "managed": []}
        )
        bucket[d["environment"]].append(d)
        if d["managed"]:
            bucket["managed"].append(d)
    start = now - years * YEAR
    span = max(1, (now - 40 * DAY) - start)
    subs = [s for s in subs if s["id"] in deps_of]  # (a subscriber may have no deployment)
    active = [s for s in subs if s.get("terminated_at") is None]
    for k in range(n_closed):
        reported = start + span * k // max(1, n_closed) + rnd.randrange(0, 3600)
        sub = subs[rnd.randrange(len(subs))]
        ended = sub.get("terminated_at")
        if ended is not None and _at_of(ended) <= reported:  # no cases after a termination
            sub = rnd.choice(active)
        sid, plan = sub["id"], sub["plan"]
        deps = deps_of[sid]
        roll = rnd.random()
        if roll < 0.08 and deps["managed"] and plan == "enterprise":
            ctype = "service_request"
        elif roll < 0.13 and plan == "enterprise":
            ctype = "security_report"
        elif roll < 0.40:
            ctype = "query"
        else:
            ctype = "incident"
        dep, prio = None, None
        if ctype == "incident":
            dep = rnd.choice(
                deps["production"] + (deps["pre-production"] if plan == "enterprise" else [])
            )
            prio = rnd.choices(["P0", "P1", "P2", "P3"], [1, 3, 6, 8])[0]
            if prio == "P0" and not (dep["managed"] and plan == "enterprise"):
                prio = "P1"
        elif ctype == "service_request":
            dep = rnd.choice(deps["managed"])
        elif ctype == "security_report":
            dep = rnd.choice(deps["production"] + deps["pre-production"])
        elif rnd.random() < 0.5:
            dep = rnd.choice(deps["production"])
        product = dep["product"] if dep else _PRODUCTS[k % len(_PRODUCTS)][0]
        templates = {
            "incident": _INCIDENT_TITLES,
            "query": _QUERY_TITLES,
            "security_report": _SRA_TITLES,
            "service_request": _SR_TITLES,
        }[ctype]
        case = {
            "id": f"CS-{first_id + k}",
            "subscriber": sid,
            "deployment": dep["id"] if dep else None,
            "type": ctype,
            "priority": prio,
            "title": rnd.choice(templates).format(
                p=product.capitalize(), v=dep["version"] if dep else ""
            ),
            "reported_at": format_instant(reported),
            "aware_at": None,
            "level": "L1",
            "links": [],
            "konneqt_initiated": False,
        }
        case["events"] = _closed_life(rnd, case, reported, now)
        yield case


def _closed_life(
    rnd: random.Random, case: dict[str, Any], reported: int, now: int
) -> list[dict[str, Any]]:
    """A finished case's history, from acknowledgement to closure (all before ``now``)."""
    events: list[dict[str, Any]] = []
    t = reported
    eng = rnd.choice(_ENGINEERS)
    ctype = case["type"]
    customer = f"{case['subscriber']}-u1"

    def at(delay: int, kind: str, by: str = eng, **data: Any) -> None:
        nonlocal t
        t += max(60, delay)
        events.append({"at": format_instant(t), "kind": kind, "by": by, **data})

    at(rnd.randint(5 * 60, 4 * HOUR), "acknowledged")
    if ctype == "incident" and rnd.random() < 0.05:
        choices = [p for p in ("P1", "P2", "P3") if p != case["priority"]]
        at(
            rnd.randint(600, 2 * HOUR),
            "reclassified",
            by=rnd.choice(_LEADS),
            priority=rnd.choice(choices),
            reason="Impact re-assessed with the subscriber",
        )
    if ctype == "incident" and rnd.random() < 0.05:
        _war_room(rnd, at)
    for _ in range(rnd.randint(0, 3)):
        if ctype == "query":
            exempt = rnd.random() < 0.06
            at(
                rnd.randint(HOUR, DAY),
                "time_logged",
                hours=rnd.choice([0.25, 0.5, 1.0, 1.5, 2.0]),
                exempt=exempt,
                note="Documentation fix" if exempt else "Research and answer",
            )
        else:
            at(
                rnd.randint(HOUR, 6 * HOUR),
                "status_update",
                note=rnd.choice(
                    [
                        "Investigating logs",
                        "Reproduced in lab",
                        "Fix in review",
                        "Monitoring after change",
                    ]
                ),
            )
    if rnd.random() < 0.2:
        at(rnd.randint(HOUR, 6 * HOUR), "awaiting_subscriber", note="Need logs and request ids")
        at(rnd.randint(2 * HOUR, 3 * DAY), "subscriber_responded", by=customer)
    if rnd.random() < 0.1:
        at(rnd.randint(HOUR, DAY), "level_changed", level=rnd.choice(["L2", "L3"]))
    if ctype == "incident" and rnd.random() < 0.6:
        at(rnd.randint(2 * HOUR, 2 * DAY), "workaround_provided")
    at(rnd.randint(2 * HOUR, 5 * DAY), "resolved")
    if rnd.random() < 0.03:
        at(rnd.randint(HOUR, 2 * DAY), "reopened", by=customer)
        at(rnd.randint(2 * HOUR, 2 * DAY), "resolved")
    at(rnd.randint(HOUR, 3 * DAY), "closed", by=rnd.choice([eng, customer]))
    assert t < now, "a closed case's history lies in the past"
    return events


def _war_room(rnd: random.Random, at: Any) -> None:
    """A lead's escalation, then the war team, its plan and its board. It names no target:
    the import records the first one missed by then, or a manual escalation (policy §7)."""
    at(
        rnd.randint(4 * HOUR, DAY),
        "escalated",
        by=rnd.choice(_LEADS),
        reason="The subscriber's operations director asked for a war team",
    )
    people = rnd.sample(_PEOPLE, 3)
    for name, role in zip(people, ("engineer", "executive", "subscriber_rep"), strict=True):
        at(rnd.randint(300, HOUR), "war_team_member", by=rnd.choice(_LEADS), name=name, role=role)
    at(rnd.randint(300, HOUR), "board_moved", by=rnd.choice(_LEADS), column="team_formed")
    for part, text in (
        ("assessment", "Failover loop in the DB tier"),
        ("mitigation", "Pin the primary; drain the bad node"),
        ("resources", "Two engineers, one DBA on call"),
    ):
        at(rnd.randint(300, HOUR), "plan_updated", by=rnd.choice(_LEADS), part=part, text=text)
    at(rnd.randint(300, HOUR), "board_moved", by=rnd.choice(_LEADS), column="plan_agreed")
    at(rnd.randint(HOUR, 6 * HOUR), "board_moved", by=rnd.choice(_LEADS), column="mitigating")
