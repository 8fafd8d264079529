"""Alembic environment, configured in code (see ``console.store.engine.alembic_config``).

The caller passes an open connection in ``config.attributes["connection"]``, usually
inside a transaction that serializes upgrades; ``sqlalchemy.url`` is the fallback for
running ``alembic`` by hand.
"""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, pool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes SQLModel's AutoString as sa.String(): migrations stay plain."""
    if type_ == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    return False


def _configure(
    *,
    connection: Connection | None = None,
    url: str | None = None,
    literal_binds: bool = False,
    render_as_batch: bool = False,
) -> None:
    context.configure(
        connection=connection,
        url=url,
        literal_binds=literal_binds,
        render_as_batch=render_as_batch,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
    )


def _run(connection: Connection) -> None:
    # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        _configure(url=url, literal_binds=True, render_as_batch=(url or "").startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if not url:
        from console.store.engine import resolve_url

        url = resolve_url(None)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


run()
