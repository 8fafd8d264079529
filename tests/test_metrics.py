"""``support-console metrics``: OpenMetrics text parsed back by prometheus_client's parsers,
every value checked against ``queue --json``, ``escalations --json`` and ``meters --json``
on the same database at the same instant (SQLite and PostgreSQL); the textfile written
for node_exporter and the HTTP server (on 127.0.0.1 only)."""

from __future__ import annotations

import collections
import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from app_support import documents
from notify_support import LEAD, add_receiver, console_cmd, env_for, frozen, processes
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text

from console.cli import main
from console.notify.outbox import Message, insert_messages
from console.notify.receivers import O
from console.store.engine import open_store

AT = "2026-11-24T13:30:00Z"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def samples(families) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


@pytest.fixture
def desk(db_url: str, tmp_path: Path, capsys) -> str:
    """The worked examples and the console's own test cases, swept at AT (escalations with
    their war teams now owing updates), query time logged, and an outbox with a message
    waiting and one given up."""
    with frozen(AT):
        assert run(capsys, "--db", db_url, "init")[0] == 0  # only init creates a database
        for i, doc in enumerate(documents()):
            path = tmp_path / f"doc{i}.json"
            path.write_text(json.dumps(doc), "utf-8")
            code, _, err = run(capsys, "--db", db_url, "import", str(path))
            assert code == 0, err
        assert run(capsys, "--db", db_url, "init", "--lead", LEAD)[0] == 0
        code, _, err = run(capsys, "--db", db_url, "sweep", "--at", AT, "--no-notify")
        assert code == 0, err
        code, out, _ = run(capsys, "--db", db_url, "queue", "--json", "--at", AT)
        query = next(
            c["id"]
            for c in json.loads(out)["cases"]
            if c["type"] == "query" and c["status"] == "open"
        )
        code, _, err = run(
            capsys,
            "--db",
            db_url,
            "event",
            query,
            "time_logged",
            "--hours",
            "3.5",
            "--at",
            "2026-11-24T13:00:00Z",
        )
        assert code == 0, err
        rid = add_receiver(db_url, "json://127.0.0.1:9/x", ("breach",), at=AT)
        with open_store(db_url) as store, store.write() as s:
            insert_messages(
                s,
                [Message(rid, "breach", "X-1", "update", i, 0, "t", "b") for i in range(2)],
                now=1,
            )
            s.execute(O.update().where(O.c.period == 1).values(status="failed"))
    return db_url


def test_metrics_agree_with_queue_escalations_and_meters(desk: str, capsys):
    code, out, err = run(capsys, "--db", desk, "metrics", "--at", AT)
    assert code == 0, err
    assert out.endswith("# EOF\n")
    got = samples(parse_om(out))
    queue = json.loads(run(capsys, "--db", desk, "queue", "--json", "--at", AT)[1])["cases"]
    board = json.loads(run(capsys, "--db", desk, "escalations", "--json", "--at", AT)[1])[
        "escalations"
    ]
    meters = json.loads(run(capsys, "--db", desk, "meters", "--json", "--at", AT)[1])["subscribers"]

    open_cases = [c for c in queue if c["status"] == "open"]
    by_group = collections.Counter(
        (c["priority"] or "none", str(c["risk_group"])) for c in open_cases
    )
    metric = {
        (dict(k)["priority"], dict(k)["risk_group"]): v
        for (name, k), v in got.items()
        if name == "support_open_cases"
    }
    assert {k: v for k, v in metric.items() if v} == by_group
    assert sum(metric.values()) == len(open_cases) > 0

    breached = collections.Counter(
        name for c in open_cases for name, st in c["clocks"].items() if st["breached"]
    )
    metric = {
        dict(k)["clock"]: v for (name, k), v in got.items() if name == "support_breached_clocks"
    }
    assert {k: v for k, v in metric.items() if v} == breached
    assert breached

    from console.rules.timeutil import parse_instant

    dues = [
        parse_instant(st["due"])
        for c in open_cases
        for st in c["clocks"].values()
        if st["breached"] and st["state"] == "running"
    ]
    assert got[("support_oldest_breach_age_seconds", ())] == parse_instant(AT) - min(dues)

    columns = collections.Counter(e["column"] for e in board)
    metric = {dict(k)["column"]: v for (name, k), v in got.items() if name == "support_escalations"}
    assert {k: v for k, v in metric.items() if v} == columns
    assert columns
    late = sum(1 for e in board if e["update_overdue"])
    assert got[("support_late_status_updates", ())] == late > 0

    for m in meters:
        key = (("subscriber", m["id"]),)
        assert got[("support_query_hours_used", key)] == m["used_hours"]
        assert got[("support_query_hours_limit", key)] == m["limit_hours"]
    assert any(m["used_hours"] == 3.5 for m in meters)

    assert got[("support_notify_messages", (("status", "pending"),))] == 1
    assert got[("support_notify_messages", (("status", "failed"),))] == 1
    assert got[("support_notify_oldest_waiting_age_seconds", ())] > 0
    assert got[("support_database_up", ())] == 1


def test_textfile_is_written_whole_for_node_exporter(desk: str, tmp_path: Path, capsys):
    out_dir = tmp_path / "textfile"
    out_dir.mkdir()
    code, _, err = run(capsys, "--db", desk, "metrics", "--at", AT, "--textfile", str(out_dir))
    assert code == 0, err
    assert [p.name for p in out_dir.iterdir()] == ["support_console.prom"]  # no temp file left
    text = (out_dir / "support_console.prom").read_text("utf-8")
    assert "# EOF" not in text  # the classic text format node_exporter reads
    om = samples(parse_om(run(capsys, "--db", desk, "metrics", "--at", AT)[1]))
    age = ("support_notify_oldest_waiting_age_seconds", ())  # read a moment later
    assert {k: v for k, v in samples(parse_text(text)).items() if k != age} == {
        k: v for k, v in om.items() if k != age
    }
    code, _, err = run(capsys, "--db", desk, "metrics", "--textfile", str(tmp_path / "nowhere"))
    assert code == 1
    assert err.strip() == f"--textfile: no such directory: {tmp_path / 'nowhere'}"


def test_served_on_loopback_by_prometheus_client(desk: str, tmp_path: Path):
    log = tmp_path / "serve.log"
    with processes() as procs:
        fh = log.open("wb")
        proc = subprocess.Popen(
            console_cmd("metrics", "--serve", "127.0.0.1:0"),
            env=env_for(desk, AT),
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        fh.close()
        procs.append(proc)
        port = None
        for _ in range(300):
            m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", log.read_text())
            if m:
                port = int(m.group(1))
                break
            if proc.poll() is not None:
                break
            import time

            time.sleep(0.05)
        assert port, log.read_text()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read().decode("utf-8")
            assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
        got = samples(parse_om(body))
        assert got[("support_database_up", ())] == 1
        assert got[("support_notify_messages", (("status", "failed"),))] == 1
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert "metrics: stopped" in log.read_text()


def test_bad_listen_address_and_missing_database(tmp_path: Path, capsys):
    assert run(capsys, "--db", str(tmp_path / "x.db"), "init")[0] == 0
    code, _, err = run(capsys, "--db", str(tmp_path / "x.db"), "metrics", "--serve", "localhost")
    assert code == 1
    assert "--serve: expected HOST:PORT" in err
    code, _, err = run(capsys, "--db", str(tmp_path / "no" / "such" / "x.db"), "metrics")
    assert code == 2
    assert "no database at" in err
    assert not (tmp_path / "no").exists()
