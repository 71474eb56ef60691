"""What the headless engine prints for the trader watching it: fills, halts, alerts, actions.

One human line each on stdout; the consumer and bus chatter stays in the files. A line
passes when it is an order's fill or final state, an operator action (the audit
channel), or an engine warning or worse (automatic halts, alerts, refused orders).
"""

from __future__ import annotations

import logging
from datetime import datetime

from engine.logs.channels import AUDIT, channel_for
from engine.logs.order_story import FILL, FINAL, ORDER_LOG

_ORDER_STAGES = frozenset({FILL, FINAL})
_ENGINE = "alphapanda"


class TraderFilter(logging.Filter):
    """Keeps the lines a trader acts on; drops the rest of INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if name == ORDER_LOG.name:
            return getattr(record, "stage", None) in _ORDER_STAGES
        if channel_for(name) == AUDIT:
            return True
        if name == _ENGINE or name.startswith(_ENGINE + "."):
            return record.levelno >= logging.WARNING
        return record.levelno >= logging.ERROR


class TraderFormatter(logging.Formatter):
    """``10:15:03 FILL  fill FILLED BUY 10 NSE:INFY @ 1500.50 …``: time, what, the message."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        label = _label(record)
        text = f"{stamp} {label:<8} {record.getMessage()}"
        reason = getattr(record, "reason", None)
        if reason and str(reason) not in text:
            text = f"{text}: {reason}"
        if record.exc_text:  # a bug: its whole traceback, for the report
            text = f"{text}\n{record.exc_text}"
        return text


def _label(record: logging.LogRecord) -> str:
    if record.name == ORDER_LOG.name:
        return "ORDER"
    if channel_for(record.name) == AUDIT:
        return "OPERATOR"
    return record.levelname
