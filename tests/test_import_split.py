"""A large export's import does not read the whole file before its cases, and each
preparer parses its own batches only, found by the bytes between cases (issue 14):
whatever the file, it answers and writes what the import answers and writes when the
whole file is read first. ``SPLIT_BYTES`` 0 makes every file large; ``BIG`` none. Files
are written compact or laid out as an export is (``indent`` 1: only those are split)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_support import init_db, run
from test_import_parallel import NOW, PAST, _desk, _last, _tables

from console import import_sections, import_split, import_stream
from console.rules.policy import Records
from console.rules.timeutil import parse_instant

BIG = 1 << 62
LIMIT = Records().max_json_depth


@pytest.fixture(params=[None, 1], ids=["compact", "export-layout"])
def indent(request) -> int | None:
    return request.param


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(text, "utf-8")
    return path


def _split(path: Path) -> bool:
    """Whether the file's cases are split by bytes (laid out as an export)."""
    found, _ = import_sections.read_sections(str(path), "f", Records(), until_cases=True)
    return import_split.split_cases(str(path), found, LIMIT) is not None


def _import(tmp_path: Path, capsys, monkeypatch, path: Path, *, large: bool):
    """(database, exit code, stderr) of ``import`` into a new SQLite database, in batches
    of 7 with two preparers; ``large``: taken for a large file."""
    monkeypatch.setattr(import_stream, "BATCH", 7)
    monkeypatch.setattr(import_stream, "PREPARERS", 2)
    monkeypatch.setattr(import_stream, "SPLIT_BYTES", 0 if large else BIG)
    target = tmp_path / f"{path.stem}-{large}.db"
    init_db(capsys, target)
    code, _, err = run(capsys, "--db", str(target), "import", str(path), now=NOW)
    return target, code, err


def _both(tmp_path: Path, capsys, monkeypatch, path: Path) -> tuple[list[Path], int, str]:
    """Both ways: the same exit code and words (asserted); the databases."""
    small, code, err = _import(tmp_path, capsys, monkeypatch, path, large=False)
    large, code2, err2 = _import(tmp_path, capsys, monkeypatch, path, large=True)
    assert (code2, err2) == (code, err)
    return [small, large], code, err


def _counting(monkeypatch) -> list:
    """The number of cases each ``import_cases`` call is given (None: an export's, not
    counted before)."""
    calls: list = []
    original = import_stream.import_cases

    def counted(*a, **k):
        calls.append(a[3])
        return original(*a, **k)

    monkeypatch.setattr(import_stream, "import_cases", counted)
    return calls


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_large_import_writes_what_one_reading_the_whole_file_first_writes(
    tmp_path: Path, capsys, monkeypatch, indent
):
    doc = _desk(120, 5)
    assert list(doc)[-1] == "cases"  # as an export writes it
    path = _file(tmp_path, "d", json.dumps(doc, indent=indent))
    assert _split(path) is (indent == 1)
    dbs, code, err = _both(tmp_path, capsys, monkeypatch, path)
    assert code == 0, err
    assert f"{len(doc['cases'])} cases" in err
    assert _tables(dbs[1]) == _tables(dbs[0])
    for at in PAST:
        got = [
            run(capsys, "--db", str(db), "queue", "--json", "--at", at, now=NOW)[1] for db in dbs
        ]
        assert got[0] == got[1], at


def test_sections_after_the_cases_are_imported_as_when_they_come_first(
    tmp_path: Path, capsys, monkeypatch, indent
):
    doc = _desk(50, 8)
    n = len(doc["cases"])
    calls = _counting(monkeypatch)
    first = _file(tmp_path, "first", json.dumps(doc, indent=indent))
    last = _file(  # what an export never writes: the subscribers and deployments last
        tmp_path,
        "last",
        json.dumps(
            {"cases": doc["cases"], "deployments": doc["deployments"], **doc}, indent=indent
        ),
    )
    assert _split(last) is (indent == 1)  # a guess the last batch does not bear out
    ordered, code, err = _import(tmp_path, capsys, monkeypatch, first, large=True)
    assert code == 0, err
    assert calls == ([None] if indent else [n])
    calls.clear()
    dbs, code, err2 = _both(tmp_path, capsys, monkeypatch, last)
    assert code == 0, err2
    assert err2 == err
    # split: the last batch runs into the sections after it; rolled back, made again
    assert calls == ([n, None, n] if indent else [n, n])
    assert _tables(dbs[1]) == _tables(dbs[0]) == _tables(ordered)


