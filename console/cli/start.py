"""Starting the console (``support-console`` with no command, and ``demo``).

The one place ``console`` imports the Textual app, inside ``run_app``: the database is
opened and the first screen of the queue read by a forked process
(``console.first_screen``) before Textual is imported, so the two happen in parallel and
``support-console --help`` never loads Textual at all.
"""

from __future__ import annotations

import argparse
import sys

from console.cli.common import EXIT_OK, EXIT_UNREACHABLE, CliError


def run_app(args: argparse.Namespace, db: str | None) -> int:
    """Open the console on ``db``; returns the exit code. A database that cannot be opened
    exits 2 before the screen starts, as every command does."""
    from console import first_screen
    from console.config import ConfigError, load_config
    from console.rules.timeutil import zone

    try:
        cfg = load_config()
    except ConfigError as exc:
        raise CliError(f"config: {exc}") from None
    policy = getattr(args, "policy", None) or cfg.policy
    _few_malloc_arenas()
    first = first_screen.start(db, policy)  # before Textual is imported: in parallel
    from screens.app import ConsoleApp

    tz = zone(cfg.timezone) if cfg.timezone else None
    message = first.next()
    if message is None or message[0] == "error":
        first.close()
        print(message[1] if message else "cannot open the database", file=sys.stderr)
        return message[2] if message and message[2] else EXIT_UNREACHABLE
    # Who is acting is the login the first-screen process opened the database with.
    app = ConsoleApp(
        message[1], policy_path=policy, user=message[2], tz=tz, bell=cfg.bell, first=first
    )
    app.run(mouse=not getattr(args, "no_mouse", False) and cfg.mouse)
    return EXIT_OK


def _few_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates an arena of its own, and memory freed in one
    (a pane's passing read) is not reused by another: the console's worker threads held
    a few MB more at its peak than with two arenas. Elsewhere (no glibc): nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass
