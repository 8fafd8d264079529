"""The desk's policy as stored versions (policy §14): publish a version; the book is
read by ``console.stored_policy`` (re-exported here).

Every write computes clocks with the book read from the database in its own transaction,
never with a policy file a command or console was started with: a file is only ever a
"what if" for reading.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select

from console.rules.policy import PolicyError, parse_policy
from console.rules.policy_book import PolicyBook
from console.rules.timeutil import BadValue, check_instant, format_instant
from console.stored_policy import load_book
from models import PolicyVersionRow, table_of

__all__ = ["PublishRefused", "Published", "history_json", "load_book", "publish", "version_text"]

PV = table_of(PolicyVersionRow)


class PublishRefused(Exception):
    """The version cannot be published; nothing was written. The message says why."""


@dataclass(frozen=True)
class Published:
    number: int
    effective_at: int
    sha256: str


def publish(
    store: Any,
    text: str,
    *,
    source: str,
    effective_at: int,
    reason: str,
    actor: str | None,
    recorded_at: int,
) -> Published:
    """Store ``text`` as the next version, in force from ``effective_at`` (leads only).

    Refused: a text that does not parse (the message names the line), an effective instant
    in the past (a version never applies to the past), no reason, a text identical to the
    version it would follow.
    """
    from console.operators import require

    try:
        check_instant(effective_at, "--effective")
    except BadValue as exc:
        raise PublishRefused(str(exc)) from None
    reason = (reason or "").strip()
    if not reason:
        raise PublishRefused("publishing a policy version needs a reason (--reason)")
    try:
        parse_policy(text, source)
    except PolicyError as exc:
        raise PublishRefused(str(exc)) from None
    if effective_at < recorded_at:
        raise PublishRefused(
            f"--effective {format_instant(effective_at)} lies in the past: a policy version "
            f"applies from now on, never to the past (now is {format_instant(recorded_at)})"
        )
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with store.write() as session:
        require(session, actor, "publish_policy")
        book = load_book(session)
        before = book.version_at(effective_at)
        if before.sha256 == sha:
            raise PublishRefused(
                f"the file is identical to version {before.number}, already in force then"
            )
        number = (
            int(session.execute(select(func.coalesce(func.max(PV.c.number), 0))).scalar_one()) + 1
        )
        session.execute(
            insert(PV).values(
                number=number,
                effective_at=effective_at,
                text=text,
                sha256=sha,
                reason=reason,
                by=actor,
                recorded_at=recorded_at,
            )
        )
    return Published(number, effective_at, sha)


def version_text(conn: Any, number: int | None) -> tuple[int, str] | None:
    """(number, TOML text) of a version; the latest when ``number`` is None."""
    q = select(PV.c.number, PV.c.text)
    q = q.where(PV.c.number == number) if number is not None else q.order_by(PV.c.number.desc())
    row = conn.execute(q.limit(1)).first()
    return (row.number, row.text) if row else None


def history_json(book: PolicyBook, at: int) -> list[dict[str, Any]]:
    in_force = book.version_at(at).number
    return [
        {
            "number": v.number,
            "effective_at": format_instant(v.effective_at),
            "recorded_at": format_instant(v.recorded_at),
            "by": v.by,
            "reason": v.reason,
            "sha256": v.sha256,
            "policy": v.policy.version,
            "in_force": v.number == in_force,
        }
        for v in book.versions
    ]
