"""The runner routes ticks to subscribed strategies and emits deterministic Signal events."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from engine.bus.memory import MemoryBus
from engine.domain.records import FillRecord, PositionRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import RejectedSignal, Signal
from engine.events.types import Broker, EventType, OrderType, Product, Side
from engine.instruments import load_default_registry
from engine.memory_store import MemoryTradingStore
from engine.processing.emitter import Emitter
from engine.strategies import StrategyRunner, build_strategies, parse_strategies
from tests.helpers import eventually
from tests.unit.strategies.support import ticks, v_shape

REGISTRY = load_default_registry()
CONFIG = [
    {
        "name": "ema",
        "kind": "ema_cross",
        "params": {"fast": 3, "slow": 8, "quantity": 10},
        "instruments": ["NSE:RELIANCE"],
    },
    {
        "name": "ema-live",
        "kind": "ema_cross",
        "params": {"fast": 3, "slow": 8, "quantity": 5},
        "instruments": ["NSE:RELIANCE"],
        "broker": "zerodha",
    },
]


def _runner(bus: MemoryBus) -> StrategyRunner:
    return StrategyRunner(bus, build_strategies(parse_strategies(CONFIG), REGISTRY))


def _envelopes(symbol: str) -> list[EventEnvelope]:
    return [
        new_event(EventType.MARKET_TICK, t, source="test", key=str(t.instrument_token))
        for t in ticks(v_shape(depth=30), symbol)
    ]


async def test_ticks_become_signals_on_each_brokers_topic() -> None:
    bus = MemoryBus(partitions=2)
    paper = await bus.subscribe([topics.signals_raw(Broker.PAPER)], "probe")
    live = await bus.subscribe([topics.signals_raw(Broker.ZERODHA)], "probe")
    runner = _runner(bus)
    task = asyncio.create_task(runner.run())
    reliance, infy = _envelopes("NSE:RELIANCE"), _envelopes("NSE:INFY")
    for envelope in [x for pair in zip(reliance, infy, strict=True) for x in pair]:
        await bus.publish(topics.MARKET_TICKS, envelope)

    await eventually(lambda: runner.stats.processed == 120)
    runner.stop()
    await task

    (record,) = await paper.fetch(10, 0.05)
    envelope = record.envelope
    assert envelope is not None and envelope.type is EventType.SIGNAL_RAW
    assert envelope.broker is Broker.PAPER and record.key == "paper:ema:738561"
    signal = envelope.data
    assert isinstance(signal, Signal)
    assert (signal.strategy, signal.symbol, signal.side, signal.quantity) == (
        "ema",
        "NSE:RELIANCE",
        Side.BUY,
        10,
    )
    assert (signal.order_type, signal.product) == (OrderType.MARKET, Product.MIS)
    cause = next(e for e in reliance if e.id == envelope.causation_id)
    assert signal.reference_price == cause.data.last_price  # type: ignore[union-attr]
    assert signal.signal_ts == cause.data.exchange_ts  # type: ignore[union-attr]
    assert signal.reference_price == Decimal(f"{cause.data.last_price}")  # type: ignore[union-attr]

    (live_record,) = await live.fetch(10, 0.05)
    assert live_record.key == "zerodha:ema-live:738561"
    assert live_record.envelope.data.quantity == 5  # type: ignore[union-attr]


async def test_redelivered_tick_repeats_the_same_signal_ids_without_refeeding() -> None:
    runner = _runner(MemoryBus())
    envelopes = _envelopes("NSE:RELIANCE")
    crossing: EventEnvelope | None = None
    first: list[str] = []
    for envelope in envelopes:
        out = Emitter(runner.name, envelope, 0)
        await runner.handle(envelope, out)
        if out.outbox:
            crossing = envelope
            first = [item.envelope.data.signal_id for item in out.outbox]  # type: ignore[union-attr]
            break
    assert crossing is not None and len(first) == 2  # one per strategy

    state = runner.bindings[0].strategy._states[738561]
    seen = state.count
    again = Emitter(runner.name, crossing, 0)
    await runner.handle(crossing, again)
    assert [item.envelope.data.signal_id for item in again.outbox] == first  # type: ignore[union-attr]
    assert state.count == seen  # the strategy did not see the tick twice


async def test_ticks_of_unsubscribed_instruments_produce_nothing() -> None:
    runner = _runner(MemoryBus())
    for envelope in _envelopes("NSE:INFY"):
        out = Emitter(runner.name, envelope, 0)
        await runner.handle(envelope, out)
        assert out.outbox == []
    assert runner.subscribed_tokens() == {738561}


async def _signals_for(runner: StrategyRunner, envelopes: list[EventEnvelope]) -> list[Signal]:
    signals: list[Signal] = []
    for envelope in envelopes:
        out = Emitter(runner.name, envelope, 0)
        await runner.handle(envelope, out)
        signals += [item.envelope.data for item in out.outbox]  # type: ignore[misc]
    return signals


async def test_strategies_start_from_the_stored_positions_not_flat() -> None:
    store = MemoryTradingStore()
    await store.record_fill(  # the journal: ema bought its 10 before the restart
        FillRecord(
            broker=Broker.PAPER,
            trade_id="T1",
            client_order_id="AP1",
            strategy="ema",
            instrument_token=738561,
            symbol="NSE:RELIANCE",
            side=Side.BUY,
            quantity=10,
            price=Decimal("2500"),
            charges=Decimal("0"),
            fill_ts=0,
        ),
        PositionRecord(
            broker=Broker.PAPER,
            strategy="ema",
            instrument_token=738561,
            symbol="NSE:RELIANCE",
            net_quantity=10,
        ),
    )
    runner = StrategyRunner(
        MemoryBus(), build_strategies(parse_strategies(CONFIG), REGISTRY), store=store
    )
    await runner.on_start()

    signals = await _signals_for(runner, _envelopes("NSE:RELIANCE"))  # a V: a cross up

    # ema already holds its 10: no second BUY; ema-live (zerodha, flat) does buy
    assert [(s.strategy, s.side) for s in signals] == [("ema-live", Side.BUY)]


async def test_a_rejected_signal_on_the_bus_puts_the_strategy_back_to_what_it_holds() -> None:
    runner = _runner(MemoryBus())
    signals = await _signals_for(runner, _envelopes("NSE:RELIANCE"))
    bought = next(s for s in signals if s.strategy == "ema")
    strategy = runner.bindings[0].strategy
    assert strategy.position(738561).name == "LONG"

    rejected = RejectedSignal(signal=bought, rule="trading_state", reason="trading is HALTED")
    event = new_event(
        EventType.SIGNAL_REJECTED, rejected, source="test", key="k", broker=Broker.PAPER
    )
    assert runner.handle_now(event)

    assert strategy.position(738561).name == "FLAT"
    assert runner.bindings[1].strategy.position(738561).name == "LONG"  # the other broker's


async def test_the_configured_product_is_on_every_signal() -> None:
    """ALPHAPANDA_EXECUTION__DEFAULT_PRODUCT=CNC: strategies' orders are delivery, not MIS."""
    bus = MemoryBus(partitions=2)
    paper = await bus.subscribe([topics.signals_raw(Broker.PAPER)], "probe")
    bindings = build_strategies(parse_strategies(CONFIG), REGISTRY)
    runner = StrategyRunner(bus, bindings, product=Product.CNC)
    task = asyncio.create_task(runner.run())
    for envelope in _envelopes("NSE:RELIANCE"):
        await bus.publish(topics.MARKET_TICKS, envelope)

    await eventually(lambda: runner.stats.processed == 60)
    runner.stop()
    await task

    (record,) = await paper.fetch(10, 0.05)
    assert isinstance(record.envelope.data, Signal)  # type: ignore[union-attr]
    assert record.envelope.data.product is Product.CNC  # type: ignore[union-attr]
