"""Which target an escalation may name (policy §7), as a pure function of the case's history.

An incident is escalated when its workaround or resolution target is missed (the sweep
finds it; ``missed`` names the first target missed). Before any target is missed only a
lead may escalate, with a reason: ``missed: "manual"``. So an ``escalated`` event is
judged against the clocks as they stood at its instant, with the events before it:

- naming ``workaround`` or ``resolution``: that target must have been missed by then;
- naming ``manual``: no target may have been missed yet (else the escalation is not
  manual: it names the target);
- naming nothing: the first target missed, else ``manual``.

"Missed by ``at``": the clock's counted time has reached its target at ``at`` and it was
not stopped there, or it is breached. A sweep stamps an escalation at the very instant
the target was reached (the breach itself is one counted second later), so both count.
The lead's role is the engine's to check (``console.operators``); this module knows no
operators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from console.rules.clocks import PENDING, STOPPED, CaseFacts, Event, evaluate
from console.rules.policy import Terms
from console.rules.timeutil import format_instant

ESCALATING_CLOCKS = ("workaround", "resolution")
MANUAL = "manual"


def missed_targets(
    case: CaseFacts, prior: Sequence[Event], terms: Terms, at: int
) -> list[tuple[int, str]]:
    """``(instant missed, clock)`` of the workaround/resolution targets missed by ``at``,
    earliest first. ``prior``: the case's events before the one being judged, time order."""
    ev = evaluate(case, prior, terms, at)
    out = []
    for c in ESCALATING_CLOCKS:
        st = ev.clocks.get(c)
        if st is None or st.target is None:
            continue
        if st.breached:
            out.append((ev.missed_at.get(c, at), c))
        elif st.elapsed >= st.target and st.state not in (STOPPED, PENDING):
            out.append((st.due if st.due is not None else at, c))
    return sorted(out)


def judge_escalation(
    case: CaseFacts, prior: Sequence[Event], terms: Terms, at: int, data: Mapping[str, Any]
) -> tuple[str, tuple[str, str] | None]:
    """(the ``missed`` value to record, a problem ``(field, message)`` or None).

    See the module docstring. ``data`` is the event's data as given."""
    given = data.get("missed")
    missed = missed_targets(case, prior, terms, at)
    clocks = [c for _, c in missed]
    when = format_instant(at)
    if given in ESCALATING_CLOCKS:
        if given in clocks:
            return str(given), None
        why = f"escalated: case {case.id} had not missed its {given} target at {when}" + (
            f" (it missed {', '.join(clocks)})"
            if clocks
            else "; before a target is missed only a lead escalates, with a reason (manual)"
        )
        return str(given), ("missed", why)
    if given == MANUAL:
        if clocks:
            t, first = missed[0]
            return MANUAL, (
                "missed",
                f"escalated: case {case.id} missed its {first} target at "
                f"{format_instant(t)}: the escalation names it "
                f"(missed {first}), it is not manual",
            )
        return MANUAL, None
    if given is None:
        return (missed[0][1] if missed else MANUAL), None
    return str(given), ("missed", f"missed is workaround, resolution or manual, got {given!r}")
