"""How the recorder runs; kept free of pyarrow so reading settings stays fast."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROTATE_TICKS = 1_000_000  # ~15 MB of stream: sealing it takes well under a second


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    """Where and how ticks are recorded; built from the ``ticks`` settings group."""

    root: Path
    flush_seconds: float = 1.0
    max_buffered: int = 100_000  # ticks held in memory, the write in flight included
    retention_days: int = 30
    rotate_ticks: int = DEFAULT_ROTATE_TICKS

    def __post_init__(self) -> None:
        if self.flush_seconds <= 0 or self.max_buffered < 1 or self.retention_days < 1:
            raise ValueError("flush_seconds > 0, max_buffered >= 1, retention_days >= 1")
