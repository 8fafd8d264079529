"""Notifications in the store (SQLite and PostgreSQL): receivers and roles, the outbox
written with the escalation, timed messages enqueued once, claims, retries, leases."""

from __future__ import annotations

import threading

import pytest
from notify_support import (
    ACKED,
    LEAD,
    SWEEP_AT,
    Hook,
    T,
    add_receiver,
    frozen,
    incidents_doc,
    load,
)
from sqlalchemy import func, select

from console.actions import append_event, append_in
from console.cli import main
from console.notify.deliver import Deliverer, Settings, claim, record
from console.notify.detect import detect
from console.notify.outbox import Message, failed_messages, insert_messages, retry_failed
from console.notify.receivers import O, R, ReceiverRefused
from console.rules.policy import default_policy
from console.store.engine import open_store
from console.sweep import sweep
from models import Escalation


def run(capsys, *argv: str, login: str | None = None) -> tuple[int, str, str]:
    """The CLI in-process as ``login`` (the clock as the test froze it)."""
    from cli_support import as_login

    with as_login(login):
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _count(url: str, table=O, *where) -> int:
    with open_store(url) as store, store.connection() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _outbox(url: str) -> list[tuple]:
    with open_store(url) as store, store.connection() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    O.c.receiver_id, O.c.kind, O.c.case_id, O.c.clock, O.c.period, O.c.status
                ).order_by(O.c.receiver_id, O.c.kind, O.c.case_id, O.c.clock, O.c.period)
            )
        ]


# -- receivers, roles, bad input ------------------------------------------------------------


def test_leads_manage_receivers_engineers_are_refused_and_nothing_is_written(db_url, capsys):
    load(db_url, incidents_doc(1))
    secret = "json://hook:s3cret@127.0.0.1:9/pager"
    sqlite = db_url.startswith("sqlite")  # on PostgreSQL the operator is the database login
    with frozen(ACKED):
        if sqlite:
            code, _, err = run(
                capsys,
                "--db",
                db_url,
                "notify",
                "add",
                secret,
                "--on",
                "escalation",
                login="eng-bo",
            )
            assert code == 1
            assert err.strip() == (
                "refused: not allowed: adding a notification receiver needs the lead role "
                "(eng-bo is an engineer)"
            )
            assert _count(db_url, R) == 0
        bad = {
            ("--on", "escalation,pager"): "refused: --on: unknown kind pager: one or more of "
            "escalation, breach, forecast, late_update",
            (
                "--on",
                "breach",
                "--subscriber",
                "nobody",
            ): "refused: --subscriber: unknown subscriber nobody",
            ("--on", "breach", "--priority", "P7"): "refused: --priority: unknown priority P7: "
            "one or more of P0, P1, P2, P3",
            ("--on", "forecast", "--lead-time", "soon"): "refused: --lead-time: not a duration "
            "(e.g. 30m, 2h): 'soon'",
            ("--on", "breach", "--timezone", "Mars/Olympus"): "refused: --timezone: unknown time "
            "zone: 'Mars/Olympus'",
        }
        for opts, message in bad.items():
            code, _, err = run(capsys, "--db", db_url, "notify", "add", secret, *opts, login=LEAD)
            assert (code, err.strip()) == (1, message)
        code, _, err = run(
            capsys, "--db", db_url, "notify", "add", "nosuch://x/y", "--on", "breach", login=LEAD
        )
        assert code == 1
        assert "apprise cannot use this URL (nosuch://…)" in err
        assert _count(db_url, R) == 0
        code, out, err = run(
            capsys,
            "--db",
            db_url,
            "notify",
            "add",
            secret,
            "--on",
            "escalation,breach",
            "--subscriber",
            "alder-finance",
            "--priority",
            "P0,P1",
            "--timezone",
            "Europe/Lisbon",
            login=LEAD,
        )
        assert code == 0
        assert out.strip() == "1"
        assert "s3cret" not in err
        code, out, _ = run(capsys, "--db", db_url, "notify", "list", login="eng-bo")
        assert code == 0
        assert "s3cret" not in out
        assert "json://hook:****@127.0.0.1:9/pager" in out
        assert "escalation,breach for alder-finance, P0,P1; times in Europe/Lisbon" in out
        if sqlite:
            code, out, err = run(
                capsys, "--db", db_url, "notify", "list", "--reveal", login="eng-bo"
            )
            assert code == 1
            assert out == ""
            assert "revealing receivers' URLs needs the lead role" in err
        code, out, _ = run(capsys, "--db", db_url, "notify", "list", "--reveal", login=LEAD)
        assert code == 0
        assert secret in out
        if sqlite:
            code, _, err = run(capsys, "--db", db_url, "notify", "remove", "1", login="eng-bo")
            assert code == 1
            assert "needs the lead role" in err
        code, _, err = run(capsys, "--db", db_url, "notify", "remove", "7", login=LEAD)
        assert (code, err.strip()) == (1, "refused: no receiver 7 (see notify list)")
        code, _, err = run(capsys, "--db", db_url, "notify", "remove", "1", login=LEAD)
        assert code == 0
        assert "receiver 1 removed" in err
        code, out, _ = run(capsys, "--db", db_url, "notify", "list", login=LEAD)
        assert out == ""


