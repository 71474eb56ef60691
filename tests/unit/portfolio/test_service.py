"""The portfolio service on the memory bus and memory store: what risk and the console see."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal as D

import pytest

from engine.bus.base import Subscription
from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.domain.records import FillRecord, OrderRecord
from engine.events import EventEnvelope, EventType, new_event, topics
from engine.events.payloads import Fill, OrderUpdate, PnlSnapshot, PositionSnapshot, Tick
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side
from engine.memory_store import MemoryTradingStore
from engine.portfolio.service import PortfolioService
from engine.processing import ProcessorConfig
from tests.helpers import eventually

BROKER = Broker.PAPER
TOKEN = 408065
START = D("1000000")


def order_update(
    trade_id: str,
    side: Side,
    quantity: int,
    price: str,
    charges: str = "0",
    *,
    order_id: str | None = None,
    strategy: str = "ema",
) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=order_id or f"o-{trade_id}",
        strategy=strategy,
        broker=BROKER,
        instrument_token=TOKEN,
        symbol="NSE:INFY",
        side=side,
        quantity=quantity,
        order_type=OrderType.MARKET,
        product=Product.MIS,
        status=OrderStatus.FILLED,
        filled_quantity=quantity,
        average_price=D(price),
        fill=Fill(
            trade_id=trade_id,
            quantity=quantity,
            price=D(price),
            charges=D(charges),
            fill_ts=int(trade_id[1:]),
        ),
    )


async def journal(store: MemoryTradingStore, update: OrderUpdate) -> None:
    """What execution does before it emits: the order and its fill in one write."""
    fill = update.fill
    assert fill is not None
    order = OrderRecord(
        client_order_id=update.client_order_id,
        broker=update.broker,
        strategy=update.strategy,
        signal_id="s",
        instrument_token=update.instrument_token,
        symbol=update.symbol,
        side=update.side,
        quantity=update.quantity,
        order_type=update.order_type,
        product=update.product,
        status=update.status,
    )
    await store.insert_order(order)
    record = FillRecord(
        broker=update.broker,
        trade_id=fill.trade_id,
        client_order_id=update.client_order_id,
        strategy=update.strategy,
        instrument_token=update.instrument_token,
        symbol=update.symbol,
        side=update.side,
        quantity=fill.quantity,
        price=fill.price,
        charges=fill.charges,
        fill_ts=fill.fill_ts,
    )
    assert await store.apply_execution(order, record)


async def execute(bus: MemoryBus, store: MemoryTradingStore, update: OrderUpdate) -> None:
    await journal(store, update)
    await publish_update(bus, update)


async def publish_update(bus: MemoryBus, update: OrderUpdate) -> None:
    key = topics.order_key(BROKER, update.strategy, update.instrument_token)
    envelope = new_event(EventType.ORDER_FILLED, update, source="exec", key=key, broker=BROKER)
    await bus.publish(topics.orders_events(BROKER), envelope)


async def publish_tick(bus: MemoryBus, price: str, close: str | None = None) -> None:
    tick = Tick(
        instrument_token=TOKEN,
        symbol="NSE:INFY",
        last_price=D(price),
        exchange_ts=1,
        close=D(close) if close else None,
    )
    envelope = new_event(EventType.MARKET_TICK, tick, source="feed", key=str(TOKEN))
    await bus.publish(topics.MARKET_TICKS, envelope)


class Outputs:
    """What a downstream consumer (risk, the console) receives from the portfolio."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.events: list[EventEnvelope] = []

    async def pull(self) -> None:
        records = await self.sub.fetch(1000, 0)
        self.events.extend(r.envelope for r in records if r.envelope is not None)

    def positions(self) -> list[PositionSnapshot]:
        return [e.data for e in self.events if e.type is EventType.POSITION_UPDATED]

    def pnl(self) -> list[PnlSnapshot]:
        return [e.data for e in self.events if e.type is EventType.PNL_SNAPSHOT]

    async def wait_for(self, positions: int, pnl: int | None = None) -> None:
        async def enough() -> bool:
            await self.pull()
            return len(self.positions()) >= positions and len(self.pnl()) >= (pnl or positions)

        await eventually(enough, timeout=3.0, message="portfolio outputs")


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    async with MemoryBus(partitions=2) as memory_bus:
        yield memory_bus


@pytest.fixture
def store() -> MemoryTradingStore:
    return MemoryTradingStore()


