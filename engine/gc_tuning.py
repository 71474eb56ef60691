"""Garbage-collector settings for a process where collections cost a trader something.

The console: with the engine and Textual in one process, CPython's default thresholds
(700, 10, 10) ran a full collection about twice a second at 5,000 ticks/s, each walking
every live object: 60-280 ms during which no key, redraw or processor could run (the
benchmark's worst kill-switch latencies were these pauses). A backtest: the same
collections, walking what the run keeps (orders, fills, the equity curve), took about
5 % of its CPU; with its own thresholds, 2 %. At start the process freezes what it has built so far
(modules, widgets, the engine's wiring: never garbage, never scanned again) and raises the
thresholds, so young objects die before they are promoted and full collections become
rare. ``restore`` puts the process back as it was (tests run many consoles and backtests
in one interpreter).
"""

from __future__ import annotations

import gc

CONSOLE_THRESHOLDS = (10_000, 3, 100)
# A backtest has no frame to keep on time, only throughput: a collection every 100,000
# net new containers (two in a 300,000-tick run instead of ~170) and no full one.
BACKTEST_THRESHOLDS = (100_000, 20, 100)


class GcTuning:
    """Apply once the console is up; ``restore`` at exit. Idempotent both ways."""

    def __init__(self, thresholds: tuple[int, int, int] = CONSOLE_THRESHOLDS) -> None:
        self.thresholds = thresholds
        self._previous: tuple[int, int, int] | None = None

    def apply(self) -> None:
        if self._previous is not None:
            return
        self._previous = gc.get_threshold()
        gc.collect()  # what is garbage now must not be frozen
        gc.freeze()
        gc.set_threshold(*self.thresholds)

    def restore(self) -> None:
        if self._previous is None:
            return
        gc.set_threshold(*self._previous)
        gc.unfreeze()
        self._previous = None
