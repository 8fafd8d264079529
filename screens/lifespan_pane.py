"""The product-lifespan pane (policy §12), key 5: every product version by end of
support, soonest first, with the open cases on it (count and ids).

End of support = max(release + 3 years, notice + 1 year) (``console.rules.lifespan``).
A version past it is marked ``†`` (and red): its cases are flagged, never refused.
Versions that deployments run but the support matrix lacks come last, marked ``?``.

The matrix and deployments are read in a worker (``console.lifespan``); the open cases
are counted from the queue the app already holds (its listed cases: reported and not
closed, as ``support-console products`` counts them), so 100k cases cost no re-read.

Keys: Enter lists the version's open cases in a small window (Enter there opens one);
``e`` edits the release and notice dates (leads: ``console.lifespan.set_version`` with
the operator as actor; an engineer is refused and nothing is written); ``r`` reloads.

The pane also hands the queue its end-of-support flags (the deployments past end of
support, ``QueueTable.set_past``): it reads them when the store opens, after every
change and at each UTC day boundary, whether shown or not.
"""

from __future__ import annotations

from datetime import date, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.errors import fault_text
from console.text import inert
from screens.notice import notice_text
from screens.pane import ActionDone, Pane, QueueHost
from screens.words import refusal_text

if TYPE_CHECKING:  # the database layer is imported after the first screen (screens.app)
    from console.queue_rows import QueueRow
    from console.store.engine import Store
    from console.views.lifespan import MatrixData, VersionRow

WIDE = 110
PAST = "†"
MISSING = "?"
LEGEND = (
    f"{PAST} past end of support: flagged, not refused  {MISSING} not in matrix  ⏎ cases  e edit"
)


def _cell(text: str, width: int) -> str:
    text = inert(text)
    if len(text) > width - 1:
        text = text[: max(0, width - 2)] + "…"
    return f"{text:<{width - 1}} "


def _layout(width: int) -> dict[str, int]:
    wide = width >= WIDE
    lay = {
        "flag": 2,
        "product": 16 if wide else 12,
        "version": 12 if wide else 9,
        "end": 16,
        "open": 6,
    }
    if wide:
        lay.update({"released": 11, "notice": 11, "by": 14})
    lay["cases"] = max(10, width - sum(lay.values()))
    return lay


def header_text(width: int) -> Text:
    lay = _layout(width)
    wide = width >= WIDE
    parts = ["  ", _cell("PRODUCT", lay["product"]), _cell("VERSION", lay["version"])]
    if wide:
        parts += [_cell("RELEASED", lay["released"]), _cell("NOTICE", lay["notice"])]
    parts += [_cell("END OF SUPPORT", lay["end"]), _cell("OPEN", lay["open"])]
    if wide:
        parts.append(_cell("SET BY", lay["by"]))
    parts.append("CASES")
    return Text("".join(parts), no_wrap=True, overflow="crop")


def row_text(r: VersionRow, width: int, alarm: Style) -> Text:
    """One version's line; ``alarm``: the theme's style for a version past its end."""
    lay = _layout(width)
    wide = width >= WIDE
    line = Text(no_wrap=True, overflow="ellipsis")
    style: Style | str = alarm if r.past else ""
    line.append(f"{PAST} " if r.past else (f"{MISSING} " if r.end is None else "  "), style=style)
    line.append(_cell(r.product, lay["product"]), style=style)
    line.append(_cell(r.version, lay["version"]), style=style)
    if wide:
        line.append(_cell(r.released.isoformat() if r.released else "—", lay["released"]))
        line.append(_cell(r.notice.isoformat() if r.notice else "—", lay["notice"]))
    if r.end is None:
        line.append(_cell("not in matrix", lay["end"]), style="dim")
    else:
        line.append(_cell(r.end.isoformat() + (" PAST" if r.past else ""), lay["end"]), style=style)
    line.append(_cell(str(len(r.cases)), lay["open"]), style="bold" if r.cases and r.past else "")
    if wide:
        line.append(_cell(r.updated_by or "", lay["by"]), style="dim")
    ids = " ".join(inert(it.id) for it in r.cases[:40])
    line.append(ids if ids else "—", style="" if ids else "dim")
    line.truncate(width, overflow="ellipsis")
    return line


def case_line(it: QueueRow) -> str:
    from screens.queue_table import TYPE_SHORT

    prio = it.priority or "-"
    kind = TYPE_SHORT.get(it.type, it.type)
    return f"{it.subscriber:<16} {kind:<3} {prio:<2} {it.status:<8} {' '.join(it.title.split())}"


