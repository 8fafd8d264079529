"""Query hours in text: the meter bar and a small burn chart of the term (policy §8).

Both read without colour (NO_COLOR, a monochrome terminal, a screen reader's dump): the
bar is block characters plus a percentage and a word (``████████░░  83% WARN``); the
chart is eighth-block columns of the hours used so far, a dotted line at the limit and
dots for the forecast at the term's burn rate. Colour only repeats what the characters
already say. The colours are the theme's: ``BurnChart``'s component classes
(``burn-chart--ok``, ``--warning``, ``--over``, styled in ``burn_chart.tcss``), handed to the
pure functions as Rich styles (``BurnChart.state_styles()``); without them a bar is drawn
in bold and dim only.

``chart_lines`` is a pure function of its arguments (no clock, no database), so the
drawing is tested without a terminal; ``BurnChart`` is the widget that fits it to its
width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

STATE_WORD = {"ok": "ok", "warning": "WARN", "over": "OVER"}
#: Without the theme's colours: what a state's bar and word keep (bold for the urgent).
STATE_WEIGHT = {"ok": "", "warning": "bold", "over": "bold"}
EIGHTHS = " ▁▂▃▄▅▆▇█"
FULL, EMPTY = "█", "░"
LIMIT_CH, FORECAST_CH = "┈", "·"


def hours(value: float) -> str:
    """``12.5`` → ``12.5``, ``50.0`` → ``50``."""
    return f"{value:.1f}".removesuffix(".0")


def whole_percent(percent: float, state: str) -> int:
    """A meter's percent in whole numbers, cut toward its state (policy §8: the state is
    judged on the exact hours): 79.9 shows 79, an over-limit 100.1 shows 101."""
    return math.ceil(percent) if state == "over" else math.floor(percent)


def meter_bar(
    percent: float, state: str, width: int = 10, styles: Mapping[str, Style] | None = None
) -> Text:
    """``████████░░  83% WARN``: a bar of ``width`` cells, full past 100 %. ``styles``: the
    state's style by state (``BurnChart.state_styles()``)."""
    filled = max(0, min(width, round(percent / 100 * width)))
    style: Style | str = STATE_WEIGHT.get(state, "")
    if styles is not None:
        style = styles.get(state, style)
    bar = Text(no_wrap=True)
    bar.append(FULL * filled, style=style)
    bar.append(EMPTY * (width - filled), style="dim")
    bar.append(f" {whole_percent(percent, state):>4d}% ")
    bar.append(f"{STATE_WORD.get(state, state):<4}", style=style)
    return bar


@dataclass(frozen=True)
class BurnData:
    """What the chart draws: counted entries (instant, hours), the term and the limit."""

    points: tuple[tuple[int, float], ...]
    start: int  # term start, epoch seconds
    end: int  # term end (exclusive)
    at: int  # now
    limit: float
    tz: tzinfo


def chart_lines(d: BurnData, width: int, height: int = 5, over: Style | str = "") -> list[Text]:
    """The chart as ``height`` bar rows, an axis row, a date row and a legend row; ``over``
    styles the blocks above the limit."""
    label_w = 6
    cols = max(10, width - label_w)
    span = max(1, d.end - d.start)
    pts = sorted(p for p in d.points if d.start <= p[0] < d.end and p[0] <= d.at)
    used = sum(h for _, h in pts)
    now = min(max(d.at, d.start), d.end)
    rate = used / (now - d.start) if now > d.start and used > 0 else 0.0
    ymax = max(d.limit, used, 1.0)

    # value per column: hours used by the column's end (past), or projected (future)
    values: list[float | None] = []
    projected: list[float | None] = []
    i_pt, acc = 0, 0.0
    today_col = min(cols - 1, max(0, (now - d.start) * cols // span))
    for c in range(cols):
        c_end = d.start + (c + 1) * span // cols
        c_start = d.start + c * span // cols
        if c_start <= now:
            while i_pt < len(pts) and pts[i_pt][0] < min(c_end, now + 1):
                acc += pts[i_pt][1]
                i_pt += 1
            values.append(acc)
            projected.append(None)
        else:
            values.append(None)
            projected.append(used + rate * (c_end - now) if rate else None)

    units = height * 8
    lim_units = d.limit / ymax * units
    lim_row = height - 1 - min(height - 1, max(0, int((lim_units - 1e-9) // 8)))
    lines: list[Text] = []
    for r in range(height):
        base = (height - 1 - r) * 8  # units below this row
        line = Text(no_wrap=True, overflow="crop")
        if r == lim_row:
            label = f"{hours(d.limit)}h"
        elif r == 0:
            label = f"{hours(ymax)}h"
        else:
            label = ""
        line.append(f"{label:>{label_w - 1}}", style="dim")
        line.append("┤" if label else "│", style="dim")
        over_row = base / 8 * ymax / height >= d.limit
        for c in range(cols):
            v = values[c]
            if v is not None:
                level = int(round(min(8.0, max(0.0, v / ymax * units - base))))
                if level:
                    line.append(EIGHTHS[level], style=over if over_row else "")
                    continue
            else:
                p = projected[c]
                if p is not None and p <= ymax and base <= p / ymax * units < base + 8:
                    line.append(FORECAST_CH, style="dim")
                    continue
            line.append(LIMIT_CH if r == lim_row else " ", style="dim")
        lines.append(line)

    axis = Text(no_wrap=True, overflow="crop")
    axis.append(f"{'0h':>{label_w - 1}}", style="dim")
    axis.append("└" + "─" * today_col + "▲" + "─" * (cols - today_col - 1), style="dim")
    lines.append(axis)

    first = datetime.fromtimestamp(d.start, d.tz).strftime("%Y-%m-%d")
    last = datetime.fromtimestamp(d.end - 1, d.tz).strftime("%Y-%m-%d")
    gap = max(1, cols - len(first) - len(last))
    lines.append(
        Text(" " * label_w + first + " " * gap + last, no_wrap=True, overflow="crop", style="dim")
    )

    legend = Text(no_wrap=True, overflow="ellipsis")
    legend.append(" " * label_w)
    legend.append(
        f"▲ {datetime.fromtimestamp(now, d.tz):%d %b}  {FULL} used {hours(used)} h"
        f"  {LIMIT_CH} limit {hours(d.limit)} h"
    )
    if rate:
        legend.append(f"  {FORECAST_CH} forecast at {rate * 86400:.2f} h/day")
    lines.append(legend)
    return lines


class BurnChart(Widget):
    """The chart, redrawn to the widget's width."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "burn-chart--ok",
        "burn-chart--warning",
        "burn-chart--over",
    }

    data: reactive[BurnData | None] = reactive(None, layout=True)

    def __init__(self, *, rows: int = 5, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = rows

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.rows + 3 if self.data is not None else 1

    def state_styles(self) -> dict[str, Style]:
        """A meter state's style (``ok``, ``warning``, ``over``) from the theme."""
        return {
            state: self.get_component_rich_style(f"burn-chart--{state}")
            for state in ("ok", "warning", "over")
        }

    def render(self) -> Text:
        if self.data is None:
            return Text("")
        width = self.content_region.width or self.size.width or 80
        over = self.get_component_rich_style("burn-chart--over")
        return Text("\n").join(chart_lines(self.data, width, self.rows, over))


def counted_points(
    entries: Sequence[tuple[int, float, bool, str]],
) -> tuple[tuple[int, float], ...]:
    """(at, hours) of the entries the meter counts: query cases, not exempt."""
    return tuple((at, h) for at, h, exempt, ctype in entries if ctype == "query" and not exempt)
