"""Circuit breaker: pause a processor whose handler keeps failing instead of spinning."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = 10  # consecutive failures that open the circuit
    cooldown: float = 5.0  # first pause, seconds
    max_cooldown: float = 60.0  # pauses double up to this while failures go on


class CircuitBreaker:
    """Counts consecutive failures; when open, ``remaining()`` says how long to pause."""

    def __init__(
        self, config: BreakerConfig, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._monotonic = monotonic
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.opened_count = 0
        self._cooldown = config.cooldown
        self._open_until = 0.0

    def record_success(self) -> None:
        self.failures = 0
        self.state = BreakerState.CLOSED
        self._cooldown = self.config.cooldown

    def record_failure(self) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN:
            self._cooldown = min(self._cooldown * 2, self.config.max_cooldown)
            self._open()
        elif self.failures >= self.config.failure_threshold:
            self._open()

    def _open(self) -> None:
        self.state = BreakerState.OPEN
        self.opened_count += 1
        self._open_until = self._monotonic() + self._cooldown

    def remaining(self) -> float:
        """Seconds still to pause (0 when calls may go through; moves OPEN to HALF_OPEN)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        left = self._open_until - self._monotonic()
        if left <= 0:
            self.state = BreakerState.HALF_OPEN
            return 0.0
        return left
