"""Every setting reaches its reader: a non-default value changes what is built from it.

The fields are enumerated from the ``Settings`` model, so a new setting without an entry
in ``CHANGED`` fails here, and one whose value no builder reads fails too: a setting a
trader sets and nothing obeys is worse than no setting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from alphapanda_tui import engine_config
from alphapanda_tui.runtime import build_bindings, build_bus, build_read_cache, build_registry
from alphapanda_tui.settings import Settings, load_settings, setting_fields
from alphapanda_tui.store_opening import open_store
from engine.instruments import freeze as freeze_module
from engine.zerodha.redirect_catcher import callback_port_of
from tests.services import POSTGRES_URL, admin_sql, require_service

FREEZE_FILE = "nse_freeze_quantities.json"
STRATEGIES = """\
strategies:
  - name: only-one
    kind: momentum
    broker: paper
    instruments: [NSE:INFY]
    params: {lookback: 3, quantity: 1}
"""
TICKS = "ts,exchange,tradingsymbol,last_price,volume\n"
INSTRUMENTS = (
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
    "tick_size,lot_size,instrument_type,segment,exchange\n"
    "408065,1594,INFY,INFOSYS,1580.25,,0,0.05,1,EQ,NSE,NSE\n"
)

# env name (without ALPHAPANDA_) -> a value unlike the default
CHANGED: dict[str, str] = {
    "MODE": "live",
    "HOME": "{tmp}/elsewhere",
    "STRATEGIES_FILE": "{tmp}/strategies.yaml",
    "DATABASE__URL": "sqlite+aiosqlite:///{tmp}/other.db",
    "DATABASE__ECHO": "true",
    "DATABASE__POOL_SIZE": "3",
    "BUS__BACKEND": "kafka",
    "BUS__BOOTSTRAP_SERVERS": "10.0.0.1:9092",
    "BUS__PARTITIONS": "8",
    "BUS__CAPACITY": "123",
    "BUS__WIRE_FORMAT": "json",
    "BUS__CLIENT_ID": "desk-2",
    "BUS__IDEMPOTENT_PRODUCER": "false",
    "BUS__ACKS": "1",
    "BUS__SECURITY_PROTOCOL": "SASL_SSL",
    "BUS__SASL_MECHANISM": "SCRAM-SHA-512",
    "BUS__SASL_USERNAME": "trader",
    "BUS__SASL_PASSWORD": "sasl-secret",
    "BUS__SSL_CAFILE": "{tmp}/ca.pem",
    "BUS__SESSION_TIMEOUT_MS": "20000",
    "BUS__HEARTBEAT_INTERVAL_MS": "4000",
    "REDIS__URL": "redis://127.0.0.1:6379/3",
    "REDIS__PASSWORD": "redis-secret",
    "REDIS__SSL": "true",
    "REDIS__KEY_PREFIX": "desk2",
    "ZERODHA__API_KEY": "other-key",
    "ZERODHA__API_SECRET": "other-secret",
    "ZERODHA__REDIRECT_URL": "http://127.0.0.1:5123/kite",
    "ZERODHA__API_ROOT": "http://127.0.0.1:9/",
    "ZERODHA__TICKER_ROOT": "ws://127.0.0.1:9/",
    "ZERODHA__LOGIN_URL": "http://127.0.0.1:9/login",
    "ZERODHA__REQUEST_TIMEOUT_S": "3",
    "ZERODHA__ORDERS_PER_SECOND": "5",
    "ZERODHA__ORDERS_PER_MINUTE": "200",
    "ZERODHA__ORDERS_PER_DAY": "3000",
    "ZERODHA__MARKET_PROTECTION": "3",
    "ZERODHA__MARGIN_CHECK": "false",
    "ZERODHA__MARGIN_CACHE_S": "9",
    "ZERODHA__MARGIN_ON_ERROR": "allow",
    "ZERODHA__MARGIN_REQUESTS_PER_SECOND": "2",
    "ZERODHA__ON_TOKEN_EXPIRY": "reduce",
    "ZERODHA__TICKER_STALE_AFTER_S": "30",
    "ZERODHA__CALLBACK_PORT": "6001",
    "ZERODHA__FUNDS_POLL_S": "10",
    "RISK__MAX_ORDER_QUANTITY": "7",
    "RISK__MAX_ORDER_VALUE": "1234",
    "RISK__MAX_POSITION_VALUE": "2345",
    "RISK__MAX_GROSS_EXPOSURE": "3456",
    "RISK__MAX_OPEN_ORDERS": "4",
    "RISK__PRICE_BAND_PCT": "2",
    "RISK__MAX_ORDERS_PER_SECOND": "3",
    "RISK__MAX_DAILY_LOSS": "999",
    "RISK__ALLOWED_INSTRUMENTS": "NSE:INFY",
    "RISK__HOLIDAYS": "2026-12-24",
    "RISK__ENFORCE_MARKET_HOURS": "false",
    "RISK__MAX_CONSECUTIVE_REJECTIONS": "2",
    "RISK__MIS_SQUARE_OFF": "NSE=15:00",
    "PORTFOLIO__STARTING_CASH": "5000",
    "PORTFOLIO__SNAPSHOT_INTERVAL_S": "2",
    "EXECUTION__SLIPPAGE_BPS": "7",
    "EXECUTION__DEFAULT_PRODUCT": "CNC",
    "EXECUTION__BROKERAGE_PCT_INTRADAY": "0.05",
    "EXECUTION__BROKERAGE_CAP": "25",
    "EXECUTION__BROKERAGE_DELIVERY": "0.1",
    "EXECUTION__STT_INTRADAY_SELL_PCT": "0.03",
    "EXECUTION__STT_DELIVERY_PCT": "0.2",
    "EXECUTION__EXCHANGE_TXN_PCT": "0.004",
    "EXECUTION__SEBI_PER_CRORE": "12",
    "EXECUTION__GST_PCT": "12",
    "EXECUTION__STAMP_INTRADAY_BUY_PCT": "0.004",
    "EXECUTION__STAMP_DELIVERY_BUY_PCT": "0.02",
    "EXECUTION__PAPER_FUNDS_CHECK": "false",
    "EXECUTION__PAPER_MIS_LEVERAGE": "3",
    "EXECUTION__AUTOSLICE": "false",
    "EXECUTION__AUTOSLICE_MAX_LEGS": "4",
    "EXECUTION__FREEZE_TABLE": "{tmp}/freeze.json",
    "EXECUTION__FREEZE_QUANTITIES": "NFO:NIFTY=900",
    "FEED__SOURCE": "replay",
    "FEED__SEED": "7",
    "FEED__TICK_INTERVAL_MS": "100",
    "FEED__COMPRESSED": "false",
    "FEED__INSTRUMENTS_CSV": "{tmp}/instruments.csv",
    "FEED__TICKS_CSV": "{tmp}/other_ticks.csv",
    "FEED__STALE_AFTER_S": "9",
    "FEED__PRICE_BAND_PCT": "7",
    "PROCESSING__MAX_ATTEMPTS": "2",
    "PROCESSING__RETRY_BASE_DELAY_S": "0.5",
    "PROCESSING__RETRY_MAX_DELAY_S": "9",
    "PROCESSING__BREAKER_FAILURE_THRESHOLD": "3",
    "PROCESSING__BREAKER_COOLDOWN_S": "2",
    "PROCESSING__BREAKER_MAX_COOLDOWN_S": "30",
    "PROCESSING__BATCH_SIZE": "64",
    "PROCESSING__DEDUP_WINDOW": "500",
    "PROCESSING__PROCESSED_RETENTION_S": "3600",
    "PROCESSING__HEALTH_INTERVAL_S": "3",
    "LOG__LEVEL": "DEBUG",
    "LOG__RING_BUFFER_LINES": "100",
    "LOG__MAX_BYTES": "4096",
    "LOG__BACKUP_COUNT": "2",
    "LOG__JSON": "false",
    "UI__REFRESH_HZ": "4",
    "UI__THEME": "nord",
    "BACKTESTS__KEEP": "3",
    "TICKS__RECORD": "false",
    "TICKS__DIR": "{tmp}/tick-store",
    "TICKS__RETENTION_DAYS": "7",
    "TICKS__FLUSH_SECONDS": "2.5",
    "TICKS__MAX_BUFFERED": "5000",
}

# Settings a field only matters under (both sides of the comparison get them).
CONTEXT: dict[str, dict[str, str]] = {
    "FEED__TICKS_CSV": {"FEED__SOURCE": "replay", "FEED__TICKS_CSV": "{tmp}/ticks.csv"},
    "FEED__PRICE_BAND_PCT": {"FEED__SOURCE": "replay", "FEED__TICKS_CSV": "{tmp}/ticks.csv"},
    "FEED__SOURCE": {"FEED__TICKS_CSV": "{tmp}/ticks.csv"},
    "FEED__INSTRUMENTS_CSV": {"STRATEGIES_FILE": "{tmp}/strategies.yaml"},
    "DATABASE__POOL_SIZE": {"DATABASE__URL": "{postgres}"},  # SQLite has no pool size
    "REDIS__PASSWORD": {"REDIS__URL": "redis://127.0.0.1:6379/0"},
    "REDIS__SSL": {"REDIS__URL": "redis://127.0.0.1:6379/0"},
    "REDIS__KEY_PREFIX": {"REDIS__URL": "redis://127.0.0.1:6379/0"},
    "BUS__SASL_MECHANISM": {"BUS__BACKEND": "kafka"},
}
for _name in CHANGED:
    if _name.startswith("BUS__") and _name != "BUS__BACKEND":
        CONTEXT.setdefault(_name, {"BUS__BACKEND": "kafka"})
for _name in ("BUS__PARTITIONS", "BUS__CAPACITY"):
    CONTEXT[_name] = {}  # the memory bus reads these too

Probe = Callable[[Settings], Any]


def snapshot(value: Any, depth: int = 4) -> Any:
    """What an object was built with, as plain data (compared, never shown)."""
    if value is None or isinstance(value, str | int | float | bool | Decimal | Path | enum.Enum):
        return value
    if depth == 0:
        return type(value).__name__
    if isinstance(value, Mapping):
        return {str(k): snapshot(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [snapshot(v, depth - 1) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value)]
    else:
        names = list(getattr(value, "__dict__", {}))
        names += [n for n in getattr(type(value), "__slots__", ()) if hasattr(value, n)]
    if not names:
        return repr(value) if type(value).__repr__ is not object.__repr__ else type(value).__name__
    return {n: snapshot(getattr(value, n), depth - 1) for n in names if not n.startswith("__")}


def _general(settings: Settings) -> Any:
    registry = build_registry(settings)
    return (
        settings.broker,
        settings.database.url,
        [binding.name for binding in build_bindings(settings, registry)],
    )


def _database(settings: Settings) -> Any:
    async def opened() -> Any:
        store = await open_store(settings)
        try:
            pool = store.engine.pool
            size = pool.size() if hasattr(pool, "size") else None
            return (str(store.engine.url), store.engine.echo, size)
        finally:
            await store.aclose()

    return asyncio.run(opened())


def _redis(settings: Settings) -> Any:
    cache = build_read_cache(settings)
    if cache is None:
        return None
    pool = cache.redis.connection_pool
    plain = {k: v for k, v in pool.connection_kwargs.items() if isinstance(v, str | int | float)}
    return (plain, pool.connection_class.__name__, cache.base)


def _zerodha(settings: Settings) -> Any:
    venues = pytest.importorskip(
        "alphapanda_tui.venues.zerodha", reason="the Zerodha composition module (issue 15.1)"
    )
    venue_config = venues.venue_config

    z = settings.zerodha
    return (snapshot(venue_config(settings)), callback_port_of(z.callback_port, z.redirect_url))


def _feed(settings: Settings) -> Any:
    from alphapanda_tui.runtime import build_runtime
    from engine.bus.memory import MemoryBus

    runtime = build_runtime(settings)
    feed = runtime._build_feed(MemoryBus())
    return (
        sorted(instrument.key for instrument in build_registry(settings)),
        snapshot(engine_config.run_clock(settings)),
        snapshot(feed, depth=2),
        snapshot(engine_config.simulated_feed_config(settings)),
    )


def _processing(settings: Settings) -> Any:
    """The pipeline's processor config, and the housekeeping the runtime starts."""
    from alphapanda_tui.runtime import build_runtime

    async def started() -> dict[str, Any]:
        runtime = build_runtime(settings)
        await runtime.start()
        try:
            assert runtime.pipeline is not None
            services = {service.name: service for service in runtime.pipeline.services}
            return {
                "health every": services["health"].interval_s,
                "processed ids kept": services["processed-pruner"].retention_s,
            }
        finally:
            await runtime.stop()

    built = snapshot(engine_config.pipeline_config(settings).processing)
    return (built, asyncio.run(started()))


