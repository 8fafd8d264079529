"""The query-hour meters pane (policy §8): one row per subscriber for its current term.

Rows come from ``console.meters.load_meters`` (closest to the limit first). Each shows
hours used / limit, exempt hours apart, a bar that reads without colour
(``████████░░  83% WARN``), and the day the limit was reached or is forecast at the
term's burn rate. ``!`` marks a subscriber over its limit, ``⊘`` one whose SLA is
suspended now. An over-limit subscriber is flagged with the suggestion to suspend for
``usage_limit_exceeded``; the console never suspends by itself. Enter opens the
subscriber's view.

The pane (a ``screens.pane.Pane``) reads ``console.views.meters`` in a worker when it is
shown and when the day changes; it needs the app's store and policy, opened by the app's
first read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.text import inert
from screens.burn_chart import hours, meter_bar, whole_percent
from screens.pane import Pane

if TYPE_CHECKING:  # the database layer is imported after the first screen (screens.app)
    from console.rules.meters import Meter
    from console.store.engine import Store
    from console.views.meters import MeterReading, MeterRow

WIDE = 110
SUGGESTED_REASON = "usage_limit_exceeded"
LEGEND = "! over limit  ⊘ SLA suspended  ⚑ day the limit was reached  → forecast day"


def _day(d: date | None, wide: bool) -> str:
    if d is None:
        return ""
    return d.isoformat() if wide else d.strftime("%b %d")


def forecast_text(m: Meter, wide: bool) -> str:
    if m.reached_on is not None:
        return (
            f"limit reached {_day(m.reached_on, True)}"
            if wide
            else f"⚑ {_day(m.reached_on, False)}"
        )
    if m.forecast_limit_date is not None:
        return (
            f"reaches limit ~{_day(m.forecast_limit_date, True)}"
            if wide
            else f"→ {_day(m.forecast_limit_date, False)}"
        )
    return "not within the term" if wide else "—"


def _layout(width: int) -> dict[str, int]:
    wide = width >= WIDE
    fixed = {
        "flag": 3,
        "plan": 5 if not wide else 11,
        "hours": 12,
        "exempt": 7,
        "bar": (20 if wide else 10) + 12,
        "forecast": 26 if wide else 9,
    }
    if wide:
        fixed["term"] = 24
    rest = max(12, width - sum(fixed.values()))
    if wide:
        fixed["sub"] = min(24, rest // 2)
        fixed["name"] = rest - fixed["sub"]
    else:
        fixed["sub"] = rest
    return fixed


def _cell(text: str, width: int, right: bool = False) -> str:
    text = inert(text)
    if len(text) > width - 1:
        text = text[: max(0, width - 2)] + "…"
    return f"{text:>{width - 1}} " if right else f"{text:<{width - 1}} "


def header_text(width: int) -> Text:
    lay = _layout(width)
    wide = width >= WIDE
    parts = ["  ", " ", _cell("SUBSCRIBER", lay["sub"])]
    if wide:
        parts.append(_cell("NAME", lay["name"]))
    parts += [
        _cell("PLAN", lay["plan"]),
        _cell("USED/LIMIT", lay["hours"], right=True),
        _cell("EXEMPT", lay["exempt"], right=True),
        _cell("METER", lay["bar"]),
    ]
    if wide:
        parts.append(_cell("TERM", lay["term"]))
    parts.append(_cell("LIMIT DAY" if wide else "LIMIT", lay["forecast"]))
    return Text("".join(parts), no_wrap=True, overflow="crop")


def row_text(row: MeterRow, width: int, styles: Mapping[str, Style]) -> Text:
    """One subscriber's line; ``styles``: a meter state's style (``ok``, ``warning``,
    ``over``), from the theme."""
    m = row.meter
    alarm = styles["over"]
    lay = _layout(width)
    wide = width >= WIDE
    over = m.state == "over"
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append("!" if over else " ", style=alarm if over else "")
    line.append("⊘" if row.suspended else " ", style="bold")
    line.append(" ")
    line.append(_cell(m.subscriber, lay["sub"]), style="bold" if over else "")
    if wide:
        line.append(_cell(row.name, lay["name"]))
    plan = m.plan if wide else {"enterprise": "ent", "basic": "bas"}.get(m.plan, m.plan[:3])
    line.append(_cell(plan, lay["plan"]))
    line.append(_cell(f"{m.used_hours:.1f}/{hours(m.limit_hours)} h", lay["hours"], right=True))
    line.append(
        _cell(f"+{hours(m.exempt_hours)}" if m.exempt_hours else "", lay["exempt"], right=True)
    )
    line.append_text(meter_bar(m.percent, m.state, lay["bar"] - 12, styles))
    line.append(" ")
    if wide:
        line.append(_cell(f"{m.term_start}–{m.term_end}", lay["term"]), style="dim")
    line.append(forecast_text(m, wide), style=alarm if over else "")
    return line


class MetersPane(Pane["MeterReading"]):
    what = "the meters"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open",
            "Open",
            tooltip="Open the highlighted subscriber's view (its meter, burn chart, cases).",
            priority=True,  # before the list's own (unlabelled) enter, so the key bar shows it
        ),
        Binding("r", "reload", "Reload", tooltip="Read the meters again."),
    ]

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(tz=tz, id=id)
        self.rows: tuple[MeterRow, ...] = ()
        self.at = 0
        self._shown: list[Text] = []

    def compose(self) -> ComposeResult:
        yield Static(id="meters-status", markup=False)
        yield Static(id="meters-head", markup=False)
        yield OptionList(id="meters-list")
        yield Static(id="meters-flag", markup=False)

    @property
    def list(self) -> OptionList:
        return self.query_one("#meters-list", OptionList)

    # -- data ------------------------------------------------------------------------------

    def on_show(self) -> None:
        self.list.focus()
        self.refresh_data()

    def data_changed(self) -> None:
        """Another process wrote: re-read now if shown (showing the pane re-reads too); a
        sweep recording thousands of escalations should not re-read hidden meters each
        second."""
        if self.display:
            self.refresh_data()

    def on_time(self, now: int) -> None:
        """The meters' forecasts move by the day: re-read at a day boundary."""
        if (
            self.display
            and datetime.fromtimestamp(now, self.tz).date()
            != datetime.fromtimestamp(self.at or now, self.tz).date()
        ):
            self.refresh_data()

    def load(self, store: Store, now: int, user: str) -> MeterReading:
        host = self.host
        if host is None or host.policy is None:
            raise LookupError("the policy is not read yet")
        from console.views.meters import meter_rows

        return meter_rows(store, host.policy, now, pause=self.pause_for_keys)

    def show_data(self, data: MeterReading) -> None:
        self.rows, self.at = data.rows, data.at
        self._redraw()

    def _redraw(self) -> None:
        width = self.list.scrollable_content_region.width or self.size.width or 80
        styles = {
            "ok": self.style_of("ok"),
            "warning": self.style_of("warning"),
            "over": self.style_of("alarm"),
        }
        lines = [row_text(r, width, styles) for r in self.rows]
        if [t.plain for t in lines] != [t.plain for t in self._shown]:
            box = self.list
            keep = box.highlighted
            current = (
                box.get_option_at_index(keep).id
                if keep is not None and keep < box.option_count
                else None
            )
            box.clear_options()
            box.add_options(
                [Option(t, id=r.meter.subscriber) for t, r in zip(lines, self.rows, strict=True)]
            )
            ids = [r.meter.subscriber for r in self.rows]
            if ids:
                box.highlighted = ids.index(current) if current in ids else 0
            self._shown = lines
        self.show_status()

    def show_status(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            line.append("✖ " + self.error, style=self.style_of("alarm"))
        else:
            line.append("Query hours, current term", style="bold")
            over = [r for r in self.rows if r.meter.state == "over"]
            warn = [r for r in self.rows if r.meter.state == "warning"]
            line.append(f"  │ {len(self.rows)} subscribers")
            if over:
                line.append(f"  ! {len(over)} OVER", style=self.style_of("alarm"))
            if warn:
                line.append(f"  {len(warn)} WARN", style=self.style_of("warning"))
            if self.reading:
                line.append("  │ loading…", style="italic")
        self.query_one("#meters-status", Static).update(line)
        width = self.size.width or 80
        self.query_one("#meters-head", Static).update(header_text(width))
        flag = self.query_one("#meters-flag", Static)
        over_meters = [r.meter for r in self.rows if r.meter.state == "over"]
        text = Text(no_wrap=False)
        text.append(LEGEND, style="dim")
        if over_meters:
            text.append("\n")
            text.append("! OVER LIMIT: ", style=self.style_of("alarm"))
            text.append(
                ", ".join(
                    f"{inert(m.subscriber)} {whole_percent(m.percent, m.state)}%"
                    for m in over_meters[:4]
                )
            )
            if len(over_meters) > 4:
                text.append(f" and {len(over_meters) - 4} more")
            text.append(f" — a lead may suspend for {SUGGESTED_REASON} (enter, then S)")
        flag.update(text)

    def on_resize(self) -> None:
        self._shown = []
        self.call_after_refresh(self._redraw)

    # -- actions -----------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#meters-list")
    def _open(self, event: OptionList.OptionSelected) -> None:
        from screens.subscriber_view import open_subscriber

        if event.option.id is not None:
            open_subscriber(self.app, event.option.id)

    def action_open(self) -> None:
        from screens.subscriber_view import open_subscriber

        i = self.list.highlighted
        if i is not None and i < self.list.option_count:
            sid = self.list.get_option_at_index(i).id
            if sid is not None:
                open_subscriber(self.app, sid)

    def action_reload(self) -> None:
        self.refresh_data()
