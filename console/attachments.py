"""Case attachments: a reference to a file with its name, size and SHA-256.

The console records where the file is (its absolute path) and what it was (name, size,
hash), so a later change to the file can be detected; it does not copy the file. The
retention purge (policy §11, ``console.retention``) removes the record; the file itself
belongs to whoever put it at that path, and the purge lists the paths it released.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from console.actions import Refused
from console.records import C, Conn
from console.rules.timeutil import format_instant
from models import Attachment

A = Attachment.__table__
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    case_id: str
    name: str
    size: int
    sha256: str
    path: str
    added_at: int
    added_by: str | None


def _info(r: Any) -> AttachmentInfo:
    return AttachmentInfo(r.id, r.case_id, r.name, r.size, r.sha256, r.path, r.added_at, r.added_by)


def file_facts(path: str) -> tuple[str, str, int, str]:
    """(absolute path, name, size, sha256) of a readable regular file; Refused otherwise."""
    full = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(full):
        raise Refused(f"{path}: no such file")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(full, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise Refused(f"{path}: cannot read: {exc.strerror}") from None
    return full, os.path.basename(full), size, digest.hexdigest()


def add_attachment(store: Any, case_id: str, path: str, *, by: str | None, at: int) -> AttachmentInfo:
    """Attach the file at ``path`` to a case (one transaction). The file is read first
    (name, size, hash); the record is written only if the case exists."""
    full, name, size, sha = file_facts(path)
    with store.write() as session:
        if session.execute(select(C.c.id).where(C.c.id == case_id)).first() is None:
            raise Refused(f"unknown case {case_id!r}")
        res = session.execute(insert(A).values(case_id=case_id, name=name, size=size, sha256=sha,
                                               path=full, added_at=at, added_by=by))
        new_id = int(res.inserted_primary_key[0])
        return _info(session.execute(select(A).where(A.c.id == new_id)).one())


def list_attachments(conn: Conn, case_id: str) -> list[AttachmentInfo]:
    """A case's attachments in the order they were added."""
    return [_info(r) for r in conn.execute(select(A).where(A.c.case_id == case_id).order_by(A.c.id))]


def attachment_json(a: AttachmentInfo) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "size": a.size, "sha256": a.sha256, "path": a.path,
            "added_at": format_instant(a.added_at), "added_by": a.added_by}
