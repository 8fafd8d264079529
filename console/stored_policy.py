"""The desk's policy versions as stored, read into a book (policy §14).

Plain SQL (``console.plain_sql``): read on a SQLAlchemy connection or a bare driver
connection alike. Parsed versions are cached by their text's hash, so a console that
re-reads the book after each change parses a version once. ``console.policy_store``
(publishing) re-exports ``load_book``.
"""

from __future__ import annotations

import threading
from typing import Any

from console.plain_sql import rows
from console.rules.policy import Policy, default_policy, parse_policy
from console.rules.policy_book import PolicyBook, PolicyVersion

_parsed: dict[str, Policy] = {}
_lock = threading.Lock()


def _policy_of(conn: Any, number: int, sha: str) -> Policy:
    with _lock:
        found = _parsed.get(sha)
    if found is not None:
        return found
    (row,) = rows(conn, "SELECT text FROM policy_version WHERE number = :n", {"n": number})
    policy = parse_policy(row.text, f"policy version {number}")
    with _lock:
        _parsed[sha] = policy
    return policy


def load_book(conn: Any) -> PolicyBook:
    """The policy versions stored in the database (a book of the shipped policy if none).
    ``conn``: a SQLAlchemy connection or session, or a driver's connection."""
    found = rows(
        conn,
        'SELECT number, effective_at, sha256, reason, "by", recorded_at FROM policy_version '
        "ORDER BY number",
    )
    if not found:
        return PolicyBook.of(default_policy())
    return PolicyBook(
        tuple(
            PolicyVersion(
                r.number,
                r.effective_at,
                _policy_of(conn, r.number, r.sha256),
                r.reason,
                r.by,
                r.recorded_at,
                r.sha256,
            )
            for r in found
        )
    )
