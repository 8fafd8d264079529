"""The policy and config files are live: good edits apply, broken ones are refused."""

from __future__ import annotations

import threading
import time
from importlib import resources
from pathlib import Path

from console.config import Config, load_config
from console.policy_watch import FileWatch


def _shipped() -> str:
    return resources.files("console.rules").joinpath("policy.toml").read_text("utf-8")


def test_edited_policy_applies_and_broken_one_is_refused_naming_the_line(tmp_path: Path):
    path = tmp_path / "policy.toml"
    path.write_text(_shipped(), "utf-8")
    got: list = []
    errors: list[str] = []
    seen = threading.Event()

    def on_policy(p) -> None:
        got.append(p)
        seen.set()

    def on_error(msg: str) -> None:
        errors.append(msg)
        seen.set()

    watch = FileWatch(path, None, on_policy, lambda c: None, on_error)
    watch.start()
    try:
        time.sleep(0.5)
        path.write_text(
            _shipped().replace(
                '"incident.P1.response" = "1h"', '"incident.P1.response" = "45m"', 1
            ),
            "utf-8",
        )
        assert seen.wait(10)
        assert got
        assert got[-1].plans["enterprise"].targets["incident.P1.response"] == "45m"
        seen.clear()
        broken = _shipped().splitlines()
        broken[20] = "this is = = not toml"
        path.write_text("\n".join(broken), "utf-8")
        assert seen.wait(10)
        assert errors
        assert "line 21" in errors[-1]
        assert "last good one stays in force" in errors[-1]
        assert len(got) == 1  # the broken file never replaced the good policy
    finally:
        watch.stop()


def test_policy_with_a_bad_duration_is_refused(tmp_path: Path):
    path = tmp_path / "policy.toml"
    path.write_text(
        _shipped().replace('"incident.P2.response" = "4h"', '"incident.P2.response" = "4 hours"'),
        "utf-8",
    )
    errors: list[str] = []
    FileWatch(path, None, lambda p: None, lambda c: None, errors.append).reload(path)
    assert "incident.P2.response" in errors[0]
    assert "not a duration" in errors[0]


def test_config_file_and_environment(tmp_path: Path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[console]\ntimezone = "Europe/London"\nbell = false\n', "utf-8")
    monkeypatch.delenv("SUPPORT_CONSOLE_TZ", raising=False)
    monkeypatch.delenv("SUPPORT_CONSOLE_BELL", raising=False)
    c = load_config(cfg)
    assert (c.timezone, c.bell) == ("Europe/London", False)
    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", "America/Chicago")
    assert load_config(cfg).timezone == "America/Chicago"
    assert load_config(tmp_path / "missing.toml") == Config(timezone="America/Chicago")
    errors: list[str] = []
    cfg.write_text('[console]\ntimezone = "Mars/Base"\n', "utf-8")
    FileWatch(None, cfg, lambda p: None, lambda c: None, errors.append).reload(cfg.resolve())
    assert "unknown time zone" in errors[0]
