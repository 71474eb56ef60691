"""Wire the process's logging once: channel files, the console ring buffer, redaction.

Re-callable (tests, the TUI restarting its engine): a new call closes the handlers of
the previous one first, so lines are never written twice.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine.logs.channels import CHANNELS, ChannelFilter
from engine.logs.jsonl import ContextFilter, JsonLinesFormatter, TextFormatter
from engine.logs.redaction import RedactionFilter
from engine.logs.ring import RingBufferHandler
from engine.logs.trader import TraderFilter, TraderFormatter
from engine.private_file import PrivateRotatingFileHandler

ROOT_LOGGER = "alphapanda"
NOISY_LOGGERS: tuple[str, ...] = (
    "aiokafka",
    "kafka",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "kiteconnect",
    "twisted",
    "autobahn",
    "urllib3",
    "websockets",
    "redis",
    "alembic",
)


@dataclass
class LogRuntime:
    """The handlers ``setup_logging`` installed; ``close()`` removes and flushes them."""

    ring: RingBufferHandler
    logs_dir: Path
    suffix: str = ".jsonl"
    handlers: list[logging.Handler] = field(default_factory=list)
    previous_levels: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
            handler.close()
        for name, level in self.previous_levels.items():
            logging.getLogger(name or None).setLevel(level)

    def file_for(self, channel: str) -> Path:
        """Where ``channel`` is written (``{home}/logs/{channel}.jsonl``)."""
        return self.logs_dir / f"{channel}{self.suffix}"

    def flush(self) -> None:
        for handler in self.handlers:
            handler.flush()


_lock = threading.Lock()
_active: LogRuntime | None = None


def setup_logging(
    home: Path,
    *,
    level: str = "INFO",
    ring_capacity: int = 5000,
    max_bytes: int = 10 * 1024 * 1024,
    backup_count: int = 5,
    console: bool = False,
    json_lines: bool = True,
    trader_stdout: bool = False,
) -> LogRuntime:
    """Install channel files under ``home/logs``, a ring buffer and (optionally) stderr.

    ``trader_stdout``: also print the trader's lines (fills, halts, alerts, operator
    actions; ``engine.logs.trader``) to stdout, as the headless engine does.
    """
    global _active
    with _lock:
        if _active is not None:
            _active.close()
        logs_dir = Path(home) / "logs"
        logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        ring = RingBufferHandler(ring_capacity)
        handlers: list[logging.Handler] = [ring]
        formatter: logging.Formatter = JsonLinesFormatter() if json_lines else TextFormatter()
        suffix = ".jsonl" if json_lines else ".log"
        for channel in CHANNELS:
            handler: logging.Handler = PrivateRotatingFileHandler(
                logs_dir / f"{channel}{suffix}",
                maxBytes=max_bytes,
                backupCount=backup_count,
                encoding="utf-8",
                delay=True,
            )
            handler.addFilter(ChannelFilter(channel))
            handler.setFormatter(formatter)
            handlers.append(handler)
        if console:
            stream = logging.StreamHandler(sys.stderr)
            stream.setFormatter(TextFormatter())
            handlers.append(stream)
        if trader_stdout:
            trader = logging.StreamHandler(sys.stdout)
            trader.addFilter(TraderFilter())
            trader.setFormatter(TraderFormatter())
            handlers.append(trader)
        for handler in handlers:
            # Redaction first: every later filter, formatter and handler sees masked text.
            handler.filters.insert(0, ContextFilter())
            handler.filters.insert(0, RedactionFilter())
        runtime = LogRuntime(ring=ring, logs_dir=logs_dir, suffix=suffix, handlers=handlers)
        _apply_levels(runtime, level)
        root = logging.getLogger()
        for handler in handlers:
            root.addHandler(handler)
        _active = runtime
        return runtime


def _apply_levels(runtime: LogRuntime, level: str) -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    targets = {"": numeric, ROOT_LOGGER: numeric}
    targets.update({name: max(numeric, logging.WARNING) for name in NOISY_LOGGERS})
    for name, value in targets.items():
        logger = logging.getLogger(name or None)
        runtime.previous_levels[name] = logger.level
        logger.setLevel(value)
