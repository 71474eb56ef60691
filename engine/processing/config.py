"""What a ``StreamProcessor`` is configured with, and what it counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.processing.circuit import BreakerConfig
from engine.processing.dedup import DEFAULT_DEDUP_WINDOW
from engine.processing.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class ProcessorConfig:
    """Knobs of the processing contract; built from settings at the edge."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    batch_size: int = 256
    poll_timeout: float = 0.25
    timer_interval: float | None = None  # seconds between ``on_timer`` calls
    # On stop, keep handling what is already in the input (upstream stages stop first)
    # for at most this long; 0: stop after the batch in hand.
    drain_timeout: float = 5.0
    dedup_window: int = DEFAULT_DEDUP_WINDOW  # ids per group kept when dedup is in memory

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.poll_timeout <= 0:
            raise ValueError("batch_size must be >= 1 and poll_timeout > 0")
        if self.timer_interval is not None and self.timer_interval <= 0:
            raise ValueError("timer_interval must be positive (or None for no timer)")


@dataclass(slots=True)
class ProcessorStats:
    processed: int = 0
    failures: int = 0
    retries: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    last_event_ts: int | None = None
    handler_calls: int = 0  # ``handle_now`` and ``handle`` calls, retries included
    commits: int = 0
