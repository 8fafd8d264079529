"""Shared pieces of the notification tests: a webhook receiver on 127.0.0.1 (an apprise
``json://`` URL), a database of incidents that breach, and subprocess helpers that always
clean up.

Only the loopback address is ever used.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from examples_data import E01

from console import clock
from console.rules.timeutil import parse_instant

ROOT = Path(__file__).resolve().parents[1]
T = parse_instant
ACKED = "2026-02-02T14:00:00Z"  # Mon 09:00 New York
# P1 workaround: 24 covered hours from Mon 09:00 run out Wed 17:00 New York (22:00Z); the
# clock breaches when Thursday's window opens. At SWEEP_AT every incident has breached.
SWEEP_AT = "2026-02-05T15:00:00Z"
LEAD = "lead-lena"
ZONE = "America/New_York"


@dataclass
class Received:
    at: float
    status: int
    path: str
    doc: dict[str, Any]

    @property
    def text(self) -> str:
        return f"{self.doc.get('title', '')}\n{self.doc.get('message', '')}"


class Hook:
    """An HTTP server on 127.0.0.1 taking apprise's JSON posts.

    ``fail_first``: that many requests are answered 500 (apprise reports a failure).
    ``hold``: the request with this number (1-based) is kept waiting until ``release()``.
    """

    def __init__(self, *, fail_first: int = 0, hold: int | None = None) -> None:
        self.fail_first = fail_first
        self.hold = hold
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.held = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {"raw": body.decode("utf-8", "replace")}
                with hook.lock:
                    n = len(hook.received) + 1
                    status = 500 if n <= hook.fail_first else 200
                    hook.received.append(Received(time.time(), status, self.path, doc))
                if hook.hold == n:
                    hook.held.set()
                    hook.released.wait(30)
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def release(self) -> None:
        self.released.set()

    def delivered(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.status == 200]

    def wait(self, pred: Callable[[Hook], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self):
                return True
            time.sleep(0.05)
        return pred(self)


def incidents_doc(n: int, *, prefix: str = "INC-") -> dict[str, Any]:
    """alder-finance (enterprise 8x5, New York) with ``n`` P1 incidents acknowledged Monday
    09:00 New York; each one's workaround target is missed Wednesday 17:00."""
    doc = json.loads(E01.read_text("utf-8"))
    doc.pop("at")
    doc.pop("expected")
    doc["cases"] = [
        {
            "id": f"{prefix}{i:02d}",
            "subscriber": "alder-finance",
            "deployment": "alder-prod-gw",
            "type": "incident",
            "priority": "P1",
            "title": f"Payments outage {i}",
            "reported_at": ACKED,
            "level": "L1",
            "events": [{"at": ACKED, "kind": "acknowledged", "by": "eng"}],
        }
        for i in range(n)
    ]
    return doc


def load(url: str, doc: dict[str, Any], *, lead: str | None = LEAD) -> None:
    """Import ``doc`` and name ``lead`` a lead, with the clock at the acknowledgements."""
    from cli_support import make_lead

    from console.importer import existing_ids, validate, write
    from console.rules.policy import default_policy
    from console.store.engine import open_store

    policy = default_policy()
    with open_store(url) as store:
        with store.connection() as conn:
            prep = validate(doc, policy, existing_ids(conn, policy), T(ACKED))
        with store.write() as s:
            write(s, prep, T(ACKED))
        if lead:
            make_lead(store, lead, T(ACKED))


def add_receiver(
    url: str, hook_url: str, kinds: tuple[str, ...] = ("escalation",), *, at: str = ACKED, **kw: Any
) -> int:
    from console.notify.receivers import add_receiver as add
    from console.store.engine import open_store

    kw.setdefault("timezone", ZONE)
    with open_store(url) as store:
        return add(store, hook_url, kinds=kinds, actor=LEAD, now=T(at), **kw).id


def env_for(url: str, now: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SUPPORT_CONSOLE_DB": url,
            "SUPPORT_CONSOLE_NOTIFY_BACKOFF": "0.5",
            "SUPPORT_CONSOLE_NOTIFY_POLL": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def console_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "console", *args]


@contextlib.contextmanager
def processes() -> Iterator[list[subprocess.Popen]]:
    """Every process started into the list is stopped at the end, whatever happens:
    SIGTERM, then SIGKILL after 10 s."""
    procs: list[subprocess.Popen] = []
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def start(
    procs: list[subprocess.Popen], argv: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen:
    fh = log.open("ab")
    p = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    fh.close()
    procs.append(p)
    return p


def frozen(at: str) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def cm() -> Iterator[None]:
        clock.freeze(at)
        try:
            yield
        finally:
            clock.freeze(None)

    return cm()
