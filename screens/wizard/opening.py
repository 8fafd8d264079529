"""Opening the wizard from the app (``n`` on the queue, ``c`` in the case view) and what
happens once it recorded something: say so, and show the case."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from screens.wizard.screen import ClassifyWizard, WizardDone

if TYPE_CHECKING:
    from console.rules.policy import Policy
    from console.rules.policy_book import PolicyBook
    from console.store.engine import Store
    from screens.app import ConsoleApp


@runtime_checkable
class ShowsCase(Protocol):
    """A screen showing one case that can read it again (the case view)."""

    case_id: str

    def reload(self) -> None: ...


def _ready(app: ConsoleApp) -> tuple[Store, Policy | PolicyBook] | None:
    """The app's store and policy, or None (said) while the database is still opening."""
    if app.store is None or app.policy is None:
        app.notify("the database is still opening", severity="warning")
        return None
    return app.store, app.policy


def _done(app: ConsoleApp) -> Callable[[WizardDone | None], None]:
    def done(result: WizardDone | None) -> None:
        if result is None:
            return
        app.notify(result.message)
        app.case_changed(result.case_id)
        if result.created:
            app.open_case(result.case_id)
        elif isinstance(app.screen, ShowsCase) and app.screen.case_id == result.case_id:
            app.screen.reload()

    return done


def open_new_case_wizard(app: ConsoleApp) -> None:
    """Push the wizard for a new case (bound to ``n`` on the queue pane)."""
    ready = _ready(app)
    if ready is not None:
        store, policy = ready
        app.push_screen(
            ClassifyWizard.new(store=store, policy=policy, user=app.user, tz=app.tz),
            _done(app),
        )


def open_reclassify_wizard(app: ConsoleApp, case_id: str) -> None:
    """Push the wizard to reclassify ``case_id`` (bound to ``c`` in the case view)."""
    ready = _ready(app)
    if ready is not None:
        store, policy = ready
        app.push_screen(
            ClassifyWizard.reclassify(
                case_id, store=store, policy=policy, user=app.user, tz=app.tz
            ),
            _done(app),
        )
