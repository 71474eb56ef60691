"""Settings → the engine's frozen config objects. The only place the two meet."""

from __future__ import annotations

import os
import socket
from dataclasses import fields
from decimal import Decimal

from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings import Settings
from engine.events.types import Product
from engine.execution.charges import ChargeRates
from engine.execution.paper_funds import PaperFundsConfig
from engine.execution.service import ExecutionConfig
from engine.instruments.freeze import FreezePolicy, load_freeze_table
from engine.market.calendar import NseCalendar
from engine.market.feeds.simulated import SimulatedFeedConfig
from engine.market.square_off import MisCutoffs
from engine.pipeline import PipelineConfig
from engine.processing import BreakerConfig, ProcessorConfig, RetryPolicy
from engine.read_model.run_clock import RunClock
from engine.risk.limits import RiskLimits

_PCT = Decimal(100)


def processor_config(settings: Settings) -> ProcessorConfig:
    p = settings.processing
    return ProcessorConfig(
        retry=RetryPolicy(
            max_attempts=p.max_attempts,
            base_delay=p.retry_base_delay_s,
            max_delay=p.retry_max_delay_s,
        ),
        breaker=BreakerConfig(
            failure_threshold=p.breaker_failure_threshold,
            cooldown=p.breaker_cooldown_s,
            max_cooldown=p.breaker_max_cooldown_s,
        ),
        batch_size=p.batch_size,
        dedup_window=p.dedup_window,
    )


def calendar(settings: Settings) -> NseCalendar:
    return NseCalendar(holidays=settings.risk.holidays)


def run_clock(settings: Settings) -> RunClock:
    """The clock a console shows: the feed's event time on a paper simulated (SIM) or
    replayed (REPLAY) market, else the wall clock; ``feed.stale_after_s`` of silence is
    STALE."""
    label = None
    if settings.mode == "paper" and settings.feed.source in ("simulated", "replay"):
        label = "SIM" if settings.feed.source == "simulated" else "REPLAY"
    return RunClock(
        label=label, calendar=calendar(settings), stale_after_s=settings.feed.stale_after_s
    )


def allowed_tokens(settings: Settings) -> frozenset[int]:
    """The allowed EXCHANGE:SYMBOL keys as the instrument tokens the risk rule compares.

    Handing the rule the keys themselves matched no signal, so every order was refused.
    """
    keys = settings.risk.allowed_instruments
    if not keys:
        return frozenset()  # any known instrument; no registry to load
    from alphapanda_tui.runtime import build_registry  # runtime imports this module

    registry = build_registry(settings)
    unknown = [key for key in keys if key not in registry]
    if unknown:
        raise ConfigError(
            "invalid setting ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS: "
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a known "
            "instrument (EXCHANGE:SYMBOL of the instruments registry)"
        )
    return frozenset(registry.by_key(key).instrument_token for key in keys)


# RiskLimits fields built from something other than the same-named ALPHAPANDA_RISK__ setting
_DERIVED_LIMITS = frozenset(
    {"calendar", "allowed_instruments", "strategy_positions", "mis_cutoffs", "freeze"}
)


def risk_limits(settings: Settings) -> RiskLimits:
    """Every plain limit is the same-named risk setting, so a new configurable limit is a
    RiskLimits field, its rule and its settings field: nothing to add here."""
    r = settings.risk
    plain = {
        f.name: getattr(r, f.name) for f in fields(RiskLimits) if f.name not in _DERIVED_LIMITS
    }
    return RiskLimits(
        **plain,
        calendar=calendar(settings),
        allowed_instruments=allowed_tokens(settings),
        mis_cutoffs=MisCutoffs(r.mis_square_off),
        freeze=freeze_policy(settings),
    )


def freeze_policy(settings: Settings) -> FreezePolicy:
    """Above the freeze quantity: the table (shipped or the operator's, with overrides)
    and whether such orders go out as autoslice legs, at most how many."""
    e = settings.execution
    try:
        table = load_freeze_table(e.freeze_quantities, path=e.freeze_table)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"invalid setting ALPHAPANDA_EXECUTION__FREEZE_TABLE: {exc}") from None
    return FreezePolicy(table, autoslice=e.autoslice, max_legs=e.autoslice_max_legs)


def charge_rates(settings: Settings) -> ChargeRates:
    e = settings.execution
    return ChargeRates(
        brokerage_intraday=e.brokerage_pct_intraday / _PCT,
        brokerage_cap=e.brokerage_cap,
        brokerage_delivery=e.brokerage_delivery / _PCT,
        stt_intraday_sell=e.stt_intraday_sell_pct / _PCT,
        stt_delivery=e.stt_delivery_pct / _PCT,
        exchange_txn=e.exchange_txn_pct / _PCT,
        sebi_per_crore=e.sebi_per_crore,
        gst=e.gst_pct / _PCT,
        stamp_intraday_buy=e.stamp_intraday_buy_pct / _PCT,
        stamp_delivery_buy=e.stamp_delivery_buy_pct / _PCT,
    )


def execution_config(settings: Settings) -> ExecutionConfig:
    return ExecutionConfig(
        slippage_bps=settings.execution.slippage_bps, charge_rates=charge_rates(settings)
    )


def instance_id() -> str:
    """Unique per process: every engine process obeys every control command."""
    return f"{socket.gethostname()}-{os.getpid()}"


def pipeline_config(settings: Settings, *, acts_on_orders: bool = True) -> PipelineConfig:
    return PipelineConfig(
        broker=settings.broker,
        instance_id=instance_id(),
        risk=risk_limits(settings),
        execution=execution_config(settings),
        starting_cash=settings.portfolio.starting_cash,
        snapshot_interval_s=settings.portfolio.snapshot_interval_s,
        processing=processor_config(settings),
        acts_on_orders=acts_on_orders,
        paper_funds=PaperFundsConfig(
            check=settings.execution.paper_funds_check,
            mis_leverage=settings.execution.paper_mis_leverage,
        ),
        default_product=Product(settings.execution.default_product),
    )


def simulated_feed_config(
    settings: Settings,
    *,
    instruments: int = 1,
    max_ticks: int | None = None,
    paced: bool = True,
    resume_after_ns: int | None = None,
    resume_prices: tuple[tuple[int, Decimal, Decimal | None], ...] = (),
) -> SimulatedFeedConfig:
    """Paced: each instrument ticks every ``tick_interval_ms`` of wall time.

    ``resume_after_ns``: the last event time the home holds, and ``resume_prices`` each
    instrument's last price and previous close there (``alphapanda_tui.market_resume``),
    so a restarted simulated market carries on from them instead of replaying the day's
    clock from 09:15 at the bundled prices.
    """
    f = settings.feed
    return SimulatedFeedConfig(
        seed=f.seed,
        clock_mode="compressed" if f.compressed else "session",
        ticks_per_second=(1000.0 / f.tick_interval_ms) * max(1, instruments) if paced else None,
        max_ticks=max_ticks,
        holidays=tuple(settings.risk.holidays),
        resume_after_ns=resume_after_ns,
        resume_prices=resume_prices,
    )
