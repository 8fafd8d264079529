"""The policy in force, by version (policy §14), and each subscriber's terms under it.

The desk's policy is stored in the database as versions, each in force from its effective
instant. A case is judged by the version in force at its ``reported_at``; a meter, a
retention purge or a new case by the version in force at the instant in question. A
policy file given to one console or command is a "what if": a book of that one policy,
marked so that nothing is written under it.

``TermsMap`` resolves a subscriber's ``Terms`` under a version lazily and shares them: a
queue of 100k cases builds one ``Terms`` per subscriber and version, not per case.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from console.rules.policy import Policy, SubscriptionFacts, Terms, TermsAt
from console.rules.timeutil import MIN_INSTANT


@dataclass(frozen=True)
class PolicyVersion:
    """One published version: in force from ``effective_at`` until the next one."""

    number: int
    effective_at: int
    policy: Policy
    reason: str = ""
    by: str | None = None
    recorded_at: int = MIN_INSTANT
    sha256: str = ""


@dataclass(frozen=True)
class PolicyBook:
    """Every version of the desk's policy, in effective order; or one what-if policy."""

    versions: tuple[PolicyVersion, ...]
    what_if: str | None = None  # the file a what-if book came from
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("a policy book needs at least one version")
        ordered = tuple(sorted(self.versions, key=lambda v: (v.effective_at, v.number)))
        object.__setattr__(self, "versions", ordered)
        object.__setattr__(self, "_starts", tuple(v.effective_at for v in ordered))

    @classmethod
    def of(cls, policy: Policy, *, what_if: str | None = None) -> PolicyBook:
        """A book of one policy, in force at every instant."""
        return cls((PolicyVersion(1, MIN_INSTANT, policy, "single policy"),), what_if=what_if)

    def version_at(self, ts: int) -> PolicyVersion:
        """The version in force at ``ts`` (before the first one: the first)."""
        if len(self.versions) == 1:
            return self.versions[0]
        i = bisect.bisect_right(self._starts, ts) - 1
        return self.versions[max(i, 0)]

    def at(self, ts: int) -> Policy:
        return self.version_at(ts).policy

    @property
    def latest(self) -> PolicyVersion:
        """The version with the latest effective instant (it may lie in the future)."""
        return self.versions[-1]

    def known_at(self, ts: int) -> PolicyBook:
        """The versions recorded by ``ts`` (``--as-known-at``); the first always counts."""
        kept = tuple(v for v in self.versions if v.recorded_at <= ts) or self.versions[:1]
        if len(kept) == len(self.versions):
            return self
        return PolicyBook(kept, what_if=self.what_if)

    def next_change_after(self, ts: int) -> int | None:
        i = bisect.bisect_right(self._starts, ts)
        return self._starts[i] if i < len(self._starts) else None


def as_book(policy: Policy | PolicyBook) -> PolicyBook:
    """Engine functions take a book; a bare policy (tests, what-if) is a book of one."""
    return policy if isinstance(policy, PolicyBook) else PolicyBook.of(policy)


class TermsMap(Mapping[str, SubscriptionFacts]):
    """Subscribers' facts, and their ``Terms`` under each policy version (built once).

    As a mapping it gives each subscriber's facts; ``case`` and ``now`` give the terms a
    case is judged by and the terms in force at an instant.
    """

    def __init__(self, book: PolicyBook, facts: Mapping[str, SubscriptionFacts]) -> None:
        self.book = book
        self.facts = dict(facts)
        self._cache: dict[tuple[str, int], Terms] = {}
        self._single = book.versions[0] if len(book.versions) == 1 else None

    def __getitem__(self, sid: str) -> SubscriptionFacts:
        return self.facts[sid]

    def __iter__(self) -> Iterator[str]:
        return iter(self.facts)

    def __len__(self) -> int:
        return len(self.facts)

    def _terms(self, sid: str, version: PolicyVersion) -> Terms:
        key = (sid, version.number)
        t = self._cache.get(key)
        if t is None:
            t = self._cache[key] = Terms(version.policy, self.facts[sid])
        return t

    def case(self, sid: str, reported_at: int) -> Terms:
        """The terms a case of ``sid`` reported at ``reported_at`` is judged by."""
        v = self._single or self.book.version_at(reported_at)
        return self._terms(sid, v)

    def now(self, sid: str, at: int) -> TermsAt:
        """The terms in force for ``sid`` at ``at`` (meters, new cases, eligibility): the
        policy version and the subscription's facts of that instant."""
        v = self._single or self.book.version_at(at)
        return self._terms(sid, v).at(at)

    def add(self, facts: SubscriptionFacts) -> None:
        """Add or replace one subscriber's facts (an import being validated)."""
        self.facts[facts.id] = facts
        for key in [k for k in self._cache if k[0] == facts.id]:
            del self._cache[key]
