"""The desk's numbers for the monitoring stack, through ``prometheus_client``.

``support-console metrics`` (``console/cli/metrics.py``) prints them in the OpenMetrics
text format; ``--textfile DIR`` writes ``DIR/support_console.prom`` for node_exporter's
textfile collector (the library's ``write_to_textfile``: a temp file renamed into place, so
a scrape never reads half a file); ``--serve HOST:PORT`` runs the library's own HTTP
server, reading the database afresh at every scrape. Every figure is a gauge judged at one instant (``--at``, else
now), from the same code as ``queue``, ``escalations`` and ``meters``:

- support_open_cases{priority,risk_group}: open cases (not resolved, not closed) by
  priority (``none`` for cases without one) and policy §13 risk group (1 breached running
  clock ... 4 nothing to count);
- support_breached_clocks{clock}: breached clocks of open cases, the lines of ``check``;
- support_oldest_breach_age_seconds: since the earliest due of a breached running clock;
- support_escalations{column}: war-team cards by board column;
- support_late_status_updates: war teams owing a status update (policy §7);
- support_query_hours_used / _limit{subscriber}: this term's query-hour meters;
- support_notify_messages{status}: the notification outbox by status (pending and
  sending are its depth, failed are given up), and support_notify_oldest_waiting_age_seconds;
- support_database_up: 0 when the database cannot be read (then nothing else is given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from console.rules.clocks import RUNNING
from console.rules.policy import Policy
from console.rules.policy_book import PolicyBook
from console.rules.warteam import COLUMNS

CLOCK_NAMES = ("response", "workaround", "resolution", "update")
PRIORITY_LABELS = ("P0", "P1", "P2", "P3", "none")
TEXTFILE_NAME = "support_console.prom"


def desk_families(conn: Any, policy: Policy | PolicyBook, at: int, now: float) -> list[Any]:
    """Every metric family as of ``at`` (the cases) and ``now`` (the outbox's waiting age)."""
    from prometheus_client.core import GaugeMetricFamily

    from console.escalation import load_board
    from console.meters import load_meters
    from console.notify.outbox import oldest_waiting, status_counts
    from console.queue import load_queue

    rows = [r for r in load_queue(conn, policy, at) if r.eval.status == "open"]
    open_cases: dict[tuple[str, str], int] = {
        (p, str(g)): 0 for p in PRIORITY_LABELS for g in (1, 2, 3, 4)
    }
    breached = dict.fromkeys(CLOCK_NAMES, 0)
    oldest: int | None = None
    for r in rows:
        key = (r.eval.priority or "none", str(r.key[0]))
        open_cases[key] = open_cases.get(key, 0) + 1
        for name, st in r.eval.clocks.items():
            if st.breached:
                breached[name] = breached.get(name, 0) + 1
                if (
                    st.state == RUNNING
                    and st.due is not None
                    and (oldest is None or st.due < oldest)
                ):
                    oldest = st.due
    cases = GaugeMetricFamily(
        "support_open_cases",
        "Open cases by priority and risk group "
        "(policy 13: 1 breached, 2 running, 3 waiting, 4 nothing to count)",
        labels=["priority", "risk_group"],
    )
    for (prio, group), n in sorted(open_cases.items()):
        cases.add_metric([prio, group], n)
    clocks = GaugeMetricFamily(
        "support_breached_clocks", "Breached clocks of open cases", labels=["clock"]
    )
    for name, n in breached.items():
        clocks.add_metric([name], n)
    age = GaugeMetricFamily(
        "support_oldest_breach_age",
        "Seconds since the earliest due of a breached running clock (0 when none)",
        unit="seconds",
    )
    age.add_metric([], max(0, at - oldest) if oldest is not None else 0)

    cards = load_board(conn, policy, at)
    by_column = dict.fromkeys(COLUMNS, 0)
    for c in cards:
        by_column[c.column] = by_column.get(c.column, 0) + 1
    esc = GaugeMetricFamily(
        "support_escalations", "War-team cards by board column", labels=["column"]
    )
    for col, n in by_column.items():
        esc.add_metric([col], n)
    late = GaugeMetricFamily(
        "support_late_status_updates", "Escalated incidents whose war team owes a status update"
    )
    late.add_metric([], sum(1 for c in cards if c.update_overdue))

    used = GaugeMetricFamily(
        "support_query_hours_used", "Query hours counted this term", labels=["subscriber"]
    )
    limit = GaugeMetricFamily(
        "support_query_hours_limit", "Query-hour limit of the term", labels=["subscriber"]
    )
    for m in sorted(load_meters(conn, policy, at), key=lambda m: m.subscriber):
        used.add_metric([m.subscriber], m.used_hours)
        limit.add_metric([m.subscriber], m.limit_hours)

    counts = status_counts(conn)
    outbox = GaugeMetricFamily(
        "support_notify_messages",
        "Notification outbox by status "
        "(pending and sending: waiting; failed: given up after the last try)",
        labels=["status"],
    )
    for status, n in counts.items():
        outbox.add_metric([status], n)
    first = oldest_waiting(conn)
    waiting = GaugeMetricFamily(
        "support_notify_oldest_waiting_age",
        "Seconds the oldest undelivered notification has waited (0 when none)",
        unit="seconds",
    )
    waiting.add_metric([], max(0.0, now - first) if first is not None else 0)
    return [cases, clocks, age, esc, late, used, limit, outbox, waiting]


class DeskCollector:
    """A prometheus_client collector reading the database at each collection."""

    def __init__(
        self,
        store: Any,
        policy: Policy | PolicyBook,
        at: Callable[[], int],
        now: Callable[[], float] | None = None,
    ) -> None:
        from console import clock

        self.store, self.policy, self.at = store, policy, at
        self.now = now or clock.now  # the outbox's instants are the console clock's
        self.last_error: str | None = None

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("support_database_up", "1 when the database could be read")
        try:
            with self.store.connection() as conn:
                families = desk_families(conn, self.policy, self.at(), self.now())
        except Exception as exc:  # noqa: BLE001 - say so as a metric; a scrape must not fail
            self.last_error = str(exc)
            up.add_metric([], 0)
            yield up
            return
        self.last_error = None
        up.add_metric([], 1)
        yield up
        yield from families


def registry_for(
    store: Any, policy: Policy | PolicyBook, at: Callable[[], int]
) -> tuple[Any, DeskCollector]:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    collector = DeskCollector(store, policy, at)
    registry.register(collector)
    return registry, collector


def openmetrics_text(registry: Any) -> str:
    from prometheus_client.openmetrics.exposition import generate_latest

    text: bytes = generate_latest(registry)  # type: ignore[no-untyped-call]  # (unannotated)
    return text.decode("utf-8")
