"""Orders by hand from an embedded console: the runtime's operator controls send a ticket
through risk to the paper venue, and once the kill switch is pressed nothing leaves."""

from __future__ import annotations

from engine.clock import ManualClock
from engine.events.types import OrderStatus, Product, Side
from engine.trading_state.manual import MANUAL_STRATEGY, OrderTicket, manual_client_order_id
from tests.helpers import eventually
from tests.integration.support import BROKER, INFY
from tests.integration.test_kill_switch import Desk, StartRuntime, start_runtime

__all__ = ["start_runtime"]  # the fixture, shared with the kill-switch tests


def in_session(desk: Desk) -> Desk:
    """The run's clock at the desk's market time: a ticket is stamped with the run's time,
    and this runtime has no feed to set it (the test publishes the ticks)."""
    assert desk.runtime.pipeline is not None
    desk.runtime.pipeline.control.run_clock = ManualClock(desk.ts)
    return desk


async def test_a_console_ticket_fills_and_after_a_kill_is_refused_unsent(
    start_runtime: StartRuntime,
) -> None:
    desk = Desk(await start_runtime())
    await desk.tick(INFY, "1580.00")
    in_session(desk)
    controls = desk.runtime.controls
    ticket = OrderTicket(side=Side.BUY, symbol="INFY", quantity=5, product=Product.CNC)

    coid = await controls.place_order(ticket, request_id="t-1", operator="alice@desk")

    assert coid == manual_client_order_id("t-1")
    order = await desk.fill("manual:t-1", "1580.50")
    assert (order.strategy, order.client_order_id) == (MANUAL_STRATEGY, coid)
    assert await desk.net(INFY) == 5
    assert len(desk.venue.placed) == 1

    controls.halt_now(operator="alice@desk")
    await controls.kill(operator="alice@desk")
    await controls.place_order(ticket, request_id="t-2", operator="alice@desk")
    await desk.settle()

    assert await desk.order_for("manual:t-2") is None
    assert len(desk.venue.placed) == 1
    positions = await desk.store.list_positions(BROKER)
    assert [p.net_quantity for p in positions if p.strategy == MANUAL_STRATEGY] == [5]


async def test_the_same_console_request_twice_sends_one_order(start_runtime: StartRuntime) -> None:
    desk = Desk(await start_runtime())
    await desk.tick(INFY, "1580.00")
    in_session(desk)
    ticket = OrderTicket(side=Side.SELL, symbol="NSE:INFY", quantity=2, product=Product.CNC)

    for _ in range(2):
        await desk.runtime.controls.place_order(ticket, request_id="t-9", operator="bob@desk")
    await desk.settle()

    async def one_order() -> bool:
        orders = await desk.store.list_orders(BROKER, limit=100)
        return [o.signal_id for o in orders] == ["manual:t-9"]

    await eventually(one_order, timeout=5, message="one order for the request")
    order = await desk.order_for("manual:t-9")
    assert order is not None and order.status is not OrderStatus.REJECTED, order
    assert len(desk.venue.placed) == 1
