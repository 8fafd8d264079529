"""The ``support-console`` command (interchange.md).

JSON goes to stdout, every message to stderr. Exit codes: 0 ok, 1 bad input (nothing
written), 2 database unreachable, 3 breaches (``check`` only). Heavy imports (SQLAlchemy,
Textual) happen inside the commands so ``--help`` and the console start quickly.

The commands live by area, each module holding its handlers and their arguments:
``cases`` (queue, case, events, assignment, check, classify, sweep, the board),
``subscribers`` (facts, contract, suspensions, meters, support users), ``governance``
(change requests, vulnerabilities, purge, product lifespans, policy) and ``admin``
(init, logins, import/export, upkeep, demo, notify, metrics; the last two run from
``notify`` and ``metrics``); ``common`` is what they share, ``start`` opens the console. A new command goes into its area's ``COMMANDS`` and
its name into ``HELP_ORDER``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from console.cli import admin, cases, governance, subscribers
from console.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_UNREACHABLE,
    CliError,
    Command,
    close_all,
    err,
    refusal_line,
)

#: Every command, by name.
COMMANDS: dict[str, Command] = {
    c.name: c for area in (admin, cases, subscribers, governance) for c in area.COMMANDS
}

#: The order ``support-console --help`` lists the commands in.
HELP_ORDER = (
    "init",
    "grant",
    "vacuum",
    "import",
    "export",
    "queue",
    "case",
    "event",
    "assign",
    "take",
    "unassign",
    "check",
    "classify",
    "sweep",
    "notify",
    "metrics",
    "escalations",
    "meters",
    "policy",
    "operators",
    "suspend",
    "lift",
    "renew",
    "terminate",
    "subscriber",
    "deployment",
    "rebuild",
    "purge",
    "attach",
    "products",
    "product",
    "change-request",
    "confirm-vulnerability",
    "users",
    "user-add",
    "user-remove",
    "demo",
)


class UsageError(CliError):
    """A command line that does not parse: exit 1 (the contract keeps 2 for an
    unreachable or missing database, which monitoring reads as an outage)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit 2
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
    for name in HELP_ORDER:
        command = COMMANDS[name]
        sp = sub.add_parser(name, parents=[common], help=command.help, description=command.help)
        sp.set_defaults(fn=command.run)
        command.arguments(sp)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        err(str(exc))
        return exc.code
    fn = getattr(args, "fn", admin.cmd_tui)
    try:
        return _dispatch(fn, args)
    finally:
        close_all()


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
        from console.errors import Refused, StoreUnavailable, fault_text

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
