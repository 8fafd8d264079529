"""``support-console notify ...``: receivers (leads), failed messages, and the deliverer.

notify [list] [--reveal] [--json]      receivers, URLs masked (--reveal: leads)
notify add URL --on KINDS [--subscriber S,..] [--priority P0,..] [--lead-time 30m]
           [--timezone ZONE]          a receiver (leads)
notify remove ID                       leads; its pending messages are cancelled
notify test ID                         send a test message now (leads)
notify failed [--json]                 messages given up after their last try
notify retry ID,..|all                 queue failed messages again (leads)
notify --follow                        deliver as messages arrive, until stopped
notify --once                          deliver what is due now, then exit
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from console.cli.common import EXIT_OK, CliError, err, operator
from console.cli.common import dump_json as _dump
from console.cli.common import open_db as _open


def run(args: argparse.Namespace) -> int:
    from console.notify.receivers import ReceiverRefused

    if args.follow or args.once:
        if args.action not in (None, "list"):
            raise CliError("notify: --follow/--once deliver; give no action with them")
        return _deliver(args)
    action = args.action or "list"
    try:
        return {
            "list": _list,
            "add": _add,
            "remove": _remove,
            "test": _test,
            "failed": _failed,
            "retry": _retry,
        }[action](args)
    except ReceiverRefused as exc:
        raise CliError(f"refused: {exc}") from None


def _target_id(args: argparse.Namespace) -> int:
    if not args.target:
        raise CliError(f"notify {args.action}: give the receiver's ID (see notify list)")
    try:
        return int(args.target)
    except ValueError:
        raise CliError(f"notify {args.action}: not a receiver ID: {args.target!r}") from None


def _list(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from console.notify.receivers import (
        O,
        describe,
        load_receivers,
        mask,
        may_reveal,
        receiver_json,
    )

    store = _open(args)
    with store.connection() as conn:
        if args.reveal:
            may_reveal(conn, operator(store))
        receivers = load_receivers(conn, include_removed=args.all)
        counts: dict[int, dict[str, int]] = {}
        for rid, status, n in conn.execute(
            select(O.c.receiver_id, O.c.status, func.count()).group_by(O.c.receiver_id, O.c.status)
        ):
            counts.setdefault(rid, {})[status] = int(n)
    if args.json:
        _dump(
            {
                "receivers": [
                    receiver_json(r, reveal=args.reveal, counts=counts.get(r.id, {}))
                    for r in receivers
                ]
            }
        )
        return EXIT_OK
    if not receivers:
        err("no receivers: a lead adds one with `notify add URL --on escalation,breach`")
    for r in receivers:
        c = counts.get(r.id, {})
        gone = f"  REMOVED by {r.removed_by}" if not r.active else ""
        print(f"{r.id:>4}  {r.url if args.reveal else mask(r.url)}{gone}")
        print(f"      {describe(r)}")
        print(
            f"      sent {c.get('sent', 0)}, waiting {c.get('pending', 0) + c.get('sending', 0)}, "
            f"failed {c.get('failed', 0)}; added by {r.created_by or '?'}"
        )
    return EXIT_OK


def _add(args: argparse.Namespace) -> int:
    from console import clock
    from console.notify.receivers import (
        add_receiver,
        check_zone,
        default_zone_name,
        describe,
        mask,
        parse_kinds,
        parse_lead_time,
        parse_priorities,
    )

    if not args.target:
        raise CliError("notify add: give the receiver's apprise URL (e.g. json://host/path)")
    if not args.on:
        raise CliError(
            "notify add: --on is required: one or more of escalation, breach, forecast, late_update"
        )
    kinds = parse_kinds(args.on)
    prios = parse_priorities(args.priority)
    lead = parse_lead_time(args.lead_time)
    subs = None
    if args.subscriber:
        subs = (
            tuple(dict.fromkeys(s.strip() for s in args.subscriber.split(",") if s.strip())) or None
        )
    zone_name = check_zone(args.timezone or default_zone_name())
    store = _open(args)
    r = add_receiver(
        store,
        args.target,
        kinds=kinds,
        subscribers=subs,
        priorities=prios,
        lead_time=lead,
        timezone=zone_name,
        actor=operator(store),
        now=clock.now(),
    )
    print(r.id)
    err(f"receiver {r.id} added: {mask(r.url)}; {describe(r)}")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    from console import clock
    from console.notify.receivers import mask, remove_receiver

    rid = _target_id(args)
    store = _open(args)
    r, cancelled = remove_receiver(store, rid, actor=operator(store), now=clock.now())
    err(f"receiver {rid} removed ({mask(r.url)}); {cancelled} waiting message(s) cancelled")
    return EXIT_OK


def _test(args: argparse.Namespace) -> int:
    """Send a test message straight away (not through the outbox) and say how it went."""
    from console import clock
    from console.notify import messages
    from console.notify.receivers import _require, get_receiver, mask
    from console.notify.send import send

    rid = _target_id(args)
    store = _open(args)
    with store.connection() as conn:
        _require(conn, operator(store), "notify_test")
        r = get_receiver(conn, rid)
    if not r.active:
        raise CliError(f"receiver {rid} was removed")
    title, body = messages.test(rid, at=clock.now(), by=operator(store), tz=r.tz)
    ok, why = send(r.url, title, body)
    if not ok:
        raise CliError(f"receiver {rid} ({mask(r.url)}): not delivered: {why}")
    err(f"receiver {rid} ({mask(r.url)}): test message delivered")
    return EXIT_OK


def _failed(args: argparse.Namespace) -> int:
    from console.notify.outbox import failed_messages, message_json
    from console.rules.timeutil import format_instant

    store = _open(args)
    with store.connection() as conn:
        rows = failed_messages(conn, limit=args.limit)
    if args.json:
        _dump({"failed": [message_json(r) for r in rows]})
        return EXIT_OK
    if not rows:
        err("no failed notifications")
    for r in rows:
        print(
            f"#{r.id:<6} {format_instant(r.created_at)}  receiver {r.receiver_id}  {r.kind:<11} "
            f"{r.title}"
        )
        print(f"        {r.attempts} tries; last: {r.last_error or '?'}")
    return EXIT_OK


def _retry(args: argparse.Namespace) -> int:
    from console.notify.outbox import retry_failed

    if not args.target:
        raise CliError("notify retry: give message ids (see notify failed) or all")
    ids: list[int] | None = None
    if args.target != "all":
        try:
            ids = [int(x) for x in args.target.split(",") if x.strip()]
        except ValueError:
            raise CliError(f"notify retry: not message ids: {args.target!r}") from None
    store = _open(args)
    n = retry_failed(store, ids, actor=operator(store))
    err(f"{n} failed message(s) queued again")
    return EXIT_OK


def _deliver(args: argparse.Namespace) -> int:
    from console.notify.deliver import Deliverer, Settings

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    store = _open(args)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    d = Deliverer(store, settings, log=log)
    if args.once:
        stats = d.deliver_due(budget=settings.sweep_budget)
        err(f"notify: {stats.sent} sent, {stats.retrying} to retry, {stats.failed} failed")
        return EXIT_OK
    stop = threading.Event()

    def stopping(signum: int, _frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stopping)

    offline = [False]

    def status(online: bool, message: str) -> None:
        if not online:
            log(f"database offline: {message}; delivery resumes when it is back")
        elif offline[0]:
            log("database back: delivering")
        offline[0] = not online

    log(f"notify: delivering from {store.safe_url} as {d.name} (stop with ctrl+c or SIGTERM)")
    d.follow(stop, on_status=status)
    log("notify: stopped")
    return EXIT_OK
