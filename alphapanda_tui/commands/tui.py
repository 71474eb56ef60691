"""``alphapanda tui``: the trading console (the default command).

Builds the engine runtime from settings, runs the console over it and returns the
console's exit status; the App stops the engine gracefully on the way out.
"""

from __future__ import annotations

import argparse
from typing import Any

from alphapanda_tui.errors import UsageError

NAME = "tui"
HELP = "the trading console (default): dashboard, kill switch, logs"
REQUIRES_LIVE_CREDENTIALS = True


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attach",
        action="store_true",
        help="attach to a running cluster as an observer and operator console",
    )
    parser.add_argument(
        "--replay",
        metavar="DATE",
        help="replay a recorded day (YYYY-MM-DD) on paper, on a store of its own",
    )
    parser.add_argument(
        "--speed",
        metavar="N",
        help="replay speed: times real time (1, 2, 5, 10, 60, ...) or max (default 1)",
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.app import make_app
    from alphapanda_tui.runtime import build_runtime
    from alphapanda_tui.store_opening import refuse_a_corrupt_file

    replay_day = getattr(args, "replay", None)
    speed = getattr(args, "speed", None)
    if replay_day and getattr(args, "attach", False):
        raise UsageError("--replay and --attach cannot be combined")
    if replay_day and getattr(args, "mode", None) == "live":
        raise UsageError("--replay trades paper only: drop --mode live")
    if speed is not None and not replay_day:
        raise UsageError("--speed is the speed of a --replay")
    if replay_day:
        from alphapanda_tui.replay_day import build_replay_runtime

        handle: Any = build_replay_runtime(settings, replay_day, speed=_speed(speed or "1"))
    elif getattr(args, "attach", False):
        import asyncio

        from alphapanda_tui.attach import build_attached, probe_cluster

        handle = build_attached(settings)  # checks credentials first: exit 2 on a gap
        asyncio.run(probe_cluster(settings))  # and that the cluster answers: exit 2 if not
    else:
        from alphapanda_tui.pid_file import refuse_a_second_engine

        refuse_a_second_engine(settings.home, settings.bus.backend)  # one line, exit 2
        refuse_a_corrupt_file(settings)  # before the screen opens: one line, exit 2
        handle = build_runtime(settings)
    logs = getattr(args, "logs", None)
    if getattr(handle, "log_ring", None) is None and logs is not None:
        handle.log_ring = getattr(logs, "ring", None)
    app = make_app(handle, refresh_hz=settings.ui.refresh_hz, theme=settings.ui.theme)
    from alphapanda_tui.backtest_output import backtest_archive

    app.backtest_archive = backtest_archive(settings)  # the runs the backtests screen lists
    app.run()
    return int(app.return_code or 0)


def _speed(text: str) -> float | None:
    from engine.market.feeds.paced_replay import parse_speed

    try:
        return parse_speed(text)
    except ValueError as exc:
        raise UsageError(f"--speed: {exc}") from None