@pytest.fixture
async def outputs(bus: MemoryBus) -> Outputs:
    return Outputs(
        await bus.subscribe([topics.positions(BROKER), topics.pnl_snapshots(BROKER)], "watcher")
    )


@asynccontextmanager
async def running(
    bus: MemoryBus, store: MemoryTradingStore, timer: float | None = None
) -> AsyncIterator[PortfolioService]:
    service = PortfolioService(
        broker=BROKER,
        bus=bus,
        store=store,
        starting_cash=START,
        config=ProcessorConfig(poll_timeout=0.01, timer_interval=timer),
        clock=ManualClock(start_ns=7_000),
    )
    task = asyncio.create_task(service.run(), name="portfolio-under-test")
    try:
        await eventually(lambda: service.status.value == "running", message="service started")
        yield service
    finally:
        service.stop()
        await asyncio.wait_for(task, 3.0)


async def drained(bus: MemoryBus, service: PortfolioService) -> None:
    """Wait until the service has committed everything published to its inputs."""
    sub = service._subscription
    await eventually(lambda: sub is not None and sub.lag() == 0, message="inputs drained")


async def test_fills_publish_the_position_and_pnl_risk_reads(bus, store, outputs) -> None:
    async with running(bus, store):
        await execute(bus, store, order_update("t1", Side.BUY, 10, "100", "2"))
        await execute(bus, store, order_update("t2", Side.BUY, 10, "110", "2"))
        await execute(bus, store, order_update("t3", Side.SELL, 15, "120", "2"))
        await outputs.wait_for(3)

    position = outputs.positions()[2]
    assert (position.net_quantity, position.average_price) == (5, D("105"))
    assert (position.realized_pnl, position.charges) == (D("225"), D("6"))
    pnl = outputs.pnl()[2]
    assert pnl.cash == START - 1000 - 1100 + 1800 - 6
    assert (pnl.realized_pnl, pnl.charges, pnl.snapshot_ts) == (D("225"), D("6"), 7_000)
    assert pnl.equity == pnl.cash + 5 * 105  # no tick yet: valued at the average price
    stored = (await store.list_positions(BROKER))[0]
    assert (stored.net_quantity, stored.realized_pnl) == (5, D("225"))
    keys = {e.key for e in outputs.events if e.type is EventType.POSITION_UPDATED}
    assert keys == {topics.order_key(BROKER, "ema", TOKEN)}


async def test_ticks_mark_unrealized_without_publishing_per_tick(bus, store, outputs) -> None:
    async with running(bus, store) as service:
        await execute(bus, store, order_update("t1", Side.BUY, 10, "100"))
        for price in range(101, 131):
            await publish_tick(bus, f"{price}.05", close="125")
        await drained(bus, service)
        await outputs.pull()
        assert (len(outputs.positions()), len(outputs.pnl())) == (1, 1)

    final = store.snapshots[-1]  # written on graceful stop
    assert final.unrealized_pnl == D("300.50")  # (130.05 − 100) × 10
    assert final.equity == START + D("300.50")
    assert final.gross_exposure == D("1300.50")
    await outputs.pull()
    last = outputs.pnl()[-1]
    assert last.positions[0].day_change == D("5.05")


async def test_snapshots_are_published_and_stored_every_interval(bus, store, outputs) -> None:
    async with running(bus, store, timer=0.02):
        await execute(bus, store, order_update("t1", Side.SELL, 4, "250", "1"))
        await eventually(lambda: len(store.snapshots) >= 3, message="periodic snapshots")
    await outputs.pull()
    assert len(outputs.pnl()) >= 3
    assert store.snapshots[-1].cash == START + 1000 - 1
    assert store.snapshots[-1].equity == START - 1  # the short is valued at its average


async def test_restart_rebuilds_the_state_from_the_journal(bus, store, outputs) -> None:
    async with running(bus, store) as first:
        await execute(bus, store, order_update("t1", Side.BUY, 10, "100", "1"))
        await execute(bus, store, order_update("t2", Side.SELL, 4, "101.5", "1"))
        await execute(bus, store, order_update("t3", Side.BUY, 3, "99", "1", strategy="rsi"))
        await outputs.wait_for(3)
        before = first.book.positions()
        before_totals = (first.book.realized_pnl, first.book.charges, first.book.cash)

    store.positions.clear()  # a crash lost the position writes; the fills are journaled
    async with running(bus, store) as second:
        assert second.book.positions() == before
        assert (second.book.realized_pnl, second.book.charges, second.book.cash) == before_totals
        assert sorted(p.net_quantity for p in await store.list_positions(BROKER)) == [3, 6]


