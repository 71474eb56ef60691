"""The few settings a kill needs, resolved as ``Settings`` resolves them, without pydantic.

``alphapanda kill`` must answer within 200 ms; importing pydantic-settings alone costs a
good part of that. The precedence is the one of ``load_settings``: command-line flags,
then the environment, then ``.env`` in the working directory, then the defaults; names
are case-insensitive. Whatever this module cannot resolve exactly as ``Settings`` would
(a typo'd name, a group set as one JSON value, a value that would need coercing, a Kafka
bus, text logs) raises ``NotCertain`` and the full path runs instead: it either does the
same thing or refuses with its usual one-line error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alphapanda_tui.setting_names import SETTING_ENV_NAMES

PREFIX = "ALPHAPANDA_"
TEST_PREFIX = "ALPHAPANDA_TEST_"
DOTENV = Path(".env")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MODES = ("paper", "live")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUP_COUNT = 5
MIN_MAX_BYTES = 1024
# Groups a kill reads: set as one JSON value they would need pydantic to merge.
_GROUPS_READ = ("ALPHAPANDA_DATABASE", "ALPHAPANDA_BUS", "ALPHAPANDA_LOG")
_TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})


class NotCertain(Exception):
    """The lean path cannot act exactly as the full path would: hand over to it."""


@dataclass(frozen=True)
class KillSettings:
    """What a kill uses: where the data lives, which venue, and how to log the request."""

    home: Path
    mode: str
    database_url: str
    log_level: str
    log_max_bytes: int
    log_backup_count: int

    @property
    def broker(self) -> str:
        """``Settings.broker``: live trades on zerodha, paper never shares its state."""
        return "zerodha" if self.mode == "live" else "paper"

    @property
    def logs_audit(self) -> bool:
        """The audit channel writes INFO lines only when the level lets them through."""
        return LOG_LEVELS.index(self.log_level) <= LOG_LEVELS.index("INFO")


def resolve_kill_settings(
    flags: Mapping[str, str], environ: Mapping[str, str], dotenv: Path = DOTENV
) -> KillSettings:
    """``flags`` (``home``, ``mode``, ``log_level``) over env over ``.env`` over defaults."""
    values = _configured_values(environ, dotenv)
    if any(group in values for group in _GROUPS_READ):
        raise NotCertain("a group is set as one JSON value")
    if values.get("ALPHAPANDA_BUS__BACKEND", "memory") != "memory":
        raise NotCertain("the bus is not the embedded one")
    if values.get("ALPHAPANDA_LOG__JSON", "true").lower() not in _TRUE_WORDS:
        raise NotCertain("text logs")
    home = _home(flags.get("home", values.get("ALPHAPANDA_HOME")))
    mode = flags.get("mode", values.get("ALPHAPANDA_MODE", "paper"))
    level = flags.get("log_level", values.get("ALPHAPANDA_LOG__LEVEL", "INFO")).upper()
    if mode not in MODES or level not in LOG_LEVELS:
        raise NotCertain("mode or log level")
    url = values.get("ALPHAPANDA_DATABASE__URL", f"sqlite+aiosqlite:///{home}/alphapanda.db")
    return KillSettings(
        home=home,
        mode=mode,
        database_url=url,
        log_level=level,
        log_max_bytes=_count(values, "ALPHAPANDA_LOG__MAX_BYTES", DEFAULT_MAX_BYTES, MIN_MAX_BYTES),
        log_backup_count=_count(values, "ALPHAPANDA_LOG__BACKUP_COUNT", DEFAULT_BACKUP_COUNT, 0),
    )


def _configured_values(environ: Mapping[str, str], dotenv: Path) -> dict[str, str]:
    """Every ``ALPHAPANDA_*`` value, upper-cased names, the environment over ``.env``."""
    from_env = _prefixed(environ)
    from_file: dict[str, str | None] = {}
    if dotenv.is_file():
        from dotenv import dotenv_values

        try:
            from_file = _prefixed(dotenv_values(dotenv, encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise NotCertain(f"cannot read {dotenv}") from exc
    merged = {**from_file, **from_env}
    unknown = [name for name in merged if name not in SETTING_ENV_NAMES]
    if unknown:
        raise NotCertain(f"not a setting: {unknown[0]}")
    # Every value a kill reads is checked where it is read; a bare name in .env has none.
    return {name: value for name, value in merged.items() if value is not None}


def _prefixed(source: Mapping[str, str | None]) -> dict[str, str | None]:
    """The settings among ``source``: names matched case-insensitively, test knobs aside."""
    found: dict[str, str | None] = {}
    for name, value in source.items():
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper.startswith(TEST_PREFIX):
            continue
        if upper in found:
            raise NotCertain(f"{upper} is set twice (differently cased)")
        found[upper] = value
    return found


def _home(value: str | None) -> Path:
    """``Settings.home``: the platform data directory unless set; always absolute."""
    if value is None:
        from platformdirs import user_data_dir

        value = user_data_dir("alphapanda")
    if not value.strip():
        raise NotCertain("an empty home")
    return Path(value).expanduser().absolute()


def _count(values: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """A whole number written plainly (anything pydantic would coerce goes the full way)."""
    text = values.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise NotCertain(f"{name} is not a plain number")
    return int(text)
