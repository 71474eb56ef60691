"""The console's in-memory log: bounded, filterable, safe to write from any thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from engine.logs import LogEntry, RingBufferHandler, correlation_scope
from engine.logs.jsonl import ContextFilter


@pytest.fixture
def ring_logger() -> Iterator[tuple[RingBufferHandler, logging.Logger]]:
    ring = RingBufferHandler(capacity=50)
    ring.addFilter(ContextFilter())
    logger = logging.getLogger("alphapanda.test_ring")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(ring)
    yield ring, logger
    logger.removeHandler(ring)
    logger.propagate = True


def test_keeps_only_the_newest_capacity_lines(ring_logger) -> None:
    ring, log = ring_logger
    for index in range(120):
        log.info("line %d", index)
    entries = ring.entries()
    assert len(entries) == 50
    assert [entry.message for entry in entries[:1] + entries[-1:]] == ["line 70", "line 119"]
    assert [entry.seq for entry in entries] == list(range(71, 121))


def test_since_seq_returns_only_new_lines(ring_logger) -> None:
    ring, log = ring_logger
    log.info("old")
    mark = ring.last_seq
    log.info("new")
    assert [entry.message for entry in ring.entries(since_seq=mark)] == ["new"]


def test_filters_by_level_channel_and_search(ring_logger) -> None:
    ring, _ = ring_logger
    logging.getLogger("alphapanda.test_ring.debug").debug("tick INFY")
    trading = logging.getLogger("alphapanda.execution.test_ring")
    trading.addHandler(ring)
    trading.propagate = False
    trading.setLevel(logging.DEBUG)
    try:
        trading.info("Filled BUY 10 INFY")
        trading.error("Rejected SELL 5 TCS")
    finally:
        trading.removeHandler(ring)
        trading.propagate = True
        trading.setLevel(logging.NOTSET)
    assert [e.message for e in ring.entries(level="WARNING")] == ["Rejected SELL 5 TCS"]
    assert [e.message for e in ring.entries(channel="trading", search="infy")] == [
        "Filled BUY 10 INFY"
    ]
    assert [e.message for e in ring.entries(channel="errors")] == ["Rejected SELL 5 TCS"]
    assert [e.message for e in ring.entries(channel="application")] == ["tick INFY"]


def test_entries_carry_the_correlation_id(ring_logger) -> None:
    ring, log = ring_logger
    with correlation_scope("cid-9"):
        log.warning("slow fill")
    log.info("outside")
    inside, outside = ring.entries()
    assert (inside.level, inside.channel) == ("WARNING", "application")
    assert inside.correlation_id == "cid-9"
    assert outside.correlation_id is None


def test_listeners_hear_each_line_and_a_broken_one_does_not_stop_logging(ring_logger) -> None:
    ring, log = ring_logger
    heard: list[LogEntry] = []

    def broken(entry: LogEntry) -> None:
        raise RuntimeError("viewer gone")

    ring.add_listener(broken)
    ring.add_listener(heard.append)
    log.info("first")
    ring.remove_listener(heard.append)
    log.info("second")
    assert [entry.message for entry in heard] == ["first"]
    assert len(ring.entries()) == 2


def test_many_threads_write_without_losing_or_reordering(ring_logger) -> None:
    ring, log = ring_logger
    ring_capacity = 50
    threads = [
        threading.Thread(target=lambda n=n: [log.info("t%d %d", n, i) for i in range(300)])
        for n in range(6)
    ]
    reader_seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            reader_seen.append(len(ring.entries(search="t")))

    reader = threading.Thread(target=read)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    reader.join()
    entries = ring.entries()
    assert ring.last_seq == 1800
    assert [entry.seq for entry in entries] == list(range(1800 - ring_capacity + 1, 1801))
    assert max(reader_seen) <= ring_capacity


def test_rejects_a_useless_capacity() -> None:
    with pytest.raises(ValueError):
        RingBufferHandler(capacity=0)