class LifespanPane(Pane["MatrixData"]):
    what = "the support matrix"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "cases",
            "Cases",
            tooltip="List the version's open cases (Enter there opens one).",
            priority=True,  # before the list's own (unlabelled) enter, so the key bar shows it
        ),
        Binding(
            "e",
            "edit",
            "Edit dates",
            tooltip="Edit the version's release and discontinuation-notice dates (leads).",
        ),
        Binding("r", "reload", "Reload", tooltip="Read the support matrix again."),
    ]

    def __init__(self, *, tz: tzinfo, id: str | None = None) -> None:
        super().__init__(tz=tz, id=id)
        self.notice = Content("")
        self._shown: list[str] = []
        self._items: list[QueueRow] = []  # the queue's cases, copied for the read

    def compose(self) -> ComposeResult:
        yield Static(id="life-status", markup=False)
        yield Static(id="life-head", markup=False)
        yield OptionList(id="life-list")
        yield Static(id="life-legend", markup=False)
        yield Static(id="life-notice", markup=False)

    def _queue_items(self) -> list[QueueRow]:
        app = self.app
        return list(app.queue_items()) if isinstance(app, QueueHost) else []

    @property
    def list(self) -> OptionList:
        return self.query_one("#life-list", OptionList)

    # -- data ------------------------------------------------------------------------------

    def on_show(self) -> None:
        self.list.focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        """Read the matrix; the queue's cases (a copy of the list taken here, on the app's
        thread) are put under their versions in the worker: 100k cases are no work for a
        key press to wait behind."""
        self._items = self._queue_items()
        super().refresh_data()

    def on_time(self, now: int) -> None:
        """Past end of support turns at a UTC day boundary: re-read then."""
        from console.rules.lifespan import utc_date

        if self.data is None or utc_date(now) != utc_date(self.data.at):
            self.refresh_data()

    def load(self, store: Store, now: int, user: str) -> MatrixData:
        from console.views.lifespan import matrix_data, with_cases

        return with_cases(matrix_data(store, now, user), self._items, self.pause_for_keys)

    def show_data(self, data: MatrixData) -> None:
        from screens.queue_table import QueueTable

        for table in self.app.query(QueueTable):
            table.set_past(data.past_deployments)
        self._redraw()

    def _redraw(self) -> None:
        if self.data is None:
            return
        width = self.list.scrollable_content_region.width or self.size.width or 80
        alarm = self.style_of("alarm")
        lines = [row_text(r, width, alarm) for r in self.data.versions]
        if [t.plain for t in lines] != self._shown:
            box = self.list
            keep = box.highlighted
            current = (
                box.get_option_at_index(keep).id
                if keep is not None and keep < box.option_count
                else None
            )
            box.clear_options()
            box.add_options(
                [Option(t, id=r.key) for t, r in zip(lines, self.data.versions, strict=True)]
            )
            ids = [r.key for r in self.data.versions]
            if ids:
                box.highlighted = ids.index(current) if current in ids else 0
            self._shown = [t.plain for t in lines]
        self.show_status()

    def show_status(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        d = self.data
        if self.error:
            line.append("✖ " + self.error, style=self.style_of("alarm"))
        else:
            line.append("Product lifespans", style="bold")
            if d is not None:
                line.append(f"  │ {len(d.versions)} versions")
                past = [r for r in d.versions if r.past]
                if past:
                    n = sum(len(r.cases) for r in past)
                    line.append(
                        f"  {PAST} {len(past)} past end of support, {n} open case(s)",
                        style=self.style_of("alarm"),
                    )
                if (self.size.width or 80) >= 100:
                    line.append(f"  │ you: {d.role}", style="dim")
            if self.reading:
                line.append("  │ loading…", style="italic")
        self.query_one("#life-status", Static).update(line)
        width = self.size.width or 80
        self.query_one("#life-head", Static).update(header_text(width))
        self.query_one("#life-legend", Static).update(Text(LEGEND, style="dim"))
        self.query_one("#life-notice", Static).update(self.notice)

    def on_resize(self) -> None:
        self._shown = []
        self.call_after_refresh(self._redraw)

    def say(self, message: str, *, error: bool = False) -> None:
        text = notice_text(message, error=error)
        self.notice = text
        self.query_one("#life-notice", Static).update(text)

    # -- actions -----------------------------------------------------------------------------

    def current(self) -> VersionRow | None:
        i = self.list.highlighted
        if self.data is None or i is None or i >= len(self.data.versions):
            return None
        return self.data.versions[i]

    @on(OptionList.OptionSelected, "#life-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_cases()

    def action_cases(self) -> None:
        """List the version's open cases; Enter there opens one."""
        from screens.governance_prompts import CaseListPrompt

        r = self.current()
        if r is None:
            return
        end = (
            f"end of support {r.end}" + (" — PAST, flagged" if r.past else "")
            if r.end
            else "not in the support matrix"
        )
        title = f"{r.product} {r.version}: {end} · {len(r.cases)} open case(s)"

        def chosen(case_id: str | None) -> None:
            if case_id and isinstance(self.app, QueueHost):
                self.app.open_case(case_id)

        self.app.push_screen(
            CaseListPrompt(title, [(it.id, case_line(it)) for it in r.cases]), chosen
        )

    def action_edit(self) -> None:
        from screens.governance_prompts import DatesPrompt

        r = self.current()
        if r is None or self.data is None:
            return
        if self.data.role != "lead":
            from console.operators import not_allowed

            self.say(refusal_text(not_allowed("product", self.user, self.data.role)), error=True)
            return

        def done(answer: tuple[date, date | None] | None) -> None:
            if answer is not None:
                self._save(r.product, r.version, answer[0], answer[1])

        self.app.push_screen(DatesPrompt(r.product, r.version, r.released, r.notice), done)

    @work(thread=True, exclusive=True, group="lifespan-write", exit_on_error=False)
    def _save(self, product: str, version: str, released: date, notice: date | None) -> None:
        from console import clock
        from console.actions import Refused
        from console.lifespan import set_version

        host = self.host
        if host is None or host.store is None:
            return
        try:
            v = set_version(
                host.store,
                product=product,
                version=version,
                released=released,
                notice=notice,
                actor=self.user,
                now=clock.now(),
            )
        except Refused as exc:
            self.post_message(ActionDone(refusal_text(exc), error=True))
            return
        except Exception as exc:
            self.post_message(ActionDone(f"not saved: {fault_text(exc)}", error=True))
            return
        past = " — past: its cases are flagged" if v.past(clock.now()) else ""
        said = f"{v.product} {v.version}: end of support {v.end_of_support}{past}"
        self.post_message(ActionDone(said, reread=True))

    def action_reload(self) -> None:
        self.refresh_data()
