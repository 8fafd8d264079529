"""``Pane``: what every pane of the main screen repeats, written once.

A pane shows data read from the database and keeps it current. Subclasses write three
things and inherit the rest:

- ``load(store, now, user) -> DataT``: the read, a ``console.views`` function (it runs in
  a thread: no widget is touched there);
- ``show_data(data)``: draw what was read (the app's thread);
- ``show_status()``: draw the pane's status line from ``self.error`` and ``self.reading``.

and may override ``say(message, error=...)`` (an action's outcome on the pane's notice line),
``on_time(now)`` (a minute passed: re-read at a day boundary, say) and
``reads_now()`` (e.g. a hidden pane does not read). ``what`` names the data in the words
of a failed read ("cannot read the meters: ...").

``refresh_data()`` starts the read: a thread worker on the app (``exclusive=True``: only
the latest read matters, an older one's result is dropped; ``exit_on_error=False``: a
failure never ends the app; group = the pane's id) which waits for the app's first read
to open the store, calls ``load`` (one pane's read at a time, ``_ONE_READ``) and posts ``DataRead`` to the pane; the pane keeps the
data and calls ``show_data``. A read that raises is turned into words by the one handler
for failed workers (``ConsoleApp.on_worker_state_changed``): OFFLINE when the database
went away, and always ``read_failed(message)`` here, said on the pane's status line while
the pane keeps what it showed. ``ConsoleApp.now`` changing calls ``on_time(now)``. A
pane's write runs in a thread worker too (``exit_on_error=False``) and posts ``ActionDone``
(the outcome in words; ``reread``: read again) instead of calling back into the app's thread.

The queue (``screens.queue_pane.QueuePane``) is the one pane not built on ``Pane``: its
read is not one ``load`` after the store opened but the console's start-up itself. A plain
thread, started with the app before it mounts, opens the store (``load_done`` tells the
panes it is open), shows the first screenful (from the forked first-screen process or
``load_queue(top=...)``), then the whole queue; afterwards the change feed replaces only the
cases written (``case_state.rev``), never re-reading 100k rows. So the app reads the queue
and keeps what the reads share (terms, names, ``rev``), and the pane has the same shape
otherwise: the reads post typed messages (``QueueRead``, ``CasesRead``,
``QueueReadFailed``), workers run with ``exit_on_error=False``, and the pane watches
``ConsoleApp.now`` (``QueuePane.on_time``). The live refresh keeps its own one-at-a-time
flag (``ConsoleApp._refreshing``): an ``exclusive`` thread worker cannot be stopped, so it
would read alongside the one it replaced and drop the case ids that one took from the
coalescer.
"""

from __future__ import annotations

import threading
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from rich.style import Style
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, get_current_worker

from console import clock

if TYPE_CHECKING:  # the store is imported after the first screen (screens.app)
    from console.queue_rows import QueueRow
    from console.rules.policy import Policy
    from console.rules.policy_book import PolicyBook
    from console.store.engine import Store

DataT = TypeVar("DataT")

#: The panes read one at a time: their threads share one interpreter with the key presses
#: (several reads at once leave a key a fraction of it) and their passing memory adds up
#: (the board's read of thousands of escalated incidents beside the meters').
_ONE_READ = threading.Lock()


@runtime_checkable
class PaneHost(Protocol):
    """What a pane needs of its app (``screens.app.ConsoleApp``), typed without importing
    it (the app imports the panes)."""

    store: Store | None
    policy: Policy | PolicyBook | None
    user: str
    load_done: threading.Event
    offline: str | None


@runtime_checkable
class QueueHost(Protocol):
    """The app's queue and names (the lifespan pane counts the open cases; the palette
    searches them) and opening a case."""

    subscriber_names: dict[str, str]

    def queue_items(self) -> list[QueueRow]: ...

    def open_case(self, case_id: str, *, replace: bool = False) -> None: ...


class DataRead(Message, Generic[DataT]):
    """A pane's background read finished: ``data`` is what ``load`` returned."""

    def __init__(self, data: DataT) -> None:
        super().__init__()
        self.data = data


class ReadRefused(Message):
    """A pane's read could not start (no store): ``why`` for the status line."""

    def __init__(self, why: str) -> None:
        super().__init__()
        self.why = why


class ActionDone(Message):
    """A pane's write (a thread worker) finished: its outcome in words for the pane's notice
    line, and whether the pane re-reads its data (something was written)."""

    def __init__(self, notice: str, *, error: bool = False, reread: bool = False) -> None:
        super().__init__()
        self.notice = notice
        self.error = error
        self.reread = reread


