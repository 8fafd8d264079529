"""Step 1 of a new case: the subscriber and (optionally) the deployment, found by search."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from console.views.wizard import Target
from screens.wizard.model import filter_targets
from screens.wizard.parts import TextBox, Themed, inert_rich, target_lines


def target_option(t: Target) -> Text:
    """One row of the list: a subscriber heading, or one of its deployments indented."""
    text = Text(no_wrap=True, overflow="ellipsis")
    d = t.deployment
    if d is None:
        text.append_text(inert_rich(t.subscriber_name, "bold"))
        text.append(" (")
        text.append_text(inert_rich(t.subscriber_id))
        text.append(f") · {t.plan} {t.coverage}")
        text.append(" · no deployment", style="dim")
        return text
    text.append("   ")
    text.append_text(inert_rich(d.id))
    text.append(f" · {d.environment} · {'managed' if d.managed else 'not managed'} · ")
    text.append_text(inert_rich(f"{d.product} {d.version}"))
    return text


class TargetStep(Vertical):
    """A search box over every subscriber and deployment, the matches, and the highlighted
    one's details. Enter (or a click) posts ``Chosen``; the screen takes ``highlighted()``."""

    class Chosen(Message):
        """The operator chose the highlighted target (it may be None: nothing matches)."""

    def __init__(self) -> None:
        super().__init__(id="target")
        self.targets: Sequence[Target] = ()
        self.shown: list[int] = []  # indexes into targets listed under the current search
        self.loaded = False
        self.chosen: Target | None = None  # the target chosen before, highlighted again

    def compose(self) -> ComposeResult:
        box = TextBox(
            placeholder="search: subscriber, deployment, product, plan…",
            id="wiz-search",
            compact=True,
            select_on_focus=False,
        )
        box.cursor_blink = False
        yield box
        yield OptionList(id="wiz-targets", markup=False, compact=True)
        yield Themed(id="wiz-target-detail")

    def on_mount(self) -> None:
        self.query_one("#wiz-targets", OptionList).can_focus = False

    def set_targets(self, targets: Sequence[Target]) -> None:
        self.targets = targets
        self.loaded = True
        self.refilter()

    def refilter(self) -> None:
        """List the targets the search matches, the chosen one highlighted if listed."""
        query = self.query_one("#wiz-search", Input).value
        shown, idx = filter_targets(self.targets, query, self.chosen)
        self.shown = shown
        ol = self.query_one("#wiz-targets", OptionList)
        ol.clear_options()
        ol.add_options([Option(target_option(self.targets[i]), id=str(i)) for i in shown])
        if shown:
            ol.highlighted = idx
        self.show_detail()

    def highlighted(self) -> Target | None:
        ol = self.query_one("#wiz-targets", OptionList)
        if ol.highlighted is None or not self.shown:
            return None
        return self.targets[self.shown[ol.highlighted]]

    def move(self, delta: int) -> None:
        ol = self.query_one("#wiz-targets", OptionList)
        if ol.option_count:
            ol.highlighted = max(0, min(ol.option_count - 1, (ol.highlighted or 0) + delta))

    def show_detail(self) -> None:
        detail = self.query_one("#wiz-target-detail", Themed)
        if not self.loaded:
            detail.update(Text("loading subscribers…", style="dim"))
            return
        t = self.highlighted()
        if t is None:
            detail.update(Text("nothing matches the search", style="dim"))
            return
        detail.update(Group(*target_lines(t, detail.look("wizard--error"))))

    def focus_search(self) -> None:
        self.query_one("#wiz-search", Input).focus()

    @on(Input.Changed, "#wiz-search")
    def _search_changed(self) -> None:
        if self.loaded:
            self.refilter()

    @on(Input.Submitted, "#wiz-search")
    @on(OptionList.OptionSelected, "#wiz-targets")
    def _chosen(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Chosen())

    @on(OptionList.OptionHighlighted, "#wiz-targets")
    def _highlighted(self) -> None:
        self.show_detail()
