"""A write the database refused for lack of a role, in one line of words.

PostgreSQL refuses with SQLSTATE 42501 (insufficient privilege): a missing GRANT ("permission
denied for table subscriber"), a row-level security check ("new row violates row-level
security policy for table case_event"), or one of our SECURITY DEFINER functions (whose
message already reads ``not allowed: ...``). The user sees which action needs which role,
never the SQL or its parameters.
"""

from __future__ import annotations

import re
from typing import Any

from console.errors import NotAllowed

INSUFFICIENT_PRIVILEGE = "42501"

_TABLE_WORDS = {
    "subscriber_suspension": "suspending a subscriber",
    "suspension_lift": "lifting a subscriber's suspension",
    "subscriber": "changing a subscriber",
    "subscriber_change": "changing a subscriber",
    "deployment": "changing a deployment",
    "deployment_change": "changing a deployment",
    "notify_receiver": "changing a notification receiver",
    "support_user": "changing a subscriber's support users",
    "product_version": "editing the support matrix",
    "policy_version": "publishing a policy version",
    "operator": "setting a role",
    "purge_audit": "purging",
}
_KIND_WORDS = {
    "suspended": "suspending a case's SLA",
    "unsuspended": "lifting a case's SLA suspension",
    "plan_updated": "editing a war-team plan",
    "escalated": "escalating an incident before a target is missed",
}
_TABLE_RE = re.compile(r'(?:table|relation) "?([a-z_]+)"?')
_STMT_RE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?([a-z_]+)", re.I)


def is_denial(err: BaseException) -> bool:
    orig = getattr(err, "orig", None)
    return getattr(orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE


def _first_line(orig: Any) -> str:
    lines = str(orig).strip().splitlines()
    return lines[0].strip() if lines else type(orig).__name__


def denial(err: BaseException) -> NotAllowed:
    """The NotAllowed for a database refusal (``is_denial(err)`` is true)."""
    orig = getattr(err, "orig", err)
    message = _first_line(orig)
    if message.startswith("not allowed:"):
        return NotAllowed(message)
    statement = getattr(err, "statement", "") or ""
    params = getattr(err, "params", None)
    m = _STMT_RE.match(statement)
    verb = m.group(1).split()[0].upper() if m else ""
    if m:
        table = m.group(2)
    else:
        named = _TABLE_RE.search(message)
        table = named.group(1) if named else ""
    if verb in ("UPDATE", "DELETE") and table not in _TABLE_WORDS:
        return NotAllowed(
            f"not allowed: changing or deleting {table or 'these'} records: the "
            "history is only ever added to"
        )
    if verb == "DELETE":
        return NotAllowed(f"not allowed: deleting {table} records needs the database's owner")
    if table == "case_event":
        kind = params.get("kind") if isinstance(params, dict) else None
        if kind in _KIND_WORDS:
            needs = "lead or executive" if kind == "plan_updated" else "lead"
            return NotAllowed(f"not allowed: {_KIND_WORDS[kind]} needs the {needs} role")
        return NotAllowed(
            "not allowed: recording an event in someone else's name needs the lead or system role"
        )
    if table == "escalation":
        return NotAllowed(f"not allowed: {_KIND_WORDS['escalated']} needs the lead role")
    if table == "support_case":
        return NotAllowed(
            "not allowed: opening a case in someone else's name needs the lead or system role"
        )
    if table in ("time_entry", "attachment"):
        return NotAllowed(
            f"not allowed: writing {table.replace('_', ' ')} records in someone "
            "else's name needs the lead or system role"
        )
    if table in _TABLE_WORDS:
        return NotAllowed(f"not allowed: {_TABLE_WORDS[table]} needs the lead role")
    return NotAllowed(f"not allowed: the database refused this change for your login ({message})")
