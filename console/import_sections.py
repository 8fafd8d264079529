"""The streamed import's first reading of a file (``console.import_stream``): every
section but ``cases``, the number of cases, and the refusals that concern the file as a
whole (not JSON, not an object, nested too deep anywhere); or only the sections before
the cases (an export's, whose cases ``console.import_split`` then checks as it goes).
"""

from __future__ import annotations

import os
from typing import Any

import ijson

from console.importer import ImportRefused, read_document
from console.rules.policy import Records

#: A file this small that does not parse is parsed again by the standard library, whose
#: messages say line and column (and name NaN or Infinity); a larger one gets ijson's.
DIAGNOSE_LIMIT = 64 * 1024 * 1024


def read_sections(
    path: str, source: str, records: Records, *, until_cases: bool = False
) -> tuple[dict[str, Any], int | None]:
    """Every top-level section but ``cases``, and how many cases there are.

    Raises ImportRefused (one line) for a file that is not a JSON object, not valid JSON,
    or nested deeper than ``records.max_json_depth``. Ten million events for a
    hundred thousand cases: ijson's ``basic_parse`` (no prefixes to build) and, inside
    ``cases``, nothing but the depth and the count. ``until_cases``: stop where a list
    of cases opens, with the sections before it and ``None`` for the count (the rest of
    the file is unread); a file without one is read whole."""
    limit = records.max_json_depth
    sections: dict[str, Any] = {}
    n_cases = 0
    depth = 0
    key: str | None = None
    in_cases = False  # within the value of the top-level key "cases"
    builder: Any = None
    not_object = False
    try:
        with open(path, "rb") as fh:
            for event, value in ijson.basic_parse(fh, use_float=True):
                if event == "start_map" or event == "start_array":
                    depth += 1
                    if depth > limit:
                        raise ImportRefused([f"{source}: nested deeper than {limit} levels"])
                    if depth == 1:
                        not_object = event != "start_map"
                        continue
                    if in_cases:
                        if depth == 3:  # a case (an object, or wrongly a list)
                            n_cases += 1
                        elif depth == 2 and event == "start_map":
                            sections["cases"] = "not a list"
                        elif depth == 2 and until_cases:
                            return sections, None
                        continue
                elif event == "end_map" or event == "end_array":
                    depth -= 1
                    if depth == 0:
                        break
                    if in_cases:
                        in_cases = depth > 1
                        continue
                elif depth == 0:
                    raise _not_an_object()
                elif in_cases:
                    if depth == 2 and not sections.get("cases"):  # a case that is a scalar
                        n_cases += 1
                    elif depth == 1:  # "cases": a scalar
                        sections["cases"] = "not a list"
                        in_cases = False
                    continue
                elif depth == 1 and event == "map_key":
                    key = value
                    builder = None
                    in_cases = key == "cases" and not not_object
                    continue
                if not_object:  # read on: a nesting too deep is what to say first
                    continue
                if builder is None:
                    builder = ijson.ObjectBuilder()
                builder.event(event, value)
                if depth == 1:  # the value is complete (a scalar, or a container closed)
                    assert key is not None
                    sections[key] = builder.value
                    builder = None
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        raise diagnose(path, source, records, exc) from None
    except OSError as exc:
        raise ImportRefused([f"{source}: cannot read: {exc.strerror}"]) from None
    if not_object:
        raise _not_an_object()
    return sections, n_cases


def _not_an_object() -> ImportRefused:
    return ImportRefused(
        ["(file): expected a JSON object with subscribers, deployments, users, cases"]
    )


class ReadWhole(Exception):
    """ijson refused a small file that the standard library reads (a number beyond 64
    bits, say): import it the way a document in memory is imported."""

    def __init__(self, doc: Any) -> None:
        super().__init__("read whole")
        self.doc = doc


def diagnose(path: str, source: str, records: Records, exc: BaseException) -> Exception:
    """One line saying why the file is not JSON the import takes (ImportRefused), or, for a
    small file the standard library reads after all, ``ReadWhole`` with its document."""
    try:
        size = os.path.getsize(path)
    except OSError:
        size = DIAGNOSE_LIMIT + 1
    if size <= DIAGNOSE_LIMIT:
        try:
            return ReadWhole(_read_whole(path, source, records))
        except ImportRefused as refused:
            return refused
    if isinstance(exc, UnicodeDecodeError):
        return ImportRefused([f"{source}: not UTF-8 text"])
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "integer overflow" in first:
        return ImportRefused([f"{source}: a number beyond 64 bits (no field takes one)"])
    return ImportRefused([f"{source}: not valid JSON: {first}"])


def _read_whole(path: str, source: str, records: Records) -> Any:
    with open(path, "rb") as fh:
        return read_document(fh.read(), source, records)


def import_sections(sections: dict[str, Any]) -> dict[str, Any]:
    """The sections an import takes (an export's ``at`` and ``expected`` are not data)."""
    return {k: v for k, v in sections.items() if k not in ("at", "expected")}
