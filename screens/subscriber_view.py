"""One subscriber: plan, coverage, zone and term, its query-hour meter; its open cases
with their worst clock; its SLA suspensions; a burn chart of the term's query hours; the
term's time entries; its support users (admin flag, who added and who removed each one).
A lead suspends (``S``) or lifts (``L``) the subscriber's SLA here.

Everything is read in one go in a worker thread (``load_subscriber``); suspend and lift
go through ``console.suspensions``, which checks the operator's role: an engineer's
attempt shows the refusal and writes nothing. Subscriber-supplied text (names, titles,
notes, e-mail addresses) is shown inert.

``open_subscriber(app, subscriber_id)`` pushes the view; the meters pane and the command
palette use it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, cast

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from console import clock
from console.errors import fault_text
from console.rich_text import inert_rich as _t
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook, as_book
from console.rules.timeutil import zone
from console.text import clock_text, inert, worst_clock
from console.text import local_time as _local
from screens.burn_chart import BurnChart, BurnData, hours, meter_bar, whole_percent
from screens.key_bar import KeyBar
from screens.notice import notice_text
from screens.offline import worker_failed_text
from screens.suspend_prompt import ConfirmPrompt, SuspendPrompt, refusal
from screens.words import refusal_text

if TYPE_CHECKING:
    from console.store.engine import Store
    from console.views.subscriber import SubscriberData
    from screens.app import ConsoleApp

# The command palette imports this module as the app starts; the database side
# (``console.views.subscriber``, SQLAlchemy) is imported when a subscriber is first read, so
# that the queue's first screenful is not kept waiting (see ``console/app.py``).

SUGGESTED_REASON = "usage_limit_exceeded"
MAX_ENTRIES = 200
MAX_CASES = 50
STAMP = "%Y-%m-%d %H:%M %Z"


def open_subscriber(app: App[Any], subscriber_id: str, *, replace: bool = False) -> None:
    """Push the subscriber's view (for the meters pane and the command palette);
    ``replace``: a case or subscriber view on top is replaced, not stacked (ctrl+p)."""
    console = cast("ConsoleApp", app)
    if console.store is None or console.policy is None:
        app.notify("the database is still opening", severity="warning")
        return
    view = SubscriberView(
        subscriber_id,
        store=console.store,
        policy=console.policy,
        user=console.user or "unknown",
        tz=console.tz,
        now=clock.now,
    )
    if replace and type(app.screen).__name__ in ("CaseView", "SubscriberView"):
        app.switch_screen(view)  # ctrl+p from a view: the new one takes its place
    else:
        app.push_screen(view)


class SubscriberView(Screen[None]):
    """One subscriber; its keys are its bindings (the key bar and ``?`` draw them)."""

    #: Styles of the text drawn in code, from the theme (subscriber_view.tcss).
    COMPONENT_CLASSES = {
        "subscriber-view--urgent",  # over the limit, a breached case
        "subscriber-view--strong",
        "subscriber-view--hint",
        "subscriber-view--aside",
        "subscriber-view--section",  # a section's title
    }

    # The lead-only keys (E, S, L) stay enabled for an engineer: pressing one says the
    # engine's refusal in words and writes nothing, as before.
    BINDINGS = [
        Binding("E", "change", "change", tooltip="change a fact, dated (leads)"),
        Binding("S", "suspend", "suspend", tooltip="suspend its SLA (leads)"),
        Binding("L", "lift", "lift", tooltip="lift its SLA suspension (leads)"),
        Binding("c", "cases", "cases in queue", tooltip="its cases in the queue"),
        Binding("r", "reload", "reload", tooltip="read again"),
        Binding("q,backspace", "back", "back", key_display="q", tooltip="back"),
        Binding("escape", "back", "back", show=False),
    ]

    # -- what the workers report (posted from their thread, handled on the app's) ------------

    class Read(Message):
        """The subscriber as read (None: there is no such subscriber)."""

        def __init__(self, data: SubscriberData | None) -> None:
            super().__init__()
            self.data = data

    class Said(Message):
        """Words for the notice line: a failed read, a refusal, a failed write."""

        def __init__(self, text: str, *, error: bool) -> None:
            super().__init__()
            self.text = text
            self.error = error

    class Written(Message):
        """A suspension was recorded or lifted: ``data`` the subscriber read again,
        ``said`` the words for it."""

        def __init__(self, data: SubscriberData | None, said: str) -> None:
            super().__init__()
            self.data = data
            self.said = said

    def __init__(
        self,
        subscriber_id: str,
        *,
        store: Store,
        policy: Policy | PolicyBook,
        user: str,
        tz: tzinfo,
        now: Callable[[], int],
    ) -> None:
        super().__init__()
        self.subscriber_id = subscriber_id
        self.store = store
        self.policy = policy
        self.user = user
        self.tz = tz
        self._now = now
        self.data: SubscriberData | None = None
        self.notice: Content = Content("")

    @property
    def console_app(self) -> ConsoleApp:
        """The app, typed (the subscriber view runs only in the console)."""
        return cast("ConsoleApp", self.app)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"subscriber-view--{name}", partial=True)

    def _section(self, title: str, extra: str = "") -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(title, style=self._style("section"))
        if extra:
            t.append("  " + extra, style=self._style("hint"))
        return t

    def compose(self) -> ComposeResult:
        yield Static(id="sub-head", markup=False)
        yield Static(id="sub-flag", markup=False)
        with VerticalScroll(id="sub-body"):
            yield Static(id="sub-facts", markup=False)
            yield Static(id="sub-changes", markup=False)
            yield Static(id="sub-cases", markup=False)
            yield Static(id="sub-suspensions", markup=False)
            yield BurnChart(id="sub-chart")
            yield Static(id="sub-entries", markup=False)
            yield Static(id="sub-users", markup=False)
        yield Static(id="sub-notice", markup=False)
        yield KeyBar(id="sub-keys")

    def on_mount(self) -> None:
        self.query_one("#sub-head", Static).update(_t(f"{self.subscriber_id}  loading…"))
        self.query_one("#sub-flag", Static).display = False
        self.query_one("#sub-body").focus()
        self.watch(self.app, "now", self._on_now, init=False)
        self.reload()

    # -- data ------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="sub-read",
        exit_on_error=False,
        name="reading the subscriber",
    )
    def reload(self) -> None:
        """Read the subscriber again (only the latest read is shown)."""
        from console.views.subscriber import load_subscriber

        at = self._now()
        try:
            data = load_subscriber(self.store, self.policy, self.subscriber_id, at, self.user)
        except Exception as exc:  # database trouble: say so, keep the screen
            self.post_message(self.Said(f"cannot read subscriber: {fault_text(exc)}", error=True))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Read(data))

    def _on_now(self, at: int) -> None:
        """``ConsoleApp.now`` moved on (once a minute): the meter and clocks are read again."""
        if self.data is not None and at != self.data.at:
            self.reload()

    @on(Read)
    def _read(self, message: Read) -> None:
        self._show(message.data)

    @on(Said)
    def _said(self, message: Said) -> None:
        self._say(message.text, error=message.error)

    @on(Written)
    def _written(self, message: Written) -> None:
        if message.data is not None:
            self._show(message.data)
        self._say(message.said)
        self._changed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised past its own handling: said on the notice line (a database
        gone also puts the console OFFLINE), never an exit."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self._say(worker_failed_text(self.app, error, event.worker.name), error=True)

    def _show(self, data: SubscriberData | None) -> None:
        if data is None:
            self.query_one("#sub-head", Static).update(
                _t(f"{self.subscriber_id}: no such subscriber")
            )
            return
        self.data = data
        self.query_one("#sub-head", Static).update(self._head(data))
        flag = self._flag(data)
        box = self.query_one("#sub-flag", Static)
        box.display = flag is not None
        if flag is not None:
            box.update(flag)
        self.query_one("#sub-facts", Static).update(self._facts(data))
        self.query_one("#sub-changes", Static).update(self._changes(data))
        start, end = data.term_bounds
        points = tuple(
            (e.at, float(e.hours)) for e in data.entries if e.case_type == "query" and not e.exempt
        )
        self.query_one(BurnChart).data = BurnData(
            points, start, end, data.at, data.meter.limit_hours, zone(data.terms.tz_name)
        )
        self.query_one("#sub-suspensions", Static).update(self._suspensions(data))
        self.query_one("#sub-cases", Static).update(self._cases(data))
        self.query_one("#sub-entries", Static).update(self._entries(data))
        self.query_one("#sub-users", Static).update(self._users(data))

    def _head(self, d: SubscriberData) -> Text:
        head = Text(no_wrap=True, overflow="ellipsis")
        if d.in_force is not None:
            head.append("⊘ SUSPENDED  ", style=self._style("strong"))
        head.append_text(_t(d.row.name))
        head.append(f" ({inert(d.row.id)})", style=self._style("strong"))
        head.append(f"  {d.row.plan}")
        right = f"operator {inert(self.user)} · {d.role}"
        width = self.size.width or 80
        pad = width - 2 - head.cell_len - len(right)
        head.append(" " * max(2, pad))
        head.append(right, style=self._style("strong") if d.role == "lead" else Style())
        return head

    def _flag(self, d: SubscriberData) -> Text | None:
        if d.meter.state != "over":
            return None
        t = Text()
        t.append("! OVER LIMIT ", style=self._style("urgent"))
        t.append(
            f"{hours(d.meter.used_hours)}/{hours(d.meter.limit_hours)} h "
            f"({whole_percent(d.meter.percent, d.meter.state)}%)"
        )
        reason = d.in_force[0] if d.in_force else None
        if reason == SUGGESTED_REASON:
            t.append(f" — SLA suspended for {SUGGESTED_REASON}")
        else:
            t.append(f" — suggest: suspend for {SUGGESTED_REASON} (S)")
        return t

    def _facts(self, d: SubscriberData) -> Table:
        strong = self._style("strong")
        t = Table.grid(padding=(0, 1))
        t.add_column(style=strong, no_wrap=True)
        t.add_column()
        # The facts in force now (dated changes applied, policy §14), not the first record.
        r, m = d.terms.facts, d.meter
        cov = (
            "24×7"
            if r.coverage == "24x7"
            else {"enterprise": "8×5", "basic": "12×5"}.get(r.plan, r.coverage)
        )
        t.add_row("Plan", _t(f"{r.plan} · {cov} coverage · {d.terms.tz_name}"))
        # A stored subscription has its term (the meter's bounds were read from it).
        end = r.term_end or datetime.fromtimestamp(d.term_bounds[1], self.tz).date()
        days_left = (end - datetime.fromtimestamp(d.at, self.tz).date()).days
        left = f"{days_left} days left" if days_left >= 0 else f"ended {-days_left} days ago"
        term = Text(f"{r.term_start} – {r.term_end} ({left})")
        if r.terminated_at and r.terminated_at <= d.at:
            term.append(
                f" · TERMINATED {_local(r.terminated_at, self.tz, '%Y-%m-%d')}", style=strong
            )
        t.add_row("Term", term)
        if r.targets:
            t.add_row(
                "Order form",
                _t(", ".join(f"{k}={v or 'best efforts'}" for k, v in sorted(r.targets.items()))),
            )
        meter_line = Text(no_wrap=True, overflow="ellipsis")
        meter_line.append(f"{hours(m.used_hours)} / {hours(m.limit_hours)} h  ")
        meter_line.append_text(
            meter_bar(
                m.percent,
                m.state,
                20 if self.size.width >= 100 else 10,
                self.query_one(BurnChart).state_styles(),
            )
        )
        if m.exempt_hours:
            meter_line.append(f"  +{hours(m.exempt_hours)} h exempt")
        t.add_row("Query hours", meter_line)
        if m.reached_on is not None:
            fc = Text(f"limit reached on {m.reached_on}", style=self._style("urgent"))
        elif m.forecast_limit_date is not None:
            fc = Text(f"at this term's rate the limit is reached ~{m.forecast_limit_date}")
        elif not m.used_hours:
            fc = Text("no query hours counted this term")
        else:
            fc = Text("at this term's rate the limit is not reached within the term")
        t.add_row("Forecast", fc)
        if d.in_force is not None:
            reason, since, until, automatic = d.in_force
            s = Text(f"⊘ suspended ({reason}) since {_local(since, self.tz, STAMP)}", style=strong)
            s.append(
                f" until {_local(until, self.tz, STAMP)}"
                if until
                else " until the term is extended"
                if automatic
                else " until lifted"
            )
            t.add_row("SLA", s)
        else:
            t.add_row("SLA", Text("in force"))
        return t

    def _table(self, *, expand: bool = True) -> Table:
        """A section's table: no box, one space between columns, strong headers."""
        return Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style=self._style("strong"),
            expand=expand,
        )

    def _changes(self, d: SubscriberData) -> Group:
        if not d.changes:
            return Group(Text(""), self._section("Changes", "none recorded · E: change (leads)"))
        t = self._table()
        t.add_column("FROM (local)", no_wrap=True)
        t.add_column("CHANGE", ratio=1, overflow="fold")
        t.add_column("BY", no_wrap=True)
        t.add_column("REASON", ratio=1, overflow="fold")
        from console.changes import facts_text
        from console.rules.timeutil import parse_instant

        for c in d.changes:
            eff = parse_instant(c["effective_at"])
            facts = facts_text(c["facts"])
            when = Text(_local(eff, self.tz, "%Y-%m-%d %H:%M"))
            if eff > d.at:
                when.append(" planned", style=self._style("strong"))
            t.add_row(when, _t(facts), _t(c["by"] or ""), _t(c["reason"]))
        return Group(Text(""), self._section("Changes", f"{len(d.changes)} · E: change (leads)"), t)

    def _suspensions(self, d: SubscriberData) -> Group:
        t = self._table(expand=False)
        for name in ("REASON", "FROM", "UNTIL", "BY", ""):
            t.add_column(name, no_wrap=True)
        rows = 0
        lapse = d.terms.lapse_from
        if lapse is not None and lapse <= d.at:
            t.add_row(
                "subscription_lapsed",
                _local(lapse, self.tz, STAMP),
                "term extended",
                "automatic",
                Text("in force", style=self._style("strong")),
            )
            rows += 1
        for s in d.suspensions:
            now_in = s.from_at <= d.at and (s.until_at is None or d.at < s.until_at)
            state = "in force" if now_in else ("planned" if s.from_at > d.at else "lifted")
            t.add_row(
                _t(s.reason),
                _local(s.from_at, self.tz, STAMP),
                _local(s.until_at, self.tz, STAMP) if s.until_at else "(open)",
                _t(s.by or ""),
                Text(state, style=self._style("strong" if now_in else "hint")),
            )
            rows += 1
        title = self._section("SLA suspensions", f"{rows}" if rows else "none")
        return Group(Text(""), title, t) if rows else Group(Text(""), title)

    def _cases(self, d: SubscriberData) -> Group:
        extra = f"{len(d.cases)} open"
        if d.resolved:
            extra += f", {d.resolved} resolved"
        extra += " · c: show in the queue"
        t = self._table()
        t.add_column("CASE", no_wrap=True)
        t.add_column("TYPE", no_wrap=True)
        t.add_column("PRI", no_wrap=True)
        t.add_column("CLOCK", no_wrap=True)
        t.add_column("STATE", no_wrap=True)
        t.add_column("LEFT", no_wrap=True, justify="right")
        t.add_column("TITLE", ratio=1, no_wrap=True, overflow="ellipsis")
        for r in d.cases[:MAX_CASES]:
            w = worst_clock(r.eval.clocks)
            name, st = w if w else ("—", None)
            breached = r.marked  # a breach in any clock state, or escalated (policy §14)
            style = self._style("urgent") if breached else Style()
            t.add_row(
                Text(("!" if breached else " ") + inert(r.id), style=style),
                r.eval.type,
                r.eval.priority or "",
                name,
                st.state if st else "",
                Text(clock_text(st) if st else "", style=style),
                Text(" ".join(inert(r.title).split())),
            )
        if not d.cases:
            return Group(Text(""), self._section("Open cases", extra))
        parts: list[RenderableType] = [Text(""), self._section("Open cases", extra), t]
        if len(d.cases) > MAX_CASES:
            parts.append(
                Text(
                    f"… {len(d.cases) - MAX_CASES} more, less at risk (c: all of them "
                    "in the queue)",
                    style=self._style("hint"),
                )
            )
        return Group(*parts)

    def _entries(self, d: SubscriberData) -> Group:
        counted = sum(float(e.hours) for e in d.entries if e.case_type == "query" and not e.exempt)
        extra = f"{len(d.entries)} this term · {hours(counted)} h counted"
        if not d.entries:
            return Group(Text(""), self._section("Time entries", "none this term"))
        t = self._table()
        t.add_column("WHEN (local)", no_wrap=True)
        t.add_column("CASE", no_wrap=True)
        t.add_column("HOURS", no_wrap=True, justify="right")
        t.add_column("COUNTS", no_wrap=True)
        t.add_column("BY", no_wrap=True)
        t.add_column("NOTE / CASE TITLE", ratio=1, no_wrap=True, overflow="ellipsis")
        for e in d.entries[:MAX_ENTRIES]:
            if e.case_type != "query":
                counts = Text(f"no ({e.case_type})", style=self._style("hint"))
            elif e.exempt:
                counts = Text("exempt", style=self._style("aside"))
            else:
                counts = Text("yes")
            note = " ".join(inert(e.note or e.title or "").split())
            t.add_row(
                _local(e.at, self.tz, "%Y-%m-%d %H:%M"),
                _t(e.case_id),
                hours(e.hours),
                counts,
                _t(e.by or ""),
                Text(note),
            )
        parts: list[RenderableType] = [Text(""), self._section("Time entries", extra), t]
        if len(d.entries) > MAX_ENTRIES:
            parts.append(
                Text(
                    f"… {len(d.entries) - MAX_ENTRIES} older entries not shown",
                    style=self._style("hint"),
                )
            )
        return Group(*parts)

    def _users(self, d: SubscriberData) -> Group:
        if not d.users:
            return Group(Text(""), self._section("Support users", "none"))
        t = self._table(expand=False)
        t.add_column("NAME", no_wrap=True)
        t.add_column("E-MAIL", no_wrap=True)
        t.add_column("ADMIN", no_wrap=True)
        t.add_column("ADDED", no_wrap=True)
        t.add_column("REMOVED", no_wrap=True)
        for u in d.users:
            removed = u.get("removed_at")
            style = self._style("hint") if removed else Style()
            t.add_row(
                Text(inert(u.get("name") or "(removed)"), style=style),
                Text(inert(u.get("email") or ""), style=style),
                Text("admin", style=self._style("hint" if removed else "strong"))
                if u.get("admin")
                else "",
                self._who(u.get("added_at"), u.get("added_by")),
                self._who(removed, u.get("removed_by"), "removed ")
                if removed or u.get("removed_by")
                else "",
            )
        active = sum(1 for u in d.users if not u.get("removed_at"))
        return Group(
            Text(""), self._section("Support users", f"{len(d.users)} ({active} active)"), t
        )

    def _who(self, at: int | None, by: str | None, prefix: str = "") -> Text:
        """When and by whom (an administrator's user id or a lead's operator name)."""
        parts = []
        if at:
            parts.append(_local(at, self.tz, "%Y-%m-%d"))
        if by:
            parts.append(f"by {by}")
        return Text(
            inert(prefix + " ".join(parts)) if parts else "",
            style=self._style("hint") if prefix else Style(),
        )

    def _say(self, message: str, *, error: bool = False) -> None:
        text = notice_text(message, error=error)
        self.notice = text
        self.query_one("#sub-notice", Static).update(text)

    # -- actions -----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.reload()

    def _unread(self) -> bool:
        """Whether the subscriber is not read (yet); if so, say so rather than nothing."""
        if self.data is not None:
            return False
        offline = self.console_app.offline
        self._say(
            f"the subscriber cannot be read: {offline}; nothing written"
            if offline
            else f"{self.subscriber_id} is still loading",
            error=True,
        )
        return True

    def action_cases(self) -> None:
        self.console_app.filter_subscriber(self.subscriber_id)

    def action_change(self) -> None:
        """A dated change of the subscription (leads): the form, with its preview."""
        from screens.change_form import ChangeForm

        if self._unread():
            return
        why = refusal(self.store, self.user, "change_subscriber", self.app)
        if why is not None:
            self._say(refusal_text(why), error=True)
            return

        def done(what: str | None) -> None:
            if what:
                self._say(what)
                self.reload()
                self._changed()

        self.app.push_screen(
            ChangeForm(
                self.subscriber_id,
                store=self.store,
                policy=self.policy,
                user=self.user,
                tz=self.tz,
                now=self._now,
            ),
            done,
        )

    def action_suspend(self) -> None:
        if self._unread() or self.data is None:
            return
        why = refusal(self.store, self.user, "suspend_subscriber", self.app)
        if why is not None:
            self._say(refusal_text(why), error=True)
            return
        if self.data.in_force is not None:
            reason, since, _, _ = self.data.in_force
            self._say(
                f"already suspended ({reason}) since {_local(since, self.tz, STAMP)}; L lifts it",
                error=True,
            )
            return
        over = self.data.meter.state == "over"
        note = (
            (
                f"over its query-hour limit "
                f"({whole_percent(self.data.meter.percent, self.data.meter.state)}%): "
                f"{SUGGESTED_REASON} is suggested"
            )
            if over
            else None
        )

        def done(reason: str | None) -> None:
            if reason is not None:
                self.write("suspend", reason)

        # custom_extension is one case's matter (policy §6): not offered for a subscriber.
        self.app.push_screen(
            SuspendPrompt(
                f"subscriber {self.subscriber_id}",
                as_book(self.policy).at(self._now()).subscriber_suspension_reasons,
                suggested=SUGGESTED_REASON if over else None,
                note=note,
            ),
            done,
        )

    def action_lift(self) -> None:
        if self._unread() or self.data is None:
            return
        why = refusal(self.store, self.user, "lift_subscriber", self.app)
        if why is not None:
            self._say(refusal_text(why), error=True)
            return
        force = self.data.in_force
        if force is None:
            self._say(f"{self.subscriber_id} has no suspension in force", error=True)
            return
        if force[3]:
            self._say(
                "the subscription has lapsed: extending the term (support-console renew) ends it",
                error=True,
            )
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.write("lift", None)

        self.app.push_screen(
            ConfirmPrompt(
                f"Lift the SLA suspension of {self.subscriber_id} ({force[0]})? Its clocks count "
                "again from now.",
                yes="lift",
            ),
            done,
        )

    # Not exclusive: every write's result is said.
    @work(thread=True, group="sub-write", exit_on_error=False, name="recording")
    def write(self, what: str, reason: str | None) -> None:
        from console.actions import Refused
        from console.suspensions import lift, suspend
        from console.views.subscriber import load_subscriber

        now = self._now()
        try:
            if what == "suspend":
                assert reason is not None
                suspend(
                    self.store,
                    self.subscriber_id,
                    reason=reason,
                    from_at=now,
                    until_at=None,
                    actor=self.user,
                    recorded_at=now,
                )
                done = f"SLA of {self.subscriber_id} suspended ({reason})"
            else:
                lift(self.store, self.subscriber_id, at=now, actor=self.user, recorded_at=now)
                done = f"suspension of {self.subscriber_id} lifted"
        except Refused as exc:
            self.post_message(self.Said(refusal_text(exc), error=True))
            return
        except Exception as exc:
            self.post_message(self.Said(f"not recorded: {fault_text(exc)}", error=True))
            return
        try:
            data = load_subscriber(
                self.store, self.policy, self.subscriber_id, self._now(), self.user
            )
        except Exception as exc:  # written, but the database went away just after
            self.post_message(
                self.Said(
                    f"{done}; cannot read the subscriber again: {fault_text(exc)}", error=False
                )
            )
            return
        self.post_message(self.Written(data, done))

    def _changed(self) -> None:
        """Every clock of the subscriber changed: re-read the queue and the meters."""
        self.console_app.load()
        self.console_app.refresh_panes()
