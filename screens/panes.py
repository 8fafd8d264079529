"""The panes of the main screen, registered in one place.

Each pane has a number key, an id, a title and a factory. The app composes them in a
ContentSwitcher and binds their keys; adding a pane is one more entry here. A pane is a
``screens.pane.Pane`` (its background read, ``on_time`` when ``ConsoleApp.now`` moves on),
except the queue, which the app reads (see ``screens/pane.py``). The key bar at the bottom
shows the keys of the pane shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from textual.widget import Widget


@dataclass(frozen=True)
class PaneSpec:
    key: str
    id: str
    title: str
    factory: Callable[[tzinfo], Widget]


def _queue(tz: tzinfo) -> Widget:
    from screens.queue_pane import QueuePane

    return QueuePane(tz=tz, id="queue")


def _board(tz: tzinfo) -> Widget:
    from screens.board_pane import BoardPane

    return BoardPane(tz=tz, id="board")


def _meters(tz: tzinfo) -> Widget:
    from screens.meters_pane import MetersPane

    return MetersPane(tz=tz, id="meters")


def _purge(tz: tzinfo) -> Widget:
    from screens.purge_pane import PurgePane

    return PurgePane(tz=tz, id="purge")


def _lifespan(tz: tzinfo) -> Widget:
    from screens.lifespan_pane import LifespanPane

    return LifespanPane(tz=tz, id="lifespan")


def _notify(tz: tzinfo) -> Widget:
    from screens.notify_pane import NotifyPane

    return NotifyPane(tz=tz, id="notify")


PANES: list[PaneSpec] = [
    PaneSpec("1", "queue", "Queue", _queue),
    PaneSpec("2", "board", "Escalations", _board),
    PaneSpec("3", "meters", "Meters", _meters),
    PaneSpec("4", "purge", "Purge", _purge),
    PaneSpec("5", "lifespan", "Lifespan", _lifespan),
    PaneSpec("6", "notify", "Notify", _notify),
]