def _logging(settings: Settings) -> Any:
    """What ``setup_logging`` is asked for (it installs process-wide handlers: not here)."""
    import alphapanda_tui.logging_setup as logging_setup

    asked: dict[str, Any] = {}

    def spy(home: Path, **options: Any) -> None:
        asked.update(options, home=home)

    real = logging_setup.setup_logging
    logging_setup.setup_logging = spy  # type: ignore[assignment]
    try:
        logging_setup.start_logging(settings)
    finally:
        logging_setup.setup_logging = real
    return asked


def _ui(settings: Settings) -> Any:
    from alphapanda_tui.app import make_app

    seen: dict[str, Any] = {}

    def spy(handle: Any, **options: Any) -> Any:
        app = make_app(handle, **options)
        seen.update(refresh_hz=app.refresh_hz, theme=app.theme)
        raise SystemExit(0)  # built: no need to run it

    import alphapanda_tui.app as app_module
    from alphapanda_tui.commands import tui

    real = app_module.make_app
    app_module.make_app = spy
    try:
        with pytest.raises(SystemExit):
            tui.run(_NoAttach(), settings)
    finally:
        app_module.make_app = real
    return seen


class _NoAttach:
    attach = False
    logs = None


def _backtests(settings: Settings) -> Any:
    from alphapanda_tui.backtest_output import backtest_archive

    archive = backtest_archive(settings)
    return (archive.directory, archive.keep)


