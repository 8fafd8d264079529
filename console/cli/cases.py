"""The commands about cases: the queue, one case, its events and assignment, the breach
check, the classification rules, the sweep that escalates, the war-team board, attachments.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

from console.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_BREACHES,
    EXIT_OK,
    KNOWN_AT_HELP,
    CliError,
    Command,
    at_instant,
    clock_now,
    dump_json,
    err,
    inert,
    known_at,
    open_db,
    operator,
    policy_book,
    refusal_line,
    refuse_what_if,
    refusing,
    say,
    signed_by,
    what_if,
)

if TYPE_CHECKING:
    import sqlite3

    from console.queue_rows import QueueRow
    from console.rules.policy_book import PolicyBook
    from console.store.engine import Store


def cmd_queue(args: argparse.Namespace) -> int:
    if args.json and not (args.mine or args.unassigned):
        return _queue_json(args)
    at, known = at_instant(args), known_at(args)
    if args.mine or args.unassigned:
        store = open_db(args)
        return _queue_filtered(args, store, policy_book(args, store), at, known)
    rows = _whole_queue(args, at, known)
    from console.text import queue_lines

    for line in queue_lines(rows, at):
        say(line)
    return EXIT_OK


def _driver_reader(args: argparse.Namespace, known: int | None) -> sqlite3.Connection | None:
    """A connection on the driver alone to the database of ``--db``, for a read of the desk
    as stored (no what-if policy, no ``--as-known-at``) of a SQLite file at the newest
    schema (``console.store.location.sqlite_reader``); None: the store opens it (it says
    what is wrong with it, and upgrades an older schema)."""
    if what_if(args) or known is not None:
        return None
    from console.store.location import resolve_url, sqlite_reader

    return sqlite_reader(resolve_url(getattr(args, "db", None)))


def _whole_queue(args: argparse.Namespace, at: int, known: int | None) -> list[QueueRow]:
    """The listed cases at ``at`` in risk order (``queue``, ``check``): read on the driver
    alone where ``_driver_reader`` can (a third of a second less to start), else, or for a
    case to evaluate from its events, through the store."""
    from console.queue import NeedsEvents, load_queue

    reader = _driver_reader(args, known)
    if reader is not None:
        from console.stored_policy import load_book

        try:
            return load_queue(reader, load_book(reader), at)
        except NeedsEvents:
            pass
        finally:
            reader.close()
    store = open_db(args)
    policy = policy_book(args, store)
    with store.connection() as conn:
        return load_queue(conn, policy, at, known_at=known)


def _queue_json(args: argparse.Namespace) -> int:
    """``queue --json`` on every core (``console.queue_json``): the worker is forked before
    the imports, which it makes at the same time on the other core. A SQLite file at the
    newest schema is read on the driver alone (no SQLAlchemy to import: a third of a second
    in each process); anything else, or a what-if policy or ``--as-known-at``, through the
    store, which says what is wrong with the database and upgrades an older schema."""
    from console.queue_json import queue_fragments, workers
    from console.store.location import resolve_url

    n = 2 if (os.cpu_count() or 1) > 1 and sys.platform != "win32" else 1
    with workers(n) as pool:
        from console.output import queue_json_from_fragments

        at, known = at_instant(args), known_at(args)
        url = resolve_url(getattr(args, "db", None))
        policy = None
        reader = _driver_reader(args, known)
        if reader is not None:
            reader.close()
        else:
            store = open_db(args)
            policy = policy_book(args, store)
            store.dispose()  # the shares open their own connections
            url = store.url
        fragments = queue_fragments(pool, url, policy, at, known_at=known)
        _wide_pipe(sys.stdout)
        write = sys.stdout.write
        for chunk in queue_json_from_fragments(at, fragments):
            if isinstance(chunk, bytes):  # a worker's text, encoded already
                sys.stdout.flush()
                sys.stdout.buffer.write(chunk)
            else:
                write(chunk)
    return EXIT_OK


def _wide_pipe(out: Any) -> None:
    """Into a pipe (``| jq``), 87 MB pass in 1 MB pieces rather than the default 64 KB:
    a sixteenth of the hand-overs between the writer and the reader (Linux)."""
    import stat

    with contextlib.suppress(ImportError, OSError, AttributeError, ValueError):
        import fcntl

        fd = out.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)


def _queue_filtered(
    args: argparse.Namespace, store: Store, policy: PolicyBook, at: int, known: int | None
) -> int:
    """``queue --mine`` (assigned to the operator) or ``--unassigned`` (policy §10), in
    risk order; the assignee as of ``--at``."""
    from sqlalchemy import text

    from console.output import queue_json_chunks
    from console.queue import load_queue
    from console.text import queue_lines

    if args.mine and args.unassigned:
        raise CliError("queue: --mine and --unassigned exclude each other")
    me = operator(store) if args.mine else None
    with store.connection() as conn:
        ids = None
        if me is not None and not getattr(args, "at", None) and known is None:
            # Now: the projection names the assignee; read only those cases.
            ids = [
                r[0]
                for r in conn.execute(
                    text("SELECT case_id FROM case_state WHERE assignee = :u"), {"u": me}
                )
            ]
        # None of them (an empty list would be an untyped "IN ()" on PostgreSQL).
        rows = [] if ids == [] else load_queue(conn, policy, at, known_at=known, case_ids=ids)
    rows = [r for r in rows if (r.assignee == me if me is not None else r.assignee is None)]
    if args.json:
        for chunk in queue_json_chunks(at, rows):
            sys.stdout.write(chunk)
        return EXIT_OK
    for line in queue_lines(rows, at):
        say(line)
    return EXIT_OK


def _assign(args: argparse.Namespace, to: str | None, verb: str) -> int:
    """``assign``, ``take`` and ``unassign``: one ``assigned`` event (policy §10)."""
    from console import clock
    from console.actions import Refused, append_event
    from console.queue import evaluate_case

    refuse_what_if(args)
    at = at_instant(args)
    store = open_db(args)
    actor = operator(store)
    who = actor if to == "" else to
    data: dict[str, Any] = {"to": who}
    if getattr(args, "late_reason", None):
        data["late_reason"] = args.late_reason
    with store.connection() as conn:
        found = evaluate_case(conn, policy_book(args, store), args.case, at)
    before = None
    if found is not None:
        from console.rules.lifecycle import assignee_of

        before = assignee_of([e for e in found[2] if e.at <= at])
    try:
        res = append_event(
            store,
            args.case,
            "assigned",
            at=at,
            by=actor,
            data=data,
            recorded_at=clock.now(),
            expected_version=args.expect_version,
            actor=actor,
        )
    except Refused as exc:
        raise CliError(refusal_line(exc)) from None
    was = f" (was {before})" if before and before != who else ""
    if who is None:
        err(f"{args.case}: unassigned{was} (case version {res.version})")
    else:
        err(f"{args.case}: {verb} {who}{was} (case version {res.version})")
    return EXIT_OK


def cmd_assign(args: argparse.Namespace) -> int:
    return _assign(args, args.engineer.strip(), "assigned to")


def cmd_take(args: argparse.Namespace) -> int:
    return _assign(args, "", "taken by")


def cmd_unassign(args: argparse.Namespace) -> int:
    return _assign(args, None, "unassigned")


def cmd_case(args: argparse.Namespace) -> int:
    from console.output import case_json
    from console.queue import evaluate_case
    from console.records import load_links
    from console.rules.timeutil import format_instant

    at, known = at_instant(args), known_at(args)
    store = open_db(args)
    policy = policy_book(args, store)
    with store.connection() as conn:
        found = evaluate_case(conn, policy, args.id, at, known_at=known)
        if found is None:
            raise CliError(f"unknown case {inert(args.id)!r}")
        row, ev, _events = found
        if known is not None and (row.recorded_at or row.reported_at) > known:
            raise CliError(f"case {args.id} was recorded after {format_instant(known)}")
        links, back = load_links(conn, args.id)
        from console.late import history_json

        history = history_json(conn, policy, row, at=at, known_at=known)
        from console.attachments import attachment_json, list_attachments
        from console.lifespan import case_support

        eos, past = case_support(conn, row.deployment_id, at)
        attachments = [attachment_json(a) for a in list_attachments(conn, args.id)]
        from console.changes import case_flags

        flags = case_flags(conn, policy, row, ev, at)
    out = case_json(
        row.id,
        row.subscriber_id,
        row.title,
        ev,
        deployment=row.deployment_id,
        reported_at=row.reported_at,
        end_of_support=eos,
        past_end_of_support=past,
        subscriber_terminated=flags["subscriber_terminated"],
    )
    from console.rules.lifecycle import assignee_of

    out["assignee"] = assignee_of([e for e in _events if e.at <= at])
    out["eligibility"] = flags["eligibility"]
    out["history"] = history
    out["links"] = links
    out["linked_from"] = back
    out["version"] = row.version
    out["attachments"] = attachments
    from console.records import case_facts
    from console.rules.lifecycle import component_in_force, criterion_in_force

    happened = [e for e in _events if e.at <= at]
    out["criterion"] = criterion_in_force(case_facts(row), row.criterion, happened)
    out["component"] = component_in_force(case_facts(row), happened)
    if ev.type == "change_request":
        from console.rules.lifecycle import cr_next_steps, cr_status_of

        out["cr_status"] = cr_status_of(happened)
        out["cr_next"] = list(cr_next_steps(out["cr_status"]))
    if args.json:
        dump_json(out)
    else:
        from console.text import case_lines

        for line in case_lines(out):
            say(line)
    return EXIT_OK


def _event_data(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in (
        "note",
        "priority",
        "type",
        "reason",
        "level",
        "name",
        "role",
        "part",
        "text",
        "column",
        "link",
        "criterion",
        "status",
        "late_reason",
        "component",
        "missed",
        "action",
        "to",
        "eta",
    ):
        v = getattr(args, key, None)
        if v is not None:
            data[key] = v
    if args.hours is not None:
        try:
            data["hours"] = float(args.hours)
        except ValueError:
            raise CliError(f"--hours: not a number: {args.hours!r}") from None
    if args.exempt:
        data["exempt"] = True
    elif args.hours is not None:
        data["exempt"] = False
    return data


def cmd_event(args: argparse.Namespace) -> int:
    from console import clock
    from console.actions import Refused, append_event
    from console.output import case_json
    from console.rules.lifecycle import EVENT_KINDS

    refuse_what_if(args)
    if args.kind not in EVENT_KINDS:
        raise CliError(f"unknown event kind {inert(args.kind)!r} (one of {', '.join(EVENT_KINDS)})")
    at = at_instant(args)
    store = open_db(args)
    actor = operator(store)
    try:
        res = append_event(
            store,
            args.id,
            args.kind,
            at=at,
            by=args.by or actor,
            data=_event_data(args),
            recorded_at=clock.now(),
            expected_version=args.expect_version,
            actor=actor,
        )
    except Refused as exc:
        raise CliError(refusal_line(exc)) from None
    err(f"{args.id}: {args.kind} recorded (event {res.event_id}, case version {res.version})")
    if args.json:
        with store.connection() as conn:
            from console.lifespan import case_support
            from console.records import load_case_row

            row = load_case_row(conn, args.id)
            assert row is not None  # the event was just recorded on it
            eos, past = case_support(conn, row.deployment_id, res.eval.at)
        dump_json(
            case_json(
                row.id,
                row.subscriber_id,
                row.title,
                res.eval,
                deployment=row.deployment_id,
                reported_at=row.reported_at,
                end_of_support=eos,
                past_end_of_support=past,
            )
        )
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from console.text import breach_lines

    at, known = at_instant(args), known_at(args)
    rows = _whole_queue(args, at, known)
    lines = breach_lines(rows, at)
    with contextlib.suppress(BrokenPipeError):
        for line in lines:
            say(line)
        sys.stdout.flush()
    if not lines:
        err("no breaches")
        return EXIT_OK
    return EXIT_BREACHES


def cmd_classify(args: argparse.Namespace) -> int:
    from console.rules.classify import classify, questions, unknown_answers
    from console.rules.eligibility import DeploymentFacts

    store = open_db(args)
    book = policy_book(args, store)
    policy = book.at(clock_now())
    if args.list:
        items = [
            {"key": c.key, "priority": c.priority, "criterion": c.text} for c in policy.criteria
        ]
        if args.json:
            dump_json({"criteria": items, "types": policy.case_type_help})
        else:
            for c in items:
                say(f"{c['priority']}  {c['key']:<34} {c['criterion']}")
        return EXIT_OK
    answers: dict[str, bool] = {}
    for raw in args.answer or []:
        key, sep, val = raw.partition("=")
        if not sep or val.lower() not in ("yes", "no", "y", "n", "true", "false"):
            raise CliError(f"--answer {raw!r}: expected KEY=yes or KEY=no")
        answers[key] = val.lower() in ("yes", "y", "true")
    bad = unknown_answers(policy, answers)
    if bad:
        raise CliError(f"--answer: unknown criterion {', '.join(bad)} (see classify --list)")
    if args.deployment:
        from console.records import load_deployment, load_terms

        with store.connection() as conn:
            dep = load_deployment(conn, args.deployment)
            if dep is None:
                raise CliError(f"--deployment: unknown deployment {inert(args.deployment)!r}")
            terms = load_terms(conn, book, [dep.subscriber]).now(dep.subscriber, clock_now())
        plan, subscriber = terms.plan, dep.subscriber
    else:
        from console.rules.timeutil import BadValue

        if not args.plan:
            raise CliError("give --deployment ID, or --plan with --environment and --managed")
        try:
            plan = policy.plan(args.plan)
        except BadValue as exc:
            raise CliError(f"--plan: {exc}") from None
        subscriber = "(hypothetical)"
        dep = None
        if args.environment or args.managed:
            if args.environment not in ("production", "pre-production"):
                raise CliError("--environment: production or pre-production")
            if args.managed not in ("yes", "no"):
                raise CliError("--managed: yes or no")
            dep = DeploymentFacts(
                "(hypothetical)", subscriber, args.environment, args.managed == "yes"
            )
    if args.type not in policy.case_types:
        raise CliError(f"--type: one of {', '.join(policy.case_types)}")
    result = classify(policy, plan, subscriber, dep, args.type, answers)
    problems = [f"{f}: {m}" for f, m in result.problems]
    out = {
        "type": result.type,
        "priority": result.priority,
        "decided_by": result.decided_by,
        "notes": result.notes,
        "eligible": result.eligible,
        "problems": problems,
        "asked": [c.key for c in questions(policy, plan, dep)] if args.type == "incident" else [],
    }
    if args.json:
        dump_json(out)
    else:
        say(f"{out['type']} {out['priority'] or ''}  decided by {out['decided_by'] or '-'}")
        for n in [*result.notes, *problems]:
            say(f"  {n}")
    return EXIT_OK if result.eligible else EXIT_BAD_INPUT


def cmd_sweep(args: argparse.Namespace) -> int:
    from console import clock
    from console.rules.timeutil import format_instant
    from console.sweep import sweep_and_next

    refuse_what_if(args)
    at = at_instant(args)
    store = open_db(args)
    made, next_due = sweep_and_next(store, at, recorded_at=clock.now())
    if args.json:  # what a console's watcher reads from the sweep it runs
        dump_json(
            {
                "at": format_instant(at),
                "next_due": format_instant(next_due),
                "escalated": [
                    {
                        "case": e.case_id,
                        "missed": e.missed,
                        "escalated_at": format_instant(e.escalated_at),
                    }
                    for e in made
                ],
            }
        )
    for esc in made if not args.json else ():
        say(f"ESCALATED {esc.case_id} missed {esc.missed} at {format_instant(esc.escalated_at)}")
    err(f"sweep: {len(made)} new escalation(s)")
    if not args.no_notify:
        _sweep_notifications(store, at)
    return EXIT_OK


def _sweep_notifications(store: Store, at: int) -> None:
    """The sweep's share of notifying: enqueue the breaches, forecasts and late status
    updates due by ``at`` (once each, whoever sweeps), then deliver what is due. A desk
    with no receiver and nothing queued skips both (two index probes), without loading the
    notification modules: a cron sweep with nothing to do stays well under half a second."""
    from sqlalchemy import text

    with store.connection() as conn:
        busy = conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM notify_receiver) OR EXISTS (SELECT 1 FROM "
                "notify_outbox WHERE status IN ('pending', 'sending'))"
            )
        ).scalar()
    if not busy:
        return
    from console import clock
    from console.notify.deliver import Deliverer, Settings
    from console.notify.detect import detect

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    from console.policy_store import load_book

    with store.connection() as conn:
        book = load_book(conn)
    queued = detect(store, book, at, recorded_at=clock.now())
    lines: list[str] = []
    stats = Deliverer(store, settings, log=lines.append).deliver_due(budget=settings.sweep_budget)
    for line in lines:
        err(line)
    if queued or stats.handled:
        err(
            f"notify: {queued} new message(s); {stats.sent} sent, {stats.retrying} to retry, "
            f"{stats.failed} failed"
        )


def cmd_escalations(args: argparse.Namespace) -> int:
    from console.escalation import load_board
    from console.output import card_json
    from console.rules.timeutil import format_instant

    at, known = at_instant(args), known_at(args)
    store = open_db(args)
    policy = policy_book(args, store)
    with store.connection() as conn:
        cards = load_board(conn, policy, at, known_at=known)
    if args.json:
        dump_json({"at": format_instant(at), "escalations": [card_json(c) for c in cards]})
    else:
        for c in cards:
            flag = " UPDATE OVERDUE" if c.update_overdue else ""
            if c.team.incomplete:
                flag += f" TEAM INCOMPLETE (missing {', '.join(c.team.missing_roles())})"
            say(
                f"{c.column:<12} {inert(c.case_id):<10} {inert(c.subscriber):<18} {c.priority or '':<3} "
                f"missed {c.missed} at {format_instant(c.escalated_at)}; next update "
                f"{format_instant(c.next_update_due) or '-'}{flag}"
            )
    return EXIT_OK


def cmd_attach(args: argparse.Namespace) -> int:
    from console.attachments import add_attachment, attachment_json

    at = at_instant(args)
    store = open_db(args)
    by = signed_by(args, store, operator(store))
    info = refusing(lambda: add_attachment(store, args.case, args.file, by=by, at=at))
    err(f"{args.case}: attached {info.name} ({info.size} bytes, sha256 {info.sha256[:12]}...)")
    if args.json:
        dump_json(attachment_json(info))
    return EXIT_OK


# -- arguments ----------------------------------------------------------------------------


def _queue_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--mine", action="store_true", help="only the cases assigned to you")
    sp.add_argument("--unassigned", action="store_true", help="only the cases assigned to nobody")
    sp.add_argument("--at", help="ISO 8601 instant with offset (default: now)")
    sp.add_argument("--as-known-at", help=KNOWN_AT_HELP)


def _case_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("id")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=KNOWN_AT_HELP)


#: ``event --KEY VALUE`` options without a help of their own, copied into the event's data.
_EVENT_OPTIONS = (
    "note",
    "priority",
    "type",
    "reason",
    "level",
    "name",
    "role",
    "part",
    "text",
    "column",
    "link",
    "criterion",
    "hours",
    "status",
    "component",
    "missed",
)


def _event_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("id")
    sp.add_argument("kind")
    sp.add_argument("--at")
    sp.add_argument(
        "--by",
        help="record as a system account of the policy data (cron, sweep); "
        "needs the system role (default: you)",
    )
    for opt in _EVENT_OPTIONS:
        sp.add_argument(f"--{opt}")
    sp.add_argument("--to", help="assigned: the engineer's login (omitted: unassign)")
    sp.add_argument("--eta", help="fix_eta_agreed: the agreed fix ETA (ISO 8601 with offset)")
    sp.add_argument(
        "--late-reason",
        help="a late entry (--at older than the late-entry window): why it is recorded now (leads)",
    )
    sp.add_argument("--action", help="war_team_member: join (default) or leave")
    sp.add_argument(
        "--exempt", action="store_true", help="time_logged: exempt from the query-hour limit"
    )
    sp.add_argument(
        "--expect-version", type=int, help="refuse if the case changed since this version"
    )
    sp.add_argument("--json", action="store_true", help="print the case's clocks after the event")


def _assignment_arguments(sp: argparse.ArgumentParser, *, engineer: bool = False) -> None:
    """``take`` and ``unassign``; ``assign`` also names the engineer (``engineer``)."""
    sp.add_argument("case")
    if engineer:
        sp.add_argument("engineer", help="the engineer's login name")
    sp.add_argument("--at", help="when (default: now)")
    sp.add_argument("--late-reason", help="a late entry's reason (leads)")
    sp.add_argument(
        "--expect-version", type=int, help="refuse if the case changed since this version"
    )


def _assign_arguments(sp: argparse.ArgumentParser) -> None:
    _assignment_arguments(sp, engineer=True)


def _check_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=KNOWN_AT_HELP)


def _classify_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--list", action="store_true", help="list the criteria keys")
    sp.add_argument("--type", default="incident")
    sp.add_argument("--deployment", help="a stored deployment (its plan, environment, managed)")
    sp.add_argument("--plan", help="without --deployment: enterprise or basic")
    sp.add_argument("--environment", help="without --deployment: production or pre-production")
    sp.add_argument("--managed", help="without --deployment: yes or no")
    sp.add_argument(
        "--answer", action="append", metavar="KEY=yes", help="a criterion answered (repeat)"
    )


def _sweep_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--at")
    sp.add_argument(
        "--no-notify",
        action="store_true",
        help="neither enqueue nor deliver notifications (leave it to notify --follow)",
    )
    sp.add_argument(
        "--json",
        action="store_true",
        help="the escalations recorded and the next instant one may fall due",
    )


def _escalations_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=KNOWN_AT_HELP)


def _attach_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("case")
    sp.add_argument("file")
    sp.add_argument("--at")
    sp.add_argument("--by", help="a system account (cron) attaching it; needs the system role")
    sp.add_argument("--json", action="store_true")


COMMANDS = (
    Command("queue", cmd_queue, "open cases in risk order", _queue_arguments),
    Command("case", cmd_case, "one case: fields, clocks, history", _case_arguments),
    Command("event", cmd_event, "record one event on a case", _event_arguments),
    Command(
        "assign",
        cmd_assign,
        "assign a case to a support engineer (a hand-over)",
        _assign_arguments,
    ),
    Command("take", cmd_take, "assign a case to yourself", _assignment_arguments),
    Command("unassign", cmd_unassign, "leave a case assigned to nobody", _assignment_arguments),
    Command(
        "check",
        cmd_check,
        "exit 3 and one line per breach when anything is breached",
        _check_arguments,
    ),
    Command(
        "classify",
        cmd_classify,
        "the classification wizard's rules (policy §9) without the screen",
        _classify_arguments,
    ),
    Command(
        "sweep",
        cmd_sweep,
        "record the escalations due by --at (idempotent, safe from many "
        "hosts; recorded by the system user `sweep`)",
        _sweep_arguments,
    ),
    Command("escalations", cmd_escalations, "the war-team board", _escalations_arguments),
    Command(
        "attach",
        cmd_attach,
        "attach a file to a case (records name, size, sha256, path)",
        _attach_arguments,
    ),
)
