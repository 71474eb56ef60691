"""Paper funds through the whole pipeline (issue 16.4, 14.6): a CNC order the starting
cash cannot cover is refused unsent with both figures; the same quantity on MIS fills;
a new pipeline over the same journal shows the very same funds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.bus.memory import MemoryBus
from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import Signal, Tick
from engine.events.types import Broker, EventType, OrderStatus, OrderType, Product, Side
from engine.execution.funds import Funds
from engine.execution.paper_funds import PaperFundsConfig
from engine.instruments import load_default_registry
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing.processor import ProcessorConfig
from engine.risk.limits import RiskLimits

REGISTRY = load_default_registry()
RELIANCE = REGISTRY.by_key("NSE:RELIANCE")
MON_10AM = datetime_to_ns(datetime(2026, 1, 5, 10, 0, tzinfo=IST))
START = Decimal("100000")


def _pipeline(
    store: MemoryTradingStore, bus: MemoryBus, told: list[Funds] | None = None
) -> Pipeline:
    return Pipeline(
        config=PipelineConfig(
            broker=Broker.PAPER,
            risk=RiskLimits(max_open_orders=None, max_orders_per_second=None),
            starting_cash=START,
            paper_funds=PaperFundsConfig(mis_leverage=Decimal(5)),
            snapshot_interval_s=3600.0,
            processing=ProcessorConfig(poll_timeout=0.01),
        ),
        bus=bus,
        store=store,
        registry=REGISTRY,
        strategies=[],
        on_funds=None if told is None else told.append,
    )


def _tick(ts: int) -> Tick:
    return Tick(
        instrument_token=RELIANCE.instrument_token,
        symbol="NSE:RELIANCE",
        last_price=Decimal("1400.00"),
        exchange_ts=ts,
    )


def _signal(signal_id: str, product: Product, at: int) -> Signal:
    return Signal(
        signal_id=signal_id,
        strategy="manual",
        instrument_token=RELIANCE.instrument_token,
        symbol="NSE:RELIANCE",
        side=Side.BUY,
        quantity=100,  # ₹1,40,000 at 1,400
        order_type=OrderType.MARKET,
        product=product,
        signal_ts=at,
    )


async def _run(
    store: MemoryTradingStore, *signals: Signal, told: list[Funds] | None = None
) -> Funds:
    """A pipeline over ``store``: one tick, the signals, a tick after each; its funds.

    ``told``: every figure the pipeline hands its ``on_funds`` (the console's funds line)."""
    bus = MemoryBus(partitions=2)
    pipeline = _pipeline(store, bus, told)
    await bus.start()
    await pipeline.start()
    await pipeline.wait_ready()
    key = str(RELIANCE.instrument_token)
    try:
        events = [(topics.MARKET_TICKS, EventType.MARKET_TICK, _tick(MON_10AM))]
        for n, signal in enumerate(signals, start=1):
            events.append((topics.signals_raw(Broker.PAPER), EventType.SIGNAL_RAW, signal))
            tick = _tick(MON_10AM + 2 * n * NS_PER_S)
            events.append((topics.MARKET_TICKS, EventType.MARKET_TICK, tick))
        for n, (topic, event_type, payload) in enumerate(events):
            await bus.publish(topic, new_event(event_type, payload, source=f"t{n}", key=key))
            assert await pipeline.drain(10.0), "pipeline did not drain"
        assert pipeline.paper_funds is not None
        return pipeline.paper_funds.figures()
    finally:
        await pipeline.stop()
        await bus.aclose()


async def test_funds_refuse_what_cash_cannot_cover_and_survive_a_restart() -> None:
    store = MemoryTradingStore()

    before = await _run(
        store,
        _signal("cnc", Product.CNC, MON_10AM + NS_PER_S),
        _signal("mis", Product.MIS, MON_10AM + 3 * NS_PER_S),
    )

    orders = {o.signal_id: o for o in await store.list_orders(Broker.PAPER)}
    assert orders["cnc"].status is OrderStatus.REJECTED
    assert orders["cnc"].reason == "margin: needs ₹1,40,000.00, available ₹1,00,000.00"
    assert orders["mis"].status is OrderStatus.FILLED
    [fill] = await store.list_fills(Broker.PAPER)
    assert before.used == (fill.price * 100 / 5).quantize(Decimal("0.01"))
    assert before.available == START - fill.charges - before.used

    after = await _run(store)  # a new process over the same journal

    assert (after.available, after.used, after.total) == (
        before.available,
        before.used,
        before.total,
    )


async def test_the_funds_line_is_told_from_construction_to_the_last_fill() -> None:
    """The console's funds callback is given when the pipeline is built, so the starting
    cash shows before the first event and no change after it is missed."""
    store = MemoryTradingStore()
    told: list[Funds] = []

    _pipeline(store, MemoryBus(partitions=2), told)

    assert [_money(f) for f in told] == [(START, Decimal(0), "paper")]
    told.clear()

    final = await _run(store, _signal("mis", Product.MIS, MON_10AM + NS_PER_S), told=told)

    assert _money(told[0]) == (START, Decimal(0), "paper")  # built: the cash alone
    assert final.used > 0
    assert _money(told[-1]) == _money(final)  # the fill's margin and charges reached it

    told.clear()
    rebuilt = await _run(store, told=told)  # a new process over the same journal

    assert _money(told[-1]) == _money(rebuilt) == _money(final)


def _money(funds: Funds) -> tuple[Decimal, Decimal, str]:
    """What the funds line shows (the time of the figures aside)."""
    return funds.available, funds.used, funds.source
