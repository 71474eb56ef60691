"""The execution service: outbox first, halts honoured at the last moment, fills journaled."""

from __future__ import annotations

from decimal import Decimal as D

from engine.events.types import (
    EventType,
    OrderCommandAction,
    OrderStatus,
    OrderType,
    Side,
    TradingMode,
)
from engine.execution.service import ExecutionConfig
from engine.ids import client_order_id
from tests.unit.execution.conftest import TOKEN, Harness, make_signal, types_of

E = EventType


async def test_validated_market_signal_is_stored_sent_and_filled_on_the_next_tick(
    harness: Harness,
) -> None:
    placed = await harness.signal(make_signal(quantity=10))
    coid = client_order_id("sig-1")

    assert types_of(placed) == [E.ORDER_SUBMITTED, E.ORDER_OPEN]
    assert {e.data.client_order_id for e in placed} == {coid}
    assert placed[0].key == f"paper:ema:{TOKEN}"

    filled = await harness.tick("100.00", bid="99.95", ask="100.05", ts=77)

    assert types_of(filled) == [E.ORDER_FILLED]
    update = filled[0].data
    assert (update.status, update.filled_quantity, update.fill.price) == (
        OrderStatus.FILLED,
        10,
        D("100.05"),
    )
    assert update.fill.fill_ts == 77 and update.fill.charges > 0
    stored = await harness.store.get_order(coid)
    assert stored.status is OrderStatus.FILLED and stored.average_price == D("100.05")
    assert harness.service.net_positions[("ema", TOKEN)] == 10


async def test_order_is_in_the_outbox_before_it_is_sent(harness: Harness) -> None:
    await harness.signal(make_signal())
    (stored,) = harness.adapter.stored_at_send
    assert stored is not None and stored.status is OrderStatus.PENDING


async def test_redelivered_signal_sends_no_second_order(harness: Harness) -> None:
    first = await harness.signal(make_signal("sig-7"))
    again = await harness.signal(make_signal("sig-7"))

    assert types_of(first) == [E.ORDER_SUBMITTED, E.ORDER_OPEN]
    assert again == []
    assert len(harness.adapter.placed) == 1
    assert len(harness.store.orders) == 1


async def test_halt_between_risk_and_execution_rejects_without_sending(harness: Harness) -> None:
    harness.state.set(TradingMode.HALTED, reason="kill switch")

    events = await harness.signal(make_signal())

    assert types_of(events) == [E.ORDER_REJECTED]
    assert "HALTED" in events[0].data.reason
    assert harness.adapter.placed == []
    stored = await harness.store.get_order(client_order_id("sig-1"))
    assert stored.status is OrderStatus.REJECTED and "kill switch" in stored.reason


async def test_reducing_mode_lets_a_reduction_through_but_not_a_new_position(
    harness: Harness,
) -> None:
    await harness.signal(make_signal("buy", quantity=10))
    await harness.tick("100", ask="100")
    harness.state.set(TradingMode.REDUCING)

    more = await harness.signal(make_signal("more", Side.BUY, quantity=5))
    less = await harness.signal(make_signal("less", Side.SELL, quantity=5))

    assert types_of(more) == [E.ORDER_REJECTED] and "REDUCING" in more[0].data.reason
    # sent, and filled at once on the tick (ts 5) execution saw after the signal (ts 3)
    assert types_of(less) == [E.ORDER_SUBMITTED, E.ORDER_OPEN, E.ORDER_FILLED]


async def test_bad_signal_becomes_a_rejected_order_not_a_crash(harness: Harness) -> None:
    negative = await harness.signal(make_signal("neg", quantity=-5))
    off_tick = await harness.signal(make_signal("off", order_type=OrderType.LIMIT, limit="100.03"))
    no_price = await harness.signal(make_signal("nop", order_type=OrderType.LIMIT))

    assert [types_of(e) for e in (negative, off_tick, no_price)] == [[E.ORDER_REJECTED]] * 3
    assert "quantity must be positive" in negative[0].data.reason
    assert "tick size" in off_tick[0].data.reason
    assert "needs a price" in no_price[0].data.reason
    assert harness.adapter.placed == []


