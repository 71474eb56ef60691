"""A graceful stop closes the paper venue's working orders; a crash or a live venue does not."""

from __future__ import annotations

import asyncio

from engine.events import topics
from engine.events.types import EventType, OrderStatus, OrderType
from engine.ids import client_order_id
from tests.helpers import eventually
from tests.unit.execution.conftest import BROKER, Harness, make_signal, types_of


async def _resting_limit_order(h: Harness) -> str:
    await h.tick("100", bid="99.95", ask="100.05")
    await h.signal(make_signal("rest", order_type=OrderType.LIMIT, limit="90.00"))
    coid = client_order_id("rest")
    order = await h.store.get_order(coid)
    assert order is not None and order.status is OrderStatus.OPEN
    return coid


async def test_graceful_stop_cancels_working_paper_orders_in_the_store_and_the_venue() -> None:
    h = Harness()
    task = asyncio.create_task(h.service.run())
    await eventually(lambda: h.service.subscription is not None)
    watcher = await h.bus.subscribe([topics.orders_events(BROKER)], "watcher")
    coid = await _resting_limit_order(h)

    h.service.stop()
    await asyncio.wait_for(task, 10)

    order = await h.store.get_order(coid)
    assert order.status is OrderStatus.CANCELLED
    assert order.reason.startswith("paper session stopped")
    assert await h.adapter.open_orders() == []  # nothing left that the venue could fill
    events = [r.envelope for r in await watcher.fetch(100, 0)]
    assert EventType.ORDER_CANCELLED in types_of(events)  # the console and portfolio see it
    filled = await h.tick("85", bid="84.95", ask="85.05", ts=9)
    assert filled == []


async def test_on_stop_outside_a_graceful_stop_leaves_orders_working() -> None:
    """After a crash the supervisor restarts execution over the same venue book."""
    h = Harness()
    coid = await _resting_limit_order(h)
    await h.service.on_stop()  # the crash path: stop() was never asked
    assert (await h.store.get_order(coid)).status is OrderStatus.OPEN


async def test_a_live_venue_keeps_its_orders_at_stop() -> None:
    h = Harness()
    coid = await _resting_limit_order(h)
    h.adapter.book_lost_on_restart = False  # Zerodha holds them; the reconciler settles
    h.service.stop()
    await h.service.on_stop()
    assert (await h.store.get_order(coid)).status is OrderStatus.OPEN
