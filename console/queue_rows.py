"""A queue row (``QueueRow``) and the risk order of rows at an instant (policy §13): the
part of the queue that needs no database, so that the console's screens can hold rows
without importing SQLAlchemy (``console.queue`` reads them; the console's first screen is
read in a separate process, see ``console.first_screen``).

The risk key is derived from a case's stored summary without building clock objects:

- earliest running due still ahead: group 2, ordered by that due;
- no running due: group 3 or 4, read off the stored clock states;
- earliest running due passed: the one case where time alone may have breached a clock,
  checked exactly on the clock's calendar (a due at a window's end breaches only when
  counting resumes).

A row's clocks (``QueueRow.current(at)``) are the stored summary carried forward to ``at``
(``_carry``: a binary search per running clock), computed only when asked for.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NotRequired, Protocol, TypedDict

from console.rules.clocks import (
    NO_PRIORITY_RANK,
    PRIORITY_RANK,
    RUNNING,
    CaseEval,
    ClockState,
    RiskKey,
    advance,
    risk_key,
)
from console.rules.policy import Terms

#: One stored clock (``console.projection.encode``), a JSON array read as
#: ``[state, target, elapsed, due, breached]``.
StoredClock = tuple[str, int | None, int, int | None, bool]

#: A case's stored clock summary (``case_state.clocks``; ``console.projection.encode``).
StoredSummary = TypedDict(
    "StoredSummary",
    {
        "c": dict[str, StoredClock],
        "ack": NotRequired[bool],
        "await": NotRequired[bool],
        "susp": NotRequired[bool],
        "vwait": NotRequired[bool],
    },
)

#: A stored clock whose breached flag is set: ``[state, target, elapsed, due, true]``.
_BREACHED = "true]"
_WAITING = re.compile(r'"(?:paused|pending|suspended)",\s*-?\d')
_DECODE = json.JSONDecoder().raw_decode  # no whitespace regex passes: stored text is compact


class CaseRow(Protocol):
    """What ``QueueRow.evaluated`` reads of a ``support_case`` row."""

    @property
    def id(self) -> str: ...
    @property
    def subscriber_id(self) -> str: ...
    @property
    def reported_at(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def deployment_id(self) -> str | None: ...


class QueueRow:
    """One listed case: its stored projection, its risk key at the queue's instant, and
    its clocks at any later instant on demand (``current``; ``eval`` at the queue's)."""

    __slots__ = (
        "id",
        "subscriber",
        "status",
        "type",
        "priority",
        "level",
        "reported_at",
        "anchor_at",
        "valid_until",
        "next_due",
        "raw",
        "title",
        "deployment",
        "escalated",
        "stored_breach",
        "key",
        "terms",
        "at",
        "snap",
        "support",
        "terminated",
        "assignee",
        "doc",
        "_cur",
        "_hay",
    )

    id: str
    subscriber: str
    status: str
    type: str
    priority: str | None
    level: str
    reported_at: int
    anchor_at: int
    valid_until: int | None
    next_due: int | None
    raw: str | StoredSummary | None  # SQLite gives the JSON text, psycopg a dict
    title: str
    deployment: str | None
    escalated: bool
    stored_breach: bool
    #: The risk key at the queue's instant: set by whoever builds the row (``evaluated``,
    #: ``console.queue._rows``), which knows the cheap way to it.
    key: RiskKey
    terms: Terms | None  # the Terms the case is judged by (None: read in another process)
    at: int
    snap: CaseEval | None  # an exact evaluation (from events), if made
    #: (end of support, past it at the queue's instant) of the deployment's product version
    #: (policy §12); (None, False) without a deployment or a matrix entry.
    support: tuple[date | None, bool]
    terminated: bool  # the subscriber's contract has terminated (flagged, §14)
    assignee: str | None
    #: The stored ``queue --json`` template (``console.output.queue_template``), when read.
    doc: str | None
    _cur: CaseEval | None
    _hay: str | None

    def __init__(self, row: Sequence[Any], terms: Terms | None, at: int) -> None:
        (
            self.id,
            self.subscriber,
            self.status,
            self.type,
            self.priority,
            self.level,
            self.reported_at,
            self.anchor_at,
            self.valid_until,
            self.next_due,
            raw,
            self.title,
            self.deployment,
            escalated,
            _,
            self.assignee,
            self.doc,
        ) = row
        self.raw = raw
        self.escalated = bool(escalated)
        # A clock was already breached when the summary was written (any state: a breach
        # stays a breach while paused, suspended or stopped, policy §14).
        self.stored_breach = raw is not None and _stored_breach(raw)
        self.terms = terms
        self.at = at
        self.snap = None
        self.support = (None, False)
        self.terminated = False
        self._cur: CaseEval | None = None
        self._hay: str | None = None

    @classmethod
    def evaluated(
        cls,
        case_row: CaseRow,
        ev: CaseEval,
        terms: Terms,
        escalated: bool,
        assignee: str | None = None,
    ) -> QueueRow:
        """A row evaluated from its events at ``ev.at`` (no usable projection)."""
        self = cls.__new__(cls)
        self.id, self.subscriber = case_row.id, case_row.subscriber_id
        self.status, self.type, self.priority, self.level = (
            ev.status,
            ev.type,
            ev.priority,
            ev.level,
        )
        self.reported_at = case_row.reported_at
        self.anchor_at, self.valid_until, self.next_due = ev.at, ev.next_boundary, None
        self.raw, self.title, self.deployment = None, case_row.title, case_row.deployment_id
        self.escalated = escalated
        self.stored_breach = any(st.breached for st in ev.clocks.values())
        self.terms, self.at, self.snap, self._cur = terms, ev.at, ev, ev
        self.support, self._hay = (None, False), None
        self.terminated = False
        self.assignee = assignee
        self.doc = None
        self.key = risk_key(self.id, ev.priority, self.reported_at, ev.clocks)
        return self

    # -- what the screens and the CLI read -------------------------------------------------

    @property
    def eval(self) -> CaseEval:
        """The case's clocks at the queue's instant."""
        return self.current(self.at)

    def current(self, at: int) -> CaseEval:
        """The case's clocks at ``at`` (no earlier than the queue's instant; the last one
        asked is cached)."""
        cur = self._cur
        if cur is not None and cur.at == at:
            return cur
        snap = self.snap
        if self.terms is None:  # read in another process with its clocks (first screen)
            return cur if cur is not None else self.snapshot()
        if snap is None:
            assert self.raw is not None
            cur = _carry(
                self.raw,
                self.terms,
                self.type,
                self.priority,
                self.level,
                self.status,
                self.anchor_at,
                self.valid_until,
                at,
            )
        else:
            cur = advance(snap, self.terms, at) if at > snap.at else snap
        self._cur = cur
        return cur

    def snapshot(self) -> CaseEval:
        """The case's clocks as last evaluated: the stored summary at its anchor (its last
        event), or the evaluation from events."""
        if self.snap is None:
            assert self.raw is not None
            self.snap = _carry(
                self.raw,
                self.terms,
                self.type,
                self.priority,
                self.level,
                self.status,
                self.anchor_at,
                self.valid_until,
                self.anchor_at,
            )
        return self.snap

    @property
    def group(self) -> int:
        return self.key[0]

    @property
    def breached(self) -> bool:
        """A running clock with a target has breached (risk group 1)."""
        return self.key[0] == 1

    @property
    def marked(self) -> bool:
        """Shown as breached wherever it appears (policy §14): a clock breached in any
        state (running, paused, suspended or stopped), or the case was escalated."""
        return self.key[0] == 1 or self.stored_breach or self.escalated

    @property
    def hay(self) -> str:
        """Lower-case id, subscriber and title, for the free-text search."""
        h = self._hay
        if h is None:
            h = self._hay = f"{self.id}\n{self.subscriber}\n{self.title}".lower()
        return h


def _stored_breach(raw: str | StoredSummary) -> bool:
    if isinstance(raw, str):
        return _BREACHED in raw
    return any(c[4] for c in raw["c"].values())


def _waiting(raw: str | StoredSummary) -> bool:
    """Some clock with a target is paused, pending or suspended (risk group 3)."""
    if isinstance(raw, str):
        return _WAITING.search(raw) is not None
    return any(
        c[0] in ("paused", "pending", "suspended") and c[1] is not None for c in raw["c"].values()
    )


def _prio(priority: str | None) -> int:
    return PRIORITY_RANK.get(priority or "", NO_PRIORITY_RANK)


def key_at(row: QueueRow, at: int) -> RiskKey:
    """The risk key (policy §13) of ``row`` at ``at``."""
    if row.snap is None and row.raw is not None:
        nd = row.next_due
        if nd is not None and nd > at:
            return (2, nd, _prio(row.priority), row.reported_at, row.id)
        if nd is None:
            group = 3 if _waiting(row.raw) else 4
            return (group, 0, _prio(row.priority), row.reported_at, row.id)
        return _past_due_key(row, at)
    ev = row.current(at)
    return risk_key(row.id, ev.priority, row.reported_at, ev.clocks)


def _past_due_key(row: QueueRow, at: int) -> RiskKey:
    """Exact key when the earliest due has passed, without building clock objects."""
    raw = row.raw
    assert raw is not None
    clocks = (_DECODE(raw)[0] if isinstance(raw, str) else raw)["c"]
    assert row.terms is not None  # only a row read in another process has none
    specs = row.terms.specs(row.type, row.priority, at)
    breached_due: int | None = None
    running_due: int | None = None
    for name, (state, target, _elapsed, due, breached) in clocks.items():
        if target is None or state != RUNNING or due is None:
            continue
        if not breached and due < at:
            spec = specs.get(name)
            breached = spec is not None and spec.calendar.elapsed(due, at) > 0
        if breached and (breached_due is None or due < breached_due):
            breached_due = due
        if running_due is None or due < running_due:
            running_due = due
    if breached_due is not None:
        return (1, breached_due, _prio(row.priority), row.reported_at, row.id)
    return (2, running_due or 0, _prio(row.priority), row.reported_at, row.id)


def _carry(
    raw: str | StoredSummary,
    terms: Terms | None,
    ctype: str,
    prio: str | None,
    level: str,
    status: str,
    anchor: int,
    valid_until: int | None,
    at: int,
) -> CaseEval:
    """The stored summary carried forward to ``at`` (same result as clocks.advance).

    Each running clock adds ``calendar.elapsed(anchor, at)``: both ends on one layout of
    the calendar (a position cached across cases goes stale when a case far in the past
    makes the shared calendar lay itself out further back).
    """
    data: StoredSummary = _DECODE(raw)[0] if isinstance(raw, str) else raw
    specs = None
    if at != anchor:
        assert terms is not None  # carrying needs the calendars; the anchor itself does not
        specs = terms.specs(ctype, prio, at)
    clocks: dict[str, ClockState] = {}
    for name, (state, target, elapsed, due, breached) in data["c"].items():
        if specs is not None and state == RUNNING:
            elapsed += specs[name].calendar.elapsed(anchor, at)
            breached = target is not None and elapsed > target
        clocks[name] = ClockState(
            state, target, elapsed, None if target is None else target - elapsed, due, breached
        )
    return CaseEval(
        at,
        ctype,
        prio,
        level,
        status,
        data.get("ack", False),
        data.get("await", False),
        data.get("susp", False),
        clocks,
        valid_until,
        awaiting_vendor=data.get("vwait", False),
    )


def usable(anchor_at: int, valid_until: int | None, at: int) -> bool:
    """Can the stored summary be carried forward to ``at``?"""
    return anchor_at <= at and (valid_until is None or at < valid_until)


def _key(row: QueueRow) -> RiskKey:
    return row.key


def _group(row: QueueRow) -> int:
    return row.key[0]


# -- the order as time passes (the console) ---------------------------------------------------


def retick(rows: list[QueueRow], at: int) -> bool:
    """Carry the order to a later ``at``: only group-2 cases whose due has passed can move
    (to group 1). Re-sorts in place; returns whether anything moved."""
    start = bisect_left(rows, 2, key=_group)
    changed = False
    i = start
    while i < len(rows):
        row = rows[i]
        k = row.key
        if k[0] != 2 or k[1] > at:
            break
        new = key_at(row, at)
        if new != k:
            row.key = new
            changed = True
        i += 1
    if changed:
        rows.sort(key=_key)
    return changed


def earliest_boundary(rows: Iterable[QueueRow]) -> int | None:
    """The first subscriber-suspension boundary ahead of the rows (then: re-read them)."""
    vals = [r.valid_until for r in rows if r.valid_until is not None]
    return min(vals) if vals else None


def running_breaches(rows: Sequence[QueueRow]) -> int:
    """Cases with a breached running clock (they lead the risk order)."""
    return bisect_left(rows, 2, key=_group)


def breach_count(rows: Iterable[QueueRow]) -> int:
    """Cases shown as breached: every marked case, whatever its clocks' states now."""
    return sum(1 for r in rows if r.marked)
