"""The top line: app name, panes, the time in the operator's zone, the breach count, the
operator and their role, ``⚑ N escalated`` for escalations that came in since the operator
last looked at the board, and ``✉ N failed`` while notifications have been given up after
their last try.

It shows the console's clock (``console.clock``), not the machine's, so a frozen clock
in tests and snapshots gives a fixed header. Updated once a minute by the app's tick.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path

from rich.text import Text
from textual.widgets import Static


class StatusHeader(Static):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    def __init__(
        self,
        *,
        tz: tzinfo,
        panes: list[tuple[str, str, str]],
        user: str,
        id: str | None = None,
        mode: str | None = None,
    ) -> None:
        super().__init__(id=id, markup=False)
        self.mode = mode  # "WHAT-IF": a console under a policy file, which writes nothing
        self.tz = tz
        self.panes = panes  # (key, id, title)
        self.user = user
        self.current = panes[0][1] if panes else ""
        self.at = 0
        self.breaches: int | None = None
        self.notify_failed = 0
        self.role: str | None = None
        self.escalated = 0  # new escalations not yet seen on the board

    notice: str | None = None  # e.g. "OFFLINE": shown before the breach count

    def set_state(
        self,
        *,
        at: int | None = None,
        breaches: int | None = None,
        current: str | None = None,
        notice: str | None | bool = False,
        notify_failed: int | None = None,
        role: str | None = None,
        escalated: int | None = None,
    ) -> None:
        if notify_failed is not None:
            self.notify_failed = notify_failed
        if role is not None:
            self.role = role
        if escalated is not None:
            self.escalated = escalated
        if notice is not False:
            self.notice = notice or None
        if at is not None:
            self.at = at
        if breaches is not None:
            self.breaches = breaches
        if current is not None:
            self.current = current
        self.update(self._line())

    def _right(self, width: int, short: bool, dated: bool = True, role: bool = True) -> Text:
        """Notices, counts and the time; ``short`` spells the counts and the date tersely;
        ``dated=False`` leaves out the weekday."""
        right = Text(no_wrap=True)
        if self.mode:
            right.append(f" {self.mode} ", style="bold reverse")
            right.append(" ")
        if self.notice:
            right.append(f"⚠ {self.notice} ", style="bold reverse red")
            right.append(" ")
        if self.escalated:
            right.append(f"⚑ {self.escalated}" + ("" if short else " escalated"), style="bold red")
            right.append("  ")
        if self.notify_failed:
            right.append(f"✉ {self.notify_failed}" + ("" if short else " failed"), style="bold red")
            right.append("  ")
        if self.breaches is None:
            right.append("…")
        elif self.breaches:
            right.append(f"! {self.breaches:,} breached", style="bold red")
        else:
            right.append("✓ 0 breached", style="green")
        if self.at:
            when = datetime.fromtimestamp(self.at, self.tz)
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

    def on_resize(self) -> None:
        self.update(self._line())
