"""Keys have one source: the bindings. Every binding says what it does; the key bar and the
key help (``?``) are drawn from the active bindings, and ``check_action`` decides which keys
apply now."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

import screens
from screens.key_bar import KeyBar
from screens.key_help import KeyHelp

# The rule: a binding needs a description (the key bar's word; the help shows its tooltip,
# else the description) unless it is hidden (show=False) AND every one of its keys is a pure
# navigation key: it moves a cursor or scrolls, says nothing the screen does not show, and
# is the same in every pane. Letters, digits and enter/escape/backspace always do something
# the operator must be told, even where vi also moves with them (b, y, n, 1-9 ...): only the
# vi movement letters h j k l g G count as navigation.
NAVIGATION = frozenset(
    {"up", "down", "left", "right", "pageup", "pagedown", "home", "end", "tab", "shift+tab"}
    | {"h", "j", "k", "l", "g", "G", "space", "ctrl+pageup", "ctrl+pagedown"}
)


def _bound_classes() -> Iterator[type[DOMNode]]:
    """Every Screen or Widget class of the screens package that declares BINDINGS itself."""
    for info in pkgutil.walk_packages(screens.__path__, "screens."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, DOMNode)
                and obj.__module__ == module.__name__
                and "BINDINGS" in obj.__dict__
            ):
                yield obj


def _undescribed(cls: type[DOMNode]) -> list[str]:
    out = []
    for binding in Binding.make_bindings(cls.__dict__["BINDINGS"]):
        if binding.description:
            continue
        if not binding.show and binding.key in NAVIGATION:
            continue
        out.append(f"{binding.key} → {binding.action}")
    return out


BOUND = sorted(_bound_classes(), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_the_screens_package_has_bound_classes():
    names = {c.__qualname__ for c in BOUND}
    assert {"CaseView", "QueuePane", "KeyHelp"} <= names


@pytest.mark.parametrize("cls", BOUND, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_binding_says_what_it_does(cls: type[DOMNode]):
    assert _undescribed(cls) == [], f"bindings of {cls.__qualname__} without a description"


# -- a screen with keys that apply only sometimes ------------------------------------------


class Desk(Screen[None]):
    """A case-like screen: ``A`` applies only while a refused action is kept (hidden
    otherwise), ``S`` only for leads (shown dim otherwise)."""

    BINDINGS = [
        Binding("a", "ack", "ack", tooltip="acknowledge the case"),
        Binding("A", "apply_again", "apply again", tooltip="apply the refused action again"),
        Binding("S", "suspend", "suspend", tooltip="suspend the SLA (leads)"),
        Binding("up,k", "move(-1)", "up", show=False, key_display="↑ k"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kept = False
        self.lead = False

    def compose(self) -> ComposeResult:
        yield Static("the case")
        yield KeyBar(id="keys")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply_again":
            return self.kept
        if action == "suspend":
            return True if self.lead else None
        return True

    def action_ack(self) -> None: ...  # what the keys do is not under test here

    def action_apply_again(self) -> None: ...

    def action_suspend(self) -> None: ...

    def action_move(self, by: int) -> None: ...


class DeskWithTime(Desk):
    """The same screen with one more key: the bar and the help show it with nothing else."""

    BINDINGS = [Binding("t", "log_time", "time", tooltip="log time spent on the case")]

    def action_log_time(self) -> None: ...


class DeskApp(App[None]):
    BINDINGS = [Binding("question_mark", "key_help", "keys", tooltip="this help")]

    def __init__(self, screen: type[Desk] = Desk) -> None:
        super().__init__()
        self._desk = screen

    def on_mount(self) -> None:
        self.push_screen(self._desk())

    def action_key_help(self) -> None:
        self.push_screen(KeyHelp(self))


def _bar(app: App[None]) -> Text:
    content = app.screen.query_one("#keys", KeyBar).content
    assert isinstance(content, Text)
    return content


def _dim(text: Text) -> set[str]:
    return {text.plain[s.start : s.end] for s in text.spans if "dim" in str(s.style)}


def _help(app: App[None]) -> str:
    help_text = app.screen.query_one("#help-text", Static)
    from rich.console import Console

    console = Console(width=120, record=True, no_color=True)
    console.print(help_text.content)
    return console.export_text()


def test_the_key_bar_draws_the_bindings_and_what_check_action_refuses():
    async def go() -> None:
        app = DeskApp()
        async with app.run_test(size=(80, 10)) as pilot:
            await pilot.pause()
            desk = app.screen
            assert isinstance(desk, Desk)
            bar = _bar(app)
            assert "a ack" in bar.plain
            assert "apply again" not in bar.plain  # check_action False: hidden
            assert "S suspend" in bar.plain
            assert {"S", " suspend"} <= _dim(bar)  # check_action None: dim
            assert "a" not in _dim(bar)
            assert " up" not in bar.plain  # show=False: help only

            desk.kept, desk.lead = True, True
            desk.refresh_bindings()
            await pilot.pause()
            bar = _bar(app)
            assert "A apply again" in bar.plain
            assert _dim(bar) == set()

    asyncio.run(go())


def test_the_help_lists_the_screens_bindings_then_the_apps():
    async def go() -> None:
        app = DeskApp()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, KeyHelp)
            text = _help(app)
            lines = [" ".join(line.split()) for line in text.splitlines()]
            assert "Keys: Desk" in lines
            assert "a acknowledge the case" in lines  # the tooltip, else the description
            assert "↑ k up" in lines  # show=False still listed, with its key_display
            assert "S suspend the SLA (leads)" in lines  # disabled: listed (dim)
            assert not any("apply the refused action" in line for line in lines)  # hidden
            everywhere = lines.index("Everywhere")
            assert lines.index("a acknowledge the case") < everywhere
            assert lines.index("? this help") > everywhere
            assert "Marks" in lines

    asyncio.run(go())


def test_a_binding_added_to_a_screen_shows_in_its_bar_and_its_help():
    async def go() -> None:
        app = DeskApp(DeskWithTime)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert "t time" in _bar(app).plain
            await pilot.press("question_mark")
            await pilot.pause()
            lines = [" ".join(line.split()) for line in _help(app).splitlines()]
            assert "Keys: Desk with time" in lines
            assert "t log time spent on the case" in lines
            assert "a acknowledge the case" in lines  # the inherited bindings too

    asyncio.run(go())
