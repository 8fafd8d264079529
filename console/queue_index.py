"""The console's in-memory queue: every listed case as a light item, in risk order.

``console.queue.load_queue`` evaluates every case's clocks (about 50 µs a case), which is
right for the CLI but too slow for a screen that must paint 100k cases in under a second.
This index reads the stored projection (``case_state``) as plain columns and derives each
case's risk key (policy §13) from it without building clock objects:

- earliest running due still ahead: group 2, ordered by that due;
- no running due: group 3 or 4, read off the stored clock states;
- earliest running due passed: the one case where time alone may have breached a clock,
  checked exactly on the clock's calendar (a due at a window's end breaches only when
  counting resumes).

Cases whose projection cannot be carried to ``at`` (an event after ``at``, a subscriber
suspension boundary passed) are evaluated from their events, as ``load_queue`` does, so
both give the same order. Full clock states are decoded only for the rows on screen.

No Textual here: the screens call this from worker threads.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from console.rules.clocks import (
    NO_PRIORITY_RANK,
    PRIORITY_RANK,
    RUNNING,
    CaseEval,
    advance,
    risk_key,
)

_WAITING = re.compile(r'"(?:paused|pending|suspended)",\s*-?\d')

_COLUMNS = (
    "s.case_id, s.subscriber_id, s.status, s.type, s.priority, s.level, s.reported_at, "
    "s.anchor_at, s.valid_until, s.next_due, s.clocks, c.title, c.deployment_id, s.escalated, "
    "s.assignee"
)
#: A stored clock whose breached flag is set: ``[state, target, elapsed, due, true]``.
_BREACHED = "true]"


class Item:
    """One listed case. ``snap`` is its evaluation at ``snap.at`` (decoded lazily)."""

    __slots__ = ("id", "subscriber", "type", "priority", "status", "level", "reported_at",
                 "anchor_at", "valid_until", "next_due", "raw", "title", "deployment", "key",
                 "snap", "escalated", "stored_breach", "_cur", "_hay", "assignee")

    def __init__(self, row: Sequence[Any]) -> None:
        (self.id, self.subscriber, self.status, self.type, self.priority, self.level,
         self.reported_at, self.anchor_at, self.valid_until, self.next_due, raw, self.title,
         self.deployment, escalated, self.assignee) = row
        if raw is not None and not isinstance(raw, str):
            raw = json.dumps(raw)
        self.raw: str | None = raw
        self.escalated = bool(escalated)
        # A clock was already breached when the summary was written (any state: a
        # breach stays a breach while paused, suspended or stopped, policy §14).
        self.stored_breach = raw is not None and _BREACHED in raw
        self.key: tuple = ()
        self.snap: CaseEval | None = None
        self._cur: CaseEval | None = None
        self._hay: str | None = None

    @property
    def hay(self) -> str:
        """Lower-case id, subscriber and title, for the free-text search."""
        h = self._hay
        if h is None:
            h = self._hay = f"{self.id}\n{self.subscriber}\n{self.title}".lower()
        return h

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

    def snapshot(self) -> CaseEval:
        if self.snap is None:
            from console.projection import decode

            assert self.raw is not None
            self.snap = decode(json.loads(self.raw), at=self.anchor_at, type_=self.type,
                               priority=self.priority, level=self.level, status=self.status,
                               valid_until=self.valid_until)
        return self.snap

    def current(self, terms: Any, at: int) -> CaseEval:
        """The case's clocks at ``at`` (cached for the last ``at`` asked)."""
        cur = self._cur
        if cur is not None and cur.at == at:
            return cur
        snap = self.snapshot()
        cur = advance(snap, terms, at) if at > snap.at else snap
        self._cur = cur
        return cur


def _prio(priority: str | None) -> int:
    return PRIORITY_RANK.get(priority or "", NO_PRIORITY_RANK)


def key_at(item: Item, terms: Any, at: int) -> tuple:
    """The risk key (policy §13) of ``item`` at ``at``."""
    if item.snap is None and item.raw is not None:
        nd = item.next_due
        if nd is not None and nd > at:
            return (2, nd, _prio(item.priority), item.reported_at, item.id)
        if nd is None:
            group = 3 if _WAITING.search(item.raw) else 4
            return (group, 0, _prio(item.priority), item.reported_at, item.id)
        return _past_due_key(item, terms, at)
    ev = item.current(terms, at)
    return risk_key(item.id, ev.priority, item.reported_at, ev.clocks)


def _past_due_key(item: Item, terms: Any, at: int) -> tuple:
    """Exact key when the earliest due has passed, without building clock objects."""
    assert item.raw is not None
    clocks = json.loads(item.raw)["c"]
    specs = terms.specs(item.type, item.priority, at)
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
        return (1, breached_due, _prio(item.priority), item.reported_at, item.id)
    return (2, running_due or 0, _prio(item.priority), item.reported_at, item.id)


def _usable(anchor_at: int, valid_until: int | None, at: int) -> bool:
    return anchor_at <= at and (valid_until is None or at < valid_until)


def _select(top: int | None) -> str:
    base = f"SELECT {_COLUMNS} FROM case_state s JOIN support_case c ON c.id = s.case_id "
    if top is not None:  # the (listed, next_due) index gives the earliest dues at once
        return (base + "WHERE s.listed = :t AND s.next_due IS NOT NULL AND s.reported_at <= :at"
                " ORDER BY s.listed, s.next_due LIMIT :lim")
    return base + "WHERE (s.listed = :t OR s.anchor_at > :at) AND s.reported_at <= :at"