class Pane(Widget, Generic[DataT]):
    """A pane reading its data in the background (see the module docstring)."""

    #: The theme's colours for text a pane builds in code (``style_of("alarm")``), styled in
    #: ``pane.tcss``: ``alarm`` (over a limit, a failure: bold ``$error``), ``error``,
    #: ``warning`` (bold ``$warning``), ``caution`` (``$warning``), ``ok`` (``$success``).
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pane--alarm",
        "pane--error",
        "pane--warning",
        "pane--caution",
        "pane--ok",
    }

    #: The data in words, for a failed read: "cannot read {what}: why".
    what: ClassVar[str] = "the data"

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.data: DataT | None = None
        self.reading = True  # no read has finished yet
        self.error: str | None = None  # the last read's failure, said on the status line

    # -- what subclasses write ---------------------------------------------------------

    def load(self, store: Store, now: int, user: str) -> DataT:
        """Read the pane's data (in a worker thread)."""
        raise NotImplementedError

    def show_data(self, data: DataT) -> None:
        """Draw ``data`` (on the app's thread)."""
        raise NotImplementedError

    def show_status(self) -> None:
        """Draw the status line from ``error`` and ``reading``."""
        raise NotImplementedError

    def say(self, message: str, *, error: bool = False) -> None:
        """Show an action's outcome (by default a notification; a pane with a notice line
        draws it there)."""
        self.notify(message, severity="error" if error else "information", markup=False)

    def data_changed(self) -> None:
        """Another process wrote: by default re-read (a pane may wait until shown)."""
        self.refresh_data()

    def on_time(self, now: int) -> None:
        """``ConsoleApp.now`` moved on (once a minute): by default nothing."""

    def pause_for_keys(self) -> None:
        """Called by a read (``load``) between its batches: wait while a key press is
        handled (``ConsoleApp.pause_for_keys``), so that the reads behind the panes never
        halve the interpreter's time for a key."""
        pause = getattr(self.app, "pause_for_keys", None)
        if pause is not None:
            pause()

    def reads_now(self) -> bool:
        """Whether ``refresh_data`` reads now (by default always)."""
        return True

    # -- the machinery -------------------------------------------------------------------

    def style_of(self, part: str) -> Style:
        """The Rich style of ``pane--{part}`` (one of ``COMPONENT_CLASSES``) in the theme."""
        return self.get_component_rich_style(f"pane--{part}")

    @property
    def host(self) -> PaneHost | None:
        """The console app, or None in an app that is not one (a bare test app)."""
        app = self.app
        return app if isinstance(app, PaneHost) else None

    @property
    def user(self) -> str:
        host = self.host
        return host.user if host is not None and host.user else "unknown"

    def on_mount(self) -> None:
        if self.host is not None:
            self.watch(self.app, "now", self.on_time, init=False)
        self.show_status()

    def refresh_data(self) -> None:
        """Start the background read (a newer one replaces one still running)."""
        if self.reads_now():
            self.app.run_worker(
                self._read,
                name=f"read {self.what}",
                group=self.id or type(self).__name__,
                thread=True,
                exclusive=True,
                exit_on_error=False,
            )

    def _read(self) -> None:
        """The worker: wait for the store, read, post the result to the pane."""
        host = self.host
        if host is not None:
            host.load_done.wait(60)
        if host is None or host.store is None:
            self.post_message(ReadRefused("the database is not open"))
            return
        with _ONE_READ:
            self.pause_for_keys()  # (a read starts between key presses)
            data = self.load(host.store, clock.now(), self.user)
        if not get_current_worker().is_cancelled:
            self.post_message(DataRead(data))

    def on_data_read(self, message: DataRead[DataT]) -> None:
        message.stop()
        self.data = message.data
        self.reading = False
        self.error = None
        self.show_data(message.data)

    def on_read_refused(self, message: ReadRefused) -> None:
        message.stop()
        self.read_failed(message.why)

    def on_action_done(self, message: ActionDone) -> None:
        message.stop()
        self.say(message.notice, error=message.error)
        if message.reread:
            self.refresh_data()

    def read_failed(self, message: str) -> None:
        """Say a failed read on the status line; what was shown stays."""
        self.error = message
        self.reading = False
        self.show_status()

    def worker_failed(self, worker: Worker[Any], why: str) -> None:
        """The app's handler for failed workers: this pane's read failed with ``why``."""
        self.read_failed(f"cannot read {self.what}: {why}")
