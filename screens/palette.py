"""Command-palette provider: jump to a case or a subscriber by id or name (ctrl+p).

A jump replaces the case or subscriber view on top instead of stacking another one, so
Esc or ``q`` goes back to where the operator was before (not through every jump).

Searches the app's in-memory queue (listed cases) and subscriber list, so a keystroke
costs a scan of plain strings, not a database query. An exact case id that is not listed
(a closed case) is still offered: the case view reads it from the database.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.queue_rows import QueueRow
from console.text import inert
from screens.pane import QueueHost
from screens.subscriber_view import open_subscriber

MAX_HITS = 25


def _open_case(app: QueueHost, case_id: str) -> None:
    """A case from the palette: it replaces a case or subscriber view on top."""
    from screens.subscriber_view import SubscriberView

    if isinstance(app, App) and isinstance(app.screen, SubscriberView):
        app.pop_screen()
    app.open_case(case_id, replace=True)


class JumpProvider(Provider):
    """Cases and subscribers."""

    def _sources(self) -> tuple[list[QueueRow], dict[str, str]]:
        app = self.app
        if not isinstance(app, QueueHost):
            return [], {}
        return app.queue_items(), app.subscriber_names

    async def discover(self) -> Hits:
        app = self.app
        for sid, name in list(self._sources()[1].items())[:10]:
            yield DiscoveryHit(
                Text(f"subscriber {inert(sid)} · {inert(name)}"),
                partial(open_subscriber, app, sid, replace=True),
                help="open the subscriber's view",
            )

    async def search(self, query: str) -> Hits:
        app = self.app
        q = query.strip().lower()
        if not q or not isinstance(app, QueueHost):
            return
        items, subs = self._sources()
        n = 0
        matcher = self.matcher(query)
        for sid, name in subs.items():
            if q in sid.lower() or q in name.lower():
                label = f"subscriber {inert(sid)} · {inert(name)}"
                score = 1.0 if q == sid.lower() else max(matcher.match(label), 0.5)
                yield Hit(
                    score,
                    Text(label),
                    partial(open_subscriber, app, sid, replace=True),
                    text=label,
                    help="open the subscriber's view (c there: its cases in the queue)",
                )
                n += 1
                if n >= MAX_HITS:
                    return
        exact = False
        for it in items:
            cid = it.id.lower()
            if q in cid or q in it.title.lower():
                exact = exact or cid == q
                label = f"case {inert(it.id)} · {inert(it.subscriber)} · {inert(' '.join(it.title.split()))}"
                score = 1.0 if cid == q else (0.9 if cid.startswith(q) else 0.6)
                yield Hit(
                    score,
                    Text(label),
                    partial(_open_case, app, it.id),
                    text=label,
                    help="open the case",
                )
                n += 1
                if n >= MAX_HITS:
                    return
        if not exact and len(q) >= 3:
            label = f"open case {inert(query.strip())}"
            yield Hit(
                0.3,
                Text(label),
                partial(_open_case, app, query.strip()),
                text=label,
                help="by id, also closed cases",
            )
