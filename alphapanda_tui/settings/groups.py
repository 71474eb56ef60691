"""The settings groups (``ALPHAPANDA_<GROUP>__<FIELD>``): one frozen model per concern.

Each group is validated on its own; defaults that the engine also needs come from the
engine's own config objects (``RiskLimits``, the dedup window, the retention), so there is
one default per value.
"""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode

from alphapanda_tui.settings.cutoffs import DEFAULT_DOC, default_cutoffs, parse_cutoffs
from alphapanda_tui.settings.freeze import parse_freeze_quantities
from alphapanda_tui.settings.urls import check_database_url, check_redis_url
from engine.market.calendar import NSE_HOLIDAYS_2026
from engine.processing.dedup import DEFAULT_DEDUP_WINDOW
from engine.processing.retention import DEFAULT_RETENTION_S
from engine.risk.limits import limit_default


def _doc(description: str, doc_default: str | None = None) -> dict[str, Any]:
    """Field kwargs: the description, and how the default reads in docs when not literal."""
    extra = {"doc_default": doc_default} if doc_default is not None else None
    return {"description": description, "json_schema_extra": extra}


def _charge(default: str, description: str) -> Any:
    """A rate or amount of Zerodha's charges schedule: an exact Decimal, never negative."""
    return Field(Decimal(default), ge=0, **_doc(description))


