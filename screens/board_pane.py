"""The war-team escalation board (policy §7): a card per escalated incident, in columns
``escalated`` → ``team_formed`` → ``plan_agreed`` → ``mitigating`` → ``resolved``.

Layout. Five columns side by side need ~140 cells. Narrower (80×24 over SSH) the pane
shows a column selector (the five columns with their counts, ←/→ to choose) above a
compact one-line-per-card list of the chosen column, and the chosen card's war team,
plan and update log below it. From 140 cells wide the five columns stand side by side
(a few lines per card) with the chosen card's detail underneath in two halves.

This module holds the pane: its keys, its cursor (a column and a case id per column), its
reads and writes. The drawing is ``screens.board_render`` (and the card views
``screens.board_columns``); the read is ``console.views.board.read_board``, run by
``load`` in the background read every pane has (``screens.pane.Pane``), which hands it
to ``show_data``; the app's ``now`` moving on reaches ``on_time``. Every write goes through ``console.actions.append_event`` with the
operator as ``actor`` (the engine checks roles and the board's rules and refuses with the
reason, which the pane shows). The escalation watcher (``screens.escalation_watch``) tells
the pane after every check (its ``checked`` signal) and the pane re-reads when the board
changed. The keys are the pane's bindings (the screen's key bar and the help draw them).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from console import clock
from console.text import hm
from screens.board_columns import BoardColumn, CardList
from screens.board_render import (
    CARD_LINES,
    COLUMNS,
    PLAN_PARTS,
    ROLE_LABEL,
    STYLE_NAMES,
    BoardStyles,
    Look,
    detail,
    empty_detail,
    strip_text,
    update_text,
)
from screens.escalation_watch import CheckResult, watcher_of
from screens.notice import notice_text
from screens.offline import failed_text
from screens.pane import Pane
from screens.words import COLUMN_WORDS, refusal_text

if TYPE_CHECKING:  # the database layer is imported after the first screen (screens.app)
    from console.escalation import Card
    from console.store.engine import Store
    from console.views.board import Board
    from screens.app import ConsoleApp

WIDE = 140  # from this width the five columns stand side by side


class BoardPane(Pane["Board"], can_focus=True):
    """The board (see the module docstring): ``Pane`` reads it, this draws it and writes."""

    what = "the board"

    # Essential layout (a Pane is a plain Widget); the rest is board_pane.tcss.
    DEFAULT_CSS = """
    BoardPane {
        layout: vertical;
        width: 1fr;
        height: 1fr;
        overflow: hidden hidden;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"board--{name}" for name in STYLE_NAMES}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "column(-1)", "column", show=False, tooltip="the column to the left"),
        Binding("right,l", "column(1)", "column", key_display="←→", tooltip="column (← → h l)"),
        Binding("up,k", "card(-1)", "card", show=False, tooltip="the card above"),
        Binding("down,j", "card(1)", "card", key_display="↑↓", tooltip="card (↑ ↓ j k)"),
        Binding("home", "card(-100000)", "first card", show=False),
        Binding("end", "card(100000)", "last card", show=False),
        Binding(
            "greater_than_sign,full_stop",
            "move(1)",
            "move on",
            key_display=">",
            tooltip="move the card on to the next column",
        ),
        Binding(
            "less_than_sign,comma",
            "move(-1)",
            "back",
            key_display="<",
            tooltip="move the card back a column",
        ),
        Binding("a", "add_member", "join", tooltip="a member joins the war team"),
        Binding("x", "member_leaves", "leave", tooltip="a member leaves the war team"),
        Binding("e", "edit_plan", "plan", tooltip="edit the plan (leads and executives)"),
        Binding("u", "post_update", "update", tooltip="post a status update"),
        Binding("enter", "open_case", "case", key_display="enter", tooltip="open the case"),
        Binding(
            "pagedown", "detail(1)", "detail", key_display="pgup/dn", tooltip="scroll the detail"
        ),
        Binding("pageup", "detail(-1)", "detail", show=False, tooltip="scroll the detail up"),
        # One key, two bindings: the bar says whether the bell is on (check_action shows one).
        Binding("b", "bell(False)", "bell on", tooltip="escalation bell on/off (on now)"),
        Binding("b", "bell(True)", "bell off", tooltip="escalation bell on/off (off now)"),
        Binding("r", "reload", "reload", tooltip="read again"),
    ]

    class Wrote(Message):
        """A write's outcome from its worker: recorded (``case_id`` set) or refused."""

        bubble = False

        def __init__(self, message: str, case_id: str | None = None) -> None:
            super().__init__()
            self.message = message
            self.case_id = case_id

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(tz=tz, id=id)
        self.cards: tuple[Card, ...] = ()
        self.at = 0
        self.loaded = False  # a read succeeded (Pane's ``reading`` also ends on a failure)
        self.stale = False  # the data changed while hidden: re-read when shown
        self.col = 0  # the chosen column (index into COLUMNS)
        self.chosen: dict[str, str] = {}  # column -> case id under the cursor there
        self.follow: str | None = None  # after a write: put the cursor on this card
        self.notice = Content("")
        self.drafts: dict[tuple[str, str], str] = {}  # unsaved plan text per (case, part)
        self._reload_on_focus = False

    @property
    def console_app(self) -> ConsoleApp:
        """The app, typed: the board runs inside the console."""
        return cast("ConsoleApp", self.app)

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="board-strip", markup=False)
        yield CardList(id="board-list")
        with Horizontal(id="board-columns"):
            for name in COLUMNS:
                yield BoardColumn(name, id=f"board-col-{name}", classes="board-col")
        with VerticalScroll(id="board-detail", can_focus=False):
            yield Static(id="board-detail-body", markup=False)
        yield Static(id="board-notice", markup=False)

    def on_mount(self) -> None:
        """(``Pane.on_mount`` runs after this: it watches the app's ``now``.)"""
        checked = watcher_of(self.app).checked
        if checked is not None:
            checked.subscribe(self, self.escalation_checked, immediate=True)
        self._apply_width(self.app.size.width)
        self._render_all()
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
        if self.stale or not self.loaded:
            self.refresh_data()

    def on_focus(self) -> None:
        if self._reload_on_focus:
            self._reload_on_focus = False
            self.refresh_data()
        self._render_all()

    def on_blur(self) -> None:
        self._render_all()

    # -- keys that apply now ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which keys apply now: ``<`` is dim in the first column and ``x`` on a card nobody
        is on the team of (nothing to do); ``b`` shows whether the bell is on. The rest
        stay on: a refused move or plan edit says why (the engine's reasons)."""
        if action == "move" and parameters == (-1,):
            return None if self.col == 0 else True
        if action == "member_leaves":
            card = self.selected
            return None if card is not None and not card.team.active() else True
        if action == "bell":
            (turn_on,) = parameters
            return bool(turn_on) != self._bell()
        return True

    # -- data (the read is Pane's) ---------------------------------------------------------

    def reads_now(self) -> bool:
        """The store is open, and the queue (which comes first) is read."""
        app = self.console_app
        return app.store is not None and app.policy is not None and app.panes_ready

    def refresh_data(self) -> None:
        """Re-read the board (a newer read replaces a running one)."""
        if self.reads_now():
            self.stale = False
        super().refresh_data()

    def load(self, store: Store, now: int, user: str) -> Board:
        """The board as of ``now`` (a worker thread)."""
        policy = self.console_app.policy
        if policy is None:
            raise LookupError("the policy is not read yet")
        from console.views.board import read_board

        return read_board(store, policy, now, pause=self.pause_for_keys)

    def show_data(self, data: Board) -> None:
        """Draw the board read; after a write, the cursor goes to the card written."""
        self.cards, self.at = data.cards, data.at
        self.loaded = True
        if self.follow is not None:
            card = self._card(self.follow)
            if card is not None:
                self.col = COLUMNS.index(card.column) if card.column in COLUMNS else self.col
                self.chosen[card.column] = card.case_id
            self.follow = None
        self._render_all()

    def show_status(self) -> None:
        """A failed read is said on the strip (``error``); what was shown stays."""
        self._render_all()

    def on_time(self, now: int) -> None:
        """Time passed: the overdue figures and late flags move; re-read when shown."""
        if now // 60 != self.at // 60:
            self.data_changed()

    def escalation_checked(self, result: CheckResult) -> None:
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

    def _card(self, case_id: str | None) -> Card | None:
        return next((c for c in self.cards if c.case_id == case_id), None)

    def in_column(self, col: int) -> list[Card]:
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
    def selected(self) -> Card | None:
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

    # -- drawing (screens.board_render) ----------------------------------------------------

    def _look(self) -> Look:
        styles = BoardStyles.read(lambda name: self.get_component_rich_style(name, partial=True))
        # The app's focus, not has_focus: that is set after this pane's on_focus/on_blur ran.
        return Look(styles, self.tz, self.at, self.app.focused is self)

    def _render_all(self) -> None:
        if not self.is_mounted:
            return
        look = self._look()
        by_column = [self.in_column(i) for i in range(len(COLUMNS))]
        if self.wide:
            # As tall as the fullest column needs, at most a bit over half the pane.
            most = max((len(cards) for cards in by_column), default=0)
            need = 3 + CARD_LINES * max(1, most)
            cap = max(8, int((self.size.height or 40) * 0.55))
            self.query_one("#board-columns").styles.height = min(need, cap)
        self._render_strip(look)
        self.query_one(CardList).show(
            by_column[self.col],
            COLUMNS[self.col],
            self.cursor_in(self.col),
            look,
            loaded=self.loaded,
            cap=max(3, (self.size.height or 24) // 3),
        )
        for i, column in enumerate(self.query(BoardColumn)):
            column.show(by_column[i] if self.loaded else [], self.cursor_in(i), i == self.col, look)
        self.query_one("#board-detail-body", Static).update(self._detail(look))
        self._render_notice()
        self.refresh_bindings()  # the keys that apply follow the cursor

    def _render_strip(self, look: Look | None = None) -> None:
        counts = [len(self.in_column(i)) for i in range(len(COLUMNS))]
        line = strip_text(
            self.cards,
            counts,
            self.col,
            error=self.error,
            loaded=self.loaded,
            wide=self.wide,
            look=look or self._look(),
        )
        self.query_one("#board-strip", Static).update(line)

    def _detail(self, look: Look) -> RenderableType:
        if self.error and not self.loaded:
            return Text("")
        if not self.loaded:
            return Text("loading…", style=look.styles.pending)
        card = self.selected
        if card is None:
            return empty_detail(bool(self.cards), COLUMNS[self.col], look)
        drafts = [p for (cid, p) in self.drafts if cid == card.case_id]
        return detail(card, drafts, self.wide, look)

    def _bell(self) -> bool:
        return watcher_of(self.app).bell

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
        app = self.console_app
        append_event(
            app.store,
            case_id,
            kind,
            at=now,
            by=app.user,
            data=data,
            recorded_at=now,
            actor=app.user,
        )

    def _written(self, case_id: str, message: str | None) -> None:
        """After a write (the app's thread): say so, re-read, let the queue know."""
        if not message:
            return
        self._say(message)
        self.follow = case_id
        self.refresh_data()
        self.console_app.case_changed(case_id)

    def _need_card(self) -> Card | None:
        if not self.reads_now():
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

    @work(thread=True, exit_on_error=False, group="board-write")
    def _move(self, case_id: str, column: str) -> None:
        from console.actions import Refused

        try:
            self.append(case_id, "board_moved", {"column": column})
        except Refused as exc:
            self.post_message(self.Wrote(refusal_text(exc)))
        except Exception as exc:
            self.post_message(self.Wrote(failed_text(self.app, exc)))
        else:
            self.post_message(self.Wrote(f"{case_id} moved to {COLUMN_WORDS[column]}", case_id))

    def on_board_pane_wrote(self, message: Wrote) -> None:
        if message.case_id is None:
            self._say(message.message, error=True)
        else:
            self._written(message.case_id, message.message)

    def _modal(self, screen: Screen[str | None], case_id: str) -> None:
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

        app = self.console_app
        card = self._need_card()
        if card is None or app.store is None:  # (``_need_card`` said why)
            return
        why = refusal(app.store, app.user, "plan_updated", app)
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

        due = update_text(card, self._look(), short=False).plain
        self._modal(UpdatePost(cid, due, save), cid)

    def action_open_case(self) -> None:
        card = self.selected
        if card is None:
            return
        self._reload_on_focus = True
        self.console_app.open_case(card.case_id)

    def action_bell(self, turn_on: bool) -> None:
        watch = watcher_of(self.app)
        watch.bell = turn_on
        self._say(f"escalation bell {'on' if watch.bell else 'off'}")
        self.refresh_bindings()

    def action_reload(self) -> None:
        self.refresh_data()
