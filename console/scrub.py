"""Forgetting a support user's name and e-mail wherever they were written (policy §11).

A purged user's id in a ``by`` field (or their name or address there) becomes ``removed
user``; their name and e-mail address inside any text (titles, notes, plan text, war-team
member names, time-entry notes, attachment names) are replaced by ``removed user``.

A match is case-insensitive and whole: not preceded or followed by a letter, digit or
``_`` (so "Al" is not taken out of "Also"). Longer needles are tried first. The
PostgreSQL purge function (migration 0010_identity) applies the same expression.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from console.rules.retention import REMOVED_USER


class Scrubber:
    def __init__(self, ids: Iterable[str], needles: Iterable[str | None]) -> None:
        self.ids = frozenset(str(i) for i in ids)
        found = {n.strip() for n in needles if isinstance(n, str) and n.strip()}
        self.needles = sorted(found, key=lambda n: (-len(n), n))
        self.pattern = (
            re.compile(
                r"(?<!\w)(?:" + "|".join(map(re.escape, self.needles)) + r")(?!\w)", re.IGNORECASE
            )
            if self.needles
            else None
        )

    @property
    def empty(self) -> bool:
        return not self.ids and not self.needles

    def text(self, value: Any) -> Any:
        if not isinstance(value, str) or self.pattern is None:
            return value
        return self.pattern.sub(REMOVED_USER, value)

    def by(self, value: Any) -> Any:
        if value is None:
            return None
        if value in self.ids:
            return REMOVED_USER
        return self.text(value)

    def data(self, value: Any) -> Any:
        """Every string inside a JSON value (keys stay)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value

    def like_terms(self) -> list[str]:
        """``LIKE`` patterns that every stored text holding a needle matches (a cheap
        first filter; SQLite's LIKE ignores ASCII case). JSON is stored with non-ASCII
        characters escaped, so each needle's escaped form is a term too."""
        terms: set[str] = set()
        for n in self.needles:
            for form in (n, json.dumps(n)[1:-1]):
                esc = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                terms.add(f"%{esc}%")
        return sorted(terms)
