"""``alphapanda engine``: the trading engine headless, until SIGINT / SIGTERM / SIGHUP.

Stops gracefully on any of them: the feed stops first, each stage drains what is in
flight, the portfolio writes a final snapshot, and the process exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

NAME = "engine"
HELP = "run the trading engine headless until SIGINT/SIGTERM (graceful shutdown)"
LOG_TO_CONSOLE = True
REQUIRES_LIVE_CREDENTIALS = True


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bus", choices=["memory", "kafka"], help="override ALPHAPANDA_BUS__BACKEND"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=None, help="stop by itself after this long"
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    if args.bus:
        settings = settings.model_copy(
            update={"bus": settings.bus.model_copy(update={"backend": args.bus})}
        )
    return asyncio.run(_serve(settings, args.max_seconds))


async def _serve(settings: Any, max_seconds: float | None) -> int:
    from alphapanda_tui.runtime import build_runtime

    runtime = build_runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    print(
        f"alphapanda engine running ({settings.mode}, bus {settings.bus.backend}); "
        "Ctrl-C or SIGTERM stops it gracefully",
        file=sys.stderr,
        flush=True,
    )
    try:
        if max_seconds is None:
            await stop.wait()
        else:
            try:
                async with asyncio.timeout(max_seconds):
                    await stop.wait()
            except TimeoutError:
                pass
    finally:
        await runtime.stop()
    print("alphapanda engine stopped cleanly", file=sys.stderr, flush=True)
    return 0
