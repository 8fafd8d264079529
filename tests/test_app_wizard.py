"""Pilot tests of the classification wizard (screens/wizard.py): every walk by keys,
asserted on the screen and on the database; Escape writes nothing; back and forward keep
the answers; eligibility shows as the reason a choice is unavailable."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from app_support import NOW, TZ, USER, make_db, screen_text, settle

from console import clock
from console.rules.timeutil import parse_instant
from screens.app import ConsoleApp
from screens.wizard import ClassifyWizard, open_new_case_wizard, open_reclassify_wizard


def _sub(sid: str, name: str, plan: str) -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "plan": plan,
        "coverage": "business",
        "timezone": TZ if plan == "enterprise" else None,
        "term_start": "2026-01-01",
        "term_end": "2026-12-31",
        "terminated_at": None,
        "targets": {},
    }


def _dep(did: str, sid: str, env: str, managed: bool) -> dict[str, Any]:
    return {
        "id": did,
        "subscriber": sid,
        "environment": env,
        "managed": managed,
        "product": "gateway",
        "version": "4.2.0",
    }


def wizard_doc() -> dict[str, Any]:
    """Subscribers and deployments for every branch of the wizard, and W-300: a P3
    incident reported Monday 15:00 New York, unacknowledged; at Tuesday 08:30 its response
    clock has counted 2 h (6 h target), so raising it to P1 (1 h) breaches at once."""
    return {
        "subscribers": [
            _sub("wiz-ent", "Wisteria Bank", "enterprise"),
            _sub("wiz-basic", "Willow Shop", "basic"),
        ],
        "deployments": [
            _dep("wiz-managed", "wiz-ent", "production", True),
            _dep("wiz-unmanaged", "wiz-ent", "production", False),
            _dep("wiz-basic-prod", "wiz-basic", "production", False),
            _dep("wiz-basic-pre", "wiz-basic", "pre-production", False),
        ],
        "users": [],
        "cases": [
            {
                "id": "W-300",
                "subscriber": "wiz-ent",
                "deployment": "wiz-unmanaged",
                "type": "incident",
                "priority": "P3",
                "title": "Login page slow",
                "reported_at": "2026-11-23T20:00:00Z",
                "aware_at": None,
                "level": "L1",
                "links": [],
                "events": [],
            }
        ],
    }


def make_wizard_db(path: Any) -> str:
    """The shared test database (app_support) plus the wizard's own subscribers."""
    from console.importer import existing_ids, validate, write
    from console.rules.policy import load_policy
    from console.store.engine import open_store

    url = make_db(path)
    policy = load_policy(None)
    store = open_store(url)
    with store.connection() as conn:
        existing = existing_ids(conn, policy)
    prep = validate(wizard_doc(), policy, existing, clock.now())
    with store.write() as session:
        write(session, prep, clock.now())
    store.dispose()
    return url


@pytest.fixture
def db(console_env, tmp_path):
    return make_wizard_db(tmp_path / "console.db")


def query(url: str, sql: str, *args: Any) -> list[tuple]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def db_state(url: str) -> tuple:
    """Everything a wizard could write."""
    return (
        query(url, "SELECT * FROM support_case ORDER BY id"),
        query(url, "SELECT * FROM case_event ORDER BY id"),
        query(url, "SELECT * FROM case_state ORDER BY case_id"),
    )


def case_by_title(url: str, title: str) -> tuple | None:
    rows = query(
        url,
        "SELECT id, subscriber_id, deployment_id, type, priority, criterion, "
        "opened_by, reported_at, title FROM support_case WHERE title = ?",
        title,
    )
    return rows[0] if rows else None


def flat(text: str) -> str:
    return " ".join(text.split())


def wizard(app: Any) -> ClassifyWizard:
    screen = app.screen
    assert isinstance(screen, ClassifyWizard), type(screen)
    return screen


async def keys(pilot: Any, *names: str) -> str:
    await pilot.press(*names)
    await settle(pilot)
    return flat(screen_text(pilot.app))


async def start_new(pilot: Any) -> ClassifyWizard:
    await settle(pilot)
    open_new_case_wizard(pilot.app)
    await settle(pilot)
    return wizard(pilot.app)


async def choose(pilot: Any, search: str) -> str:
    """Step 1: search and take the first match."""
    await pilot.press(*search)
    await settle(pilot)
    return await keys(pilot, "enter")


def run(db: str, body: Any, size: tuple[int, int] = (80, 24)) -> None:
    async def go() -> None:
        app = ConsoleApp(db, user=USER, tz=ZoneInfo(TZ))
        async with app.run_test(size=size) as pilot:
            await body(pilot)

    asyncio.run(go())


