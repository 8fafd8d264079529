"""How the war-team board draws its cards: pure functions from the board's cards
(``console.escalation.Card``) to Rich text, apart from the pane's keys and writes.

A card is drawn as one line (the narrow list), as five lines (a wide column) or in full (the
detail: facts, war team with its role history, response plan with its versions, status
updates against the team's cadence). Marks carry the meaning without colour: ``!`` an
update is late, ``LATE`` and ``INCOMPLETE 2/3`` in words. Colours come from the pane's
stylesheet (component classes, see ``BoardStyles``); subscriber and operator text is made
inert and appended as data, never read as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text

from console.text import hm, inert
from screens.words import COLUMN_WORDS

if TYPE_CHECKING:  # the database layer is imported after the first screen (screens.app)
    from console.escalation import Card

COLUMNS = ("escalated", "team_formed", "plan_agreed", "mitigating", "resolved")
ROLE_LABEL = {"engineer": "engineer", "executive": "executive", "subscriber_rep": "subscriber rep"}
PLAN_PARTS = (
    ("assessment", "Technical assessment"),
    ("mitigation", "Mitigation strategies"),
    ("resources", "Resource allocation"),
    ("update_frequency", "Status update frequency"),
)
CARD_LINES = 6  # lines per card in the wide layout (5 and a gap)

# The pane's component classes, one per kind of emphasis (styled in board_pane.tcss).
STYLE_NAMES = (
    "strong",  # headings, case ids
    "urgent",  # LATE, INCOMPLETE, a read that failed
    "alarm",  # a missed target and how far over
    "warn",  # a role or a plan part still missing
    "good",  # an update on time
    "subscriber",  # the subscriber's name
    "muted",  # titles, who and when, what is gone
    "pending",  # loading…
    "chosen",  # the chosen column's name
    "cursor",  # the card under the cursor, the pane focused
    "cursor-blurred",  # the same, the pane not focused
)


@dataclass(frozen=True)
class BoardStyles:
    """The Rich styles the board draws with, read from its component classes
    (``board--strong`` ...), so the stylesheet and the theme decide the colours."""

    strong: Style
    urgent: Style
    alarm: Style
    warn: Style
    good: Style
    subscriber: Style
    muted: Style
    pending: Style
    chosen: Style
    cursor: Style
    cursor_blurred: Style

    @classmethod
    def read(cls, style_of: Callable[[str], Style]) -> BoardStyles:
        """``style_of("board--strong")`` ... for each field (``Widget.get_component_rich_style``)."""
        return cls(*(style_of(f"board--{name}") for name in STYLE_NAMES))


@dataclass(frozen=True)
class Look:
    """What every drawing needs besides the card: styles, the operator's zone, the instant
    the board was read at (times on its day show as HH:MM) and whether the pane has focus
    (the cursor is reversed then, underlined otherwise)."""

    styles: BoardStyles
    tz: tzinfo
    at: int
    focused: bool

    def when(self, ts: int | None, *, full: bool = False) -> str:
        if ts is None:
            return "—"
        when = datetime.fromtimestamp(ts, self.tz)
        if full:
            return when.strftime("%a %d %b %H:%M")
        now = datetime.fromtimestamp(self.at or ts, self.tz)
        if when.date() == now.date():
            return when.strftime("%H:%M")
        if abs((when.date() - now.date()).days) < 6:
            return when.strftime("%a %H:%M")
        return when.strftime("%d %b %H:%M")

    @property
    def cursor(self) -> Style:
        return self.styles.cursor if self.focused else self.styles.cursor_blurred


def literal(value: object, style: Style | str = "") -> Text:
    """Subscriber- or operator-supplied text: literal, control characters made visible."""
    return Text(inert("" if value is None else str(value)), style=style)


def one_line(value: object) -> str:
    return inert(" ".join(str(value or "").split()))


# -- marks ----------------------------------------------------------------------------------


def roles_text(card: Card, look: Look) -> Text:
    """``roles 3/3``; ``INCOMPLETE 2/3`` once a formed team fell below one of each role
    (policy §7)."""
    have = 3 - len(card.team.missing_roles())
    if card.team.incomplete:
        return Text(f"INCOMPLETE {have}/3", style=look.styles.urgent)
    return Text(f"roles {have}/3", style="" if have == 3 else look.styles.warn)


def update_text(card: Card, look: Look, *, short: bool = True) -> Text:
    """When the next status update is due, ``LATE`` once it is overdue."""
    if card.next_update_due is None:
        return Text("no updates due" if not short else "", style=look.styles.muted)
    label = "upd" if short else "next update"
    if card.update_overdue:
        return Text(f"{label} LATE {look.when(card.next_update_due)}", style=look.styles.urgent)
    return Text(f"{label} {look.when(card.next_update_due)}")


def missed_text(card: Card, look: Look) -> Text:
    over = f" +{hm(card.overdue_by)}" if card.overdue_by > 0 else ""
    return Text(
        f"{card.missed}{over}", style=look.styles.alarm if card.status != "resolved" else ""
    )


# -- cards ----------------------------------------------------------------------------------


def card_line(card: Card, width: int, selected: bool, id_width: int, look: Look) -> Text:
    """A card in one line (the narrow list)."""
    s = look.styles
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append("▸ " if selected else "  ")
    line.append("! " if card.update_overdue else "  ", style=s.urgent)
    line.append(one_line(card.case_id).ljust(id_width) + " ", style=s.strong)
    line.append(f"{card.priority or '--':<3}")
    line.append_text(missed_text(card, look))
    line.append("  ")
    line.append_text(roles_text(card, look))
    upd = update_text(card, look)
    if upd.plain:
        line.append("  ")
        line.append_text(upd)
    line.append("  ")
    line.append(one_line(card.subscriber), style=s.subscriber)
    line.append("  ")
    line.append(one_line(card.title), style=s.muted)
    line.truncate(width, overflow="ellipsis", pad=True)
    if selected:
        line.stylize(look.cursor)
    return line


def card_block(card: Card, width: int, selected: bool, look: Look) -> list[Text]:
    """A card in the wide columns: five lines."""
    s = look.styles
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append("! " if card.update_overdue else "", style=s.urgent)
    head.append(one_line(card.case_id), style=s.strong)
    head.append(f" {card.priority or ''} ")
    head.append(one_line(card.subscriber), style=s.subscriber)
    title = Text(one_line(card.title), style=s.muted, no_wrap=True, overflow="ellipsis")
    missed = missed_text(card, look)
    missed.append(" missed", style=s.muted)
    team = roles_text(card, look)
    team.append(f" · {len(card.team.active())} in team", style=s.muted)
    upd = update_text(card, look, short=False)
    if not upd.plain:
        upd = Text(card.status, style=s.muted)
    out = []
    for ln in (head, title, missed, team, upd):
        ln = ln.copy()
        ln.no_wrap, ln.end = True, ""
        ln.truncate(width, overflow="ellipsis", pad=True)
        if selected:
            ln.stylize(look.cursor)
        out.append(ln)
    return out


def card_list(
    cards: Sequence[Card], column: str, cursor: int, width: int, height: int, look: Look
) -> Text:
    """The chosen column's cards one line each, windowed around the cursor (narrow)."""
    if not cards:
        return Text(f"  (no cards in {COLUMN_WORDS[column]})", style=look.styles.muted)
    rows = height if len(cards) <= height else max(1, height - 1)
    start = max(0, min(cursor - rows // 2, len(cards) - rows))
    idw = min(12, max(len(c.case_id) for c in cards))
    lines = [
        card_line(c, width, i + start == cursor, idw, look)
        for i, c in enumerate(cards[start : start + rows])
    ]
    if len(cards) > rows:
        more = Text(no_wrap=True, end="")
        more.append(f"  {cursor + 1}/{len(cards)}", style=look.styles.strong)
        above, below = start, len(cards) - start - rows
        if above:
            more.append(f"  ↑ {above} more")
        if below:
            more.append(f"  ↓ {below} more")
        lines.append(more)
    return Text("\n").join(lines)


def column_text(
    cards: Sequence[Card],
    column: str,
    cursor: int,
    chosen: bool,
    width: int,
    height: int,
    look: Look,
) -> Text:
    """One column of the wide layout: its name and count, its cards windowed around the
    cursor (the cursor drawn only in the chosen column)."""
    s = look.styles
    head = Text(no_wrap=True, overflow="ellipsis", end="")
    head.append(f" {COLUMN_WORDS[column]} ", style=s.chosen if chosen else s.strong)
    head.append(f" {len(cards)}")
    lines = [head]
    if not cards:
        lines.append(Text(" —", style=s.muted))
        return Text("\n").join(lines)
    fit = max(1, (height - 2) // CARD_LINES)
    start = max(0, min(cursor - fit // 2, len(cards) - fit))
    for i, card in enumerate(cards[start : start + fit]):
        lines.append(Text(""))
        lines.extend(card_block(card, width, chosen and start + i == cursor, look))
    if len(cards) > fit:
        more = Text(no_wrap=True, end="", style=s.strong)
        more.append(f"\n {min(cursor + 1, len(cards))}/{len(cards)}")
        if start:
            more.append(f" ↑{start}")
        if len(cards) - start - fit:
            more.append(f" ↓{len(cards) - start - fit}")
        lines.append(more)
    return Text("\n").join(lines)


# -- the strip above the cards ----------------------------------------------------------------


def strip_text(
    cards: Sequence[Card],
    counts: Sequence[int],
    col: int,
    *,
    error: str | None,
    loaded: bool,
    wide: bool,
    look: Look,
) -> Text:
    """The line above the cards: a failed read; else (wide) the board's totals, or (narrow)
    the column selector with each column's count, the chosen one reversed."""
    s = look.styles
    line = Text(no_wrap=True, overflow="ellipsis")
    if error:
        line.append("✖ " + inert(error), style=s.urgent)
    elif not loaded:
        line.append("Escalations: loading…", style=s.pending)
    elif wide:
        late = sum(1 for c in cards if c.update_overdue)
        short = sum(1 for c in cards if c.team.incomplete)
        line.append(f"Escalations {len(cards)}", style=s.strong)
        open_ = sum(1 for c in cards if c.column != "resolved")
        line.append(f" · {open_} open")
        if late:
            line.append(f" · {late} update{'s' if late != 1 else ''} late", style=s.urgent)
        if short:
            line.append(f" · {short} team{'s' if short != 1 else ''} incomplete", style=s.urgent)
        line.append(f" · as of {look.when(look.at, full=True)}")
    else:
        for i, name in enumerate(COLUMNS):
            n = counts[i]
            style = s.chosen if i == col else ("" if n else s.muted)
            line.append(f" {COLUMN_WORDS[name]} {n} ", style=style)
            if i < len(COLUMNS) - 1:
                line.append("›", style=s.muted)
    return line


# -- the detail of the chosen card ------------------------------------------------------------


def empty_detail(any_cards: bool, column: str, look: Look) -> Text:
    """The detail when no card is chosen: an empty board explained, or an empty column."""
    if not any_cards:
        return Text(
            "No escalated incidents. An incident whose workaround or resolution target "
            "is missed is escalated here (this console sweeps every few seconds).",
            style=look.styles.muted,
        )
    return Text(f"No cards in {COLUMN_WORDS[column]}.", style=look.styles.muted)


def detail(card: Card, drafts: Sequence[str], wide: bool, look: Look) -> RenderableType:
    """The chosen card in full: its facts, war team, plan (``drafts``: the parts with unsaved
    text) and status updates; wide, the updates stand beside team and plan."""
    head = detail_head(card, look)
    team = team_part(card, look)
    plan = plan_part(card, drafts, look)
    updates = updates_part(card, look)
    if wide:
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(ratio=3)
        grid.add_column(ratio=2)
        grid.add_row(Group(team, Text(""), plan), updates)
        return Group(head, Text(""), grid)
    return Group(head, Text(""), team, Text(""), plan, Text(""), updates)


def detail_head(card: Card, look: Look) -> RenderableType:
    s = look.styles
    line = Text()
    line.append(one_line(card.case_id), style=s.strong)
    line.append(f"  {card.priority or ''}  ")
    line.append(one_line(card.subscriber), style=s.subscriber)
    line.append(f"  {card.status}  · column ")
    line.append(COLUMN_WORDS.get(card.column, card.column), style=s.strong)
    title = Text(one_line(card.title), style=s.strong)
    facts = Text()
    facts.append(f"escalated {look.when(card.escalated_at, full=True)} · ")
    if card.missed == "manual":
        facts.append("escalated by hand before a target was missed", style=s.alarm)
        if card.team.escalation_reason:
            facts.append(": ")
            facts.append_text(literal(one_line(card.team.escalation_reason)))
    else:
        facts.append(f"{card.missed} target missed", style=s.alarm)
    if card.overdue_by > 0:
        facts.append(f" by {hm(card.overdue_by)} (counted)", style=s.alarm)
    facts.append(" · ")
    facts.append_text(update_text(card, look, short=False))
    return Group(line, title, facts)


def _table(title: str, look: Look, *, expand: bool) -> Table:
    return Table(
        box=None,
        padding=(0, 1),
        show_edge=False,
        header_style=look.styles.strong,
        title=title,
        title_justify="left",
        title_style=look.styles.strong,
        expand=expand,
    )


def team_part(card: Card, look: Look) -> RenderableType:
    """The war team with its role history (who joined and left when), and what it lacks."""
    s = look.styles
    team = card.team
    t = _table("War team", look, expand=False)
    for name in ("NAME", "ROLE", "JOINED", "LEFT"):
        t.add_column(name, no_wrap=True)
    for m in team.members:
        style = s.muted if m.left_at is not None else Style()
        t.add_row(
            literal(m.name, style),
            Text(ROLE_LABEL.get(m.role, m.role), style=style),
            Text(look.when(m.joined_at), style=style),
            Text(look.when(m.left_at) if m.left_at else "—", style=style),
        )
    missing = team.missing_roles()
    parts: list[RenderableType] = (
        [t]
        if team.members
        else [
            Text("War team", style=s.strong),
            Text("  nobody yet (a: a member joins)", style=s.muted),
        ]
    )
    if team.incomplete:
        since = (
            f" since {look.when(team.incomplete_since)}"
            if team.incomplete_since is not None
            else ""
        )
        parts.append(
            Text(
                f"  ⚠ TEAM INCOMPLETE{since}: missing "
                + ", ".join(ROLE_LABEL[r] for r in missing)
                + " (a: a member joins)",
                style=s.urgent,
            )
        )
    elif missing:
        parts.append(Text("  missing: " + ", ".join(ROLE_LABEL[r] for r in missing), style=s.warn))
    return Group(*parts)


def plan_part(card: Card, drafts: Sequence[str], look: Look) -> RenderableType:
    """The response plan: each part's current text with its version, the earlier versions
    below it; ``drafts`` names the parts whose refused text is kept unsaved."""
    s = look.styles
    team = card.team
    out: list[RenderableType] = [Text("Response plan", style=s.strong)]
    for part, label in PLAN_PARTS:
        versions = team.plan.get(part, [])
        line = Text()
        line.append(f"  {label}", style=s.strong)
        if versions:
            v = versions[-1]
            line.append(f"  v{len(versions)} · {look.when(v.at)} ", style=s.muted)
            line.append(one_line(v.by or "?"), style=s.muted)
        out.append(line)
        if part == "update_frequency":
            body = Text(hm(team.update_frequency))
            if not versions:
                body.append(" (the plan's default)", style=s.muted)
        elif versions:
            body = Text(inert(versions[-1].text))
        else:
            body = Text("— not written yet", style=s.warn)
        out.append(Padding(body, (0, 0, 0, 4)))
        for old in reversed(versions[:-1]):
            earlier = Text(style=s.muted)
            earlier.append(f"earlier, {look.when(old.at)} ")
            earlier.append(one_line(old.by or "?"))
            earlier.append(": ")
            earlier.append(one_line(old.text))
            out.append(Padding(earlier, (0, 0, 0, 4)))
    if drafts:
        out.append(Text("  unsaved draft: " + ", ".join(drafts) + " (e to retry)", style=s.warn))
    return Group(*out)


def updates_part(card: Card, look: Look) -> RenderableType:
    """The status updates, newest first, each on time or ``LATE +h:mm`` against the cadence."""
    s = look.styles
    team = card.team
    title = f"Status updates (every {hm(team.update_frequency)})"
    if not team.updates:
        return Group(Text(title, style=s.strong), Text("  none yet (u: post one)", style=s.muted))
    t = _table(title, look, expand=True)
    t.add_column("WHEN", no_wrap=True)
    t.add_column("BY", no_wrap=True)
    t.add_column("", no_wrap=True)
    t.add_column("NOTE", ratio=1, overflow="fold")
    for u in reversed(team.updates):
        late = Text(
            f"LATE +{hm(u.gap - team.update_frequency)}" if u.late else "on time",
            style=s.urgent if u.late else s.good,
        )
        t.add_row(look.when(u.at), literal(u.by or ""), late, literal(u.note))
    return t