def test_notify_test_sends_at_once_and_says_why_not(db_url, capsys):
    load(db_url, incidents_doc(1))
    with Hook(fail_first=1) as hook, frozen(ACKED):
        rid = add_receiver(db_url, hook.url())
        if db_url.startswith("sqlite"):  # on PostgreSQL the operator is the database login
            code, _, err = run(capsys, "--db", db_url, "notify", "test", str(rid), login="eng-bo")
            assert code == 1
            assert "testing a notification receiver needs the lead role" in err
        code, _, err = run(capsys, "--db", db_url, "notify", "test", str(rid), login=LEAD)
        assert code == 1
        assert err.strip() == (
            f"receiver {rid} (json://127.0.0.1:{hook.port}/hook): not delivered: "
            "Failed to send JSON POST notification: Internal server error., error=500."
        )
        code, _, err = run(capsys, "--db", db_url, "notify", "test", str(rid), login=LEAD)
        assert code == 0
        assert "test message delivered" in err
        assert (
            hook.received[-1].doc["title"]
            == f"support-console: test notification to receiver {rid}"
        )
        assert "at Mon 02 Feb 2026 09:00 EST" in hook.received[-1].doc["message"]
    assert _count(db_url) == 0  # a test goes straight out, not through the outbox


# -- the outbox and the escalation ------------------------------------------------------------


def test_escalation_messages_commit_with_the_escalation_or_not_at_all(db_url):
    load(db_url, incidents_doc(2))
    everyone = add_receiver(db_url, "json://127.0.0.1:9/all")
    add_receiver(db_url, "json://127.0.0.1:9/p0", priorities=("P0",))
    add_receiver(
        db_url, "json://127.0.0.1:9/other", subscribers=("alder-finance",), kinds=("breach",)
    )
    default_policy()
    with frozen(SWEEP_AT), open_store(db_url) as store:
        with pytest.raises(RuntimeError), store.write() as session:  # noqa: PT012 (the block is the transaction)
            append_in(
                session,
                store.is_sqlite,
                "INC-00",
                "escalated",
                at=T("2026-02-04T22:00:00Z"),
                by="sweep",
                data={"missed": "workaround"},
                recorded_at=T(SWEEP_AT),
            )
            assert session.execute(select(func.count()).select_from(O)).scalar_one() == 1
            raise RuntimeError("the host died before the commit")
        assert _count(db_url) == 0
        assert _count(db_url, Escalation.__table__) == 0
        made = sweep(store, T(SWEEP_AT), recorded_at=T(SWEEP_AT))
    assert [e.case_id for e in made] == ["INC-00", "INC-01"]
    assert _outbox(db_url) == [
        (everyone, "escalation", "INC-00", "workaround", 0, "pending"),
        (everyone, "escalation", "INC-01", "workaround", 0, "pending"),
    ]