def _ticks(settings: Settings) -> Any:
    """The recorder the runtime adds, as it is configured (none when recording is off)."""
    from alphapanda_tui.runtime import build_runtime
    from engine.bus.memory import MemoryBus

    recorders = build_runtime(settings)._tick_recorder(MemoryBus())
    return [snapshot(recorder.recorder_config) for recorder in recorders]


def _pipeline(settings: Settings) -> Any:
    return snapshot(engine_config.pipeline_config(settings), depth=6)


PROBES: dict[str, Probe] = {
    "general": _general,
    "database": _database,
    "bus": lambda s: snapshot(build_bus(s), depth=3),
    "redis": _redis,
    "zerodha": _zerodha,
    "risk": _pipeline,
    "portfolio": _pipeline,
    "execution": _pipeline,
    "feed": _feed,
    "processing": _processing,
    "log": _logging,
    "ui": _ui,
    "backtests": _backtests,
    "ticks": _ticks,
}


def _short(env: str) -> str:
    return env.removeprefix("ALPHAPANDA_")


FIELDS = {_short(field.env): field for field in setting_fields()}


def test_every_setting_has_a_non_default_value_here() -> None:
    missing = sorted(set(FIELDS) - set(CHANGED))
    assert not missing, f"add a non-default value (and check its reader) for: {missing}"
    assert not sorted(set(CHANGED) - set(FIELDS)), "CHANGED names a setting that is gone"


