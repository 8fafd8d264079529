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

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from console.text import inert
from screens.notice import notice_text
from screens.pane import ActionDone, Pane
from screens.words import refusal_text

if TYPE_CHECKING:  # the store is imported after the first screen (screens.app)
    from console.store.engine import Store
    from console.views.notify import NotifyData

LEGEND = "R retry the failed (leads) · r re-read · receivers: `notify add` (CLI)"


def _when(ts: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%a %d %b %H:%M")


class NotifyPane(Pane["NotifyData"]):
    class FailedCounted(Message):
        """The failed messages were counted (the header's ``✉ N failed``)."""

        def __init__(self, failed: int) -> None:
            super().__init__()
            self.failed = failed

    what = "the notifications"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "R",
            "retry",
            "Retry failed",
            tooltip="Queue every failed message again, their tries counted afresh (leads).",
        ),
        Binding("r", "reload", "Reload", tooltip="Read the notifications again."),
    ]

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(tz=tz, id=id)
        self.notice = Content("")

    def compose(self) -> ComposeResult:
        yield Static(id="notify-status", markup=False)
        with VerticalScroll(id="notify-body"):
            yield Static(id="notify-list", markup=False)
        yield Static(LEGEND, id="notify-legend", markup=False)
        yield Static(id="notify-notice", markup=False)

    def on_show(self) -> None:
        self.query_one("#notify-body").focus()
        self.refresh_data()

    def reads_now(self) -> bool:
        return self.display

    def on_time(self, now: int) -> None:
        self.refresh_data()

    def load(self, store: Store, now: int, user: str) -> NotifyData:
        from console.views.notify import notify_data

        return notify_data(store, now, user)

    def show_data(self, data: NotifyData) -> None:
        self.query_one("#notify-list", Static).update(self._body(data))
        self.show_status()
        self.post_message(self.FailedCounted(data.counts.get("failed", 0)))

    def show_status(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        d = self.data
        if self.error:
            line.append("✖ " + self.error, style=self.style_of("alarm"))
        else:
            line.append("Notifications", style="bold")
            if d is not None:
                c = d.counts
                line.append(f" │ {len(d.receivers)} receiver(s)")
                line.append(" │ ")
                line.append(
                    f"✉ {c.get('failed', 0)} failed",
                    style=self.style_of("alarm") if c.get("failed") else "",
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
        parts: list[RenderableType] = []
        head = Text("Failed: not delivered after the last try", style="bold underline")
        parts.append(head)
        if not d.failed:
            parts.append(Text("  none", style="italic"))
        for f in d.failed:
            t = Text(no_wrap=True, overflow="ellipsis")
            t.append(f"! #{f.id}", style=self.style_of("alarm"))
            t.append(
                f"  {_when(f.created_at, self.tz)}  to {f.receiver}"
                f"{' (removed)' if f.gone else ''}  {f.kind}  "
            )
            t.append(inert(f.title))
            parts.append(t)
            why = Text(no_wrap=True, overflow="ellipsis", style="dim")
            why.append(f"    {f.attempts} tries; last: {inert(f.error)}")
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

    def say(self, message: str, *, error: bool = False) -> None:
        self.notice = notice_text(message, error=error)
        self.query_one("#notify-notice", Static).update(self.notice)

    # -- actions ---------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.refresh_data()

    def action_retry(self) -> None:
        from screens.suspend_prompt import ConfirmPrompt, refusal

        host, app = self.host, self.app
        if host is None or host.store is None or self.data is None:
            offline = host.offline if host is not None else None  # never read: say why
            self.say(
                f"the notifications cannot be read: {offline}; nothing written"
                if offline
                else "the notifications are still loading",
                error=True,
            )
            return
        why = refusal(host.store, self.user, "notify_retry", self.app)
        if why is not None:
            self.say(refusal_text(why), error=True)
            return
        n = self.data.counts.get("failed", 0)
        if not n:
            self.say("no failed message to queue again; nothing written")
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

    @work(thread=True, exclusive=True, group="notify-write", exit_on_error=False)
    def _retry(self) -> None:
        from console.notify.outbox import retry_failed
        from console.notify.receivers import ReceiverRefused

        host = self.host
        if host is None or host.store is None:
            return
        try:
            n = retry_failed(host.store, None, actor=self.user)
        except ReceiverRefused as exc:
            self.post_message(ActionDone(refusal_text(exc), error=True))
            return
        except Exception as exc:
            self.post_message(ActionDone(f"not queued: {exc}", error=True))
            return
        self.post_message(ActionDone(f"{n} failed message(s) queued again", reread=True))
