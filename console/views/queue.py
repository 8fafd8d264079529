"""Reads the queue's shell needs besides the rows (``console.queue.load_queue``): where the
case summaries stand (``case_state.rev``), which cases changed since, the subscribers'
names for the palette and the first screen."""

from __future__ import annotations

from sqlalchemy import func, select

from console.records import Conn, case_state_table
from console.stored_terms import subscriber_names as subscriber_names


def queue_rev(conn: Conn) -> int:
    """The newest ``case_state.rev`` (0 on an empty desk): read first, so that anything
    written after it is re-read later."""
    table = case_state_table
    return int(conn.execute(select(func.coalesce(func.max(table.c.rev), 0))).scalar_one())


def changed_since(conn: Conn, rev: int) -> set[str]:
    """The cases whose summary was written after ``rev`` (listed or not: a case closed
    meanwhile leaves the queue). An index range read on ``case_state.rev``."""
    table = case_state_table
    return {str(r[0]) for r in conn.execute(select(table.c.case_id).where(table.c.rev > rev))}