def test_timed_messages_are_enqueued_once_whoever_detects_them(db_url):
    load(db_url, incidents_doc(2))
    rid = add_receiver(db_url, "json://127.0.0.1:9/x", kinds=("breach", "forecast", "late_update"))
    late = add_receiver(
        db_url, "json://127.0.0.1:9/late", kinds=("breach",), at="2026-02-04T21:00:00Z"
    )  # added after the update clocks breached
    policy = default_policy()
    with open_store(db_url) as store:
        # Wed 16:40 New York: the workaround is due at 17:00 (a forecast); the status-update
        # clocks breached Monday 13:00 (a breach each, for the first receiver only).
        at = T("2026-02-04T21:40:00Z")
        assert detect(store, policy, at, recorded_at=at) == 4
        assert detect(store, policy, at + 60, recorded_at=at + 60) == 0
        update_missed = T("2026-02-02T18:00:00Z")
        assert _outbox(db_url) == [
            (rid, "breach", "INC-00", "update", update_missed, "pending"),
            (rid, "breach", "INC-01", "update", update_missed, "pending"),
            (rid, "forecast", "INC-00", "workaround", T("2026-02-04T22:00:00Z"), "pending"),
            (rid, "forecast", "INC-01", "workaround", T("2026-02-04T22:00:00Z"), "pending"),
        ]
        # Thu 10:00: the workarounds have breached; escalated (no war-team messages yet).
        at = T(SWEEP_AT)
        results: list[int] = []

        def detect_elsewhere() -> None:
            with open_store(db_url) as other:
                results.append(detect(other, policy, at, recorded_at=at))

        threads = [threading.Thread(target=detect_elsewhere) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(results) == [0, 0, 4]  # workaround breaches for both receivers, once
        sweep(store, at, recorded_at=at)
        # Thu 13:00:01 New York: the war teams owe their first status update.
        at = T("2026-02-05T18:00:01Z")
        assert detect(store, policy, at, recorded_at=at) == 2
        append_event(
            store,
            "INC-00",
            "status_update",
            at=at + 60,
            by="eng",
            data={"note": "still on it"},
            recorded_at=at + 60,
        )
        assert detect(store, policy, at + 120, recorded_at=at + 120) == 0
    rows = _outbox(db_url)
    escalated = T("2026-02-04T22:00:00Z")
    assert [r for r in rows if r[1] == "late_update"] == [
        (rid, "late_update", "INC-00", "update", escalated, "pending"),
        (rid, "late_update", "INC-01", "update", escalated, "pending"),
    ]
    assert [r for r in rows if r[0] == late] == [
        (late, "breach", "INC-00", "workaround", 0, "pending"),
        (late, "breach", "INC-01", "workaround", 0, "pending"),
    ]
    with open_store(db_url) as store, store.connection() as conn:
        title, body = conn.execute(
            select(O.c.title, O.c.body).where(O.c.kind == "late_update", O.c.case_id == "INC-01")
        ).one()
    assert title == "INC-01 P1 alder-finance: war-team status update late"
    assert "owed a status update at Thu 05 Feb 2026 13:00 EST" in body


def test_the_same_message_key_is_written_once(db_url):
    load(db_url, incidents_doc(1))
    rid = add_receiver(db_url, "json://127.0.0.1:9/x", kinds=("breach",))
    m = Message(rid, "breach", "INC-00", "workaround", 0, 100, "t", "b")
    with open_store(db_url) as store:
        with store.write() as s:
            assert insert_messages(s, [m, m], now=1) == 1
        with store.write() as s:
            assert insert_messages(s, [m], now=2) == 0
    assert _count(db_url) == 1


# -- claims, retries, leases -----------------------------------------------------------------


def _enqueue(url: str, n: int, rid: int) -> None:
    with open_store(url) as store, store.write() as s:
        insert_messages(
            s,
            [
                Message(rid, "breach", f"INC-{i:02d}", "update", i, i, f"m{i}", "b")
                for i in range(n)
            ],
            now=1,
        )


def test_racing_deliverers_never_send_one_message_twice(db_url):
    load(db_url, incidents_doc(1))
    rid = add_receiver(db_url, "json://127.0.0.1:9/x", kinds=("breach",))
    _enqueue(db_url, 30, rid)
    sent: list[str] = []
    lock = threading.Lock()

    def sender(url: str, title: str, body: str) -> tuple[bool, str | None]:
        with lock:
            sent.append(title)
        return True, None

    def deliverer(i: int) -> None:
        with open_store(db_url) as store:
            Deliverer(store, Settings(), sender=sender, name=f"d{i}").deliver_due(budget=60)

    threads = [threading.Thread(target=deliverer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(sent) == sorted(f"m{i}" for i in range(30))
    assert _count(db_url, O, O.c.status == "sent") == 30


def test_failed_sends_back_off_then_fail_and_a_lead_can_queue_them_again(db_url, capsys):
    load(db_url, incidents_doc(1))
    rid = add_receiver(db_url, "json://127.0.0.1:9/x", kinds=("breach",))
    _enqueue(db_url, 1, rid)
    now = [1000.0]
    settings = Settings(attempts=3, backoff=10, max_backoff=100)
    with open_store(db_url) as store:
        d = Deliverer(
            store,
            settings,
            sender=lambda *a: (False, "HTTP 503 from the pager"),
            now=lambda: now[0],
        )
        assert d.deliver_due().retrying == 1
        assert d.deliver_due().handled == 0  # the first retry waits 10 s
        now[0] += 10
        assert d.deliver_due().retrying == 1
        now[0] += 19
        assert d.deliver_due().handled == 0  # the second waits 20 s
        now[0] += 1
        assert d.deliver_due().failed == 1
        now[0] += 1000
        assert d.deliver_due().handled == 0  # given up: never tried again by itself
        with store.connection() as conn:
            (row,) = failed_messages(conn)
        assert (row.attempts, row.last_error) == (3, "HTTP 503 from the pager")
    code, out, _ = run(capsys, "--db", db_url, "notify", "failed")
    assert code == 0
    assert "3 tries; last: HTTP 503 from the pager" in out
    assert "#1 " in out
    with open_store(db_url) as store:
        with pytest.raises(ReceiverRefused, match="needs the lead role"):
            retry_failed(store, None, actor="eng-bo")
        with pytest.raises(ReceiverRefused, match="no failed message 9"):
            retry_failed(store, [9], actor=LEAD)
        assert retry_failed(store, [1], actor=LEAD) == 1
        d = Deliverer(store, settings, sender=lambda *a: (True, None), now=lambda: now[0])
        assert d.deliver_due().sent == 1
    assert _count(db_url, O, O.c.status == "sent") == 1


def test_a_lapsed_lease_is_claimed_again_and_the_old_claim_cannot_record(db_url):
    load(db_url, incidents_doc(1))
    rid = add_receiver(db_url, "json://127.0.0.1:9/x", kinds=("breach",))
    _enqueue(db_url, 1, rid)
    settings = Settings(lease=10)
    with open_store(db_url) as store:
        first = claim(store, now=100, lease=10, me="a")
        assert first is not None
        assert first.attempts == 1
        assert claim(store, now=105, lease=10, me="b") is None  # held by a
        second = claim(store, now=112, lease=10, me="b")  # a died: its lease ran out
        assert second is not None
        assert (second.id, second.attempts) == (first.id, 2)
        assert record(store, first, True, None, now=113, settings=settings) is None
        assert record(store, second, True, None, now=113, settings=settings) == "sent"


def test_removing_a_receiver_cancels_what_it_has_waiting(db_url):
    load(db_url, incidents_doc(1))
    rid = add_receiver(db_url, "json://127.0.0.1:9/x", kinds=("breach",))
    _enqueue(db_url, 3, rid)
    from console.notify.receivers import remove_receiver

    with open_store(db_url) as store:
        _, n = remove_receiver(store, rid, actor=LEAD, now=T(SWEEP_AT))
        assert n == 3
        assert claim(store, now=10**10, lease=10, me="a") is None
    assert [r[-1] for r in _outbox(db_url)] == ["cancelled"] * 3
