"""The case queue as a Line-API widget: it renders only the rows on screen.

Textual's DataTable measures every row (16 s at 100k rows); this widget keeps a list of
``console.queue.QueueRow`` and draws row ``y`` on demand in ``render_line``. Clock
states are decoded and carried to "now" only for the rows drawn.

Subscriber text never reaches a markup parser: cells are plain strings passed through
``inert`` (control characters become caret notation) and laid out as Segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.queue_rows import QueueRow
from console.text import breaches_at, clock_text, inert, worst_clock

TYPE_SHORT = {
    "incident": "INC",
    "query": "QRY",
    "security_report": "SRA",
    "service_request": "SR",
    "change_request": "CR",
}
TYPE_WIDE = {
    "incident": "incident",
    "query": "query",
    "security_report": "security",
    "service_request": "service",
    "change_request": "change",
}
STATUS_SHORT = {"open": "open", "resolved": "resd", "closed": "clsd"}
CLOCK_SHORT = {"response": "resp", "workaround": "work", "resolution": "reso", "update": "upd"}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    label: str
    width: int
    right: bool = False


def layout(width: int, id_width: int = 9) -> list[Column]:
    """Columns for a table ``width`` cells wide; the title takes what is left."""
    wide = width >= 130
    cols = [
        Column("mark", "", 1),
        Column("id", "CASE", max(4, id_width)),
        Column("subscriber", "SUBSCRIBER", 22 if wide else 11),
        Column("type", "TYPE" if wide else "TYP", 8 if wide else 3),
        Column("priority", "PR", 2),
        Column("status", "STATUS" if wide else "STAT", 8 if wide else 4),
        Column("level", "LV", 2),
        Column("clock", "CLOCK" if wide else "CLK", 10 if wide else 4),
        Column("left", "LEFT", 9, right=True),
        Column("due", "DUE (local)" if wide else "DUE", 16 if wide else 11),
    ]
    if width >= ASSIGNEE_FROM:  # policy §10: who holds the case
        cols.insert(7, Column("assignee", "ASSIGNEE", 12 if wide else 10))
    used = sum(c.width for c in cols) + len(cols)  # one space between columns
    cols.append(Column("title", "TITLE", max(8, width - used)))
    return cols


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` cut or padded to exactly ``width`` cells (an ellipsis marks a cut)."""
    n = cell_len(text)
    if n > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - n)
    return pad + text if right else text + pad


ASSIGNEE_FROM = 100  # the assignee column from this width


def due_text(ts: int | None, tz: tzinfo, wide: bool) -> str:
    if ts is None:
        return ""
    d = datetime.fromtimestamp(ts, tz)
    return d.strftime("%a %d %b %H:%M") if wide else d.strftime("%b%d %H:%M")


BREACH_AT = "→"  # the due cell of a clock at its target, breaching when counting resumes


def breach_text(ts: int, at: int, tz: tzinfo, wide: bool) -> str:
    """The due cell of a clock at its target: when it will breach (``→Tue 09:00``)."""
    d, now = datetime.fromtimestamp(ts, tz), datetime.fromtimestamp(at, tz)
    near = (d.date() - now.date()).days < 6
    if wide:
        return "breach " + (d.strftime("%a %H:%M") if near else d.strftime("%d %b"))
    return BREACH_AT + (d.strftime("%a %H:%M") if near else d.strftime("%b%d"))


PAST_EOS = "†"  # the case's deployment runs a version past its end of support (policy §12)
ENDED = "✕"  # the subscriber's contract has terminated (policy §14): flagged, not refused
# A P0 on a managed third-party component awaits its vendor: resolution paused (policy §5).
VENDOR_WIDE, VENDOR_NARROW = "paused (vendor) · ", "⏸vendor "


