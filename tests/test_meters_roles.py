"""Query-hour meters (policy §8), roles, subscriber suspensions and lapse (policy §6)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cli_support import init_db, run

from console.rules.meters import Entry, meter
from console.rules.policy import SubscriptionFacts, Terms, default_policy
from console.rules.timeutil import parse_instant

T = parse_instant


def terms(plan: str = "enterprise", limit: float | None = None, tz: str | None = None) -> Terms:
    return Terms(
        default_policy(),
        SubscriptionFacts(
            id="acme",
            plan=plan,
            timezone=tz,
            term_start=date(2026, 1, 1),
            term_end=date(2026, 12, 31),
            query_hour_limit=limit,
        ),
    )


def q(at: str, hours: float, exempt: bool = False, ctype: str = "query") -> Entry:
    return Entry(T(at), hours, exempt, ctype)


def test_only_query_hours_count_and_exempt_apart():
    m = meter(
        terms(),
        [
            q("2026-03-01T12:00:00Z", 10),
            q("2026-03-02T12:00:00Z", 5, exempt=True),
            q("2026-03-03T12:00:00Z", 7, ctype="incident"),
        ],
        T("2026-06-01T00:00:00Z"),
    )
    assert (m.used_hours, m.exempt_hours, m.limit_hours, m.percent, m.state) == (
        10,
        5,
        50,
        20.0,
        "ok",
    )


def test_term_boundary_in_the_subscription_zone():
    # New York: the term starts 2026-01-01 05:00Z and ends 2027-01-01 05:00Z.
    entries = [
        q("2026-01-01T04:59:59Z", 3),
        q("2026-01-01T05:00:00Z", 2),
        q("2027-01-01T04:59:59Z", 4),
        q("2027-01-01T05:00:00Z", 8),
    ]
    m = meter(terms(), entries, T("2027-02-01T00:00:00Z"))
    assert m.used_hours == 6
    basic = meter(terms("basic"), entries, T("2027-02-01T00:00:00Z"))  # -03:00: 03:00Z bounds
    assert basic.used_hours == 3 + 2  # the term ends 2027-01-01 03:00Z: both 2027 entries are out
    assert basic.limit_hours == 25


def test_entries_after_the_instant_asked_do_not_count():
    m = meter(
        terms(),
        [q("2026-03-01T12:00:00Z", 10), q("2026-05-01T12:00:00Z", 10)],
        T("2026-04-01T00:00:00Z"),
    )
    assert m.used_hours == 10


@pytest.mark.parametrize(
    ("used", "state"), [(39.5, "ok"), (40, "warning"), (50, "warning"), (50.25, "over")]
)
def test_warning_at_80_and_over_past_100_percent(used: float, state: str):
    m = meter(terms(), [q("2026-03-01T12:00:00Z", used)], T("2026-06-01T00:00:00Z"))
    assert m.state == state


def test_order_form_limit():
    m = meter(terms(limit=80), [q("2026-03-01T12:00:00Z", 64)], T("2026-06-01T00:00:00Z"))
    assert (m.limit_hours, m.percent, m.state) == (80, 80.0, "warning")


def test_forecast_at_the_term_burn_rate():
    # 25 h in the first 100 days (the New York term starts 2026-01-01 05:00Z): 0.25 h a
    # day, so the other 25 h take 100 more days: start + 200 days = 2026-07-20 01:00 local.
    at = T("2026-01-01T05:00:00Z") + 100 * 86400
    m = meter(terms(), [q("2026-02-01T12:00:00Z", 25)], at)
    assert m.forecast_limit_date == date(2026, 7, 20)
    slow = meter(terms(), [q("2026-02-01T12:00:00Z", 1)], at)
    assert slow.forecast_limit_date is None  # not within the term
    over = meter(terms(), [q("2026-02-01T12:00:00Z", 30), q("2026-02-03T12:00:00Z", 30)], at)
    assert over.forecast_limit_date == date(2026, 2, 3)  # the day it was reached


# -- through the CLI, with a database ------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path, capsys) -> str:
    doc = {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-02-10",
                "query_hour_limit": 10,
            }
        ],
        "deployments": [
            {
                "id": "acme-prod",
                "subscriber": "acme",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "4.2.0",
            }
        ],
        "cases": [
            {
                "id": "Q-1",
                "subscriber": "acme",
                "type": "query",
                "title": "q",
                "reported_at": "2026-02-02T14:00:00Z",
                "events": [
                    {"at": "2026-02-02T14:10:00Z", "kind": "acknowledged", "by": "e"},
                    {
                        "at": "2026-02-02T15:00:00Z",
                        "kind": "time_logged",
                        "by": "e",
                        "hours": 9,
                        "exempt": False,
                    },
                    {
                        "at": "2026-02-02T16:00:00Z",
                        "kind": "time_logged",
                        "by": "e",
                        "hours": 2,
                        "exempt": True,
                        "note": "doc fix",
                    },
                ],
            },
            {
                "id": "I-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P1",
                "title": "down",
                "reported_at": "2026-02-02T14:00:00Z",
                "events": [{"at": "2026-02-02T14:10:00Z", "kind": "acknowledged", "by": "e"}],
            },
        ],
    }
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    url = str(tmp_path / "db.sqlite")
    init_db(capsys, url)
    assert run(capsys, "--db", url, "import", str(path))[0] == 0
    assert run(capsys, "--db", url, "init", "--lead", "lena")[0] == 0
    return url


def test_meters_json(db: str, capsys):
    code, out, _ = run(capsys, "--db", db, "meters", "--json", "--at", "2026-02-03T00:00:00Z")
    assert code == 0
    (m,) = json.loads(out)["subscribers"]
    assert {
        k: m[k] for k in ("id", "limit_hours", "used_hours", "exempt_hours", "percent", "state")
    } == {
        "id": "acme",
        "limit_hours": 10,
        "used_hours": 9,
        "exempt_hours": 2,
        "percent": 90.0,
        "state": "warning",
    }


def test_engineer_cannot_suspend_lift_or_set_roles(db: str, capsys):
    for argv in (
        ["suspend", "acme", "--reason", "abuse"],
        ["lift", "acme"],
        ["event", "I-1", "suspended", "--reason", "abuse", "--at", "2026-02-02T15:00:00Z"],
        ["operators", "set", "eve", "lead"],
        ["renew", "acme", "--term-end", "2027-01-31"],
    ):
        code, _, err = run(capsys, "--db", db, *argv, login="eve")
        assert code == 1, (argv, err)
        assert err.startswith("not allowed: "), (argv, err)
        assert "needs the lead role" in err, (argv, err)
        assert "(eve is an engineer)" in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, (argv, err)


def test_suspension_stops_clocks_and_prevents_breach_and_escalation(db: str, capsys):
    code, _, err = run(
        capsys,
        "--db",
        db,
        "suspend",
        "acme",
        "--reason",
        "usage_limit_exceeded",
        "--from",
        "2026-02-02T15:00:00Z",
        login="lena",
    )
    assert code == 0, err
    code, out, _ = run(capsys, "--db", db, "queue", "--json", "--at", "2026-02-06T20:00:00Z")
    case = next(c for c in json.loads(out)["cases"] if c["id"] == "I-1")
    wk = case["clocks"]["workaround"]
    assert (wk["state"], wk["elapsed"], wk["breached"], wk["due"]) == (
        "suspended",
        50 * 60,
        False,
        None,
    )
    assert run(capsys, "--db", db, "check", "--at", "2026-02-06T20:00:00Z")[0] == 0
    assert "0 new escalation" in run(capsys, "--db", db, "sweep", "--at", "2026-02-06T20:00:00Z")[2]
    # Lifted: counting resumes from the lift.
    assert (
        run(capsys, "--db", db, "lift", "acme", "--at", "2026-02-06T20:00:00Z", login="lena")[0]
        == 0
    )
    _, out, _ = run(capsys, "--db", db, "queue", "--json", "--at", "2026-02-09T15:00:00Z")
    wk = next(c for c in json.loads(out)["cases"] if c["id"] == "I-1")["clocks"]["workaround"]
    # Fri 15:00-17:00 New York after the lift, then Mon 09:00-10:00.
    assert (wk["state"], wk["elapsed"]) == ("running", 50 * 60 + 7200 + 3600)


def test_lapse_after_term_end_and_renewal(db: str, capsys):
    """A renewal ends the lapse at its effective instant; the lapse stays a suspension for
    the time it lasted (policy §14): the past does not change when the renewal is recorded."""
    # term_end 2026-02-10: lapsed from 2026-02-11 00:00 New York = 05:00Z.
    _, out, _ = run(capsys, "--db", db, "case", "I-1", "--json", "--at", "2026-02-11T04:59:59Z")
    assert json.loads(out)["clocks"]["resolution"]["state"] == "running"
    _, out, _ = run(capsys, "--db", db, "case", "I-1", "--json", "--at", "2026-02-11T05:00:00Z")
    assert json.loads(out)["clocks"]["resolution"]["state"] == "suspended"
    during = run(capsys, "--db", db, "case", "I-1", "--json", "--at", "2026-02-11T15:00:00Z")[1]
    # Renewed on the 12th at 10:00 New York (recorded then).
    renewed = "2026-02-12T15:00:00Z"
    code, _, err = run(
        capsys, "--db", db, "renew", "acme", "--term-end", "2027-02-10", now=renewed, login="lena"
    )
    assert code == 0, err
    assert (
        run(capsys, "--db", db, "case", "I-1", "--json", "--at", "2026-02-11T15:00:00Z")[1]
        == during
    )
    _, out, _ = run(
        capsys, "--db", db, "queue", "--json", "--at", "2026-02-12T16:00:00Z", now=renewed
    )
    res = next(c for c in json.loads(out)["cases"] if c["id"] == "I-1")["clocks"]["resolution"]
    assert res["state"] == "running"
    before = json.loads(during)["clocks"]["resolution"]["elapsed"]
    assert res["elapsed"] == before + 3600  # only 10:00-11:00 on the 12th: nothing in the lapse
    # The workaround was missed before the lapse (Thursday 5 Feb): escalated at that instant;
    # nothing is missed during the lapse.
    out = run(capsys, "--db", db, "sweep", "--at", "2026-02-12T16:00:00Z", now=renewed)[1]
    assert out.strip() == "ESCALATED I-1 missed workaround at 2026-02-05T14:10:00Z"
    # The new term starts the day after the old one ended: its own query hours.
    code, out, _ = run(
        capsys, "--db", db, "meters", "--json", "--at", "2026-02-12T16:00:00Z", now=renewed
    )
    (m,) = json.loads(out)["subscribers"]
    assert (m["term_start"], m["term_end"], m["used_hours"]) == ("2026-02-11", "2027-02-10", 0)
    code, out, _ = run(capsys, "--db", db, "subscriber", "history", "acme", "--json", now=renewed)
    (change,) = json.loads(out)["changes"]
    assert change["facts"] == {"term_start": "2026-02-11", "term_end": "2027-02-10"}
    assert (change["effective_at"], change["by"], change["reason"]) == (renewed, "lena", "renewal")