def test_a_section_given_again_after_the_cases_counts_as_it_did(
    tmp_path: Path, capsys, monkeypatch
):
    doc = _desk(30, 4)
    text = json.dumps(doc)[:-1] + ', "subscribers": []}'  # the later one is the one taken
    dbs, code, err = _both(tmp_path, capsys, monkeypatch, _file(tmp_path, "again", text))
    assert code == 1
    assert err.splitlines()[0] == "deployments[0].subscriber: unknown subscriber 'ent'"
    for db in dbs:
        assert _tables(db)["support_case"] == []


@pytest.mark.parametrize("where", ["late case", "very deep", "after the cases"])
def test_nesting_too_deep_late_in_the_file_refuses_it_whole(
    tmp_path: Path, capsys, monkeypatch, where: str, indent
):
    doc = _desk(60, 6)
    if where == "late case":
        doc["cases"][-3]["extra"] = _deep(LIMIT)  # the case is the third level
    elif where == "very deep":  # beyond the standard library's recursion: not built
        doc["cases"][-3]["extra"] = "DEEP"
    else:
        doc["users"] = [{"login": "x", "extra": _deep(LIMIT)}]
    text = json.dumps(doc, indent=indent).replace('"DEEP"', "[" * 100_000 + "]" * 100_000)
    path = _file(tmp_path, "deep", text)
    assert _split(path) is (indent == 1)  # guessed: the batches say otherwise
    calls = _counting(monkeypatch)
    dbs, code, err = _both(tmp_path, capsys, monkeypatch, path)
    assert calls == ([None] if indent else [])  # refused before any case, once read whole
    assert code == 1
    assert err.splitlines()[0] == f"{path}: nested deeper than {LIMIT} levels"
    for db in dbs:
        assert _tables(db)["support_case"] == []


def test_nesting_too_deep_is_said_before_the_sections_problems(
    tmp_path: Path, capsys, monkeypatch, indent
):
    doc = _desk(40, 2)
    doc["subscribers"][0]["plan"] = "no such plan"
    doc["cases"][-1]["extra"] = _deep(LIMIT + 5)
    path = _file(tmp_path, "both", json.dumps(doc, indent=indent))
    _, code, err = _both(tmp_path, capsys, monkeypatch, path)
    assert code == 1
    assert err.splitlines()[0] == f"{path}: nested deeper than {LIMIT} levels"


@pytest.mark.parametrize("diagnosed", [True, False])  # small: the standard library's words
@pytest.mark.parametrize(
    "cut",
    [
        lambda text: text[: text.rindex('"events"')],  # ends within the last case
        lambda text: text[: text.rindex("}")] + ', "users": [1,]}',  # after the cases
        lambda text: text + " x",  # after the document
        lambda text: text.replace('"case 50"', '"case 50",,'),  # within a late case
    ],
)
def test_invalid_json_late_in_the_file_refuses_it_whole(
    tmp_path: Path, capsys, monkeypatch, cut, diagnosed: bool, indent
):
    if not diagnosed:
        monkeypatch.setattr(import_sections, "DIAGNOSE_LIMIT", 0)
    whole = json.dumps(_desk(60, 9), indent=indent)
    text = cut(whole)
    assert text != whole
    path = _file(tmp_path, "bad", text)
    split = _split(path)  # only where the layout is intact: within a case
    assert split is (indent == 1 and "case 50" in text and ",," in text)
    calls = _counting(monkeypatch)
    dbs, code, err = _both(tmp_path, capsys, monkeypatch, path)
    if split:  # guessed, then read whole: refused before any case
        assert calls == [None]
    assert code == 1
    assert err.startswith(f"{path}: not valid JSON: "), err
    if diagnosed:
        assert "line " in err
        assert " column " in err
    for db in dbs:
        assert _tables(db)["support_case"] == []


