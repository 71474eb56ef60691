"""Start logging from settings: channel files under home, the ring buffer, secret masks."""

from __future__ import annotations

from alphapanda_tui.settings import Settings
from engine.logs import LogRuntime, register_secret, setup_logging


def register_setting_secrets(settings: Settings) -> None:
    """Mask every configured secret in logs before anything can log it."""
    for secret in (
        settings.zerodha.api_secret,
        settings.bus.sasl_password,
        settings.redis.password,
    ):
        if secret is not None:
            register_secret(secret.get_secret_value())


def start_logging(
    settings: Settings, *, console: bool = False, trader_stdout: bool = False
) -> LogRuntime:
    """``setup_logging`` with the ``log`` settings; creates the home directory owner-only."""
    register_setting_secrets(settings)
    settings.ensure_home()
    return setup_logging(
        settings.home,
        level=settings.log.level,
        ring_capacity=settings.log.ring_buffer_lines,
        max_bytes=settings.log.max_bytes,
        backup_count=settings.log.backup_count,
        console=console,
        json_lines=settings.log.json_lines,
        trader_stdout=trader_stdout,
    )