def test_new_p1_incident_by_keys(db):
    async def body(pilot):
        w = await start_new(pilot)
        text = flat(screen_text(pilot.app))
        assert "1 Subscriber" in text
        assert "4 Summary" in text
        text = await choose(pilot, "wiz-managed")
        assert w.step == "type"
        assert "wiz-managed · production · managed" in text
        assert "Wisteria Bank (wiz-ent) · enterprise 8×5 · America/New_York" in text
        assert "version gateway 4.2.0 · support: unknown" in text
        text = await keys(pilot, "1")
        assert w.step == "priority"
        # Managed on enterprise: the P0 criteria are asked first.
        assert "question 1 of 14" in text
        assert "A Supported Konneqt component in a Managed Deployment" in text
        text = await keys(pilot, "n", "n")
        assert "question 3 of 14" in text
        assert "Substantial loss of service?" in text
        text = await keys(pilot, "y")
        assert w.step == "summary"
        assert "Incident P1 Critical" in text
        assert "decided by: substantial_service_loss (P1) — Substantial loss of service" in text
        # Tue 08:30 New York: response runs from the 09:00 opening; the rest if acknowledged now.
        assert "response 1 h Tue 24 Nov 10:00 running from now" in text
        assert "workaround 24 h Fri 27 Nov 17:00 if acknowledged now" in text  # 26th: Thanksgiving
        assert "resolution 48 h" in text
        assert "update 4 h Tue 24 Nov 13:00" in text
        before = db_state(db)
        await pilot.press("enter")  # no title yet
        text = await keys(pilot)
        assert "a title is needed" in text
        assert db_state(db) == before
        await pilot.press(*"Gateway down")
        await keys(pilot, "enter")
        row = case_by_title(db, "Gateway down")
        assert row is not None
        cid, sub, dep, ctype, prio, crit, by, reported, _ = row
        assert (sub, dep, ctype, prio, crit, by) == (
            "wiz-ent",
            "wiz-managed",
            "incident",
            "P1",
            "substantial_service_loss",
            USER,
        )
        assert reported == parse_instant(NOW)
        # The new case opens in the case view.
        assert pilot.app.screen.case_id == cid
        assert cid in screen_text(pilot.app)

    run(db, body)


def test_new_query_without_deployment(db):
    async def body(pilot):
        w = await start_new(pilot)
        text = await choose(pilot, "wisteria")  # the subscriber's own row: no deployment
        assert w.state.target.deployment is None
        assert "no deployment" in text
        # An incident needs a deployment: shown as the reason, not a crash.
        assert "✖ unavailable: an incident names a deployment" in text
        assert "✖ unavailable: a service request needs a managed deployment" in text
        text = await keys(pilot, "2")
        assert w.step == "summary"
        assert "1 Subscriber › 2 Type › 3 Summary" in text  # no priority step for a query
        assert "Query" in text
        assert "response 1 Business" not in text
        assert "response 8 h Tue 24 Nov 17:00 running from now" in text  # 1 business day
        await pilot.press(*"How do I rotate keys")
        await keys(pilot, "enter")
        row = case_by_title(db, "How do I rotate keys")
        assert row is not None
        assert row[1:7] == ("wiz-ent", None, "query", None, None, USER)

    run(db, body)


def test_p0_criterion_on_unmanaged_deployment_gives_p1_with_note(db):
    async def body(pilot):
        w = await start_new(pilot)
        await choose(pilot, "wiz-unmanaged")
        text = await keys(pilot, "1")
        assert "question 1 of 12" in text  # P0 criteria not asked...
        assert (
            "P0 criteria not asked: wiz-unmanaged is not a managed deployment (P0 needs a "
            "managed deployment on the enterprise plan)"
        ) in text
        text = await keys(pilot, "p")  # ...unless the engineer says one applies
        assert "question 1 of 14" in text
        assert "P0→P1" in text
        assert (
            "a P0 criterion, but wiz-unmanaged is not a managed deployment: a yes classifies P1"
            in text
        )
        text = await keys(pilot, "y")
        assert w.step == "summary"
        assert "Incident P1 Critical" in text
        assert "decided by: component_unavailable (P0)" in text
        assert "note: P0 criterion answered on a non-managed deployment: classified P1" in text
        assert "cannot be recorded" not in text
        await pilot.press(*"All routes 502")
        await keys(pilot, "enter")
        row = case_by_title(db, "All routes 502")
        assert row is not None
        assert row[3:6] == ("incident", "P1", "component_unavailable")

    run(db, body)


