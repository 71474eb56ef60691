"""The strategies file as the CLI commands read it: a broken file is one ``ConfigError`` line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alphapanda_tui.errors import ConfigError
from engine.strategies.config import StrategyConfigError, load_strategies

if TYPE_CHECKING:
    from engine.strategies.config import StrategyConfig


def configured_strategies(settings: Any) -> list[StrategyConfig]:
    """Every strategy in ``settings.strategies_file`` (the bundled defaults when unset), of
    every broker, enabled or not; the file's first error line as a ``ConfigError``."""
    try:
        return load_strategies(settings.strategies_file)
    except StrategyConfigError as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