async def test_resting_limit_fills_later_with_its_events(harness: Harness) -> None:
    await harness.signal(make_signal(order_type=OrderType.LIMIT, limit="99.00"))
    assert await harness.tick("100", bid="99.95", ask="100.05") == []

    events = await harness.tick("98.90", bid="98.85", ask="98.90")

    assert types_of(events) == [E.ORDER_FILLED]
    assert events[0].data.fill.price == D("99.00")


async def test_sl_m_reports_the_trigger_then_the_fill(harness: Harness) -> None:
    placed = await harness.signal(
        make_signal(side=Side.SELL, order_type=OrderType.SL_M, trigger="95.00")
    )
    assert placed[-1].data.status is OrderStatus.TRIGGER_PENDING

    events = await harness.tick("94.95", bid="94.90", ask="95.00")

    assert types_of(events) == [E.ORDER_OPEN, E.ORDER_FILLED]
    assert events[1].data.fill.price == D("94.90")


async def test_configured_slippage_moves_paper_fills_against_the_trader() -> None:
    h = Harness()
    h.adapter = None  # the service builds its own paper venue from the config
    h.service = h.build(ExecutionConfig(slippage_bps=D("20")))
    await h.signal(make_signal("buy", Side.BUY))
    await h.signal(make_signal("sell", Side.SELL))

    events = await h.tick("500.00", bid="499.95", ask="500.00")

    # 20 bps of 500 = 1.00: the buy pays more than the ask, the sell gets less than the bid.
    assert [(e.data.side, e.data.fill.price) for e in events] == [
        (Side.BUY, D("501.00")),
        (Side.SELL, D("498.95")),
    ]


async def test_cancel_all_cancels_every_working_order(harness: Harness) -> None:
    await harness.signal(make_signal("a", order_type=OrderType.LIMIT, limit="90.00"))
    await harness.signal(make_signal("b", order_type=OrderType.SL_M, trigger="120.00"))

    events = await harness.command(OrderCommandAction.CANCEL_ALL)

    assert types_of(events) == [E.ORDER_CANCELLED, E.ORDER_CANCELLED]
    assert {e.data.reason for e in events} == {"kill switch"}
    assert harness.service.working == {}
    assert await harness.tick("80", ask="80") == []  # nothing left at the venue to fill
    stored = await harness.store.get_order(client_order_id("a"))
    assert stored.status is OrderStatus.CANCELLED


async def test_cancel_one_order_by_client_id(harness: Harness) -> None:
    await harness.signal(make_signal("a", order_type=OrderType.LIMIT, limit="90.00"))
    await harness.signal(make_signal("b", order_type=OrderType.LIMIT, limit="91.00"))

    events = await harness.command(OrderCommandAction.CANCEL, client_order_id=client_order_id("a"))

    assert [e.data.client_order_id for e in events] == [client_order_id("a")]
    assert list(harness.service.working) == [client_order_id("b")]


async def test_modify_moves_a_resting_limit_and_it_fills_at_the_new_price(
    harness: Harness,
) -> None:
    await harness.signal(make_signal(order_type=OrderType.LIMIT, limit="90.00"))
    await harness.tick("100", ask="100.05")

    events = await harness.command(
        OrderCommandAction.MODIFY, client_order_id=client_order_id("sig-1"), price=D("100.10")
    )
    filled = await harness.tick("100", ask="100.05")

    assert types_of(events) == [E.ORDER_MODIFIED]
    assert events[0].data.price == D("100.10")
    assert filled[0].data.fill.price == D("100.05")


async def test_refused_modify_raises_an_alert_and_keeps_the_order(harness: Harness) -> None:
    await harness.signal(make_signal(order_type=OrderType.LIMIT, limit="90.00"))

    events = await harness.command(
        OrderCommandAction.MODIFY, client_order_id=client_order_id("sig-1"), price=D("90.01")
    )

    assert types_of(events) == [E.RISK_ALERT]
    assert "tick size" in events[0].data.message
    assert harness.service.working[client_order_id("sig-1")].price == D("90.00")


