"""The tick store as the composition root sees it: where it lives, and who records.

Ticks of the real market (live mode, or the Kite feed) and of the simulated market are
kept apart: the simulated clock runs through whole trading days in minutes, and its
invented prices must never share a day with real ones a trader replays or backtests on.
Replays and backtests never record: they would duplicate or overwrite the day they read.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alphapanda_tui.settings import Settings
from engine.bus.base import EventBus
from engine.clock import Clock
from engine.events.payloads import Tick
from storage.ticks.config import RecorderConfig

log = logging.getLogger("alphapanda.ticks")

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


def last_recorded_ticks(settings: Settings) -> list[Tick]:
    """The newest recorded tick of each instrument on the newest day the store of these
    settings holds (a day's live stream included, so after a crash too); none when
    nothing is recorded or the day cannot be read (a restart never stops for it)."""
    root = ticks_root(settings)
    if not root.is_dir():
        return []
    import numpy as np
    import pyarrow as pa

    from storage.ticks.layout import stored_days
    from storage.ticks.reader import read_day
    from storage.ticks.schema import table_to_ticks

    try:
        for day in reversed(stored_days(root)):
            table = read_day(root, day)  # in time order
            if table.num_rows:
                tokens = table.column("token").to_numpy()[::-1]
                _, newest_first = np.unique(tokens, return_index=True)
                rows = np.sort(len(tokens) - 1 - newest_first)
                return list(table_to_ticks(table.take(pa.array(rows))))
    except (OSError, ValueError, pa.ArrowException) as exc:
        log.warning("the newest recorded ticks could not be read: %s", exc)
    return []
