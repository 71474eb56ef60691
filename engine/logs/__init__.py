"""Logging for every process: channels, JSON lines, redaction, a ring buffer for the console."""

from engine.logs.channels import CHANNEL_ROUTES, CHANNELS, channel_for
from engine.logs.context import (
    correlation_scope,
    current_correlation_id,
    reset_correlation_id,
    set_correlation_id,
)
from engine.logs.redaction import MASK, redact, register_secret
from engine.logs.ring import LogEntry, RingBufferHandler
from engine.logs.setup import LogRuntime, setup_logging

__all__ = [
    "CHANNELS",
    "CHANNEL_ROUTES",
    "MASK",
    "LogEntry",
    "LogRuntime",
    "RingBufferHandler",
    "channel_for",
    "correlation_scope",
    "current_correlation_id",
    "redact",
    "register_secret",
    "reset_correlation_id",
    "set_correlation_id",
    "setup_logging",
]
