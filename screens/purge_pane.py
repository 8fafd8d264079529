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
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.errors import fault_text
from console.text import inert
from screens.notice import notice_text
from screens.pane_read import ReadState, read_for_pane
from screens.words import refusal_text

AHEAD_DAYS = 30
DAY = 86_400
LEGEND = "● due now  ○ due within 30 days  · ids only, never PII · P purge (leads)"


@dataclass
class PurgeData:
    at: int
    now: Any  # console.rules.retention.PurgePlan at ``at``
    soon: list[tuple[str, Any]]  # ("user" | "attachment", Due) due in (at, at + 30 days]
    names: dict[str, str]
    terminated: dict[str, int | None]
    last_audit: dict[str, Any] | None
    role: str


def load_purge(store: Any, at: int, user: str | None) -> PurgeData:
    from sqlalchemy import select

    from console.operators import role_of
    from console.records import subscriber_table
    from console.retention import PA, plan

    with store.connection() as conn:
        now = plan(conn, at)
        ahead = plan(conn, at + AHEAD_DAYS * DAY)
        subs = list(
            conn.execute(
                select(
                    subscriber_table.c.id, subscriber_table.c.name, subscriber_table.c.terminated_at
                )
            )
        )
        last = conn.execute(select(PA).order_by(PA.c.id.desc()).limit(1)).first()
        role = role_of(conn, user)
    due_users = {str(d.id) for d in now.users}
    due_atts = {str(d.id) for d in now.attachments}
    soon = [("user", d) for d in ahead.users if str(d.id) not in due_users]
    soon += [("attachment", d) for d in ahead.attachments if str(d.id) not in due_atts]
    audit = None
    if last is not None:
        audit = {
            "id": last.id,
            "at": last.at,
            "by": last.by,
            "counts": last.counts or {},
            "ids": last.ids or {},
        }
    return PurgeData(
        at,
        now,
        soon,
        {r.id: r.name for r in subs},
        {r.id: r.terminated_at for r in subs},
        audit,
        role,
    )


def _day(ts: int | None, tz: tzinfo) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d")


def _ids(kind: str, dues: list[Any]) -> str:
    if kind == "user":
        return ", ".join(inert(str(d.id)) for d in dues)
    return ", ".join(f"#{d.id} ({inert(d.case_id or '')})" for d in dues)


