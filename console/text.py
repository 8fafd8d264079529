"""Plain-text renderings shared by the CLI and the console: durations, clocks, lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from console.rules.clocks import (
    PAUSED,
    PENDING,
    RUNNING,
    STOPPED,
    SUSPENDED,
    CaseEval,
    ClockState,
)
from console.rules.policy import Terms
from console.rules.timeutil import format_instant

STATE_MARK = {RUNNING: "", PAUSED: "⏸ ", PENDING: "… ", STOPPED: "■ ", SUSPENDED: "⊘ "}
BREACH_MARK = "!"


def hm(seconds: int | None) -> str:
    """Counted seconds as ``h:mm``; negative when overdue (``-0:42``)."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    m = abs(seconds) // 60
    return f"{sign}{m // 60}:{m % 60:02d}"


def worst_clock(clocks: dict[str, ClockState]) -> tuple[str, ClockState] | None:
    """The clock most at risk: a breached running one, else the running one due first,
    else one waiting with a target, else any."""
    best: tuple[tuple[int, int], str, ClockState] | None = None
    for name, st in clocks.items():
        if st.target is None:
            rank: tuple[int, int] = (5, 0)
        elif st.state == RUNNING and st.breached:
            rank = (0, st.due or 0)
        elif st.state == RUNNING:
            rank = (1, st.due or 0)
        elif st.state in (PAUSED, SUSPENDED):
            rank = (2, st.remaining or 0)
        elif st.state == PENDING:
            rank = (3, st.remaining or 0)
        else:
            rank = (4, st.remaining or 0)
        if best is None or rank < best[0]:
            best = (rank, name, st)
    return (best[1], best[2]) if best else None


PAUSED_FOR_WORDS = {
    "subscriber": "subscriber",
    "vendor": "vendor",
    "subscriber_and_vendor": "subscriber, vendor",
}


def state_label(state: str, paused_for: str | None = None) -> str:
    """A clock's state in words: ``paused (vendor)`` when the vendor's assistance is
    awaited (policy §5); an awaited subscriber alone stays plain ``paused``."""
    if state == PAUSED and paused_for in ("vendor", "subscriber_and_vendor"):
        return f"paused ({PAUSED_FOR_WORDS[paused_for]})"
    return state


def clock_text(st: ClockState) -> str:
    mark = BREACH_MARK if st.breached else ""
    return f"{mark}{STATE_MARK.get(st.state, '')}{hm(st.remaining if st.target is not None else st.elapsed)}"


def breaches_at(terms: Terms | None, ev: CaseEval, name: str, st: ClockState | None) -> int | None:
    """When a running clock at its target breaches, if its due has passed without a
    breach: its target was reached as a coverage window closed (17:00), and it breaches one
    counted second after the next window opens (policy §3). None for any other clock."""
    if (
        st is None
        or terms is None
        or st.state != RUNNING
        or st.breached
        or st.target is None
        or st.due is None
        or st.due > ev.at
        or (st.remaining or 0) > 0
    ):
        return None
    spec = terms.specs(ev.type, ev.priority, ev.at).get(name)
    if spec is None:
        return None
    return spec.calendar.add(ev.at, 1)


def local_time(ts: int | None, tz: tzinfo, fmt: str = "%a %d %b %Y %H:%M %Z") -> str:
    """An instant in the subscriber's zone ``tz`` as ``fmt`` says; ``—`` when there is none."""
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, tz).strftime(fmt)


def queue_lines(rows: Sequence[Any], at: int) -> Iterable[str]:
    yield (
        f"{'':1} {'CASE':<10} {'SUBSCRIBER':<16} {'TYPE':<15} {'PRI':<3} {'STATUS':<8} "
        f"{'ASSIGNEE':<12} {'CLOCK':<10} {'LEFT':>8}  DUE (UTC)            TITLE"
    )
    for r in rows:
        w = worst_clock(r.eval.clocks)
        name, st = w if w else ("", None)
        left = clock_text(st) if st else ""
        due = format_instant(st.due) if st and st.due else ""
        title = inert(" ".join(r.title.split()))
        if r.eval.awaiting_vendor:
            title = "[resolution paused (vendor)] " + title
        yield (
            f"{'!' if r.marked else ' '} {inert(r.id):<10} {inert(r.subscriber)[:16]:<16} "
            f"{r.eval.type:<15} {r.eval.priority or '':<3} {r.eval.status:<8} "
            f"{inert(getattr(r, 'assignee', None) or '-')[:12]:<12} {name:<10} "
            f"{left:>8}  {due:<21}{title[:60]}"
        )


def breach_lines(rows: Sequence[Any], at: int) -> list[str]:
    """One line per breached clock of an open case (for cron and monitoring)."""
    out = []
    for r in rows:
        # A breached clock marks its case (policy §14): only marked rows need their clocks.
        if not r.marked or r.status != "open":
            continue
        for name, st in r.eval.clocks.items():
            if st.breached:
                due = f" due {format_instant(st.due)}" if st.due else ""
                out.append(
                    f"BREACH {inert(r.id)} {inert(r.subscriber)} {r.eval.type} {r.eval.priority or '-'} "
                    f"{name} {st.state} over by {hm(-(st.remaining or 0))}{due}"
                )
    return out


def case_lines(case: dict[str, Any]) -> Iterable[str]:
    yield (
        f"{inert(case['id'])}  {inert(case['subscriber'])}  {case['type']} "
        f"{case['priority'] or ''}  {case['status']}  {case['level']}"
    )
    yield f"  {inert(' '.join(case['title'].split()))}"
    extra = []
    if case.get("component"):
        extra.append(f"component {inert(case['component'])}")
    if case.get("criterion"):
        extra.append(f"criterion {case['criterion']}")
    if extra:
        yield "  " + " · ".join(extra)
    for name, c in case["clocks"].items():
        flag = " BREACHED" if c["breached"] else ""
        state = state_label(c["state"], c.get("paused_for"))
        yield (
            f"  {name:<11} {state:<9} elapsed {hm(c['elapsed'])} / target {hm(c['target'])}"
            f"  left {hm(c['remaining'])}  due {c['due'] or '—'}{flag}"
        )
    for e in case.get("history", []):
        fields = {
            k: v
            for k, v in e.items()
            if k not in ("at", "kind", "by", "seq", "recorded_at", "late", "cleared")
        }
        late = ""
        if e.get("late"):
            cleared = ", ".join(e.get("cleared") or []) or "none"
            late = f" LATE ENTRY recorded {e.get('recorded_at')}; breaches cleared: {cleared}"
        yield (
            f"  {e['at']}  {inert(str(e['kind'])):<22} {inert(e['by'] or ''):<12} "
            f"{inert(json_inline(fields))}{late}"
        )


_CARET = {i: f"^{chr(i + 64)}" for i in range(32)} | {127: "^?"}


def inert(text: str) -> str:
    """Subscriber text made safe for a terminal: control characters (ESC, BEL, OSC...)
    become visible caret notation, so nothing in a title can drive the terminal."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        o = ord(ch)
        if o in _CARET:
            out.append(_CARET[o])
        elif 0x80 <= o < 0xA0 or not ch.isprintable():
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


def inert_text(text: str) -> str:
    """A multi-line text (a policy file) made inert line by line; line breaks and tabs
    stay, a carriage return or any other control character does not."""
    return "\n".join(
        "\t".join(inert(part) for part in line.split("\t")) for line in text.split("\n")
    )


def json_inline(d: dict[str, Any]) -> str:
    return " ".join(f"{k}={' '.join(str(v).split())}" for k, v in d.items())
