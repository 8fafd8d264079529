"""The commands that set up and look after a database and its people: init, logins and
roles (grant, operators), import and export, rebuild, vacuum, the demo, notifications,
metrics, and starting the console itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TextIO

from console.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    CliError,
    Command,
    at_instant,
    err,
    inert,
    open_db,
    operator,
    policy_book,
    progress,
    refuse_what_if,
    refusing,
    say,
)
from console.cli.start import run_app


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the schema; ``--lead NAME``: the creator names the first lead."""
    from pathlib import Path

    from console import clock
    from console.operators import first_lead

    store = open_db(args, create=True)
    err(f"database ready: {store.safe_url}")
    if store.is_sqlite and store.engine.url.database not in (None, "", ":memory:"):
        from console.store.shared_file import advice

        for line in advice(Path(store.engine.url.database)):
            err(f"advice: {line}")
    if args.lead:
        first_lead(store, operator(store), args.lead, clock.now())
        err(f"{args.lead} is the first lead of this database")
    return EXIT_OK


def cmd_grant(args: argparse.Namespace) -> int:
    """``grant LOGIN --role R [--password]`` (leads): a PostgreSQL login per person."""
    from console import clock
    from console.operators import grant

    password = _read_password(args.login) if args.password else None
    store = open_db(args)
    refusing(
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

    store = open_db(args)
    problems = vacuum(store)
    for p in problems:
        err(p)
    err("vacuumed" + (" in part" if problems else ""))
    return EXIT_BAD_INPUT if problems else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """All or nothing, in constant memory whatever the file's size (console.import_stream);
    a progress bar on a terminal."""
    from console import clock
    from console.import_stream import import_file, readable_path
    from console.importer import ImportRefused

    refuse_what_if(args)
    if args.file != "-":
        try:
            with open(args.file, "rb"):
                pass
        except OSError as exc:
            raise CliError(f"{args.file}: cannot read: {exc.strerror}") from None
    store = open_db(args)
    book = policy_book(args, store)
    now = clock.now()
    actor = operator(store)
    from console.operators import require_import

    with store.read() as session:
        require_import(store, session, actor)
    try:
        with readable_path(args.file) as path:
            counts = import_file(store, path, args.file, book, now, progress, by=actor)
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

    store = open_db(args)
    with store.connection() as conn:
        total = count_cases(conn)
    if not args.output:
        out = sys.stdout
        start = _file_offset(out)
        try:
            with progress("export", total) as tick, store.connection() as conn:
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
            progress("export", total) as tick,
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


def _file_offset(stream: TextIO) -> int | None:
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


def cmd_rebuild(args: argparse.Namespace) -> int:
    from console.actions import count_cases, rebuild

    refuse_what_if(args)
    store = open_db(args)
    with store.connection() as conn:
        total = count_cases(conn)
    with progress("rebuild", total) as tick:
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

    refuse_what_if(args)
    if args.cases < 0 or args.closed < 0:
        raise CliError("demo: --cases and --closed count cases: 0 or more")
    store = open_db(args, create=True)
    policy = policy_book(args, store)
    now = at_instant(args) if args.at else clock.now()
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
            refusing(lambda: require_import(store, session, actor))
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
                progress,
                label="demo",
                by=actor,
            )
        except ImportRefused as exc:  # a bug in the generator, not the user's input
            for p in exc.problems[:20]:
                err(p)
            raise CliError("demo data failed validation") from None
        err("demo: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" in {store.safe_url}")
        if bootstrap:
            refusing(lambda: first_lead(store, actor, actor, clock.now()))
            err(f"demo: {actor} is this database's first lead")
    if args.no_tui:
        return EXIT_OK
    url = store.url
    store.dispose()
    return run_app(args, url)


def cmd_tui(args: argparse.Namespace) -> int:
    """The console: the database is opened by the process reading its first screen
    (``console.first_screen``), so that this one goes straight to Textual."""
    return run_app(args, getattr(args, "db", None))


def cmd_operators(args: argparse.Namespace) -> int:
    from console import clock
    from console.operators import list_operators, set_role

    store = open_db(args)
    if args.action == "set":
        if not args.name or not args.role:
            raise CliError("operators set NAME ROLE")
        refusing(lambda: set_role(store, operator(store), args.name, args.role, clock.now()))
        err(f"{args.name} is now {args.role}")
        return EXIT_OK
    with store.connection() as conn:
        for name, role in list_operators(conn):
            say(f"{name:<24} {role}")
    return EXIT_OK


def cmd_notify(args: argparse.Namespace) -> int:
    from console.cli.notify import run

    return run(args)


def cmd_metrics(args: argparse.Namespace) -> int:
    from console.cli.metrics import run

    return run(args)


# -- arguments ----------------------------------------------------------------------------


def _init_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--lead",
        metavar="NAME",
        help="name the first lead (the database's creator, once: later, leads name roles)",
    )


def _grant_arguments(sp: argparse.ArgumentParser) -> None:
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


def _import_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("file", help="JSON file, or - for stdin")


def _export_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "-o", "--output", help="write FILE (a temporary file renamed over it when whole)"
    )


def _notify_arguments(sp: argparse.ArgumentParser) -> None:
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


def _metrics_arguments(sp: argparse.ArgumentParser) -> None:
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


def _operators_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("action", nargs="?", choices=["list", "set"], default="list")
    sp.add_argument("name", nargs="?")
    sp.add_argument("role", nargs="?", help="engineer | lead | executive")


def _demo_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--cases", type=int, default=300, help="recent cases (open or lately done)")
    sp.add_argument(
        "--closed", type=int, default=0, help="closed cases of three years' history before them"
    )
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--at", help="the demo's 'now' (default: now)")
    sp.add_argument("--no-tui", action="store_true")
    sp.add_argument("--no-mouse", action="store_true")


COMMANDS = (
    Command(
        "init",
        cmd_init,
        "create or upgrade the database schema (on a shared directory: files the group may write)",
        _init_arguments,
    ),
    Command(
        "grant",
        cmd_grant,
        "create or change a PostgreSQL login and its role (leads)",
        _grant_arguments,
    ),
    Command(
        "vacuum",
        cmd_vacuum,
        "make removed values unreadable in the database's files "
        "(SQLite: VACUUM and checkpoint; PostgreSQL: VACUUM, by the owner)",
    ),
    Command("import", cmd_import, "load an interchange file (all or nothing)", _import_arguments),
    Command(
        "export",
        cmd_export,
        "write the whole database as an interchange file to stdout",
        _export_arguments,
    ),
    Command(
        "notify",
        cmd_notify,
        "notifications: receivers (leads), failed messages, delivery",
        _notify_arguments,
    ),
    Command(
        "metrics",
        cmd_metrics,
        "the desk's numbers in the OpenMetrics text format (Prometheus)",
        _metrics_arguments,
    ),
    Command(
        "operators",
        cmd_operators,
        "list operators, or set one's role (leads)",
        _operators_arguments,
    ),
    Command("rebuild", cmd_rebuild, "recompute every case's clock projection from its events"),
    Command(
        "demo",
        cmd_demo,
        "fill an empty database with realistic demo data, then open the console",
        _demo_arguments,
    ),
)
