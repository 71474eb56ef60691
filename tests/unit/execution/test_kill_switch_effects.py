"""The kill switch's effect on orders: one cancel per working order through the adapter's
``cancel_all``, a refused cancel leaves its order working, and the reason is the kill's."""

from __future__ import annotations

from collections.abc import Sequence

from engine.domain.records import OrderRecord
from engine.events.types import EventType as E
from engine.events.types import OrderCommandAction, OrderStatus, OrderType
from engine.execution.reports import PlaceAck
from engine.ids import client_order_id
from tests.unit.execution.conftest import Harness, make_signal, types_of


async def test_cancel_all_asks_the_venue_once_for_every_working_order(harness: Harness) -> None:
    asked: list[list[str]] = []
    cancel_all = harness.adapter.cancel_all

    async def recording(orders: Sequence[OrderRecord]) -> list[PlaceAck]:
        asked.append([o.client_order_id for o in orders])
        return await cancel_all(orders)

    harness.adapter.cancel_all = recording  # type: ignore[method-assign]
    await harness.signal(make_signal("a", order_type=OrderType.LIMIT, limit="90.00"))
    await harness.signal(make_signal("b", order_type=OrderType.LIMIT, limit="91.00"))

    events = await harness.command(OrderCommandAction.CANCEL_ALL)

    assert asked == [[client_order_id("a"), client_order_id("b")]]
    assert types_of(events) == [E.ORDER_CANCELLED, E.ORDER_CANCELLED]


async def test_the_default_cancel_all_cancels_each_order_and_answers_in_order(
    harness: Harness,
) -> None:
    await harness.signal(make_signal("a", order_type=OrderType.LIMIT, limit="90.00"))
    await harness.signal(make_signal("b", order_type=OrderType.LIMIT, limit="91.00"))
    orders = list(harness.service.working.values())

    acks = await harness.adapter.cancel_all(orders)

    assert [a.client_order_id for a in acks] == [o.client_order_id for o in orders]
    assert all(a.status is OrderStatus.CANCELLED for a in acks)
    assert await harness.adapter.open_orders() == []


async def test_a_cancel_the_venue_refuses_leaves_that_order_working(harness: Harness) -> None:
    await harness.signal(make_signal("a", order_type=OrderType.LIMIT, limit="90.00"))
    await harness.signal(make_signal("b", order_type=OrderType.LIMIT, limit="91.00"))
    cancel = harness.adapter.cancel

    async def refusing_a(order: OrderRecord) -> PlaceAck:
        if order.client_order_id == client_order_id("a"):
            return PlaceAck(
                client_order_id=order.client_order_id,
                status=OrderStatus.REJECTED,
                reason="order already completed",
            )
        return await cancel(order)

    harness.adapter.cancel = refusing_a  # type: ignore[method-assign]
    events = await harness.command(OrderCommandAction.CANCEL_ALL, reason="kill switch (cli)")

    assert [e.data.client_order_id for e in events] == [client_order_id("b")]
    assert events[0].data.reason == "kill switch (cli)"  # the kill's words, not doubled
    assert list(harness.service.working) == [client_order_id("a")]
    stored = await harness.store.get_order(client_order_id("a"))
    assert stored is not None and stored.status is OrderStatus.OPEN
