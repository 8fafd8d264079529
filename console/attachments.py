"""Case attachments: a copy of the file in the desk's attachment store, with its name, size
and SHA-256.

Attaching copies the file into the attachment store (a directory beside a SQLite database,
``<db>-attachments/``, or ``$SUPPORT_CONSOLE_ATTACHMENTS``: set it to a shared directory
for a PostgreSQL desk). The store's files belong to the desk, so the retention purge
(policy §11) can remove the file with its record: "removed" means the file too. The
original the engineer attached from stays theirs.

Stored files are named by a random id (no name or address of anyone in a file name), and
shared with the group like the database (``console.store.shared_file``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import insert, select

from console.actions import Refused
from console.records import Conn, case_table
from console.rules.timeutil import format_instant
from models import Attachment, table_of

A = table_of(Attachment)
_CHUNK = 1 << 20
ENV_VAR = "SUPPORT_CONSOLE_ATTACHMENTS"
_INCOMING = ".incoming-"


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


def store_dir(store: Any) -> Path:
    """The desk's attachment store for ``store`` (created on first use)."""
    from console.store.engine import APP_NAME
    from console.store.shared_file import make_dir

    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured).expanduser().resolve()
        like = path.parent
    elif store.is_sqlite and store.engine.url.database not in (None, "", ":memory:"):
        db = Path(store.engine.url.database).resolve()
        path, like = db.with_name(db.name + "-attachments"), db.parent
    else:
        path = Path(platformdirs.user_data_dir(APP_NAME)) / "attachments"
        like = path.parent
    if not path.is_dir():
        like.mkdir(parents=True, exist_ok=True)
        make_dir(path, like)
    return path


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


def _copy_in(source: str, directory: Path) -> tuple[Path, str, int, str]:
    """Copy ``source`` to a temporary file in the store: (temp path, name, size, sha256)
    of exactly the bytes stored."""
    from console.store.shared_file import file_mode

    full = os.path.abspath(os.path.expanduser(source))
    if not os.path.isfile(full):
        raise Refused(f"{source}: no such file")
    tmp = directory / f"{_INCOMING}{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    size = 0
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.fchmod(fd, file_mode(directory))
        with open(full, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise Refused(f"{source}: cannot attach: {exc.strerror}") from None
    return tmp, os.path.basename(full), size, digest.hexdigest()


def add_attachment(
    store: Any, case_id: str, path: str, *, by: str | None, at: int
) -> AttachmentInfo:
    """Attach a copy of the file at ``path`` to a case (one transaction): the copy is in
    place before the record commits, and removed again if the record is refused."""
    directory = store_dir(store)
    tmp, name, size, sha = _copy_in(path, directory)
    final = directory / uuid.uuid4().hex
    try:
        with store.write() as session:
            if (
                session.execute(select(case_table.c.id).where(case_table.c.id == case_id)).first()
                is None
            ):
                raise Refused(f"unknown case {case_id!r}")
            res = session.execute(
                insert(A).values(
                    case_id=case_id,
                    name=name,
                    size=size,
                    sha256=sha,
                    path=str(final),
                    added_at=at,
                    added_by=by,
                )
            )
            new_id = int(res.inserted_primary_key[0])
            os.replace(tmp, final)
            return _info(session.execute(select(A).where(A.c.id == new_id)).one())
    except BaseException:
        for p in (tmp, final):
            with contextlib.suppress(OSError):
                p.unlink()
        raise


def list_attachments(conn: Conn, case_id: str) -> list[AttachmentInfo]:
    """A case's attachments in the order they were added."""
    return [
        _info(r) for r in conn.execute(select(A).where(A.c.case_id == case_id).order_by(A.c.id))
    ]


def attachment_json(a: AttachmentInfo) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "size": a.size,
        "sha256": a.sha256,
        "path": a.path,
        "added_at": format_instant(a.added_at),
        "added_by": a.added_by,
    }


def _overwrite_and_unlink(path: Path) -> None:
    """Zero the file's bytes, then remove it (on file systems that write in place, the
    content does not survive in the freed blocks)."""
    with contextlib.suppress(OSError), open(path, "r+b") as fh:
        size = os.fstat(fh.fileno()).st_size
        zeros = b"\0" * min(size, _CHUNK)
        left = size
        while left > 0:
            n = min(left, len(zeros))
            fh.write(zeros[:n])
            left -= n
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()


def remove_files(store: Any, removed: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Delete the files of purged attachments: ``removed`` holds their ``path`` and
    ``sha256``. A file is deleted only if it still holds the recorded bytes (a path from an
    old record may since hold something else). Returns (removed paths, problems)."""
    done: list[str] = []
    problems: list[str] = []
    for item in removed:
        path = Path(item["path"])
        if not path.exists():
            continue
        try:
            _, _, _, sha = file_facts(str(path))
        except Refused as exc:
            problems.append(f"{path}: {exc}")
            continue
        if sha != item.get("sha256"):
            problems.append(f"{path}: not removed: it no longer holds the attached file")
            continue
        try:
            _overwrite_and_unlink(path)
        except OSError as exc:
            problems.append(f"{path}: not removed: {exc.strerror}")
            continue
        done.append(str(path))
    return sorted(done), problems


#: A file younger than this may belong to an attach whose transaction is still open.
ORPHAN_AGE = 3600


def remove_orphans(store: Any, conn: Conn) -> list[str]:
    """Files in the attachment store that no record names (a purge whose file removal was
    interrupted, an attach that failed half-way): removed once an hour old (file ages are
    the file system's, so its clock)."""
    import time

    directory = store_dir(store)
    known = {r[0] for r in conn.execute(select(A.c.path))}
    oldest = time.time() - ORPHAN_AGE
    gone = []
    for p in sorted(directory.iterdir()):
        if not p.is_file() or str(p) in known:
            continue
        with contextlib.suppress(OSError):
            if p.stat().st_mtime > oldest:
                continue
        with contextlib.suppress(OSError):
            _overwrite_and_unlink(p)
            gone.append(str(p))
    return gone
