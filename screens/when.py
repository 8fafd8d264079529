"""Instants typed by the operator, in the operator's zone: ``YYYY-MM-DD HH:MM``, ``HH:MM``
(today), or ``now``/empty (now). The screens show and take local times; the engine gets
epoch seconds.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

LOCAL = "%Y-%m-%d %H:%M"


class BadTime(ValueError):
    """A typed time that cannot be understood; the message says what to type."""


def local_text(ts: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime(LOCAL)


def parse_local(
    raw: str, tz: tzinfo, now: int, *, what: str = "time", default: int | None = None
) -> int:
    """Epoch seconds of ``raw`` in ``tz``. Empty or ``now``: ``default`` (else ``now``);
    ``HH:MM``: that time today in ``tz``. A time of the current minute is ``now`` itself."""
    text = " ".join(raw.split()).lower()
    if not text or text == "now":
        return now if default is None else default
    today = datetime.fromtimestamp(now, tz)
    try:
        if len(text) <= 5 and ":" in text:
            t = datetime.strptime(text, "%H:%M").replace(tzinfo=tz)  # only its hour and minute
            local = today.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0)
        else:
            local = datetime.strptime(text, LOCAL).replace(tzinfo=tz)
    except ValueError:
        raise BadTime(
            f"{what}: write YYYY-MM-DD HH:MM or HH:MM in your zone, not {raw.strip()!r}"
        ) from None
    ts = int(local.timestamp())
    if ts <= now < ts + 60:
        return now  # the current minute: now, to the second
    return ts
