"""A paper order above the freeze quantity, through the whole pipeline: risk passes it as
autoslice legs, the paper venue fills each leg, and the journal, the stored order and
the position all read as one client order of the full quantity.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from engine.bus.memory import MemoryBus
from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import RejectedSignal, Signal, Tick
from engine.events.types import Broker, EventType, OrderStatus, OrderType, Product, Side
from engine.instruments import load_default_registry
from engine.instruments.freeze import FreezePolicy, FreezeTable
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing.processor import ProcessorConfig
from engine.risk.limits import RiskLimits

REGISTRY = load_default_registry()
RELIANCE = REGISTRY.by_key("NSE:RELIANCE")
MON_10AM = datetime_to_ns(datetime(2026, 1, 5, 10, 0, tzinfo=IST))


def _limits(autoslice: bool) -> RiskLimits:
    table = FreezeTable({"NSE:RELIANCE": 40})
    return RiskLimits(
        max_open_orders=None,
        max_orders_per_second=None,
        max_order_quantity=None,
        freeze=FreezePolicy(table, autoslice=autoslice, max_legs=3),
    )


async def _trade(
    quantity: int, *, autoslice: bool = True
) -> tuple[MemoryTradingStore, list[RejectedSignal]]:
    store, bus = MemoryTradingStore(), MemoryBus(partitions=2)
    pipeline = Pipeline(
        config=PipelineConfig(
            broker=Broker.PAPER,
            risk=_limits(autoslice),
            snapshot_interval_s=3600.0,
            processing=ProcessorConfig(poll_timeout=0.01),
        ),
        bus=bus,
        store=store,
        registry=REGISTRY,
        strategies=[],
    )
    await bus.start()
    # subscribed before the pipeline: the memory bus drops what every group has committed,
    # and the protection service reads (and commits) rejections too
    observer = await bus.subscribe([topics.signals_rejected(Broker.PAPER)], "test-observer")
    records: list = []

    async def observe() -> None:  # keeps up, so the observer never holds up a drain
        while True:
            batch = await observer.fetch(100, 0.01)
            records.extend(batch)
            await observer.commit(batch)

    watching = asyncio.create_task(observe())
    await pipeline.start()
    await pipeline.wait_ready()
    try:
        for n, event_type, topic, payload in (
            (1, EventType.MARKET_TICK, topics.MARKET_TICKS, _tick(MON_10AM)),
            (2, EventType.SIGNAL_RAW, topics.signals_raw(Broker.PAPER), _signal(quantity)),
            (3, EventType.MARKET_TICK, topics.MARKET_TICKS, _tick(MON_10AM + 2 * NS_PER_S)),
        ):
            key = str(RELIANCE.instrument_token)
            await bus.publish(topic, new_event(event_type, payload, source=f"test{n}", key=key))
            assert await pipeline.drain(10.0), "pipeline did not drain"
        assert await pipeline.drain(10.0), "pipeline did not drain"
    finally:
        watching.cancel()
        await pipeline.stop()
        await bus.aclose()
    rejected = [r.envelope.data for r in records if r.envelope is not None]
    return store, [r for r in rejected if isinstance(r, RejectedSignal)]


def _tick(ts: int) -> Tick:
    return Tick(
        instrument_token=RELIANCE.instrument_token,
        symbol="NSE:RELIANCE",
        last_price=Decimal("1400.00"),
        exchange_ts=ts,
    )


def _signal(quantity: int) -> Signal:
    return Signal(
        signal_id="big-buy",
        strategy="manual",
        instrument_token=RELIANCE.instrument_token,
        symbol="NSE:RELIANCE",
        side=Side.BUY,
        quantity=quantity,
        order_type=OrderType.MARKET,
        product=Product.MIS,
        signal_ts=MON_10AM + NS_PER_S,
    )


async def test_an_order_above_the_freeze_is_one_order_filled_by_its_legs() -> None:
    store, rejected = await _trade(100)

    [order] = await store.list_orders(Broker.PAPER)
    fills = [
        f
        for f in await store.list_fills(Broker.PAPER)
        if f.client_order_id == order.client_order_id
    ]
    [position] = await store.list_positions(Broker.PAPER)

    assert sorted(f.quantity for f in fills) == [20, 40, 40]
    assert len({f.trade_id for f in fills}) == 3
    assert (order.status, order.quantity, order.filled_quantity) == (OrderStatus.FILLED, 100, 100)
    assert position.net_quantity == 100 and rejected == []


async def test_with_autoslice_off_it_is_refused_and_nothing_trades() -> None:
    store, [rejected] = await _trade(100, autoslice=False)

    assert rejected.rule == "freeze_quantity" and "freeze quantity 40" in rejected.reason
    assert await store.list_orders(Broker.PAPER) == []
    assert await store.list_fills(Broker.PAPER) == []


async def test_above_the_leg_cap_it_is_refused() -> None:
    store, [rejected] = await _trade(160)  # four legs of 40, the cap is three

    assert "4 autoslice legs, more than the 3 allowed" in rejected.reason
    assert await store.list_fills(Broker.PAPER) == []