def load_items(conn: Any, terms: Any, at: int, *, top: int | None = None,
               case_ids: Iterable[str] | None = None) -> list[Item]:
    """Listed cases at ``at`` in risk order; ``top`` reads only the N earliest dues (a
    first screenful), ``case_ids`` only those cases."""
    from sqlalchemy import bindparam, text

    sql = _select(top)
    params: dict[str, Any] = {"t": True, "at": at}
    if top is not None:
        params["lim"] = top
    if case_ids is not None:
        sql += " AND s.case_id IN :ids"
        stmt = text(sql).bindparams(bindparam("ids", expanding=True))
        params["ids"] = list(case_ids)
    else:
        stmt = text(sql)
    items: list[Item] = []
    stale: list[str] = []
    what_if = getattr(getattr(terms, "book", None), "what_if", None) is not None
    for row in conn.execute(stmt, params):
        it = Item(row)
        if what_if or not _usable(it.anchor_at, it.valid_until, at):
            stale.append(it.id)
            continue
        if it.status == "closed":
            continue
        if it.subscriber not in terms:
            continue
        it.key = key_at(it, terms.case(it.subscriber, it.reported_at), at)
        items.append(it)
    if stale:
        items.extend(_evaluate(conn, terms, at, stale))
    items.sort(key=_key)
    return items


def _evaluate(conn: Any, terms: Any, at: int, ids: list[str]) -> list[Item]:
    from console.queue import _evaluate_fully

    out = []
    for qr in _evaluate_fully(conn, terms, at, ids):
        ev = qr.eval
        it = Item((qr.id, qr.subscriber, ev.status, ev.type, ev.priority, ev.level,
                   qr.reported_at, at, ev.next_boundary, None, None, qr.title, qr.deployment,
                   qr.escalated, qr.assignee))
        it.snap = ev
        it.stored_breach = any(st.breached for st in ev.clocks.values())
        it.key = risk_key(qr.id, ev.priority, qr.reported_at, ev.clocks)
        out.append(it)
    return out


def _key(it: Item) -> tuple:
    return it.key


def retick(items: list[Item], terms: Any, at: int) -> bool:
    """Carry the order to a later ``at``: only group-2 cases whose due has passed can move
    (to group 1). Re-sorts in place; returns whether anything moved."""
    start = bisect_left(items, (2,), key=_key)
    changed = False
    i = start
    while i < len(items):
        it = items[i]
        k = it.key
        if k[0] != 2 or k[1] > at:
            break
        new = key_at(it, terms.case(it.subscriber, it.reported_at), at)
        if new != k:
            it.key = new
            changed = True
        i += 1
    if changed:
        items.sort(key=_key)
    return changed


def needs_reload(items: Iterable[Item], at: int) -> bool:
    """Has a subscriber-suspension boundary passed since the items were loaded?"""
    return any(it.valid_until is not None and it.valid_until <= at for it in items)


def earliest_boundary(items: Iterable[Item]) -> int | None:
    vals = [it.valid_until for it in items if it.valid_until is not None]
    return min(vals) if vals else None


def running_breaches(items: Sequence[Item]) -> int:
    """Cases with a breached running clock (they lead the risk order)."""
    return bisect_left(items, (2,), key=_key)


def breach_count(items: Sequence[Item]) -> int:
    """Cases shown as breached: every marked case, whatever its clocks' states now."""
    return sum(1 for it in items if it.marked)


@dataclass(frozen=True)
class Filters:
    mine: bool = False  # assigned to the operator (policy §10)
    unassigned: bool = False  # assigned to nobody
    subscriber: str | None = None
    priority: str | None = None
    type: str | None = None
    breached: bool = False
    text: str = ""

    def with_(self, **kw: Any) -> Filters:
        return replace(self, **kw)

    @property
    def active(self) -> bool:
        return self != Filters()

    def describe(self) -> list[str]:
        out = []
        if self.mine:
            out.append("assigned to me")
        if self.unassigned:
            out.append("unassigned")
        if self.subscriber:
            out.append(f"subscriber={self.subscriber}")
        if self.priority:
            out.append(f"priority={self.priority}")
        if self.type:
            out.append(f"type={self.type}")
        if self.breached:
            out.append("breached")
        if self.text:
            out.append(f"search={self.text!r}")
        return out


def apply_filters(items: Sequence[Item], f: Filters, me: str | None = None) -> list[Item]:
    """The items the filters let through, in their order; ``me``: the operator, for
    "assigned to me"."""
    if not f.active:
        return list(items)
    out: Iterable[Item] = items
    if f.breached:
        out = (it for it in items if it.marked)
    if f.mine:
        out = (it for it in out if it.assignee is not None and it.assignee == me)
    if f.unassigned:
        out = (it for it in out if it.assignee is None)
    if f.subscriber:
        s = f.subscriber.lower()
        out = (it for it in out if s in it.subscriber.lower())
    if f.priority:
        p = f.priority
        out = (it for it in out if it.priority == p)
    if f.type:
        t = f.type
        out = (it for it in out if it.type == t)
    if f.text:
        needle = f.text.lower()
        out = (it for it in out if needle in it.hay)
    return list(out)
