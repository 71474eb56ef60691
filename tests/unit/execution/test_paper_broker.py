"""The paper venue's fill model: what a trader sees each order type do on the tick stream."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.events.payloads import OrderIntent, Tick
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side, Validity
from engine.execution.charges import ChargesModel
from engine.execution.fill_model import FillModel
from engine.execution.paper_broker import PaperBroker

TOKEN = 408065
_seq = iter(range(1, 1_000_000))


def intent(
    side: Side = Side.BUY,
    quantity: int = 10,
    order_type: OrderType = OrderType.MARKET,
    price: str | None = None,
    trigger: str | None = None,
    validity: Validity = Validity.DAY,
    token: int = TOKEN,
) -> OrderIntent:
    return OrderIntent(
        client_order_id=f"AP{next(_seq)}",
        signal_id="s",
        strategy="ema",
        broker=Broker.PAPER,
        instrument_token=token,
        symbol="NSE:INFY",
        side=side,
        quantity=quantity,
        order_type=order_type,
        product=Product.MIS,
        validity=validity,
        price=D(price) if price else None,
        trigger_price=D(trigger) if trigger else None,
    )


def tick(
    last: str,
    bid: str | None = None,
    ask: str | None = None,
    bid_qty: int = 0,
    ask_qty: int = 0,
    ts: int = 1,
    token: int = TOKEN,
) -> Tick:
    return Tick(
        instrument_token=token,
        symbol="NSE:INFY",
        last_price=D(last),
        exchange_ts=ts,
        bid=D(bid) if bid else None,
        ask=D(ask) if ask else None,
        bid_quantity=bid_qty,
        ask_quantity=ask_qty,
    )


@pytest.fixture
def venue() -> PaperBroker:
    return PaperBroker()


def fills(updates) -> list[tuple[int, D]]:
    return [(u.fill.quantity, u.fill.price) for u in updates if u.fill is not None]


def test_market_order_waits_for_the_next_tick_and_takes_the_far_side(venue) -> None:
    buy, sell = intent(Side.BUY), intent(Side.SELL)
    assert venue.place(buy).status is OrderStatus.OPEN
    venue.place(sell)

    updates = venue.on_tick(tick("100.00", bid="99.95", ask="100.05", ts=42))

    assert fills(updates) == [(10, D("100.05")), (10, D("99.95"))]
    assert all(u.status is OrderStatus.FILLED and u.update_ts == 42 for u in updates)
    assert venue.open_orders() == []


def test_market_order_without_a_quote_fills_at_the_last_price(venue) -> None:
    venue.place(intent(Side.SELL))
    assert fills(venue.on_tick(tick("250.35"))) == [(10, D("250.35"))]


def test_ticks_of_other_instruments_leave_the_order_working(venue) -> None:
    order = intent()
    venue.place(order)
    assert venue.on_tick(tick("10", token=1)) == ()
    assert venue.open_orders() == [order.client_order_id]


def test_slippage_moves_the_price_against_the_trader_onto_the_tick_grid() -> None:
    venue = PaperBroker(fill_model=FillModel(slippage_bps=D("10")))
    venue.place(intent(Side.BUY))
    venue.place(intent(Side.SELL))
    # 10 bps of 1000.00 = 1.00; of 1001.23-ish prices the result is rounded to 0.05 adversely.
    updates = venue.on_tick(tick("1000.00", bid="999.95", ask="1000.05"))
    assert fills(updates) == [(10, D("1001.10")), (10, D("998.95"))]


def test_marketable_limit_fills_at_the_better_quote(venue) -> None:
    venue.place(intent(Side.BUY, order_type=OrderType.LIMIT, price="101.00"))
    assert fills(venue.on_tick(tick("100.00", bid="99.95", ask="100.05"))) == [(10, D("100.05"))]


def test_resting_limit_fills_later_at_its_limit(venue) -> None:
    venue.place(intent(Side.BUY, order_type=OrderType.LIMIT, price="99.00"))
    assert venue.on_tick(tick("100.00", bid="99.95", ask="100.05")) == []

    updates = venue.on_tick(tick("98.50", bid="98.45", ask="98.50", ts=7))

    assert fills(updates) == [(10, D("99.00"))]
    assert updates[0].status is OrderStatus.FILLED


def test_sell_limit_fills_when_the_bid_reaches_it(venue) -> None:
    venue.place(intent(Side.SELL, order_type=OrderType.LIMIT, price="105.00"))
    assert venue.on_tick(tick("104.00", bid="104.95", ask="105.00")) == []
    assert fills(venue.on_tick(tick("105.00", bid="105.00", ask="105.05"))) == [(10, D("105.00"))]


def test_partial_fills_take_only_the_quoted_size(venue) -> None:
    venue.place(intent(Side.BUY, quantity=10))
    first = venue.on_tick(tick("100", bid="99.95", ask="100.00", ask_qty=4))
    second = venue.on_tick(tick("100", bid="99.95", ask="100.10", ask_qty=50))

    assert fills(first) == [(4, D("100.00"))]
    assert first[0].status is OrderStatus.PARTIALLY_FILLED
    assert fills(second) == [(6, D("100.10"))]
    assert (second[0].status, second[0].filled_quantity) == (OrderStatus.FILLED, 10)
    assert second[0].average_price == D("100.0600")
    assert [u.fill.trade_id for u in first + second] == [
        f"P{first[0].client_order_id}-1",
        f"P{first[0].client_order_id}-2",
    ]


def test_partial_fills_pay_the_brokerage_cap_once() -> None:
    venue = PaperBroker(charges=ChargesModel())
    venue.place(intent(Side.BUY, quantity=200))
    first = venue.on_tick(tick("1000", ask="1000", ask_qty=100))
    second = venue.on_tick(tick("1000", ask="1000", ask_qty=100))
    paid = first[0].fill.charges + second[0].fill.charges
    one_shot = ChargesModel().compute(Side.BUY, 200, D("1000"), Product.MIS).total
    two_orders = 2 * ChargesModel().compute(Side.BUY, 100, D("1000"), Product.MIS).total
    assert abs(paid - one_shot) <= D("0.05")  # per-fill rounding to paise only
    assert two_orders - paid > D("20")  # the second fill paid no brokerage (and no GST on it)


def test_sl_m_triggers_on_last_price_then_fills_at_market(venue) -> None:
    ack = venue.place(intent(Side.SELL, order_type=OrderType.SL_M, trigger="95.00"))
    assert ack.status is OrderStatus.TRIGGER_PENDING
    assert venue.on_tick(tick("96.00", bid="95.95", ask="96.05")) == []

    updates = venue.on_tick(tick("94.90", bid="94.85", ask="94.95"))

    assert [u.status for u in updates] == [OrderStatus.OPEN, OrderStatus.FILLED]
    assert fills(updates) == [(10, D("94.85"))]


def test_stop_limit_triggers_then_rests_as_a_limit(venue) -> None:
    venue.place(intent(Side.BUY, order_type=OrderType.SL, price="105.00", trigger="104.00"))
    assert venue.on_tick(tick("103.00", ask="103.05")) == []
    # Triggered, but the ask ran past the limit: it rests at 105.
    triggered = venue.on_tick(tick("104.00", ask="105.50"))
    assert [(u.status, u.fill) for u in triggered] == [(OrderStatus.OPEN, None)]

    assert fills(venue.on_tick(tick("104.50", ask="104.60"))) == [(10, D("105.00"))]


def test_cancel_removes_the_order_from_the_book(venue) -> None:
    order = intent(order_type=OrderType.LIMIT, price="90.00")
    venue.place(order)
    assert venue.cancel(order.client_order_id).status is OrderStatus.CANCELLED
    assert venue.on_tick(tick("80", ask="80")) == ()
    assert venue.cancel(order.client_order_id).status is OrderStatus.REJECTED


def test_modify_price_makes_a_resting_limit_fill_at_the_new_price(venue) -> None:
    order = intent(order_type=OrderType.LIMIT, price="90.00", quantity=10)
    venue.place(order)
    venue.on_tick(tick("100", ask="100.05"))

    ack = venue.modify(order.client_order_id, price=D("100.10"), quantity=5)
    updates = venue.on_tick(tick("100", ask="100.05"))

    assert ack.status is OrderStatus.OPEN
    assert fills(updates) == [(5, D("100.05"))]


def test_modify_to_an_off_tick_price_is_refused_and_the_order_is_unchanged(venue) -> None:
    order = intent(order_type=OrderType.LIMIT, price="90.00")
    venue.place(order)
    ack = venue.modify(order.client_order_id, price=D("90.03"))
    assert ack.status is OrderStatus.REJECTED and "tick size" in ack.reason
    assert fills(venue.on_tick(tick("89", ask="89.00"))) == [(10, D("89.00"))]


def test_ioc_limit_cancels_what_the_first_tick_does_not_fill(venue) -> None:
    venue.place(intent(order_type=OrderType.LIMIT, price="99.00", validity=Validity.IOC))
    updates = venue.on_tick(tick("100", ask="100.05"))
    assert [(u.status, u.reason) for u in updates] == [
        (OrderStatus.CANCELLED, "IOC: unfilled quantity cancelled")
    ]
    assert venue.open_orders() == []


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (intent(quantity=-5), "quantity must be positive"),
        (intent(quantity=0), "quantity must be positive"),
        (intent(order_type=OrderType.LIMIT), "LIMIT order needs a price"),
        (intent(order_type=OrderType.LIMIT, price="100.03"), "not a multiple of the tick size"),
        (intent(order_type=OrderType.LIMIT, price="-1.00"), "price must be positive"),
        (intent(order_type=OrderType.SL_M), "needs a trigger price"),
        (intent(order_type=OrderType.SL, price="100", trigger="101"), "must not be above"),
    ],
)
def test_bad_orders_are_rejected_with_a_reason(venue, order, reason) -> None:
    ack = venue.place(order)
    assert ack.status is OrderStatus.REJECTED
    assert reason in ack.reason
    assert venue.open_orders() == []


def test_unknown_instrument_tick_size_is_rejected() -> None:
    venue = PaperBroker(tick_size_of={TOKEN: D("0.05")}.get)
    ack = venue.place(intent(token=999))
    assert ack.status is OrderStatus.REJECTED and "tick size" in ack.reason


def _created_at(order: OrderIntent, ts: int) -> OrderIntent:
    import msgspec

    return msgspec.structs.replace(order, created_ts=ts, not_before_ts=ts)


def test_a_late_venue_never_fills_on_a_tick_older_than_the_order(venue: PaperBroker) -> None:
    """Execution lagging the feed must not give a look-back price from before the signal."""
    venue.place(_created_at(intent(), ts=100))
    assert not venue.on_tick(tick("1500.00", "1499.95", "1500.05", ts=90))
    assert not venue.on_tick(tick("1500.50", "1500.45", "1500.55", ts=100))
    [fill] = venue.on_tick(tick("1501.00", "1500.95", "1501.05", ts=110))
    assert fill.status is OrderStatus.FILLED
    assert fill.fill is not None and fill.fill.price == D("1501.05")
    assert fill.fill.fill_ts == 110


def test_an_order_that_arrives_after_the_venue_saw_later_ticks_fills_on_the_first_of_them(
    venue: PaperBroker,
) -> None:
    """Execution ahead of the signal path: the fill is the first tick after the signal."""
    for ts, ask in ((90, "1500.05"), (110, "1501.05"), (120, "1502.05")):
        venue.on_tick(tick("1500.00", "1499.95", ask, ts=ts))
    venue.place(_created_at(intent(), ts=100))
    updates = venue.on_tick(tick("1503.00", "1502.95", "1503.05", ts=130))
    fills = [u.fill for u in updates if u.fill is not None]
    assert [(f.price, f.fill_ts) for f in fills] == [(D("1501.05"), 110)]


def test_the_fill_price_does_not_depend_on_how_far_execution_lags() -> None:
    ticks = [tick("1500.00", "1499.95", f"{1500 + i}.05", ts=10 * i) for i in range(1, 8)]

    def run(placed_after: int) -> list[tuple[D, int]]:
        venue = PaperBroker()
        order = _created_at(intent(), ts=30)
        fills: list[tuple[D, int]] = []
        for i, t in enumerate(ticks):
            if i == placed_after:
                venue.place(order)
            fills += [(u.fill.price, u.fill.fill_ts) for u in venue.on_tick(t) if u.fill]
        return fills

    assert run(0) == run(3) == run(5) == [(D("1504.05"), 40)]


def test_a_late_order_fills_on_placement_when_the_venue_already_saw_the_next_tick(
    venue: PaperBroker,
) -> None:
    """No waiting for the instrument's next trade (at a replay's end there is none)."""
    for ts, ask in ((90, "1500.05"), (110, "1501.05"), (120, "1502.05")):
        venue.on_tick(tick("1500.00", "1499.95", ask, ts=ts))
    order = _created_at(intent(), ts=100)
    venue.place(order)

    [update] = venue.catch_up(order.client_order_id)

    assert update.status is OrderStatus.FILLED
    assert update.fill is not None and (update.fill.price, update.fill.fill_ts) == (
        D("1501.05"),
        110,
    )
    assert not venue.on_tick(tick("1503.00", "1502.95", "1503.05", ts=130))
    assert not venue.open_orders()


def test_catch_up_leaves_an_order_for_the_next_tick_when_none_came_after_it(
    venue: PaperBroker,
) -> None:
    venue.on_tick(tick("1500.00", "1499.95", "1500.05", ts=90))
    order = _created_at(intent(), ts=100)
    venue.place(order)

    assert not venue.catch_up(order.client_order_id)
    assert not venue.catch_up(order.client_order_id)  # asked twice: still nothing
    [update] = venue.on_tick(tick("1501.00", "1500.95", "1501.05", ts=110))
    assert update.fill is not None and update.fill.price == D("1501.05")


def test_a_partly_filled_late_order_takes_each_missed_tick_once_then_waits(
    venue: PaperBroker,
) -> None:
    for ts in (110, 120):
        venue.on_tick(tick("1500.00", "1499.95", "1500.05", ask_qty=4, ts=ts))
    order = _created_at(intent(quantity=10), ts=100)
    venue.place(order)

    assert fills(venue.catch_up(order.client_order_id)) == [(4, D("1500.05"))] * 2
    assert fills(venue.on_tick(tick("1500.00", "1499.95", "1500.05", ask_qty=4, ts=130))) == [
        (2, D("1500.05"))
    ]
