"""Watches the policy file (and the operator's config file) a console loaded.

An edited file is re-read; a good one is handed to ``on_policy``/``on_config`` and applies
to every pane without a restart; a broken one is refused with a message naming the line
(``on_error``) and the last good one stays in force. Runs in a thread (watchfiles on the
files' directories: inotify, no CPU while idle).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from console.config import Config, ConfigError, parse_config
from console.rules.policy import Policy, PolicyError, parse_policy


class FileWatch:
    def __init__(
        self,
        policy_path: str | Path | None,
        config_path: str | Path | None,
        on_policy: Callable[[Policy], None],
        on_config: Callable[[Config], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.policy_path = Path(policy_path).resolve() if policy_path else None
        self.config_path = Path(config_path).resolve() if config_path else None
        self.on_policy, self.on_config, self.on_error = on_policy, on_config, on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def paths(self) -> list[Path]:
        return [p for p in (self.policy_path, self.config_path) if p is not None]

    def start(self) -> None:
        if not self.paths():
            return
        self._thread = threading.Thread(target=self._run, name="file-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reload(self, path: Path) -> None:
        """Re-read one file and report the outcome (also called directly by tests)."""
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            self.on_error(f"{path}: cannot read ({exc.strerror}); keeping the last good version")
            return
        if path == self.policy_path:
            try:
                self.on_policy(parse_policy(text, str(path)))
            except PolicyError as exc:
                self.on_error(f"policy refused, the last good one stays in force: {exc}")
        elif path == self.config_path:
            try:
                self.on_config(parse_config(text, str(path)))
            except ConfigError as exc:
                self.on_error(f"config refused, the last good one stays in force: {exc}")

    def _run(self) -> None:
        from watchfiles import watch

        dirs = sorted({str(p.parent) for p in self.paths() if p.parent.exists()})
        if not dirs:
            return
        wanted = {str(p) for p in self.paths()}
        for changes in watch(*dirs, stop_event=self._stop, recursive=False, debounce=300, step=50):
            for path in sorted({p for _, p in changes if str(Path(p).resolve()) in wanted}):
                self.reload(Path(path).resolve())
