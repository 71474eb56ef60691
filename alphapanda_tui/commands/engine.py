"""``alphapanda engine``: the trading engine headless, until SIGINT / SIGTERM / SIGHUP.

Stops gracefully on any of them: the feed stops first, each stage drains what is in
flight, the portfolio writes a final snapshot, and the process exits 0. A service that
keeps crashing (``Supervisor.MAX_RESTARTS`` in a row) stops the engine the same way,
with the cause on stderr and exit status 1.

On Kafka, several engine processes share the work: ``--services`` picks what this one
runs; strategies split the tick partitions by consumer group, while feed, risk,
execution and portfolio run in one process at a time (a lease; the others stand by).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

NAME = "engine"
HELP = "run the trading engine headless until SIGINT/SIGTERM (graceful shutdown)"
TRADER_STDOUT = True  # fills, halts, alerts and operator actions; chatter stays in the files
REQUIRES_LIVE_CREDENTIALS = True
CRASH_LOOP_EXIT = 1  # a service kept crashing: stopped, not "running" forever


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bus", choices=["memory", "kafka"], help="override ALPHAPANDA_BUS__BACKEND"
    )
    parser.add_argument(
        "--services",
        metavar="LIST",
        help="run only these, comma-separated: feed,strategies,risk,execution,portfolio,state,"
        "protection (default all; needs --bus kafka; risk brings state and protection)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=None, help="stop by itself after this long"
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    if args.bus:
        settings = settings.model_copy(
            update={"bus": settings.bus.model_copy(update={"backend": args.bus})}
        )
    services = _services(getattr(args, "services", None), settings)
    from alphapanda_tui.pid_file import refuse_a_second_engine

    refuse_a_second_engine(settings.home, settings.bus.backend)  # one line, exit 2
    return asyncio.run(_serve(settings, args.max_seconds, services))


def _services(text: str | None, settings: Any) -> frozenset[str] | None:
    from alphapanda_tui.errors import UsageError
    from engine.pipeline import SERVICE_NAMES, parse_services

    if text is None:
        return None
    try:
        chosen = parse_services(text)
    except ValueError as exc:
        raise UsageError(f"--services: {exc}") from None
    if chosen != frozenset(SERVICE_NAMES) and settings.bus.backend != "kafka":
        raise UsageError("--services needs --bus kafka: the memory bus cannot share work")
    return chosen


async def _serve(settings: Any, max_seconds: float | None, services: Any = None) -> int:
    from alphapanda_tui.runtime import build_runtime

    runtime = build_runtime(settings, services=services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    print(
        f"alphapanda engine running ({settings.mode}, bus {settings.bus.backend}"
        f"{', services ' + ','.join(sorted(services)) if services else ''}); "
        "Ctrl-C or SIGTERM stops it gracefully",
        file=sys.stderr,
        flush=True,
    )
    try:
        failure = await _until_stopped_or_failed(stop, runtime, max_seconds)
    finally:
        await runtime.stop()
    if failure is not None:
        print(f"alphapanda engine: stopped: {failure.describe()}", file=sys.stderr, flush=True)
        return CRASH_LOOP_EXIT
    print("alphapanda engine stopped cleanly", file=sys.stderr, flush=True)
    return 0


async def _until_stopped_or_failed(
    stop: asyncio.Event, runtime: Any, max_seconds: float | None
) -> Any:
    """Wait for a signal, ``max_seconds``, or a crash-looping service (returned)."""
    waits = {asyncio.create_task(stop.wait(), name="engine:stop-signal")}
    pipeline = getattr(runtime, "pipeline", None)
    if pipeline is not None:
        waits.add(asyncio.create_task(pipeline.supervisor.wait_failed(), name="engine:failure"))
    try:
        await asyncio.wait(waits, timeout=max_seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
    return pipeline.supervisor.failure if pipeline is not None else None
