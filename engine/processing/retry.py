"""Retry policy: exponential backoff with jitter, bounded attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass


class PermanentError(Exception):
    """A failure that retrying cannot fix (bad input): dead-letter at once."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.05
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("retry policy needs max_attempts >= 1 and 0 <= base <= max delay")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay after failed ``attempt`` (1-based): uniform in [cap/2, cap].

        ``cap = min(max_delay, base_delay * 2^(attempt-1))``: "equal jitter" keeps a floor
        under each wait (so retries never bunch into a tight loop) while still spreading
        processors that failed together.
        """
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return (rng or random).uniform(cap / 2, cap)
