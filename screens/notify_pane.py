"""The notifications pane, key 6: what the desk pages, and what did not get through.

At the top, the messages given up after their last try (newest first: when, to which
receiver, what, how many tries and the last reason), the ones still waiting, then the
receivers with their URLs masked (apprise's privacy rendering; the full URL is for leads
and the CLI's ``notify list --reveal``) and what each receives. ``R`` queues every failed
message again (leads: the engine's ``require`` decides, asked before the question, so an
engineer's refusal comes first and nothing is written). The header counts the failed
messages on every pane (``✉ N failed``).

Titles and errors quote subscribers' text and remote services: shown inert, as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.text import inert
from screens.notice import notice_text
from screens.pane_read import ReadState, read_for_pane
from screens.words import refusal_text

LEGEND = "R retry the failed (leads) · r re-read · receivers: `notify add` (CLI)"
SHOWN_FAILED = 100


@dataclass
class NotifyData:
    at: int
    counts: dict[str, int]
    failed: list[dict[str, Any]]
    receivers: list[Any]  # console.notify.receivers.Receiver
    masked: dict[int, str]
    role: str


def load_notify(store: Any, at: int, user: str | None) -> NotifyData:
    from console.notify.outbox import failed_messages, status_counts
    from console.notify.receivers import load_receivers, mask
    from console.operators import role_of

    with store.connection() as conn:
        counts = status_counts(conn)
        rows = failed_messages(conn, limit=SHOWN_FAILED)
        receivers = load_receivers(conn)
        role = role_of(conn, user)
    failed = [
        {
            "id": r.id,
            "receiver": r.receiver_id,
            "kind": r.kind,
            "created_at": r.created_at,
            "title": r.title,
            "attempts": r.attempts,
            "error": r.last_error or "?",
            "gone": r.receiver_removed_at is not None,
        }
        for r in rows
    ]
    return NotifyData(at, counts, failed, receivers, {r.id: mask(r.url) for r in receivers}, role)


def _when(ts: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%a %d %b %H:%M")


class NotifyPane(ReadState, Vertical):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text("utf-8")

    BINDINGS = [
        Binding("R", "retry", "Retry failed"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.data: NotifyData | None = None
        self.reading = True
        self.error: str | None = None
        self.notice = Text("")

    def compose(self) -> ComposeResult:
        yield Static(id="notify-status", markup=False)
        with VerticalScroll(id="notify-body"):
            yield Static(id="notify-list", markup=False)
        yield Static(LEGEND, id="notify-legend", markup=False)
        yield Static(id="notify-notice", markup=False)

    def on_mount(self) -> None:
        self._show_status()

    def on_show(self) -> None:
        self.query_one("#notify-body").focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        if self.display:
            self._load()

    def tick(self, at: int) -> None:
        if self.display:
            self._load()

    @work(thread=True, exclusive=True, group="notify-read")
    def _load(self) -> None:
        read_for_pane(self, load_notify, "the notifications")

    def show_data(self, data: NotifyData) -> None:
        self.data = data
        self.reading = False
        self.error = None
        self.query_one("#notify-list", Static).update(self._body(data))
        self._show_status()
        set_failed = getattr(self.app, "set_notify_failed", None)
        if set_failed is not None:
            set_failed(data.counts.get("failed", 0))

    def _show_status(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        d = self.data
        if self.error:
            line.append("✖ " + self.error, style="bold red")
        else:
            line.append("Notifications", style="bold")
            if d is not None:
                c = d.counts
                line.append(f" │ {len(d.receivers)} receiver(s)")
                line.append(" │ ")
                line.append(
                    f"✉ {c.get('failed', 0)} failed", style="bold red" if c.get("failed") else ""
                )
                line.append(
                    f" │ {c.get('pending', 0) + c.get('sending', 0)} waiting"
                    f" │ {c.get('sent', 0)} sent"
                )
                if (self.size.width or 80) >= 100:
                    line.append(f"  │ you: {d.role}", style="dim")
            if self.reading:
                line.append("  │ loading…", style="italic")
        self.query_one("#notify-status", Static).update(line)
        self.query_one("#notify-notice", Static).update(self.notice)

    def _body(self, d: NotifyData) -> Group:
        parts: list[Any] = []
        head = Text("Failed: not delivered after the last try", style="bold underline")
        parts.append(head)
        if not d.failed:
            parts.append(Text("  none", style="italic"))
        for f in d.failed:
            t = Text(no_wrap=True, overflow="ellipsis")
            t.append(f"! #{f['id']}", style="bold red")
            t.append(
                f"  {_when(f['created_at'], self.tz)}  to {f['receiver']}"
                f"{' (removed)' if f['gone'] else ''}  {f['kind']}  "
            )
            t.append(inert(f["title"]))
            parts.append(t)
            why = Text(no_wrap=True, overflow="ellipsis", style="dim")
            why.append(f"    {f['attempts']} tries; last: {inert(f['error'])}")
            parts.append(why)
        parts.append(Text(""))
        parts.append(Text("Receivers", style="bold underline"))
        if not d.receivers:
            parts.append(
                Text(
                    "  none: a lead adds one with `support-console notify add URL "
                    "--on escalation,breach`",
                    style="italic",
                )
            )
        from console.notify.receivers import describe

        for r in d.receivers:
            t = Text(no_wrap=True, overflow="ellipsis")
            t.append(f"  {r.id:>3}  ", style="bold")
            t.append(inert(d.masked.get(r.id, "")))
            parts.append(t)
            parts.append(
                Text(f"       {inert(describe(r))}", no_wrap=True, overflow="ellipsis", style="dim")
            )
        return Group(*parts)

    def _say(self, message: str, *, error: bool = False) -> None:
        self.notice = notice_text(message, error=error)
        self.query_one("#notify-notice", Static).update(self.notice)

    # -- actions ---------------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load()

    def action_retry(self) -> None:
        from screens.suspend_prompt import ConfirmPrompt, refusal

        app: Any = self.app
        if getattr(app, "store", None) is None or self.data is None:
            offline = getattr(app, "offline", None)  # never read: say why, not "loading"
            self._say(
                f"the notifications cannot be read: {offline}; nothing written"
                if offline
                else "the notifications are still loading",
                error=True,
            )
            return
        why = refusal(app.store, self._user(), "notify_retry", self.app)
        if why is not None:
            self._say(refusal_text(why), error=True)
            return
        n = self.data.counts.get("failed", 0)
        if not n:
            self._say("no failed message to queue again; nothing written")
            return

        def done(ok: bool | None) -> None:
            if ok:
                self._retry()

        app.push_screen(
            ConfirmPrompt(
                f"Queue the {n} failed message(s) again, their tries counted afresh?",
                yes="queue again",
            ),
            done,
        )

    @work(thread=True, exclusive=True, group="notify-write")
    def _retry(self) -> None:
        from console.notify.outbox import retry_failed
        from console.notify.receivers import ReceiverRefused

        app: Any = self.app
        try:
            n = retry_failed(app.store, None, actor=self._user())
        except ReceiverRefused as exc:
            app.call_from_thread(self._say, refusal_text(exc), error=True)
            return
        except Exception as exc:
            app.call_from_thread(self._say, f"not queued: {exc}", error=True)
            return
        app.call_from_thread(self._say, f"{n} failed message(s) queued again")
        app.call_from_thread(self._load)
