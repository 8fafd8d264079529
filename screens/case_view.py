"""One case: its clocks, deployment and subscriber facts, full history, and the actions.

Every action key records one event through ``console.actions.append_event``, the same
rules as ``support-console event``; a refused action shows the reason here and writes
nothing. Reads and writes run in a worker thread.

Governance (policy §5, §10, §12): the facts show the version's end of support (a case on
a version past it is flagged, never refused), the case's links both ways, a change
request's status and the attachments. The rarer actions sit behind ``.`` (more): a
change request from a service request, confirming a vulnerability on a security report
analysis (the linked incident opens in the same transaction; the view offers to open it),
a change request's next status, and attaching a file. Each calls the same engine
function as its ``support-console`` command, with the operator as actor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, cast

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from console.errors import fault_text
from console.rich_text import inert_rich as _t
from console.rules.clocks import CaseEval, ClockState
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook
from console.store.engine import Store
from console.text import breaches_at, hm, inert
from console.text import local_time as _local
from console.views.case import CaseData, engineer_names, load_case
from screens.key_bar import KeyBar
from screens.notice import notice_text
from screens.offline import failed_text, worker_failed_text
from screens.suspend_prompt import ConfirmPrompt, lift_case, suspend_case
from screens.words import (
    done_text,
    event_details,
    event_label,
    refusal_text,
)

if TYPE_CHECKING:
    from screens.app import ConsoleApp

#: Below this width the clock table drops to its compact columns (the full ones need 80
#: columns and a spare one for the scroll bar).
NARROW = 82

# The "more" menu (``.``): key, action id, label, and the case type it applies to.
MORE = [
    ("r", "change_request", "change request from this service request", "service_request"),
    (
        "v",
        "confirm_vulnerability",
        "confirm the vulnerability: open a linked incident",
        "security_report",
    ),
    ("s", "cr_status", "change-request status", "change_request"),
    ("w", "awaiting_vendor", "awaiting the component's vendor", "incident"),
    ("e", "vendor_responded", "the vendor responded", "incident"),
    ("f", "attach", "attach a file", None),
]
TYPE_WORDS = {
    "incident": "incident",
    "query": "query",
    "security_report": "security report analysis",
    "service_request": "service request",
    "change_request": "change request",
}
TYPE_SHORT = {"service_request": "SR", "security_report": "SRA", "change_request": "CR"}
#: Actions the engine refuses on a closed case (every event but ``reopened``): their keys
#: are shown disabled there.
NOT_WHEN_CLOSED = frozenset(
    {
        "event",
        "awaiting",
        "fix_eta",
        "status_update",
        "finish",
        "take",
        "hand_over",
        "log_time",
        "level",
        "suspend_sla",
        "lift_sla",
    }
)


def more_note(d: CaseData, aid: str, needs: str | None) -> str:
    """Why a "more" action does not apply to this case (``✖ ...``), or ``""``. The engine
    refuses it anyway; the menu says so before a key is pressed."""
    ev = d.eval
    if aid in ("awaiting_vendor", "vendor_responded"):
        if not (ev.type == "incident" and ev.priority == "P0" and d.component):
            return "✖ P0 naming a component only"
        if aid == "awaiting_vendor" and ev.awaiting_vendor:
            return "✖ already awaiting the vendor"
        if aid == "vendor_responded" and not ev.awaiting_vendor:
            return "✖ not awaiting the vendor"
        return ""
    if needs is not None and ev.type != needs:
        return f"✖ {TYPE_SHORT[needs]} only"
    if aid == "cr_status":
        from console.rules.lifecycle import cr_next_steps

        nxt = cr_next_steps(d.cr_status)
        return f"next: {' or '.join(nxt)}" if nxt else f"✖ {d.cr_status} (final)"
    return ""


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class CaseView(Screen[None]):
    """One case; its keys are its bindings (the key bar and ``?`` draw them)."""

    #: Styles of the text drawn in code, from the theme (case_view.tcss).
    COMPONENT_CLASSES = {
        "case-view--urgent",  # a breach, an escalation, a version past its end of support
        "case-view--strong",
        "case-view--hint",
        "case-view--aside",
        "case-view--tag",  # LATE beside a late entry
    }

    BINDINGS = [
        Binding("a", "event('acknowledged')", "ack", tooltip="acknowledge"),
        Binding("w", "awaiting", "await", tooltip="awaiting the subscriber (a note)"),
        Binding(
            "s", "event('subscriber_responded')", "replied", tooltip="the subscriber responded"
        ),
        Binding("o", "event('workaround_provided')", "workaround", tooltip="workaround provided"),
        Binding("f", "fix_eta", "ETA", tooltip="fix ETA agreed (asks the ETA)"),
        Binding("u", "status_update", "update", tooltip="status update (a note)"),
        Binding("t", "log_time", "time", tooltip="log time"),
        Binding("l", "level", "level", tooltip="level (L4 asks for the link to the fix)"),
        Binding("c", "reclassify", "reclass", tooltip="reclassify (the wizard)"),
        Binding("T", "take", "take", tooltip="take the case (assign it to me)"),
        Binding(
            "H", "hand_over", "hand over", tooltip="hand over to another engineer (empty: unassign)"
        ),
        Binding(
            "R", "finish('resolved')", "resolve", tooltip="resolve (asks, with an optional note)"
        ),
        Binding("C", "finish('closed')", "close", tooltip="close (asks, with an optional note)"),
        Binding("O", "event('reopened')", "reopen", tooltip="reopen"),
        Binding(
            "S",
            "suspend_sla",
            "suspend",
            key_display="S/U",
            tooltip="suspend (S) or lift (U) the case's SLA (leads)",
        ),
        Binding(
            "U",
            "lift_sla",
            "lift SLA",
            show=False,
            tooltip="lift the case's SLA suspension (leads)",
        ),
        Binding(
            "A",
            "apply_again",
            "apply again",
            tooltip="apply again an action refused because the case changed",
        ),
        Binding(
            "full_stop",
            "more",
            "more",
            key_display=".",
            tooltip="more: change request, vulnerability, CR status, vendor, attach",
        ),
        Binding("q,backspace", "back", "back", key_display="q", tooltip="back"),
        Binding("escape", "back", "back", show=False),
    ]

    # -- what the workers report (posted from their thread, handled on the app's) ------------

    class Read(Message):
        """The case as read (None: there is no such case); ``to_new_entry``: an action was
        just recorded, scroll the history to its new last entry."""

        def __init__(self, data: CaseData | None, *, to_new_entry: bool = False) -> None:
            super().__init__()
            self.data = data
            self.to_new_entry = to_new_entry

    class Said(Message):
        """Words for the notice line: a failed read, a refusal, a failed write."""

        def __init__(self, text: str, *, error: bool) -> None:
            super().__init__()
            self.text = text
            self.error = error

    class EngineersRead(Message):
        """The engineers' logins, for the hand-over prompt."""

        def __init__(self, names: tuple[str, ...]) -> None:
            super().__init__()
            self.names = names

    class Recorded(Message):
        """An action was written: ``data`` the case read again, ``said`` the words for it,
        ``changed`` the cases the queue re-reads, ``offer`` a new incident to offer to
        open."""

        def __init__(
            self,
            data: CaseData | None,
            said: str,
            changed: tuple[str, ...],
            *,
            to_new_entry: bool = False,
            offer: str | None = None,
        ) -> None:
            super().__init__()
            self.data = data
            self.said = said
            self.changed = changed
            self.to_new_entry = to_new_entry
            self.offer = offer

    class Stale(Message):
        """The case changed since it was shown: nothing written; the action is kept for
        ``A`` and the case is read again."""

        def __init__(self, kind: str, data: dict[str, Any], text: str) -> None:
            super().__init__()
            self.kind = kind
            self.data = data
            self.text = text

    def __init__(
        self,
        case_id: str,
        *,
        store: Store,
        policy: Policy | PolicyBook,
        user: str,
        tz: tzinfo,
        now: Callable[[], int],
    ) -> None:
        super().__init__()
        self.case_id = case_id
        self.store = store
        self.policy = policy
        self.user = user
        self.tz = tz
        self._now = now
        self.data: CaseData | None = None
        self.notice: Content = Content("")
        #: The action a stale-version refusal kept (``A`` applies it again).
        self.pending_retry: tuple[str, dict[str, Any]] | None = None

    @property
    def console_app(self) -> ConsoleApp:
        """The app, typed (the case view runs only in the console)."""
        return cast("ConsoleApp", self.app)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"case-view--{name}", partial=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``A`` only while a refused action is kept; on a closed case only what the engine
        takes there (reopen, reclassify, more). Suspend and lift (leads) stay enabled for an
        engineer: pressing one says the engine's refusal in words, online or offline."""
        if action == "apply_again":
            return self.pending_retry is not None
        d = self.data
        if d is None:
            return True
        if action == "event" and parameters[:1] == ("reopened",):
            return True
        if d.eval.status == "closed" and action in NOT_WHEN_CLOSED:
            return None
        return True

    def compose(self) -> ComposeResult:
        yield Static(id="case-head", markup=False)
        with VerticalScroll(id="case-body"):
            yield Static(id="case-facts", markup=False)
            yield Static(id="case-clocks", markup=False)
            yield Static(id="case-history", markup=False)
        yield Static(id="case-notice", markup=False)
        yield KeyBar(id="case-keys")

    def on_mount(self) -> None:
        self.query_one("#case-head", Static).update(Text(f"{self.case_id}  loading…"))
        self.query_one("#case-body").focus()
        self.watch(self.app, "now", self._on_now, init=False)
        self.reload()

    # -- data ----------------------------------------------------------------------------

    @work(
        thread=True, exclusive=True, group="case-read", exit_on_error=False, name="reading the case"
    )
    def reload(self) -> None:
        """Read the case again (only the latest read is shown)."""
        at = self._now()
        try:
            data = load_case(self.store, self.policy, self.case_id, at)
        except Exception as exc:  # database trouble: say so, keep the screen
            self.post_message(self.Said(f"cannot read case: {fault_text(exc)}", error=True))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Read(data))

    def _on_now(self, at: int) -> None:
        """``ConsoleApp.now`` moved on (once a minute): the clocks are read again."""
        if self.data is not None and at != self.data.at:
            self.reload()

    @on(Read)
    def _read(self, message: Read) -> None:
        self._show(message.data, message.to_new_entry)

    @on(Said)
    def _said(self, message: Said) -> None:
        self._say(message.text, error=message.error)

    @on(Recorded)
    def _recorded(self, message: Recorded) -> None:
        if message.data is not None:
            self._show(message.data, message.to_new_entry)
        self._say(message.said)
        for case_id in message.changed:
            self.console_app.case_changed(case_id)
        if message.offer is not None:
            self._offer_open(message.offer)

    @on(Stale)
    def _stale(self, message: Stale) -> None:
        # Keep what the operator entered (a note, hours) to apply again on the fresh case.
        self.pending_retry = (message.kind, message.data)
        self.refresh_bindings()
        self._say(message.text, error=True)
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised past its own handling: said on the notice line (a database
        gone also puts the console OFFLINE), never an exit."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self._say(worker_failed_text(self.app, error, event.worker.name), error=True)

    def _show(self, data: CaseData | None, to_new_entry: bool = False) -> None:
        """Draw the case; ``to_new_entry``: an action was just recorded, scroll the history
        to its new last entry."""
        if data is None:
            self.query_one("#case-head", Static).update(_t(f"{self.case_id}: no such case"))
            return
        if to_new_entry:
            self.call_after_refresh(
                lambda: self.query_one("#case-body", VerticalScroll).scroll_end(animate=False)
            )
        self.data = data
        self.refresh_bindings()  # what applies follows the case (closed or not)
        r, ev = data.row, data.eval
        urgent, strong = self._style("urgent"), self._style("strong")
        head = Text(no_wrap=True, overflow="ellipsis")
        # A breach stays marked whatever the clock's state now, and an escalated incident
        # is always marked (policy §14).
        breached = any(c.breached for c in ev.clocks.values())
        if breached:
            head.append("! BREACHED  ", style=urgent)
        if data.escalated:
            head.append(("" if breached else "! ") + "ESCALATED  ", style=urgent)
        head.append(inert(r.id), style=strong)
        head.append(f"  {ev.type} {ev.priority or ''}  {ev.status}  {ev.level}  ")
        head.append_text(_t(r.subscriber_id))
        self.query_one("#case-head", Static).update(Group(head, Text(inert(r.title), style=strong)))
        self.query_one("#case-facts", Static).update(self._facts(data))
        self.query_one("#case-clocks", Static).update(self._clocks(data))
        self.query_one("#case-history", Static).update(self._history(data))

    def _facts(self, d: CaseData) -> Table:
        urgent, strong, hint = self._style("urgent"), self._style("strong"), self._style("hint")
        flags = d.flags or {}
        t = Table.grid(padding=(0, 1))
        t.add_column(style=strong, no_wrap=True)
        t.add_column()
        ev, r = d.eval, d.row
        held = Text()
        if d.assignee:
            held.append_text(_t(d.assignee))
            held.append(" (you)" if d.assignee == self.user else "", style=strong)
            held.append("  · H: hand over", style=hint)
        else:
            held.append("nobody", style=strong)
            held.append("  · T: take it", style=hint)
        t.add_row("Assigned", held)
        if d.subscriber_name is not None:
            now = d.terms.at(d.at)  # the subscription as in force at the instant shown
            f = now.facts
            s = Text()
            s.append_text(_t(d.subscriber_name))
            s.append(
                f" ({inert(r.subscriber_id)}) · {f.plan} · {f.coverage} · {now.tz_name}"
                f" · term {f.term_start}–{f.term_end}"
            )
            if flags.get("subscriber_terminated") and f.terminated_at:
                s.append(f" · TERMINATED {_local(f.terminated_at, self.tz)}", style=strong)
            t.add_row("Subscriber", s)
        for problem in flags.get("eligibility") or []:
            t.add_row(
                "Flagged",
                Text(
                    f"not eligible under today's facts: {inert(problem)} "
                    "(open cases are flagged, not refused)",
                    style=strong,
                ),
            )
        dep = d.deployment
        if dep is not None:
            line = _t(
                f"{dep.id} · {dep.environment} · "
                f"{'managed' if dep.managed else 'not managed'} · {dep.product} {dep.version}"
            )
            if dep.components:
                line.append_text(_t(" · third-party: " + ", ".join(dep.components)))
            t.add_row("Deployment", line)
        else:
            t.add_row("Deployment", Text("—"))
        end, past = d.support
        if dep is not None and end is not None:
            line = Text()
            line.append_text(_t(f"version {dep.product} {dep.version}: end of support {end}"))
            if past:
                line.append(" — † past, flagged (not refused)", style=urgent)
            else:
                days = (end - datetime.fromtimestamp(d.at, self.tz).date()).days
                line.append(f" ({days} days left)" if days >= 0 else "")
            t.add_row("Support", line)
        if d.component:
            comp = _t(d.component)
            comp.append(" (managed third-party component)", style=hint)
            if ev.awaiting_vendor:
                comp.append(" · ⏸ awaiting its vendor: resolution paused (vendor)", style=strong)
            t.add_row("Component", comp)
        if ev.type == "incident":
            crit = d.terms.policy.criterion(d.criterion) if d.criterion else None
            line = Text()
            if crit is not None:
                line.append(crit.key, style=strong)
                line.append(f" ({crit.priority}) — {crit.text}")
            else:
                line.append(inert(d.criterion) if d.criterion else "— none recorded", style=hint)
            t.add_row("Criterion", line)
        states = []
        if ev.acknowledged:
            states.append("acknowledged")
        if ev.awaiting:
            states.append("⏸ awaiting subscriber")
        if ev.awaiting_vendor:
            states.append("⏸ awaiting vendor")
        if ev.suspended:
            states.append("⊘ SLA suspended")
        rep = _local(r.reported_at, self.tz)
        if r.aware_at is not None:
            rep += f" (aware {_local(r.aware_at, self.tz)})"
        t.add_row("Reported", Text(rep + ("  · " + ", ".join(states) if states else "")))
        out, back = d.links
        types = d.link_types or {}
        if out or back:
            links = Text()
            for arrow, ids, how in (("→ ", out, "came from"), ("← ", back, "opened from this")):
                if not ids:
                    continue
                if links.cell_len:
                    links.append("  ")
                links.append(arrow, style=strong)
                links.append_text(
                    _t(
                        ", ".join(
                            f"{c} ({TYPE_WORDS.get(types.get(c, ''), types.get(c, '?'))})"
                            for c in sorted(ids)
                        )
                    )
                )
                links.append(f" {how}", style=hint)
            t.add_row("Links", links)
        if ev.type == "change_request":
            from console.rules.lifecycle import CR_PATH, cr_next_steps

            cr = Text()
            path: tuple[str, ...] = CR_PATH
            if d.cr_status == "rejected":  # the steps it took, then rejected
                taken = [
                    e.data.get("status")
                    for e in sorted(d.history, key=lambda e: (e.at, e.id))
                    if e.kind == "cr_status"
                ]
                path = (CR_PATH[0], *[s for s in taken if isinstance(s, str)])
            for i, st in enumerate(path):
                if i:
                    cr.append(" → ", style=hint)
                cr.append(
                    f"[{st}]" if st == d.cr_status else st,
                    style=strong if st == d.cr_status else hint,
                )
            nxt = cr_next_steps(d.cr_status)
            cr.append(f"  · next: {' or '.join(nxt)}" if nxt else "  · final", style=hint)
            if r.konneqt_initiated:
                cr.append("  · Konneqt-initiated", style=hint)
            t.add_row("CR status", cr)
        if d.attachments:
            att = Text()
            for i, a in enumerate(d.attachments):
                if i:
                    att.append("\n")
                att.append(f"#{a.id} ", style=strong)
                att.append_text(_t(a.name))
                att.append(
                    f" · {_size(a.size)} · sha256 {a.sha256[:12]}… · "
                    f"{_local(a.added_at, self.tz, '%Y-%m-%d')}"
                )
                if a.added_by:
                    att.append_text(_t(f" by {a.added_by}"))
            t.add_row("Attachments", att)
        return t

    def _clocks(self, d: CaseData) -> RenderableType:
        table = self._clock_table(d.eval.clocks, d.eval)
        parts: list[RenderableType] = [table]
        for name, st in d.eval.clocks.items():
            # A clock at its target outside covered hours: say when it breaches (policy §3).
            when = breaches_at(d.terms, d.eval, name, st)
            if when is not None:
                parts.append(
                    Text(
                        f"⚠ {name} reached its target {_local(st.due, self.tz, '%a %d %b %H:%M')}"
                        f" as covered hours ended: it breaches "
                        f"{_local(when, self.tz, '%a %d %b %H:%M')}, when counting "
                        "resumes",
                        style=self._style("strong"),
                    )
                )
        if d.without_late is not None:
            # Policy §14: a case with late entries shows its clocks with and without them.
            parts += [
                Text(
                    "Without the late entries (as before they were recorded):",
                    style=self._style("aside"),
                ),
                self._clock_table(d.without_late.clocks, d.without_late, dues=False),
            ]
        return parts[0] if len(parts) == 1 else Group(*parts)

    def _clock_table(
        self, clocks: Mapping[str, ClockState], ev: CaseEval | None = None, *, dues: bool = True
    ) -> Table:
        """Every clock: state, counted/target, left, due. Below ``NARROW`` cells (60×20
        over SSH) the columns shorten so that each clock stays on one readable line."""
        narrow = (self.size.width or 80) < NARROW
        t = Table(
            box=None,
            padding=(0, 1, 0, 0) if narrow else (0, 1),
            show_edge=False,
            header_style=self._style("strong"),
            expand=False,
        )
        heads: tuple[tuple[str, dict[str, Any]], ...]
        if narrow:  # the time left and the target; counted = target - left
            heads = (
                ("CLOCK", {}),
                ("STATE", {}),
                ("LEFT", {"justify": "right"}),
                ("TARGET", {"justify": "right"}),
                ("DUE", {}),
            )
        else:
            heads = (
                ("CLOCK", {}),
                ("STATE", {}),
                ("COUNTED/TARGET", {"justify": "right"}),
                ("LEFT", {"justify": "right"}),
                ("DUE (local)", {}),
            )
        for name, kw in heads:
            t.add_column(name, no_wrap=True, **kw)
        if not clocks:
            t.add_row("(no clocks)", "", "", "", "")
        from console.rules.clocks import paused_for
        from console.text import STATE_MARK, state_label

        for name, st in clocks.items():
            style = self._style("urgent") if st.breached else Style()
            mark = "! " if st.breached else "  "
            best = "best eff." if narrow else "best efforts"
            target = hm(st.target) if st.target is not None else best
            left = hm(st.remaining) if st.target is not None else "—"
            if st.breached:
                left += "" if narrow else " BREACHED"
            fmt = "%d %b %H:%M" if narrow else "%a %d %b %H:%M"
            due = _local(st.due, self.tz, fmt) if st.due and dues else ""
            label = state_label(st.state, paused_for(ev, name) if ev is not None else None)
            if narrow:
                label = (STATE_MARK.get(st.state, "") + label).replace("paused (vendor)", "vendor")
            if narrow:
                mark = "!" if st.breached else " "
                t.add_row(
                    Text(mark + name, style=style), label, Text(left, style=style), target, due
                )
                continue
            t.add_row(
                Text(mark + name, style=style),
                label,
                f"{hm(st.elapsed)} / {target}",
                Text(left, style=style),
                due,
            )
        return t

    def _history(self, d: CaseData) -> Table:
        strong = self._style("strong")
        late = d.late or {}
        t = Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style=strong,
            title="History",
            title_justify="left",
            title_style=strong,
            expand=True,
        )
        t.add_column("WHEN (local)", no_wrap=True)
        t.add_column("EVENT", no_wrap=True)
        t.add_column("BY", no_wrap=True)
        t.add_column("DETAILS", ratio=1, overflow="fold")
        t.add_row(_local(d.row.reported_at, self.tz, "%d %b %H:%M"), "reported", "", "")
        for e in d.history:
            details = Text(event_details(e.kind, dict(e.data), by=e.by, tz=self.tz))
            kind = Text(event_label(e.kind))
            if e.id in late:
                cleared = ", ".join(late[e.id]) or "no breach"
                kind = Text.assemble(kind, (" LATE", self._style("tag")))
                details = Text.assemble(
                    (
                        f"recorded {_local(e.recorded_at, self.tz, '%d %b %H:%M')}, cleared "
                        f"{cleared}; ",
                        strong,
                    ),
                    details,
                )
            t.add_row(_local(e.at, self.tz, "%d %b %H:%M"), kind, _t(e.by or ""), details)
        return t

    def _say(self, message: str, *, error: bool = False) -> None:
        text = notice_text(message, error=error)
        self.notice = text
        self.query_one("#case-notice", Static).update(text)

    # -- actions ---------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_event(self, kind: str, data: dict[str, Any] | None = None) -> None:
        self.record(kind, data or {})

    def action_finish(self, kind: str) -> None:
        """``R``/``C``: resolve or close after a confirmation, with an optional note for the
        history (Enter records, Esc or ctrl+g writes nothing)."""
        from screens.prompts import TextPrompt

        verb = "Resolve" if kind == "resolved" else "Close"

        def done(note: str | None) -> None:
            if note is not None:
                self.record(kind, {"note": note or None})

        self.app.push_screen(
            TextPrompt(
                f"{verb} case {self.case_id}?",
                ok=verb.lower(),
                hint="a note for the history (optional)",
                placeholder="optional note",
            ),
            done,
        )

    def action_fix_eta(self) -> None:
        """``f``: the fix ETA agreed with the subscriber, in the operator's zone; it is kept
        in the event and shown in the history."""
        from datetime import timedelta

        from console.rules.timeutil import format_instant
        from screens.prompts import TextPrompt
        from screens.when import LOCAL, BadTime, parse_local

        now = self._now()
        tomorrow = (datetime.fromtimestamp(now, self.tz) + timedelta(days=1)).replace(
            hour=17, minute=0
        )

        def check(text: str) -> str | None:
            try:
                when = parse_local(text, self.tz, self._now(), what="the ETA")
            except BadTime as exc:
                return str(exc)
            if when < self._now():
                return "the ETA lies in the past: when will the fix be delivered?"
            return None

        def done(text: str | None) -> None:
            if text:
                when = parse_local(text, self.tz, self._now())
                self.record("fix_eta_agreed", {"eta": format_instant(when)})

        self.app.push_screen(
            TextPrompt(
                f"Fix ETA agreed for {self.case_id}: when is the fix due? (your zone, "
                "YYYY-MM-DD HH:MM)",
                value=tomorrow.strftime(LOCAL),
                required="the ETA is needed",
                ok="record",
                check=check,
            ),
            done,
        )

    # -- assignment (policy §10) ------------------------------------------------------------

    def action_take(self) -> None:
        """``T``: assign the case to me; one held by someone else asks first."""
        held = self.data.assignee if self.data is not None else None
        if held == self.user:
            self._say(f"{self.case_id} is already assigned to you", error=True)
            return
        if held is None:
            self.record("assigned", {"to": self.user})
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.record("assigned", {"to": self.user})

        self.app.push_screen(
            ConfirmPrompt(f"{self.case_id} is assigned to {held}: take it over?", yes="take it"),
            done,
        )

    def action_hand_over(self) -> None:
        """``H``: hand the case over to another engineer (their login; empty: unassign)."""
        self._hand_over_prompt()

    @work(
        thread=True,
        exclusive=True,
        group="case-read-names",
        exit_on_error=False,
        name="reading the engineers",
    )
    def _hand_over_prompt(self) -> None:
        try:
            names = engineer_names(self.store)
        except Exception as exc:  # the database went away: refuse in words, write nothing
            self.post_message(self.Said(refusal_text(fault_text(exc)), error=True))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.EngineersRead(names))

    @on(EngineersRead)
    def _ask_hand_over(self, message: EngineersRead) -> None:
        from screens.prompts import TextPrompt

        names = message.names
        held = self.data.assignee if self.data is not None else None
        others = [n for n in names if n != held]

        def done(name: str | None) -> None:
            if name is None:
                return
            if not name:
                if held is None:
                    self._say(f"{self.case_id} is assigned to nobody already", error=True)
                    return
                self.record("assigned", {})
                return
            self.record("assigned", {"to": name})

        now = f"now {held}" if held else "now nobody"
        hint = "engineers: " + ", ".join(inert(n) for n in others[:12]) if others else ""
        if len(others) > 12:
            hint += f" … ({len(others)})"
        self.app.push_screen(
            TextPrompt(
                f"Hand {self.case_id} over to ({now}; a login name, empty: unassign)",
                ok="hand over",
                hint=hint,
                placeholder="login name",
            ),
            done,
        )

    def action_awaiting(self) -> None:
        from screens.prompts import TextPrompt

        def done(note: str | None) -> None:
            if note is not None:
                self.record("awaiting_subscriber", {"note": note or None})

        self.app.push_screen(
            TextPrompt("Awaiting the subscriber: what is needed? (optional)"), done
        )

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

            from console.rules.lifecycle import link_problem

            self.app.push_screen(
                TextPrompt(
                    "L4: the link to the product update or documentation fix (https://…)",
                    required="a link is needed (http:// or https://)",
                    check=link_problem,
                    ok="move to L4",
                    placeholder="https://",
                ),
                linked,
            )

        current = self.data.eval.level if self.data else "L1"
        self.app.push_screen(LevelPrompt(current), chosen)

    def action_apply_again(self) -> None:
        """Re-record the action a stale-version refusal kept, against the reloaded case."""
        if self.pending_retry is None:
            self._say("nothing to apply again")
            return
        kind, data = self.pending_retry
        self.pending_retry = None
        self.refresh_bindings()
        self.record(kind, data)

    def action_reclassify(self) -> None:
        from screens.wizard import open_reclassify_wizard

        open_reclassify_wizard(self.console_app, self.case_id)

    def action_suspend_sla(self) -> None:
        suspend_case(self)

    def action_lift_sla(self) -> None:
        lift_case(self)

    # -- governance: the "more" menu (policy §5, attachments) ------------------------------

    def action_more(self) -> None:
        from screens.governance_prompts import ChoiceMenu

        if self.data is None:
            return
        ctype = self.data.eval.type
        choices: list[tuple[str, str, str, str]] = []
        for key, aid, label, needs in MORE:
            note = more_note(self.data, aid, needs)
            choices.append((key, aid, label, note))

        more: dict[str, Callable[[], None]] = {
            "change_request": self.more_change_request,
            "confirm_vulnerability": self.more_confirm_vulnerability,
            "cr_status": self.more_cr_status,
            "awaiting_vendor": self.more_awaiting_vendor,
            "vendor_responded": self.more_vendor_responded,
            "attach": self.more_attach,
        }

        def chosen(aid: str | None) -> None:
            if aid:
                more[aid]()

        self.app.push_screen(
            ChoiceMenu(f"More on {self.case_id} ({TYPE_WORDS.get(ctype, ctype)})", choices), chosen
        )

    def more_change_request(self) -> None:
        from screens.prompts import TextPrompt

        def done(title: str | None) -> None:
            if title:
                self.governance("change_request", {"title": title})

        title = " ".join(self.data.row.title.split()) if self.data else ""
        self.app.push_screen(
            TextPrompt(
                f"Change request from {self.case_id}: its title", value=inert(title), required=True
            ),
            done,
        )

    def more_confirm_vulnerability(self) -> None:
        from screens.governance_prompts import ChoiceMenu
        from screens.prompts import TextPrompt
        from screens.wizard import PRIORITY_LABELS

        # The policy's own names, as the wizard shows them (policy §9).
        prios = [
            (
                p[1],
                p,
                PRIORITY_LABELS[p]
                + (" (managed deployments, enterprise plan)" if p == "P0" else ""),
                "",
            )
            for p in ("P0", "P1", "P2", "P3")
        ]
        sra_title = " ".join(self.data.row.title.split()) if self.data else ""

        def titled(priority: str, title: str | None) -> None:
            if title:
                self.governance("confirm_vulnerability", {"priority": priority, "title": title})

        def chosen(priority: str | None) -> None:
            if priority:
                self.app.push_screen(
                    TextPrompt(
                        f"Confirm the vulnerability: title of the {priority} incident",
                        value=inert(f"Confirmed vulnerability: {sra_title}"),
                        required=True,
                    ),
                    lambda t: titled(priority, t),
                )

        self.app.push_screen(
            ChoiceMenu(
                f"Confirm the vulnerability of {self.case_id}: the incident's priority",
                prios,
                current="P2",
            ),
            chosen,
        )

    def more_cr_status(self) -> None:
        from console.rules.lifecycle import cr_next_steps
        from screens.governance_prompts import ChoiceMenu

        if self.data is None:
            return
        now = self.data.cr_status
        later = cr_next_steps(now)  # one step at a time (policy §5)
        if not later:
            self._say(
                f"change request {self.case_id} is {now} (final): nothing follows", error=True
            )
            return
        choices = [(str(i + 1), st, st, "") for i, st in enumerate(later)]

        def chosen(status: str | None) -> None:
            if status:
                self.record("cr_status", {"status": status})

        self.app.push_screen(
            ChoiceMenu(f"Change request {self.case_id} is {now}: move it to", choices),
            chosen,
        )

    def more_awaiting_vendor(self) -> None:
        from screens.prompts import TextPrompt

        def done(note: str | None) -> None:
            if note is not None:
                self.record("awaiting_vendor", {"note": note or None})

        comp = self.data.component if self.data else None
        self.app.push_screen(
            TextPrompt(
                f"Awaiting the vendor of {inert(comp or '?')}: what was asked of it? (optional)"
            ),
            done,
        )

    def more_vendor_responded(self) -> None:
        self.record("vendor_responded", {})

    def more_attach(self) -> None:
        from screens.prompts import TextPrompt

        def done(path: str | None) -> None:
            if path:
                self.governance("attach", {"path": path})

        self.app.push_screen(
            TextPrompt(
                "Attach a file: its path (name, size and sha256 are "
                "recorded; the file is not copied)",
                required=True,
            ),
            done,
        )

    # Writes are not exclusive: every one's result is said.
    @work(thread=True, group="case-write", exit_on_error=False, name="recording")
    def governance(self, what: str, args: dict[str, Any]) -> None:
        """Create a linked case or attach a file through the engine (as the CLI does)."""
        from console.actions import Refused

        now = self._now()
        new: str | None = None
        try:
            if what == "change_request":
                from console.links import create_change_request

                new = create_change_request(
                    self.store,
                    sr_id=self.case_id,
                    title=args["title"],
                    at=now,
                    by=self.user,
                    recorded_at=now,
                )
                message = f"change request {new} opened, linked to {self.case_id}"
            elif what == "confirm_vulnerability":
                from console.links import confirm_vulnerability

                res = confirm_vulnerability(
                    self.store,
                    self.case_id,
                    priority=args["priority"],
                    title=args["title"],
                    at=now,
                    by=self.user,
                    recorded_at=now,
                    actor=self.user,
                )
                new = res.incident_id
                message = (
                    f"vulnerability confirmed: incident {new} ({args['priority']}) "
                    f"opened, linked to {self.case_id}"
                )
            else:
                from console.attachments import add_attachment

                info = add_attachment(self.store, self.case_id, args["path"], by=self.user, at=now)
                message = f"attached {info.name} (#{info.id}, {_size(info.size)})"
        except Refused as exc:
            self.post_message(self.Said(refusal_text(exc), error=True))
            return
        except Exception as exc:
            self.post_message(self.Said(failed_text(self.app, exc), error=True))
            return
        try:
            data_now = load_case(self.store, self.policy, self.case_id, self._now())
        except Exception as exc:  # written, but the database went away just after
            self.post_message(
                self.Said(f"{message}; cannot read the case again: {fault_text(exc)}", error=False)
            )
            return
        self.post_message(
            self.Recorded(
                data_now,
                message,
                tuple(cid for cid in (self.case_id, new) if cid is not None),
                offer=new if what == "confirm_vulnerability" else None,
            )
        )

    def _offer_open(self, case_id: str) -> None:
        def done(ok: bool | None) -> None:
            if ok:
                self.console_app.open_case(case_id)

        self.app.push_screen(
            ConfirmPrompt(
                f"Incident {case_id} opened, linked to {self.case_id}. Open it now?", yes="open it"
            ),
            done,
        )

    @work(thread=True, group="case-write", exit_on_error=False, name="recording")
    def record(self, kind: str, data: dict[str, Any], *, said: str | None = None) -> None:
        """Record one event through the engine as the operator; ``said``: the words for it
        done (else ``done_text``)."""
        from console.actions import Conflict, Refused, append_event

        now = self._now()
        version = self.data.row.version if self.data is not None else None
        try:
            append_event(
                self.store,
                self.case_id,
                kind,
                at=now,
                by=self.user,
                data=data,
                recorded_at=now,
                expected_version=version,
                actor=self.user,
            )
        except Conflict as exc:
            kept = " (your input is kept)" if data else ""
            self.post_message(
                self.Stale(
                    kind,
                    data,
                    f"nothing written: {exc}. Press A to apply your {event_label(kind)}{kept} "
                    "again.",
                )
            )
            return
        except Refused as exc:
            self.post_message(self.Said(refusal_text(exc), error=True))
            return
        except Exception as exc:
            self.post_message(self.Said(failed_text(self.app, exc), error=True))
            return
        words = said or done_text(kind, data, user=self.user)
        try:
            data_now = load_case(self.store, self.policy, self.case_id, self._now())
        except Exception as exc:  # written, but the database went away just after
            self.post_message(
                self.Said(f"{words}; cannot read the case again: {fault_text(exc)}", error=False)
            )
            return
        self.post_message(self.Recorded(data_now, words, (self.case_id,), to_new_entry=True))
