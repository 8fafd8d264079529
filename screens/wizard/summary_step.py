"""The last step: the result, the deciding criterion, the clocks (a new case's due times, or
every clock before and after a reclassification), and the title or reason to record it
with; a new case also asks when it was reported and when Konneqt knew (policy §14)."""

from __future__ import annotations

from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from console.rules.classify import Classification
from console.rules.clocks import ClockState
from console.rules.policy import Policy
from console.text import hm, local_time
from screens.wizard.model import (
    PRIORITY_LABELS,
    TYPE_LABELS,
    Flow,
    chosen_component,
    component_question,
    new_case_clocks,
    reclass_clocks,
)
from screens.wizard.parts import TextBox, Themed, duration, inert_rich


def _box(id_: str, placeholder: str) -> Input:
    box = TextBox(id=id_, compact=True, placeholder=placeholder, select_on_focus=False)
    box.cursor_blink = False
    return box


class SummaryStep(Vertical):
    """The summary (scrolls when long), the two times of a new case, the title or reason."""

    def __init__(self, mode: str, tz: tzinfo) -> None:
        super().__init__(id="summary")
        self.mode = mode
        self.tz = tz

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="wiz-summary-scroll", can_focus=False):
            yield Themed(id="wiz-summary")
        if self.mode == "new":  # policy §14: when reported, when Konneqt knew
            with Horizontal(id="wiz-when"):
                yield Static(Text("Reported at", style="bold"), classes="wiz-when-label")
                yield _box("wiz-reported", "now, or YYYY-MM-DD HH:MM")
                yield Static(Text("Aware at", style="bold"), classes="wiz-when-label")
                yield _box("wiz-aware", "now, or YYYY-MM-DD HH:MM")
        yield Static(id="wiz-text-label", markup=False)
        box = TextBox(id="wiz-text", compact=True, placeholder="type here")
        box.cursor_blink = False
        yield box

    def when(self, now: int) -> tuple[int, int]:
        """(reported_at, aware_at) typed, in the operator's zone; empty is now. Raises
        BadTime with what is wrong (a time in the future included, policy §14)."""
        from screens.when import BadTime, parse_local

        out = []
        for id_, what in (("wiz-reported", "reported at"), ("wiz-aware", "aware at")):
            ts = parse_local(self.query_one(f"#{id_}", Input).value, self.tz, now, what=what)
            if ts > now:
                raise BadTime(
                    f"{what}: {local_time(ts, self.tz, '%a %d %b %H:%M')} lies in the "
                    "future; a case is reported and known by now at the latest"
                )
            out.append(ts)
        return out[0], out[1]

    def enter(self, text: str) -> None:
        """Arrive here: the title or reason typed before, the cursor in its box."""
        box = self.query_one("#wiz-text", Input)
        box.value = text
        box.focus()

    def scroll(self, delta: int) -> None:
        """A long summary scrolls; the title/reason box stays put."""
        self.query_one("#wiz-summary-scroll", VerticalScroll).scroll_relative(
            y=delta * 3, animate=False
        )

    def show(
        self,
        flow: Flow,
        rules: Policy,
        result: Classification | None,
        problem: str | None,
        now: int,
    ) -> None:
        summary = self.query_one("#wiz-summary", Themed)
        if result is None:
            summary.update(Text("choose a type first"))
            return
        error, warning = summary.look("wizard--error"), summary.look("wizard--warning")
        body: list[RenderableType] = []
        head = Text()
        label = TYPE_LABELS.get(result.type, result.type)
        if flow.case is not None:
            cur = flow.case.current
            head.append(f"{TYPE_LABELS.get(cur.type, cur.type)} {cur.priority or ''}".rstrip())
            head.append("  →  ")
        head.append(label, style="bold")
        if result.priority:
            head.append(" " + PRIORITY_LABELS.get(result.priority, result.priority), style="bold")
        body.append(head)
        if result.type == "incident":
            crit = next((c for c in rules.criteria if c.key == result.decided_by), None)
            line = Text("decided by: ")
            if crit is not None:
                line.append(crit.key, style="bold")
                line.append(f" ({crit.priority}) — {crit.text}")
            else:
                line.append("no guideline matched", style="bold")
            body.append(line)
        if component_question(result, flow.state.target):
            comp = chosen_component(result, flow.state)
            line = Text("component: ")
            if comp is not None:
                line.append_text(inert_rich(comp, "bold"))
                line.append(
                    " (managed third-party: awaiting its vendor pauses the resolution clock)"
                )
            else:
                line.append("a supported Konneqt component (no third-party vendor)", style="bold")
            body.append(line)
        for note in result.notes:
            body.append(Text("note: " + note, style=warning))
        if problem:
            body.append(Text("✖ cannot be recorded: " + problem, style=error))
        body.append(Text(""))
        if flow.case is None:
            body.append(self._new_clock_table(flow, result, now, error))
        else:
            body.append(self._reclass_clock_table(flow, result, now, error))
        summary.update(Group(*body))
        label = (
            "Title (required), then enter to open the case:"
            if self.mode == "new"
            else "Reason for the change (required), then enter to record it:"
        )
        self.query_one("#wiz-text-label", Static).update(Text(label, style="bold"))

    def _new_clock_table(
        self, flow: Flow, result: Classification, now: int, error: Style
    ) -> RenderableType:
        from screens.when import BadTime

        target = flow.state.target
        assert target is not None
        try:
            reported, aware = self.when(now)
        except BadTime:
            reported, aware = now, now
        start = min(reported, aware)
        lines = new_case_clocks(
            target, result.type, result.priority, now, reported_at=reported, aware_at=aware
        )
        if not lines:
            return Text(
                f"no clocks: the {target.plan} plan sets no targets for a "
                f"{TYPE_LABELS.get(result.type, result.type)}",
                style="dim",
            )
        since = "now" if start >= now - 59 else "reported"
        t = Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style="bold",
            expand=False,
            title=f"Clocks from {since} ({local_time(start, self.tz, '%a %d %b %H:%M %Z')})",
            title_justify="left",
            title_style="bold",
        )
        t.add_column("CLOCK", no_wrap=True)
        t.add_column("TARGET", no_wrap=True)
        t.add_column("DUE (local)", no_wrap=True)
        t.add_column("", no_wrap=True)
        for ln in lines:
            st = ln.after
            if ln.name == "response":
                due = (
                    local_time(st.due, self.tz, "%a %d %b %H:%M")
                    if st is not None and st.due
                    else (st.state if st is not None else "—")
                )
                if ln.breaches_at_once and st is not None:
                    t.add_row(
                        Text("! " + ln.name, style=error),
                        duration(ln.target),
                        due,
                        Text(f"BREACHED at once ({hm(st.remaining)})", style=error),
                    )
                else:
                    t.add_row(ln.name, duration(ln.target), due, f"running from {since}")
            else:
                due = (
                    local_time(ln.due_if_ack_now, self.tz, "%a %d %b %H:%M")
                    if ln.due_if_ack_now
                    else "—"
                )
                t.add_row(
                    ln.name,
                    duration(ln.target),
                    due,
                    "if acknowledged now" if ln.target is not None else "",
                )
        return t

    def _cell(self, st: ClockState | None, error: Style) -> Text:
        """One clock in one column: its target and state, in about 30 columns."""
        if st is None:
            return Text("— (no such clock)", style="dim")
        if st.target is None:
            return Text(f"best efforts, {st.state}")
        tgt = duration(st.target)
        if st.breached:
            over = f" {hm(st.remaining)}" if st.state == "running" else ""
            return Text(f"{tgt}, {st.state} BREACHED{over}".replace("running ", ""), style=error)
        if st.state == "running":
            return Text(f"{tgt}, due {local_time(st.due, self.tz, '%d %b %H:%M') or '—'}")
        if st.state in ("paused", "suspended"):
            return Text(f"{tgt}, {st.state}, {hm(st.remaining)} left")
        return Text(f"{tgt}, {st.state}")

    def _reclass_clock_table(
        self, flow: Flow, result: Classification, now: int, error: Style
    ) -> RenderableType:
        assert flow.case is not None
        lines = reclass_clocks(flow.case, result.type, result.priority, now)
        t = Table(
            box=None,
            padding=(0, 1),
            show_edge=False,
            header_style="bold",
            expand=False,
            title=f"Clocks at {local_time(now, self.tz, '%a %d %b %H:%M %Z')}",
            title_justify="left",
            title_style="bold",
        )
        t.add_column("CLOCK", no_wrap=True)
        t.add_column("BEFORE", no_wrap=True)
        t.add_column("AFTER", no_wrap=True)
        if not lines:
            t.add_row("(no clocks)", "", "")
        at_once = []
        for ln in lines:
            t.add_row(
                Text(
                    ("! " if ln.breaches_at_once else "  ") + ln.name,
                    style=error if ln.breaches_at_once else "",
                ),
                self._cell(ln.before, error),
                self._cell(ln.after, error),
            )
            if ln.breaches_at_once:
                at_once.append(ln.name)
        out: list[RenderableType] = [t]
        if at_once:
            out.append(
                Text(
                    f"⚠ this breaches at once: {', '.join(at_once)} "
                    "(time already counted is over the new target)",
                    style=error,
                )
            )
        return Group(*out)