async def test_square_off_flattens_every_position_even_while_halted(harness: Harness) -> None:
    await harness.signal(make_signal("long", Side.BUY, quantity=10, strategy="ema"))
    await harness.signal(make_signal("short", Side.SELL, quantity=4, strategy="rsi"))
    await harness.tick("100", bid="99.95", ask="100.05")
    harness.state.set(TradingMode.HALTED, reason="kill switch")

    sent = await harness.command(OrderCommandAction.SQUARE_OFF_ALL, reason="kill switch")
    filled = await harness.tick("101", bid="100.95", ask="101.05")

    opened = [e.data for e in sent if e.type is E.ORDER_SUBMITTED]
    assert sorted((u.strategy, u.side, u.quantity) for u in opened) == [
        ("ema", Side.SELL, 10),
        ("rsi", Side.BUY, 4),
    ]
    assert all(u.order_type is OrderType.MARKET for u in opened)
    assert types_of(filled) == [E.ORDER_FILLED, E.ORDER_FILLED]
    # on the tick after the kill, never on the older one the positions were filled at
    assert sorted(e.data.fill.price for e in filled) == [D("100.95"), D("101.05")]
    assert harness.service.net_positions == {("ema", TOKEN): 0, ("rsi", TOKEN): 0}


async def test_square_off_pressed_twice_does_not_overshoot(harness: Harness) -> None:
    await harness.signal(make_signal("long", Side.BUY, quantity=10))
    await harness.tick("100", ask="100")

    first = await harness.command(OrderCommandAction.SQUARE_OFF_ALL)
    second = await harness.command(OrderCommandAction.SQUARE_OFF_ALL)

    assert E.ORDER_SUBMITTED in types_of(first)
    assert second == []


async def test_new_orders_stay_blocked_after_square_off_while_halted(harness: Harness) -> None:
    harness.state.set(TradingMode.HALTED)
    await harness.command(OrderCommandAction.SQUARE_OFF_ALL)
    events = await harness.signal(make_signal("new", Side.BUY))
    assert types_of(events) == [E.ORDER_REJECTED]
    assert harness.adapter.placed == []


async def test_an_order_whose_next_tick_already_passed_execution_fills_when_sent(
    harness: Harness,
) -> None:
    """Execution reads ticks ahead of the signal path: the fill is the tick after the
    signal (event time 3), reported with the order, not at the instrument's next trade."""
    await harness.tick("100.00", bid="99.95", ask="100.05", ts=2)
    await harness.tick("101.00", bid="100.95", ask="101.05", ts=4)

    placed = await harness.signal(make_signal(quantity=10))

    assert types_of(placed) == [E.ORDER_SUBMITTED, E.ORDER_OPEN, E.ORDER_FILLED]
    fill = placed[-1].data.fill
    assert (fill.price, fill.fill_ts) == (D("101.05"), 4)
    assert harness.service.net_positions[("ema", TOKEN)] == 10
    assert not harness.service.working


async def test_sent_ids_are_forgotten_once_the_store_records_the_send(harness: Harness) -> None:
    """A trading day of orders must not grow execution's memory: the id is kept only
    while the send is not on record; after that the stored status stops a resend."""
    for n in range(5):
        await harness.signal(make_signal(f"sig-{n}"))

    assert harness.service._sent == set()
    again = await harness.signal(make_signal("sig-3"))  # redelivered: still not re-sent
    assert again == [] and len(harness.adapter.placed) == 5


async def test_a_kill_cancel_on_the_paper_venue_is_stamped_at_its_newest_tick_not_wall_time(
    harness: Harness,
) -> None:
    """On the simulated market the kill's cancel used to carry the command's wall time
    and sort hours away from the orders around it (issue 13.1)."""
    await harness.signal(make_signal("a", order_type=OrderType.LIMIT, limit="90.00"))
    await harness.tick("100", ask="100", ts=7_000)  # the venue's clock: no fill at 100

    wall = 10**18  # the command's wall-clock stamp, far from the simulated day
    events = await harness.command(OrderCommandAction.CANCEL_ALL, ts=wall)

    assert [e.data.update_ts for e in events] == [7_000]
