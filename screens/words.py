"""The words the screens use for the engine's names: event kinds, board columns, war-team
roles, plan parts, and the engine's refusals.

The engine and the CLI speak in field and event names (``kind: case CS-1 is already
acknowledged``, ``column: board_moved: ...``): exact for scripts, noise on a night shift.
Screens pass every refusal through ``refusal_text`` and every history entry through
``event_label``/``event_details``, so no internal name reaches the screen.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from console.text import inert

EVENT_WORDS = {
    "acknowledged": "acknowledged",
    "awaiting_subscriber": "awaiting the subscriber",
    "subscriber_responded": "subscriber responded",
    "workaround_provided": "workaround provided",
    "fix_eta_agreed": "fix ETA agreed",
    "resolved": "resolved",
    "closed": "closed",
    "reopened": "reopened",
    "status_update": "status update",
    "reclassified": "reclassified",
    "level_changed": "level changed",
    "time_logged": "time logged",
    "suspended": "SLA suspended",
    "unsuspended": "SLA suspension lifted",
    "escalated": "escalated",
    "war_team_member": "war team",
    "awaiting_vendor": "awaiting the vendor",
    "vendor_responded": "vendor responded",
    "plan_updated": "plan updated",
    "board_moved": "board",
    "cr_status": "change request",
    "vulnerability_confirmed": "vulnerability confirmed",
    "assigned": "assigned",
}
COLUMN_WORDS = {
    "escalated": "escalated",
    "team_formed": "team formed",
    "plan_agreed": "plan agreed",
    "mitigating": "mitigating",
    "resolved": "resolved",
}
ROLE_WORDS = {
    "engineer": "engineer",
    "executive": "executive",
    "subscriber_rep": "subscriber representative",
}
PLAN_WORDS = {
    "assessment": "technical assessment",
    "mitigation": "mitigation strategies",
    "resources": "resource allocation",
    "update_frequency": "status update frequency",
}
REASON_WORDS = {
    "subscription_lapsed": "term ended",
    "unauthorized_use": "unauthorised use",
    "usage_limit_exceeded": "query-hour limit exceeded",
    "license_noncompliance": "licence non-compliance",
    "abuse": "abuse of the support service",
    "illegal_use": "illegal use",
    "custom_extension": "custom product extension",
}
MISSED_WORDS = {
    "workaround": "workaround target missed",
    "resolution": "resolution target missed",
    "manual": "escalated by hand",
}
#: Option and field names the engine puts in messages, as words.
FIELD_WORDS = {
    "late_reason": "late-entry reason",
    "update_frequency": "status update frequency",
    "cr_status": "change-request status",
    "war_team_member": "war-team member",
    "plan_updated": "plan edit",
    "board_moved": "board move",
    "subscriber_rep": "subscriber representative",
    "team_formed": "team formed",
    "plan_agreed": "plan agreed",
    "custom_extension": "custom product extension",
    "usage_limit_exceeded": "query-hour limit exceeded",
    "subscription_lapsed": "term ended",
}
_NAMES = {**{k: v for k, v in EVENT_WORDS.items() if "_" in k}, **FIELD_WORDS}
_NAME_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _NAMES), key=len, reverse=True)) + r")\b"
)
#: ``CS-1: kind: ...``, ``CS-1: column: board_moved: ...``: the case id, then a field name.
_PREFIX = re.compile(r"^(?P<case>[^\s:]+): (?P<field>[a-z_]+): (?:(?P<kind>[a-z_]+): )?")
_FIELDS = {
    "kind",
    "column",
    "name",
    "text",
    "status",
    "level",
    "link",
    "note",
    "reason",
    "to",
    "at",
    "eta",
    "hours",
    "exempt",
    "role",
    "action",
    "part",
    "priority",
    "type",
    "criterion",
    "component",
    "incident",
    "missed",
    "late_reason",
}


def words(text: str) -> str:
    """``text`` with every internal name (event kinds, columns, roles) as words."""
    return _NAME_RE.sub(lambda m: _NAMES[m.group(1)], text)


def refusal_text(exc: BaseException | str) -> str:
    """The one line a screen shows for a refused action: ``not allowed: ...; nothing
    written`` for a role, else ``refused, nothing written: <why, in words>``."""
    message = str(exc).strip()
    if message.startswith("not allowed:"):
        return f"{words(message)}; nothing written"
    if message.endswith("nothing was written"):  # a database fault says so itself
        return f"refused: {words(message)}"
    m = _PREFIX.match(message)
    if m and m.group("field") in _FIELDS:
        rest = message[m.end() :]
        kind = m.group("kind")
        if kind and kind not in EVENT_WORDS:  # "name: Ana is ..." after the field: keep it
            rest = message[m.end("field") + 2 :]
        message = rest
    return f"refused, nothing written: {words(message)}"


def event_label(kind: str) -> str:
    return EVENT_WORDS.get(kind, kind.replace("_", " "))


def _when(value: Any, tz: tzinfo | None) -> str:
    from console.rules.timeutil import BadValue, parse_instant

    if not isinstance(value, str):
        return inert(str(value))
    try:
        ts = parse_instant(value)
    except BadValue:
        return inert(value)
    if tz is None:
        return value
    return datetime.fromtimestamp(ts, tz).strftime("%a %d %b %Y %H:%M %Z")


def _hours(h: Any) -> str:
    try:
        v = float(h)
    except (TypeError, ValueError):
        return inert(str(h))
    return f"{v:g} h"


def event_details(
    kind: str, data: dict[str, Any], *, by: str | None = None, tz: tzinfo | None = None
) -> str:
    """What an event says, in words (subscriber text made inert)."""
    d = dict(data or {})
    note = " ".join(str(d.pop("note", "") or "").split())
    late = d.pop("late_reason", None)
    d.pop("host", None)
    parts: list[str] = []
    if kind == "assigned":
        to = d.pop("to", None)
        if not to:
            parts.append("unassigned")
        elif to == by:
            parts.append(f"{to} took the case")
        else:
            parts.append(f"handed over to {to}")
    elif kind == "time_logged":
        hours = _hours(d.pop("hours", "?"))
        exempt = d.pop("exempt", False)
        parts.append(hours + (" · exempt from the query-hour limit" if exempt else ""))
    elif kind == "level_changed":
        parts.append(f"to {d.pop('level', '?')}")
        if d.get("link"):
            parts.append(f"fix: {d.pop('link')}")
    elif kind == "fix_eta_agreed":
        if d.get("eta"):
            parts.append(f"ETA {_when(d.pop('eta'), tz)}")
    elif kind == "reclassified":
        what = " ".join(str(d.pop(k)) for k in ("type", "priority") if d.get(k))
        parts.append(f"to {words(what)}" if what else "")
        for key, label in (("criterion", "criterion"), ("component", "component")):
            if d.get(key):
                parts.append(f"{label} {d.pop(key)}")
        if d.get("reason"):
            parts.append(f"because: {d.pop('reason')}")
    elif kind in ("suspended", "unsuspended"):
        reason = d.pop("reason", None)
        if reason:
            parts.append(REASON_WORDS.get(reason, str(reason)))
    elif kind == "escalated":
        missed = d.pop("missed", None)
        parts.append(MISSED_WORDS.get(str(missed), f"{missed} missed") if missed else "")
        if d.get("reason"):
            parts.append(f"because: {d.pop('reason')}")
    elif kind == "war_team_member":
        name, role = d.pop("name", "?"), d.pop("role", None)
        action = d.pop("action", "join")
        verb = "left" if action == "leave" else "joined"
        parts.append(f"{name} {verb}" + (f" as {ROLE_WORDS.get(role, role)}" if role else ""))
    elif kind == "board_moved":
        col = d.pop("column", "?")
        parts.append(f"moved to {COLUMN_WORDS.get(col, col)}")
    elif kind == "plan_updated":
        part = d.pop("part", "?")
        parts.append(f"{PLAN_WORDS.get(part, part)}: {' '.join(str(d.pop('text', '')).split())}")
    elif kind == "cr_status":
        parts.append(f"now {d.pop('status', '?')}")
    elif kind == "vulnerability_confirmed":
        parts.append(
            f"opened incident {d.pop('incident', '?')}"
            + (f" ({d.pop('priority')})" if d.get("priority") else "")
        )
    for key, value in d.items():  # anything else, named in words
        parts.append(f"{words(key).replace('_', ' ')}: {' '.join(str(value).split())}")
    if note:
        parts.append(note)
    if late:
        parts.append(f"late entry: {' '.join(str(late).split())}")
    return inert(" · ".join(p for p in parts if p))


def done_text(kind: str, data: dict[str, Any] | None = None, *, user: str | None = None) -> str:
    """The line after an action was recorded (``✔`` is the notice's)."""
    data = data or {}
    if kind == "assigned":
        to = data.get("to")
        if not to:
            return "unassigned: nobody holds the case now"
        return "you took the case" if to == user else f"handed over to {inert(str(to))}"
    if kind == "cr_status":
        return f"change request moved to {data.get('status', '?')}"
    if kind == "level_changed":
        return f"level changed to {data.get('level', '?')}"
    return f"{event_label(kind)} recorded"