def audit_text(audit: dict[str, Any], tz: tzinfo) -> Text:
    """One purge's audit entry: counts and ids, never PII."""
    c, ids = audit["counts"], audit["ids"]
    t = Text()
    t.append(f"Purge audit #{audit['id']}", style="bold")
    t.append(
        f" · {datetime.fromtimestamp(audit['at'], tz).strftime('%Y-%m-%d %H:%M %Z')}"
        f" by {inert(audit['by'] or 'system')}: removed {c.get('user_pii', 0)} support "
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


class PurgePane(ReadState, Vertical):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    BINDINGS = [
        Binding("P", "purge", "Purge"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.data: PurgeData | None = None
        self.reading = True
        self.error: str | None = None
        self.notice = Text("")
        self.audit: dict[str, Any] | None = None  # the audit of a purge run from here

    def compose(self) -> ComposeResult:
        yield Static(id="purge-status", markup=False)
        with VerticalScroll(id="purge-body"):
            yield Static(id="purge-list", markup=False)
        yield Static(id="purge-audit", markup=False)
        yield Static(id="purge-notice", markup=False)

    def on_mount(self) -> None:
        self._show_status()

    # -- data ------------------------------------------------------------------------------

    def on_show(self) -> None:
        self.query_one("#purge-body").focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        if self.display:
            self._load()

    def tick(self, at: int) -> None:
        if (
            self.display
            and self.data is not None
            and datetime.fromtimestamp(at, self.tz).date()
            != datetime.fromtimestamp(self.data.at, self.tz).date()
        ):
            self._load()

    @work(thread=True, exclusive=True, group="purge-read")
    def _load(self) -> None:
        read_for_pane(self, load_purge, "the purge plan")

    def show_data(self, data: PurgeData) -> None:
        self.data = data
        self.reading = False
        self.error = None
        self.query_one("#purge-list", Static).update(self._list(data))
        self._show_status()

    def _show_status(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        d = self.data
        if self.error:
            line.append("✖ " + self.error, style="bold red")
        else:
            line.append("Data retention", style="bold")
            if d is not None:
                line.append(f" {_day(d.at, self.tz)}")
                n = len(d.now.users) + len(d.now.attachments)
                line.append(" │ ")
                line.append(
                    f"● now: {len(d.now.users)} user(s), {len(d.now.attachments)} attachment(s)",
                    style="bold red" if n else "",
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
        groups: dict[str, list[tuple[bool, str, Any]]] = {}
        for kind, items in (("user", d.now.users), ("attachment", d.now.attachments)):
            for due in items:
                groups.setdefault(due.subscriber, []).append((True, kind, due))
        for kind, due in d.soon:
            groups.setdefault(due.subscriber, []).append((False, kind, due))
        if not groups:
            return Text(
                f"Nothing is due for purge now, nor within {AHEAD_DAYS} days.", style="italic"
            )
        parts: list[Any] = []
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
            rows: dict[tuple, list[Any]] = {}
            for now, kind, due in groups[sub]:
                key = (not now, kind, _day(due.due, self.tz), due.reason)
                rows.setdefault(key, []).append(due)
            for (soon, kind, day, reason), dues in sorted(rows.items()):
                if soon:
                    days = max(1, (dues[0].due - d.at) // DAY)
                    when = Text(f"○ in {days} d", style="yellow")
                else:
                    when = Text("● now", style="bold red")
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

    def _say(self, message: str, *, error: bool = False) -> None:
        text = notice_text(message, error=error)
        self.notice = text
        self.query_one("#purge-notice", Static).update(text)

    # -- actions -----------------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load()

    def action_purge(self) -> None:
        from screens.suspend_prompt import ConfirmPrompt, refusal

        app: Any = self.app
        if getattr(app, "store", None) is None or self.data is None:
            offline = getattr(app, "offline", None)  # never read: say why, not "loading"
            self._say(
                f"the purge plan cannot be read: {offline}; nothing written"
                if offline
                else "the purge plan is still loading",
                error=True,
            )
            return
        why = refusal(app.store, self._user(), "purge", self.app)
        if why is not None:
            self._say(refusal_text(why), error=True)
            return
        d = self.data
        if d.now.empty:
            self._say("nothing is due for purge now; nothing written")
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

    @work(thread=True, exclusive=True, group="purge-write")
    def _purge(self) -> None:
        from console import clock
        from console.actions import Refused
        from console.retention import PA, purge

        app: Any = self.app
        now = clock.now()
        try:
            res = purge(app.store, now, actor=self._user(), recorded_at=now)
        except Refused as exc:
            app.call_from_thread(self._say, refusal_text(exc), error=True)
            return
        except Exception as exc:
            app.call_from_thread(self._say, f"not purged: {fault_text(exc)}", error=True)
            return
        from sqlalchemy import select

        with app.store.connection() as conn:
            row = conn.execute(select(PA).where(PA.c.id == res.audit_id)).one()
        audit = {
            "id": row.id,
            "at": row.at,
            "by": row.by,
            "counts": row.counts or {},
            "ids": row.ids or {},
        }
        data = load_purge(app.store, clock.now(), self._user())
        app.call_from_thread(self._purged, audit, data, res)

    def _purged(self, audit: dict[str, Any], data: PurgeData, res: Any) -> None:
        self.audit = audit
        files = f"; {len(res.paths)} attachment file(s) removed" if res.paths else ""
        later = f" ({'; '.join(res.problems)})" if res.problems else ""
        self._say(f"purged: audit #{audit['id']} recorded{files}{later}", error=bool(res.problems))
        self.show_data(data)
