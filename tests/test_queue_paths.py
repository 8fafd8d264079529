"""The one queue path (console/queue.py) against the per-case evaluation.

The queue carries each case's stored summary forward to the instant asked about and derives
the risk order from it without clock objects; the console's first screen reads only the
top rows. All must give exactly what evaluating each case from its events gives, with cases
reported up to three years apart (calendars laid out over several years, re-laid further
back mid-queue) and instants that cross year boundaries.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

from cli_support import init_db, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.output import case_fragment, row_fragment
from console.projection import project
from console.queue import QueueRow, _carry, key_at, usable
from console.rules.calendar import calendar_for
from console.rules.clocks import CaseFacts, Event, evaluate, risk_key, sort_events
from console.rules.policy import SubscriptionFacts, Terms, default_policy

POLICY = default_policy()
START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2026, 12, 31, tzinfo=UTC).timestamp())
YEAR_ENDS = [int(datetime(y, 1, 1, tzinfo=UTC).timestamp()) for y in (2025, 2026, 2027)]

TERMS = {
    "ent": Terms(POLICY, SubscriptionFacts("ent", "enterprise", term_start=None, term_end=None)),
    "bas": Terms(POLICY, SubscriptionFacts("bas", "basic", term_start=None, term_end=None)),
    "all": Terms(
        POLICY,
        SubscriptionFacts(
            "all",
            "enterprise",
            coverage="24x7",
            timezone="Europe/Lisbon",
            term_start=None,
            term_end=None,
        ),
    ),
}
KINDS = [
    "acknowledged",
    "awaiting_subscriber",
    "subscriber_responded",
    "workaround_provided",
    "status_update",
    "resolved",
    "reopened",
]


@st.composite
def case_story(draw: st.DrawFn, i: int) -> tuple[CaseFacts, list[Event], str]:
    sub = draw(st.sampled_from(sorted(TERMS)))
    prio = draw(st.sampled_from(["P1", "P2", "P3"]))
    reported = draw(st.integers(START, END)) // 60 * 60
    at = reported
    events = []
    for seq in range(draw(st.integers(0, 5))):
        at += draw(st.integers(60, 40 * 86400)) // 60 * 60
        events.append(Event(at, draw(st.sampled_from(KINDS)), "e", {}, seq))
    facts = CaseFacts(f"C-{i}", sub, "incident", prio, reported)
    return facts, _legal(events), sub


def _legal(events: list[Event]) -> list[Event]:
    """Keep the events a case's state allows (acknowledged once, responded after awaiting,
    reopened after resolved): the clocks' own input, not the lifecycle's test."""
    out, acked, awaiting, resolved = [], False, False, False
    for e in events:
        k = e.kind
        ok = (
            (k == "acknowledged" and not acked)
            or (k == "awaiting_subscriber" and not awaiting and not resolved)
            or (k == "subscriber_responded" and awaiting)
            or (k == "workaround_provided" and acked and not resolved)
            or k == "status_update"
            or (k == "resolved" and not resolved)
            or (k == "reopened" and resolved)
        )
        if not ok:
            continue
        acked |= k == "acknowledged"
        awaiting = (awaiting or k == "awaiting_subscriber") and k not in (
            "subscriber_responded",
            "resolved",
        )
        resolved = (resolved or k == "resolved") and k != "reopened"
        out.append(e)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stories=st.lists(st.integers(0, 10**6), min_size=1, max_size=8).flatmap(
        lambda xs: st.tuples(*[case_story(i) for i in range(len(xs))])
    ),
    at_offset=st.integers(-3 * 86400, 3 * 86400),
    year=st.sampled_from(YEAR_ENDS),
    order=st.randoms(),
)
def test_carried_summaries_equal_evaluation_across_years(stories, at_offset, year, order):
    at = year + at_offset // 60 * 60
    stories = list(stories)
    order.shuffle(stories)
    calendar_for.cache_clear()  # fresh calendars: each case may lay them out further back
    for facts, events, sub in stories:
        terms = TERMS[sub]
        ordered = sort_events(events)
        row = project(facts, ordered, terms)
        if not usable(row["anchor_at"], row["valid_until"], at) or row["status"] == "closed":
            continue
        fast = _carry(
            json.dumps(row["clocks"]),
            terms,
            row["type"],
            row["priority"],
            row["level"],
            row["status"],
            row["anchor_at"],
            row["valid_until"],
            at,
        )
        full = evaluate(facts, ordered, terms, at)
        assert fast.clocks == full.clocks, (facts, at)
        # The risk key straight from the stored columns, and the breach marking (policy
        # §13, §14), equal the evaluation's.
        qrow = QueueRow(
            (
                facts.id,
                sub,
                row["status"],
                row["type"],
                row["priority"],
                row["level"],
                facts.reported_at,
                row["anchor_at"],
                row["valid_until"],
                row["next_due"],
                json.dumps(row["clocks"]),
                "",
                None,
                row["escalated"],
                row["recorded_upto"],
                None,
                row["queue_json"],
            ),
            terms,
            at,
        )
        qrow.key = key_at(qrow, at)
        assert qrow.key == risk_key(facts.id, full.priority, facts.reported_at, full.clocks)
        assert qrow.marked == any(st.breached for st in full.clocks.values())
        assert qrow.eval.clocks == full.clocks
        # queue --json's text from the stored template is, byte for byte, the text built
        # from the summary, and it says what the evaluation says.
        templated = row_fragment(qrow)
        qrow.doc = None
        assert templated == row_fragment(qrow)
        assert json.loads(templated) == json.loads(case_fragment(qrow, {}))


def _history_doc(n: int, seed: int) -> dict:
    """A desk with cases reported over three years (2024-2026)."""
    rnd = random.Random(seed)
    subs = [
        {
            "id": "ent",
            "name": "Ent",
            "plan": "enterprise",
            "term_start": "2024-01-01",
            "term_end": "2027-12-31",
        },
        {
            "id": "bas",
            "name": "Bas",
            "plan": "basic",
            "term_start": "2024-01-01",
            "term_end": "2027-12-31",
            # Summaries written before a boundary cannot be carried past it: evaluated apart.
            "suspensions": [
                {
                    "reason": "usage_limit_exceeded",
                    "from": "2025-06-01T00:00:00Z",
                    "until": "2026-01-02T00:00:00Z",
                }
            ],
        },
        {
            "id": "all",
            "name": "All",
            "plan": "enterprise",
            "coverage": "24x7",
            "timezone": "Asia/Tokyo",
            "term_start": "2024-01-01",
            "term_end": "2027-12-31",
        },
    ]
    deps = [
        {
            "id": f"{s['id']}-prod",
            "subscriber": s["id"],
            "environment": "production",
            "managed": False,
            "product": "gateway",
            "version": "4.2.0",
        }
        for s in subs
    ]
    cases = []
    for i in range(n):
        sub = rnd.choice(subs)["id"]
        reported = rnd.randrange(START, END) // 60 * 60
        evs: list[dict] = []
        at = reported
        for kind in ("acknowledged", "awaiting_subscriber", "subscriber_responded", "resolved"):
            if rnd.random() < 0.5:
                break
            at += rnd.randrange(60, 30 * 86400) // 60 * 60
            evs.append({"at": _iso(at), "kind": kind, "by": "e"})
        cases.append(
            {
                "id": f"H-{i:04d}",
                "subscriber": sub,
                "deployment": f"{sub}-prod",
                "type": "incident",
                "priority": rnd.choice(["P1", "P2", "P3"]),
                "title": f"case {i}",
                "reported_at": _iso(reported),
                "events": evs,
            }
        )
    return {"subscribers": subs, "deployments": deps, "cases": cases}


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_queue_and_its_first_screen_equal_evaluation_over_three_years(
    tmp_path: Path, capsys, monkeypatch
):
    from sqlalchemy import select

    from console import queue
    from console.policy_store import load_book
    from console.queue import load_queue
    from console.records import case_facts, case_table, load_events, load_terms
    from console.store.engine import open_store

    db = tmp_path / "history.db"
    path = tmp_path / "h.json"
    path.write_text(json.dumps(_history_doc(300, 11)), "utf-8")
    init_db(capsys, db)
    code, _, err = run(capsys, "--db", str(db), "import", str(path), now="2027-06-30T00:00:00Z")
    assert code == 0, err
    with open_store(str(db)) as store, store.connection() as conn:
        book = load_book(conn)
        rows = conn.execute(select(case_table)).all()
        events = load_events(conn, [r.id for r in rows])
        for text in (
            "2024-12-31T23:30:00Z",
            "2025-01-01T00:30:00Z",
            "2025-12-31T23:59:00Z",
            "2026-01-05T15:00:00Z",
            "2027-01-01T00:00:00Z",
        ):
            at = int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
            calendar_for.cache_clear()
            fast = load_queue(conn, book, at)
            calendar_for.cache_clear()
            terms = load_terms(conn, book)
            full = []
            for r in rows:
                ev = evaluate(
                    case_facts(r), events[r.id], terms.case(r.subscriber_id, r.reported_at), at
                )
                if ev.listed and r.reported_at <= at:
                    full.append((risk_key(r.id, ev.priority, r.reported_at, ev.clocks), r.id, ev))
            full.sort(key=lambda x: x[0])
            assert [r.id for r in fast] == [i for _, i, _ in full], text
            assert {r.id: r.eval.clocks for r in fast} == {i: e.clocks for _, i, e in full}, text
            assert [r.marked for r in fast] == [
                any(st.breached for st in e.clocks.values())
                or any(x.kind == "escalated" and x.at <= at for x in events[i])
                for _, i, e in full
            ]
            # queue --json's text straight from the stored summary is the evaluated row's,
            # and from the stored template (every carried row has one) the same text.
            for r in fast:
                assert json.loads(row_fragment(r)) == json.loads(case_fragment(r, {})), (text, r.id)
            calendar_for.cache_clear()
            templated = load_queue(conn, book, at, with_json=True)
            assert [r.id for r in templated] == [r.id for r in fast]
            for r, plain in zip(templated, fast, strict=True):
                assert (r.doc is not None) == (r.snap is None), (text, r.id)
                assert row_fragment(r) == row_fragment(plain), (text, r.id)
            # The console's first screen: exactly the queue's first rows, however few.
            for n, page in ((1, 256), (7, 1), (40, 3), (150, 256), (400, 256)):
                monkeypatch.setattr(queue, "TOP_PAGE", page)  # tiny pages: many reads
                calendar_for.cache_clear()
                top = load_queue(conn, book, at, top=n)
                assert [r.id for r in top] == [i for _, i, _ in full[:n]], (text, n)


def test_a_template_that_does_not_fit_is_never_filled():
    """A stored template of another format (written by another version), or one whose
    slots do not match its summary (a row written by hand), is not used: the text is built
    from the summary, the same as without a template."""
    from console.output import TEMPLATE_FORMAT

    at0 = int(datetime(2026, 3, 2, 15, tzinfo=UTC).timestamp())
    facts = CaseFacts("C-9", "ent", "incident", "P1", at0, title="100% down")
    events = [Event(at=at0 + 600, kind="acknowledged", by="e", seq=1)]
    row = project(facts, events, TERMS["ent"])
    assert row["queue_json"].startswith(TEMPLATE_FORMAT)
    at = at0 + 3 * 3600

    def text(doc: str | None) -> str:
        values = (
            facts.id, "ent", row["status"], row["type"], row["priority"], row["level"],
            facts.reported_at, row["anchor_at"], row["valid_until"], row["next_due"],
            json.dumps(row["clocks"]), facts.title, None, False, None, None, doc,
        )  # fmt: skip
        qrow = QueueRow(values, TERMS["ent"], at)
        qrow.key = key_at(qrow, at)
        return row_fragment(qrow)

    plain = text(None)
    assert json.loads(plain)["title"] == "100% down"
    assert text(row["queue_json"]) == plain
    assert text("0" + row["queue_json"][1:]) == plain  # another format
    assert text(row["queue_json"] + " %d") == plain  # a slot too many
    assert text(row["queue_json"].replace("%d", "", 1)) == plain  # a slot too few
