"""The ``support-console`` command (interchange.md).

JSON goes to stdout, every message to stderr. Exit codes: 0 ok, 1 bad input (nothing
written), 2 database unreachable, 3 breaches (``check`` only). Heavy imports (SQLAlchemy,
Textual) happen inside the commands so ``--help`` and the console start quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

EXIT_OK, EXIT_BAD_INPUT, EXIT_UNREACHABLE, EXIT_BREACHES = 0, 1, 2, 3


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def inert(text: str) -> str:
    """Subscriber and operator text made safe for a terminal (``console.text.inert``)."""
    from console.text import inert as _inert

    return _inert(text)


def _lines(msg: str) -> str:
    """Every line of ``msg`` through the inert filter: no byte of any text (a title, a
    name, a file's problem) can drive the terminal; the line breaks stay ours."""
    return "\n".join(inert(line) for line in str(msg).split("\n"))


def err(msg: str) -> None:
    print(_lines(msg), file=sys.stderr)


def say(msg: str) -> None:
    """One line (or a few) of text output on stdout, inert."""
    print(_lines(msg))


def operator(store: Any) -> str:
    """Who is acting: the OS login (SQLite) or the database login (PostgreSQL); never a
    name typed on the command line (``console.identity``)."""
    from console.identity import operator_of

    return operator_of(store)


def _signed_by(args: argparse.Namespace, store: Any, actor: str) -> str:
    """``--by NAME``: only a system account of the policy data, for a login with the
    system role; else the operator."""
    by = getattr(args, "by", None)
    if not by:
        return actor
    from console import clock
    from console.actions import check_signature
    from console.policy_store import load_book

    with store.read() as session:
        check_signature(session, load_book(session).at(clock.now()), by, actor)
    return by


def _instant(raw: str, option: str) -> int:
    from console.rules.timeutil import BadValue, parse_instant

    try:
        return parse_instant(raw)
    except BadValue as exc:
        raise CliError(f"{option}: {exc}") from None


def _known_at(args: argparse.Namespace) -> int | None:
    """``--as-known-at K``: only what was recorded by K counts (policy §14)."""
    raw = getattr(args, "as_known_at", None)
    return _instant(raw, "--as-known-at") if raw else None


def _at(args: argparse.Namespace) -> int:
    """``--at T``; else ``--as-known-at`` alone (T = K); else now."""
    from console import clock

    raw = getattr(args, "at", None)
    if raw:
        return _instant(raw, "--at")
    known = _known_at(args)
    return known if known is not None else clock.now()


def clock_now() -> int:
    from console import clock

    return clock.now()


def _what_if(args: argparse.Namespace) -> str | None:
    return getattr(args, "policy", None)


def _book(args: argparse.Namespace, store: Any) -> Any:
    """The desk's policy versions from the database, or with ``--policy FILE`` a what-if
    book of that file (reading commands only: nothing is ever written under it)."""
    from console.rules.policy import PolicyError, load_policy
    from console.rules.policy_book import PolicyBook

    path = _what_if(args)
    if path:
        try:
            return PolicyBook.of(load_policy(path), what_if=path)
        except (PolicyError, OSError, UnicodeDecodeError) as exc:
            raise CliError(f"--policy: {exc}") from None
    from console.policy_store import load_book

    with store.connection() as conn:
        return load_book(conn)


def _writes(args: argparse.Namespace) -> None:
    """A command that writes refuses a what-if policy: the desk's policy is the stored one."""
    if _what_if(args):
        raise CliError(
            f"--policy is a what-if for reading commands (queue, case, check, "
            f"escalations, meters, products, classify); `{args.command}` writes and "
            "always uses the policy stored in the database (`policy publish` "
            "changes it)"
        )


@contextlib.contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; silence when stderr is piped."""
    if not sys.stderr.isatty() or total <= 0:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


_OPENED: list[Any] = []


def _open(args: argparse.Namespace, *, create: bool = False) -> Any:
    """The database of ``--db``; only ``init`` and ``demo`` create one (``create``): any
    other command on a missing path says so and exits 2, creating nothing."""
    from console.store.engine import StoreUnavailable, open_store

    try:
        store = open_store(getattr(args, "db", None), create=create, existing=not create)
    except StoreUnavailable as exc:
        raise CliError(str(exc), EXIT_UNREACHABLE) from None
    _OPENED.append(store)
    return store


def _close_all() -> None:
    """Close every connection a command opened, so SQLite checkpoints its WAL now."""
    while _OPENED:
        with contextlib.suppress(Exception):
            _OPENED.pop().dispose()


#: JSON escapes C0 controls itself; DEL and the C1 controls (0x9b is a one-byte CSI) too.
_JSON_CONTROLS = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1).translate(_JSON_CONTROLS))
    sys.stdout.write("\n")


# -- commands -----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the schema; ``--lead NAME``: the creator names the first lead."""
    from pathlib import Path

    from console import clock
    from console.operators import first_lead

    store = _open(args, create=True)
    err(f"database ready: {store.safe_url}")
    if store.is_sqlite and store.engine.url.database not in (None, "", ":memory:"):
        from console.store.shared_file import advice

        for line in advice(Path(store.engine.url.database)):
            err(f"advice: {line}")
    if args.lead:
        first_lead(store, operator(store), args.lead, clock.now())
        err(f"{args.lead} is the first lead of this database")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """All or nothing, in constant memory whatever the file's size (console.import_stream);
    a progress bar on a terminal."""
    from console import clock
    from console.import_stream import import_file, readable_path
    from console.importer import ImportRefused

    _writes(args)
    if args.file != "-":
        try:
            with open(args.file, "rb"):
                pass
        except OSError as exc:
            raise CliError(f"{args.file}: cannot read: {exc.strerror}") from None
    store = _open(args)
    book = _book(args, store)
    now = clock.now()
    actor = operator(store)
    from console.operators import require_import

    with store.read() as session:
        require_import(store, session, actor)
    try:
        with readable_path(args.file) as path:
            counts = import_file(store, path, args.file, book, now, _progress, by=actor)
    except ImportRefused as exc:
        for p in exc.problems:
            err(inert(p))
        if len(exc.problems) == 1 and exc.problems[0].startswith("import refused:"):
            return EXIT_BAD_INPUT
        err(f"import refused: {len(exc.problems)} problem(s); nothing was written")
        return EXIT_BAD_INPUT
    err("imported " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """The whole database, streamed in constant memory (console.exporter), with a progress
    bar on a terminal; a whole document or a failure with a non-zero exit.

    ``-o FILE`` writes a temporary file beside FILE and renames it over FILE once whole.
    To stdout: a failure midway exits 2 (unreachable database) or 1 with the reason, and
    the document is left unclosed, so no reader takes it for whole; when stdout is a
    regular file (``> backup.json``), it is cut back to what it held before.
    """
    import tempfile

    from console.exporter import count_cases, write_export

    store = _open(args)
    with store.connection() as conn:
        total = count_cases(conn)
    if not args.output:
        out = sys.stdout
        start = _file_offset(out)
        try:
            with _progress("export", total) as tick, store.connection() as conn:
                n = write_export(conn, out, tick)
            out.flush()
        except BaseException:
            if start is not None:
                with contextlib.suppress(OSError, ValueError):
                    out.flush()
                    os.ftruncate(out.fileno(), start)
            raise
        err(f"exported {n} cases")
        return EXIT_OK
    target = os.path.abspath(args.output)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".export-", dir=os.path.dirname(target))
        with (
            os.fdopen(fd, "w", encoding="utf-8") as fh,
            _progress("export", total) as tick,
            store.connection() as conn,
        ):
            n = write_export(conn, fh, tick)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise CliError(f"-o {args.output}: cannot write: {exc.strerror}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    err(f"exported {n} cases to {args.output}")
    return EXIT_OK


def _file_offset(stream: Any) -> int | None:
    """Where ``stream`` stands, when it is a regular file (else None: a pipe, a tty)."""
    import stat

    try:
        fd = stream.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        stream.flush()
        return os.lseek(fd, 0, os.SEEK_CUR)
    except (OSError, ValueError, AttributeError):
        return None


def cmd_queue(args: argparse.Namespace) -> int:
    from console.output import queue_json_from_fragments
    from console.queue import load_queue, queue_fragments_parallel

    at, known = _at(args), _known_at(args)
    store = _open(args)
    policy = _book(args, store)
    if args.mine or args.unassigned:
        return _queue_filtered(args, store, policy, at, known)
    if args.json:
        store.dispose()  # the workers open their own connections
        workers = 2 if (os.cpu_count() or 1) > 1 and sys.platform != "win32" else 1
        fragments = queue_fragments_parallel(store.url, policy, at, workers, known_at=known)
        write = sys.stdout.write
        buf: list[str] = []
        for chunk in queue_json_from_fragments(at, fragments):
            buf.append(chunk)
            if len(buf) >= 512:
                write("".join(buf))
                buf.clear()
        write("".join(buf))
        return EXIT_OK
    with store.connection() as conn:
        rows = load_queue(conn, policy, at, known_at=known)
    from console.text import queue_lines

    for line in queue_lines(rows, at):
        say(line)
    return EXIT_OK


def _queue_filtered(
    args: argparse.Namespace, store: Any, policy: Any, at: int, known: int | None
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

    _writes(args)
    at = _at(args)
    store = _open(args)
    actor = operator(store)
    who = actor if to == "" else to
    data: dict[str, Any] = {"to": who}
    if getattr(args, "late_reason", None):
        data["late_reason"] = args.late_reason
    with store.connection() as conn:
        found = evaluate_case(conn, _book(args, store), args.case, at)
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

    at, known = _at(args), _known_at(args)
    store = _open(args)
    policy = _book(args, store)
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
        _dump(out)
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

    _writes(args)
    if args.kind not in EVENT_KINDS:
        raise CliError(f"unknown event kind {inert(args.kind)!r} (one of {', '.join(EVENT_KINDS)})")
    at = _at(args)
    store = _open(args)
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
            eos, past = case_support(conn, row.deployment_id, res.eval.at)
        _dump(
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
    from console.queue import load_queue
    from console.text import breach_lines

    at, known = _at(args), _known_at(args)
    store = _open(args)
    policy = _book(args, store)
    with store.connection() as conn:
        rows = load_queue(conn, policy, at, known_at=known)
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

    store = _open(args)
    book = _book(args, store)
    policy = book.at(clock_now())
    if args.list:
        items = [
            {"key": c.key, "priority": c.priority, "criterion": c.text} for c in policy.criteria
        ]
        if args.json:
            _dump({"criteria": items, "types": policy.case_type_help})
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
    out = {
        "type": result.type,
        "priority": result.priority,
        "decided_by": result.decided_by,
        "notes": result.notes,
        "eligible": result.eligible,
        "problems": [f"{f}: {m}" for f, m in result.problems],
        "asked": [c.key for c in questions(policy, plan, dep)] if args.type == "incident" else [],
    }
    if args.json:
        _dump(out)
    else:
        say(f"{out['type']} {out['priority'] or ''}  decided by {out['decided_by'] or '-'}")
        for n in out["notes"] + out["problems"]:
            say(f"  {n}")
    return EXIT_OK if result.eligible else EXIT_BAD_INPUT


def cmd_sweep(args: argparse.Namespace) -> int:
    from console import clock
    from console.rules.timeutil import format_instant
    from console.sweep import sweep_and_next

    _writes(args)
    at = _at(args)
    store = _open(args)
    made, next_due = sweep_and_next(store, at, recorded_at=clock.now())
    if args.json:  # what a console's watcher reads from the sweep it runs
        _dump(
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


def _sweep_notifications(store: Any, at: int) -> None:
    """The sweep's share of notifying: enqueue the breaches, forecasts and late status
    updates due by ``at`` (once each, whoever sweeps), then deliver what is due."""
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


def cmd_notify(args: argparse.Namespace) -> int:
    from console.notify.commands import run

    return run(args)


def cmd_metrics(args: argparse.Namespace) -> int:
    from console.metrics import run

    return run(args)


def cmd_escalations(args: argparse.Namespace) -> int:
    from console.escalation import load_board
    from console.output import card_json
    from console.rules.timeutil import format_instant

    at, known = _at(args), _known_at(args)
    store = _open(args)
    policy = _book(args, store)
    with store.connection() as conn:
        cards = load_board(conn, policy, at, known_at=known)
    if args.json:
        _dump({"at": format_instant(at), "escalations": [card_json(c) for c in cards]})
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


def cmd_meters(args: argparse.Namespace) -> int:
    from console.meters import load_meters, meter_json
    from console.rules.timeutil import format_instant

    at, known = _at(args), _known_at(args)
    store = _open(args)
    policy = _book(args, store)
    with store.connection() as conn:
        meters = load_meters(conn, policy, at, known_at=known)
    if args.json:
        _dump({"at": format_instant(at), "subscribers": [meter_json(m) for m in meters]})
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


def cmd_operators(args: argparse.Namespace) -> int:
    from console import clock
    from console.operators import list_operators, set_role

    store = _open(args)
    if args.action == "set":
        if not args.name or not args.role:
            raise CliError("operators set NAME ROLE")
        _refusing(lambda: set_role(store, operator(store), args.name, args.role, clock.now()))
        err(f"{args.name} is now {args.role}")
        return EXIT_OK
    with store.connection() as conn:
        for name, role in list_operators(conn):
            say(f"{name:<24} {role}")
    return EXIT_OK


def cmd_grant(args: argparse.Namespace) -> int:
    """``grant LOGIN --role R [--password]`` (leads): a PostgreSQL login per person."""
    from console import clock
    from console.grants import grant

    password = _read_password(args.login) if args.password else None
    store = _open(args)
    _refusing(
        lambda: grant(
            store, operator(store), args.login, args.role, now=clock.now(), password=password
        )
    )
    how = "password (stored as a SCRAM verifier)" if password else "peer or as pg_hba.conf says"
    err(f"{args.login}: a {args.role} login ({how})")
    return EXIT_OK


def _read_password(login: str) -> str:
    """From the terminal, typed twice; else one line of stdin (a script)."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {login}: ")
        if first != getpass.getpass("again: "):
            raise CliError("the two passwords differ; nothing changed")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        raise CliError("--password: at least 8 characters")
    return first


def cmd_vacuum(args: argparse.Namespace) -> int:
    """Make removed values unreadable in the database's files (the owner, from cron)."""
    from console.retention import vacuum

    store = _open(args)
    problems = vacuum(store)
    for p in problems:
        err(p)
    err("vacuumed" + (" in part" if problems else ""))
    return EXIT_BAD_INPUT if problems else EXIT_OK


def _suspension_cmd(fn: Callable[[], Any]) -> int:
    _refusing(fn)
    return EXIT_OK


def cmd_suspend(args: argparse.Namespace) -> int:
    from console import clock
    from console.rules.timeutil import BadValue, parse_instant
    from console.suspensions import suspend

    _writes(args)
    try:
        start = parse_instant(args.from_) if args.from_ else clock.now()
        until = parse_instant(args.until) if args.until else None
    except BadValue as exc:
        raise CliError(f"--from/--until: {exc}") from None
    store = _open(args)
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

    _writes(args)
    at = _at(args)
    store = _open(args)
    code = _suspension_cmd(
        lambda: lift(store, args.subscriber, at=at, actor=operator(store), recorded_at=clock.now())
    )
    err(f"{args.subscriber}: suspension lifted")
    return code


def _effective(args: argparse.Namespace) -> tuple[int, int]:
    """(effective instant, now): ``--effective`` defaults to now."""
    from console import clock

    now = clock.now()
    raw = getattr(args, "effective", None)
    return (_instant(raw, "--effective") if raw else now), now


def cmd_renew(args: argparse.Namespace) -> int:
    from console.changes import renew
    from console.rules.timeutil import BadValue, format_instant, parse_date

    _writes(args)
    try:
        end = parse_date(args.term_end)
        start = parse_date(args.term_start) if args.term_start else None
    except BadValue as exc:
        raise CliError(f"--term-start/--term-end: {exc}") from None
    effective, now = _effective(args)
    store = _open(args)
    term = _refusing(
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

    _writes(args)
    effective, now = _effective(args)
    store = _open(args)
    _refusing(
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


def cmd_subscriber(args: argparse.Namespace) -> int:
    """``subscriber set SUB [facts] --effective T --reason R`` (leads), ``subscriber history``."""
    from console.changes import change_subscriber, subscriber_history
    from console.records import load_terms
    from console.rules.timeutil import format_instant

    if args.action == "history":
        store = _open(args)
        with store.connection() as conn:
            if conn.execute(_select_id("subscriber", args.subscriber)).first() is None:
                raise CliError(f"unknown subscriber {inert(args.subscriber)!r}")
            rows = subscriber_history(conn, args.subscriber)
        _print_history(args, rows)
        return EXIT_OK
    _writes(args)
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
    effective, now = _effective(args)
    store = _open(args)
    if args.target:
        with store.connection() as conn:
            terms = load_terms(conn, _book(args, store), [args.subscriber])
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
    _refusing(
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


def cmd_deployment(args: argparse.Namespace) -> int:
    """``deployment show DEP``; ``deployment set DEP [facts] --effective T --reason R`` (leads,
    a dated change: environment, managed, product, version, components); ``history``."""
    from console.changes import change_deployment, deployment_history
    from console.rules.timeutil import format_instant

    if args.action in ("history", "show"):
        store = _open(args)
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
            _dump(deployment_json(dep))
        else:
            print(
                f"{inert(dep.id)}  {inert(dep.subscriber)}  {dep.environment}  "
                f"{'managed' if dep.managed else 'not managed'}  {inert(dep.product)} "
                f"{inert(dep.version)}  components: {inert(', '.join(dep.components)) or 'none'}"
            )
        return EXIT_OK
    _writes(args)
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
    effective, now = _effective(args)
    store = _open(args)
    _refusing(
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


def _select_id(table: str, value: str) -> Any:
    from sqlalchemy import select

    from console.records import D, S

    t = S if table == "subscriber" else D
    return select(t.c.id).where(t.c.id == value)


def _print_history(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    if args.json:
        _dump({"changes": rows})
        return
    for r in rows:
        from console.changes import facts_text

        facts = facts_text(r["facts"])
        print(
            f"from {r['effective_at']}  {inert(facts)}  by {inert(r['by'] or '-')}  "
            f"recorded {r['recorded_at']}  {inert(r['reason'])}"
        )


def refusal_line(exc: BaseException) -> str:
    """``not allowed: ...`` for a role, ``refused: ...`` for anything else refused."""
    from console.errors import NotAllowed

    return str(exc) if isinstance(exc, NotAllowed) else f"refused: {exc}"


def _refusing(fn: Callable[[], Any]) -> Any:
    """Run a write action; its Refused becomes exit 1 with the message."""
    from console.actions import Refused

    try:
        return fn()
    except Refused as exc:
        raise CliError(refusal_line(exc)) from None


def _date_opt(value: str | None, name: str) -> Any:
    from console.rules.timeutil import BadValue, parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except BadValue as exc:
        raise CliError(f"{name}: {exc}") from None


def cmd_purge(args: argparse.Namespace) -> int:
    """Data retention (policy §11): ``--dry-run`` lists, otherwise removes (leads)."""
    from console import clock
    from console.retention import plan, plan_json, purge

    at = _at(args)
    store = _open(args)
    if args.dry_run:
        with store.connection() as conn:
            p = plan(conn, at)
        out = plan_json(p, dry_run=True)
    else:
        _writes(args)
        res = _refusing(lambda: purge(store, at, actor=operator(store), recorded_at=clock.now()))
        out = plan_json(res.plan, dry_run=False, result=res)
    if args.json:
        _dump(out)
    else:
        for u in out["users"]:
            say(f"USER        {u['id']:<24} {u['subscriber']:<18} due {u['due']}")
        for a in out["attachments"]:
            say(f"ATTACHMENT  {a['id']:<24} {a['case']:<18} due {a['due']} ({a['reason']})")
        for path in out.get("removed_files", []):
            say(f"FILE        {path} (removed)")
    c = out["counts"]
    what = f"{c['user_pii']} support user(s) (PII and accounts), {c['attachments']} attachment(s)"
    if args.dry_run:
        err(f"dry run at {out['at']}: would remove {what}; nothing written")
    else:
        err(
            f"purged {what}, {c.get('text_fields', 0)} text field(s) rewritten "
            f"(audit {out['audit_id']})"
        )
        for problem in out["problems"]:
            err(f"warning: {problem}")
    return EXIT_OK


def cmd_attach(args: argparse.Namespace) -> int:
    from console.attachments import add_attachment, attachment_json

    at = _at(args)
    store = _open(args)
    by = _signed_by(args, store, operator(store))
    info = _refusing(lambda: add_attachment(store, args.case, args.file, by=by, at=at))
    err(f"{args.case}: attached {info.name} ({info.size} bytes, sha256 {info.sha256[:12]}...)")
    if args.json:
        _dump(attachment_json(info))
    return EXIT_OK


def cmd_products(args: argparse.Namespace) -> int:
    from console.lifespan import support_report
    from console.rules.timeutil import format_instant

    at = _at(args)
    store = _open(args)
    policy = _book(args, store)
    with store.connection() as conn:
        versions = support_report(conn, policy, at)
    if args.json:
        _dump({"at": format_instant(at), "versions": versions})
    else:
        for v in versions:
            flag = "  PAST END OF SUPPORT" if v["past_end_of_support"] else ""
            say(
                f"{v['product']:<16} {v['version']:<10} end of support "
                f"{v['end_of_support'] or '(not in matrix)'}  {len(v['open_cases'])} open case(s){flag}"
            )
    return EXIT_OK


def cmd_product(args: argparse.Namespace) -> int:
    from console import clock
    from console.lifespan import set_version, version_json

    released = _date_opt(args.released, "--released")
    notice = _date_opt(args.notice, "--notice")
    store = _open(args)
    v = _refusing(
        lambda: set_version(
            store,
            product=args.product,
            version=args.version,
            released=released,
            notice=notice,
            actor=operator(store),
            now=clock.now(),
        )
    )
    err(f"{v.product} {v.version}: end of support {v.end_of_support}")
    if args.json:
        _dump(version_json(v, clock.now()))
    return EXIT_OK


def cmd_change_request(args: argparse.Namespace) -> int:
    from console import clock
    from console.links import create_change_request

    _writes(args)
    at = _at(args)
    store = _open(args)
    by = _signed_by(args, store, operator(store))
    cid = _refusing(
        lambda: create_change_request(
            store,
            sr_id=args.sr,
            title=args.title,
            at=at,
            by=by,
            recorded_at=clock.now(),
            subscriber=args.subscriber,
            deployment=args.deployment,
        )
    )
    say(cid)
    err(
        f"{cid}: change request opened"
        + (f", linked to {args.sr}" if args.sr else " (Konneqt-initiated)")
    )
    return EXIT_OK


def cmd_confirm_vulnerability(args: argparse.Namespace) -> int:
    from console import clock
    from console.links import confirm_vulnerability

    _writes(args)
    at = _at(args)
    store = _open(args)
    actor = operator(store)
    by = _signed_by(args, store, actor)
    res = _refusing(
        lambda: confirm_vulnerability(
            store,
            args.sra,
            priority=args.priority,
            title=args.title,
            at=at,
            by=by,
            recorded_at=clock.now(),
            actor=actor,
            note=args.note,
        )
    )
    say(res.incident_id)
    err(f"{args.sra}: vulnerability confirmed; incident {res.incident_id} opened and linked")
    return EXIT_OK


def cmd_users(args: argparse.Namespace) -> int:
    from console.users import list_users, user_json

    store = _open(args)
    with store.connection() as conn:
        users = _refusing(lambda: list_users(conn, args.subscriber))
    if args.json:
        _dump({"subscriber": args.subscriber, "users": [user_json(u) for u in users]})
    else:
        for u in users:
            state = "admin" if u.admin else "user"
            gone = f"  removed by {u.removed_by}" if not u.active else ""
            say(f"{u.id:<20} {state:<6} {u.name or '':<24} {u.email or ''}{gone}")
    return EXIT_OK


def cmd_user_add(args: argparse.Namespace) -> int:
    from console.users import add_user

    at = _at(args)
    store = _open(args)
    u = _refusing(
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

    at = _at(args)
    store = _open(args)
    u = _refusing(
        lambda: remove_user(store, args.subscriber, args.id, actor=operator(store), at=at)
    )
    err(f"{args.subscriber}: {u.id} removed by {u.removed_by}")
    return EXIT_OK


def cmd_policy(args: argparse.Namespace) -> int:
    """``policy publish FILE --effective T --reason R`` (leads), ``policy history``,
    ``policy show [--version N]``."""
    from console import clock
    from console.errors import NotAllowed
    from console.policy_store import (
        PublishRefused,
        history_json,
        load_book,
        publish,
        version_text,
    )
    from console.rules.timeutil import format_instant

    if args.action == "publish":
        _writes(args)
        if not args.file:
            raise CliError("policy publish FILE --reason WHY [--effective T]")
        try:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{args.file}: cannot read: {exc}") from None
        now = clock.now()
        effective = _instant(args.effective, "--effective") if args.effective else now
        store = _open(args)
        try:
            done = publish(
                store,
                text,
                source=args.file,
                effective_at=effective,
                reason=args.reason or "",
                actor=operator(store),
                recorded_at=now,
            )
        except PublishRefused as exc:
            raise CliError(f"refused: {exc}") from None
        except NotAllowed as exc:
            raise CliError(str(exc)) from None
        err(
            f"policy version {done.number} published, in force from "
            f"{format_instant(done.effective_at)}"
        )
        return EXIT_OK
    store = _open(args)
    with store.connection() as conn:
        if args.action == "show":
            found = version_text(conn, args.version)
            if found is None:
                raise CliError(f"no policy version {args.version}")
            from console.text import inert_text

            sys.stdout.write(inert_text(found[1]))
            return EXIT_OK
        versions = history_json(load_book(conn), clock.now())
    if args.json:
        _dump({"versions": versions})
    else:
        for v in versions:
            mark = "*" if v["in_force"] else " "
            say(
                f"{mark} {v['number']:>3}  from {v['effective_at']}  by {inert(v['by'] or '-'):<12} "
                f"recorded {v['recorded_at']}  {inert(v['reason'])}"
            )
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace) -> int:
    from console.actions import count_cases, rebuild

    _writes(args)
    store = _open(args)
    with store.connection() as conn:
        total = count_cases(conn)
    with _progress("rebuild", total) as tick:
        n = rebuild(store, tick)
    err(f"rebuilt the clock projections of {n} cases")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Demo data: ``--cases N`` recent cases, and ``--closed M`` closed cases of three
    years' history before them, written as a streamed import (constant memory)."""
    from itertools import chain

    from console import clock
    from console.demo import generate, history
    from console.import_stream import import_cases
    from console.importer import ImportRefused, existing_ids

    _writes(args)
    if args.cases < 0 or args.closed < 0:
        raise CliError("demo: --cases and --closed count cases: 0 or more")
    store = _open(args, create=True)
    policy = _book(args, store)
    now = _at(args) if args.at else clock.now()
    if now > clock.now() + 300:
        raise CliError("demo --at: the demo's history cannot lie in the future")
    with store.connection() as conn:
        existing = existing_ids(conn, policy, cases=False)
    if existing.has_cases and not args.no_tui:
        err(f"{store.safe_url} already holds cases; opening it")
    elif existing.has_cases:
        raise CliError(
            f"{store.safe_url} already holds data; demo fills an empty database (use --db)"
        )
    else:
        from console.operators import first_lead, lead_exists, require_import

        actor = operator(store)
        with store.read() as session:
            # The demo fills a new database: its creator (who becomes its first lead), or a lead.
            _refusing(lambda: require_import(store, session, actor))
            bootstrap = not lead_exists(session)
        doc = generate(args.cases, seed=args.seed, now=now, first_id=10001 + args.closed, me=actor)
        if not store.is_sqlite:  # on PostgreSQL an operator is a login: make none up
            doc.pop("operators", None)
        recent = doc.pop("cases")
        past = history(doc, args.closed, seed=args.seed, now=now)
        try:
            counts = import_cases(
                store,
                doc,
                chain(past, recent),
                args.closed + len(recent),
                policy,
                clock.now(),
                _progress,
                label="demo",
                by=actor,
            )
        except ImportRefused as exc:  # a bug in the generator, not the user's input
            for p in exc.problems[:20]:
                err(p)
            raise CliError("demo data failed validation") from None
        err("demo: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" in {store.safe_url}")
        if bootstrap:
            _refusing(lambda: first_lead(store, actor, actor, clock.now()))
            err(f"demo: {actor} is this database's first lead")
    if args.no_tui:
        return EXIT_OK
    url = store.url
    store.dispose()
    return _run_app(args, url)


def cmd_tui(args: argparse.Namespace) -> int:
    """The console: the database is opened by the process reading its first screen
    (``console.first_screen``), so that this one goes straight to Textual."""
    return _run_app(args, getattr(args, "db", None))


def _run_app(args: argparse.Namespace, db: str | None) -> int:
    from console import first_screen
    from console.config import ConfigError, load_config

    try:
        cfg = load_config()
    except ConfigError as exc:
        raise CliError(f"config: {exc}") from None
    policy = getattr(args, "policy", None) or cfg.policy
    first = first_screen.start(db, policy)  # before Textual is imported: in parallel
    from screens.app import run

    # Who is acting is the login the first-screen process opened the database with.
    return run(
        db, policy_path=policy, mouse=not getattr(args, "no_mouse", False), first=first, cfg=cfg
    )


# -- parser -------------------------------------------------------------------------------


class UsageError(CliError):
    """A command line that does not parse: exit 1 (the contract keeps 2 for an
    unreachable or missing database, which monitoring reads as an outage)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit 2
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        help="database URL or SQLite path (else $SUPPORT_CONSOLE_DB, else the data dir)",
    )
    common.add_argument(
        "--policy",
        default=argparse.SUPPRESS,
        help="what-if: read under this policy file (TOML) instead of the desk's "
        "stored policy; reading commands only, nothing is written",
    )
    p = _Parser(
        prog="support-console",
        parents=[common],
        description="Support desk console: SLA clocks, queue, war teams.",
    )
    p.add_argument(
        "--no-mouse", action="store_true", help="do not capture the mouse (for slow SSH links)"
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, fn: Callable, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_)
        sp.set_defaults(fn=fn)
        return sp

    sp = add(
        "init",
        cmd_init,
        "create or upgrade the database schema (on a shared directory: files the group may write)",
    )
    sp.add_argument(
        "--lead",
        metavar="NAME",
        help="name the first lead (the database's creator, once: later, leads name roles)",
    )
    sp = add("grant", cmd_grant, "create or change a PostgreSQL login and its role (leads)")
    sp.add_argument(
        "login", help="the login name (on a jump host: the OS login, for peer authentication)"
    )
    sp.add_argument("--role", required=True, choices=["engineer", "lead", "executive", "system"])
    sp.add_argument(
        "--password",
        action="store_true",
        help="set a password (prompted twice; or one line on stdin); stored as a "
        "SCRAM-SHA-256 verifier",
    )
    add(
        "vacuum",
        cmd_vacuum,
        "make removed values unreadable in the database's files "
        "(SQLite: VACUUM and checkpoint; PostgreSQL: VACUUM, by the owner)",
    )
    sp = add("import", cmd_import, "load an interchange file (all or nothing)")
    sp.add_argument("file", help="JSON file, or - for stdin")
    sp = add("export", cmd_export, "write the whole database as an interchange file to stdout")
    sp.add_argument(
        "-o", "--output", help="write FILE (a temporary file renamed over it when whole)"
    )
    known_help = (
        "only what was recorded by this instant (policy §14); with no --at, also the "
        "instant asked about"
    )
    sp = add("queue", cmd_queue, "open cases in risk order")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--mine", action="store_true", help="only the cases assigned to you")
    sp.add_argument("--unassigned", action="store_true", help="only the cases assigned to nobody")
    sp.add_argument("--at", help="ISO 8601 instant with offset (default: now)")
    sp.add_argument("--as-known-at", help=known_help)
    sp = add("case", cmd_case, "one case: fields, clocks, history")
    sp.add_argument("id")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=known_help)
    sp = add("event", cmd_event, "record one event on a case")
    sp.add_argument("id")
    sp.add_argument("kind")
    sp.add_argument("--at")
    sp.add_argument(
        "--by",
        help="record as a system account of the policy data (cron, sweep); "
        "needs the system role (default: you)",
    )
    for opt in (
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
    ):
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
    for name, fn, help_ in (
        ("assign", cmd_assign, "assign a case to a support engineer (a hand-over)"),
        ("take", cmd_take, "assign a case to yourself"),
        ("unassign", cmd_unassign, "leave a case assigned to nobody"),
    ):
        sp = add(name, fn, help_)
        sp.add_argument("case")
        if name == "assign":
            sp.add_argument("engineer", help="the engineer's login name")
        sp.add_argument("--at", help="when (default: now)")
        sp.add_argument("--late-reason", help="a late entry's reason (leads)")
        sp.add_argument(
            "--expect-version", type=int, help="refuse if the case changed since this version"
        )
    sp = add("check", cmd_check, "exit 3 and one line per breach when anything is breached")
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=known_help)
    sp = add(
        "classify", cmd_classify, "the classification wizard's rules (policy §9) without the screen"
    )
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
    sp = add(
        "sweep",
        cmd_sweep,
        "record the escalations due by --at (idempotent, safe from many "
        "hosts; recorded by the system user `sweep`)",
    )
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
    sp = add("notify", cmd_notify, "notifications: receivers (leads), failed messages, delivery")
    sp.add_argument(
        "action", nargs="?", choices=["list", "add", "remove", "test", "failed", "retry"]
    )
    sp.add_argument(
        "target",
        nargs="?",
        help="add: the apprise URL; remove, test: the receiver ID; "
        "retry: message ids (comma-separated) or all",
    )
    sp.add_argument("--on", help="add: escalation,breach,forecast,late_update (one or more)")
    sp.add_argument("--subscriber", help="add: only these subscribers (comma-separated)")
    sp.add_argument("--priority", help="add: only these priorities, e.g. P0,P1")
    sp.add_argument(
        "--lead-time", help="add: send forecasts this long before a clock's due (default 30m)"
    )
    sp.add_argument(
        "--timezone", help="add: the zone of the times in its messages (default: yours)"
    )
    sp.add_argument("--reveal", action="store_true", help="list: show the URLs in full (leads)")
    sp.add_argument("--all", action="store_true", help="list: removed receivers too")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--limit", type=int, default=200, help="failed: at most this many")
    sp.add_argument(
        "--follow",
        action="store_true",
        help="deliver messages as they arrive, until stopped (run it as a service)",
    )
    sp.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    sp = add(
        "metrics", cmd_metrics, "the desk's numbers in the OpenMetrics text format (Prometheus)"
    )
    sp.add_argument("--at", help="judge the cases at this instant (default: now)")
    sp.add_argument(
        "--textfile",
        metavar="DIR",
        help="write DIR/support_console.prom atomically (node_exporter's textfile collector)",
    )
    sp.add_argument(
        "--serve",
        metavar="HOST:PORT",
        help="serve /metrics on HOST:PORT until stopped (e.g. 127.0.0.1:9464)",
    )
    sp = add("escalations", cmd_escalations, "the war-team board")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=known_help)
    sp = add("meters", cmd_meters, "query-hour meters per subscriber (current term)")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")
    sp.add_argument("--as-known-at", help=known_help)
    sp = add("policy", cmd_policy, "the desk's policy versions: publish (leads), history, show")
    sp.add_argument("action", choices=["publish", "history", "show"])
    sp.add_argument("file", nargs="?", help="publish: the policy file (TOML)")
    sp.add_argument("--effective", help="publish: in force from this instant (default: now)")
    sp.add_argument("--reason", help="publish: why (required)")
    sp.add_argument("--version", type=int, help="show: this version (default: the latest)")
    sp.add_argument("--json", action="store_true")
    sp = add("operators", cmd_operators, "list operators, or set one's role (leads)")
    sp.add_argument("action", nargs="?", choices=["list", "set"], default="list")
    sp.add_argument("name", nargs="?")
    sp.add_argument("role", nargs="?", help="engineer | lead | executive")
    sp = add("suspend", cmd_suspend, "suspend a subscriber's SLA (leads)")
    sp.add_argument("subscriber")
    sp.add_argument("--reason", required=True)
    sp.add_argument("--from", dest="from_", help="start (default: now)")
    sp.add_argument("--until", help="end (default: until lifted)")
    sp = add("lift", cmd_lift, "lift a subscriber's suspension in force (leads)")
    sp.add_argument("subscriber")
    sp.add_argument("--at")
    sp = add(
        "renew",
        cmd_renew,
        "extend a subscription's term from --effective, ending a lapse there (leads)",
    )
    sp.add_argument("subscriber")
    sp.add_argument("--term-end", required=True)
    sp.add_argument("--term-start", help="default: the day after the current term ends")
    sp.add_argument("--effective", help="in force from this instant (default: now)")
    sp.add_argument("--reason")
    sp = add("terminate", cmd_terminate, "the contract terminates at --effective (leads)")
    sp.add_argument("subscriber")
    sp.add_argument("--effective", help="default: now")
    sp.add_argument("--reason", required=True)
    sp = add("subscriber", cmd_subscriber, "a subscriber's dated changes: set (leads), history")
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
    sp = add(
        "deployment", cmd_deployment, "a deployment's facts: show, set (leads, dated), history"
    )
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
    add("rebuild", cmd_rebuild, "recompute every case's clock projection from its events")
    sp = add(
        "purge", cmd_purge, "data retention (policy §11): remove what is due (leads), or --dry-run"
    )
    sp.add_argument("--dry-run", action="store_true", help="list what would go; write nothing")
    sp.add_argument("--at", help="judge what is due at this instant (default: now)")
    sp.add_argument("--json", action="store_true")
    sp = add("attach", cmd_attach, "attach a file to a case (records name, size, sha256, path)")
    sp.add_argument("case")
    sp.add_argument("file")
    sp.add_argument("--at")
    sp.add_argument("--by", help="a system account (cron) attaching it; needs the system role")
    sp.add_argument("--json", action="store_true")
    sp = add(
        "products",
        cmd_products,
        "the support matrix by end of support, with open cases (policy §12)",
    )
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")
    sp = add(
        "product", cmd_product, "set a product version's release and discontinuation dates (leads)"
    )
    sp.add_argument("action", choices=["set"])
    sp.add_argument("product")
    sp.add_argument("version")
    sp.add_argument("--released", required=True, help="release date YYYY-MM-DD")
    sp.add_argument("--notice", help="discontinuation notice date YYYY-MM-DD (omitted: none)")
    sp.add_argument("--json", action="store_true")
    sp = add(
        "change-request",
        cmd_change_request,
        "open a change request linked to a service request (or Konneqt-initiated)",
    )
    sp.add_argument("sr", nargs="?", help="the service request (omit for a Konneqt-initiated CR)")
    sp.add_argument("--title", required=True)
    sp.add_argument("--subscriber", help="without SR: the subscriber")
    sp.add_argument("--deployment", help="the deployment (default: the service request's)")
    sp.add_argument("--at", help="when it is opened (default: now)")
    sp.add_argument("--by", help="a system account (cron) opening it; needs the system role")
    sp = add(
        "confirm-vulnerability",
        cmd_confirm_vulnerability,
        "on a security report analysis: record the confirmation and open the linked incident",
    )
    sp.add_argument("sra")
    sp.add_argument("--priority", required=True, help="the incident's priority (P0-P3)")
    sp.add_argument("--title", help="the incident's title (default: from the analysis)")
    sp.add_argument("--note")
    sp.add_argument("--at")
    sp.add_argument("--by", help="a system account (cron) recording it; needs the system role")
    sp = add("users", cmd_users, "a subscriber's support (portal) users")
    sp.add_argument("subscriber")
    sp.add_argument("--json", action="store_true")
    sp = add("user-add", cmd_user_add, "add a support user (leads)")
    sp.add_argument("subscriber")
    sp.add_argument("id")
    sp.add_argument("--name", required=True)
    sp.add_argument("--email", required=True)
    sp.add_argument("--admin", action="store_true", help="the new user is an administrator")
    sp.add_argument("--at")
    sp = add("user-remove", cmd_user_remove, "remove a support user (kept, marked removed; leads)")
    sp.add_argument("subscriber")
    sp.add_argument("id")
    sp.add_argument("--at")
    sp = add(
        "demo", cmd_demo, "fill an empty database with realistic demo data, then open the console"
    )
    sp.add_argument("--cases", type=int, default=300, help="recent cases (open or lately done)")
    sp.add_argument(
        "--closed", type=int, default=0, help="closed cases of three years' history before them"
    )
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--at", help="the demo's 'now' (default: now)")
    sp.add_argument("--no-tui", action="store_true")
    sp.add_argument("--no-mouse", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        err(str(exc))
        return exc.code
    fn = getattr(args, "fn", cmd_tui)
    try:
        return _dispatch(fn, args)
    finally:
        _close_all()


def _dispatch(fn: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return fn(args)
    except CliError as exc:
        err(str(exc))
        return exc.code
    except KeyboardInterrupt:
        err("interrupted; nothing half-written (each action is one transaction)")
        return 130
    except BrokenPipeError:
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except Exception as exc:  # refusals and database errors mid-command: one line each
        from console.errors import Refused, fault_text
        from console.store.engine import StoreUnavailable

        if isinstance(exc, StoreUnavailable):
            err(str(exc))
            return EXIT_UNREACHABLE
        if isinstance(exc, Refused):
            err(refusal_line(exc))
            return EXIT_BAD_INPUT
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(exc, OperationalError):
            err(f"database error: {fault_text(exc)}")
            return EXIT_UNREACHABLE
        if isinstance(exc, DBAPIError):  # never the SQL and its parameters
            err(f"the database refused: {fault_text(exc)}; nothing was written")
            return EXIT_BAD_INPUT
        raise


if __name__ == "__main__":
    sys.exit(main())
