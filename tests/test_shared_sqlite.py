"""Two OS users share one SQLite database set up exactly as the README says (issue 13).

As root (CI runs as root), the test makes a throwaway group and two throwaway users, the
README's setgid directory, and runs ``support-console`` as each of them (``runuser``):
the first lead creates the database, the other user writes, the first writes again (the
step that failed with a 0644 file and a stranger's ``-wal``), each recorded as who they
are. Not root: skipped, saying why (under CI=true that is a failure).
"""

from __future__ import annotations

import grp
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-11-24T15:00:00Z"


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the shared-SQLite test must run in CI: {why}")
    pytest.skip(why)


def _sh(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, **kw)


class Desk:
    """The README's shared desk: a group, two members, a setgid directory."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.group, self.ana, self.ben = f"scd{tag}", f"sca{tag}", f"scb{tag}"
        self.root = Path(tempfile.mkdtemp(prefix="shared-desk-"))
        os.chmod(self.root, 0o755)  # stands in for /srv
        self.dir = self.root / "support"
        self.db = self.dir / "support.db"
        self.python: list[str] = []
        self.env: dict[str, str] = {}

    def setup(self) -> None:
        # README, "One shared database", as root:
        for cmd in (
            ["groupadd", self.group],
            ["useradd", "-M", "-s", "/usr/sbin/nologin", self.ana],
            ["useradd", "-M", "-s", "/usr/sbin/nologin", self.ben],
            ["usermod", "-aG", self.group, self.ana],
            ["usermod", "-aG", self.group, self.ben],
            ["install", "-d", "-m", "2770", "-g", self.group, str(self.dir)],
        ):
            proc = _sh(*cmd)
            assert proc.returncode == 0, (cmd, proc.stderr)
        self.python, self.env = self._interpreter()
        self.env["SUPPORT_CONSOLE_DB"] = str(self.db)  # /etc/profile.d/support-console.sh

    def _interpreter(self) -> tuple[list[str], dict[str, str]]:
        """A Python the throwaway users can run, with this checkout's packages: the venv's,
        or (the venv's interpreter lives where they cannot reach, e.g. pyenv under /root) a
        system Python of the same version given the venv's site-packages."""
        base = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.root),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "SUPPORT_CONSOLE_LIVE": "0",
            "SUPPORT_CONSOLE_CONFIG": str(self.root / "none.toml"),
            "TZ": "UTC",
        }
        probe = "import console.cli, sqlalchemy, textual"
        if (
            _sh("runuser", "-u", self.ana, "--", sys.executable, "-c", probe, env=base).returncode
            == 0
        ):
            return [sys.executable], base
        site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
        minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
        for exe in (f"/usr/bin/{minor}", f"/usr/local/bin/{minor}"):
            env = {**base, "PYTHONPATH": f"{REPO}{os.pathsep}{site}"}
            if (
                os.path.exists(exe)
                and _sh("runuser", "-u", self.ana, "--", exe, "-c", probe, env=env).returncode == 0
            ):
                return [exe], env
        _unavailable(f"no {minor} interpreter the throwaway users may run with this checkout")
        raise AssertionError("unreachable")

    def cli(self, user: str, *argv: str) -> subprocess.CompletedProcess:
        """``support-console ARGV`` as OS user ``user``, with a plain umask (022)."""
        code = (
            "import sys; from console import clock; clock.freeze(sys.argv[1]); "
            "from console.cli import main; sys.exit(main(sys.argv[2:]))"
        )
        return subprocess.run(
            ["runuser", "-u", user, "--", *self.python, "-c", code, NOW, *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env,
            umask=0o022,
        )

    def teardown(self) -> None:
        for user in (self.ana, self.ben):
            _sh("userdel", user)
        _sh("groupdel", self.group)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def desk():
    if os.geteuid() != 0:
        _unavailable("needs root to create two throwaway OS users (CI runs as root)")
    for tool in ("useradd", "usermod", "userdel", "groupadd", "groupdel", "runuser", "install"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is not installed")
    d = Desk()
    try:
        d.setup()
        yield d
    finally:
        d.teardown()


def _doc() -> dict:
    return {
        "subscribers": [
            {
                "id": "acme",
                "name": "Acme",
                "plan": "enterprise",
                "term_start": "2026-01-01",
                "term_end": "2026-12-31",
            }
        ],
        "deployments": [
            {
                "id": "acme-prod",
                "subscriber": "acme",
                "environment": "production",
                "managed": True,
                "product": "gateway",
                "version": "4.2.0",
            }
        ],
        "cases": [
            {
                "id": "I-1",
                "subscriber": "acme",
                "deployment": "acme-prod",
                "type": "incident",
                "priority": "P2",
                "title": "Gateway slow",
                "reported_at": "2026-11-24T14:00:00Z",
            }
        ],
    }


def _mode(path: Path) -> tuple[str, str, bool]:
    st = os.stat(path)
    return (
        oct(stat.S_IMODE(st.st_mode)),
        grp.getgrgid(st.st_gid).gr_name,
        bool(st.st_mode & stat.S_ISGID),
    )


def test_two_os_users_share_the_database_as_the_readme_says(desk: Desk):
    ana, ben = desk.ana, desk.ben
    # The first lead creates the database: group-writable, in the directory's group.
    done = desk.cli(ana, "init", "--lead", ana)
    assert done.returncode == 0, done.stderr
    assert "advice" not in done.stderr, done.stderr
    assert _mode(desk.db) == ("0o660", desk.group, False)
    src = desk.root / "desk.json"
    src.write_text(json.dumps(_doc()), encoding="utf-8")
    os.chmod(src, 0o644)
    done = desk.cli(ana, "import", str(src))
    assert done.returncode == 0, done.stderr
    # The other member writes (it failed "read-only" with a 0644 file) ...
    done = desk.cli(ben, "event", "I-1", "acknowledged", "--at", "2026-11-24T14:30:00Z")
    assert done.returncode == 0, done.stderr
    # ... and while ben holds it open, the -wal and -shm are the group's too.
    probe = (
        "import os, stat, sys; from console.store.engine import open_store; "
        "s = open_store(None); c = s.engine.connect(); c.exec_driver_sql('SELECT 1 FROM case_event'); "
        "db = sys.argv[1]; print(' '.join(oct(stat.S_IMODE(os.stat(db + x).st_mode)) + ':' "
        "+ str(os.stat(db + x).st_gid) for x in ('-wal', '-shm')))"
    )
    seen = subprocess.run(
        ["runuser", "-u", ben, "--", *desk.python, "-c", probe, str(desk.db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=desk.env,
        umask=0o022,
    )
    assert seen.returncode == 0, seen.stderr
    gid = grp.getgrnam(desk.group).gr_gid
    assert seen.stdout.split() == [f"0o660:{gid}", f"0o660:{gid}"]
    # The first user writes again (it failed once another user's -wal was left behind).
    done = desk.cli(
        ana, "event", "I-1", "status_update", "--note", "on it", "--at", "2026-11-24T14:40:00Z"
    )
    assert done.returncode == 0, done.stderr
    done = desk.cli(ben, "attach", "I-1", str(src))
    assert done.returncode == 0, done.stderr
    store = desk.dir / "support.db-attachments"
    assert _mode(store) == ("0o2770", desk.group, True)
    (copy,) = store.iterdir()
    assert _mode(copy)[:2] == ("0o660", desk.group)
    # Who did it is who logged in: each event names its OS login.
    done = desk.cli(ana, "case", "I-1", "--json")
    assert done.returncode == 0, done.stderr
    history = json.loads(done.stdout)["history"]
    assert [(e["kind"], e["by"]) for e in history] == [
        ("acknowledged", ben),
        ("status_update", ana),
    ]
    # Roles hold in the engine (advisory on SQLite: the README says so).
    done = desk.cli(ben, "suspend", "acme", "--reason", "abuse")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"not allowed: suspending a subscriber needs the lead role ({ben} is an engineer)"
    )
    done = desk.cli(ben, "init", "--lead", ben)
    assert done.returncode == 1
    assert "has a lead already" in done.stderr
    done = desk.cli(ana, "suspend", "acme", "--reason", "abuse")
    assert done.returncode == 0, done.stderr
    assert _mode(desk.db) == ("0o660", desk.group, False)


def test_init_advises_when_the_directory_is_not_setgid(desk: Desk):
    os.chmod(desk.dir, 0o770)  # group-writable, setgid forgotten
    done = desk.cli(desk.ana, "init", "--lead", desk.ana)
    assert done.returncode == 0, done.stderr
    assert f"advice: {desk.dir} is group-writable but not setgid" in done.stderr
    assert f"chmod g+s {desk.dir}" in done.stderr
