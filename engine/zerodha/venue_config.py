"""``ZerodhaVenueConfig``: everything the live Zerodha venue is built from, frozen.

The composition root (``alphapanda_tui.venues.zerodha``) builds it once from the
settings, so the engine never reads settings. The API secret never appears in repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from engine.clock import Clock
from engine.logs import register_secret
from engine.zerodha.margins import MarginConfig
from engine.zerodha.rate_limit import RateLimits
from engine.zerodha.session import TokenStore, ZerodhaSession


@dataclass(frozen=True, slots=True)
class ZerodhaVenueConfig:
    """The Kite app's keys and roots, order limits, margin check and token policy."""

    api_key: str
    api_secret: str = field(repr=False)
    api_root: str = "https://api.kite.trade"
    ticker_root: str = "wss://ws.kite.trade"
    login_url: str = "https://kite.zerodha.com/connect/login"
    request_timeout_s: float = 7.0
    rate_limits: RateLimits = field(default_factory=RateLimits)
    market_protection: int = -1  # -1: Kite chooses the band
    margin: MarginConfig = field(default_factory=MarginConfig)
    ticker_stale_after_s: float = 10.0
    on_token_expiry: Literal["halt", "reduce"] = "halt"

    def __post_init__(self) -> None:
        if self.on_token_expiry not in ("halt", "reduce"):
            raise ValueError("on_token_expiry must be 'halt' or 'reduce'")
        if self.request_timeout_s <= 0:
            raise ValueError("request_timeout_s must be positive")


def open_session(
    config: ZerodhaVenueConfig,
    token_store: TokenStore,
    *,
    clock: Clock | None = None,
) -> ZerodhaSession:
    """The session over ``token_store``; the secret is registered for redaction first.

    Raises ``LoginError`` when the API key or secret is missing.
    """
    register_secret(config.api_secret)
    return ZerodhaSession(
        api_key=config.api_key,
        api_secret=config.api_secret,
        api_root=config.api_root,
        login_url=config.login_url,
        token_store=token_store,
        clock=clock,
        timeout=config.request_timeout_s,
        register_secret=register_secret,
    )