def test_basic_plan_preproduction_incident_is_unavailable(db):
    async def body(pilot):
        w = await start_new(pilot)
        text = await choose(pilot, "wiz-basic-pre")
        assert "Willow Shop (wiz-basic) · basic 12×5 · -03:00" in text
        assert (
            "✖ unavailable: basic plan: incidents only on production deployments "
            "(wiz-basic-pre is pre-production)"
        ) in text
        before = db_state(db)
        text = await keys(pilot, "1")
        assert w.step == "type"  # cannot be chosen
        assert "✖ Incident is unavailable: basic plan: incidents only on production" in text
        text = await keys(pilot, "up", "up", "enter")  # nor by cursor
        assert w.step == "type"
        # Even forced past the type step, the summary refuses to record it.
        w.state.ctype = "incident"
        w._go("summary")
        await pilot.press(*"Staging broken")
        text = await keys(pilot, "enter")
        assert (
            "✖ cannot be recorded: basic plan: incidents only on production deployments "
            "(wiz-basic-pre is pre-production)"
        ) in text
        assert w.step == "summary"
        assert isinstance(pilot.app.screen, ClassifyWizard)
        assert db_state(db) == before
        await keys(pilot, "escape")
        assert not isinstance(pilot.app.screen, ClassifyWizard)
        assert db_state(db) == before

    run(db, body)


def test_basic_plan_has_no_p0(db):
    async def body(pilot):
        w = await start_new(pilot)
        await choose(pilot, "wiz-basic-prod")
        text = await keys(pilot, "1")
        assert "P0 criteria not asked: the basic plan has no P0" in text
        text = await keys(pilot, "p", "y")
        assert w.step == "summary"
        assert (
            "note: P0 criterion answered on the basic plan, which has no P0: classified P1" in text
        )
        assert "response 2 h" in text
        assert "workaround 12 h" in text
        assert "resolution" not in text  # basic: no resolution or update target

    run(db, body)


def test_reclassify_p3_to_p1_breaches_at_once(db):
    async def body(pilot):
        await settle(pilot)
        open_reclassify_wizard(pilot.app, "W-300")
        await settle(pilot)
        w = wizard(pilot.app)
        text = flat(screen_text(pilot.app))
        assert "Reclassify W-300 (incident P3, open)" in text
        assert "Incident ✔ now" in text
        text = await keys(pilot, "enter")
        assert w.step == "priority"
        assert "question 1 of 12" in text
        text = await keys(pilot, "y")  # substantial loss of service
        assert w.step == "summary"
        assert "Incident P3 → Incident P1 Critical" in text
        # Before: 2 h counted of 6 h, due Tue 13:00. After: 1 h target, 1 h over.
        assert "! response 6 h, due 24 Nov 13:00 1 h, BREACHED -1:00" in text
        assert "workaround 72 h, pending 24 h, pending" in text
        assert "⚠ this breaches at once: response" in text
        before = db_state(db)
        text = await keys(pilot, "enter")
        assert "a reason is needed" in text
        assert db_state(db) == before
        await pilot.press(*"customer reports outage")
        await keys(pilot, "enter")
        events = query(db, "SELECT kind, by, data, at FROM case_event WHERE case_id = 'W-300'")
        assert len(events) == 1
        kind, by, data, at = events[0]
        import json

        assert (kind, by, at) == ("reclassified", USER, parse_instant(NOW))
        assert json.loads(data) == {
            "type": "incident",
            "priority": "P1",
            "reason": "customer reports outage",
            "criterion": "substantial_service_loss",
        }
        assert query(db, "SELECT priority FROM case_state WHERE case_id = 'W-300'") == [("P1",)]
        assert not isinstance(pilot.app.screen, ClassifyWizard)

    run(db, body)


def test_reclassify_to_same_classification_cannot_be_recorded(db):
    async def body(pilot):
        await settle(pilot)
        open_reclassify_wizard(pilot.app, "W-300")
        await settle(pilot)
        before = db_state(db)
        # Incident, then "no" to all twelve questions: P3, as it already is.
        text = await keys(pilot, "enter", *["n"] * 12)
        assert "decided by: no guideline matched" in text
        assert "note: no guideline matched: classified P3" in text
        assert "✖ cannot be recorded: case W-300 is already incident P3" in text
        await pilot.press(*"no change")
        await keys(pilot, "enter")
        assert db_state(db) == before

    run(db, body)


