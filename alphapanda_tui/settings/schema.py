"""``Settings``: every group under one root, read from flags, env and ``.env``.

Build it with ``load_settings`` (``alphapanda_tui.settings.wording``) so errors read as one
line; pass it explicitly (there is no global settings object).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import (
    Field,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings.backtests import BacktestsSettings
from alphapanda_tui.settings.groups import (
    BusSettings,
    DatabaseSettings,
    ExecutionSettings,
    FeedSettings,
    LogSettings,
    PortfolioSettings,
    ProcessingSettings,
    RedisSettings,
    RiskSettings,
    UiSettings,
    ZerodhaSettings,
    _doc,
)
from alphapanda_tui.settings.names import ENV_PREFIX, NESTED_DELIMITER, env_name
from alphapanda_tui.settings.ticks import TicksSettings
from engine.events.types import Broker


class Settings(BaseSettings):
    """Everything configurable; build with ``load_settings`` so errors read as one line."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    mode: Literal["paper", "live"] = Field(
        "paper", **_doc("paper (simulated fills) or live (orders go to Zerodha).")
    )
    home: Path = Field(
        default_factory=lambda: Path(user_data_dir("alphapanda")),
        **_doc("Data, logs and token directory.", "platformdirs user data dir"),
    )
    strategies_file: Path | None = Field(None, **_doc("Strategies YAML.", "bundled defaults"))
    database: DatabaseSettings = DatabaseSettings()
    bus: BusSettings = BusSettings()
    redis: RedisSettings = RedisSettings()
    zerodha: ZerodhaSettings = ZerodhaSettings()
    risk: RiskSettings = RiskSettings()
    portfolio: PortfolioSettings = PortfolioSettings()
    execution: ExecutionSettings = ExecutionSettings()
    feed: FeedSettings = FeedSettings()
    processing: ProcessingSettings = ProcessingSettings()
    log: LogSettings = LogSettings()
    ui: UiSettings = UiSettings()
    backtests: BacktestsSettings = BacktestsSettings()
    ticks: TicksSettings = TicksSettings()

    @field_validator("home", "strategies_file", mode="before")
    @classmethod
    def _path_not_empty(cls, value: Any) -> Any:
        """An empty path means the working directory: files would land, or be read, there."""
        if isinstance(value, str | Path) and not str(value).strip():
            raise ValueError("must not be empty (unset it to use the default)")
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @model_validator(mode="after")
    def _resolve_database_url(self) -> Settings:
        if self.database.url is None:
            url = self.database.resolved_url(self.home)
            # Frozen model: fill the derived default once, while it is being built.
            object.__setattr__(self, "database", self.database.model_copy(update={"url": url}))
        return self

    @property
    def broker(self) -> Broker:
        """The venue this mode trades on; paper and live never share state."""
        return Broker.ZERODHA if self.mode == "live" else Broker.PAPER

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def token_file(self) -> Path:
        return self.home / "zerodha_token.json"

    def ensure_home(self) -> Path:
        """Create home, data and logs directories owner-only (they will hold the token)."""
        for directory in (self.home, self.data_dir, self.logs_dir):
            try:
                if not directory.exists():
                    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                    os.chmod(directory, 0o700)
            except OSError as exc:
                raise ConfigError(
                    f"invalid setting {ENV_PREFIX}HOME: cannot create {directory}: "
                    f"{exc.strerror or exc}"
                ) from None
        return self.home

    def require_live_credentials(self) -> None:
        """Raise ``ConfigError`` when live mode lacks the Kite API key or secret."""
        if self.mode != "live":
            return
        missing = []
        if not self.zerodha.api_key:
            missing.append(env_name(("zerodha", "api_key")))
        if self.zerodha.api_secret is None or not self.zerodha.api_secret.get_secret_value():
            missing.append(env_name(("zerodha", "api_secret")))
        if missing:
            raise ConfigError(
                f"live mode needs {' and '.join(missing)} (set them in the environment or .env)"
            )