def _split_list(value: Any) -> Any:
    """Accept a JSON list or a comma-separated string for list settings from env."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


class _Group(BaseModel):
    # No inf/NaN anywhere: "cooldown inf" or "loss nan" would switch a guard off silently.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class DatabaseSettings(_Group):
    url: str | None = Field(
        None, **_doc("SQLAlchemy async URL.", "sqlite+aiosqlite:///{home}/alphapanda.db")
    )
    echo: bool = Field(False, **_doc("Log every SQL statement (debugging only)."))
    pool_size: int = Field(5, ge=1, **_doc("Connection pool size (PostgreSQL)."))

    @field_validator("url")
    @classmethod
    def _url_parses(cls, value: str | None) -> str | None:
        """A URL the engine could not open fails here, not as a traceback at first use."""
        return None if value is None else check_database_url(value)

    def resolved_url(self, home: Path) -> str:
        """The configured URL, or the embedded SQLite file under ``home``."""
        return self.url or f"sqlite+aiosqlite:///{home}/alphapanda.db"


class BusSettings(_Group):
    backend: Literal["memory", "kafka"] = Field(
        "memory", **_doc("Event bus: in-process queues or a Kafka/Redpanda cluster.")
    )
    bootstrap_servers: str = Field("127.0.0.1:9092", **_doc("Kafka bootstrap servers."))
    partitions: int = Field(4, ge=1, **_doc("Partitions per topic."))
    capacity: int = Field(10000, ge=1, **_doc("Memory bus queue bound per partition."))
    wire_format: Literal["msgpack", "json"] = Field("msgpack", **_doc("Message encoding."))
    client_id: str = Field("alphapanda", **_doc("Kafka client id."))
    idempotent_producer: bool = Field(True, **_doc("Kafka idempotent producer."))
    acks: Literal["all", "0", "1"] = Field("all", **_doc("Kafka producer acks."))
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", **_doc("Kafka security protocol.")
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, **_doc("Kafka SASL mechanism.")
    )
    sasl_username: str | None = Field(None, **_doc("Kafka SASL user."))
    sasl_password: SecretStr | None = Field(None, **_doc("Kafka SASL password (secret)."))
    ssl_cafile: Path | None = Field(None, **_doc("CA bundle for Kafka TLS."))
    session_timeout_ms: int = Field(
        10000, ge=1000, **_doc("Kafka group session timeout: how soon a dead engine's work moves.")
    )
    heartbeat_interval_ms: int = Field(3000, ge=100, **_doc("Kafka group heartbeat interval."))


class RedisSettings(_Group):
    url: str | None = Field(None, **_doc("Redis URL for the read model; unset = in-memory."))
    password: SecretStr | None = Field(None, **_doc("Redis password (secret)."))
    ssl: bool = Field(False, **_doc("Use TLS to Redis."))
    key_prefix: str = Field("alphapanda", **_doc("Prefix of every Redis key."))

    @field_validator("url")
    @classmethod
    def _url_parses(cls, value: str | None) -> str | None:
        """A URL the Redis client could not open fails here, not as a traceback later."""
        return value if not value else check_redis_url(value)


class ZerodhaSettings(_Group):
    api_key: str | None = Field(None, **_doc("Kite Connect API key (needed for live)."))
    api_secret: SecretStr | None = Field(
        None, **_doc("Kite Connect API secret (secret; needed for live).")
    )
    redirect_url: str | None = Field(
        None,
        **_doc(
            "Redirect URL registered with the Kite app; a loopback one "
            "(http://127.0.0.1:PORT/...) lets `alphapanda login` catch it."
        ),
    )
    api_root: str = Field("https://api.kite.trade", **_doc("Kite REST root."))
    ticker_root: str = Field("wss://ws.kite.trade", **_doc("Kite ticker websocket root."))
    login_url: str = Field("https://kite.zerodha.com/connect/login", **_doc("Kite login page."))
    request_timeout_s: float = Field(7.0, gt=0, **_doc("Kite REST timeout, seconds."))
    orders_per_second: int = Field(10, ge=1, **_doc("Order rate limit per second."))
    orders_per_minute: int = Field(400, ge=1, **_doc("Order rate limit per minute."))
    orders_per_day: int = Field(
        5000, ge=1, **_doc("Order requests per day; the next one is refused until 00:00 IST.")
    )
    market_protection: int = Field(
        -1, ge=-1, le=100, **_doc("Market order protection percent; -1 = automatic.")
    )
    margin_check: bool = Field(
        True,
        **_doc("Ask Kite's order margins before each live order; refuse a shortfall; false = off."),
    )
    margin_cache_s: float = Field(
        2.0, ge=0, **_doc("How long one read of the available margin is reused, seconds.")
    )
    margin_on_error: Literal["refuse", "allow"] = Field(
        "refuse", **_doc("When Kite cannot tell the margin: refuse the order, or send it.")
    )
    margin_requests_per_second: int = Field(
        5, ge=1, **_doc("Margin requests per second (apart from the order budget).")
    )
    funds_poll_s: float = Field(
        30.0, ge=5, **_doc("How often the console's funds line reads Kite's margins(), seconds.")
    )
    on_token_expiry: Literal["halt", "reduce"] = Field(
        "halt", **_doc("Trading state when the access token expires.")
    )
    ticker_stale_after_s: float = Field(
        10.0, gt=0, **_doc("Ticker silence that counts as stale, seconds.")
    )
    callback_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        **_doc(
            "Loopback port where `alphapanda login` catches the redirect; "
            "unset = the port of a loopback redirect_url, else paste it."
        ),
    )


def _limit(name: str, description: str, **bounds: Any) -> Any:
    """A risk limit's field, its default taken from ``RiskLimits`` (one default per limit)."""
    return Field(limit_default(name), **bounds, **_doc(description))


