"""Zerodha's composition: settings → ``ZerodhaVenueConfig``, session, venue.

The only place that knows both ``ALPHAPANDA_ZERODHA__*`` and the engine's Zerodha
package; the runtime and the CLI commands (login, logout, instruments) build from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from alphapanda_tui import engine_config
from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings import Settings
from engine.bus.base import EventBus
from engine.clock import Clock
from engine.instruments.registry import InstrumentRegistry
from engine.prechecks import HealthProbe
from engine.read_model import ReadModel
from engine.strategies import StrategyBinding
from engine.zerodha.margins import MarginConfig
from engine.zerodha.rate_limit import RateLimits
from engine.zerodha.session import LoginError, ZerodhaSession
from engine.zerodha.venue import ZerodhaVenue
from engine.zerodha.venue_config import ZerodhaVenueConfig, open_session
from storage.instruments_sync_record import FileSyncRecord
from storage.token_store import FileTokenStore


def margin_config(settings: Settings) -> MarginConfig:
    """The live margin check's settings (``ALPHAPANDA_ZERODHA__MARGIN_*``)."""
    z = settings.zerodha
    return MarginConfig(
        enabled=z.margin_check,
        cache_s=z.margin_cache_s,
        on_error=z.margin_on_error,
        requests_per_second=z.margin_requests_per_second,
        funds_poll_s=z.funds_poll_s,
    )


def venue_config(settings: Settings) -> ZerodhaVenueConfig:
    """Everything the Zerodha venue is built from, read once from the settings."""
    z = settings.zerodha
    return ZerodhaVenueConfig(
        api_key=z.api_key or "",
        api_secret=z.api_secret.get_secret_value() if z.api_secret else "",
        api_root=z.api_root,
        ticker_root=z.ticker_root,
        login_url=z.login_url,
        request_timeout_s=z.request_timeout_s,
        rate_limits=RateLimits(
            per_second=z.orders_per_second,
            per_minute=z.orders_per_minute,
            per_day=z.orders_per_day,
        ),
        market_protection=z.market_protection,
        margin=margin_config(settings),
        ticker_stale_after_s=z.ticker_stale_after_s,
        on_token_expiry=z.on_token_expiry,
    )


def sync_record(settings: Settings) -> FileSyncRecord:
    """Where the last instruments sync is recorded (the CLI and the console agree)."""
    return FileSyncRecord(settings.data_dir)


def build_session(settings: Settings, clock: Clock | None = None) -> ZerodhaSession:
    """The session over the owner-only token file; secrets registered for redaction first.

    A missing API key or secret is a ``ConfigError``: one line, exit 2.
    """
    try:
        return open_session(
            venue_config(settings), FileTokenStore(settings.token_file), clock=clock
        )
    except LoginError as exc:
        raise ConfigError(str(exc)) from None


def build_venue(
    settings: Settings,
    *,
    bus: EventBus,
    store: Any,
    registry: InstrumentRegistry,
    bindings: Sequence[StrategyBinding],
    read_model: ReadModel,
    clock: Clock,
    health_probes: Sequence[HealthProbe] = (),
    use_ticker: bool = True,
    ticker_factory: Callable[..., Any] | None = None,
) -> ZerodhaVenue:
    """Every live part for one runtime; the runtime attaches its trading control."""
    settings.require_live_credentials()
    risk = settings.risk
    return ZerodhaVenue(
        venue_config(settings),
        session=build_session(settings, clock),
        bus=bus,
        store=store,
        sync_record=sync_record(settings),
        registry=registry,
        bindings=bindings,
        read_model=read_model,
        clock=clock,
        calendar=engine_config.calendar(settings),
        risk_limits_configured=risk.max_daily_loss > 0 and risk.max_order_value > 0,
        health_probes=health_probes,
        ticker_factory=ticker_factory,
        use_ticker=use_ticker,
    )
