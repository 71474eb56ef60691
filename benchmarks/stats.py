"""The summary every latency benchmark prints for a list of samples.

One definition, so ``console.py`` and ``console_frames.py`` report median, p99 and max
the same way (the p99 index rounds to the nearest sample, never past the last).
"""

from __future__ import annotations

import statistics


def summary(samples: list[float], digits: int = 1) -> dict[str, float]:
    """Median, p99 and max of ``samples``, rounded to ``digits``; zeros when there are none."""
    if not samples:
        return {"median": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), digits),
        "p99": round(p99, digits),
        "max": round(ordered[-1], digits),
    }
