"""Strategies on bars: the runner hands each closed bar to ``on_bar`` when event time passes
its end (session edges included), and a backtest on candles trades on bar closes."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from engine.backtest import TickStream, run_backtest
from engine.bus.memory import MemoryBus
from engine.clock import IST, datetime_to_ns
from engine.events.envelope import new_event
from engine.events.payloads import Tick
from engine.events.types import EventType
from engine.instruments import load_default_registry
from engine.market.bars import Bar, SessionBuckets
from engine.market.candles import Candle, CandleSeries, candle_ticks
from engine.strategies import StrategyRunner, build_strategies, parse_strategies
from engine.strategies.config import StrategyConfigError
from engine.strategies.ema_cross import EmaCross
from engine.strategies.params import EmaCrossParams
from tests.unit.strategies.support import v_shape

REGISTRY = load_default_registry()
RELIANCE = REGISTRY.by_key("NSE:RELIANCE")
MONDAY, TUESDAY = date(2024, 1, 15), date(2024, 1, 16)


def at(day: date, hh: int, mm: int, ss: int = 0) -> int:
    return datetime_to_ns(datetime.combine(day, time(hh, mm, ss), tzinfo=IST))


def ema_on(bars: str, fast: int = 3, slow: int = 8) -> list[dict[str, object]]:
    return [
        {
            "name": "ema-bars",
            "kind": "ema_cross",
            "params": {"fast": fast, "slow": slow, "quantity": 10},
            "instruments": ["NSE:RELIANCE"],
            "bars": bars,
        }
    ]


def test_on_bar_is_called_when_time_passes_the_bar_end_at_session_edges() -> None:
    bindings = build_strategies(parse_strategies(ema_on("15minute")), REGISTRY)
    delivered: list[tuple[int, int]] = []
    strategy = bindings[0].strategy

    def record(bar: Bar) -> tuple[()]:
        delivered.append((bar.start_ns, bar.end_ns))
        return ()

    strategy.on_bar = record  # type: ignore[method-assign]
    runner = StrategyRunner(MemoryBus(), bindings)
    assert runner.subscribed_tokens() == {RELIANCE.instrument_token}
    seen: list[list[tuple[int, int]]] = []
    for ts in (
        at(MONDAY, 9, 10),  # pre-open: in no bar
        at(MONDAY, 9, 15),
        at(MONDAY, 9, 29, 59),
        at(MONDAY, 9, 30),  # closes 09:15-09:30
        at(MONDAY, 15, 29, 59),  # closes 09:30-09:45; the last bar opens
        at(TUESDAY, 9, 15, 5),  # the next session's first tick closes 15:15-15:30
    ):
        tick = Tick(
            instrument_token=RELIANCE.instrument_token,
            symbol="NSE:RELIANCE",
            last_price=Decimal(2900),
            exchange_ts=ts,
        )
        runner.handle_now(new_event(EventType.MARKET_TICK, tick, source="test"))
        seen.append(list(delivered))
        delivered.clear()
    assert seen == [
        [],
        [],
        [],
        [(at(MONDAY, 9, 15), at(MONDAY, 9, 30))],
        [(at(MONDAY, 9, 30), at(MONDAY, 9, 45))],
        [(at(MONDAY, 15, 15), at(MONDAY, 15, 30))],
    ]


def test_an_unknown_bar_interval_is_refused_naming_the_field() -> None:
    with pytest.raises(StrategyConfigError, match="bars: '2minute' is not 'tick' or one of"):
        parse_strategies(ema_on("2minute"))


def _candles(prices: list[float]) -> list[Candle]:
    """5-minute candles from 09:15 on, each closing at ``price`` with a wick either side."""
    out = []
    for index, price in enumerate(prices):
        close = Decimal(f"{price:.2f}")
        opened = close + Decimal("3.00") if index % 2 else close - Decimal("3.00")
        out.append(
            Candle(
                at(MONDAY, 9, 15) + index * 300 * 10**9,
                opened,
                max(opened, close) + Decimal("6.00"),
                min(opened, close) - Decimal("6.00"),
                close,
                1_000,
            )
        )
    return out


def test_a_backtest_on_candles_trades_on_bar_closes_not_on_every_tick() -> None:
    """Forty 5-minute candles (a V): ema-cross on 5-minute bars signals exactly as the
    candle closes alone say (one cross up), while the same ticks fed raw churn."""
    closes = v_shape(depth=20, start=2900.0, step=2.0)
    series = CandleSeries(RELIANCE.instrument_token, "NSE:RELIANCE", "5minute", _candles(closes))
    buckets = SessionBuckets("5minute")
    expected = EmaCross("by-hand", EmaCrossParams(fast=3, slow=8, quantity=10))
    by_hand = [i for c in closes for i in expected.decide(RELIANCE.instrument_token, c)]

    def run(bars: str):  # type: ignore[no-untyped-def]
        return run_backtest(
            bindings=build_strategies(parse_strategies(ema_on(bars)), REGISTRY),
            registry=REGISTRY,
            source=TickStream(lambda: candle_ticks([series], buckets), label="candles"),
            sync_every=1,
        )

    on_bars, on_ticks = run("5minute"), run("tick")
    assert len(by_hand) == 1 and on_bars.signals == 1
    assert on_bars.orders == on_bars.fills == 1
    assert on_ticks.signals > on_bars.signals
