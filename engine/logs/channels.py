"""Which log file a logger writes to: one table from logger-name prefix to channel.

Operators read trading, risk and audit separately from the application chatter; any
record at ERROR or above is also copied to the errors channel.
"""

from __future__ import annotations

import logging

APPLICATION = "application"
TRADING = "trading"
RISK = "risk"
AUDIT = "audit"
ERRORS = "errors"
CHANNELS: tuple[str, ...] = (APPLICATION, TRADING, RISK, AUDIT, ERRORS)

# Longest matching prefix wins; anything else (third-party included) is application.
CHANNEL_ROUTES: dict[str, str] = {
    "alphapanda.trading": TRADING,
    "alphapanda.execution": TRADING,
    "alphapanda.portfolio": TRADING,
    "alphapanda.orders": TRADING,
    "alphapanda.strategies": TRADING,
    "alphapanda.risk": RISK,
    "alphapanda.trading_state": RISK,  # halts, resumes and the kill switch
    "alphapanda.audit": AUDIT,
}


def channel_for(logger_name: str) -> str:
    """The primary channel of a logger (``alphapanda.execution.paper`` → trading)."""
    best, best_len = APPLICATION, -1
    for prefix, channel in CHANNEL_ROUTES.items():
        if (logger_name == prefix or logger_name.startswith(prefix + ".")) and len(
            prefix
        ) > best_len:
            best, best_len = channel, len(prefix)
    return best


def record_channels(record: logging.LogRecord) -> tuple[str, ...]:
    """Every channel a record belongs to: its primary one, plus errors at ERROR and above."""
    primary = getattr(record, "channel", None) or channel_for(record.name)
    if record.levelno >= logging.ERROR and primary != ERRORS:
        return (primary, ERRORS)
    return (primary,)


class ChannelFilter(logging.Filter):
    """Passes only records that belong to ``channel`` (attached to that channel's file)."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel

    def filter(self, record: logging.LogRecord) -> bool:
        return self.channel in record_channels(record)
