"""Per-position stop-loss, target and trailing stop kept by the engine (issue 16.3).

``levels`` holds the record and its rules; ``service.ProtectionService`` watches ticks and
positions and sends one market exit through risk when a level is crossed.
"""

from engine.protection.levels import (
    STOP_LOSS,
    TARGET,
    TRAILING_STOP,
    Levels,
    Protection,
    check_protection,
    crossed,
    levels_of,
    with_best,
)

__all__ = [
    "STOP_LOSS",
    "TARGET",
    "TRAILING_STOP",
    "Levels",
    "Protection",
    "check_protection",
    "crossed",
    "levels_of",
    "with_best",
]
