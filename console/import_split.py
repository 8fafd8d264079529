"""The cases of an export, in batches, each preparing process parsing only its own.

Every preparer of a parallel import (``console.import_stream``) would otherwise parse
every case of the file, to throw away the batches of the others: at a million cases a
tenth of the import's work. An export (``console.exporter``) lays the cases out one way:
``"cases": [`` on its own line last in the document, each case opening with ``{`` and
closing with ``}`` two spaces in, separated by ``},\\n  {``. A raw line break is never
inside a JSON string, so those bytes are found without parsing; a preparer reads past the
others' batches by counting them, and parses its own as ``[`` + its bytes + ``]``.

That is a guess about the layout, checked: the sections before the cases must read as
the head reader read them, and each batch must parse as a list of exactly the cases
counted in it. Each batch is then a run of whole values separated at the list's own
commas, so the batches together are the list. If a batch does not parse so (a file laid
out otherwise, or not JSON), ``Unsplit`` is raised: the import is made again reading the
cases the ordinary way (``ijson.items``), which says what is wrong, if anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ijson

#: How the cases list of an export opens, and how its cases are separated and end.
_OPEN = b'\n "cases": [\n  {'
_SEP = b"\n  },\n  {"
_CLOSE = (b"}\n ]\n}\n", b"}\n ]\n}")
#: Bytes read at a time while counting cases; the sections before them at most.
BLOCK = 1024 * 1024
HEAD_LIMIT = 64 * 1024 * 1024


class Unsplit(Exception):
    """A batch of bytes is not the list of cases counted in it: read the file again the
    ordinary way."""


@dataclass(frozen=True)
class SplitCases:
    """The byte range of the cases of an export at ``path``: from the first case's ``{``
    to the last one's ``}``."""

    path: str
    start: int
    end: int

    def batches(self, size: int, share: tuple[int, int]) -> Iterator[tuple[int, list[Any] | None]]:
        """(number of cases, the cases) of each batch of ``size`` cases in turn, the cases
        parsed for the batches ``k`` with ``k % n == i`` of ``share`` ``(i, n)`` only (None
        for the others). Raises Unsplit (see the module docstring)."""
        mine, every = share
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for k, (first, stop, n) in enumerate(_groups(fd, self.start, self.end, size)):
                if k % every != mine:
                    yield n, None
                    continue
                text = b"[" + os.pread(fd, stop - first, first) + b"]"
                try:
                    cases = list(ijson.items(text, "item", use_float=True))
                except (ijson.JSONError, UnicodeDecodeError, ValueError):
                    raise Unsplit from None
                if len(cases) != n:
                    raise Unsplit
                yield n, cases
        finally:
            os.close(fd)


def split_cases(path: str, sections: dict[str, Any]) -> SplitCases | None:
    """The cases of the file at ``path`` as an export lays them out, or None if it is not
    laid out so. ``sections``: what the head reader read before the cases."""
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
    return SplitCases(path, start, end) if start < end else None


def _groups(fd: int, start: int, end: int, size: int) -> Iterator[tuple[int, int, int]]:
    """(first byte, end byte, number of cases) of each run of ``size`` cases (the last may
    be shorter) of the bytes ``start``..``end`` of ``fd``, counted by their separators
    (read into one buffer, a block at a time)."""
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
