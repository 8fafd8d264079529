"""One case: its clocks, deployment and subscriber facts, full history, and the actions.

Every action key records one event through ``console.actions.append_event``, the same
rules as ``support-console event``; a refused action shows the reason here and writes
nothing. Reads and writes run in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from console.text import hm, inert
from screens.key_bar import KeyBar

ACTION_LABELS = {
    "acknowledged": "acknowledged",
    "awaiting_subscriber": "awaiting the subscriber",
    "subscriber_responded": "subscriber responded",
    "workaround_provided": "workaround provided",
    "fix_eta_agreed": "fix ETA agreed",
    "status_update": "status update",
    "resolved": "resolved",
    "closed": "closed",
    "reopened": "reopened",
    "time_logged": "time logged",
    "level_changed": "level changed",
}


KEYS = [("a", "ack"), ("w", "awaiting"), ("s", "responded"), ("o", "workaround"),
        ("f", "fix-ETA"), ("u", "update"), ("t", "log-time"), ("l", "level"),
        ("c", "reclassify"), ("R", "resolve"), ("C", "close"), ("O", "reopen"), ("S", "suspend"), ("U", "lift"),
        ("q", "back")]


@dataclass
class CaseData:
    """Everything the view shows, read in one go."""

    row: Any
    eval: Any
    history: list[Any]
    deployment: Any | None
    subscriber: Any | None
    terms: Any
    links: tuple[list[str], list[str]]
    at: int


def load_case(store: Any, policy: Any, case_id: str, at: int) -> CaseData | None:
    from sqlalchemy import select

    from console.queue import evaluate_case
    from console.records import D, S, load_event_rows, load_links, load_terms

    with store.connection() as conn:
        found = evaluate_case(conn, policy, case_id, at)
        if found is None:
            return None
        row, ev, _events = found
        history = load_event_rows(conn, case_id)
        dep = None
        if row.deployment_id:
            dep = conn.execute(select(D).where(D.c.id == row.deployment_id)).first()
        sub = conn.execute(select(S).where(S.c.id == row.subscriber_id)).first()
        terms = load_terms(conn, policy, [row.subscriber_id])[row.subscriber_id]
        links = load_links(conn, case_id)
    return CaseData(row, ev, history, dep, sub, terms, links, at)


def _t(value: Any) -> Text:
    """Subscriber-supplied text as inert, literal Text (no markup, no control codes)."""
    return Text(inert("" if value is None else str(value)))


def _local(ts: int | None, tz: tzinfo, fmt: str = "%a %d %b %Y %H:%M %Z") -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, tz).strftime(fmt)


class CaseView(Screen[None]):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    BINDINGS = [
        Binding("q,backspace", "back", "Back", show=False),
        Binding("escape", "back", "Back", show=False),
        Binding("a", "event('acknowledged')", "Ack"),
        Binding("w", "awaiting", "Await"),
        Binding("s", "event('subscriber_responded')", "Responded"),
        Binding("o", "event('workaround_provided')", "Workaround"),
        Binding("f", "event('fix_eta_agreed')", "Fix ETA"),
        Binding("u", "status_update", "Update"),
        Binding("R", "event('resolved')", "Resolve"),
        Binding("C", "event('closed')", "Close"),
        Binding("O", "event('reopened')", "Reopen"),
        Binding("t", "log_time", "Time"),
        Binding("l", "level", "Level"),
        Binding("c", "reclassify", "Reclass"),
        Binding("A", "apply_again", "Apply again", show=False),
        Binding("S", "suspend_sla", "Suspend"),
        Binding("U", "lift_sla", "Lift SLA"),
    ]

    def __init__(self, case_id: str, *, store: Any, policy: Any, user: str, tz: tzinfo,
                 now: Any) -> None:
        super().__init__()
        self.case_id = case_id
        self.store = store
        self.policy = policy
        self.user = user
        self.tz = tz
        self._now = now
        self.data: CaseData | None = None
        self.notice: Text = Text("")

    def compose(self) -> ComposeResult:
        yield Static(id="case-head", markup=False)
        with VerticalScroll(id="case-body"):
            yield Static(id="case-facts", markup=False)
            yield Static(id="case-clocks", markup=False)
            yield Static(id="case-history", markup=False)
        yield Static(id="case-notice", markup=False)
        yield KeyBar(KEYS, id="case-keys")

    def on_mount(self) -> None:
        self.query_one("#case-head", Static).update(Text(f"{self.case_id}  loading…"))
        self.query_one("#case-body").focus()
        self.reload()

    # -- data ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="case-read")
    def reload(self) -> None:
        at = self._now()
        try:
            data = load_case(self.store, self.policy, self.case_id, at)
        except Exception as exc:  # database trouble: say so, keep the screen
            self.app.call_from_thread(self._say, f"cannot read case: {exc}", error=True)
            return
        self.app.call_from_thread(self._show, data)

    def tick(self, at: int) -> None:
        if self.data is not None and at != self.data.at:
            self.reload()

    def _show(self, data: CaseData | None) -> None:
        if data is None:
            self.query_one("#case-head", Static).update(_t(f"{self.case_id}: no such case"))
            return
        self.data = data
        r, ev = data.row, data.eval
        head = Text(no_wrap=True, overflow="ellipsis")
        breached = any(c.breached and c.state == "running" for c in ev.clocks.values())
        if breached:
            head.append("! BREACHED  ", style="bold red")
        head.append(inert(r.id), style="bold")
        head.append(f"  {ev.type} {ev.priority or ''}  {ev.status}  {ev.level}  ")
        head.append(_t(r.subscriber_id))
        self.query_one("#case-head", Static).update(Group(head, Text(inert(r.title), style="bold")))
        self.query_one("#case-facts", Static).update(self._facts(data))
        self.query_one("#case-clocks", Static).update(self._clocks(data))
        self.query_one("#case-history", Static).update(self._history(data))

    def _facts(self, d: CaseData) -> Table:
        t = Table.grid(padding=(0, 1))
        t.add_column(style="bold", no_wrap=True)
        t.add_column()
        ev, r = d.eval, d.row
        sub = d.subscriber
        if sub is not None:
            s = Text()
            s.append_text(_t(sub.name))
            s.append(f" ({inert(sub.id)}) · {sub.plan} · {sub.coverage} · {d.terms.tz_name}"
                     f" · term {sub.term_start}–{sub.term_end}")
            if sub.terminated_at:
                s.append(f" · terminated {_local(sub.terminated_at, self.tz)}")
            t.add_row("Subscriber", s)
        dep = d.deployment
        if dep is not None:
            t.add_row("Deployment", _t(f"{dep.id} · {dep.environment} · "
                                       f"{'managed' if dep.managed else 'not managed'} · "
                                       f"{dep.product} {dep.version}"))
        else:
            t.add_row("Deployment", Text("—"))
        flags = []
        if ev.acknowledged:
            flags.append("acknowledged")
        if ev.awaiting:
            flags.append("⏸ awaiting subscriber")
        if ev.suspended:
            flags.append("⊘ SLA suspended")
        rep = _local(r.reported_at, self.tz)
        if r.aware_at is not None:
            rep += f" (aware {_local(r.aware_at, self.tz)})"
        t.add_row("Reported", Text(rep + ("  · " + ", ".join(flags) if flags else "")))
        out, back = d.links
        if out or back:
            t.add_row("Links", _t(" ".join(out + [f"←{b}" for b in back])))
        return t

    def _clocks(self, d: CaseData) -> Table:
        t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold",
                  expand=False)
        for name, kw in (("CLOCK", {}), ("STATE", {}), ("COUNTED/TARGET", {"justify": "right"}),
                         ("LEFT", {"justify": "right"}), ("DUE (local)", {})):
            t.add_column(name, no_wrap=True, **kw)
        if not d.eval.clocks:
            t.add_row("(no clocks)", "", "", "", "")
        for name, st in d.eval.clocks.items():
            style = "bold red" if st.breached else ""
            mark = "! " if st.breached else "  "
            target = hm(st.target) if st.target is not None else "best efforts"
            left = hm(st.remaining) if st.target is not None else "—"
            if st.breached:
                left += " BREACHED"
            t.add_row(Text(mark + name, style=style), st.state,
                      f"{hm(st.elapsed)} / {target}", Text(left, style=style),
                      _local(st.due, self.tz, "%a %d %b %H:%M") if st.due else "")
        return t

    def _history(self, d: CaseData) -> Table:
        t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold",
                  title="History", title_justify="left", title_style="bold", expand=True)
        t.add_column("WHEN (local)", no_wrap=True)
        t.add_column("EVENT", no_wrap=True)
        t.add_column("BY", no_wrap=True)
        t.add_column("DETAILS", ratio=1, overflow="fold")
        t.add_row(_local(d.row.reported_at, self.tz, "%d %b %H:%M"), "reported", "", "")
        for e in d.history:
            data = dict(e.data or {})
            details = " ".join(f"{k}={v}" for k, v in data.items())
            t.add_row(_local(e.at, self.tz, "%d %b %H:%M"), _t(e.kind), _t(e.by or ""),
                      _t(details))
        return t

    def _say(self, message: str, *, error: bool = False) -> None:
        text = Text(no_wrap=False)
        if error:
            text.append("✖ ", style="bold red")
            text.append(inert(message), style="red")
        else:
            text.append("✔ ", style="bold green")
            text.append(inert(message))
        self.notice = text
        self.query_one("#case-notice", Static).update(text)

    # -- actions ---------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_event(self, kind: str, data: dict[str, Any] | None = None) -> None:
        self.record(kind, data or {})

    def action_awaiting(self) -> None:
        from screens.prompts import TextPrompt

        def done(note: str | None) -> None:
            if note is not None:
                self.record("awaiting_subscriber", {"note": note or None})

        self.app.push_screen(TextPrompt("Awaiting the subscriber: what is needed? (optional)"), done)

    def action_status_update(self) -> None:
        from screens.prompts import TextPrompt

        def done(note: str | None) -> None:
            if note is not None:
                self.record("status_update", {"note": note})

        self.app.push_screen(TextPrompt("Status update note", required=True), done)

    def action_log_time(self) -> None:
        from screens.prompts import HoursPrompt

        def done(answer: dict[str, Any] | None) -> None:
            if answer is not None:
                self.record("time_logged", answer)

        self.app.push_screen(HoursPrompt(), done)

    def action_level(self) -> None:
        from screens.prompts import LevelPrompt

        def done(level: str | None) -> None:
            if level is not None:
                self.record("level_changed", {"level": level})

        def chosen(level: str | None) -> None:
            if level is None:
                return
            if level != "L4":
                done(level)
                return
            # L4 (policy §10) needs a link to the Update or documentation fix.
            from screens.prompts import TextPrompt

            def linked(link: str | None) -> None:
                if link:
                    self.record("level_changed", {"level": "L4", "link": link})

            self.app.push_screen(TextPrompt("L4: link to the Update or documentation fix",
                                            required=True), linked)

        current = self.data.eval.level if self.data else "L1"
        self.app.push_screen(LevelPrompt(current), chosen)

    pending_retry: tuple[str, dict[str, Any]] | None = None

    def action_apply_again(self) -> None:
        """Re-record the action a stale-version refusal kept, against the reloaded case."""
        if self.pending_retry is None:
            self._say("nothing to apply again")
            return
        kind, data = self.pending_retry
        self.pending_retry = None
        self.record(kind, data)

    def action_reclassify(self) -> None:
        from screens.wizard import open_reclassify_wizard

        open_reclassify_wizard(self.app, self.case_id)

    def action_suspend_sla(self) -> None:
        from screens.suspend_prompt import suspend_case

        suspend_case(self)

    def action_lift_sla(self) -> None:
        from screens.suspend_prompt import lift_case

        lift_case(self)

    @work(thread=True, exclusive=True, group="case-write")
    def record(self, kind: str, data: dict[str, Any]) -> None:
        from console.actions import Conflict, Refused, append_event

        now = self._now()
        version = self.data.row.version if self.data is not None else None
        try:
            append_event(self.store, self.policy, self.case_id, kind, at=now, by=self.user,
                         data=data, recorded_at=now, expected_version=version, actor=self.user)
        except Conflict as exc:
            # Keep what the operator entered (a note, hours) to apply again on the fresh case.
            self.pending_retry = (kind, data)
            kept = " (your input is kept)" if data else ""
            self.app.call_from_thread(
                self._say, f"nothing written: {exc}. Press A to apply your {kind}{kept} again.",
                error=True)
            self.reload()
            return
        except Refused as exc:
            self.app.call_from_thread(self._say, f"refused, nothing written: {exc}", error=True)
            return
        except Exception as exc:
            self.app.call_from_thread(self._say, f"not recorded: {exc}", error=True)
            return
        data_now = load_case(self.store, self.policy, self.case_id, self._now())
        self.app.call_from_thread(self._show, data_now)
        self.app.call_from_thread(self._say, f"{ACTION_LABELS.get(kind, kind)} recorded")
        changed = getattr(self.app, "case_changed", None)
        if changed is not None:
            self.app.call_from_thread(changed, self.case_id)
