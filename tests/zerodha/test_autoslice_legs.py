"""An autoslice order's legs after it was placed: cancelled and repriced leg by leg,
summed again after a restart, and recognised by reconciliation as the client order's.

The real ``kiteconnect`` client against the loopback Kite, whose autoslice answer has
the shape of Zerodha's mock (a parent id that is no order of the book, ``children[]``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from engine.events.types import Broker, EventType, OrderStatus
from engine.instruments.freeze import legs
from engine.zerodha.order_updates import ZerodhaOrderUpdates
from engine.zerodha.reconcile import Reconciler
from tests.kite_fake.server import FakeKite
from tests.zerodha.fill_harness import INFY, LiveExecution, live_execution

pytestmark = pytest.mark.kite
FREEZE = 1800


async def _sliced(fake_kite: FakeKite, tmp_path: Path) -> LiveExecution:
    fake_kite.state.freeze_quantities["INFY"] = FREEZE
    live = await live_execution(fake_kite, tmp_path)
    live.venue.adapter.slice_with(lambda token, q: legs(q, FREEZE if token == INFY else None))
    return live


def _legs(fake: FakeKite, parent: str) -> list[str]:
    return [o["order_id"] for o in fake.state.orders.values() if f"autoslice:{parent}" in o["tags"]]


def _requests(fake: FakeKite, method: str) -> list[str]:
    return [path for m, path, _ in fake.state.requests if m == method]


async def test_a_cancel_reaches_every_working_leg_and_the_order_keeps_its_fills(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await _sliced(fake_kite, tmp_path)
    cid, parent = await live.place("sig-cancel", 5400)
    first, second, third = _legs(fake_kite, parent)
    await live.updates.ingest(fake_kite.fill_order(first, price=1500.0))

    ack = await live.venue.adapter.cancel(await live.order(cid))
    await live.updates.poll_once()

    assert ack.accepted and "2 of 2 working legs" in ack.reason
    assert sorted(_requests(fake_kite, "DELETE")) == sorted(
        [f"/orders/regular/{second}", f"/orders/regular/{third}"]
    )
    assert {fake_kite.state.orders[leg]["status"] for leg in (second, third)} == {"CANCELLED"}
    order = await live.order(cid)
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, 1800)
    assert [q for _, q in live.journal(cid)] == [1800] and live.position() == 1800


async def test_a_new_price_goes_to_each_leg_and_a_new_quantity_is_refused_unsent(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await _sliced(fake_kite, tmp_path)
    cid, parent = await live.place("sig-modify", 3600)
    order = await live.order(cid)

    resized = await live.venue.adapter.modify(order, quantity=1800)
    repriced = await live.venue.adapter.modify(order, price=Decimal("1490.00"))

    assert not resized.accepted and "quantity cannot change" in resized.reason
    assert repriced.accepted
    assert len(_requests(fake_kite, "PUT")) == 2  # one per leg, none for the resize
    for leg in _legs(fake_kite, parent):
        row = fake_kite.state.orders[leg]
        assert (row["price"], row["quantity"]) == (1490.0, FREEZE)


async def test_after_a_restart_the_legs_are_summed_again_and_each_trade_journalled_once(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await _sliced(fake_kite, tmp_path)
    cid, parent = await live.place("sig-restart", 5400)
    first, second, third = _legs(fake_kite, parent)
    await live.updates.ingest(fake_kite.fill_order(first, price=1500.0))

    # a new process: a fresh ingest that has seen no leg yet, over the same store
    live.updates = ZerodhaOrderUpdates(
        live.venue.session.client, live.venue.store, live.updates._sink
    )
    fake_kite.fill_order(second, price=1501.0, push=False)
    await live.updates.ingest(fake_kite.fill_order(third, price=1502.0))

    order = await live.order(cid)
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 5400)
    assert sorted(q for _, q in live.journal(cid)) == [1800, 1800, 1800]
    assert len({t for t, _ in live.journal(cid)}) == 3 and live.position() == 5400


async def test_reconciliation_takes_legs_for_the_client_order_not_for_strangers(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await _sliced(fake_kite, tmp_path)
    cid, parent = await live.place("sig-reconcile", 3600)
    first, _second = _legs(fake_kite, parent)
    fake_kite.fill_order(first, price=1500.0, push=False)  # filled while the process was down

    async def publish(type_: EventType, payload, key: str) -> None:  # type: ignore[no-untyped-def]
        pass

    report = await Reconciler(
        live.venue.session.client, live.venue.store, publish, catch_up=live.updates.ingest
    ).run()

    # no "absent at Zerodha", no "placed outside AlphaPanda" (the portfolio, which keeps
    # the stored positions, does not run here: only its position diff is expected)
    assert [d.subject for d in report.diffs] == ["position"]
    assert not any("absent" in (d.local, d.remote) for d in report.diffs)
    assert report.caught_up == [cid]
    order = await live.order(cid)
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 1800)
    assert [q for _, q in live.journal(cid)] == [1800] and live.position() == 1800


async def test_reconciliation_reports_a_leg_trade_missing_from_the_journal(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await _sliced(fake_kite, tmp_path)
    cid, parent = await live.place("sig-missing", 3600)
    first, second = _legs(fake_kite, parent)
    for leg in (first, second):
        await live.updates.ingest(fake_kite.fill_order(leg, price=1500.0))
    order = await live.order(cid)
    assert order.status is OrderStatus.FILLED
    lost = next(t for t, _ in live.journal(cid))
    del live.venue.store.fills[(Broker.ZERODHA, lost)]  # a journal that lost a leg's trade

    async def publish(type_: EventType, payload, key: str) -> None:  # type: ignore[no-untyped-def]
        pass

    report = await Reconciler(live.venue.session.client, live.venue.store, publish).run()

    [diff] = [d for d in report.diffs if d.subject != "position"]  # no portfolio here
    assert (diff.subject, diff.key) == ("trade", lost) and cid in diff.message
