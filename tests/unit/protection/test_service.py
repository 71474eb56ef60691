"""The protection service on its own, event by event: it stores the fired mark before the
exit leaves, repeats only the very same exit on a retry of the same tick, never fires
again after a restart, drops a protection whose position flips, trails, and refuses a
protection for a flat position with an alert."""

from __future__ import annotations

from decimal import Decimal

from engine.events.envelope import new_event
from engine.events.payloads import (
    ProtectionCommand,
    ProtectionState,
    RejectedSignal,
    RiskAlert,
    Signal,
    Tick,
)
from engine.events.types import (
    EventType,
    OrderStatus,
    OrderType,
    Product,
    Severity,
    Side,
    TradingMode,
)
from engine.protection.levels import STOP_LOSS, TRAILING_STOP
from tests.unit.protection.harness import TOKEN, Harness, P
from tests.unit.risk.harness import make_signal, order_update, position_snapshot, working_order


async def test_the_stop_is_stored_fired_before_its_one_exit_leaves() -> None:
    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))

    assert await h.tick("995.00") == []
    [exit_signal] = await h.tick("989.95")

    assert (exit_signal.side, exit_signal.quantity) == (Side.SELL, 10)
    assert (exit_signal.order_type, exit_signal.strategy) == (OrderType.MARKET, "manual")
    assert exit_signal.product is Product.MIS  # no fill seen: the configured default
    assert exit_signal.reason == "stop-loss 990.00 crossed at 989.95"
    [stored] = await h.store.list_protections(P)
    assert (stored.fired, stored.exit_signal_id) == (STOP_LOSS, exit_signal.signal_id)
    for price in ("989.95", "980.00", "1000.00", "970.00"):
        assert await h.tick(price) == []


async def test_a_retried_tick_repeats_the_same_exit_and_a_new_one_does_not() -> None:
    h = await Harness.holding(-4)  # a short: the stop is above
    await h.protect(stop_pct=Decimal(1))  # 1010.00
    crossing = h.tick_event("1010.00")

    [first] = [d for d in await h.send(crossing) if isinstance(d, Signal)]
    [again] = [d for d in await h.send(crossing) if isinstance(d, Signal)]  # redelivered

    assert (first.side, first.quantity) == (Side.BUY, 4)
    assert again == first  # same signal id: execution's outbox takes it once
    assert await h.tick("1010.00") == []


async def test_a_restart_restores_armed_and_fired_protections() -> None:
    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))
    h = await h.restart()
    [signal] = await h.tick("985.00")  # armed before the restart: fires after
    await h.store.insert_order(working_order(signal))

    h = await h.restart()
    assert await h.tick("980.00") == []  # fired and sent before the restart: never again


async def test_an_exit_stored_fired_but_never_sent_goes_out_once_after_a_restart() -> None:
    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))
    [lost] = await h.tick("985.00")  # the process ends before risk saw it: no order

    h = await h.restart()
    [again] = await h.tick("986.00")
    assert await h.tick("984.00") == []

    assert again.signal_id == lost.signal_id  # same client order id: the outbox takes one
    assert (again.side, again.quantity) == (Side.SELL, 10)


async def test_a_flipped_or_closed_position_drops_its_protection() -> None:
    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))
    await h.position(6)  # partly sold: still protected, for what is left
    [signal] = await h.tick("989.00")
    assert signal.quantity == 6

    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))
    [removed] = [d for d in await h.position(-5) if isinstance(d, ProtectionState)]

    assert (removed.removed, removed.reason) == (True, "position flipped")
    assert await h.store.list_protections(P) == []
    assert await h.tick("1020.00") == []  # a short's stop would be above: none is kept


async def test_a_trailing_stop_follows_the_best_price_and_is_stored_as_it_tightens() -> None:
    h = await Harness.holding(10)
    await h.tick("1000.00")
    await h.protect(trail_amount=Decimal("10"))

    for price in ("1005.00", "1020.00", "1012.00"):
        assert await h.tick(price) == []
    [stored] = await h.store.list_protections(P)
    assert stored.best_price == Decimal("1020.00")  # a restart keeps the tightened stop

    h = await h.restart()
    [signal] = await h.tick("1010.00")
    assert signal.reason == f"{TRAILING_STOP} 1010.00 crossed at 1010.00"


