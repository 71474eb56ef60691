"""The tick store as the composition root sees it: where it lives, and who records.

Ticks of the real market (live mode, or the Kite feed) and of the simulated market are
kept apart: the simulated clock runs through whole trading days in minutes, and its
invented prices must never share a day with real ones a trader replays or backtests on.
Replays and backtests never record: they would duplicate or overwrite the day they read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alphapanda_tui.settings import Settings
from engine.bus.base import EventBus
from engine.clock import Clock
from storage.ticks.config import RecorderConfig

SIMULATED_DIR = "simulated"


def real_market(settings: Settings) -> bool:
    """True when the engine sees exchange ticks (live mode, or the Kite feed on paper)."""
    return settings.mode == "live" or settings.feed.source == "kite"


def ticks_root(settings: Settings) -> Path:
    """The store of the market these settings trade on (``ALPHAPANDA_TICKS__DIR``)."""
    base = settings.ticks.dir.expanduser() if settings.ticks.dir else settings.home / "ticks"
    return base if real_market(settings) else base / SIMULATED_DIR


def recorder_config(settings: Settings) -> RecorderConfig | None:
    """How to record, or None where nothing is recorded (turned off, or a CSV replay)."""
    ticks = settings.ticks
    if not ticks.record or (settings.feed.source == "replay" and not real_market(settings)):
        return None
    return RecorderConfig(
        root=ticks_root(settings),
        flush_seconds=ticks.flush_seconds,
        max_buffered=ticks.max_buffered,
        retention_days=ticks.retention_days,
    )


def build_recorder(settings: Settings, bus: EventBus, clock: Clock) -> Any:
    """The recorder service for this engine, or None (see ``recorder_config``)."""
    config = recorder_config(settings)
    if config is None:
        return None
    from storage.ticks.recorder import TickRecorder  # pyarrow: only where ticks are recorded

    return TickRecorder(bus=bus, config=config, clock=clock)
