"""The words of every notification (pure: no I/O; every instant is an argument).

Each message names the case, its subscriber and priority, says what happened in a
sentence, and gives times in the receiver's zone. Subscriber text (titles, ids, names)
passes through ``console.text.inert``: a title cannot drive the terminal of whoever reads
the message (or the console's notifications pane).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from console.text import inert

CLOCK_WORDS = {
    "response": "response",
    "workaround": "workaround",
    "resolution": "resolution",
    "update": "status update",
}
TYPE_WORDS = {
    "incident": "incident",
    "query": "query",
    "security_report": "security report",
    "service_request": "service request",
    "change_request": "change request",
}


@dataclass(frozen=True)
class CaseRef:
    """What every message says about its case."""

    case_id: str
    subscriber: str
    priority: str | None
    type: str
    title: str


def when(ts: int, tz: tzinfo) -> str:
    """An instant in the receiver's zone, in words a person reads at 3 a.m."""
    return datetime.fromtimestamp(ts, tz).strftime("%a %d %b %Y %H:%M %Z")


def span(seconds: int) -> str:
    """A duration in hours and minutes: ``45 min``, ``4 h``, ``1 h 05 min`` (never negative)."""
    m = max(0, int(seconds)) // 60
    h, m = divmod(m, 60)
    if not h:
        return f"{m} min"
    return f"{h} h" if not m else f"{h} h {m:02d} min"


def until(seconds: int) -> str:
    """Wall time until an instant, rounded up to the minute: ``30 min``, ``1 h 10 min``."""
    return span(((max(0, seconds) + 59) // 60) * 60)


def head(ref: CaseRef) -> str:
    """``CS-1 P1 acme``: the start of every title."""
    parts = (
        [inert(ref.case_id)] + ([ref.priority] if ref.priority else []) + [inert(ref.subscriber)]
    )
    return " ".join(parts)


def _what(ref: CaseRef) -> str:
    kind = TYPE_WORDS.get(ref.type, ref.type)
    prio = f"{ref.priority} " if ref.priority else ""
    return f'{inert(ref.case_id)} ({prio}{kind} of {inert(ref.subscriber)}, "{inert(ref.title)}")'


def escalation(
    ref: CaseRef,
    *,
    missed: str,
    target: int | None,
    missed_at: int,
    overdue: int,
    column: str,
    tz: tzinfo,
    by: str | None = None,
    reason: str | None = None,
) -> tuple[str, str]:
    """A new escalation to the war team: which target, when it was missed, how far over,
    and the board column the card stands in."""
    if missed in CLOCK_WORDS:
        clock = CLOCK_WORDS[missed]
        title = f"{head(ref)}: escalated to the war team, {clock} target missed"
        tgt = f" of {span(target)}" if target is not None else ""
        body = (
            f"{_what(ref)} missed its {clock} target{tgt} at {when(missed_at, tz)} and is "
            f"{span(overdue)} over it (counted time). It has been escalated to the war team; "
            f'its card is in the board column "{column}".'
        )
    else:
        title = f"{head(ref)}: escalated to the war team by a lead"
        who = f" by {inert(by)}" if by else ""
        why = f" Reason: {inert(reason)}." if reason else ""
        body = (
            f"{_what(ref)} was escalated to the war team{who} at {when(missed_at, tz)}, a "
            f"lead's decision before its workaround or resolution target was missed.{why} "
            f'Its card is in the board column "{column}".'
        )
    return title, body


def breach(
    ref: CaseRef, *, clock: str, target: int, missed_at: int, over: int, state: str, tz: tzinfo
) -> tuple[str, str]:
    """A clock's first breach (for the status-update clock: each period's)."""
    words = CLOCK_WORDS.get(clock, clock)
    title = f"{head(ref)}: {words} target breached"
    now = {
        "running": "it is still running",
        "paused": "it is paused now",
        "stopped": "it has stopped since",
        "suspended": "it is suspended now",
    }.get(state, state)
    body = (
        f"{_what(ref)} breached its {words} target of {span(target)}, reached at "
        f"{when(missed_at, tz)}; it is {span(over)} over (counted time) and {now}."
    )
    return title, body


def forecast(
    ref: CaseRef, *, clock: str, target: int, due: int, at: int, tz: tzinfo
) -> tuple[str, str]:
    """A clock that will breach within the receiver's lead time unless someone acts."""
    words = CLOCK_WORDS.get(clock, clock)
    left = until(due - at)
    title = f"{head(ref)}: {words} breaches in {left}"
    body = (
        f"{_what(ref)}: its {words} clock reaches its {span(target)} target at "
        f"{when(due, tz)}, in {left}, and breaches after that unless the case moves on."
    )
    return title, body


def late_update(
    ref: CaseRef, *, due: int, last: int, frequency: int, column: str, tz: tzinfo
) -> tuple[str, str]:
    """A war team's status update not posted in time."""
    title = f"{head(ref)}: war-team status update late"
    body = (
        f"The war team of {_what(ref)} owed a status update at {when(due, tz)} (every "
        f"{span(frequency)} of counted time; the last one, or the escalation, at "
        f'{when(last, tz)}) and has posted none since. Board column: "{column}".'
    )
    return title, body


def test(receiver_id: int, *, at: int, by: str | None, tz: tzinfo) -> tuple[str, str]:
    title = f"support-console: test notification to receiver {receiver_id}"
    who = f" by {inert(by)}" if by else ""
    body = (
        f"A test sent{who} at {when(at, tz)}. If you read this, the support console "
        "can page you here."
    )
    return title, body
