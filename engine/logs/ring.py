"""The last N log lines in memory, for the console's log viewer.

Written from any thread (asyncio loop, the Kite ticker thread, worker threads), read by
the UI; listeners are called in the writer's thread, so a Textual listener must hop
onto its loop (``app.call_from_thread``) before touching widgets.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from engine.logs.channels import ERRORS, channel_for, record_channels

LogListener = Callable[["LogEntry"], None]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line as the viewer shows it; ``seq`` increases by one per line."""

    seq: int
    ts_ns: int
    level: str
    channel: str
    logger: str
    message: str
    correlation_id: str | None = None

    @property
    def levelno(self) -> int:
        return logging.getLevelName(self.level) if self.level else 0


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    return number


class RingBufferHandler(logging.Handler):
    """A bounded, thread-safe deque of ``LogEntry`` with change listeners."""

    def __init__(self, capacity: int = 5000, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._entries_lock = threading.Lock()
        self._listeners: list[LogListener] = []
        self._seq = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = self._append(record)
        except Exception:
            self.handleError(record)
            return
        for listener in tuple(self._listeners):
            try:
                listener(entry)
            except Exception:  # a broken viewer must not break logging
                pass

    def _append(self, record: logging.LogRecord) -> LogEntry:
        message = record.getMessage()
        if record.exc_text:
            message = f"{message} | {record.exc_text.strip().splitlines()[-1]}"
        with self._entries_lock:
            self._seq += 1
            entry = LogEntry(
                seq=self._seq,
                ts_ns=int(record.created * 1_000_000_000),
                level=record.levelname,
                channel=getattr(record, "channel", None) or channel_for(record.name),
                logger=record.name,
                message=message,
                correlation_id=getattr(record, "correlation_id", None),
            )
            self._entries.append(entry)
        return entry

    def entries(
        self,
        since_seq: int = 0,
        level: str | int | None = None,
        channel: str | None = None,
        search: str | None = None,
    ) -> list[LogEntry]:
        """Entries newer than ``since_seq``, at or above ``level``, in ``channel``, matching
        ``search`` (case-insensitive, in message or logger name); oldest first."""
        with self._entries_lock:
            snapshot = list(self._entries)
        minimum = _level_number(level) if level is not None else None
        needle = search.lower() if search else None
        return [
            entry
            for entry in snapshot
            if entry.seq > since_seq
            and (minimum is None or entry.levelno >= minimum)
            and (channel is None or _in_channel(entry, channel))
            and (needle is None or needle in entry.message.lower() or needle in entry.logger)
        ]

    @property
    def last_seq(self) -> int:
        return self._seq

    def add_listener(self, listener: LogListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: LogListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def clear(self) -> None:
        with self._entries_lock:
            self._entries.clear()


def _in_channel(entry: LogEntry, channel: str) -> bool:
    if channel == ERRORS:
        return entry.levelno >= logging.ERROR
    return entry.channel == channel


__all__ = ["LogEntry", "LogListener", "RingBufferHandler", "record_channels"]
