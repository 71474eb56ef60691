"""One JSON object per line: what the log files hold, easy to grep and to load."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from engine.logs.channels import channel_for
from engine.logs.context import current_correlation_id
from engine.logs.redaction import extra_fields


class ContextFilter(logging.Filter):
    """Stamps the channel and the current correlation id on a record (extras win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "channel", None):
            record.channel = channel_for(record.name)
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = current_correlation_id()
        return True


def iso_utc(created: float) -> str:
    """``record.created`` as ISO 8601 UTC with microseconds and a ``Z``."""
    stamp = datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="microseconds")
    return stamp.replace("+00:00", "Z")


class JsonLinesFormatter(logging.Formatter):
    """ts, level, channel, logger, message, correlation_id, the extras, and exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": iso_utc(record.created),
            "level": record.levelname,
            "channel": getattr(record, "channel", None) or channel_for(record.name),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            if key not in line and value is not None:
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human lines for the console and for ``ALPHAPANDA_LOG__JSON=false`` files."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(channel)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "channel", None):
            record.channel = channel_for(record.name)
        text = super().format(record)
        cid = getattr(record, "correlation_id", None)
        return f"{text} [cid={cid}]" if cid else text
