"""What every ``support-console`` command shares: exit codes, output, the database and
policy a command reads, the instants it is asked about, and how a refusal is said.

JSON goes to stdout, every message to stderr, each line made inert. Heavy imports
(SQLAlchemy, the policy, Rich) happen inside the functions, so ``--help`` starts quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, overload

if TYPE_CHECKING:
    from datetime import date

    from console.rules.policy_book import PolicyBook
    from console.store.engine import Store

T = TypeVar("T")

EXIT_OK, EXIT_BAD_INPUT, EXIT_UNREACHABLE, EXIT_BREACHES = 0, 1, 2, 3

#: The help of ``--as-known-at`` on every reading command that takes it.
KNOWN_AT_HELP = (
    "only what was recorded by this instant (policy §14); with no --at, also the "
    "instant asked about"
)


class CliError(Exception):
    """What a command says on stderr before it exits with ``code`` (1 unless said)."""

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


def operator(store: Store) -> str:
    """Who is acting: the OS login (SQLite) or the database login (PostgreSQL); never a
    name typed on the command line (``console.identity``)."""
    from console.identity import operator_of

    return operator_of(store)


def signed_by(args: argparse.Namespace, store: Store, actor: str) -> str:
    """``--by NAME``: only a system account of the policy data, for a login with the
    system role; else the operator."""
    by: str | None = getattr(args, "by", None)
    if not by:
        return actor
    from console import clock
    from console.actions import check_signature
    from console.policy_store import load_book

    with store.read() as session:
        check_signature(session, load_book(session).at(clock.now()), by, actor)
    return by


def instant_option(raw: str, option: str) -> int:
    from console.rules.timeutil import BadValue, parse_instant

    try:
        return parse_instant(raw)
    except BadValue as exc:
        raise CliError(f"{option}: {exc}") from None


def known_at(args: argparse.Namespace) -> int | None:
    """``--as-known-at K``: only what was recorded by K counts (policy §14)."""
    raw = getattr(args, "as_known_at", None)
    return instant_option(raw, "--as-known-at") if raw else None


def at_instant(args: argparse.Namespace) -> int:
    """``--at T``; else ``--as-known-at`` alone (T = K); else now."""
    from console import clock

    raw = getattr(args, "at", None)
    if raw:
        return instant_option(raw, "--at")
    known = known_at(args)
    return known if known is not None else clock.now()


def clock_now() -> int:
    from console import clock

    return clock.now()


def what_if(args: argparse.Namespace) -> str | None:
    return getattr(args, "policy", None)


def policy_book(args: argparse.Namespace, store: Store) -> PolicyBook:
    """The desk's policy versions from the database, or with ``--policy FILE`` a what-if
    book of that file (reading commands only: nothing is ever written under it)."""
    from console.rules.policy import PolicyError, load_policy
    from console.rules.policy_book import PolicyBook

    path = what_if(args)
    if path:
        try:
            return PolicyBook.of(load_policy(path), what_if=path)
        except (PolicyError, OSError, UnicodeDecodeError) as exc:
            raise CliError(f"--policy: {exc}") from None
    from console.policy_store import load_book

    with store.connection() as conn:
        return load_book(conn)


def refuse_what_if(args: argparse.Namespace) -> None:
    """A command that writes refuses a what-if policy: the desk's policy is the stored one."""
    if what_if(args):
        raise CliError(
            f"--policy is a what-if for reading commands (queue, case, check, "
            f"escalations, meters, products, classify); `{args.command}` writes and "
            "always uses the policy stored in the database (`policy publish` "
            "changes it)"
        )


@contextlib.contextmanager
def progress(label: str, total: int | None) -> Iterator[Callable[..., None]]:
    """A progress bar on a terminal; silence when stderr is piped. It gives ``tick(n,
    total=None)``: ``n`` more done, and the total once known when it was not (None)."""
    if not sys.stderr.isatty() or (total is not None and total <= 0):
        yield lambda n, total=None: None
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

        def tick(n: int, total: int | None = None) -> None:
            if total is None:
                bar.advance(task, n)
            else:
                bar.update(task, advance=n, total=total)

        yield tick


_OPENED: list[Store] = []


def open_db(args: argparse.Namespace, *, create: bool = False) -> Store:
    """The database of ``--db``; only ``init`` and ``demo`` create one (``create``): any
    other command on a missing path says so and exits 2, creating nothing."""
    from console.errors import StoreUnavailable
    from console.store.engine import open_store

    try:
        store = open_store(getattr(args, "db", None), create=create, existing=not create)
    except StoreUnavailable as exc:
        raise CliError(str(exc), EXIT_UNREACHABLE) from None
    _OPENED.append(store)
    return store


def close_all() -> None:
    """Close every connection a command opened, so SQLite checkpoints its WAL now."""
    while _OPENED:
        with contextlib.suppress(Exception):
            _OPENED.pop().dispose()


#: JSON escapes C0 controls itself; DEL and the C1 controls (0x9b is a one-byte CSI) too.
_JSON_CONTROLS = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def dump_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1).translate(_JSON_CONTROLS))
    sys.stdout.write("\n")


def refusal_line(exc: BaseException) -> str:
    """``not allowed: ...`` for a role, ``refused: ...`` for anything else refused."""
    from console.errors import NotAllowed

    return str(exc) if isinstance(exc, NotAllowed) else f"refused: {exc}"


def refusing(fn: Callable[[], T]) -> T:
    """Run a write action; its Refused becomes exit 1 with the message."""
    from console.actions import Refused

    try:
        return fn()
    except Refused as exc:
        raise CliError(refusal_line(exc)) from None


def effective_and_now(args: argparse.Namespace) -> tuple[int, int]:
    """(effective instant, now): ``--effective`` defaults to now."""
    from console import clock

    now = clock.now()
    raw = getattr(args, "effective", None)
    return (instant_option(raw, "--effective") if raw else now), now


@overload
def date_option(value: str, name: str) -> date: ...
@overload
def date_option(value: None, name: str) -> None: ...
@overload
def date_option(value: str | None, name: str) -> date | None: ...
def date_option(value: str | None, name: str) -> date | None:
    """The date of option ``name`` (YYYY-MM-DD); None when it was not given."""
    from console.rules.timeutil import BadValue, parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except BadValue as exc:
        raise CliError(f"{name}: {exc}") from None


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command that takes only the common options (``--db``, ``--policy``)."""


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, its handler, its one-line help (also its ``--help``
    description) and the function that adds its own arguments to its parser."""

    name: str
    run: Callable[[argparse.Namespace], int]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
