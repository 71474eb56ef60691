"""``alphapanda tui``: the trading console (the default command).

Builds the engine runtime from settings, runs the console over it and returns the
console's exit status; the App stops the engine gracefully on the way out.
"""

from __future__ import annotations

import argparse
from typing import Any

NAME = "tui"
HELP = "the trading console (default): dashboard, kill switch, logs"
REQUIRES_LIVE_CREDENTIALS = True


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attach",
        action="store_true",
        help="attach to a running cluster as an observer and operator console",
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.app import make_app
    from alphapanda_tui.runtime import build_runtime
    from alphapanda_tui.store_opening import refuse_a_corrupt_file

    if getattr(args, "attach", False):
        import asyncio

        from alphapanda_tui.attach import build_attached, probe_cluster

        handle: Any = build_attached(settings)  # checks credentials first: exit 2 on a gap
        asyncio.run(probe_cluster(settings))  # and that the cluster answers: exit 2 if not
    else:
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
