"""The data-retention pane (policy §11), key 4: what is due for purge now and what
becomes due in the next 30 days, grouped by subscriber, and the purge itself.

The lists are the engine's dry run (``console.retention.plan``) at the console's clock,
and the same plan 30 days ahead minus what is due now. Only ids are shown (support-user
ids, attachment ids and their cases), never names, e-mail addresses or file names.

``P`` runs the purge after a ``y``: ``console.retention.purge`` with the operator as
actor, so the engine checks the lead role; an engineer sees the refusal and nothing is
written (the pane asks the engine's ``require`` first, so the refusal comes before the
question). After a purge the pane shows the audit entry it recorded (counts and ids).
Every pane may see the list; only leads purge.

Symbols read without colour: ``●`` due now, ``○`` due within 30 days.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from console.errors import fault_text
from console.rules.retention import AHEAD_DAYS, DAY
from console.text import inert
from screens.notice import notice_text
from screens.pane import ActionDone, Pane
from screens.words import refusal_text

if TYPE_CHECKING:  # the database layer is imported after the first screen (screens.app)
    from console.retention import PurgeResult
    from console.rules.retention import Due
    from console.store.engine import Store
    from console.views.purge import PurgeAuditEntry, PurgeData

LEGEND = "● due now  ○ due within 30 days  · ids only, never PII · P purge (leads)"


def _day(ts: int | None, tz: tzinfo) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d")


def _ids(kind: str, dues: list[Due]) -> str:
    if kind == "user":
        return ", ".join(inert(str(d.id)) for d in dues)
    return ", ".join(f"#{d.id} ({inert(d.case_id or '')})" for d in dues)


def audit_text(audit: PurgeAuditEntry, tz: tzinfo) -> Text:
    """One purge's audit entry: counts and ids, never PII."""
    c, ids = audit.counts, audit.ids
    t = Text()
    t.append(f"Purge audit #{audit.id}", style="bold")
    t.append(
        f" · {datetime.fromtimestamp(audit.at, tz).strftime('%Y-%m-%d %H:%M %Z')}"
        f" by {inert(audit.by or 'system')}: removed {c.get('user_pii', 0)} support "
        f"user(s) (PII and accounts), {c.get('attachments', 0)} attachment(s)"
    )
    for key, label in (
        ("users", "users"),
        ("attachments", "attachments"),
        ("cases_touched", "cases touched"),
    ):
        vals = ids.get(key) or []
        shown = ", ".join(("#" if key == "attachments" else "") + inert(str(v)) for v in vals[:12])
        more = f" and {len(vals) - 12} more" if len(vals) > 12 else ""
        t.append(f"\n  {label}: {shown or 'none'}{more}")
    return t


