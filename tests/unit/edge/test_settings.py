"""Settings: the public env names, nesting, .env files and one-line validation errors."""

from __future__ import annotations

import stat
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings import (
    load_settings,
    setting_fields,
    unknown_env_names,
)
from engine.market.calendar import NSE_HOLIDAYS_2026

PUBLIC_CONTRACT = [
    ("ALPHAPANDA_MODE", "live", lambda s: s.mode, "live"),
    ("ALPHAPANDA_DATABASE__URL", "postgresql+asyncpg://u@h/db", lambda s: s.database.url, None),
    ("ALPHAPANDA_BUS__BACKEND", "kafka", lambda s: s.bus.backend, None),
    (
        "ALPHAPANDA_BUS__BOOTSTRAP_SERVERS",
        "k1:9092,k2:9092",
        lambda s: s.bus.bootstrap_servers,
        None,
    ),
    ("ALPHAPANDA_REDIS__URL", "redis://r:6379/0", lambda s: s.redis.url, None),
    ("ALPHAPANDA_ZERODHA__API_KEY", "kitekey", lambda s: s.zerodha.api_key, None),
    (
        "ALPHAPANDA_ZERODHA__API_SECRET",
        "kitesecret",
        lambda s: s.zerodha.api_secret.get_secret_value(),
        None,
    ),
    ("ALPHAPANDA_ZERODHA__API_ROOT", "http://127.0.0.1:9000", lambda s: s.zerodha.api_root, None),
    (
        "ALPHAPANDA_ZERODHA__TICKER_ROOT",
        "ws://127.0.0.1:9001",
        lambda s: s.zerodha.ticker_root,
        None,
    ),
]


@pytest.mark.parametrize(("env", "raw", "read", "expected"), PUBLIC_CONTRACT)
def test_public_env_names_reach_their_setting(monkeypatch, env, raw, read, expected) -> None:
    monkeypatch.setenv(env, raw)
    assert read(load_settings()) == (expected or raw)


