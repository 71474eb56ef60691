"""What the headless engine prints for the trader watching it: fills, halts, alerts, actions.

One human line each on stdout; the consumer and bus chatter stays in the files. A line
passes when it is an order's fill or final state, an operator action (the audit
channel), or an engine warning or worse (automatic halts, alerts, refused orders).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from engine.logs.channels import AUDIT, channel_for
from engine.logs.order_story import FILL, FINAL, ORDER_LOG

_ORDER_STAGES = frozenset({FILL, FINAL})
_ENGINE = "alphapanda"
# A library's error (aiokafka's 'Unable connect to node …' while a broker is down comes
# hundreds of times a second) is printed once per this many seconds, then with a count
REPEAT_WINDOW_S = 30.0
LEFT_OUT = "repeats_left_out"  # the record attribute the formatter reads


class TraderFilter(logging.Filter):
    """Keeps the lines a trader acts on; drops the rest of INFO. A library's error that
    repeats (same logger, same message before its arguments) is kept once per
    ``REPEAT_WINDOW_S``; the next one kept says how many were left out. The engine's own
    lines are never held back."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        window_s: float = REPEAT_WINDOW_S,
    ) -> None:
        super().__init__()
        self._monotonic = monotonic
        self._window_s = window_s
        self._repeats: dict[tuple[str, str], tuple[float, int]] = {}  # last kept, left out

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if name == ORDER_LOG.name:
            return getattr(record, "stage", None) in _ORDER_STAGES
        if channel_for(name) == AUDIT:
            return True
        if name == _ENGINE or name.startswith(_ENGINE + "."):
            return record.levelno >= logging.WARNING
        return record.levelno >= logging.ERROR and self._first_in_window(record)

    def _first_in_window(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self._monotonic()
        kept = self._repeats.get(key)
        if kept is not None and now - kept[0] < self._window_s:
            self._repeats[key] = (kept[0], kept[1] + 1)
            return False
        if kept is not None and kept[1]:
            setattr(record, LEFT_OUT, kept[1])
        self._repeats[key] = (now, 0)
        return True


class TraderFormatter(logging.Formatter):
    """``10:15:03 FILL  fill FILLED BUY 10 NSE:INFY @ 1500.50 …``: time, what, the message."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        label = _label(record)
        text = f"{stamp} {label:<8} {record.getMessage()}"
        reason = getattr(record, "reason", None)
        if reason and str(reason) not in text:
            text = f"{text}: {reason}"
        left_out = getattr(record, LEFT_OUT, 0)
        if left_out:
            text = f"{text} ({left_out:,d} more like it since the last one shown)"
        if record.exc_text:  # a bug: its whole traceback, for the report
            text = f"{text}\n{record.exc_text}"
        return text


def _label(record: logging.LogRecord) -> str:
    if record.name == ORDER_LOG.name:
        return "ORDER"
    if channel_for(record.name) == AUDIT:
        return "OPERATOR"
    return record.levelname