async def test_a_restart_never_changes_realized_pnl_when_fill_times_go_backwards(
    bus, store, outputs
) -> None:
    """The simulated day restarts at 09:15 and a lagging trade arrives late, so fill times
    repeat or run backwards; the book applied the fills in journal order, and the rebuild
    must too (average cost: in time order this would rebuild 100 realized, long at 100)."""
    async with running(bus, store) as first:
        await execute(bus, store, order_update("t9", Side.BUY, 10, "100"))
        await execute(bus, store, order_update("t5", Side.BUY, 10, "120"))
        await execute(bus, store, order_update("t1", Side.SELL, 10, "130"))
        await outputs.wait_for(3)
        live = first.book.position("ema", TOKEN)
        assert live is not None
        assert (live.net_quantity, live.average_price, live.realized_pnl) == (10, D(110), D(200))
        live_totals = (first.book.realized_pnl, first.book.cash)

    for _ in range(3):  # every restart rebuilds the same figures
        async with running(bus, store) as again:
            assert again.book.position("ema", TOKEN) == live
            assert (again.book.realized_pnl, again.book.cash) == live_totals


async def test_a_journaled_fill_whose_event_was_lost_is_counted_at_start(bus, store) -> None:
    await journal(store, order_update("t1", Side.BUY, 7, "50"))  # crashed before emitting
    async with running(bus, store) as service:
        position = service.book.position("ema", TOKEN)
        assert position is not None and position.net_quantity == 7
        await publish_update(bus, order_update("t1", Side.BUY, 7, "50"))  # late redelivery
        await drained(bus, service)
        assert service.book.position("ema", TOKEN).net_quantity == 7


async def test_a_redelivered_fill_is_not_counted_twice(bus, store, outputs) -> None:
    update = order_update("t1", Side.BUY, 10, "100", "3")
    async with running(bus, store) as service:
        await execute(bus, store, update)
        await publish_update(bus, update)  # same trade id in a new envelope
        await outputs.wait_for(2)
        await drained(bus, service)

    first, second = outputs.positions()[:2]
    assert first == second
    assert (second.net_quantity, second.charges) == (10, D("3"))
    assert outputs.pnl()[1].cash == START - 1000 - 3


async def test_a_fill_nobody_journaled_is_recorded_with_its_position(bus, store, outputs) -> None:
    async with running(bus, store):
        await publish_update(bus, order_update("t9", Side.BUY, 2, "500"))
        await outputs.wait_for(1)
    assert [f.trade_id for f in await store.list_fills(BROKER)] == ["t9"]
    assert (await store.list_positions(BROKER))[0].net_quantity == 2


async def test_a_fill_the_ledger_refuses_is_dead_lettered_not_counted(bus, store) -> None:
    dead = await bus.subscribe([topics.dlq(topics.orders_events(BROKER))], "dlq-watch")
    async with running(bus, store) as service:
        await publish_update(bus, order_update("t1", Side.BUY, 0, "100"))
        await eventually(lambda: service.stats.dead_lettered == 1, message="dead letter")
        assert service.book.positions() == []
    assert len(await dead.fetch(10, 0)) == 1
    assert store.fills == {}


async def test_a_stop_counts_journaled_fills_it_did_not_reach(bus, store) -> None:
    """Under load the stop's drain can run out of time with a fill's event still in the
    input. The fill is journaled, and the next start rebuilds from the journal, so the
    final snapshot must count it too, or the day's P&L moves on the restart."""
    async with running(bus, store) as service:
        await execute(bus, store, order_update("t1", Side.BUY, 10, "100", "2"))
        await drained(bus, service)
        await journal(store, order_update("t2", Side.SELL, 4, "110", "1"))  # event not reached

    final = store.snapshots[-1]
    assert (final.realized_pnl, final.charges) == (D("40"), D("3"))
    assert final.cash == START - 1000 + 440 - 3
    (stored,) = await store.list_positions(BROKER)
    assert stored.net_quantity == 6
    async with running(bus, store) as again:  # the restart's figures are the stop's
        assert (again.book.realized_pnl, again.book.cash) == (final.realized_pnl, final.cash)
