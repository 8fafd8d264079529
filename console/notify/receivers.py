"""Receivers of notifications: an apprise URL each, with what it wants (leads manage them).

A receiver names the kinds it wants (escalation, breach, forecast, late_update), may be
narrowed to some subscribers and priorities, has a lead time for forecasts and a time
zone for the times in its messages. Its URL holds secrets (Slack tokens, SMTP passwords,
PagerDuty keys): everyone sees it masked by apprise's own privacy rendering; only a lead
may read it in full. Adding, removing, testing and revealing are checked by the engine's
``require`` (``console.operators``), so every way in obeys the same rule.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from console.records import Conn
from models import NotifyOutbox, NotifyReceiver, table_of

R = table_of(NotifyReceiver)
O = table_of(NotifyOutbox)  # noqa: E741 - the outbox table, as R is the receivers'

KINDS = ("escalation", "breach", "forecast", "late_update")
PRIORITIES = ("P0", "P1", "P2", "P3")
DEFAULT_LEAD_TIME = 30 * 60
_LEAD = re.compile(r"^\s*(\d+)\s*(s|m|min|h)\s*$")


class ReceiverRefused(Exception):
    """Bad receiver settings, an unknown receiver, or a role that does not allow it."""


@dataclass(frozen=True)
class Receiver:
    id: int
    url: str
    kinds: tuple[str, ...]
    subscribers: tuple[str, ...] | None
    priorities: tuple[str, ...] | None
    lead_time: int
    timezone: str
    created_at: int
    created_by: str | None
    removed_at: int | None = None
    removed_by: str | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @property
    def tz(self) -> tzinfo:
        from console.rules.timeutil import zone

        return zone(self.timezone)

    def wants(self, kind: str, subscriber: str, priority: str | None) -> bool:
        """Does this receiver want a message of ``kind`` about such a case? A priority
        filter leaves out cases without a priority (queries, requests)."""
        if not self.active or kind not in self.kinds:
            return False
        if self.subscribers is not None and subscriber not in self.subscribers:
            return False
        return self.priorities is None or priority in self.priorities


def receiver_of(row: Any) -> Receiver:
    return Receiver(
        id=row.id,
        url=row.url,
        kinds=tuple(row.kinds or ()),
        subscribers=None if row.subscribers is None else tuple(row.subscribers),
        priorities=None if row.priorities is None else tuple(row.priorities),
        lead_time=int(row.lead_time),
        timezone=row.timezone,
        created_at=row.created_at,
        created_by=row.created_by,
        removed_at=row.removed_at,
        removed_by=row.removed_by,
    )


# -- settings in words -------------------------------------------------------------------


def parse_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    bad = [k for k in kinds if k not in KINDS]
    if not kinds or bad:
        raise ReceiverRefused(
            f"--on: unknown kind {', '.join(bad) or '(none)'}: one or more of {', '.join(KINDS)}"
        )
    return kinds


def parse_priorities(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    prios = tuple(dict.fromkeys(p.strip().upper() for p in text.split(",") if p.strip()))
    bad = [p for p in prios if p not in PRIORITIES]
    if not prios or bad:
        raise ReceiverRefused(
            f"--priority: unknown priority {', '.join(bad) or '(none)'}: "
            f"one or more of {', '.join(PRIORITIES)}"
        )
    return prios


def parse_lead_time(text: str | None) -> int:
    """``30m``, ``1h``, ``90s``: wall time before a clock's due that a forecast is sent."""
    if text is None:
        return DEFAULT_LEAD_TIME
    m = _LEAD.match(text)
    if not m:
        raise ReceiverRefused(f"--lead-time: not a duration (e.g. 30m, 2h): {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    seconds = n * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    if not 60 <= seconds <= 7 * 86400:
        raise ReceiverRefused("--lead-time: between 1 minute and 7 days")
    return seconds


def default_zone_name() -> str:
    """The zone for a receiver added without --timezone: the operator's (config file or
    SUPPORT_CONSOLE_TZ, TZ), else the host's named zone, else UTC."""
    from console.config import ConfigError, load_config

    try:
        cfg = load_config()
    except ConfigError:
        cfg = None
    for name in (cfg.timezone if cfg else None, os.environ.get("TZ")):
        if name:
            return name.lstrip(":")
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def check_zone(name: str) -> str:
    from console.rules.timeutil import BadValue, zone

    try:
        zone(name)
    except BadValue as exc:
        raise ReceiverRefused(f"--timezone: {exc}") from None
    return name


def mask(url: str) -> str:
    """The URL as apprise shows it in privacy mode (tokens and passwords elided); a URL it
    cannot read shows only its scheme."""
    try:
        import apprise

        obj = apprise.Apprise.instantiate(url)
        if obj is not None:
            shown = str(obj.url(privacy=True))  # type: ignore[no-untyped-call]  # (apprise: unannotated)
            # apprise spells out its defaults (?method=POST&retry=0...): keep the URL as
            # the lead wrote it when it had no query of its own.
            return shown.split("?", 1)[0] if "?" not in url else shown
    except Exception:  # noqa: BLE001 - a bad stored URL must not break a listing
        pass
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"{scheme}://****"


def check_url(url: str) -> None:
    """Refuse a URL apprise does not understand (unknown service, missing token...)."""
    import apprise

    url = url.strip()
    if "://" not in url:
        raise ReceiverRefused(
            f"not a notification URL (e.g. json://host/path, slack://...): {mask(url)}"
        )
    try:
        obj = apprise.Apprise.instantiate(url)
    except Exception:  # noqa: BLE001 - apprise raises various errors for bad URLs
        obj = None
    if obj is None:
        scheme = url.split("://", 1)[0]
        raise ReceiverRefused(
            f"apprise cannot use this URL ({scheme}://…): unknown service or "
            "missing part; see https://github.com/caronc/apprise/wiki"
        )


# -- store -------------------------------------------------------------------------------


def _require(conn: Conn, actor: str | None, action: str) -> None:
    from console.errors import NotAllowed
    from console.operators import require

    try:
        require(conn, actor, action)
    except NotAllowed as exc:
        raise ReceiverRefused(str(exc)) from None


def add_receiver(
    store: Any,
    url: str,
    *,
    kinds: tuple[str, ...],
    subscribers: tuple[str, ...] | None = None,
    priorities: tuple[str, ...] | None = None,
    lead_time: int = DEFAULT_LEAD_TIME,
    timezone: str = "UTC",
    actor: str | None,
    now: int,
) -> Receiver:
    """Add a receiver (leads), in one transaction. Subscribers must exist."""
    from console.records import subscriber_table

    url = url.strip()
    check_url(url)
    check_zone(timezone)
    with store.write() as session:
        _require(session, actor, "notify_add")
        if subscribers is not None:
            known = {
                r[0]
                for r in session.execute(
                    select(subscriber_table.c.id).where(subscriber_table.c.id.in_(subscribers))
                )
            }
            missing = [s for s in subscribers if s not in known]
            if missing:
                raise ReceiverRefused(f"--subscriber: unknown subscriber {', '.join(missing)}")
        res = session.execute(
            insert(R).values(
                url=url,
                kinds=list(kinds),
                subscribers=None if subscribers is None else list(subscribers),
                priorities=None if priorities is None else list(priorities),
                lead_time=lead_time,
                timezone=timezone,
                created_at=now,
                created_by=actor,
            )
        )
        rid = int(res.inserted_primary_key[0])
        row = session.execute(select(R).where(R.c.id == rid)).one()
    return receiver_of(row)


def load_receivers(conn: Conn, *, include_removed: bool = False) -> list[Receiver]:
    q = select(R).order_by(R.c.id)
    if not include_removed:
        q = q.where(R.c.removed_at.is_(None))
    return [receiver_of(r) for r in conn.execute(q)]


def get_receiver(conn: Conn, rid: int) -> Receiver:
    row = conn.execute(select(R).where(R.c.id == rid)).first()
    if row is None:
        raise ReceiverRefused(f"no receiver {rid} (see notify list)")
    return receiver_of(row)


def remove_receiver(store: Any, rid: int, *, actor: str | None, now: int) -> tuple[Receiver, int]:
    """Remove a receiver (leads): its pending messages are cancelled in the same
    transaction, so no deliverer sends them afterwards. Returns it and how many."""
    with store.write() as session:
        _require(session, actor, "notify_remove")
        r = get_receiver(session, rid)
        if not r.active:
            raise ReceiverRefused(f"receiver {rid} was already removed by {r.removed_by or '?'}")
        session.execute(update(R).where(R.c.id == rid).values(removed_at=now, removed_by=actor))
        res = session.execute(
            update(O)
            .where(O.c.receiver_id == rid, O.c.status == "pending")
            .values(status="cancelled", last_error="receiver removed")
        )
        return get_receiver(session, rid), int(res.rowcount or 0)


def may_reveal(conn: Conn, actor: str | None) -> None:
    """Raise ReceiverRefused unless ``actor`` may read receivers' URLs in full (leads)."""
    if actor is None:
        raise ReceiverRefused("showing receivers' URLs needs the lead role")
    _require(conn, actor, "notify_reveal")


def receiver_json(
    r: Receiver,
    *,
    reveal: bool = False,
    counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    from console.rules.timeutil import format_instant

    out: dict[str, Any] = {
        "id": r.id,
        "url": r.url if reveal else mask(r.url),
        "on": list(r.kinds),
        "subscribers": None if r.subscribers is None else list(r.subscribers),
        "priorities": None if r.priorities is None else list(r.priorities),
        "lead_time": r.lead_time,
        "timezone": r.timezone,
        "created_at": format_instant(r.created_at),
        "created_by": r.created_by,
        "removed_at": format_instant(r.removed_at),
        "removed_by": r.removed_by,
    }
    if counts is not None:
        out["messages"] = counts
    return out


def describe(r: Receiver) -> str:
    """One line: what it receives, for whom, lead time, zone."""
    from console.notify.messages import span

    who = "all subscribers" if r.subscribers is None else ", ".join(r.subscribers)
    prios = "all priorities" if r.priorities is None else ",".join(r.priorities)
    lead = f"; forecasts {span(r.lead_time)} ahead" if "forecast" in r.kinds else ""
    return f"{','.join(r.kinds)} for {who}, {prios}{lead}; times in {r.timezone}"
