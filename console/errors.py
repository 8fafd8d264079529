"""The refusals every layer raises: an action the rules do not allow, a stale view.

They live below the store and the actions so that the store itself can refuse (a what-if
console never writes) with the same exception the screens already show in words.
"""

from __future__ import annotations


class Refused(Exception):
    """The action is not allowed; nothing was written. The message says why."""


class Conflict(Refused):
    """The case changed since the operator's view was loaded (stale version)."""
