"""The streamed import's reading of a whole file: every section but ``cases``, the number
of cases, and the refusals that concern the file as a whole (not JSON, not an object,
nested too deep anywhere).

``read_sections`` reads it in this process. ``FullPass`` reads it in a forked process
while the cases are imported (``console.import_stream``): an export writes every other
section before ``cases``, so the import starts from those (``read_sections`` with
``until_cases``) and asks the full pass, before it commits, whether the file holds
anything that changes the answer.
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


class MoreSections(Exception):
    """The full pass found sections the import did not start from (after the cases: never
    in an export). The import so far is rolled back, to be made again with all of them
    (``sections`` None: the same ones, the cases read otherwise)."""

    def __init__(self, sections: dict[str, Any] | None, n_cases: int) -> None:
        super().__init__("sections after the cases")
        self.sections = sections
        self.n_cases = n_cases


class FullPass:
    """``read_sections`` of the whole file in a forked process, started now, for an
    import that starts from the sections ``before`` the cases; ``answer`` waits for it.
    The process ends with the import's (``die_with``), and ``close`` ends it if the
    import does not wait for it."""

    def __init__(self, path: str, source: str, records: Records, before: dict[str, Any]) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self._args = (path, source, records)
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_full_pass_into,
            args=(send, path, source, records, before, os.getpid()),
            name="import-full-pass",
            daemon=True,
        )
        self._proc.start()
        send.close()
        self._answer: tuple[Any, ...] | None = None

    def ready(self) -> bool:
        """Whether ``answer`` would return (or raise) without waiting."""
        return self._answer is not None or self._recv.poll()

    def answer(self) -> int:
        """The number of cases (waiting for it); raises the refusal ``read_sections`` would
        raise (ImportRefused), ``ReadWhole``, or ``MoreSections``."""
        if self._answer is None:
            try:
                self._answer = self._recv.recv()
            except EOFError:
                self._answer = ("failed", "the full pass ended without an answer")
            self.close()
        kind, *rest = self._answer
        if kind == "count":
            return int(rest[0])
        if kind == "more":
            raise MoreSections(rest[0], rest[1])
        if kind == "refused":
            raise ImportRefused(rest[0])
        if kind == "whole":  # a small file: read here again, as read_sections would
            raise ReadWhole(_read_whole(*self._args))
        raise RuntimeError(f"import: {rest[0]}")

    def close(self) -> None:
        if self._proc.is_alive() and self._answer is None:
            self._proc.terminate()
        self._proc.join()
        self._recv.close()


def _full_pass_into(
    send: Any, path: str, source: str, records: Records, before: dict[str, Any], parent: int
) -> None:
    die_with(parent)
    answer: tuple[Any, ...]
    try:
        found, n_cases = read_sections(path, source, records)
        sections = import_sections(found)
        answer = ("count", n_cases) if sections == before else ("more", sections, n_cases)
    except ImportRefused as exc:
        answer = ("refused", exc.problems)
    except ReadWhole:
        answer = ("whole",)
    except BaseException as exc:  # noqa: BLE001 - reported by the importing process, in words
        answer = ("failed", f"{type(exc).__name__}: {exc}")
    send.send(answer)
    send.close()


def die_with(parent: int) -> None:
    """A forked helper of the import ends with the import's (killed, it would wait on its
    queue forever): Linux's parent-death signal, and a look at the parent."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)
