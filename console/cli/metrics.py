"""``support-console metrics``: the desk's numbers (``console.metrics``) printed in the
OpenMetrics text format, written for node_exporter's textfile collector (``--textfile``), or
served by prometheus_client's own HTTP server (``--serve HOST:PORT``).

prometheus_client and the store load only when the command runs, as for every command.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from console.cli.common import EXIT_OK, EXIT_UNREACHABLE, CliError, err
from console.cli.common import at_instant as _at
from console.cli.common import open_db as _open
from console.cli.common import policy_book as _book

if TYPE_CHECKING:
    from console.metrics import DeskCollector


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9464`` for IPv6) -> (host, port)."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--serve: expected HOST:PORT, e.g. 127.0.0.1:9464, not {value!r}")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    """``support-console metrics`` (see the module docstring)."""
    from console import clock
    from console.metrics import TEXTFILE_NAME, openmetrics_text, registry_for

    fixed = _at(args) if getattr(args, "at", None) else None
    listen = None
    if args.serve:
        try:
            listen = parse_listen(args.serve)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if args.textfile and not os.path.isdir(args.textfile):
        raise CliError(f"--textfile: no such directory: {args.textfile}")
    store = _open(args)
    policy = _book(args, store)
    registry, collector = registry_for(
        store, policy, lambda: fixed if fixed is not None else clock.now()
    )
    if listen is not None:
        return _serve(registry, collector, *listen)
    if args.textfile:
        from prometheus_client import write_to_textfile

        path = os.path.join(args.textfile, TEXTFILE_NAME)
        write_to_textfile(path, registry)
        if collector.last_error:
            err(
                f"metrics: database unreadable ({collector.last_error}); wrote support_database_up 0"
            )
            return EXIT_UNREACHABLE
        err(f"metrics written to {path}")
        return EXIT_OK
    text = openmetrics_text(registry)
    if collector.last_error:
        raise CliError(f"metrics: {collector.last_error}", EXIT_UNREACHABLE)
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.write(text)
        sys.stdout.flush()
    return EXIT_OK


def _serve(registry: Any, collector: DeskCollector, host: str, port: int) -> int:
    """prometheus_client's own HTTP server (OpenMetrics when the scraper asks for it)."""
    from prometheus_client import start_http_server

    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise CliError(f"--serve: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    err(f"metrics: serving http://{shown}:{bound}/metrics (stop with ctrl+c or SIGTERM)")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    thread.join(timeout=5)
    err("metrics: stopped")
    return EXIT_OK
