"""The cases of an export, in batches, each preparing process parsing only its own, and
the file not read whole before them.

An export (``console.exporter``) lays its cases out one way: ``"cases": [`` on its own
line after every other section, each case opening with ``{`` and closing with ``}`` two
spaces in, separated by ``},\\n  {``, the document closing right after the last. A raw
line break is never inside a JSON string, so those bytes are found without parsing: a
preparer of a parallel import (``console.import_stream``) reads past the others' batches
by counting them and parses its own as ``[`` + its bytes + ``]``. Otherwise each would
parse every case of the file, and the whole file would be read once more before them
(its depth, its count, any section after the cases): at a million cases a fifth of the
work, a sixth of it before anything else could start.

That is a guess about the layout, checked: the sections before the cases must read as
the head reader read them, the file must end as an export does, and each batch must
parse as a list of exactly the cases counted in it, none nested deeper than the policy
allows. Each batch is then a run of whole values separated at the list's own commas, so
the batches together are the list, the last thing in the document. A batch is parsed by
the standard library's parser, which gives up on deep nesting (its recursion limit)
where ijson would build it (in memory growing with the square of the depth); whatever
the two read differently (a number beyond 64 bits or beyond a float, NaN, an escaped
lone surrogate) is not taken. If a batch fails any of this (a file laid out otherwise,
not JSON, too deep), ``Unsplit`` is raised: the import is rolled back and made again,
the whole file read first as for any other file, which says what is wrong if anything,
in the same words as ever.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: How the cases list of an export opens, and how its cases are separated and end.
_OPEN = b'\n "cases": [\n  {'
_SEP = b"\n  },\n  {"
_CLOSE = (b"}\n ]\n}\n", b"}\n ]\n}")
#: Bytes read at a time while counting cases; the sections before them at most.
BLOCK = 1024 * 1024
HEAD_LIMIT = 64 * 1024 * 1024


class Unsplit(Exception):
    """The cases are not an export's after all (see the module docstring): import the
    file the ordinary way."""


@dataclass(frozen=True)
class SplitCases:
    """The byte range of the cases of an export at ``path``: from the first case's ``{``
    to the last one's ``}``; ``levels``: the nesting a case may have (the document's
    limit but the two levels above a case)."""

    path: str
    start: int
    end: int
    levels: int

    def count(self) -> int:
        """The number of cases (by their separators)."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return sum(n for _, _, n in _groups(fd, self.start, self.end, 0))
        finally:
            os.close(fd)

    def batches(self, size: int, share: tuple[int, int]) -> Iterator[tuple[int, list[Any] | None]]:
        """(number of cases, the cases) of each batch of ``size`` cases in turn, the cases
        parsed for the batches ``k`` with ``k % n == i`` of ``share`` ``(i, n)`` only (None
        for the others). Raises Unsplit."""
        mine, every = share
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for k, (first, stop, n) in enumerate(_groups(fd, self.start, self.end, size)):
                if k % every != mine:
                    yield n, None
                    continue
                cases = _parse(os.pread(fd, stop - first, first))
                if len(cases) != n or any(_deeper(c, self.levels) for c in cases):
                    raise Unsplit
                yield n, cases
        finally:
            os.close(fd)


def split_cases(path: str, sections: dict[str, Any], limit: int) -> SplitCases | None:
    """The cases of the file at ``path`` as an export lays them out, or None if it is not
    laid out so. ``sections``: what the head reader read before the cases; ``limit``: the
    document's nesting limit."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head, at = b"", -1
            while at < 0 and len(head) < HEAD_LIMIT:
                block = fh.read(1 << 20)
                if not block:
                    return None
                head += block
                at = head.find(_OPEN, max(0, len(head) - len(block) - len(_OPEN)))
            if at < 0:
                return None
            fh.seek(max(0, size - 16))
            tail = fh.read()
    except OSError:
        return None
    closing = next((c for c in _CLOSE if tail.endswith(c)), None)
    if closing is None:
        return None
    try:  # the sections before: "cases" is the document's own key, where the reader stopped
        before = json.loads(head[:at].rstrip().removesuffix(b",") + b"\n}")
    except ValueError:
        return None
    if before != sections:
        return None
    start, end = at + len(_OPEN) - 1, size - len(closing) + 1
    return SplitCases(path, start, end, limit - 2) if start < end else None


def _groups(fd: int, start: int, end: int, size: int) -> Iterator[tuple[int, int, int]]:
    """(first byte, end byte, number of cases) of each run of ``size`` cases (the last may
    be shorter; ``size`` 0: one run of all) of the bytes ``start``..``end`` of ``fd``,
    counted by their separators (read into one buffer, a block at a time)."""
    keep = len(_SEP) - 1  # a separator may begin in a block's last bytes
    buf = bytearray(BLOCK + keep)
    view = memoryview(buf)
    base = start  # the file offset of buf[0]
    filled = os.preadv(fd, [view[: min(BLOCK, end - start)]], start)
    first, count, i = start, 0, 0
    while True:
        j = buf.find(_SEP, i, filled)
        if j < 0:
            read_to = base + filled
            if read_to >= end:
                break
            tail = min(keep, filled)
            buf[:tail] = buf[filled - tail : filled]
            base = read_to - tail
            got = os.preadv(fd, [view[tail : tail + min(BLOCK, end - read_to)]], read_to)
            if not got:  # the file is shorter than it was: the last batch will not parse
                break
            filled, i = tail + got, 0
            continue
        count += 1
        i = j + 1
        if count == size:
            yield first, base + j + 4, count  # to the "}" closing the last case
            first, count = base + j + len(_SEP) - 1, 0  # from the "{" opening the next
    view.release()
    yield first, end, count + 1


#: A UTF-16 surrogate escaped (if the backslash is not itself escaped): ijson reads a lone
#: one otherwise than the standard library does.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _surrogate(text: bytes) -> bool:
    for m in _SURROGATE.finditer(text):
        at = before = m.start()
        while before and text[before - 1] == 0x5C:  # a backslash
            before -= 1
        if (at - before) % 2 == 0:
            return True
    return False


def _parse(text: bytes) -> list[Any]:
    """The cases of a batch's bytes, as ijson would read them; or Unsplit."""
    if _surrogate(text):
        raise Unsplit
    try:
        cases = json.loads(
            "[" + text.decode("utf-8") + "]",
            parse_constant=_refused,
            parse_int=_int64,
            parse_float=_finite,
        )
    except (ValueError, RecursionError):  # not JSON (or UTF-8), or what ijson refuses
        raise Unsplit from None
    if not isinstance(cases, list):
        raise Unsplit
    return cases


def _refused(name: str) -> Any:
    raise ValueError(name)


def _int64(text: str) -> int:
    n = int(text)
    if -(2**63) < n < 2**63:
        return n
    raise ValueError(text)


def _finite(text: str) -> float:
    x = float(text)
    if math.isinf(x):
        raise ValueError(text)
    return x


def _deeper(value: Any, levels: int) -> bool:
    """Whether ``value`` nests deeper than ``levels`` (a scalar: 0), by recursion no
    deeper than ``levels``."""
    if type(value) is dict:
        children: Any = value.values()
    elif type(value) is list:
        children = value
    else:
        return False
    if levels < 1:
        return True
    return any(_deeper(c, levels - 1) for c in children if type(c) is dict or type(c) is list)