class RiskSettings(_Group):
    # Defaults come from ``RiskLimits`` (engine/risk/limits.py): one default per limit.
    max_order_quantity: int = _limit("max_order_quantity", "Largest quantity in one order.", ge=1)
    max_order_value: Decimal = _limit("max_order_value", "Largest order value, INR.", gt=0)
    max_position_value: Decimal = _limit(
        "max_position_value", "Largest position value per instrument, INR.", gt=0
    )
    max_gross_exposure: Decimal = _limit(
        "max_gross_exposure", "Largest sum of position values, INR.", gt=0
    )
    max_open_orders: int = _limit("max_open_orders", "Most working orders at once.", ge=1)
    price_band_pct: Decimal = _limit(
        "price_band_pct", "Limit price band around last price, percent.", gt=0
    )
    max_orders_per_second: int = _limit(
        "max_orders_per_second", "Signals accepted per second.", ge=1
    )
    max_daily_loss: Decimal = _limit(
        "max_daily_loss", "Daily loss that halts trading, INR.", gt=0, le=Decimal("1e12")
    )
    allowed_instruments: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        **_doc("Tradable EXCHANGE:SYMBOL list (comma or JSON); empty = all known.", ""),
    )
    holidays: Annotated[list[date], NoDecode] = Field(
        default_factory=lambda: list(NSE_HOLIDAYS_2026),
        **_doc("Exchange holidays (comma or JSON dates).", "NSE 2026 equity holidays"),
    )
    enforce_market_hours: bool = _limit(
        "enforce_market_hours", "Reject orders outside market hours; false = off."
    )
    max_consecutive_rejections: int = _limit(
        "max_consecutive_rejections", "Broker rejections in a row that halt trading.", ge=1
    )
    mis_square_off: Annotated[dict[str, time], NoDecode] = Field(
        default_factory=default_cutoffs,
        **_doc(
            "MIS square-off time per segment, IST (SEGMENT=HH:MM,...); "
            "no MIS entry after it; empty = off.",
            DEFAULT_DOC,
        ),
    )

    _split = field_validator("allowed_instruments", "holidays", mode="before")(
        lambda cls, value: _split_list(value)
    )
    _cutoffs = field_validator("mis_square_off", mode="before")(
        lambda cls, value: parse_cutoffs(value)
    )


class PortfolioSettings(_Group):
    starting_cash: Decimal = Field(Decimal(1000000), ge=0, **_doc("Paper starting cash, INR."))
    snapshot_interval_s: float = Field(
        5.0, ge=0.05, le=3600, **_doc("P&L snapshot interval, seconds.")
    )


class ExecutionSettings(_Group):
    slippage_bps: Decimal = Field(
        Decimal(2), ge=0, le=1000, **_doc("Paper fill slippage, basis points.")
    )
    paper_funds_check: bool = Field(
        True,
        **_doc(
            "Paper: refuse an order the funds (cash less used margin) cannot cover; false = off."
        ),
    )
    paper_mis_leverage: Decimal = Field(
        Decimal(5), ge=1, le=100, **_doc("Paper MIS margin: order value divided by this.")
    )
    default_product: Literal["MIS", "CNC", "NRML"] = Field("MIS", **_doc("Default product."))
    autoslice: bool = Field(
        True,
        **_doc(
            "Orders above the freeze quantity go out as Kite autoslice legs (paper imitates "
            "them); false = refuse them."
        ),
    )
    autoslice_max_legs: int = Field(
        10, ge=2, le=50, **_doc("Most legs one autoslice order may become; above it, refused.")
    )
    freeze_table: Path | None = Field(
        None,
        **_doc("Freeze-quantity table, JSON shaped like the shipped one.", "shipped NSE table"),
    )
    freeze_quantities: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        **_doc("Freeze-quantity overrides, EXCHANGE:NAME=QTY,... (or JSON); win over the table."),
    )
    brokerage_pct_intraday: Decimal = _charge("0.03", "Intraday brokerage, percent of turnover.")
    brokerage_cap: Decimal = _charge("20", "Brokerage cap per order, INR.")
    brokerage_delivery: Decimal = _charge("0", "Delivery brokerage, percent.")
    stt_intraday_sell_pct: Decimal = _charge("0.025", "STT on intraday sells, percent.")
    stt_delivery_pct: Decimal = _charge("0.1", "STT on delivery buys and sells, percent.")
    exchange_txn_pct: Decimal = _charge("0.00297", "Exchange transaction charge, percent.")
    sebi_per_crore: Decimal = _charge("10", "SEBI fee per crore, INR.")
    gst_pct: Decimal = _charge("18", "GST on brokerage and fees, percent.")
    stamp_intraday_buy_pct: Decimal = _charge("0.003", "Stamp duty on intraday buys, percent.")
    stamp_delivery_buy_pct: Decimal = _charge("0.015", "Stamp duty on delivery buys, percent.")

    _freeze = field_validator("freeze_quantities", mode="before")(
        lambda cls, value: parse_freeze_quantities(value)
    )

    @field_validator("freeze_table", mode="after")
    @classmethod
    def _table_exists(cls, value: Path | None) -> Path | None:
        """A missing table fails at start, not at the first order above a freeze limit."""
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return None if value is None else value.expanduser()