class PurgePane(Pane["PurgeData"]):
    what = "the purge plan"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "P",
            "purge",
            "Purge",
            tooltip="Purge what is due now, after a y (leads; one transaction, audited).",
        ),
        Binding("r", "reload", "Reload", tooltip="Read the purge plan again."),
    ]

    class Purged(Message):
        """The purge was recorded: its audit entry, the pane's data read after it, what
        the purge did (files removed, problems)."""

        def __init__(
            self, audit: PurgeAuditEntry | None, data: PurgeData, res: PurgeResult
        ) -> None:
            super().__init__()
            self.audit, self.data, self.res = audit, data, res

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(tz=tz, id=id)
        self.notice = Content("")
        self.audit: PurgeAuditEntry | None = None  # the audit of a purge run from here

    def compose(self) -> ComposeResult:
        yield Static(id="purge-status", markup=False)
        with VerticalScroll(id="purge-body"):
            yield Static(id="purge-list", markup=False)
        yield Static(id="purge-audit", markup=False)
        yield Static(id="purge-notice", markup=False)

    # -- data ------------------------------------------------------------------------------

    def on_show(self) -> None:
        self.query_one("#purge-body").focus()
        self.refresh_data()

    def reads_now(self) -> bool:
        return self.display

    def on_time(self, now: int) -> None:
        """What is due changes by the day: re-read at a day boundary."""
        if (
            self.data is not None
            and datetime.fromtimestamp(now, self.tz).date()
            != datetime.fromtimestamp(self.data.at, self.tz).date()
        ):
            self.refresh_data()

    def load(self, store: Store, now: int, user: str) -> PurgeData:
        from console.views.purge import purge_data

        return purge_data(store, now, user)

    def show_data(self, data: PurgeData) -> None:
        self.query_one("#purge-list", Static).update(self._list(data))
        self.show_status()

    def show_status(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        d = self.data
        if self.error:
            line.append("✖ " + self.error, style=self.style_of("alarm"))
        else:
            line.append("Data retention", style="bold")
            if d is not None:
                line.append(f" {_day(d.at, self.tz)}")
                n = len(d.now.users) + len(d.now.attachments)
                line.append(" │ ")
                line.append(
                    f"● now: {len(d.now.users)} user(s), {len(d.now.attachments)} attachment(s)",
                    style=self.style_of("alarm") if n else "",
                )
                line.append(f" │ ○ {len(d.soon)} in {AHEAD_DAYS} d")
                if (self.size.width or 80) >= 100:
                    line.append(f"  │ you: {d.role}", style="dim")
            if self.reading:
                line.append("  │ loading…", style="italic")
        self.query_one("#purge-status", Static).update(line)
        audit = self.audit or (d.last_audit if d is not None else None)
        box = self.query_one("#purge-audit", Static)
        if audit is not None:
            text = Text("Last purge: ", style="bold") if self.audit is None else Text()
            text.append_text(audit_text(audit, self.tz))
            text.append("\n")
            text.append(LEGEND, style="dim")
            box.update(text)
        else:
            box.update(Text("No purge recorded yet.\n", style="dim") + Text(LEGEND, style="dim"))
        self.query_one("#purge-notice", Static).update(self.notice)

    def _list(self, d: PurgeData) -> Group | Text:
        groups: dict[str, list[tuple[bool, str, Due]]] = {}
        for kind, items in (("user", d.now.users), ("attachment", d.now.attachments)):
            for due in items:
                groups.setdefault(due.subscriber, []).append((True, kind, due))
        for kind, due in d.soon:
            groups.setdefault(due.subscriber, []).append((False, kind, due))
        if not groups:
            return Text(
                f"Nothing is due for purge now, nor within {AHEAD_DAYS} days.", style="italic"
            )
        parts: list[RenderableType] = []
        for sub in sorted(groups, key=lambda s: (not any(n for n, _, _ in groups[s]), s)):
            head = Text(no_wrap=True, overflow="ellipsis")
            head.append(inert(sub), style="bold underline")
            head.append(f"  {inert(d.names.get(sub, ''))}")
            term = d.terminated.get(sub)
            if term is not None:
                head.append(f" · terminated {_day(term, self.tz)}", style="dim")
            parts.append(head)
            t = Table(box=None, padding=(0, 1), show_edge=False, show_header=False, expand=True)
            t.add_column(no_wrap=True, width=9)
            t.add_column(no_wrap=True, width=14)
            t.add_column(no_wrap=True, width=17)
            t.add_column(ratio=1, overflow="fold")
            # One row per (now/soon, kind, due day, reason): ids of the same day together.
            rows: dict[tuple[bool, str, str, str], list[Due]] = {}
            for now, kind, due in groups[sub]:
                key = (not now, kind, _day(due.due, self.tz), due.reason)
                rows.setdefault(key, []).append(due)
            for (soon, kind, day, reason), dues in sorted(rows.items()):
                if soon:
                    days = max(1, (dues[0].due - d.at) // DAY)
                    when = Text(f"○ in {days} d", style=self.style_of("caution"))
                else:
                    when = Text("● now", style=self.style_of("alarm"))
                what = (
                    f"{len(dues)} support user(s)"
                    if kind == "user"
                    else f"{len(dues)} attachment(s)"
                )
                why = "PII+account" if kind == "user" else reason
                t.add_row(
                    when, Text(f"due {day}"), Text(what), Text(f"{_ids(kind, dues)}  ({why})")
                )
            parts.append(t)
        return Group(*parts)

    def say(self, message: str, *, error: bool = False) -> None:
        text = notice_text(message, error=error)
        self.notice = text
        self.query_one("#purge-notice", Static).update(text)

    # -- actions -----------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.refresh_data()

    def action_purge(self) -> None:
        from screens.suspend_prompt import ConfirmPrompt, refusal

        host, app = self.host, self.app
        if host is None or host.store is None or self.data is None:
            offline = host.offline if host is not None else None  # never read: say why
            self.say(
                f"the purge plan cannot be read: {offline}; nothing written"
                if offline
                else "the purge plan is still loading",
                error=True,
            )
            return
        why = refusal(host.store, self.user, "purge", self.app)
        if why is not None:
            self.say(refusal_text(why), error=True)
            return
        d = self.data
        if d.now.empty:
            self.say("nothing is due for purge now; nothing written")
            return

        def done(ok: bool | None) -> None:
            if ok:
                self._purge()

        app.push_screen(
            ConfirmPrompt(
                f"Purge now: {len(d.now.users)} support user(s) (PII and accounts) and "
                f"{len(d.now.attachments)} attachment record(s), in one transaction? "
                "This cannot be undone.",
                yes="purge",
            ),
            done,
        )

    @work(thread=True, exclusive=True, group="purge-write", exit_on_error=False)
    def _purge(self) -> None:
        from console import clock
        from console.actions import Refused
        from console.retention import purge

        host = self.host
        if host is None or host.store is None:
            return
        now = clock.now()
        try:
            res = purge(host.store, now, actor=self.user, recorded_at=now)
        except Refused as exc:
            self.post_message(ActionDone(refusal_text(exc), error=True))
            return
        except Exception as exc:
            self.post_message(ActionDone(f"not purged: {fault_text(exc)}", error=True))
            return
        from console.views.purge import purge_audit, purge_data

        audit = purge_audit(host.store, res.audit_id)
        data = purge_data(host.store, clock.now(), self.user)
        self.post_message(self.Purged(audit, data, res))

    def on_purge_pane_purged(self, message: Purged) -> None:
        message.stop()
        self._purged(message.audit, message.data, message.res)

    def _purged(self, audit: PurgeAuditEntry | None, data: PurgeData, res: PurgeResult) -> None:
        self.audit = audit
        files = f"; {len(res.paths)} attachment file(s) removed" if res.paths else ""
        later = f" ({'; '.join(res.problems)})" if res.problems else ""
        number = audit.id if audit is not None else res.audit_id
        self.say(f"purged: audit #{number} recorded{files}{later}", error=bool(res.problems))
        self.data, self.error, self.reading = data, None, False
        self.show_data(data)
