"""MIS positions carried into a later trading day (a restart after the cut-off): the paper
venue squares them off on the first tick; live, Zerodha has closed them, so no order, an alert."""

from __future__ import annotations

from decimal import Decimal as D

from engine.events import EventType as E
from engine.events.types import Broker, Product, Severity, Side
from engine.market.square_off import MisCutoffs
from tests.unit.execution.conftest import TOKEN, Harness
from tests.unit.execution.test_mis_square_off import at, bought, submitted


def _paper() -> Harness:
    return Harness(mis_cutoffs=MisCutoffs())


def _live() -> Harness:
    """The same service for the Zerodha broker (its venue a recording stand-in)."""
    return Harness(broker=Broker.ZERODHA, mis_cutoffs=MisCutoffs())


async def _restarted(before: Harness) -> Harness:
    """A new process over the same store (the crash lost every tick until tomorrow)."""
    again = Harness(broker=before.broker, mis_cutoffs=before.mis_cutoffs)
    again.store = before.store
    again.adapter = before.adapter
    again.service = again.build()
    await again.service.on_start()
    return again


def alerts(events):  # type: ignore[no-untyped-def]
    return [e.data for e in events if e.type is E.RISK_ALERT]


async def test_paper_squares_off_a_carried_mis_position_on_the_next_days_first_tick() -> None:
    harness = _paper()
    await bought(harness)
    again = await _restarted(harness)

    events = await again.tick("104", bid="104", ts=at(3, 9, 15))

    [order] = submitted(events)
    assert (order.side, order.quantity, order.product) == (Side.SELL, 10, Product.MIS)
    assert [e.data.fill.price for e in events if e.type is E.ORDER_FILLED] == [D("104")]
    [alert] = alerts(events)
    assert alert.message == (
        "MIS position carried from 2024-01-02 squared off at the first tick of 2024-01-03: "
        "SELL 10 NSE:INFY at market for ema (held +10)"
    )
    assert again.service.net_positions == {("ema", TOKEN): 0}
    later = await again.tick("105", bid="105", ts=at(3, 9, 16))
    assert submitted(later) == [] and alerts(later) == []


async def test_a_replayed_first_tick_sends_no_second_carried_square_off() -> None:
    harness = _paper()
    await bought(harness)
    first = await _restarted(harness)
    await first.tick("104", bid="104", ts=at(3, 9, 15))
    again = await _restarted(first)

    events = await again.tick("104", bid="104", ts=at(3, 9, 15))

    assert submitted(events) == []
    assert len(harness.adapter.placed) == 2  # the buy and one square-off


async def test_a_carried_cnc_position_and_todays_mis_position_stay() -> None:
    cnc = _paper()
    await bought(cnc, Product.CNC)
    today = _paper()
    await bought(today, hh=10)

    cnc_events = await (await _restarted(cnc)).tick("104", bid="104", ts=at(3, 9, 15))
    today_events = await (await _restarted(today)).tick("104", bid="104", ts=at(2, 11, 0))

    assert submitted(cnc_events) == [] and alerts(cnc_events) == []
    assert submitted(today_events) == []  # opened today: the cut-off closes it


async def test_live_sends_nothing_for_a_carried_mis_position_and_alerts_in_words() -> None:
    harness = _live()
    await bought(harness)
    placed = len(harness.adapter.placed)
    again = await _restarted(harness)

    events = await again.tick("104", bid="104", ts=at(3, 9, 15))

    assert submitted(events) == [] and len(harness.adapter.placed) == placed
    [alert] = alerts(events)
    assert (alert.severity, alert.rule, alert.broker) == (
        Severity.CRITICAL,
        "mis_carried",
        Broker.ZERODHA,
    )
    assert alert.message == (
        "MIS position +10 NSE:INFY of ema carried from 2024-01-02 into 2024-01-03: Zerodha "
        "squares off MIS itself at 15:20, so no order was sent; the reconciler settles the "
        "book with the broker's — check the position in Kite"
    )
    assert again.service.net_positions == {("ema", TOKEN): 10}  # the reconciler's to settle


async def test_live_leaves_yesterdays_missed_cutoff_to_the_broker_in_one_process() -> None:
    harness = _live()
    await bought(harness)
    placed = len(harness.adapter.placed)

    events = await harness.tick("104", bid="104", ts=at(3, 9, 15))

    assert submitted(events) == [] and len(harness.adapter.placed) == placed
    assert [a.rule for a in alerts(events)] == ["mis_carried"]


async def test_live_still_squares_off_at_todays_cutoff() -> None:
    harness = _live()
    await bought(harness)

    events = await harness.tick("101", bid="101", ts=at(2, 15, 15))

    assert [(o.side, o.quantity) for o in submitted(events)] == [(Side.SELL, 10)]
