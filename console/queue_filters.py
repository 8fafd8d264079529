"""The console's queue filters: which of the queue's rows the operator asked to see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from console.queue_rows import QueueRow


@dataclass(frozen=True)
class Filters:
    mine: bool = False
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
            out.append("mine")
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


def apply_filters(rows: Sequence[QueueRow], f: Filters,
                  mine_ids: set[str] | None = None) -> list[QueueRow]:
    if not f.active:
        return list(rows)
    out: Iterable[QueueRow] = rows
    if f.breached:
        out = (r for r in rows if r.marked)
    if f.mine:
        ids = mine_ids or set()
        out = (r for r in out if r.id in ids)
    if f.subscriber:
        s = f.subscriber.lower()
        out = (r for r in out if s in r.subscriber.lower())
    if f.priority:
        p = f.priority
        out = (r for r in out if r.priority == p)
    if f.type:
        t = f.type
        out = (r for r in out if r.type == t)
    if f.text:
        needle = f.text.lower()
        out = (r for r in out if needle in r.hay)
    return list(out)


def mine_case_ids(conn: Any, user: str) -> set[str]:
    """Listed cases where ``user`` recorded any event (through the listed cases' events,
    never the whole history's)."""
    from sqlalchemy import text

    rows = conn.execute(text(
        "SELECT DISTINCT e.case_id FROM case_state s JOIN case_event e ON e.case_id = s.case_id "
        "WHERE s.listed = :t AND e.by = :u"), {"u": user, "t": True})
    return {r[0] for r in rows}
