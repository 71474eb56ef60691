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

from engine.clock import Clock
from engine.logs.channels import ERRORS, channel_for, record_channels
from engine.logs.redaction import extra_fields

LogListener = Callable[["LogEntry"], None]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line as the viewer shows it; ``seq`` increases by one per line.

    ``fields`` are the record's structured extras as text (symbol, reason, client order
    id…), so the viewer can show and search what the message does not say.
    """

    seq: int
    ts_ns: int
    level: str
    channel: str
    logger: str
    message: str
    correlation_id: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def levelno(self) -> int:
        return logging.getLevelName(self.level) if self.level else 0

    def field(self, name: str) -> str | None:
        """The text of one structured field, or None when the line has none."""
        return next((value for key, value in self.fields if key == name), None)

    def matches(self, needle: str) -> bool:
        """``needle`` (lower case) is in the message, the logger or a field's value."""
        return (
            needle in self.message.lower()
            or needle in self.logger
            or any(needle in value.lower() for _, value in self.fields)
        )


_NOT_FIELDS = frozenset({"channel", "correlation_id"})


def _fields_of(record: logging.LogRecord) -> tuple[tuple[str, str], ...]:
    return tuple(
        (key, value if isinstance(value, str) else str(value))
        for key, value in extra_fields(record).items()
        if value is not None and key not in _NOT_FIELDS
    )


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
        self.clock: Clock | None = None  # the run's clock; None: the record's wall time

    def stamp_with(self, clock: Clock | None) -> None:
        """Stamp lines with the run's clock from now on (the simulated market's on SIM),
        so the viewer's time column agrees with the orders and alerts on screen."""
        self.clock = clock

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
        clock = self.clock
        ts_ns = clock.now_ns() if clock is not None else int(record.created * 1_000_000_000)
        with self._entries_lock:
            self._seq += 1
            entry = LogEntry(
                seq=self._seq,
                ts_ns=ts_ns,
                level=record.levelname,
                channel=getattr(record, "channel", None) or channel_for(record.name),
                logger=record.name,
                message=message,
                correlation_id=getattr(record, "correlation_id", None),
                fields=_fields_of(record),
            )
            self._entries.append(entry)
        return entry

    def entries(
        self,
        since_seq: int = 0,
        level: str | int | None = None,
        channel: str | None = None,
        search: str | None = None,
        correlation_id: str | None = None,
    ) -> list[LogEntry]:
        """Entries newer than ``since_seq``, at or above ``level``, in ``channel``, matching
        ``search`` (case-insensitive, in the message, the logger name or a field) and of
        one ``correlation_id`` (one order's story); oldest first."""
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
            and (needle is None or entry.matches(needle))
            and (correlation_id is None or entry.correlation_id == correlation_id)
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
