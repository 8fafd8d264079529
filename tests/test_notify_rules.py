"""The pure parts of notifications: the words of each message, receivers' filters and
settings, the retry schedule, URL masking."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.notify import messages
from console.notify.deliver import Settings
from console.notify.messages import CaseRef, span, until
from console.notify.receivers import (
    Receiver,
    ReceiverRefused,
    mask,
    parse_kinds,
    parse_lead_time,
    parse_priorities,
)
from console.rules.timeutil import parse_instant

T = parse_instant
NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
REF = CaseRef("CS-1", "acme", "P1", "incident", "Gateway down")


def _receiver(**kw) -> Receiver:
    base = dict(
        id=1,
        url="json://127.0.0.1/x",
        kinds=("escalation", "forecast"),
        subscribers=None,
        priorities=None,
        lead_time=1800,
        timezone="UTC",
        created_at=0,
        created_by="lead",
    )
    base.update(kw)
    return Receiver(**base)


def test_durations_in_words():
    assert span(0) == "0 min"
    assert span(45 * 60) == "45 min"
    assert span(4 * 3600) == "4 h"
    assert span(3600 + 5 * 60 + 59) == "1 h 05 min"
    assert span(-30) == "0 min"
    assert until(29 * 60 + 1) == "30 min"  # wall time rounds up: never "breaches in 29 min" late
    assert until(90 * 60) == "1 h 30 min"


@given(st.integers(min_value=0, max_value=10**7))
def test_until_never_says_less_than_the_time_left(seconds: int):
    m = re.fullmatch(r"(?:(\d+) h)? ?(?:(\d+) min)?", until(seconds))
    assert m, until(seconds)
    minutes = int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    assert (minutes - 1) * 60 < seconds <= minutes * 60 or seconds == minutes == 0


def test_escalation_message_in_words_in_the_receivers_zone():
    title, body = messages.escalation(
        REF,
        missed="workaround",
        target=24 * 3600,
        missed_at=T("2026-02-04T22:00:00Z"),
        overdue=65 * 60,
        column="escalated",
        tz=NY,
    )
    assert title == "CS-1 P1 acme: escalated to the war team, workaround target missed"
    assert body == (
        'CS-1 (P1 incident of acme, "Gateway down") missed its workaround target of '
        "24 h at Wed 04 Feb 2026 17:00 EST and is 1 h 05 min over it (counted time). "
        'It has been escalated to the war team; its card is in the board column "escalated".'
    )
    _, body = messages.escalation(
        REF,
        missed="workaround",
        target=24 * 3600,
        missed_at=T("2026-02-04T22:00:00Z"),
        overdue=0,
        column="escalated",
        tz=TOKYO,
    )
    assert "Thu 05 Feb 2026 07:00 JST" in body


def test_manual_escalation_names_the_lead_and_reason():
    title, body = messages.escalation(
        REF,
        missed="manual",
        target=None,
        missed_at=T("2026-02-04T15:00:00Z"),
        overdue=0,
        column="escalated",
        tz=NY,
        by="ana",
        reason="CEO called",
    )
    assert title == "CS-1 P1 acme: escalated to the war team by a lead"
    assert "escalated to the war team by ana at Wed 04 Feb 2026 10:00 EST" in body
    assert "Reason: CEO called." in body


def test_breach_forecast_and_late_update_messages():
    title, body = messages.breach(
        REF,
        clock="response",
        target=3600,
        missed_at=T("2026-02-04T15:00:00Z"),
        over=600,
        state="running",
        tz=NY,
    )
    assert title == "CS-1 P1 acme: response target breached"
    assert "breached its response target of 1 h, reached at Wed 04 Feb 2026 10:00 EST" in body
    assert "10 min over (counted time) and it is still running" in body
    title, body = messages.forecast(
        REF,
        clock="workaround",
        target=24 * 3600,
        due=T("2026-02-04T22:00:00Z"),
        at=T("2026-02-04T21:30:00Z"),
        tz=NY,
    )
    assert title == "CS-1 P1 acme: workaround breaches in 30 min"
    assert "reaches its 24 h target at Wed 04 Feb 2026 17:00 EST, in 30 min" in body
    title, body = messages.late_update(
        REF,
        due=T("2026-02-05T18:00:00Z"),
        last=T("2026-02-04T22:00:00Z"),
        frequency=4 * 3600,
        column="mitigating",
        tz=NY,
    )
    assert title == "CS-1 P1 acme: war-team status update late"
    assert "owed a status update at Thu 05 Feb 2026 13:00 EST (every 4 h" in body
    assert 'Board column: "mitigating"' in body


def test_subscriber_text_is_inert_in_messages():
    evil = CaseRef("CS-2", "acme\x1b]52;c;aGk=\x07", None, "query", "Title \x1b[31mred\x1b[0m")
    title, body = messages.breach(
        evil, clock="response", target=3600, missed_at=0, over=60, state="running", tz=NY
    )
    assert "\x1b" not in title + body
    assert "\x07" not in title + body
    assert "^[[31mred" in body
    assert title.startswith("CS-2 acme^[]52;c;aGk=^G: response")  # no priority: none shown


def test_receiver_filters():
    r = _receiver(subscribers=("acme",), priorities=("P0", "P1"))
    assert r.wants("escalation", "acme", "P1")
    assert not r.wants("escalation", "acme", "P2")
    assert not r.wants("escalation", "acme", None)  # a priority filter leaves out queries
    assert not r.wants("escalation", "zen", "P1")
    assert not r.wants("breach", "acme", "P1")  # not one of its kinds
    assert _receiver().wants("forecast", "anyone", None)
    assert not _receiver(removed_at=5).wants("escalation", "acme", "P1")


def test_settings_in_words_are_checked():
    assert parse_kinds("escalation, breach,escalation") == ("escalation", "breach")
    with pytest.raises(ReceiverRefused, match="unknown kind pager"):
        parse_kinds("breach,pager")
    assert parse_priorities("p0,P1") == ("P0", "P1")
    assert parse_priorities(None) is None
    with pytest.raises(ReceiverRefused, match="unknown priority P9"):
        parse_priorities("P9")
    assert parse_lead_time("30m") == 1800
    assert parse_lead_time("2h") == 7200
    assert parse_lead_time(None) == 1800
    for bad in ("soon", "30", "10s", "8d"):
        with pytest.raises(ReceiverRefused, match="--lead-time"):
            parse_lead_time(bad)


def test_retry_schedule_doubles_up_to_a_cap():
    s = Settings(backoff=30, max_backoff=300)
    assert [s.retry_after(n) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SUPPORT_CONSOLE_NOTIFY_ATTEMPTS", "3")
    monkeypatch.setenv("SUPPORT_CONSOLE_NOTIFY_BACKOFF", "0.5")
    s = Settings.from_env()
    assert (s.attempts, s.backoff) == (3, 0.5)
    monkeypatch.setenv("SUPPORT_CONSOLE_NOTIFY_LEASE", "soon")
    with pytest.raises(ValueError, match="SUPPORT_CONSOLE_NOTIFY_LEASE: not a number"):
        Settings.from_env()


def test_urls_are_masked_by_apprise():
    assert mask("json://user:s3cret@127.0.0.1:8080/hook") == "json://user:****@127.0.0.1:8080/hook"
    slack = mask("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general")
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in slack
    assert slack.startswith("slack://")
    assert mask("nonsense") == "?://****"
