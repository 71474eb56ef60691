"""The runner routes ticks to subscribed strategies and emits deterministic Signal events."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from engine.bus.memory import MemoryBus
from engine.events import topics
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import Signal
from engine.events.types import Broker, EventType, OrderType, Product, Side
from engine.instruments import load_default_registry
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