def test_reclassify_to_query_drops_the_incident_clocks(db):
    async def body(pilot):
        await settle(pilot)
        open_reclassify_wizard(pilot.app, "W-300")
        await settle(pilot)
        text = await keys(pilot, "2")
        assert "Incident P3 → Query" in text
        assert "response 6 h, due 24 Nov 13:00 8 h, due 24 Nov 15:00" in text
        assert "workaround 72 h, pending — (no such clock)" in text
        await pilot.press(*"a question really")
        await keys(pilot, "enter")
        rows = query(db, "SELECT kind, data FROM case_event WHERE case_id = 'W-300'")
        import json

        assert [(k, json.loads(d)) for k, d in rows] == [
            ("reclassified", {"type": "query", "reason": "a question really"})
        ]

    run(db, body)


@pytest.mark.parametrize("cancel_key", ["escape", "ctrl+g"])
def test_cancel_writes_nothing(db, cancel_key):
    async def body(pilot):
        before = db_state(db)
        w = await start_new(pilot)
        await choose(pilot, "wiz-managed")
        await keys(pilot, "1", "n", "n", "y")
        assert w.step == "summary"
        await pilot.press(*"Almost recorded")
        await keys(pilot, cancel_key)
        assert not isinstance(pilot.app.screen, ClassifyWizard)
        assert db_state(db) == before
        assert case_by_title(db, "Almost recorded") is None
        # The same for a reclassification.
        open_reclassify_wizard(pilot.app, "W-300")
        await settle(pilot)
        await keys(pilot, "enter", "y")
        await pilot.press(*"never mind")
        await keys(pilot, cancel_key)
        assert not isinstance(pilot.app.screen, ClassifyWizard)
        assert db_state(db) == before

    run(db, body)


def test_back_and_forward_keep_answers(db):
    async def body(pilot):
        w = await start_new(pilot)
        await choose(pilot, "wiz-managed")
        await keys(pilot, "1", "n", "n", "n", "y")  # critical_data_at_risk
        assert w.step == "summary"
        await pilot.press(*"Data at risk")
        text = await keys(pilot, "pageup")
        assert w.step == "priority"
        assert "question 4 of 14" in text
        assert "yes A significant portion of mission-critical data" in text
        text = await keys(pilot, "left")
        assert "question 3 of 14" in text
        text = await keys(pilot, "backspace", "b")
        assert "question 1 of 14" in text
        text = await keys(pilot, "pageup")
        assert w.step == "type"
        assert "Incident ✔ chosen" in text
        await keys(pilot, "pageup")
        assert w.step == "target"
        assert w.query_one("#wiz-search").value == "wiz-managed"
        assert w._highlighted_target() == w.state.target
        # Forward again: every answer is still there.
        await keys(pilot, "enter")
        assert w.step == "type"
        await keys(pilot, "right")
        assert w.step == "priority"
        assert w.qi == 0
        text = await keys(pilot, "right", "right", "pagedown")
        assert "question 4 of 14" in text
        text = await keys(pilot, "right")
        assert w.step == "summary"
        assert "decided by: critical_data_at_risk" in text
        assert w.query_one("#wiz-text").value == "Data at risk"
        assert w.state.answers == {
            "component_unavailable": False,
            "legal_order_cessation": False,
            "substantial_service_loss": False,
            "critical_data_at_risk": True,
        }
        # Changing an answer on the way back changes the result.
        await keys(pilot, "pageup", "up", "up", "up")
        assert w.qi == 0
        text = await keys(pilot, "y")
        assert "Incident P0 Catastrophic" in text
        assert "decided by: component_unavailable (P0)" in text
        assert "response 30 min Tue 24 Nov 09:30" in text
        await keys(pilot, "enter")
        row = case_by_title(db, "Data at risk")
        assert row is not None
        assert row[4:6] == ("P0", "component_unavailable")

    run(db, body)


def test_changing_the_deployment_re_asks_with_its_own_questions(db):
    async def body(pilot):
        w = await start_new(pilot)
        await choose(pilot, "wiz-managed")
        await keys(pilot, "1", "y")  # P0 on the managed deployment
        assert "Incident P0 Catastrophic" in flat(screen_text(pilot.app))
        # Back to step 1, take the unmanaged deployment: the P0 answer no longer counts.
        await keys(pilot, "pageup", "pageup", "pageup")
        assert w.step == "target"
        await pilot.press(*["backspace"] * 20, *"wiz-unmanaged")
        await keys(pilot, "enter", "enter")
        assert w.step == "priority"
        assert "question 1 of 12" in flat(screen_text(pilot.app))
        text = await keys(pilot, "n", "y")
        assert "Incident P1 Critical" in text
        assert "decided by: critical_data_at_risk" in text

    run(db, body)


