"""A modified order is stamped in the venue's time, so the console shows its new price.

Seen in the console on the simulated market: ``alphapanda modify <id> --price 1615`` answered
"SELL 5 NSE:INFY LIMIT @ 1,615.00 OPEN (modification 1 of 25)", while the orders panel kept
showing the order at 1,610.00 until it was cancelled. The modify's update carried the
command's wall-clock stamp (hours before the simulated market's clock, which stamped the
order), and the read model keeps the newest update of an order: it dropped the modify as
an old one. A cancel already took the venue's time.
"""

from __future__ import annotations

from decimal import Decimal as D

import msgspec

from engine.events import EventType as E
from engine.events.types import OrderCommandAction, OrderType
from engine.ids import client_order_id
from engine.read_model import ReadModel
from tests.unit.execution.conftest import Harness, make_signal, types_of

MARKET_NS = 1_800_000_000_000_000_000  # the simulated market's clock: ticks and orders
WALL_NS = 1_790_000_000_000_000_000  # the operator's command, stamped days earlier


async def test_a_modify_on_the_simulated_market_is_shown_at_its_new_price(
    harness: Harness,
) -> None:
    model = ReadModel()
    await harness.tick("100", ask="100.05", ts=MARKET_NS)
    signal = make_signal(order_type=OrderType.LIMIT, limit="90.00")
    placed = await harness.signal(msgspec.structs.replace(signal, signal_ts=MARKET_NS))
    await harness.tick("100", ask="100.05", ts=MARKET_NS + 1_000_000_000)
    for event in placed:
        if event.type in (E.ORDER_SUBMITTED, E.ORDER_OPEN):
            model.apply_order(event.data)

    modified = await harness.command(
        OrderCommandAction.MODIFY,
        ts=WALL_NS,
        client_order_id=client_order_id("sig-1"),
        price=D("95.00"),
    )

    assert types_of(modified) == [E.ORDER_MODIFIED]
    update = modified[0].data
    model.apply_order(update)
    [shown] = model.order_rows()
    assert shown.price == D("95.00")
    stored = await harness.store.get_order(client_order_id("sig-1"))
    assert stored is not None and stored.price == D("95.00")
    assert stored.updated_ts >= stored.created_ts
