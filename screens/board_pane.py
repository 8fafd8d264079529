"""The war-team escalation board (policy §7): a card per escalated incident, in columns
``escalated`` → ``team_formed`` → ``plan_agreed`` → ``mitigating`` → ``resolved``.

Layout. Five columns side by side need ~140 cells. Narrower (80×24 over SSH) the pane
shows a column selector (the five columns with their counts, ←/→ to choose) above a
compact one-line-per-card list of the chosen column, and the chosen card's war team,
plan and update log below it. From 140 cells wide the five columns stand side by side
(a few lines per card) with the chosen card's detail underneath in two halves.

The pane keeps the cards (``console.escalation.load_board``) and a cursor (a column and a
case id per column); every write goes through ``console.actions.append_event`` with the
operator as ``actor`` (the engine checks roles and the board's rules and refuses with the
reason, which the pane shows). Reads and writes run in thread workers. The escalation
watcher (``screens.escalation_watch``) tells the pane when the board changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from console import clock
from console.errors import fault_text
from console.rich_text import inert_rich as _t
from console.text import hm, inert
from screens.notice import notice_text
from screens.offline import failed_text
from screens.words import COLUMN_WORDS, refusal_text

COLUMNS = ("escalated", "team_formed", "plan_agreed", "mitigating", "resolved")
ROLE_LABEL = {"engineer": "engineer", "executive": "executive", "subscriber_rep": "subscriber rep"}
PLAN_PARTS = (
    ("assessment", "Technical assessment"),
    ("mitigation", "Mitigation strategies"),
    ("resources", "Resource allocation"),
    ("update_frequency", "Status update frequency"),
)
WIDE = 140  # from this width the five columns stand side by side
CARD_LINES = 6  # lines per card in the wide layout (5 and a gap)

KEYS = [
    ("←→", "column"),
    ("↑↓", "card"),
    ("<>", "move"),
    ("a", "join"),
    ("x", "leave"),
    ("e", "plan"),
    ("u", "update"),
    ("enter", "case"),
    ("pgup/dn", "detail"),
    ("b", "bell"),
    ("r", "reload"),
    ("?", "keys"),
]


def _one_line(value: Any) -> str:
    return inert(" ".join(str(value or "").split()))


class BoardPane(Vertical, can_focus=True):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    BINDINGS = [
        Binding("left,h", "column(-1)", "Column", show=False),
        Binding("right,l", "column(1)", "Column", show=False),
        Binding("up,k", "card(-1)", "Card", show=False),
        Binding("down,j", "card(1)", "Card", show=False),
        Binding("home", "card(-100000)", show=False),
        Binding("end", "card(100000)", show=False),
        Binding("greater_than_sign,full_stop", "move(1)", "Move on", show=False),
        Binding("less_than_sign,comma", "move(-1)", "Move back", show=False),
        Binding("a", "add_member", "Join", show=False),
        Binding("x", "member_leaves", "Leave", show=False),
        Binding("e", "edit_plan", "Plan", show=False),
        Binding("u", "post_update", "Update", show=False),
        Binding("enter", "open_case", "Case", show=False),
        Binding("pagedown", "detail(1)", show=False),
        Binding("pageup", "detail(-1)", show=False),
        Binding("b", "toggle_bell", "Bell", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.cards: list[Any] = []
        self.at = 0
        self.loaded = False
        self.stale = False
        self.error: str | None = None
        self.col = 0  # the chosen column (index into COLUMNS)
        self.chosen: dict[str, str] = {}  # column -> case id under the cursor there
        self.follow: str | None = None  # after a write: put the cursor on this card
        self.notice = Text("")
        self.drafts: dict[tuple[str, str], str] = {}  # unsaved plan text per (case, part)
        self._reload_on_focus = False
        self._loading = False
        self._again = False

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="board-strip", markup=False)
        yield CardList(self, id="board-list")
        with Horizontal(id="board-columns"):
            for i, name in enumerate(COLUMNS):
                yield BoardColumn(self, i, id=f"board-col-{name}", classes="board-col")
        with VerticalScroll(id="board-detail", can_focus=False):
            yield Static(id="board-detail-body", markup=False)
        yield Static(id="board-notice", markup=False)
        yield Static(id="board-keys", markup=False)

    def on_mount(self) -> None:
        self._apply_width(self.app.size.width)
        self._render_all()
        if self._store_ready():
            self.refresh_data()

    def on_resize(self) -> None:
        self._apply_width(self.size.width)
        self.call_after_refresh(self._render_all)

    def _apply_width(self, width: int) -> None:
        wide = width >= WIDE
        self.set_class(wide, "-wide")
        self.query_one("#board-list").display = not wide
        self.query_one("#board-columns").display = wide

    @property
    def wide(self) -> bool:
        return self.has_class("-wide")

    def on_show(self) -> None:
        self.call_after_refresh(self.focus)
        if self._store_ready() and (self.stale or not self.loaded):
            self.refresh_data()

    def on_focus(self) -> None:
        if self._reload_on_focus:
            self._reload_on_focus = False
            self.refresh_data()
        self._render_all()

    def on_blur(self) -> None:
        self._render_all()

    # -- data ------------------------------------------------------------------------------

    def _store_ready(self) -> bool:
        """The store is open, and the queue (which comes first) is read."""
        app = self.app
        return (
            getattr(app, "store", None) is not None
            and getattr(app, "policy", None) is not None
            and getattr(app, "panes_ready", True)
        )

    def refresh_data(self) -> None:
        """Re-read the board (a worker); the pane-registry hook."""
        if not self._store_ready():
            return
        self.stale = False
        if self._loading:  # one read at a time; ask for one more after it
            self._again = True
            return
        self._loading = True
        self._load()

    @work(thread=True, group="board-read")
    def _load(self) -> None:
        from console.escalation import load_board

        at = clock.now()
        try:
            with self.app.store.connection() as conn:
                cards = load_board(conn, self.app.policy, at)
        except Exception as exc:  # database trouble: say so, keep what is shown
            self.app.call_from_thread(
                self._read_done, None, at, f"cannot read the board: {fault_text(exc)}"
            )
            return
        self.app.call_from_thread(self._read_done, cards, at, None)

    def _read_done(self, cards: list[Any] | None, at: int, error: str | None) -> None:
        self._loading = False
        if cards is not None:
            self.show_cards(cards, at)
        else:
            self.show_error(error or "cannot read the board")
        if self._again:
            self._again = False
            self.refresh_data()

    def show_cards(self, cards: list[Any], at: int) -> None:
        self.cards, self.at = cards, at
        self.loaded, self.error = True, None
        if self.follow is not None:
            card = self._card(self.follow)
            if card is not None:
                self.col = COLUMNS.index(card.column) if card.column in COLUMNS else self.col
                self.chosen[card.column] = card.case_id
            self.follow = None
        self._render_all()

    def show_error(self, message: str) -> None:
        self.error = message
        self._render_all()

    def tick(self, at: int) -> None:
        """Time passed: the overdue figures and late flags move; re-read when shown."""
        if at // 60 != self.at // 60:
            self.data_changed()

    def watch_result(self, result: Any) -> None:
        """From the escalation watcher: re-read if the board changed or a minute passed."""
        if result.error:
            self.error = result.error
            self._render_strip()
            return
        if self.error and self.error.startswith("escalation sweep failed"):
            self.error = None
            self._render_strip()
        if result.changed or result.new or not self.loaded or result.at // 60 != self.at // 60:
            self.data_changed()

    def data_changed(self) -> None:
        """The board's data may have changed: re-read now if shown, else when shown."""
        if self.display and self.is_attached:
            self.refresh_data()
        else:
            self.stale = True

    # -- the cursor ------------------------------------------------------------------------

    def _card(self, case_id: str | None) -> Any:
        return next((c for c in self.cards if c.case_id == case_id), None)

    def in_column(self, col: int) -> list[Any]:
        name = COLUMNS[col]
        return [c for c in self.cards if c.column == name]

    def cursor_in(self, col: int) -> int:
        cards = self.in_column(col)
        want = self.chosen.get(COLUMNS[col])
        for i, c in enumerate(cards):
            if c.case_id == want:
                return i
        return 0

    @property
    def selected(self) -> Any:
        cards = self.in_column(self.col)
        return cards[self.cursor_in(self.col)] if cards else None

    def action_column(self, step: int) -> None:
        self.col = max(0, min(len(COLUMNS) - 1, self.col + step))
        self._render_all()
        self.query_one("#board-detail").scroll_home(animate=False)

    def action_card(self, step: int) -> None:
        cards = self.in_column(self.col)
        if not cards:
            return
        i = max(0, min(len(cards) - 1, self.cursor_in(self.col) + step))
        self.chosen[COLUMNS[self.col]] = cards[i].case_id
        self._render_all()
        self.query_one("#board-detail").scroll_home(animate=False)

    def action_detail(self, step: int) -> None:
        detail = self.query_one("#board-detail", VerticalScroll)
        if step > 0:
            detail.scroll_page_down(animate=False)
        else:
            detail.scroll_page_up(animate=False)

    # -- drawing ---------------------------------------------------------------------------

    def _render_all(self) -> None:
        if not self.is_mounted:
            return
        if self.wide:
            # As tall as the fullest column needs, at most a bit over half the pane.
            most = max((len(self.in_column(i)) for i in range(len(COLUMNS))), default=0)
            need = 3 + CARD_LINES * max(1, most)
            cap = max(8, int((self.size.height or 40) * 0.55))
            self.query_one("#board-columns").styles.height = min(need, cap)
        self._render_strip()
        self.query_one(CardList).refresh(layout=True)
        for col in self.query(BoardColumn):
            col.refresh()
        self.query_one("#board-detail-body", Static).update(self._detail())
        self._render_notice()
        self._render_keys()

    def _render_strip(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            line.append("✖ " + inert(self.error), style="bold red")
        elif not self.loaded:
            line.append("Escalations: loading…", style="italic")
        elif self.wide:
            late = sum(1 for c in self.cards if c.update_overdue)
            short = sum(1 for c in self.cards if c.team.incomplete)
            line.append(f"Escalations {len(self.cards)}", style="bold")
            open_ = sum(1 for c in self.cards if c.column != "resolved")
            line.append(f" · {open_} open")
            if late:
                line.append(f" · {late} update{'s' if late != 1 else ''} late", style="bold red")
            if short:
                line.append(
                    f" · {short} team{'s' if short != 1 else ''} incomplete", style="bold red"
                )
            line.append(f" · as of {self._when(self.at, full=True)}")
        else:
            for i, name in enumerate(COLUMNS):
                n = len(self.in_column(i))
                style = "bold reverse" if i == self.col else ("" if n else "dim")
                line.append(f" {COLUMN_WORDS[name]} {n} ", style=style)
                if i < len(COLUMNS) - 1:
                    line.append("›", style="dim")
        self.query_one("#board-strip", Static).update(line)

    def _render_keys(self) -> None:
        text = Text()
        for i, (key, label) in enumerate(KEYS):
            if i:
                text.append("  ")
            text.append(key, style="bold reverse")
            if key == "b":
                label = f"bell {'on' if self._bell() else 'off'}"
            text.append(" " + label)
        self.query_one("#board-keys", Static).update(text)

    def _bell(self) -> bool:
        from screens.escalation_watch import watcher_of

        return watcher_of(self.app).bell

    def _when(self, ts: int | None, *, full: bool = False) -> str:
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

    @staticmethod
    def roles_text(card: Any) -> Text:
        """``roles 3/3``; ``INCOMPLETE 2/3`` once a formed team fell below one of each role
        (policy §7)."""
        have = 3 - len(card.team.missing_roles())
        if card.team.incomplete:
            return Text(f"INCOMPLETE {have}/3", style="bold red")
        return Text(f"roles {have}/3", style="" if have == 3 else "yellow")

    def update_text(self, card: Any, *, short: bool = True) -> Text:
        if card.next_update_due is None:
            return Text("no updates due" if not short else "", style="dim")
        label = "upd" if short else "next update"
        if card.update_overdue:
            return Text(f"{label} LATE {self._when(card.next_update_due)}", style="bold red")
        return Text(f"{label} {self._when(card.next_update_due)}")

    @staticmethod
    def missed_text(card: Any) -> Text:
        over = f" +{hm(card.overdue_by)}" if card.overdue_by > 0 else ""
        return Text(f"{card.missed}{over}", style="red" if card.status != "resolved" else "")

    def card_line(self, card: Any, width: int, selected: bool, id_width: int) -> Text:
        """A card in one line (the narrow list)."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append("▸ " if selected else "  ")
        line.append("! " if card.update_overdue else "  ", style="bold red")
        line.append(_one_line(card.case_id).ljust(id_width) + " ", style="bold")
        line.append(f"{card.priority or '--':<3}")
        line.append_text(self.missed_text(card))
        line.append("  ")
        line.append_text(self.roles_text(card))
        upd = self.update_text(card)
        if upd.plain:
            line.append("  ")
            line.append_text(upd)
        line.append("  ")
        line.append(_one_line(card.subscriber), style="cyan")
        line.append("  ")
        line.append(_one_line(card.title), style="dim")
        line.truncate(width, overflow="ellipsis", pad=True)
        if selected:
            line.stylize("reverse" if self.has_focus else "underline")
        return line

    def card_block(self, card: Any, width: int, selected: bool) -> list[Text]:
        """A card in the wide columns: four lines."""
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append("! " if card.update_overdue else "", style="bold red")
        head.append(_one_line(card.case_id), style="bold")
        head.append(f" {card.priority or ''} ")
        head.append(_one_line(card.subscriber), style="cyan")
        title = Text(_one_line(card.title), style="dim", no_wrap=True, overflow="ellipsis")
        missed = self.missed_text(card)
        missed.append(" missed", style="dim")
        team = self.roles_text(card)
        team.append(f" · {len(card.team.active())} in team", style="dim")
        upd = self.update_text(card, short=False)
        if not upd.plain:
            upd = Text(card.status, style="dim")
        lines = [head, title, missed, team, upd]
        out = []
        for ln in lines:
            ln = ln.copy()
            ln.no_wrap, ln.end = True, ""
            ln.truncate(width, overflow="ellipsis", pad=True)
            if selected:
                ln.stylize("reverse" if self.has_focus else "underline")
            out.append(ln)
        return out

    def _detail(self) -> RenderableType:
        if self.error and not self.loaded:
            return Text("")
        if not self.loaded:
            return Text("loading…", style="italic")
        card = self.selected
        if card is None:
            if not self.cards:
                return Text(
                    "No escalated incidents. An incident whose workaround or resolution target "
                    "is missed is escalated here (this console sweeps every few seconds).",
                    style="dim",
                )
            return Text(f"No cards in {COLUMN_WORDS[COLUMNS[self.col]]}.", style="dim")
        head = self._detail_head(card)
        team = self._team(card)
        plan = self._plan(card)
        updates = self._updates(card)
        if self.wide:
            grid = Table.grid(padding=(0, 2), expand=True)
            grid.add_column(ratio=3)
            grid.add_column(ratio=2)
            grid.add_row(Group(team, Text(""), plan), updates)
            return Group(head, Text(""), grid)
        return Group(head, Text(""), team, Text(""), plan, Text(""), updates)

    def _detail_head(self, card: Any) -> RenderableType:
        line = Text()
        line.append(_one_line(card.case_id), style="bold")
        line.append(f"  {card.priority or ''}  ")
        line.append(_one_line(card.subscriber), style="cyan")
        line.append(f"  {card.status}  · column ")
        line.append(COLUMN_WORDS.get(card.column, card.column), style="bold")
        title = Text(_one_line(card.title), style="bold")
        facts = Text()
        facts.append(f"escalated {self._when(card.escalated_at, full=True)} · ")
        if card.missed == "manual":
            facts.append("escalated by hand before a target was missed", style="red")
            if card.team.escalation_reason:
                facts.append(": ")
                facts.append_text(_t(_one_line(card.team.escalation_reason)))
        else:
            facts.append(f"{card.missed} target missed", style="red")
        if card.overdue_by > 0:
            facts.append(f" by {hm(card.overdue_by)} (counted)", style="red")
        facts.append(" · ")
        facts.append_text(self.update_text(card, short=False))
        return Group(line, title, facts)

    def _team(self, card: Any) -> RenderableType:
        team = card.team
        t = Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style="bold",
            title_justify="left",
            title_style="bold",
            expand=False,
            title="War team",
        )
        for name in ("NAME", "ROLE", "JOINED", "LEFT"):
            t.add_column(name, no_wrap=True)
        for m in team.members:
            style = "dim" if m.left_at is not None else ""
            t.add_row(
                _t(m.name, style),
                Text(ROLE_LABEL.get(m.role, m.role), style=style),
                Text(self._when(m.joined_at), style=style),
                Text(self._when(m.left_at) if m.left_at else "—", style=style),
            )
        missing = team.missing_roles()
        parts: list[RenderableType] = (
            [t]
            if team.members
            else [
                Text("War team", style="bold"),
                Text("  nobody yet (a: a member joins)", style="dim"),
            ]
        )
        if team.incomplete:
            since = (
                f" since {self._when(team.incomplete_since)}"
                if team.incomplete_since is not None
                else ""
            )
            parts.append(
                Text(
                    f"  ⚠ TEAM INCOMPLETE{since}: missing "
                    + ", ".join(ROLE_LABEL[r] for r in missing)
                    + " (a: a member joins)",
                    style="bold red",
                )
            )
        elif missing:
            parts.append(
                Text("  missing: " + ", ".join(ROLE_LABEL[r] for r in missing), style="yellow")
            )
        return Group(*parts)

    def _plan(self, card: Any) -> RenderableType:
        team = card.team
        out: list[RenderableType] = [Text("Response plan", style="bold")]
        for part, label in PLAN_PARTS:
            versions = team.plan.get(part, [])
            line = Text()
            line.append(f"  {label}", style="bold")
            if versions:
                v = versions[-1]
                line.append(f"  v{len(versions)} · {self._when(v.at)} ", style="dim")
                line.append(_one_line(v.by or "?"), style="dim")
            out.append(line)
            if part == "update_frequency":
                body = Text(hm(team.update_frequency))
                if not versions:
                    body.append(" (the plan's default)", style="dim")
            elif versions:
                body = Text(inert(versions[-1].text))
            else:
                body = Text("— not written yet", style="yellow")
            out.append(Padding(body, (0, 0, 0, 4)))
            for old in reversed(versions[:-1]):
                earlier = Text(style="dim")
                earlier.append(f"earlier, {self._when(old.at)} ")
                earlier.append(_one_line(old.by or "?"))
                earlier.append(": ")
                earlier.append(_one_line(old.text))
                out.append(Padding(earlier, (0, 0, 0, 4)))
        draft = [p for (cid, p) in self.drafts if cid == card.case_id]
        if draft:
            out.append(
                Text("  unsaved draft: " + ", ".join(draft) + " (e to retry)", style="yellow")
            )
        return Group(*out)

    def _updates(self, card: Any) -> RenderableType:
        team = card.team
        title = f"Status updates (every {hm(team.update_frequency)})"
        if not team.updates:
            return Group(Text(title, style="bold"), Text("  none yet (u: post one)", style="dim"))
        t = Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style="bold",
            title=title,
            title_justify="left",
            title_style="bold",
            expand=True,
        )
        t.add_column("WHEN", no_wrap=True)
        t.add_column("BY", no_wrap=True)
        t.add_column("", no_wrap=True)
        t.add_column("NOTE", ratio=1, overflow="fold")
        for u in reversed(team.updates):
            late = Text(
                f"LATE +{hm(u.gap - team.update_frequency)}" if u.late else "on time",
                style="bold red" if u.late else "green",
            )
            t.add_row(self._when(u.at), _t(u.by or ""), late, _t(u.note))
        return t

    def _say(self, message: str, *, error: bool = False) -> None:
        text = notice_text(message, error=error)
        self.notice = text
        self._render_notice()

    def _render_notice(self) -> None:
        notice = self.query_one("#board-notice", Static)
        notice.update(self.notice)
        notice.display = bool(self.notice.plain)

    # -- writes ----------------------------------------------------------------------------

    def append(self, case_id: str, kind: str, data: dict[str, Any]) -> None:
        """Record one event as the operator (any thread; raises Refused with the reason)."""
        from console.actions import append_event

        now = clock.now()
        user = self.app.user
        append_event(
            self.app.store, case_id, kind, at=now, by=user, data=data, recorded_at=now, actor=user
        )

    def _written(self, case_id: str, message: str | None) -> None:
        """After a write (the app's thread): say so, re-read, let the queue know."""
        if not message:
            return
        self._say(message)
        self.follow = case_id
        self.refresh_data()
        changed = getattr(self.app, "case_changed", None)
        if changed is not None:
            changed(case_id)

    def _need_card(self) -> Any:
        if not self._store_ready():
            self._say("the database is still opening", error=True)
            return None
        card = self.selected
        if card is None:
            self._say(f"no card selected ({COLUMN_WORDS[COLUMNS[self.col]]} is empty)", error=True)
        return card

    def action_move(self, step: int) -> None:
        card = self._need_card()
        if card is None:
            return
        here = COLUMNS.index(card.column)
        there = here + step
        if there < 0:
            self._say(f"refused: {card.case_id} is in the first column already", error=True)
            return
        column = COLUMNS[min(there, len(COLUMNS) - 1)]
        self._move(card.case_id, column)

    @work(thread=True, group="board-write")
    def _move(self, case_id: str, column: str) -> None:
        from console.actions import Refused

        try:
            self.append(case_id, "board_moved", {"column": column})
        except Refused as exc:
            self.app.call_from_thread(self._say, refusal_text(exc), error=True)
            return
        except Exception as exc:
            self.app.call_from_thread(self._say, failed_text(self.app, exc), error=True)
            return
        self.app.call_from_thread(
            self._written, case_id, f"{case_id} moved to {COLUMN_WORDS[column]}"
        )

    def _modal(self, screen: Any, case_id: str) -> None:
        self.app.push_screen(screen, lambda message: self._written(case_id, message))

    def action_add_member(self) -> None:
        from screens.board_prompts import MemberJoin

        card = self._need_card()
        if card is None:
            return
        cid = card.case_id

        def save(answer: dict[str, str]) -> str:
            self.append(cid, "war_team_member", {**answer, "action": "join"})
            return f"{answer['name']} joined {cid}'s war team as {ROLE_LABEL[answer['role']]}"

        self._modal(MemberJoin(cid, save), cid)

    def action_member_leaves(self) -> None:
        from screens.board_prompts import MemberLeave

        card = self._need_card()
        if card is None:
            return
        cid = card.case_id
        active = [(m.name, m.role) for m in card.team.active()]
        if not active:
            self._say(f"nobody is on {cid}'s war team", error=True)
            return

        def save(member: tuple[str, str]) -> str:
            name, role = member
            self.append(cid, "war_team_member", {"name": name, "role": role, "action": "leave"})
            return f"{name} left {cid}'s war team"

        self._modal(MemberLeave(cid, active, save), cid)

    def action_edit_plan(self) -> None:
        """``e``: a lead's or an executive's; anyone else is refused before typing a word,
        as the other lead-only keys are."""
        from screens.board_prompts import PlanPartPick
        from screens.suspend_prompt import refusal

        card = self._need_card()
        if card is None:
            return
        why = refusal(self.app.store, self.app.user, "plan_updated", self.app)
        if why is not None:
            self._say(refusal_text(why), error=True)
            return
        current = {part: card.team.plan_text(part) for part, _ in PLAN_PARTS}
        if not current["update_frequency"]:
            current["update_frequency"] = hm(card.team.update_frequency).replace(":", "h") + "m"
        self.app.push_screen(
            PlanPartPick(card.case_id, PLAN_PARTS, current),
            lambda part: self._edit_part(card.case_id, part, current),
        )

    def _edit_part(self, cid: str, part: str | None, current: dict[str, str | None]) -> None:
        from screens.board_prompts import PlanEdit

        if part is None:
            return
        label = dict(PLAN_PARTS)[part]
        key = (cid, part)
        text = self.drafts.get(key, current.get(part) or "")

        def save(value: str) -> str:
            self.append(cid, "plan_updated", {"part": part, "text": value})
            return f"{cid}: {label.lower()} saved"

        def keep(value: str | None) -> None:
            if value is None:
                self.drafts.pop(key, None)
            else:
                self.drafts[key] = value

        def done(message: str | None) -> None:
            if message is None and key in self.drafts:
                self._say(
                    f"{cid}: your {label.lower()} text is kept as a draft (e to retry)", error=True
                )
                self._render_all()
            else:
                self._written(cid, message)

        self.app.push_screen(PlanEdit(cid, label, text, save, keep, draft=key in self.drafts), done)

    def action_post_update(self) -> None:
        from screens.board_prompts import UpdatePost

        card = self._need_card()
        if card is None:
            return
        cid = card.case_id

        def save(note: str) -> str:
            self.append(cid, "status_update", {"note": note})
            return f"status update posted on {cid}"

        self._modal(UpdatePost(cid, self.update_text(card, short=False).plain, save), cid)

    def action_open_case(self) -> None:
        card = self.selected
        opener: Callable[[str], None] | None = getattr(self.app, "open_case", None)
        if card is None or opener is None:
            return
        self._reload_on_focus = True
        opener(card.case_id)

    def action_toggle_bell(self) -> None:
        from screens.escalation_watch import watcher_of

        watch = watcher_of(self.app)
        watch.bell = not watch.bell
        self._say(f"escalation bell {'on' if watch.bell else 'off'}")
        self._render_keys()

    def action_reload(self) -> None:
        self.refresh_data()


class CardList(Widget):
    """The chosen column's cards, one line each, windowed around the cursor."""

    def __init__(self, board: BoardPane, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board = board

    def render(self) -> RenderableType:
        b = self.board
        if not b.loaded:
            return Text("")
        cards = b.in_column(b.col)
        width, height = self.size.width, max(1, self.size.height)
        if not cards:
            return Text(f"  (no cards in {COLUMN_WORDS[COLUMNS[b.col]]})", style="dim")
        cur = b.cursor_in(b.col)
        rows = height if len(cards) <= height else max(1, height - 1)
        start = max(0, min(cur - rows // 2, len(cards) - rows))
        idw = min(12, max(len(c.case_id) for c in cards))
        lines = [
            b.card_line(c, width, i + start == cur, idw)
            for i, c in enumerate(cards[start : start + rows])
        ]
        if len(cards) > rows:
            more = Text(no_wrap=True, end="")
            more.append(f"  {cur + 1}/{len(cards)}", style="bold")
            above, below = start, len(cards) - start - rows
            if above:
                more.append(f"  ↑ {above} more")
            if below:
                more.append(f"  ↓ {below} more")
            lines.append(more)
        return Text("\n").join(lines)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        b = self.board
        n = len(b.in_column(b.col)) if b.loaded else 1
        cap = max(3, (b.size.height or 24) // 3)
        return max(1, min(n, cap))


class BoardColumn(Widget):
    """One column of the wide layout: a header and its cards, windowed around the cursor."""

    def __init__(
        self, board: BoardPane, index: int, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.board = board
        self.index = index

    def render(self) -> RenderableType:
        b = self.board
        name = COLUMNS[self.index]
        cards = b.in_column(self.index) if b.loaded else []
        width, height = self.size.width, max(2, self.size.height)
        chosen = self.index == b.col
        head = Text(no_wrap=True, overflow="ellipsis", end="")
        head.append(f" {COLUMN_WORDS[name]} ", style="bold reverse" if chosen else "bold")
        head.append(f" {len(cards)}")
        lines = [head]
        if not cards:
            lines.append(Text(" —", style="dim"))
            return Text("\n").join(lines)
        fit = max(1, (height - 2) // CARD_LINES)
        cur = b.cursor_in(self.index)
        start = max(0, min(cur - fit // 2, len(cards) - fit))
        for i, card in enumerate(cards[start : start + fit]):
            lines.append(Text(""))
            lines.extend(b.card_block(card, width, chosen and start + i == cur))
        if len(cards) > fit:
            more = Text(no_wrap=True, end="", style="bold")
            more.append(f"\n {min(cur + 1, len(cards))}/{len(cards)}")
            if start:
                more.append(f" ↑{start}")
            if len(cards) - start - fit:
                more.append(f" ↓{len(cards) - start - fit}")
            lines.append(more)
        return Text("\n").join(lines)