def test_subscriber_text_is_inert(db):
    """A subscriber name full of markup and escapes shows as text."""

    async def body(pilot):
        from sqlalchemy import update

        from console.records import subscriber_table

        await settle(pilot)
        with pilot.app.store.write() as session:
            session.execute(
                update(subscriber_table)
                .where(subscriber_table.c.id == "wiz-ent")
                .values(name="Evil [red]x[/] \x1b[31mred\x07")
            )
        w = await start_new(pilot)
        text = await choose(pilot, "wiz-managed")
        assert "Evil [red]x[/] ^[[31mred^G" in text
        assert w.step == "type"

    run(db, body)


def test_wizard_screen_class_can_be_pushed_directly(db):
    async def body(pilot):
        await settle(pilot)
        app = pilot.app
        app.push_screen(
            ClassifyWizard.reclassify(
                "NOPE-1", store=app.store, policy=app.policy, user=USER, tz=app.tz
            )
        )
        await settle(pilot)
        assert "NOPE-1: no such case" in flat(screen_text(app))
        await keys(pilot, "escape")
        assert not isinstance(app.screen, ClassifyWizard)

    run(db, body)


def test_unsupported_version_is_flagged_not_refused(db):
    """Policy §12: a version past its end of support shows in red; the case still opens."""

    async def body(pilot):
        from datetime import date

        from console.lifespan import set_version

        await settle(pilot)
        set_version(
            pilot.app.store,
            product="gateway",
            version="4.2.0",
            released=date(2022, 1, 10),
            notice=None,
            actor=None,
            now=clock.now(),
        )
        w = await start_new(pilot)
        text = await choose(pilot, "wiz-managed")
        assert "version gateway 4.2.0 · support ENDED 2025-01-10 (flagged, not refused)" in text
        await keys(pilot, "2")
        assert w.step == "summary"
        await pilot.press(*"Old gateway question")
        await keys(pilot, "enter")
        assert case_by_title(db, "Old gateway question") is not None

    run(db, body)


def test_supported_version_shows_its_end_of_support(db):
    async def body(pilot):
        from datetime import date

        from console.lifespan import set_version

        await settle(pilot)
        set_version(
            pilot.app.store,
            product="gateway",
            version="4.2.0",
            released=date(2025, 3, 1),
            notice=date(2028, 6, 1),
            actor=None,
            now=clock.now(),
        )
        await start_new(pilot)
        text = await choose(pilot, "wiz-managed")
        assert "version gateway 4.2.0 · supported until 2029-06-01" in text

    run(db, body)


def test_concurrent_reclassification_gives_one_success_and_one_conflict_keeping_answers(db):
    """Two consoles reclassify W-300 (P3 -> P1 here, P3 -> P2 there): the wizard sends the
    version it read, so the second write is refused as a conflict, the operator's answers
    kept, and the case holds exactly one reclassification (issue 11, item 6)."""
    from console.actions import append_event
    from console.store.engine import open_store

    async def body(pilot):
        await settle(pilot)
        open_reclassify_wizard(pilot.app, "W-300")
        await settle(pilot)
        w = wizard(pilot.app)
        await keys(pilot, "enter", "y")  # P1: substantial loss of service
        assert w.step == "summary"
        await pilot.press(*"outage everywhere")
        # Meanwhile another console records P3 -> P2.
        with open_store(db) as store:
            append_event(
                store,
                "W-300",
                "reclassified",
                at=clock.now(),
                by="other-console",
                data={"priority": "P2", "reason": "slow", "type": "incident"},
                recorded_at=clock.now(),
                actor="other-console",
            )
        text = await keys(pilot, "enter")
        assert "changed by other-console" in text
        assert "nothing written" in text
        assert isinstance(pilot.app.screen, ClassifyWizard)
        assert w.step == "summary"
        assert w.query_one("#wiz-text").value == "outage everywhere"  # answers kept
        rows = query(
            db, "SELECT by FROM case_event WHERE case_id = 'W-300' AND kind = 'reclassified'"
        )
        assert rows == [("other-console",)]
        # Applied again to the fresh case: P2 -> P1, now recorded.
        await keys(pilot, "enter")
        rows = query(
            db, "SELECT by FROM case_event WHERE case_id = 'W-300' AND kind = 'reclassified'"
        )
        assert rows == [("other-console",), (USER,)]

    run(db, body)
