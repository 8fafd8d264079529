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
        conn.execute(text(
            "INSERT INTO subscriber (id, name, plan, coverage, term_start, term_end, targets) "
            "VALUES ('old', 'Old Co', 'basic', 'business', '2026-01-01', '2026-12-31', '{}')"))
        conn.execute(text(
            "INSERT INTO support_case (id, subscriber_id, type, title, reported_at, level, "
            "konneqt_initiated, version) VALUES ('C-1', 'old', 'query', 'q', 1767268800, 'L1', false, 1)"))
    engine.dispose()
    with open_store(db_url) as store, store.connection() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        row = conn.execute(text("SELECT id, criterion, opened_by FROM support_case")).one()
        assert tuple(row) == ("C-1", None, None)
        assert conn.execute(text("SELECT count(*) FROM escalation")).scalar() == 0
