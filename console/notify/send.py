"""One message to one apprise URL, synchronously: (delivered?, why not).

apprise turns the URL into its service (Slack, Teams, PagerDuty, Opsgenie, e-mail, ntfy,
a JSON webhook...) and applies that service's own connect and read time-outs (4 s each
unless the URL says ``cto=``/``rto=``). Its persistent storage is kept in memory: a
deliverer writes nothing outside the database.
"""

from __future__ import annotations

import logging

# apprise reports through the logging module too; the deliverer prints its own one-line
# outcome, so apprise's lines would only repeat it (the reason is kept via log_callback).
logging.getLogger("apprise").addHandler(logging.NullHandler())
logging.getLogger("apprise").propagate = False


def send(url: str, title: str, body: str) -> tuple[bool, str | None]:
    """Deliver ``title``/``body`` as plain text; never raises for a delivery problem."""
    import apprise

    try:
        ap = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
        if not ap.add(url):
            return False, "apprise cannot use this URL (unknown service or missing part)"
        said: list[str] = []

        def log(entry: object, _plugin: object = None) -> None:
            level = str(getattr(entry, "level", ""))
            if level in ("WARNING", "ERROR", "CRITICAL") or "WARN" in level or "ERR" in level:
                said.append(str(getattr(entry, "message", entry)).strip())

        result = ap.notify(
            body=body, title=title, body_format=apprise.NotifyFormat.TEXT, log_callback=log
        )
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the deliverer
        return False, f"{type(exc).__name__}: {exc}"
    if result:
        return True, None
    return False, (said[-1] if said else "not delivered (no reason given by the service)")[:500]


def warm_up() -> None:
    """Load apprise and its service plugins now (a few hundred ms), so a long-running
    deliverer does not pay for it on its first message."""
    import apprise

    apprise.Apprise.instantiate("json://127.0.0.1/warm-up")
