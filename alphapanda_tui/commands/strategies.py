"""``alphapanda strategies``: list and validate the strategies file.

Shows what the engine would run (name, kind, broker, instruments, parameters with their
defaults filled in, enabled) from ``ALPHAPANDA_STRATEGIES_FILE`` or the bundled
defaults. A file that cannot be used stops with one line naming the line and field, and
exit 2 (the frame checks it before any command runs; this command repeats it so it
never lists a file that the engine would refuse).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from alphapanda_tui.errors import ConfigError

NAME = "strategies"
HELP = "list and validate the strategies file"
SETUP_LOGGING = False
_COLUMNS = ("name", "kind", "broker", "enabled", "instruments", "params", "bars")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object")


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.runtime import build_registry
    from engine.strategies.config import (
        StrategyConfigError,
        default_strategies_path,
        load_strategies,
    )
    from engine.strategies.factory import build_strategies

    path = settings.strategies_file or default_strategies_path()
    try:
        configs = load_strategies(path)
        build_strategies(configs, build_registry(settings))  # instruments known, lots right
    except (StrategyConfigError, ValueError) as exc:
        raise ConfigError(
            f"invalid setting ALPHAPANDA_STRATEGIES_FILE: {str(exc).splitlines()[0]}"
        ) from None
    rows = [_row(config) for config in configs]
    if args.json:
        print(json.dumps({"file": str(path), "strategies": rows}))
        return 0
    origin = "" if settings.strategies_file else " (bundled defaults)"
    print(f"strategies file: {path}{origin}")
    print(_table(rows) if rows else "no strategies configured")
    return 0


def _row(config: Any) -> dict[str, Any]:
    return {
        "name": config.name,
        "kind": config.kind,
        "broker": config.broker.value,
        "enabled": config.enabled,
        "bars": config.bars,  # "tick", or the interval of the bars it is fed
        "instruments": list(config.instruments),
        "params": dict(config.params),
    }


def _cell(column: str, value: Any) -> str:
    if column == "enabled":
        return "yes" if value else "no"
    if column == "instruments":
        return ",".join(value)
    if column == "params":
        return " ".join(f"{key}={json.dumps(item)}" for key, item in value.items())
    return str(value)


def _table(rows: list[dict[str, Any]]) -> str:
    """Plain aligned columns: readable in any terminal and easy to grep."""
    cells = [[_cell(column, row[column]) for column in _COLUMNS] for row in rows]
    header = [column.upper() for column in _COLUMNS]
    widths = [max(len(line[i]) for line in (header, *cells)) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *cells)
    )
