"""``alphapanda backtest``: replay ticks through the live pipeline and print its report.

``--strategy NAME`` picks one strategy from the configured strategies file (or the
bundled defaults), ``--bars tick|INTERVAL`` what it is fed instead of the file's
``bars``; ``--synthetic N --seed S`` replays the seeded simulated market,
``--ticks FILE`` a recorded CSV or tick-store file, ``--day DATE`` a day of the tick
store. Nothing is stored: the run uses the in-memory bus and store. The summary goes to
stdout; progress, when shown, to stderr.

A backtest never writes into the console's log files (its automatic halts and thousands
of orders are not the trader's day): it logs nothing unless ``--log-dir DIR`` asks for
the run's own channel files under ``DIR/logs``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alphapanda_tui.backtest_output import configure_output, emit_report
from alphapanda_tui.backtest_sweep import configure_sweep, sweep
from alphapanda_tui.errors import ConfigError, UsageError

NAME = "backtest"
HELP = "replay ticks through the trading pipeline and print its report (or --json)"
PROGRESS_MIN_TICKS = 200_000  # show progress on a non-terminal stderr only for long runs
SETUP_LOGGING = False  # never the console's log files: ``--log-dir`` gives the run its own


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", required=True, help="name of a configured strategy")
    parser.add_argument(
        "--bars",
        metavar="tick|INTERVAL",
        help="feed the strategy every tick, or bars of this Kite interval (5minute, ...), "
        "instead of the bars its strategies file gives it",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--synthetic", type=int, metavar="N", help="replay N ticks of the simulated market"
    )
    source.add_argument(
        "--ticks",
        type=Path,
        metavar="FILE",
        help="replay a tick file: CSV (or .gz), or a recorded .parquet / .arrows segment",
    )
    source.add_argument("--day", metavar="DATE", help="replay a day of the tick store (YYYY-MM-DD)")
    source.add_argument(
        "--candles",
        nargs="+",
        metavar="SYMBOL",
        help="replay stored Kite candles (alphapanda history fetch) of these instruments, "
        "four ticks a candle; with --interval, --from and --to",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of --synthetic (default 7)")
    parser.add_argument("--interval", metavar="I", help="candle interval of --candles (day, ...)")
    parser.add_argument("--from", dest="candles_from", metavar="DATE", help="--candles from")
    parser.add_argument("--to", dest="candles_to", metavar="DATE", help="--candles to")
    parser.add_argument(
        "--sync-every",
        type=int,
        default=1,
        metavar="N",
        help="let every stage catch up after N ticks (default 1: lockstep, each tick "
        "handled by the whole engine before the next, as live). Larger is faster, but a "
        "fill can land up to N ticks after its signal, which moves P&L",
    )
    configure_output(parser)
    configure_sweep(parser)
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    parser.add_argument(
        "--log-dir",
        type=Path,
        metavar="DIR",
        help="write this run's logs (trading, risk, …) under DIR/logs; default: no log files",
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    from engine.backtest import SyntheticTicks, run_backtest
    from engine.market.feeds.replay import ReplayFormatError

    if args.synthetic is not None and args.synthetic < 1:
        raise UsageError(f"--synthetic must be a positive number of ticks, got {args.synthetic}")
    if args.sync_every < 1:
        raise UsageError(f"--sync-every must be at least 1, got {args.sync_every}")
    registry, binding = _resolve(settings, args.strategy, args.bars)
    from alphapanda_tui.backtest_sources import source_of_args

    source = source_of_args(settings, registry, args)
    expected = args.synthetic if isinstance(source, SyntheticTicks) else None
    if args.grid:
        return sweep(args, settings, binding.config, source)
    from alphapanda_tui.engine_config import pipeline_config

    with (
        _run_logs(args.log_dir, settings),
        _progress(expected, enabled=not args.no_progress) as progress,
    ):
        try:
            result = run_backtest(
                bindings=[binding],
                registry=registry,
                source=source,
                config=pipeline_config(settings),
                progress=progress,
                sync_every=args.sync_every,
            )
        except ReplayFormatError as exc:
            raise UsageError(str(exc)) from None
    emit_report(result, args, settings)
    return 0


@contextmanager
def _run_logs(log_dir: Path | None, settings: Any) -> Iterator[None]:
    """The run's own log files under ``log_dir``, or none at all (warnings discarded too)."""
    import logging

    if log_dir is None:
        quiet = logging.NullHandler()  # keeps logging's last-resort stderr printer away
        root = logging.getLogger()
        root.addHandler(quiet)
        try:
            yield
        finally:
            root.removeHandler(quiet)
        return
    from alphapanda_tui.logging_setup import register_setting_secrets
    from engine.logs import setup_logging

    register_setting_secrets(settings)
    runtime = setup_logging(
        log_dir,
        level=settings.log.level,
        max_bytes=settings.log.max_bytes,
        backup_count=settings.log.backup_count,
        json_lines=settings.log.json_lines,
    )
    try:
        yield
    finally:
        runtime.close()


def _resolve(settings: Any, name: str, bars: str | None) -> tuple[Any, Any]:
    """The registry and the named strategy's binding (enabled or not, on ``bars`` when
    given), or one clear error."""
    from pydantic import ValidationError

    from alphapanda_tui.runtime import build_registry
    from alphapanda_tui.strategies_file import configured_strategies
    from engine.strategies.config import StrategyConfig, StrategyConfigError
    from engine.strategies.factory import build_strategy

    registry = build_registry(settings)
    configs = configured_strategies(settings)
    config = next((c for c in configs if c.name == name), None)
    if config is None:
        known = ", ".join(c.name for c in configs) or "none configured"
        raise UsageError(f"unknown strategy {name!r} (known: {known})")
    if bars is not None:
        try:
            config = StrategyConfig.model_validate(config.model_dump() | {"bars": bars})
        except ValidationError as exc:
            message = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            raise UsageError(f"--bars: {message}") from None
    try:
        return registry, build_strategy(config.model_copy(update={"enabled": True}), registry)
    except (StrategyConfigError, ValueError) as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None


class _progress:
    """A rich progress bar on stderr when stderr is a terminal or the run is long; else none."""

    def __init__(self, total: int | None, *, enabled: bool) -> None:
        long_run = total is not None and total >= PROGRESS_MIN_TICKS
        self.show = enabled and (sys.stderr.isatty() or long_run)
        self.total = total
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("backtest"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("ticks"),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("backtest", total=self.total)
        return self._advance

    def _advance(self, ticks: int) -> None:
        self._bar.update(self._task, completed=ticks)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
