"""The queue pane: active filters, a search line, the column header and the queue table.

The pane holds the whole list in risk order (``items``) and shows the filtered view. The
app reads the queue (it owns the store; see ``screens/pane.py`` on why the queue is not a
``Pane``) and its reads arrive as typed messages (``QueueRead``, ``CasesRead``,
``QueueReadFailed``); the pane watches ``ConsoleApp.now`` itself (``on_time``: the remaining
times tick, what breached moves up), filters and redraws.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from console.queue_filters import Filters, apply_filters
from console.queue_rows import QueueRow, breach_count, retick
from console.text import inert
from screens.queue_table import QueueTable

if TYPE_CHECKING:
    from console.rules.policy_book import TermsMap
    from screens.app import ConsoleApp

PRIORITY_CYCLE = (None, "P0", "P1", "P2", "P3")
TYPE_CYCLE = (None, "incident", "query", "security_report", "service_request", "change_request")


def _next(cycle: tuple, value: Any) -> Any:
    i = cycle.index(value) if value in cycle else 0
    return cycle[(i + 1) % len(cycle)]


class QueueRead(Message):
    """Queue rows read in a thread, for the app's thread (``ConsoleApp`` keeps the terms,
    the names and ``rev``, and hands the rows to the pane): the first screenful
    (``partial``), or the whole queue. ``terms`` is None for rows the first-screen process
    read; ``breaches`` is the count when the reader counted it already."""

    def __init__(
        self,
        items: list[QueueRow],
        terms: TermsMap | None,
        names: dict[str, str],
        at: int,
        *,
        partial: bool,
        rev: int,
        breaches: int | None = None,
    ) -> None:
        super().__init__()
        self.items, self.terms, self.names, self.at = items, terms, names, at
        self.partial, self.rev, self.breaches = partial, rev, breaches


class CasesRead(Message):
    """Some cases re-read (after a write, or signalled by the change feed): ``fresh`` takes
    the place of the rows of ``case_ids`` (a case no longer listed leaves the queue)."""

    def __init__(
        self,
        case_ids: set[str],
        fresh: list[QueueRow],
        at: int,
        terms: TermsMap | None = None,
        rev: int | None = None,
    ) -> None:
        super().__init__()
        self.case_ids, self.fresh, self.at, self.terms, self.rev = case_ids, fresh, at, terms, rev


class QueueReadFailed(Message):
    """Reading the queue failed: ``message`` in words, ``error`` to tell a database gone."""

    def __init__(self, message: str, error: Exception) -> None:
        super().__init__()
        self.message, self.error = message, error


class QueuePane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "search",
            "Search",
            tooltip="search id, subscriber, title (enter: keep; esc: drop)",
        ),
        Binding("m", "toggle_mine", "Mine", tooltip="assigned to me (again: all)"),
        Binding("u", "toggle_unassigned", "Unassigned", tooltip="unassigned (again: all)"),
        Binding("b", "toggle_breached", "Breach", tooltip="breached (again: all)"),
        # Out of the key bar (it fits 80 columns without them); the key help lists them.
        Binding("p", "cycle_priority", "Prio", show=False, tooltip="priority: P0 → P3 → all"),
        Binding("t", "cycle_type", "Type", show=False, tooltip="type: incident → … → all"),
        Binding("s", "subscriber", "Sub", show=False, tooltip="one subscriber"),
        Binding("x", "clear_filters", "Clear", show=False, tooltip="clear every filter"),
        Binding("n", "new_case", "New", tooltip="new case (the classification wizard)"),
        Binding("r", "reload", "Reload", show=False, tooltip="read again"),
    ]

    #: The theme's colour for a failed read on the filter line (``queue_pane.tcss``).
    COMPONENT_CLASSES: ClassVar[set[str]] = {"queue-pane--error"}

    class ReloadRequested(Message):
        pass

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.items: list[QueueRow] = []
        self.at = 0
        self.filters = Filters()
        # Reading the rest of the queue (not Textual's ``loading``, which would hide the
        # pane behind a spinner until the whole queue is read: the first rows first).
        self.partial = True
        self.error: str | None = None
        self.view: list[QueueRow] = []
        self._breaches: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="queue-filters", markup=False)
        box = Input(
            placeholder="search id, subscriber, title (enter: keep; esc: drop)",
            id="queue-search",
            compact=True,
        )
        box.cursor_blink = False
        yield box
        yield Static(id="queue-head", markup=False)
        yield QueueTable(tz=self.tz, id="queue-table")

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    # -- data from the app ----------------------------------------------------------------

    def show_items(
        self,
        items: list[QueueRow],
        at: int,
        *,
        partial: bool = False,
        keep: str | None = None,
        breaches: int | None = None,
    ) -> None:
        """``breaches``: the count of marked rows, when the reader counted them already
        (100k rows: a count here would hold up a key press)."""
        self.items, self.at = items, at
        self._breaches = breaches
        if items:
            self.table.id_width = min(14, max(6, max(len(it.id) for it in items)))
        self.partial = partial
        self.error = None
        self._refilter(keep=keep)

    def show_error(self, message: str) -> None:
        self.error = message
        self.partial = False
        self._show_status()

    def on_mount(self) -> None:
        self.query_one("#queue-search", Input).display = False
        self._show_status()
        self.watch(self.app, "now", self.on_time, init=False)

    def on_time(self, now: int) -> None:
        """``ConsoleApp.now`` moved on (once a minute), once the whole queue is read: the
        remaining times tick and what breached moves up; when a suspension began or ended
        meanwhile the projections are stale, and the queue is read again instead."""
        if self.partial or now <= self.at:
            return
        from console.queue_rows import earliest_boundary

        boundary = earliest_boundary(self.items)
        if boundary is not None and boundary <= now:
            self.post_message(self.ReloadRequested())
        else:
            self.tick(now)

    def tick(self, at: int) -> bool:
        """Time passed: cases whose due passed may breach and move up. Returns whether the
        order changed."""
        self.at = at
        self._breaches = None
        moved = retick(self.items, at) if self.items else False
        if moved:
            self._refilter()
        else:
            self.table.set_at(at)
            self._show_status()
        return moved

    @property
    def breaches(self) -> int:
        if self._breaches is None:
            self._breaches = breach_count(self.items)
        return self._breaches

    # -- filters --------------------------------------------------------------------------

    def action_new_case(self) -> None:
        from screens.wizard import open_new_case_wizard

        open_new_case_wizard(self.console)

    def set_filters(self, filters: Filters) -> None:
        self.filters = filters
        self._refilter()

    @property
    def console(self) -> ConsoleApp:
        """The app (the queue pane lives only in the console)."""
        return cast("ConsoleApp", self.app)

    @property
    def me(self) -> str | None:
        return self.console.user

    def _refilter(self, keep: str | None = None) -> None:
        self.view = apply_filters(self.items, self.filters, self.me)
        self.table.set_items(self.view, self.at, keep=keep)
        self._show_status()

    def _show_status(self) -> None:
        f = self.filters
        parts = f.describe()
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            line.append("✖ " + self.error, style=self.get_component_rich_style("queue-pane--error"))
        else:
            line.append("Filter: ", style="bold")
            line.append(" · ".join(parts) if parts else "none", style="bold" if parts else "")
            n = len(self.view)
            pos = f"{self.table.cursor + 1:,}/{n:,}" if n else "0"
            total = f" of {len(self.items):,}" if f.active else ""
            line.append(f"  │ {pos}{total}")
            row = self.table.current if n else None
            ev = self.table.current_eval() if row is not None else None
            if row is not None and ev is not None and ev.awaiting_vendor:
                line.append("  │ ")
                line.append(f"{inert(row.id)}: resolution paused (vendor)", style="bold")
            pending = self.table.current_breach() if row is not None else None
            if row is not None and pending is not None:
                name, when = pending
                local = datetime.fromtimestamp(when, self.tz).strftime("%a %H:%M")
                line.append("  │ ")
                line.append(
                    f"{inert(row.id)}: {name} at its target, breaches "
                    f"{local} when counting resumes",
                    style="bold",
                )
            if self.partial:
                line.append("  │ loading…", style="italic")
        self.query_one("#queue-filters", Static).update(line)
        head = self.query_one("#queue-head", Static)
        head.update(Text(self.table.header_text(), no_wrap=True, overflow="crop"))

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_status)

    @on(QueueTable.Moved)
    def _moved(self) -> None:
        self._show_status()

    # -- actions --------------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#queue-search", Input)
        box.display = True
        box.value = self.filters.text
        box.focus()

    @on(Input.Changed, "#queue-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.set_filters(self.filters.with_(text=event.value.strip()))

    def on_key(self, event: Any) -> None:
        """Esc in the search box: the search is dropped and the box closed."""
        if (
            event.key == "escape"
            and isinstance(self.app.focused, Input)
            and self.app.focused.id == "queue-search"
        ):
            event.stop()
            box = self.app.focused
            box.value = ""
            box.display = False
            self.set_filters(self.filters.with_(text=""))
            self.table.focus()

    @on(Input.Submitted, "#queue-search")
    def _search_done(self) -> None:
        box = self.query_one("#queue-search", Input)
        if not box.value.strip():
            box.display = False
        self.table.focus()

    def action_toggle_mine(self) -> None:
        """``m``: the cases assigned to me (policy §10); on again: all."""
        self.set_filters(self.filters.with_(mine=not self.filters.mine, unassigned=False))

    def action_toggle_unassigned(self) -> None:
        """``u``: the cases assigned to nobody; on again: all."""
        self.set_filters(self.filters.with_(unassigned=not self.filters.unassigned, mine=False))

    def action_toggle_breached(self) -> None:
        self.set_filters(self.filters.with_(breached=not self.filters.breached))

    def action_cycle_priority(self) -> None:
        self.set_filters(self.filters.with_(priority=_next(PRIORITY_CYCLE, self.filters.priority)))

    def action_cycle_type(self) -> None:
        self.set_filters(self.filters.with_(type=_next(TYPE_CYCLE, self.filters.type)))

    def action_subscriber(self) -> None:
        from screens.prompts import TextPrompt

        def done(value: str | None) -> None:
            if value is not None:
                self.set_filters(self.filters.with_(subscriber=value.strip() or None))

        self.app.push_screen(
            TextPrompt(
                "Subscriber filter (id or part of it; empty: all)",
                value=self.filters.subscriber or "",
            ),
            done,
        )

    def action_clear_filters(self) -> None:
        box = self.query_one("#queue-search", Input)
        box.value = ""
        box.display = False
        self.set_filters(Filters())
        self.table.focus()

    def action_reload(self) -> None:
        self.post_message(self.ReloadRequested())
