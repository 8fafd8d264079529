"""Data retention due dates (policy §11): pure, no I/O; every function takes the instant.

Definitions (decided here, tested in tests/test_retention.py):

- "90 days after X" is the instant ``X + 90 × 86 400 s`` (exact elapsed days in UTC, so no
  time zone or DST shift moves it). Data is **due** for removal when
  ``at >= X + 90 days``: at day 89 (and at 90 days minus one second) it stays, at exactly
  90 days it goes, at day 91 it goes.
- Contract termination is the subscriber's ``terminated_at`` instant; a subscriber
  without one is never due.
- A case's attachments count their 90 days from its **latest** ``resolved`` or ``closed``
  event while the case is still resolved or closed (time order; equal times: record
  order). A ``reopened`` case is open again and keeps its attachments; when it is resolved
  or closed again, the 90 days start from then (policy §11).
- Attachments are due at the earlier of (resolved-or-closed + 90 days) and
  (termination + 90 days): "whichever comes first".
- Support users' PII (name, e-mail) is due at termination + 90 days.
- "Other portal data" of a subscriber is its support-user accounts themselves (the rows,
  with who added and removed them), also due at termination + 90 days. Cases are the
  support record and stay; their events keep their rows, the purged user shown as
  ``removed user``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from console.rules.clocks import Event, sort_events

DAY = 86_400
RETENTION_DAYS = 90
RETENTION = RETENTION_DAYS * DAY
AHEAD_DAYS = 30  # the purge pane also lists what falls due within this many days
#: What a purged support user is shown as wherever they were named (history ``by``).
REMOVED_USER = "removed user"


def due_after(instant: int | None, seconds: int = RETENTION) -> int | None:
    """The instant data tied to ``instant`` becomes due (None: never)."""
    return None if instant is None else instant + seconds


def is_due(due: int | None, at: int) -> bool:
    """Due at ``at`` when ``at`` has reached the due instant (inclusive)."""
    return due is not None and at >= due


def resolved_since(events: Sequence[Event], at: int | None = None) -> int | None:
    """The instant a case's attachments count from: its latest ``resolved``/``closed``
    event up to ``at``, unless a later ``reopened`` made it open again (then None)."""
    anchor: int | None = None
    for e in sort_events(events):
        if at is not None and e.at > at:
            break
        if e.kind in ("resolved", "closed"):
            anchor = e.at
        elif e.kind == "reopened":
            anchor = None
    return anchor


def attachment_due(resolved_at: int | None, terminated_at: int | None) -> int | None:
    """90 days after the case was resolved or closed, or after termination, whichever first."""
    dues = [d for d in (due_after(resolved_at), due_after(terminated_at)) if d is not None]
    return min(dues) if dues else None


def user_due(terminated_at: int | None) -> int | None:
    """Support users' PII and accounts: 90 days after the contract terminates."""
    return due_after(terminated_at)


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    id: int
    case_id: str
    subscriber: str


@dataclass(frozen=True, slots=True)
class UserRef:
    id: str
    subscriber: str


@dataclass(frozen=True, slots=True)
class Due:
    """One item due for removal and the instant it became due."""

    id: int | str
    subscriber: str
    due: int
    case_id: str | None = None
    reason: str = ""  # "termination" | "resolved" (attachments)


@dataclass(slots=True)
class PurgePlan:
    at: int
    users: list[Due] = field(default_factory=list)  # PII and accounts (the same rows)
    attachments: list[Due] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.users and not self.attachments


def plan_purge(
    at: int,
    terminated: Mapping[str, int | None],
    users: Iterable[UserRef],
    attachments: Iterable[AttachmentRef],
    resolved: Mapping[str, int | None],
) -> PurgePlan:
    """What is due at ``at``.

    ``terminated``: subscriber -> termination instant (or None); ``resolved``: case ->
    the instant it has been resolved or closed since (``resolved_since``), or None.
    """
    plan = PurgePlan(at)
    for u in users:
        due = user_due(terminated.get(u.subscriber))
        if is_due(due, at):
            assert due is not None
            plan.users.append(Due(u.id, u.subscriber, due, reason="termination"))
    for a in attachments:
        by_case = due_after(resolved.get(a.case_id))
        due = attachment_due(resolved.get(a.case_id), terminated.get(a.subscriber))
        if is_due(due, at):
            assert due is not None
            reason = "resolved" if by_case == due else "termination"
            plan.attachments.append(Due(a.id, a.subscriber, due, a.case_id, reason))
    plan.users.sort(key=lambda d: (d.subscriber, str(d.id)))
    plan.attachments.sort(key=lambda d: (d.case_id or "", int(d.id)))
    return plan
