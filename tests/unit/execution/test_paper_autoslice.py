"""The paper venue slices an order above the freeze quantity as Kite's autoslice would:
legs of at most the freeze, each an exchange order (its own brokerage cap), reported as
one client order whose fills add up and never pass its quantity."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events.types import OrderStatus, OrderType, Side
from engine.execution.charges import ChargesModel
from engine.execution.paper_broker import PaperBroker
from engine.instruments.freeze import legs
from tests.unit.execution.test_paper_broker import TOKEN, intent, tick

FREEZE = 1800


def sliced_venue(charges: ChargesModel | None = None) -> PaperBroker:
    venue = PaperBroker(charges=charges)
    venue.slice_with(lambda token, quantity: legs(quantity, FREEZE if token == TOKEN else None))
    return venue


def test_an_order_above_the_freeze_fills_leg_by_leg_as_one_client_order() -> None:
    venue = sliced_venue()
    order = intent(quantity=4000)

    ack = venue.place(order)
    updates = venue.on_tick(tick("100.00", ts=5))

    assert ack.accepted and ack.reason == "autoslice: 3 legs (1800, 1800, 400)"
    assert [u.fill.quantity for u in updates if u.fill] == [1800, 1800, 400]
    assert {u.client_order_id for u in updates} == {order.client_order_id}
    assert [u.filled_quantity for u in updates] == [1800, 3600, 4000]
    assert updates[-1].status is OrderStatus.FILLED and venue.open_orders() == []
    assert len({u.fill.trade_id for u in updates if u.fill}) == 3


def test_the_quote_size_spreads_over_the_legs_in_turn() -> None:
    venue = sliced_venue()
    order = intent(quantity=3600)
    venue.place(order)

    first = venue.on_tick(tick("100.00", ask="100.05", ask_qty=2000, ts=5))
    second = venue.on_tick(tick("100.00", ask="100.10", ask_qty=5000, ts=6))

    assert [u.fill.quantity for u in first if u.fill] == [1800, 200]
    assert first[-1].status is OrderStatus.PARTIALLY_FILLED and first[-1].filled_quantity == 2000
    assert [u.fill.quantity for u in second if u.fill] == [1600]
    assert second[-1].status is OrderStatus.FILLED and second[-1].filled_quantity == 3600


def test_each_leg_pays_its_own_capped_brokerage() -> None:
    sliced, whole = sliced_venue(ChargesModel()), PaperBroker(charges=ChargesModel())
    big, one_leg = intent(quantity=3600), intent(quantity=1800)
    sliced.place(big)
    whole.place(one_leg)

    leg_fills = [u.fill for u in sliced.on_tick(tick("1000.00", ts=5)) if u.fill]
    [single] = [u.fill for u in whole.on_tick(tick("1000.00", ts=5)) if u.fill]

    assert [f.charges for f in leg_fills] == [single.charges, single.charges]


def test_a_sliced_order_keeps_its_quantity_but_takes_a_new_price() -> None:
    venue = sliced_venue()
    order = intent(quantity=3600, order_type=OrderType.LIMIT, price="99.00")
    venue.place(order)

    refused = venue.modify(order.client_order_id, quantity=1800)
    repriced = venue.modify(order.client_order_id, price=D("100.00"))
    fills = [u.fill.quantity for u in venue.on_tick(tick("100.00", ask="100.00", ts=5)) if u.fill]

    assert not refused.accepted and "autoslice legs" in refused.reason
    assert repriced.accepted and fills == [1800, 1800]


def test_an_order_at_the_freeze_is_one_order() -> None:
    venue = sliced_venue()
    venue.place(intent(quantity=FREEZE))

    assert [u.fill.quantity for u in venue.on_tick(tick("100.00", ts=5)) if u.fill] == [FREEZE]


@settings(max_examples=150, deadline=None)
@given(
    quantity=st.integers(min_value=1, max_value=20_000),
    freeze=st.integers(min_value=1, max_value=5_000),
    sizes=st.lists(st.integers(min_value=0, max_value=6_000), min_size=1, max_size=12),
    side=st.sampled_from([Side.BUY, Side.SELL]),
)
def test_legs_fills_sum_to_the_order_s_filled_and_never_exceed_it(
    quantity: int, freeze: int, sizes: list[int], side: Side
) -> None:
    venue = PaperBroker()
    venue.slice_with(lambda _token, q: legs(q, freeze))
    order = intent(side=side, quantity=quantity)
    venue.place(order)

    journal: list[int] = []
    reported = 0
    for n, size in enumerate(sizes, start=1):
        quote = {"ask_qty": size} if side is Side.BUY else {"bid_qty": size}
        for update in venue.on_tick(tick("100.00", bid="99.95", ask="100.05", ts=n, **quote)):
            if update.fill is not None:
                journal.append(update.fill.quantity)
            assert update.filled_quantity == sum(journal) <= quantity
            assert update.filled_quantity >= reported
            reported = update.filled_quantity
    assert all(0 < part <= freeze for part in journal)
    done = sum(journal) == quantity
    assert done == (order.client_order_id not in venue.open_orders())
