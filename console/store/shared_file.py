"""A SQLite database that several OS users share: the file's mode follows its directory.

On a jump host the desk's database lives in a directory of the support group, setgid, so
that every file created in it belongs to that group (``install -d -m 2770 -g support``).
SQLite creates the ``-wal`` and ``-shm`` files with the database file's permissions, so a
database created 0660 gives the whole group files it can write, whoever opens it next. A
file created 0644 (the umask's default) locks every other user out ("read-only"), and the
``-wal``/``-shm`` a second user's attempt leaves behind lock out the first one.

In a directory that is not group-writable (the default one in the user's data directory)
the database is private: 0600.
"""

from __future__ import annotations

import contextlib
import grp
import os
import stat
from pathlib import Path

SHARED_FILE_MODE = 0o660
PRIVATE_FILE_MODE = 0o600


def group_shared(directory: Path) -> bool:
    """Whether ``directory`` is meant to be shared by its group: group-writable, and not
    writable by everyone (``/tmp`` is not a desk's directory: a database there is private)."""
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWGRP) and not mode & stat.S_IWOTH


def file_mode(directory: Path) -> int:
    return SHARED_FILE_MODE if group_shared(directory) else PRIVATE_FILE_MODE


def create_file(path: Path) -> None:
    """Create an empty database file (SQLite takes a 0-byte file as a new database) with
    the mode its directory calls for and the directory's group; no-op if it exists."""
    directory = path.parent
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, file_mode(directory))  # exact, whatever the umask says
        if group_shared(directory):
            gid = os.stat(directory).st_gid
            if os.fstat(fd).st_gid != gid:
                with contextlib.suppress(PermissionError):  # not in the group: advice() says so
                    os.fchown(fd, -1, gid)
    finally:
        os.close(fd)


def make_dir(path: Path, like: Path) -> None:
    """Create directory ``path`` (and parents) shared like directory ``like``: 2770 with
    its group when ``like`` is group-writable, else 0700."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    if group_shared(like):
        os.chmod(path, 0o2770)
        gid = os.stat(like).st_gid
        if os.stat(path).st_gid != gid:
            with contextlib.suppress(PermissionError):
                os.chown(path, -1, gid)
    else:
        os.chmod(path, 0o700)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def advice(path: Path) -> list[str]:
    """What is wrong with the sharing of the database at ``path``, in words (empty: fine)."""
    directory = path.parent
    try:
        dst = os.stat(directory)
    except OSError:
        return []
    out: list[str] = []
    if not group_shared(directory):
        return out  # a private database: nothing to share
    if not dst.st_mode & stat.S_ISGID:
        out.append(
            f"{directory} is group-writable but not setgid: the -wal/-shm files another "
            f"user creates there get that user's own group and lock the others out; "
            f"run `chmod g+s {directory}`"
        )
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            st = os.stat(p)
        except OSError:
            continue
        if not st.st_mode & stat.S_IWGRP:
            out.append(
                f"{p} is not group-writable: the other members of the group cannot "
                f"write it; run `chmod g+w {p}`"
            )
        if st.st_gid != dst.st_gid:
            out.append(
                f"{p} does not belong to the directory's group: run "
                f"`chgrp {_group(dst.st_gid)} {p}`"
            )
    return out
