"""Bounds on what may enter the record (policy §14's limits, as policy data).

A title, a note, an event's data and a whole import file are checked here before anything
is written: sizes in UTF-8 bytes, JSON nesting depth, numbers that JSON cannot carry
(NaN, Infinity), and NUL characters (which PostgreSQL refuses in text). Each check returns
the field and a sentence, never raises past its caller.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from console.rules.policy import Records

#: Event data fields holding free text, limited to ``max_note_bytes`` each.
TEXT_FIELDS = ("note", "text", "reason", "late_reason", "link", "name")


def text_problem(value: Any, limit: int, what: str) -> str | None:
    """Why ``value`` is not acceptable text of at most ``limit`` bytes (None: it is)."""
    if not isinstance(value, str):
        return f"{what} is text, got {type(value).__name__}"
    if "\x00" in value:
        return f"{what} contains a NUL character"
    if value.isascii():  # one byte a character, nothing to encode (the common case)
        if len(value) > limit:
            return f"{what} is {len(value)} bytes; at most {limit} are allowed"
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        return f"{what} is {size} bytes; at most {limit} are allowed"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid Unicode text"
    return None


def json_depth(obj: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((c, depth) for c in children)
    return deepest


def bad_number(obj: Any) -> bool:
    """Does ``obj`` hold a number JSON cannot carry (NaN, ±Infinity), at any depth?"""
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return True
        if isinstance(value, Mapping):
            stack.extend(value.values())
            stack.extend(k for k in value if not isinstance(k, str))
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False


#: Classes no nesting can hide in (tested first: an instance check against ``Mapping``
#: is slow, and an import makes millions).
_SCALARS = frozenset((str, int, float, bool, type(None)))


def data_problem(data: Mapping[str, Any], records: Records) -> tuple[str, str] | None:
    """(field, why) for event data that may not be stored, or None."""
    nested = any(
        v.__class__ not in _SCALARS and isinstance(v, Mapping | list | tuple) for v in data.values()
    )
    if nested and json_depth(data) > records.max_json_depth:
        return "data", f"nested deeper than {records.max_json_depth} levels"
    for key, value in data.items():
        if not isinstance(key, str) or "\x00" in key:
            return "data", "field names are text without NUL characters"
        if isinstance(value, float) and not math.isfinite(value):
            return key, f"{value!r} is not a number that can be recorded"
        if nested and bad_number(value):
            return key, "holds NaN or Infinity, which cannot be recorded"
        if isinstance(value, str):
            limit = records.max_note_bytes
            problem = text_problem(value, limit, key)
            if problem:
                return key, problem
        elif key in TEXT_FIELDS and value is not None:
            return key, f"{key} is text, got {type(value).__name__}"
        if isinstance(value, list | dict) and _has_bad_text(value, records.max_note_bytes):
            return key, "holds text with a NUL character or longer than allowed"
    return None


def _has_bad_text(obj: Any, limit: int) -> bool:
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if text_problem(value, limit, "") is not None:
                return True
        elif isinstance(value, Mapping):
            stack.extend(value.values())
            stack.extend(value.keys())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False


def title_problem(title: Any, records: Records) -> str | None:
    if not isinstance(title, str) or not title.strip():
        return "a case needs a title"
    return text_problem(title, records.max_title_bytes, "the title")