def row_cells(
    item: QueueRow,
    ev: Any,
    tz: tzinfo,
    wide: bool,
    past: bool = False,
    ended: bool = False,
    terms: Any = None,
) -> dict[str, str]:
    """The text of each cell of one queue row (plain, inert text). ``past``: the case's
    version is past its end of support; the title starts with ``†`` (flagged, not refused).
    ``ended``: the subscriber's contract has terminated; the title starts with ``✕``.
    A clock at its target whose due has passed (reached as a window closed) shows when it
    breaches instead of its due (``→Tue 09:00``)."""
    worst = worst_clock(ev.clocks)
    name, st = worst if worst else ("", None)
    breach = breaches_at(terms, ev, name, st)
    due = (
        breach_text(breach, ev.at, tz, wide)
        if breach is not None
        else due_text(st.due if st else None, tz, wide)
    )
    # A breach stays marked while its clock is paused, suspended or stopped, and an
    # escalated case is always marked (policy §14).
    marked = item.marked or any(c.breached for c in ev.clocks.values())
    vendor = (VENDOR_WIDE if wide else VENDOR_NARROW) if ev.awaiting_vendor else ""
    return {
        "mark": "!" if marked else ("⏸" if ev.awaiting or ev.awaiting_vendor else " "),
        "id": inert(item.id),
        "subscriber": inert(item.subscriber),
        "type": (TYPE_WIDE if wide else TYPE_SHORT).get(ev.type, ev.type),
        "priority": ev.priority or "-",
        "status": ev.status if wide else STATUS_SHORT.get(ev.status, ev.status),
        "level": ev.level,
        "clock": name if wide else CLOCK_SHORT.get(name, name),
        "left": clock_text(st) if st else "",
        "due": due,
        "assignee": inert(getattr(item, "assignee", None) or "-"),
        "title": (
            (ENDED + " " if ended else "")
            + (PAST_EOS + " " if past else "")
            + vendor
            + inert(" ".join(item.title.split()))
        ),
    }


