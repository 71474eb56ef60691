"""What one frame of the console costs while the simulated market ticks.

The real paper runtime (simulated feed over the bundled instruments, the configured
strategies, paper execution, the SQLite store) runs under a headless console at 120×40;
the feed is paced to ``--rate`` ticks/s of wall time. For ``--seconds`` the console's own
thread is timed with ``time.thread_time`` (CPU, not wall: the box is shared), split as a
trader's screen is made:

- ``draw_ms``: one refresh of the dashboard from the read model (``refresh_from_model``);
- ``paint_ms``: one screen update that painted (layout when needed, the compositor
  rendering the dirty regions, and the update turned into the escape codes a terminal
  would be sent; headless Textual drops them, so they are rendered here as the driver does);
- ``frame_cpu_ms``: for each refresh that led to a paint, its draw plus every paint until
  the next refresh, i.e. the CPU a frame on screen costs (the engine shares the thread,
  so the time between is not counted; a refresh with nothing new paints nothing);
- ``frames_per_s``: paints per second; ``bytes_per_frame``: the escape codes per paint.

``--logs``: the engine logs as the ``alphapanda`` command has it log (files and the ring
buffer) and the log pane is open, following. Prints one JSON object per rate. Run:
``python benchmarks/console_frames.py [--rates 150 1000] [--seconds 15] [--logs]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.screen import Screen

from alphapanda_tui import engine_config
from alphapanda_tui.app import make_app
from alphapanda_tui.logging_setup import start_logging
from alphapanda_tui.runtime import build_runtime
from alphapanda_tui.settings import load_settings
from benchmarks.stats import summary
from engine.market.feeds.simulated import SimulatedFeed

WARM_UP_S = 2.0  # the strategies open their first positions; the tables fill


class FrameMeter:
    """Console-thread CPU per draw, per paint and per refresh period."""

    def __init__(self) -> None:
        self.recording = False
        self.draw_ms: list[float] = []
        self.paint_ms: list[float] = []
        self.frame_ms: list[float] = []
        self.bytes: list[int] = []
        self._period = 0.0  # draw + paints since the last refresh, seconds
        self._painted = False  # whether anything was painted since the last refresh

    def watch(self, app: Any) -> None:
        """Wrap the refresh, every screen update and the display of each frame."""
        meter = self
        refresh, display = app.refresh_from_model, app._display
        update = Screen._on_timer_update

        def refreshing(force: bool = False) -> None:
            started = time.thread_time()
            if meter.recording and meter._painted:
                meter.frame_ms.append(meter._period * 1000)
            refresh(force)
            meter._period, meter._painted = time.thread_time() - started, False
            if meter.recording:
                meter.draw_ms.append(meter._period * 1000)

        def updating(screen: Screen) -> None:
            started = time.thread_time()
            painted = len(meter.bytes)
            update(screen)
            if meter.recording and len(meter.bytes) > painted:
                spent = time.thread_time() - started
                meter._period += spent
                meter._painted = True
                meter.paint_ms.append(spent * 1000)

        def displaying(screen: Screen, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None and meter.recording:
                meter.bytes.append(len(renderable.render_segments(app.console)))

        app.refresh_from_model = refreshing
        Screen._on_timer_update = updating  # type: ignore[method-assign]  # timed on purpose
        app._display = displaying

    def stop(self) -> None:
        self.recording = False
        self._period, self._painted = 0.0, False


async def run(rate: float, seconds: float, logs: bool = False) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="alphapanda-frames-"))
    settings = load_settings(home=home)
    runtime: Any = None
    ring = start_logging(settings).ring if logs else None  # as the alphapanda command logs

    def paced_feed(bus: Any, registry: Any) -> SimulatedFeed:
        config = engine_config.simulated_feed_config(settings, instruments=len(registry))
        config = replace(config, ticks_per_second=rate)
        return SimulatedFeed(bus, registry, config, clock=runtime.clock)

    runtime = build_runtime(settings, feed_factory=paced_feed, log_ring=ring)
    app = make_app(runtime, operator="bench@desk")
    meter = FrameMeter()
    update = Screen._on_timer_update
    meter.watch(app)  # before the screen's update timer captures the method
    try:
        async with app.run_test(size=(120, 40)):
            while not app.engine_running:
                await asyncio.sleep(0.01)
            await asyncio.sleep(WARM_UP_S)
            if logs:
                app.action_toggle_logs()  # the l key: the log pane, following
            ticks_before = runtime.read_model.ticks_seen
            cpu_before, wall_before = time.process_time(), time.monotonic()
            meter.recording = True
            await asyncio.sleep(seconds)
            meter.stop()
            wall = time.monotonic() - wall_before
            cpu = time.process_time() - cpu_before
            ticks = runtime.read_model.ticks_seen - ticks_before
            positions = len(runtime.read_model.positions)
    finally:
        Screen._on_timer_update = update  # type: ignore[method-assign]  # restored
    frame_cpu = sum(meter.frame_ms)
    return {
        "benchmark": "console_frames",
        "python": platform.python_version(),
        "size": "120x40",
        "target_ticks_per_s": rate,
        "ticks_per_s_seen": round(ticks / wall),
        "positions": positions,
        "refresh_hz": app.refresh_hz,
        "draws_per_s": round(len(meter.draw_ms) / wall, 2),
        "frames_per_s": round(len(meter.paint_ms) / wall, 2),
        "frame_cpu_ms": summary(meter.frame_ms, digits=2),
        "draw_ms": summary(meter.draw_ms, digits=2),
        "paint_ms": summary(meter.paint_ms, digits=2),
        "bytes_per_frame": summary([float(n) for n in meter.bytes], digits=2),
        "console_cpu_share": round(frame_cpu / 1000 / wall, 3),
        "process_cpu_share": round(cpu / wall, 3),
        "wall_s": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[150.0, 1000.0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--logs", action="store_true", help="log as alphapanda does, with the log pane open"
    )
    args = parser.parse_args()
    if not args.logs:
        logging.disable(logging.WARNING)
    for rate in args.rates:
        outcome = asyncio.run(run(rate, args.seconds, args.logs)) | {"logs": args.logs}
        print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main()
