"""``console.exporter.export`` takes a Connection or a Session (``console.records.Conn``):
both stream the cases alike (a Session once failed: it has no ``execution_options()``)."""

from __future__ import annotations

from test_store_actions import _doc, _load

from console.exporter import export
from console.store.engine import open_store


def test_export_through_a_session_equals_through_a_connection(sqlite_url: str) -> None:
    _load(sqlite_url)
    with open_store(sqlite_url) as store:
        with store.connection() as conn:
            by_connection = export(conn)
        with store.write() as session:
            by_session = export(session)
    assert by_session == by_connection
    assert {c["id"] for c in by_session["cases"]} == {c["id"] for c in _doc()["cases"]}