async def test_halted_keeps_it_armed_and_it_fires_after_the_resume() -> None:
    h = await Harness.holding(10)
    await h.protect(target_price=Decimal("1050.00"))
    h.state.set(TradingMode.HALTED, reason="kill switch")

    assert await h.tick("1060.00") == []
    assert (await h.store.list_protections(P))[0].fired == ""

    h.state.set(TradingMode.ACTIVE)
    assert len(await h.tick("1055.00")) == 1


async def test_a_protection_for_a_flat_position_is_refused_with_an_alert() -> None:
    h = await Harness.holding(0)

    [alert] = await h.protect(stop_price=Decimal("990.00"))

    assert isinstance(alert, RiskAlert)
    assert (
        alert.message == "protection for NSE:RELIANCE (manual) not set: no open position to protect"
    )
    assert await h.store.list_protections(P) == []


async def test_clear_removes_it_and_ticks_of_other_instruments_cost_nothing() -> None:
    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))
    other = new_event(
        EventType.MARKET_TICK,
        Tick(instrument_token=1, symbol="NSE:X", last_price=Decimal(1), exchange_ts=h.ts),
        source="feed",
    )
    assert h.service.handle_now(other)  # handled inline: nothing to check

    command = ProtectionCommand(broker=P, strategy="manual", instrument_token=TOKEN, clear=True)
    await h.send(new_event(EventType.PROTECTION_COMMAND, command, source="ops", broker=P))

    assert await h.store.list_protections(P) == []
    assert await h.tick("900.00") == []


async def test_an_exit_refused_by_risk_or_rejected_by_the_venue_raises_a_critical_alert() -> None:
    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))
    [exit_signal] = await h.tick("985.00")
    refusal = RejectedSignal(signal=exit_signal, rule="market_hours", reason="market closed")

    [alert] = await h.send(new_event(EventType.SIGNAL_REJECTED, refusal, source="risk", broker=P))

    assert isinstance(alert, RiskAlert) and alert.severity is Severity.CRITICAL
    assert alert.message == (
        "stop-loss exit for NSE:RELIANCE (manual) refused by risk (market_hours): market "
        "closed; the position is no longer protected"
    )
    assert await h.tick("980.00") == []  # not sent again: a refusal cannot loop

    h = await Harness.holding(10)
    await h.protect(target_price=Decimal("1010.00"))
    [exit_signal] = await h.tick("1011.00")
    rejected = order_update(exit_signal, OrderStatus.REJECTED, reason="insufficient holdings")

    [alert] = await h.send(new_event(EventType.ORDER_REJECTED, rejected, source="exec", broker=P))

    assert isinstance(alert, RiskAlert)
    assert alert.message == (
        "target exit for NSE:RELIANCE (manual) rejected by the venue: insufficient holdings; "
        "the position is no longer protected"
    )


async def test_position_and_fill_events_that_end_nothing_are_kept_inline() -> None:
    """Most position and order events only update the book, on the processor's inline path
    (no handler call); the exit they shape is the one ``handle`` alone would send."""
    h = await Harness.holding(10)
    await h.protect(stop_price=Decimal("990.00"))
    grown = new_event(
        EventType.POSITION_UPDATED,
        position_snapshot(15, "1000.00", "manual", TOKEN),
        source="portfolio",
        broker=P,
    )
    bought = make_signal(strategy="manual", instrument_token=TOKEN, product=Product.CNC)
    filled = new_event(
        EventType.ORDER_FILLED,
        order_update(bought, OrderStatus.FILLED, filled=5),
        source="exec",
        broker=P,
    )

    assert h.service.handle_now(grown) and h.service.handle_now(filled)
    [exit_signal] = await h.tick("989.00")
    assert (exit_signal.quantity, exit_signal.product) == (15, Product.CNC)

    closed = new_event(
        EventType.POSITION_UPDATED,
        position_snapshot(0, "0", "manual", TOKEN),
        source="portfolio",
        broker=P,
    )
    assert not h.service.handle_now(closed)  # it ends the protection: stored and emitted