@pytest.mark.parametrize("block", [3, 9, 100, import_split.BLOCK])
def test_an_exports_cases_are_split_into_the_batches_ijson_reads(
    tmp_path: Path, monkeypatch, block: int
):
    """Batches of 7 by bytes, read in blocks of ``block`` bytes (separators across two
    blocks), each preparer parsing its own: the cases, in order, and the count of each."""
    monkeypatch.setattr(import_split, "BLOCK", block)
    doc = _desk(45, 10)
    path = _file(tmp_path, "e", json.dumps(doc, indent=1))
    found, _ = import_sections.read_sections(str(path), "e", Records(), until_cases=True)
    split = import_split.split_cases(str(path), found, LIMIT)
    assert split is not None
    got = list(split.batches(7, (0, 1)))
    assert [n for n, _ in got] == [7] * 6 + [3]
    assert [c for _, batch in got for c in batch] == doc["cases"]
    theirs = list(split.batches(7, (1, 2)))
    assert [batch is None for _, batch in theirs] == [True, False] * 3 + [True]
    assert theirs[1][1] == doc["cases"][7:14]


@pytest.mark.parametrize(
    ("odd", "taken"),
    [
        # a case's events laid out as cases are: the bytes between cases found within one
        (lambda text: text.replace("\n    },\n    {", "\n  },\n  {", 1), True),
        # a case that is not an object, between two that are
        (
            lambda text: text.replace("\n  },\n  {", "\n  },\n  7,\n  {", 2).replace(
                "\n  },\n  7,\n  {", "\n  },\n  {", 1
            ),
            False,
        ),
    ],
    ids=["inner-list", "scalar-case"],
)
def test_a_file_laid_out_almost_as_an_export_is_read_again_the_ordinary_way(
    tmp_path: Path, capsys, monkeypatch, odd, taken: bool
):
    doc = _desk(40, 11)
    whole = json.dumps(doc, indent=1)
    at = whole.index('"cases": [')
    text = whole[:at] + odd(whole[at:])
    assert text != whole
    path = _file(tmp_path, "odd", text)
    assert _split(path)  # the guess is made; a batch does not bear it out
    calls = _counting(monkeypatch)
    dbs, code, err = _both(tmp_path, capsys, monkeypatch, path)
    assert calls[1:] == [None, len(json.loads(text)["cases"])]  # rolled back, read again
    assert _tables(dbs[1]) == _tables(dbs[0])
    if taken:
        assert code == 0, err
        assert f"{len(doc['cases'])} cases" in err
    else:
        assert code == 1
        assert "cases[2]" in err


def test_a_file_only_the_standard_library_reads_is_imported_as_before(
    tmp_path: Path, capsys, monkeypatch, indent
):
    doc = _desk(30, 1)
    doc["cases"][-2]["extra"] = 2**70  # beyond ijson's 64 bits
    path = _file(tmp_path, "big", json.dumps(doc, indent=indent))
    dbs, code, err = _both(tmp_path, capsys, monkeypatch, path)
    assert _tables(dbs[1]) == _tables(dbs[0])
    assert code == 0, err
    assert "imported 3 subscribers, 3 deployments, 0 users, 30 cases" in err


def test_the_progress_total_of_an_export_arrives_once_its_cases_are_counted(
    tmp_path: Path, capsys, monkeypatch, indent
):
    """An export's bar starts without a total (None) and is given the number of cases,
    once; any other file's starts with it."""
    from console.cli import admin

    seen: list[tuple] = []

    def progress(label: str, total: int | None):
        import contextlib

        seen.append(("start", label, total))

        @contextlib.contextmanager
        def bar():
            yield lambda n, total=None: seen.append(("tick", n, total))

        return bar()

    monkeypatch.setattr(admin, "progress", progress)
    doc = _desk(100, 3)
    path = _file(tmp_path, "p", json.dumps(doc, indent=indent))
    for large in (False, True):
        seen.clear()
        _, code, err = _import(tmp_path, capsys, monkeypatch, path, large=large)
        assert code == 0, err
        n = len(doc["cases"])
        split = large and indent == 1
        assert seen[0] == ("start", "import", None if split else n)
        ticks = [s for s in seen if s[0] == "tick"]
        assert sum(t[1] for t in ticks) == n
        totals = [t[2] for t in ticks if t[2] is not None]
        assert totals == ([n] if split else [])


