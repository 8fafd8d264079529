"""The operator's config file (optional): ``~/.config/support-console/config.toml``.

    [console]
    timezone = "America/New_York"   # the operator's zone for local times
    bell = true                      # ring on a new escalation
    mouse = true                     # false: do not capture the mouse (slow links)
    policy = "/home/ana/what-if.toml"   # a read-only what-if console under that file

Environment variables win over the file: SUPPORT_CONSOLE_TZ, SUPPORT_CONSOLE_BELL. The
desk's policy itself is stored in the database (``support-console policy``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from console.rules.timeutil import BadValue, zone


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the place."""


@dataclass(frozen=True)
class Config:
    timezone: str | None = None
    bell: bool = True
    mouse: bool = True
    policy: str | None = None
    source: str | None = None


def config_path() -> Path:
    env = os.environ.get("SUPPORT_CONSOLE_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("support-console")) / "config.toml"


def parse_config(text: str, source: str) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    section = raw.get("console", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: [console] must be a table")
    unknown = set(section) - {"timezone", "bell", "mouse", "policy"}
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s) {', '.join(sorted(unknown))} in [console]")
    tz = section.get("timezone")
    if tz is not None:
        try:
            zone(str(tz))
        except BadValue as exc:
            raise ConfigError(f"{source}: console.timezone: {exc}") from None
    for key in ("bell", "mouse"):
        if key in section and not isinstance(section[key], bool):
            raise ConfigError(f"{source}: console.{key} is true or false")
    return Config(
        timezone=tz,
        bell=section.get("bell", True),
        mouse=section.get("mouse", True),
        policy=section.get("policy"),
        source=source,
    )


def load_config(path: Path | None = None) -> Config:
    """The config (defaults when there is no file), with the environment applied on top."""
    p = path or config_path()
    cfg = parse_config(p.read_text("utf-8"), str(p)) if p.exists() else Config()
    env_tz = os.environ.get("SUPPORT_CONSOLE_TZ")
    env_bell = os.environ.get("SUPPORT_CONSOLE_BELL")
    return Config(
        timezone=env_tz or cfg.timezone,
        bell=cfg.bell if env_bell is None else env_bell not in ("0", "false", "no", "off"),
        mouse=cfg.mouse,
        policy=cfg.policy,
        source=cfg.source,
    )