class QueueTable(ScrollView, can_focus=True):
    """Virtual table of queue items with a row cursor."""

    COMPONENT_CLASSES = {
        "queue-table--cursor",
        "queue-table--breached",
        "queue-table--done",
        "queue-table--header",
    }

    #: The moves: one row in the key help, its words naming the page and end keys.
    MOVES = Binding.Group("move; PgUp/PgDn a page; Home/g, End/G first and last")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, group=MOVES, key_display="↑↓ jk"),
        Binding("down,j", "cursor(1)", "Down", show=False, group=MOVES, key_display="↑↓ jk"),
        Binding("pageup", "page(-1)", "PgUp", show=False, group=MOVES, key_display="↑↓ jk"),
        Binding("pagedown", "page(1)", "PgDn", show=False, group=MOVES, key_display="↑↓ jk"),
        Binding("home,g", "jump(0)", "Top", show=False, group=MOVES, key_display="↑↓ jk"),
        Binding("end,G", "jump(-1)", "End", show=False, group=MOVES, key_display="↑↓ jk"),
        Binding("enter", "select", "Open", tooltip="open the case under the cursor"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Selected(Message):
        """Enter on a row."""

        def __init__(self, case_id: str) -> None:
            super().__init__()
            self.case_id = case_id

    class Moved(Message):
        """The cursor moved (the pane shows the position)."""

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[QueueRow] = []
        self.at = 0
        self.tz = tz
        self._cols_for: tuple[tuple[int, int], list[Column]] = ((-1, -1), [])
        self.id_width = 9
        # Deployments whose version is past its end of support (set by the lifespan pane,
        # which follows edits live); until it has read, each row's own flag from the queue.
        self.past_deployments: frozenset[str] | None = None

    # -- data ---------------------------------------------------------------------------

    def set_items(self, items: list[QueueRow], at: int, keep: str | None = None) -> None:
        """Show ``items``; the cursor stays on case ``keep`` when it is still listed."""
        if keep is None and self.items and 0 <= self.cursor < len(self.items):
            keep = self.items[self.cursor].id
        self.items = items
        self.at = at
        self.virtual_size = Size(self.size.width, len(items))
        index = 0
        if keep is not None:
            for i, it in enumerate(items):
                if it.id == keep:
                    index = i
                    break
        self._set_cursor(index, center=False)
        # The new virtual size reaches the scroll bounds at the next layout: scroll the
        # cursor into view again then, or a long list shown after a short one keeps its
        # old scroll position with the cursor off screen.
        self.call_after_refresh(self._scroll_cursor_into_view)
        self.refresh()

    def set_past(self, deployments: frozenset[str]) -> None:
        """The deployments past end of support changed: their rows show the ``†`` flag."""
        if deployments != self.past_deployments:
            self.past_deployments = deployments
            self.refresh()

    def set_at(self, at: int) -> None:
        """Time passed: redraw the visible rows (their remaining times tick)."""
        self.at = at
        self.refresh()

    @property
    def current(self) -> QueueRow | None:
        if 0 <= self.cursor < len(self.items):
            return self.items[self.cursor]
        return None

    def current_eval(self) -> Any:
        """The clocks of the case under the cursor, at the table's instant (or None)."""
        item = self.current
        return None if item is None else item.current(self.at)

    def current_breach(self) -> tuple[str, int] | None:
        """(clock, instant) when the cursor's case is at a target it breaches once counting
        resumes (``console.text.breaches_at``), else None."""
        item = self.current
        if item is None or item.terms is None:
            return None
        ev = item.current(self.at)
        worst = worst_clock(ev.clocks)
        if worst is None:
            return None
        when = breaches_at(item.terms, ev, worst[0], worst[1])
        return None if when is None else (worst[0], when)

    def visible_items(self) -> list[QueueRow]:
        top = int(self.scroll_y)
        return self.items[top : top + self.size.height]

    # -- cursor -------------------------------------------------------------------------

    def _set_cursor(self, index: int, center: bool = False) -> None:
        n = len(self.items)
        index = max(0, min(index, n - 1)) if n else 0
        old = self.cursor
        self.cursor = index
        if n:
            self._scroll_cursor_into_view()
        if old != index:
            self._refresh_row(old)
            self._refresh_row(index)
        self.post_message(self.Moved())

    def _refresh_row(self, index: int) -> None:
        y = index - int(self.scroll_y)
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_cursor_into_view(self) -> None:
        h = max(1, self.size.height)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + h:
            self.scroll_to(y=self.cursor - h + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self.cursor + direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        self._set_cursor(0 if where == 0 else len(self.items) - 1)

    def cursor_shown(self) -> bool:
        """Is the cursor's row on screen?"""
        top = int(self.scroll_y)
        return top <= self.cursor < top + max(1, self.size.height)

    def action_select(self) -> None:
        """Enter opens the case under the cursor, and only a case that is shown: a cursor
        left off screen is brought into view first."""
        item = self.current
        if item is None:
            return
        if not self.cursor_shown():
            self._scroll_cursor_into_view()
            self.refresh()
            return
        self.post_message(self.Selected(item.id))

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on a row; a double click opens it (the mouse is
        optional: every action has a key)."""
        index = int(self.scroll_y) + event.y
        if 0 <= index < len(self.items):
            self._set_cursor(index)
            if event.chain >= 2:
                self.action_select()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.items))
        if self.items:
            self._scroll_cursor_into_view()

    # -- rendering ----------------------------------------------------------------------

    def columns(self) -> list[Column]:
        width = self.scrollable_content_region.width or self.size.width
        if self._cols_for[0] != (width, self.id_width):
            self._cols_for = ((width, self.id_width), layout(width, self.id_width))
        return self._cols_for[1]

    def header_text(self) -> str:
        """The column labels, aligned with the rows."""
        return " ".join(fit(c.label, c.width, c.right) for c in self.columns())

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        index = int(self.scroll_y) + y
        base = self.rich_style
        if index >= len(self.items):
            return Strip.blank(width, base)
        item = self.items[index]
        ev = item.current(max(self.at, item.at))
        wide = width >= 130
        known = self.past_deployments
        past = (
            item.support[1]
            if known is None
            else item.deployment is not None and item.deployment in known
        )
        cells = row_cells(item, ev, self.tz, wide, past, item.terminated, item.terms)
        style = base
        if item.marked:
            style = style + self.get_component_rich_style("queue-table--breached")
        elif ev.status != "open":
            style = style + self.get_component_rich_style("queue-table--done")
        if index == self.cursor:
            style = style + self.get_component_rich_style("queue-table--cursor")
        segs: list[Segment] = []
        for col in self.columns():
            text = fit(cells.get(col.name, ""), col.width, col.right) + " "
            segs.append(Segment(text, style))
        strip = Strip(segs).crop(0, width)
        if strip.cell_length < width:
            strip = strip.extend_cell_length(width, style)
        return strip.simplify()
