"""Settings checked against what they name: variable names, instruments, the strategies file.

``load_settings`` judges each value on its own. These checks need the environment, the
instrument registry or the strategies file, and run at the start of every command, so
a typo in a name, an allow-list that trades nothing, or a strategies file that cannot be
read stops with one line and exit 2 instead of being ignored or failing mid-session.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings.docs import unknown_env_names
from alphapanda_tui.settings.names import env_name
from alphapanda_tui.settings.schema import Settings

DOTENV = Path(".env")


def check_settings(settings: Settings, environ: Mapping[str, str]) -> None:
    """Raise ``ConfigError`` naming the first setting that is wrong in this context."""
    refuse_unknown_names(environ)
    from alphapanda_tui.runtime import build_bindings, build_registry

    registry = build_registry(settings)
    unknown = [key for key in settings.risk.allowed_instruments if key not in registry]
    if unknown:
        raise ConfigError(
            f"invalid setting {env_name(('risk', 'allowed_instruments'))}: "
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a known "
            "instrument (EXCHANGE:SYMBOL of the instruments registry)"
        )
    try:
        build_bindings(settings, registry)
    except ConfigError as exc:
        raise ConfigError(f"invalid setting {env_name(('strategies_file',))}: {exc}") from None


def refuse_unknown_names(environ: Mapping[str, str]) -> None:
    """An ``ALPHAPANDA_*`` name that is no setting is a typo: refuse it, never ignore it."""
    names = unknown_env_names(environ)
    where = ""
    if not names and DOTENV.is_file():
        names, where = unknown_env_names(_dotenv_names()), " (in .env)"
    if names:
        more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
        raise ConfigError(
            f"invalid setting {names[0]}{where}: not a setting "
            f"(see .env.example for the names){more}"
        )


def _dotenv_names() -> dict[str, str]:
    from dotenv import dotenv_values

    try:
        return {key: "" for key in dotenv_values(DOTENV)}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {DOTENV.absolute()}: {exc}") from None
