"""The top line: app name, panes, the time in the operator's zone, the breach count, the
operator and their role, ``⚑ N escalated`` for escalations that came in since the operator
last looked at the board, and ``✉ N failed`` while notifications have been given up after
their last try.

It shows the console's clock (``console.clock``), not the machine's, so a frozen clock
in tests and snapshots gives a fixed header. Its state is reactive: ``now`` and
``offline`` are bound to the app's (``data_bind``), the breach count follows the app's
``breaches``; the app sets ``current``, ``role``, ``notify_failed`` and ``escalated``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class StatusHeader(Widget):
    """The top line (see the module docstring)."""

    #: The theme's colours for the counts (``status_header.tcss``): ``alarm`` (breaches,
    #: escalations, failed notifications), ``offline``, ``ok`` (no breach).
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-header--alarm",
        "status-header--offline",
        "status-header--ok",
    }

    #: The instant shown (the app's ``now``).
    now: reactive[int] = reactive(0)
    #: The breach count; None until the whole queue was read once ("…").
    breaches: reactive[int | None] = reactive(None)
    #: Why the database cannot be used (the app's ``offline``): ``⚠ OFFLINE``.
    offline: reactive[str | None] = reactive(None)
    current: reactive[str] = reactive("")
    notify_failed: reactive[int] = reactive(0)
    role: reactive[str | None] = reactive(None)
    escalated: reactive[int] = reactive(0)  # new escalations not yet seen on the board

    def __init__(
        self,
        *,
        tz: tzinfo,
        panes: list[tuple[str, str, str]],
        user: str,
        id: str | None = None,
        mode: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.mode = mode  # "WHAT-IF": a console under a policy file, which writes nothing
        self.tz = tz
        self.panes = panes  # (key, id, title)
        self.user = user
        self.set_reactive(StatusHeader.current, panes[0][1] if panes else "")

    def on_mount(self) -> None:
        if hasattr(self.app, "breaches"):
            self.watch(self.app, "breaches", self._breaches_counted, init=False)

    def _breaches_counted(self, count: int) -> None:
        self.breaches = count

    def _style(self, part: str) -> Style:
        return self.get_component_rich_style(f"status-header--{part}")

    def render(self) -> Text:
        return self._line()

    def _right(self, width: int, short: bool, dated: bool = True, role: bool = True) -> Text:
        """Notices, counts and the time; ``short`` spells the counts and the date tersely;
        ``dated=False`` leaves out the weekday."""
        right = Text(no_wrap=True)
        alarm = self._style("alarm")
        if self.mode:
            right.append(f" {self.mode} ", style="bold reverse")
            right.append(" ")
        if self.offline:
            right.append("⚠ OFFLINE ", style=self._style("offline"))
            right.append(" ")
        if self.escalated:
            right.append(f"⚑ {self.escalated}" + ("" if short else " escalated"), style=alarm)
            right.append("  ")
        if self.notify_failed:
            right.append(f"✉ {self.notify_failed}" + ("" if short else " failed"), style=alarm)
            right.append("  ")
        if self.breaches is None:
            right.append("…")
        elif self.breaches:
            right.append(f"! {self.breaches:,} breached", style=alarm)
        else:
            right.append("✓ 0 breached", style=self._style("ok"))
        if self.now:
            when = datetime.fromtimestamp(self.now, self.tz)
            fmt = (
                ("%a %d %b %H:%M %Z" if dated else "%d %b %H:%M %Z")
                if width >= 70 and not short
                else "%H:%M %Z"
            )
            right.append("  " + when.strftime(fmt))
        if width >= 110:
            right.append(f"  {self.user}")
            if self.role:
                right.append(f" · {self.role}", style="bold")
        elif self.role and role:
            right.append(f"  {self.role}", style="bold")
        right.append(" ")
        return right

    def _line(self) -> Text:
        """Panes on the left, breaches and time on the right; the right side never gives
        way: at 80 columns the pane list shrinks to its keys plus the current title, then
        the date loses its weekday, then the right side takes its short form (``✉ 2``, the
        time without the date)."""
        width = self.size.width or 80
        for compact, short, dated, role in (
            (False, False, True, True),
            (True, False, True, True),
            (True, False, False, True),
            (True, True, False, True),
            (True, True, False, False),
        ):
            right = self._right(width, short, dated, role)
            line = Text(no_wrap=True, overflow="crop")
            line.append(" support-console ", style="bold reverse")
            for key, pid, title in self.panes:
                current = pid == self.current
                label = f" {key} {title}" if current or not compact else f" {key}"
                line.append(label, style="bold underline" if current else "dim")
            if line.cell_len + right.cell_len + 1 <= width:
                break
        line.append(" " * max(1, width - line.cell_len - right.cell_len))
        line.append_text(right)
        line.truncate(width)
        return line
