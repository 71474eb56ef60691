"""The ``ticks`` settings group (``ALPHAPANDA_TICKS__*``): recording every tick to the store."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from alphapanda_tui.settings.groups import _doc, _Group
from storage.ticks.config import RecorderConfig

_DEFAULTS = RecorderConfig(root=Path())  # one default per value: the recorder's own


class TicksSettings(_Group):
    record: bool = Field(
        True, **_doc("Record every tick the engine sees (never replays or backtests).")
    )
    dir: Path | None = Field(
        None, **_doc("Tick store; simulated-market ticks go to its simulated/.", "<home>/ticks")
    )
    retention_days: int = Field(
        _DEFAULTS.retention_days,
        ge=1,
        **_doc("Recorded days kept, today included; earlier days are deleted at start."),
    )
    flush_seconds: float = Field(
        _DEFAULTS.flush_seconds,
        gt=0,
        le=60,
        **_doc("Seconds between writes to disk: a crash loses at most this much."),
    )
    max_buffered: int = Field(
        _DEFAULTS.max_buffered,
        ge=1_000,
        **_doc("Ticks held in memory for a slow disk before new ones are dropped."),
    )