def test_a_refusal_late_in_the_file_on_postgresql_writes_nothing(
    pg_server, pg_url: str, tmp_path: Path, capsys, monkeypatch
):
    """On PostgreSQL (no indexes dropped, revs read): refused late, nothing written; the
    file mended, the same answers as SQLite's."""
    import uuid

    from sqlalchemy import func, select
    from test_identity_pg import LEAD_PW, _grant

    from console.records import case_table, event_table
    from console.store.engine import open_store

    doc = _desk(50, 12)
    doc["cases"] = [c for c in doc["cases"] if _last(c) < parse_instant("2026-11-01T00:00:00Z")]
    monkeypatch.setattr(import_stream, "BATCH", 7)
    monkeypatch.setattr(import_stream, "SPLIT_BYTES", 0)
    lead = f"lead_{uuid.uuid4().hex[:8]}"
    code, _, err = run(capsys, "--db", pg_url, "init", "--lead", lead)
    assert code == 0, err
    try:
        _grant(capsys, monkeypatch, pg_url, lead, "lead", LEAD_PW)
        lead_url = pg_server.login_url(pg_url, lead, LEAD_PW)
        doc["cases"][-2]["extra"] = _deep(LIMIT)
        bad = _file(tmp_path, "pg-deep", json.dumps(doc, indent=1))
        code, _, err = run(capsys, "--db", lead_url, "import", str(bad), now=NOW)
        assert code == 1
        assert err.splitlines()[0] == f"{bad}: nested deeper than {LIMIT} levels"
        store = open_store(lead_url)
        try:
            with store.connection() as conn:
                for table in (case_table, event_table):
                    assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
        finally:
            store.dispose()
        del doc["cases"][-2]["extra"]
        good = _file(tmp_path, "pg-good", json.dumps(doc, indent=1))
        code, _, err = run(capsys, "--db", lead_url, "import", str(good), now=NOW)
        assert code == 0, err
        lite, code, err = _import(tmp_path, capsys, monkeypatch, good, large=True)
        assert code == 0, err
        for at in PAST:
            got = [
                run(capsys, "--db", db, "queue", "--json", "--at", at, now=NOW)[1]
                for db in (str(lite), lead_url)
            ]
            assert got[0] == got[1], at
    finally:
        pg_server.drop_database(pg_url)
        pg_server._admin(f'DROP ROLE IF EXISTS "{lead}"')


def test_the_terminal_bar_takes_a_total_given_late(monkeypatch):
    """On a terminal the bar starts with no total ("?") and shows it once given."""
    import io
    import sys

    from console.cli.common import progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with progress("import", None) as tick:
        tick(3)
        tick(0, 10)
        tick(7)
    shown = re.findall(r"\d+/[\d?]+", screen.getvalue())
    assert shown[0] == "0/?"  # drawn as it starts
    assert shown[-1] == "10/10"  # and as it ends


def test_time_entries_by_counted_event_ids_are_those_read_back(tmp_path: Path, capsys, monkeypatch):
    """On SQLite the time entries take their events' ids as counted; read back (as on
    PostgreSQL, or if the count is off) they are the same rows, in the same order."""
    doc = _desk(90, 13)
    logged = [c for c in doc["cases"] if any(e["kind"] == "time_logged" for e in c["events"])]
    assert len(logged) > 20
    path = _file(tmp_path, "t", json.dumps(doc))
    counted, code, err = _import(tmp_path, capsys, monkeypatch, path, large=False)
    assert code == 0, err
    monkeypatch.setattr(import_stream._EventIds, "written", lambda self, n: None)
    read_back = tmp_path / "read-back"
    read_back.mkdir()
    again, code, err = _import(read_back, capsys, monkeypatch, path, large=False)
    assert code == 0, err
    assert _tables(again)["time_entry"] == _tables(counted)["time_entry"]
    assert len(_tables(counted)["time_entry"]) == len(logged)


@pytest.mark.parametrize(("extra", "refused"), [(LIMIT - 3, False), (LIMIT - 2, True)])
def test_a_case_nested_to_the_limit_is_taken_one_level_more_is_not(
    tmp_path: Path, capsys, monkeypatch, extra: int, refused: bool
):
    """The document, the list of cases and the case are three levels: a list nested
    ``LIMIT - 3`` deep in a case reaches the limit exactly."""
    doc = _desk(30, 14)
    doc["cases"][20]["extra"] = _deep(extra)
    path = _file(tmp_path, "edge", json.dumps(doc, indent=1))
    calls = _counting(monkeypatch)
    _, code, err = _both(tmp_path, capsys, monkeypatch, path)
    # taken: split, never read whole; refused: by the batch, then by the whole file read
    assert calls == ([None] if refused else [len(doc["cases"]), None])
    assert code == (1 if refused else 0), err
    if refused:
        assert err.splitlines()[0] == f"{path}: nested deeper than {LIMIT} levels"