@contextmanager
def _scratch_postgres(needed: bool) -> Iterator[str]:
    """A new empty PostgreSQL database while the block runs (never the shared one)."""
    if not needed:
        yield ""
        return
    require_service("postgres", "127.0.0.1", 5432)
    name = f"alphapanda_t_{secrets.token_hex(6)}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _settings(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str], **where: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(f"ALPHAPANDA_{name}", value.format(**where))
    return load_settings(_env_file=None)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_a_non_default_value_changes_what_is_built(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name not in CHANGED:
        pytest.fail(f"{name} has no non-default value in CHANGED")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "strategies.yaml").write_text(STRATEGIES)
    (tmp_path / "ticks.csv").write_text(TICKS)
    (tmp_path / "other_ticks.csv").write_text(TICKS)
    (tmp_path / "ca.pem").write_text("")
    freeze = json.loads((Path(freeze_module.__file__).parent / "data" / FREEZE_FILE).read_text())
    freeze["underlyings"]["NFO:NIFTY"] = 1200
    (tmp_path / "freeze.json").write_text(json.dumps(freeze))
    (tmp_path / "instruments.csv").write_text(INSTRUMENTS)
    monkeypatch.setenv("ALPHAPANDA_HOME", str(tmp_path / "home"))
    probe = PROBES[FIELDS[name].group]
    context = CONTEXT.get(name, {})

    with _scratch_postgres("{postgres}" in str(context)) as postgres:
        where = {"tmp": str(tmp_path), "postgres": postgres}
        with monkeypatch.context() as scoped:
            default = probe(_settings(scoped, context, **where))
            again = probe(_settings(scoped, context, **where))
        with monkeypatch.context() as scoped:
            changed = probe(_settings(scoped, {**context, name: CHANGED[name]}, **where))

    assert default == again, f"building twice from the same settings differs ({name})"
    assert changed != default, f"ALPHAPANDA_{name} changes nothing that is built"
