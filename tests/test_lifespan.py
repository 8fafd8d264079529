"""Product lifespan (policy §12): end of support, the flag on cases, the support matrix."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cli_support import init_db, make_lead, run

from console.actions import Refused
from console.lifespan import load_matrix, set_version
from console.rules.lifespan import (
    add_years,
    end_of_support,
    first_unsupported_instant,
    past_end_of_support,
)
from console.rules.timeutil import parse_instant
from console.store.engine import open_store

T = parse_instant


# -- the pure rule -------------------------------------------------------------------------


def test_release_plus_three_years_without_notice():
    assert end_of_support(date(2023, 5, 10)) == date(2026, 5, 10)


def test_notice_plus_one_year_when_later():
    # Notice 2026-01-15: support to 2027-01-15, later than release + 3 (2026-05-10).
    assert end_of_support(date(2023, 5, 10), date(2026, 1, 15)) == date(2027, 1, 15)


def test_release_plus_three_years_when_later_than_the_notice():
    # An early notice cannot shorten the 3 years from release.
    assert end_of_support(date(2023, 5, 10), date(2024, 2, 1)) == date(2026, 5, 10)
    # Equal: either.
    assert end_of_support(date(2023, 5, 10), date(2025, 5, 10)) == date(2026, 5, 10)


def test_february_29_becomes_february_28():
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert end_of_support(date(2024, 2, 29)) == date(2027, 2, 28)
    assert end_of_support(date(2021, 1, 1), date(2024, 2, 29)) == date(2025, 2, 28)
    # Supported through 28 February, flagged from 1 March.
    assert not past_end_of_support(date(2027, 2, 28), T("2027-02-28T23:59:59Z"))
    assert past_end_of_support(date(2027, 2, 28), T("2027-03-01T00:00:00Z"))


def test_past_from_the_day_after_in_utc():
    end = date(2026, 5, 10)
    assert not past_end_of_support(end, T("2026-05-10T23:59:59Z"))
    assert past_end_of_support(end, T("2026-05-11T00:00:00Z"))
    assert past_end_of_support(end, T("2026-05-10T22:00:00-03:00"))  # 01:00Z on the 11th
    assert first_unsupported_instant(end) == T("2026-05-11T00:00:00Z")
    assert not past_end_of_support(None, T("2099-01-01T00:00:00Z"))


# -- the matrix, the flag, the report ----------------------------------------------------


def _doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2027-12-31",
            }
        ],
        "deployments": [
            {
                "id": "old",
                "subscriber": "acme",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "3.9",
            },
            {
                "id": "new",
                "subscriber": "acme",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "4.2",
            },
            {
                "id": "odd",
                "subscriber": "acme",
                "environment": "production",
                "managed": False,
                "product": "connector",
                "version": "0.1",
            },
        ],
        "products": [
            {
                "product": "gateway",
                "version": "3.9",
                "released": "2023-03-01",
                "discontinuation_notice": "2025-06-01",
            },  # end: max(2026-03-01, 2026-06-01)
            {
                "product": "gateway",
                "version": "4.2",
                "released": "2025-01-20",
                "discontinuation_notice": None,
            },
        ],  # end: 2028-01-20
        "cases": [
            {
                "id": "C-old",
                "subscriber": "acme",
                "deployment": "old",
                "type": "incident",
                "priority": "P2",
                "title": "old version",
                "reported_at": "2026-05-01T14:00:00Z",
            },
            {
                "id": "C-new",
                "subscriber": "acme",
                "deployment": "new",
                "type": "incident",
                "priority": "P2",
                "title": "new version",
                "reported_at": "2026-05-01T14:00:00Z",
            },
            {
                "id": "C-odd",
                "subscriber": "acme",
                "deployment": "odd",
                "type": "incident",
                "priority": "P3",
                "title": "unlisted version",
                "reported_at": "2026-05-01T14:00:00Z",
            },
            {
                "id": "C-q",
                "subscriber": "acme",
                "type": "query",
                "title": "no deployment",
                "reported_at": "2026-05-01T14:00:00Z",
            },
            {
                "id": "C-closed",
                "subscriber": "acme",
                "deployment": "old",
                "type": "incident",
                "priority": "P3",
                "title": "closed",
                "reported_at": "2026-05-01T14:00:00Z",
                "events": [{"at": "2026-05-02T14:00:00Z", "kind": "closed", "by": "eng"}],
            },
        ],
    }


@pytest.fixture
def db(tmp_path: Path, capsys) -> str:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(_doc()), encoding="utf-8")
    url = str(tmp_path / "db.sqlite")
    init_db(capsys, url)
    code, _, err = run(capsys, "--db", url, "import", str(path))
    assert code == 0, err
    return url


def _flags(out: str) -> dict[str, tuple]:
    return {
        c["id"]: (c["end_of_support"], c["past_end_of_support"]) for c in json.loads(out)["cases"]
    }


def test_flag_in_queue_and_case_json(db: str, capsys):
    _, out, _ = run(capsys, "--db", db, "queue", "--json", "--at", "2026-06-01T12:00:00Z")
    assert _flags(out) == {
        "C-old": ("2026-06-01", False),
        "C-new": ("2028-01-20", False),
        "C-odd": (None, False),
        "C-q": (None, False),
    }
    _, out, _ = run(capsys, "--db", db, "queue", "--json", "--at", "2026-06-02T00:00:00Z")
    assert _flags(out)["C-old"] == ("2026-06-01", True)
    assert _flags(out)["C-new"] == ("2028-01-20", False)
    _, out, _ = run(capsys, "--db", db, "case", "C-old", "--json", "--at", "2026-06-02T00:00:00Z")
    case = json.loads(out)
    assert (case["end_of_support"], case["past_end_of_support"]) == ("2026-06-01", True)
    assert case["status"] == "open"  # flagged, not refused
    _, out, _ = run(capsys, "--db", db, "case", "C-old", "--json", "--at", "2026-06-01T23:59:59Z")
    assert json.loads(out)["past_end_of_support"] is False


def test_products_report_orders_by_end_of_support_with_open_cases(db: str, capsys):
    code, out, _ = run(capsys, "--db", db, "products", "--json", "--at", "2026-07-01T00:00:00Z")
    assert code == 0
    versions = json.loads(out)["versions"]
    assert [
        (v["product"], v["version"], v["end_of_support"], v["past_end_of_support"])
        for v in versions
    ] == [
        ("gateway", "3.9", "2026-06-01", True),
        ("gateway", "4.2", "2028-01-20", False),
        ("connector", "0.1", None, False),
    ]
    assert [c["id"] for c in versions[0]["open_cases"]] == ["C-old"]  # C-closed is not open
    assert [c["id"] for c in versions[2]["open_cases"]] == ["C-odd"]


def test_leads_edit_the_matrix(db: str, capsys):
    code, _, err = run(
        capsys,
        "--db",
        db,
        "product",
        "set",
        "gateway",
        "3.9",
        "--released",
        "2023-03-01",
        "--notice",
        "2026-01-01",
        login="eve",
    )
    assert code == 1
    assert "not allowed: editing the support matrix needs the lead role (eve is an engineer)" in err
    assert run(capsys, "--db", db, "init", "--lead", "lena")[0] == 0
    code, _, err = run(
        capsys,
        "--db",
        db,
        "product",
        "set",
        "gateway",
        "3.9",
        "--released",
        "2023-03-01",
        "--notice",
        "2026-01-01",
        login="lena",
    )
    assert code == 0, err
    assert "end of support 2027-01-01" in err
    _, out, _ = run(capsys, "--db", db, "queue", "--json", "--at", "2026-07-01T00:00:00Z")
    assert _flags(out)["C-old"] == ("2027-01-01", False)
    code, _, err = run(
        capsys,
        "--db",
        db,
        "product",
        "set",
        "gateway",
        "5.0",
        "--released",
        "2026-01-01",
        "--notice",
        "2025-01-01",
        login="lena",
    )
    assert code == 1
    assert "before the release" in err
    code, _, err = run(
        capsys,
        "--db",
        db,
        "product",
        "set",
        "gateway",
        "5.0",
        "--released",
        "2026-13-01",
        login="lena",
    )
    assert code == 1
    assert "--released" in err


def test_set_version_on_both_backends(db_url: str):
    with open_store(db_url) as store:
        make_lead(store, "lena", 0)
        v = set_version(
            store,
            product="gw",
            version="1",
            released=date(2024, 2, 29),
            notice=None,
            actor="lena",
            now=0,
        )
        assert v.end_of_support == date(2027, 2, 28)
        set_version(
            store,
            product="gw",
            version="1",
            released=date(2024, 2, 29),
            notice=date(2026, 6, 30),
            actor="lena",
            now=1,
        )
        with pytest.raises(Refused, match="lead role"):
            set_version(
                store,
                product="gw",
                version="1",
                released=date(2020, 1, 1),
                notice=None,
                actor="eve",
                now=2,
            )
        with store.connection() as conn:
            (got,) = load_matrix(conn).values()
        assert (got.end_of_support, got.updated_by, got.updated_at) == (
            date(2027, 6, 30),
            "lena",
            1,
        )


def test_import_validates_products_with_paths(tmp_path: Path, capsys):
    doc = {
        "products": [
            {"product": "gw", "version": "1", "released": "2024-02-30"},
            {
                "product": "gw",
                "version": "2",
                "released": "2024-01-01",
                "discontinuation_notice": "2023-01-01",
            },
            {"product": "gw", "version": "3", "released": "2024-01-01"},
            {"product": "gw", "version": "3", "released": "2024-01-01"},
            {"version": "4", "released": "2024-01-01"},
            "nope",
        ]
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    init_db(capsys, tmp_path / "db.sqlite")
    code, _, err = run(capsys, "--db", str(tmp_path / "db.sqlite"), "import", str(path))
    assert code == 1
    lines = err.splitlines()
    assert "products[0].released: not a date (YYYY-MM-DD): '2024-02-30'" in lines
    assert any(
        x.startswith("products[1].discontinuation_notice: the notice (2023-01-01) is before")
        for x in lines
    )
    assert "products[3].version: duplicate product version gw 3" in lines
    assert "products[4].product: missing" in lines
    assert "products[5]: expected an object" in lines


def test_export_round_trips_products(db: str, tmp_path: Path, capsys):
    _, first, _ = run(capsys, "--db", db, "export")
    assert json.loads(first)["products"] == [
        {
            "product": "gateway",
            "version": "3.9",
            "released": "2023-03-01",
            "discontinuation_notice": "2025-06-01",
        },
        {
            "product": "gateway",
            "version": "4.2",
            "released": "2025-01-20",
            "discontinuation_notice": None,
        },
    ]
    path = tmp_path / "exp.json"
    path.write_text(first, encoding="utf-8")
    other = str(tmp_path / "other.sqlite")
    init_db(capsys, other)
    assert run(capsys, "--db", other, "import", str(path))[0] == 0
    _, second, _ = run(capsys, "--db", other, "export")
    assert json.loads(first) == json.loads(second)
