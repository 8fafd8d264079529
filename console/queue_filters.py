"""The console's queue filters: which of the queue's rows the operator asked to see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from console.queue_rows import QueueRow


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


def apply_filters(rows: Sequence[QueueRow], f: Filters, me: str | None = None) -> list[QueueRow]:
    """The rows the filters let through, in their order; ``me``: the operator, for
    "assigned to me"."""
    if not f.active:
        return list(rows)
    out: Iterable[QueueRow] = rows
    if f.breached:
        out = (r for r in rows if r.marked)
    if f.mine:
        out = (r for r in out if r.assignee is not None and r.assignee == me)
    if f.unassigned:
        out = (r for r in out if r.assignee is None)
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
