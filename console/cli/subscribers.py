"""The commands about subscribers: their dated facts and contract (subscriber, deployment,
renew, terminate), SLA suspensions, query-hour meters, and their support users.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.cli.common import (
    EXIT_OK,
    KNOWN_AT_HELP,
    CliError,
    Command,
    at_instant,
    dump_json,
    effective_and_now,
    err,
    inert,
    known_at,
    open_db,
    operator,
    policy_book,
    refuse_what_if,
    refusing,
    say,
)

if TYPE_CHECKING:
    from sqlalchemy import Select


def cmd_subscriber(args: argparse.Namespace) -> int:
    """``subscriber set SUB [facts] --effective T --reason R`` (leads), ``subscriber history``."""
    from console.changes import change_subscriber, subscriber_history
    from console.records import load_terms
    from console.rules.timeutil import format_instant

    if args.action == "history":
        store = open_db(args)
        with store.connection() as conn:
            if conn.execute(_select_id("subscriber", args.subscriber)).first() is None:
                raise CliError(f"unknown subscriber {inert(args.subscriber)!r}")
            rows = subscriber_history(conn, args.subscriber)
        _print_history(args, rows)
        return EXIT_OK
    refuse_what_if(args)
    facts: dict[str, Any] = {}
    for key, opt in (("plan", "plan"), ("coverage", "coverage"), ("timezone", "timezone")):
        v = getattr(args, opt)
        if v is not None:
            facts[key] = v
    if args.holidays is not None:
        facts["holidays"] = (
            [d.strip() for d in args.holidays.split(",")]
            if "-" in args.holidays and args.holidays[:4].isdigit()
            else args.holidays
        )
    if args.query_hours is not None:
        try:
            facts["query_hour_limit"] = float(args.query_hours)
        except ValueError:
            raise CliError(f"--query-hours: not a number: {args.query_hours!r}") from None
    effective, now = effective_and_now(args)
    store = open_db(args)
    if args.target:
        with store.connection() as conn:
            terms = load_terms(conn, policy_book(args, store), [args.subscriber])
            if args.subscriber not in terms:
                raise CliError(f"unknown subscriber {inert(args.subscriber)!r}")
            current = dict(terms[args.subscriber].at(effective).targets)
        current.update(_key_values(args.target, "--target"))
        facts["targets"] = current
    if not facts:
        raise CliError(
            "subscriber set: name a fact to change (--plan, --coverage, --timezone, "
            "--holidays, --target, --query-hours)"
        )
    refusing(
        lambda: change_subscriber(
            store,
            args.subscriber,
            facts,
            effective_at=effective,
            reason=args.reason or "",
            actor=operator(store),
            recorded_at=now,
        )
    )
    err(f"{args.subscriber}: {', '.join(sorted(facts))} changed from {format_instant(effective)}")
    return EXIT_OK


def _key_values(items: list[str] | None, option: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for raw in items or []:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise CliError(
                f"{option} {raw!r}: expected KEY=VALUE (VALUE 'best-efforts' or "
                "'none' for no target)"
            )
        v = value.strip()
        out[key.strip()] = (
            None if v.lower() in ("best-efforts", "best efforts", "none", "null") else v
        )
    return out


def _select_id(table: str, value: str) -> Select[Any]:
    from sqlalchemy import select

    from console.records import deployment_table, subscriber_table

    t = subscriber_table if table == "subscriber" else deployment_table
    return select(t.c.id).where(t.c.id == value)


def _print_history(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    if args.json:
        dump_json({"changes": rows})
        return
    for r in rows:
        from console.changes import facts_text

        facts = facts_text(r["facts"])
        print(
            f"from {r['effective_at']}  {inert(facts)}  by {inert(r['by'] or '-')}  "
            f"recorded {r['recorded_at']}  {inert(r['reason'])}"
        )


def cmd_deployment(args: argparse.Namespace) -> int:
    """``deployment show DEP``; ``deployment set DEP [facts] --effective T --reason R`` (leads,
    a dated change: environment, managed, product, version, components); ``history``."""
    from console.changes import change_deployment, deployment_history
    from console.rules.timeutil import format_instant

    if args.action in ("history", "show"):
        store = open_db(args)
        with store.connection() as conn:
            if conn.execute(_select_id("deployment", args.deployment)).first() is None:
                raise CliError(f"unknown deployment {inert(args.deployment)!r}")
            if args.action == "history":
                _print_history(args, deployment_history(conn, args.deployment))
                return EXIT_OK
            from console import clock
            from console.deployments import deployment_json
            from console.records import load_deployment

            dep = load_deployment(conn, args.deployment, clock.now())
        assert dep is not None
        if args.json:
            dump_json(deployment_json(dep))
        else:
            print(
                f"{inert(dep.id)}  {inert(dep.subscriber)}  {dep.environment}  "
                f"{'managed' if dep.managed else 'not managed'}  {inert(dep.product)} "
                f"{inert(dep.version)}  components: {inert(', '.join(dep.components)) or 'none'}"
            )
        return EXIT_OK
    refuse_what_if(args)
    facts: dict[str, Any] = {}
    for key in ("environment", "product", "version"):
        v = getattr(args, key)
        if v is not None:
            facts[key] = v
    if args.components is not None:
        facts["components"] = (
            [n.strip() for n in args.components.split(",") if n.strip()]
            if args.components.strip()
            else []
        )
    if args.managed is not None:
        if args.managed not in ("yes", "no"):
            raise CliError("--managed: yes or no")
        facts["managed"] = args.managed == "yes"
    if not facts:
        raise CliError(
            "deployment set: name a fact to change (--environment, --managed, "
            "--product, --version, --components)"
        )
    effective, now = effective_and_now(args)
    store = open_db(args)
    refusing(
        lambda: change_deployment(
            store,
            args.deployment,
            facts,
            effective_at=effective,
            reason=args.reason or "",
            actor=operator(store),
            recorded_at=now,
        )
    )
    err(f"{args.deployment}: {', '.join(sorted(facts))} changed from {format_instant(effective)}")
    return EXIT_OK


def _suspension_cmd(fn: Callable[[], object]) -> int:
    refusing(fn)
    return EXIT_OK


def cmd_suspend(args: argparse.Namespace) -> int:
    from console import clock
    from console.rules.timeutil import BadValue, parse_instant
    from console.suspensions import suspend

    refuse_what_if(args)
    try:
        start = parse_instant(args.from_) if args.from_ else clock.now()
        until = parse_instant(args.until) if args.until else None
    except BadValue as exc:
        raise CliError(f"--from/--until: {exc}") from None
    store = open_db(args)
    code = _suspension_cmd(
        lambda: suspend(
            store,
            args.subscriber,
            reason=args.reason,
            from_at=start,
            until_at=until,
            actor=operator(store),
            recorded_at=clock.now(),
        )
    )
    err(f"{args.subscriber}: SLA suspended ({args.reason})")
    return code


def cmd_lift(args: argparse.Namespace) -> int:
    from console import clock
    from console.suspensions import lift

    refuse_what_if(args)
    at = at_instant(args)
    store = open_db(args)
    code = _suspension_cmd(
        lambda: lift(store, args.subscriber, at=at, actor=operator(store), recorded_at=clock.now())
    )
    err(f"{args.subscriber}: suspension lifted")
    return code


def cmd_renew(args: argparse.Namespace) -> int:
    from console.changes import renew
    from console.rules.timeutil import BadValue, format_instant, parse_date

    refuse_what_if(args)
    try:
        end = parse_date(args.term_end)
        start = parse_date(args.term_start) if args.term_start else None
    except BadValue as exc:
        raise CliError(f"--term-start/--term-end: {exc}") from None
    effective, now = effective_and_now(args)
    store = open_db(args)
    term = refusing(
        lambda: renew(
            store,
            args.subscriber,
            term_start=start,
            term_end=end,
            effective_at=effective,
            reason=args.reason or "renewal",
            actor=operator(store),
            recorded_at=now,
        )
    )
    err(
        f"{args.subscriber}: term {term['term_start']} to {term['term_end']} from "
        f"{format_instant(effective)}"
    )
    return EXIT_OK


def cmd_terminate(args: argparse.Namespace) -> int:
    from console.changes import terminate
    from console.rules.timeutil import format_instant

    refuse_what_if(args)
    effective, now = effective_and_now(args)
    store = open_db(args)
    refusing(
        lambda: terminate(
            store,
            args.subscriber,
            effective_at=effective,
            reason=args.reason or "",
            actor=operator(store),
            recorded_at=now,
        )
    )
    err(
        f"{args.subscriber}: contract terminated at {format_instant(effective)}; retention runs "
        "from then, new cases are refused"
    )
    return EXIT_OK


def cmd_meters(args: argparse.Namespace) -> int:
    from console.meters import load_meters, meter_json
    from console.rules.timeutil import format_instant

    at, known = at_instant(args), known_at(args)
    store = open_db(args)
    policy = policy_book(args, store)
    with store.connection() as conn:
        meters = load_meters(conn, policy, at, known_at=known)
    if args.json:
        dump_json({"at": format_instant(at), "subscribers": [meter_json(m) for m in meters]})
    else:
        for m in meters:
            flag = (
                "  OVER LIMIT: a lead may suspend for usage_limit_exceeded"
                if m.state == "over"
                else ""
            )
            fc = m.forecast_limit_date.isoformat() if m.forecast_limit_date else "-"
            say(
                f"{inert(m.subscriber):<24} {m.used_hours:>7.1f} / {m.limit_hours:<5g} h {m.percent:>6.1f}% "
                f"{m.state:<8} exempt {m.exempt_hours:.1f} h  limit reached {fc}{flag}"
            )
    return EXIT_OK


def cmd_users(args: argparse.Namespace) -> int:
    from console.users import list_users, user_json

    store = open_db(args)
    with store.connection() as conn:
        users = refusing(lambda: list_users(conn, args.subscriber))
    if args.json:
        dump_json({"subscriber": args.subscriber, "users": [user_json(u) for u in users]})
    else:
        for u in users:
            state = "admin" if u.admin else "user"
            gone = f"  removed by {u.removed_by}" if not u.active else ""
            say(f"{u.id:<20} {state:<6} {u.name or '':<24} {u.email or ''}{gone}")
    return EXIT_OK


def cmd_user_add(args: argparse.Namespace) -> int:
    from console.users import add_user

    at = at_instant(args)
    store = open_db(args)
    u = refusing(
        lambda: add_user(
            store,
            args.subscriber,
            args.id,
            name=args.name,
            email=args.email,
            admin=args.admin,
            actor=operator(store),
            at=at,
        )
    )
    err(
        f"{args.subscriber}: {u.id} added by {u.added_by}" + (" (administrator)" if u.admin else "")
    )
    return EXIT_OK


def cmd_user_remove(args: argparse.Namespace) -> int:
    from console.users import remove_user

    at = at_instant(args)
    store = open_db(args)
    u = refusing(lambda: remove_user(store, args.subscriber, args.id, actor=operator(store), at=at))
    err(f"{args.subscriber}: {u.id} removed by {u.removed_by}")
    return EXIT_OK


# -- arguments ----------------------------------------------------------------------------


def _subscriber_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("action", choices=["set", "history"])
    sp.add_argument("subscriber")
    sp.add_argument("--plan")
    sp.add_argument("--coverage", help="business or 24x7")
    sp.add_argument("--timezone", help="an IANA zone or a fixed offset like -03:00")
    sp.add_argument("--holidays", help="a country (US, US-NY, CA) or a comma-separated date list")
    sp.add_argument(
        "--target",
        action="append",
        metavar="KEY=DURATION",
        help="an order-form target, e.g. incident.P1.response=30m (repeat)",
    )
    sp.add_argument("--query-hours", help="the query-hour limit per term")
    sp.add_argument("--effective", help="in force from this instant (default: now)")
    sp.add_argument("--reason")
    sp.add_argument("--json", action="store_true")


def _deployment_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("action", choices=["show", "set", "history"])
    sp.add_argument("deployment")
    sp.add_argument("--environment", help="production or pre-production")
    sp.add_argument("--managed", help="yes or no")
    sp.add_argument("--product")
    sp.add_argument("--version")
    sp.add_argument(
        "--components",
        help="its managed third-party components, comma-separated (empty: none; policy §5)",
    )
    sp.add_argument("--effective", help="in force from this instant (default: now)")
    sp.add_argument("--reason")
    sp.add_argument("--json", action="store_true")


def _suspend_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("subscriber")
    sp.add_argument("--reason", required=True)
    sp.add_argument("--from", dest="from_", help="start (default: now)")
    sp.add_argument("--until", help="end (default: until lifted)")


def _lift_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("subscriber")
    sp.add_argument("--at")


def _renew_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("subscriber")
    sp.add_argument("--term-end", required=True)
    sp.add_argument("--term-start", help="default: the day after the current term ends")
    sp.add_argument("--effective", help="in force from this instant (default: now)")
    sp.add_argument("--reason")


def _terminate_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("subscriber")
    sp.add_argument("--effective", help="default: now")
    sp.add_argument("--reason", required=True)


def _meters_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=KNOWN_AT_HELP)


def _users_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("subscriber")
    sp.add_argument("--json", action="store_true")


def _user_add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("subscriber")
    sp.add_argument("id")
    sp.add_argument("--name", required=True)
    sp.add_argument("--email", required=True)
    sp.add_argument("--admin", action="store_true", help="the new user is an administrator")
    sp.add_argument("--at")


def _user_remove_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("subscriber")
    sp.add_argument("id")
    sp.add_argument("--at")


COMMANDS = (
    Command(
        "meters",
        cmd_meters,
        "query-hour meters per subscriber (current term)",
        _meters_arguments,
    ),
    Command("suspend", cmd_suspend, "suspend a subscriber's SLA (leads)", _suspend_arguments),
    Command("lift", cmd_lift, "lift a subscriber's suspension in force (leads)", _lift_arguments),
    Command(
        "renew",
        cmd_renew,
        "extend a subscription's term from --effective, ending a lapse there (leads)",
        _renew_arguments,
    ),
    Command(
        "terminate",
        cmd_terminate,
        "the contract terminates at --effective (leads)",
        _terminate_arguments,
    ),
    Command(
        "subscriber",
        cmd_subscriber,
        "a subscriber's dated changes: set (leads), history",
        _subscriber_arguments,
    ),
    Command(
        "deployment",
        cmd_deployment,
        "a deployment's facts: show, set (leads, dated), history",
        _deployment_arguments,
    ),
    Command("users", cmd_users, "a subscriber's support (portal) users", _users_arguments),
    Command("user-add", cmd_user_add, "add a support user (leads)", _user_add_arguments),
    Command(
        "user-remove",
        cmd_user_remove,
        "remove a support user (kept, marked removed; leads)",
        _user_remove_arguments,
    ),
)
