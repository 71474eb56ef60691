"""Restart and the bus: what a previous process left in the outbox, and journal-before-event."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from engine.domain.records import FillRecord, OrderRecord
from engine.events import topics
from engine.events.types import (
    EventType,
    OrderCommandAction,
    OrderStatus,
    OrderType,
    Product,
    Side,
    TradingMode,
)
from engine.ids import client_order_id
from engine.processing import ProcessorConfig
from tests.helpers import eventually
from tests.unit.execution.conftest import (
    BROKER,
    SYMBOL,
    TOKEN,
    Harness,
    make_signal,
    signal_event,
    tick_event,
    types_of,
)


def stored_order(signal_id: str, status: OrderStatus, **fields) -> OrderRecord:
    values = {
        "client_order_id": client_order_id(signal_id),
        "broker": BROKER,
        "strategy": "ema",
        "signal_id": signal_id,
        "instrument_token": TOKEN,
        "symbol": SYMBOL,
        "side": Side.BUY,
        "quantity": 10,
        "order_type": OrderType.MARKET,
        "product": Product.MIS,
        "status": status,
        "created_ts": 1,
    }
    values.update(fields)
    return OrderRecord(**values)


async def test_restart_sends_pending_once_and_cancels_lost_paper_orders() -> None:
    h = Harness()
    watcher = await h.bus.subscribe([topics.orders_events(BROKER)], "watcher")
    await h.store.insert_order(stored_order("pending", OrderStatus.PENDING))
    await h.store.insert_order(
        stored_order("working", OrderStatus.OPEN, order_type=OrderType.LIMIT, price=D("90"))
    )

    await h.service.on_start()
    again = await h.signal(make_signal("pending"))  # the signal is redelivered too

    assert [i.client_order_id for i in h.adapter.placed] == [client_order_id("pending")]
    assert again == []
    lost = await h.store.get_order(client_order_id("working"))
    assert (lost.status, lost.reason) == (OrderStatus.CANCELLED, "paper session restarted")
    events = [r.envelope for r in await watcher.fetch(100, 0)]
    assert sorted(types_of(events)) == sorted(
        [EventType.ORDER_CANCELLED, EventType.ORDER_SUBMITTED, EventType.ORDER_OPEN]
    )
    filled = await h.tick("100", ask="100")
    assert [e.data.client_order_id for e in filled] == [client_order_id("pending")]


async def test_pending_order_is_rejected_when_restarting_halted() -> None:
    h = Harness()
    await h.store.insert_order(stored_order("pending", OrderStatus.PENDING))
    h.state.set(TradingMode.HALTED, reason="kill switch")

    await h.service.on_start()

    assert h.adapter.placed == []
    order = await h.store.get_order(client_order_id("pending"))
    assert order.status is OrderStatus.REJECTED
    assert order.reason.startswith("halted at restart")


async def test_positions_are_rebuilt_from_the_fill_journal_for_square_off() -> None:
    h = Harness()
    order = stored_order("old", OrderStatus.FILLED, product=Product.CNC, filled_quantity=7)
    await h.store.insert_order(order)
    fill = FillRecord(
        broker=BROKER,
        trade_id="Pold-1",
        client_order_id=order.client_order_id,
        strategy="ema",
        instrument_token=TOKEN,
        symbol=SYMBOL,
        side=Side.BUY,
        quantity=7,
        price=D("100"),
        charges=D("1"),
        fill_ts=1,
    )
    await h.store.apply_execution(order, fill)

    await h.service.on_start()
    sent = await h.command(OrderCommandAction.SQUARE_OFF_ALL)

    (submitted,) = [e.data for e in sent if e.type is EventType.ORDER_SUBMITTED]
    assert (submitted.side, submitted.quantity, submitted.product) == (
        Side.SELL,
        7,
        Product.CNC,
    )


async def test_a_supervisor_restart_keeps_orders_the_venue_still_holds() -> None:
    h = Harness()
    await h.service.on_start()
    await h.signal(make_signal(order_type=OrderType.LIMIT, limit="90.00"))

    await h.service.on_start()  # the same process, processor restarted

    assert list(h.service.working) == [client_order_id("sig-1")]
    assert (await h.tick("89", ask="89.00"))[0].type is EventType.ORDER_FILLED


async def test_fills_are_journaled_before_their_event_reaches_consumers() -> None:
    h = Harness()
    h.service = h.build(config=ProcessorConfig(poll_timeout=0.01))
    consumer = await h.bus.subscribe([topics.orders_events(BROKER)], "portfolio")
    journaled_when_seen: list[bool] = []

    async def portfolio() -> None:
        while len(journaled_when_seen) < 1:
            for record in await consumer.fetch(100, 0.05):
                fill = record.envelope.data.fill
                if fill is not None:
                    journaled_when_seen.append((BROKER, fill.trade_id) in h.store.fills)

    task = asyncio.create_task(h.service.run(), name="execution-under-test")
    watcher = asyncio.create_task(portfolio(), name="portfolio-stand-in")
    try:
        await eventually(lambda: h.service.status.value == "running")
        await h.bus.publish(topics.signals_validated(BROKER), signal_event(make_signal()))
        await eventually(lambda: bool(h.service.working), message="order working")
        await h.bus.publish(topics.MARKET_TICKS, tick_event("100", ask="100.05"))
        await eventually(lambda: journaled_when_seen, message="fill event consumed")
    finally:
        h.service.stop()
        watcher.cancel()
        await asyncio.wait_for(task, 3.0)
    assert journaled_when_seen == [True]
    (fill,) = await h.store.list_fills(BROKER)
    assert (fill.quantity, fill.price) == (10, D("100.05"))


async def test_square_off_written_before_a_crash_still_goes_out_while_halted() -> None:
    h = Harness()
    bought = stored_order("old", OrderStatus.FILLED, filled_quantity=5, quantity=5)
    await h.store.insert_order(bought)
    await h.store.apply_execution(
        bought,
        FillRecord(
            broker=BROKER,
            trade_id="Pold-1",
            client_order_id=bought.client_order_id,
            strategy="ema",
            instrument_token=TOKEN,
            symbol=SYMBOL,
            side=Side.BUY,
            quantity=5,
            price=D("100"),
            charges=D("0"),
            fill_ts=1,
        ),
    )
    flatten = stored_order("x", OrderStatus.PENDING, side=Side.SELL, quantity=5)
    flatten.signal_id = "square-off:cmd-1"
    await h.store.insert_order(flatten)
    h.state.set(TradingMode.HALTED, reason="kill switch")

    await h.service.on_start()

    assert [i.client_order_id for i in h.adapter.placed] == [flatten.client_order_id]


async def _journal_fill(h: Harness, signal_id: str, side: Side, quantity: int) -> None:
    order = stored_order(
        signal_id, OrderStatus.FILLED, side=side, quantity=quantity, filled_quantity=quantity
    )
    await h.store.insert_order(order)
    fill = FillRecord(
        broker=BROKER,
        trade_id=f"P{signal_id}-1",
        client_order_id=order.client_order_id,
        strategy="ema",
        instrument_token=TOKEN,
        symbol=SYMBOL,
        side=side,
        quantity=quantity,
        price=D("100"),
        charges=D("0"),
        fill_ts=1,
    )
    await h.store.apply_execution(order, fill)


async def test_unsent_order_that_relied_on_a_cancelled_one_is_not_sent_at_restart() -> None:
    # Found by the SIGKILL suite (seed 99): a long-only strategy, flat, bought 7 (sent,
    # working) then sold 7 (risk counted the buy as filled: flat again). The crash left the
    # sell unsent; the restarted paper session cancelled the buy and sent the sell: -7.
    h = Harness()
    await h.store.insert_order(stored_order("buy", OrderStatus.OPEN, quantity=7, created_ts=1))
    await h.store.insert_order(
        stored_order("sell", OrderStatus.PENDING, side=Side.SELL, quantity=7, created_ts=2)
    )
    await h.store.insert_order(  # and a re-entry let through on the sell's room
        stored_order("rebuy", OrderStatus.PENDING, quantity=7, created_ts=3)
    )

    await h.service.on_start()
    await h.tick("100", bid="100", ask="100", ts=10)

    assert h.adapter.placed == []
    assert h.store.fills == {}
    statuses = [
        (await h.store.get_order(client_order_id(signal_id))).status
        for signal_id in ("buy", "sell", "rebuy")
    ]
    assert statuses == [OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.REJECTED]
    sell = await h.store.get_order(client_order_id("sell"))
    assert sell.reason.startswith("blocked at restart: let through beside a BUY of ema")


async def test_unsent_exit_still_goes_out_at_restart_when_it_only_reduces() -> None:
    h = Harness()
    await _journal_fill(h, "entry", Side.BUY, 7)
    await h.store.insert_order(stored_order("add", OrderStatus.OPEN, quantity=7, created_ts=2))
    await h.store.insert_order(
        stored_order("exit", OrderStatus.PENDING, side=Side.SELL, quantity=7, created_ts=3)
    )
    await h.store.insert_order(  # same side as the lost buy: it relied on nothing lost
        stored_order("more", OrderStatus.PENDING, quantity=3, created_ts=4)
    )

    await h.service.on_start()

    assert [i.client_order_id for i in h.adapter.placed] == [
        client_order_id("exit"),
        client_order_id("more"),
    ]