class FeedSettings(_Group):
    source: Literal["simulated", "replay", "kite"] = Field(
        "simulated", **_doc("Market data source.")
    )
    seed: int = Field(42, **_doc("Random seed of the simulated market."))
    tick_interval_ms: int = Field(250, ge=1, **_doc("Simulated tick interval, ms."))
    compressed: bool = Field(True, **_doc("Demo clock ignores real market hours."))
    instruments_csv: Path | None = Field(None, **_doc("Instruments CSV.", "bundled NSE sample"))
    ticks_csv: Path | None = Field(None, **_doc("Ticks CSV for replay."))
    stale_after_s: float = Field(5.0, gt=0, **_doc("Feed silence that counts as stale, s."))
    price_band_pct: Decimal = Field(
        Decimal(20),
        ge=0,
        le=100,
        **_doc("Replayed tick this % off its previous price is dead-lettered; 0 = off."),
    )


class ProcessingSettings(_Group):
    max_attempts: int = Field(5, ge=1, **_doc("Handler attempts before the DLQ."))
    retry_base_delay_s: float = Field(0.05, gt=0, **_doc("First retry delay, seconds."))
    retry_max_delay_s: float = Field(5.0, gt=0, **_doc("Longest retry delay, seconds."))
    breaker_failure_threshold: int = Field(
        10, ge=1, **_doc("Failures in a row that open the circuit breaker.")
    )
    breaker_cooldown_s: float = Field(5.0, gt=0, **_doc("First breaker pause, seconds."))
    breaker_max_cooldown_s: float = Field(60.0, gt=0, **_doc("Longest breaker pause, s."))
    batch_size: int = Field(256, ge=1, **_doc("Records fetched per poll."))
    dedup_window: int = Field(
        DEFAULT_DEDUP_WINDOW, ge=1, **_doc("Event ids per consumer kept for dedup in memory.")
    )
    processed_retention_s: int = Field(
        DEFAULT_RETENTION_S,
        ge=60,
        **_doc("How long processed ids are kept in storage (pruned on a schedule), seconds."),
    )
    health_interval_s: float = Field(1.0, gt=0, **_doc("Health report interval, seconds."))

    @model_validator(mode="after")
    def _delays_in_order(self) -> ProcessingSettings:
        """A first delay above the longest one is a typo, not a policy: refuse it."""
        if self.retry_base_delay_s > self.retry_max_delay_s:
            raise ValueError(
                f"retry_base_delay_s ({self.retry_base_delay_s}) is above "
                f"retry_max_delay_s ({self.retry_max_delay_s})"
            )
        if self.breaker_cooldown_s > self.breaker_max_cooldown_s:
            raise ValueError(
                f"breaker_cooldown_s ({self.breaker_cooldown_s}) is above "
                f"breaker_max_cooldown_s ({self.breaker_max_cooldown_s})"
            )
        return self


class LogSettings(_Group):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", **_doc("Log level.")
    )
    ring_buffer_lines: int = Field(5000, ge=1, **_doc("Lines the console log viewer keeps."))
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024, **_doc("Log file size before rotation."))
    backup_count: int = Field(5, ge=0, **_doc("Rotated log files kept per channel."))
    json_lines: bool = Field(
        True, alias="json", **_doc("JSON lines (.jsonl) instead of text (.log).")
    )

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    _upper = field_validator("level", mode="before")(
        lambda cls, value: value.upper() if isinstance(value, str) else value
    )


class UiSettings(_Group):
    refresh_hz: float = Field(10.0, gt=0, le=60, **_doc("Table refresh rate, Hz."))
    theme: str = Field("textual-dark", **_doc("Console theme (a Textual theme name)."))

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, value: str) -> str:
        """An unknown theme name fails here as one line, not as a crash when the screen opens."""
        from textual.theme import BUILTIN_THEMES  # only when set: most commands draw nothing

        if value not in BUILTIN_THEMES:
            raise ValueError(f"unknown theme (one of {', '.join(sorted(BUILTIN_THEMES))})")
        return value
