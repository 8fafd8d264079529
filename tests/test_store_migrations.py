"""A database made by an earlier version opens in this one, data intact."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from console.store.engine import HEAD, alembic_config, open_store, resolve_url


def test_database_at_0001_upgrades_with_its_data(db_url: str):
    url = resolve_url(db_url)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001_initial")
        conn.execute(
            text(
                "INSERT INTO subscriber (id, name, plan, coverage, term_start, term_end, targets) "
                "VALUES ('old', 'Old Co', 'basic', 'business', '2026-01-01', '2026-12-31', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO support_case (id, subscriber_id, type, title, reported_at, level, "
                "konneqt_initiated, version) VALUES ('C-1', 'old', 'query', 'q', 1767268800, 'L1', false, 1)"
            )
        )
    engine.dispose()
    with open_store(db_url) as store, store.connection() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        row = conn.execute(text("SELECT id, criterion, opened_by FROM support_case")).one()
        assert tuple(row) == ("C-1", None, None)
        assert conn.execute(text("SELECT count(*) FROM escalation")).scalar() == 0


def test_0011_fills_the_queue_columns_of_a_database_at_0010(db_url: str):
    """A database made before 0011_queue_speed gets the case_state columns the queue reads
    (title, deployment, escalate_at: computed from the events), on both backends."""
    import json

    from test_queue_paths import _history_doc

    doc = json.loads(json.dumps(_history_doc(60, 2)))
    query = "SELECT case_id, title, deployment_id, escalate_at FROM case_state ORDER BY case_id"
    expected, got = _before_and_after(db_url, doc, query, "0010_identity")
    assert any(r[3] is not None for r in expected)  # incidents due for escalation
    # escalate_at is filled for the listed incidents not escalated yet (all of them here).
    listed = {r[0] for r in expected}
    assert [r[:3] for r in got] == [r[:3] for r in expected]
    assert {r[0]: r[3] for r in got if r[0] in listed} == {r[0]: r[3] for r in expected}


def _before_and_after(db_url: str, doc: dict, query: str, revision: str) -> tuple[list, list]:
    """``query``'s rows after importing ``doc`` at head, and after going down to
    ``revision`` and up again (what that migration's upgrade writes)."""
    from console import clock
    from console.importer import existing_ids, validate, write
    from console.rules.policy import default_policy
    from console.rules.timeutil import parse_instant

    now = parse_instant("2027-06-30T00:00:00Z")
    clock.freeze(now)
    try:
        with open_store(db_url) as store:
            with store.connection() as conn:
                prep = validate(doc, default_policy(), existing_ids(conn, default_policy()), now)
            with store.write() as s:
                write(s, prep, now)
            with store.connection() as conn:
                before = [tuple(r) for r in conn.execute(text(query))]
        engine = create_engine(resolve_url(db_url))
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.connect() as conn:
            after = [tuple(r) for r in conn.execute(text(query))]
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        engine.dispose()
    finally:
        clock.freeze(None)
    return before, after


def test_0014_writes_the_queue_templates_of_a_database_at_0013(db_url: str):
    """A database made before 0014_queue_json gets each listed case's ``queue --json``
    template, from its stored summary: the same text the projection writes, on both
    backends; closed cases have none."""
    import json

    from test_queue_paths import _history_doc

    from console.rules.timeutil import format_instant, parse_instant

    doc = json.loads(json.dumps(_history_doc(60, 3)))
    for case in doc["cases"][::2]:  # close every other resolved case a day later
        resolved = [e for e in case["events"] if e["kind"] == "resolved"]
        if resolved:
            day_after = parse_instant(resolved[-1]["at"]) + 86400
            case["events"].append({"at": format_instant(day_after), "kind": "closed", "by": "e"})
    query = "SELECT case_id, listed, queue_json FROM case_state ORDER BY case_id"
    expected, got = _before_and_after(db_url, doc, query, "0013_outbox_forgets")
    assert {bool(r[1]) for r in expected} == {True, False}  # listed and closed cases
    assert all((r[2] is not None) == bool(r[1]) for r in expected)
    assert got == expected
