"""The engine's stdout during a broker outage: one line per kind of error, not thousands.

Seen in QA: with the Kafka broker stopped for 36 s under 'alphapanda engine --bus kafka',
its stdout (the trader's lines: fills, halts, alerts) took 28,546 lines, most of them
aiokafka's 'Unable connect to node with id 111' and 'Unable to update metadata from
[111]', several hundred a second; a fill or halt in between was lost in them.
"""

from __future__ import annotations

import logging

from engine.logs.trader import TraderFilter, TraderFormatter


def _record(name: str, msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 0, msg, args, None)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_library_error_repeated_within_the_window_is_printed_once_then_counted() -> None:
    clock = Clock()
    keep = TraderFilter(monotonic=clock)
    shown = []
    for i in range(500):
        clock.now += 0.01  # 500 in 5 s
        record = _record("aiokafka", "Unable connect to node with id %s: %s", 111, f"try {i}")
        if keep.filter(record):
            shown.append(TraderFormatter().format(record))
    assert len(shown) == 1 and "Unable connect to node" in shown[0]

    clock.now += 30.0  # the outage goes on: one line again, saying how many were left out
    record = _record("aiokafka", "Unable connect to node with id %s: %s", 111, "again")
    assert keep.filter(record)
    assert "499 more like it" in TraderFormatter().format(record)


def test_the_traders_own_lines_are_never_held_back() -> None:
    clock = Clock()
    keep = TraderFilter(monotonic=clock)
    for _ in range(50):
        clock.now += 0.01
        assert keep.filter(_record("alphapanda.risk", "Trading HALTED", level=logging.WARNING))