def test_home_from_env_and_derived_paths(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.home == isolated_home
    assert settings.logs_dir == isolated_home / "logs"
    assert settings.token_file == isolated_home / "zerodha_token.json"
    assert settings.database.url == f"sqlite+aiosqlite:///{isolated_home}/alphapanda.db"


def test_public_names_are_all_documented() -> None:
    documented = {field.env for field in setting_fields()}
    assert {env for env, *_ in PUBLIC_CONTRACT} | {"ALPHAPANDA_HOME"} <= documented


def test_defaults_are_paper_memory_sqlite_and_nse_holidays() -> None:
    settings = load_settings()
    assert (settings.mode, settings.bus.backend, settings.feed.source) == (
        "paper",
        "memory",
        "simulated",
    )
    assert settings.risk.holidays == list(NSE_HOLIDAYS_2026)
    assert date(2026, 1, 26) in settings.risk.holidays
    assert settings.risk.max_order_value == Decimal(500000)


def test_nested_delimiter_sets_every_group(monkeypatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__MAX_DAILY_LOSS", "12345.50")
    monkeypatch.setenv("ALPHAPANDA_PROCESSING__MAX_ATTEMPTS", "3")
    monkeypatch.setenv("ALPHAPANDA_LOG__JSON", "false")
    monkeypatch.setenv("ALPHAPANDA_LOG__LEVEL", "debug")
    settings = load_settings()
    assert settings.risk.max_daily_loss == Decimal("12345.50")
    assert settings.processing.max_attempts == 3
    assert settings.log.json_lines is False
    assert settings.log.level == "DEBUG"


def test_list_settings_take_commas_or_json(monkeypatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS", "NSE:INFY, NSE:TCS")
    monkeypatch.setenv("ALPHAPANDA_RISK__HOLIDAYS", '["2027-01-26"]')
    settings = load_settings()
    assert settings.risk.allowed_instruments == ["NSE:INFY", "NSE:TCS"]
    assert settings.risk.holidays == [date(2027, 1, 26)]


def test_dotenv_in_working_directory_is_read_and_env_wins(tmp_path, monkeypatch) -> None:
    (tmp_path / ".env").write_text(
        "ALPHAPANDA_BUS__BACKEND=kafka\nALPHAPANDA_BUS__PARTITIONS=8\nOTHER_TOOL=x\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALPHAPANDA_BUS__PARTITIONS", "2")
    settings = load_settings()
    assert settings.bus.backend == "kafka"
    assert settings.bus.partitions == 2


def test_overrides_win_over_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ALPHAPANDA_MODE", "live")
    monkeypatch.setenv("ALPHAPANDA_LOG__RING_BUFFER_LINES", "77")
    settings = load_settings(mode="paper", home=tmp_path / "h", log={"level": "ERROR"})
    assert settings.mode == "paper"
    assert settings.home == tmp_path / "h"
    assert (settings.log.level, settings.log.ring_buffer_lines) == ("ERROR", 77)


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        (
            "ALPHAPANDA_MODE",
            "bogus",
            "invalid setting ALPHAPANDA_MODE: input should be 'paper' or 'live' (got 'bogus')",
        ),
        ("ALPHAPANDA_BUS__BACKEND", "rabbit", "invalid setting ALPHAPANDA_BUS__BACKEND: input"),
        (
            "ALPHAPANDA_RISK__MAX_ORDER_VALUE",
            "-5",
            "ALPHAPANDA_RISK__MAX_ORDER_VALUE: input should",
        ),
        ("ALPHAPANDA_ZERODHA__MARKET_PROTECTION", "101", "ZERODHA__MARKET_PROTECTION: input"),
        ("ALPHAPANDA_RISK__HOLIDAYS", "2026-13-01", "ALPHAPANDA_RISK__HOLIDAYS: input should"),
        ("ALPHAPANDA_BUS", "oops", "invalid setting ALPHAPANDA_BUS: expected a JSON object"),
    ],
)
def test_bad_values_are_one_line_naming_the_env_var(monkeypatch, env, value, expected) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("ALPHAPANDA_EXECUTION__SLIPPAGE_BPS", "1e9", "EXECUTION__SLIPPAGE_BPS: input should"),
        ("ALPHAPANDA_PORTFOLIO__SNAPSHOT_INTERVAL_S", "1e-9", "SNAPSHOT_INTERVAL_S: input"),
        ("ALPHAPANDA_RISK__MAX_DAILY_LOSS", "1e400", "RISK__MAX_DAILY_LOSS: input should"),
        ("ALPHAPANDA_RISK__MAX_DAILY_LOSS", "Infinity", "RISK__MAX_DAILY_LOSS: input should"),
        ("ALPHAPANDA_PROCESSING__BREAKER_COOLDOWN_S", "inf", "BREAKER_COOLDOWN_S: input should"),
        ("ALPHAPANDA_PROCESSING__RETRY_MAX_DELAY_S", "nan", "RETRY_MAX_DELAY_S: input should"),
        ("ALPHAPANDA_PROCESSING__RETRY_BASE_DELAY_S", "9", "retry_base_delay_s (9.0) is above"),
        ("ALPHAPANDA_PROCESSING__BREAKER_COOLDOWN_S", "600", "breaker_cooldown_s (600.0) is above"),
        ("ALPHAPANDA_HOME", "", "ALPHAPANDA_HOME: must not be empty"),
        ("ALPHAPANDA_HOME", "   ", "ALPHAPANDA_HOME: must not be empty"),
        ("ALPHAPANDA_UI__THEME", "no-such-theme", "ALPHAPANDA_UI__THEME: unknown theme (one of"),
        ("ALPHAPANDA_PROCESSING__PROCESSED_RETENTION_S", "5", "RETENTION_S: input should be"),
    ],
)
def test_values_out_of_range_or_meaning_are_refused_in_one_line(
    monkeypatch, env, value, expected
) -> None:
    """Accepted before: each of these silently switched a guard off or misplaced files."""
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_live_mode_without_credentials_is_a_config_error(monkeypatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_MODE", "live")
    settings = load_settings()
    with pytest.raises(ConfigError, match=r"ALPHAPANDA_ZERODHA__API_KEY and .*API_SECRET"):
        settings.require_live_credentials()
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__API_KEY", "k")
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__API_SECRET", "s3cret")
    load_settings().require_live_credentials()
    load_settings(mode="paper", zerodha={}).require_live_credentials()


def test_secrets_do_not_show_in_repr(monkeypatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__API_SECRET", "very-secret-value")
    settings = load_settings()
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in str(settings.model_dump())


def test_ensure_home_creates_owner_only_directories(tmp_path) -> None:
    settings = load_settings(home=tmp_path / "fresh" / "home")
    settings.ensure_home()
    for directory in (settings.home, settings.logs_dir, settings.data_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type
        settings.mode = "live"  # type: ignore[misc]


def test_unknown_alphapanda_variables_are_found() -> None:
    environ = {"ALPHAPANDA_MOED": "live", "ALPHAPANDA_MODE": "paper", "ALPHAPANDA_TEST_X": "1"}
    assert unknown_env_names(environ) == ["ALPHAPANDA_MOED"]
