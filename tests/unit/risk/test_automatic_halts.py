"""Daily loss and repeated broker rejections halt trading; alerts say why in words."""

from __future__ import annotations

from decimal import Decimal

from engine.events.types import ControlAction, OrderStatus, Severity, Side, TradingMode
from engine.memory_store import MemoryTradingStore
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import BROKER, limits, make_signal


async def test_daily_loss_breach_halts_at_once_and_tells_everyone(start_risk: StartRisk) -> None:
    store = MemoryTradingStore()
    risk = await start_risk(limits(max_daily_loss=Decimal("5000")), store=store)

    await risk.pnl(realized="-3000", unrealized="-1900", charges="99")  # -4,999: inside
    assert risk.trading.effective() is TradingMode.ACTIVE
    await risk.pnl(realized="-3000", unrealized="-1900", charges="100")  # -5,000: breach

    assert risk.trading.effective() is TradingMode.HALTED
    seen = await risk.drain()
    assert [c.action for c in seen.controls] == [ControlAction.HALT]
    assert seen.controls[0].strategy is None and seen.controls[0].operator == "risk"
    assert "daily loss limit" in seen.controls[0].reason
    critical = [a for a in seen.alerts if a.severity is Severity.CRITICAL]
    assert len(critical) == 1 and "₹-5,000.00" in critical[0].message
    assert [a.rule for a in store.alerts] == ["daily_loss"]


async def test_daily_loss_halts_once_per_breach_not_per_snapshot(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_daily_loss=Decimal("5000")))

    await risk.pnl(realized="-6000", unrealized="0")
    await risk.pnl(realized="-6100", unrealized="0")

    assert len((await risk.drain()).controls) == 1


async def test_after_a_loss_breach_only_reducing_orders_pass(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_daily_loss=Decimal("5000")))
    await risk.position(net=10, average="100")
    await risk.pnl(realized="-6000", unrealized="0")
    risk.trading.set(TradingMode.ACTIVE, reason="operator resumed")

    opening = await risk.submit(side=Side.BUY)
    closing = await risk.submit(side=Side.SELL, quantity=10)

    assert opening.rule == "daily_loss" and "₹5,000.00" in opening.reason
    assert closing.accepted


async def test_repeated_broker_rejections_halt_trading(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_consecutive_rejections=3))
    signals = [make_signal() for _ in range(4)]
    for signal in signals:
        await risk.send(signal)
        assert (await risk.verdict(signal)).accepted

    await risk.order_event(signals[0], OrderStatus.REJECTED, reason="margin")
    await risk.order_event(signals[1], OrderStatus.REJECTED, reason="margin")
    await risk.order_event(signals[2], OrderStatus.OPEN)  # an acceptance breaks the run
    await risk.order_event(signals[3], OrderStatus.REJECTED, reason="margin")
    assert risk.trading.effective() is TradingMode.ACTIVE

    for _ in range(2):
        extra = make_signal()
        await risk.send(extra)
        await risk.verdict(extra)
        await risk.order_event(extra, OrderStatus.REJECTED, reason="Insufficient funds")

    assert risk.trading.effective() is TradingMode.HALTED
    seen = await risk.drain()
    assert [c.action for c in seen.controls] == [ControlAction.HALT]
    assert "3 orders in a row rejected" in seen.controls[0].reason
    assert "Insufficient funds" in seen.controls[0].reason


async def test_rejection_alert_names_symbol_strategy_rule_and_numbers(
    start_risk: StartRisk,
) -> None:
    store = MemoryTradingStore()
    risk = await start_risk(limits(max_order_quantity=100), store=store)

    await risk.submit(strategy="ema_cross", quantity=500, price="1580.25", signal_id="sig-500")

    alert = (await risk.drain()).alerts[0]
    assert alert.severity is Severity.WARNING
    assert alert.message == (
        "Rejected BUY 500 NSE:INFY from ema_cross: max_order_quantity: "
        "quantity 500 exceeds the per-order limit of 100"
    )
    assert (alert.strategy, alert.symbol, alert.rule) == ("ema_cross", "NSE:INFY", alert.rule)
    assert store.alerts[0].message == alert.message
    # stored with what it refused: the orders book lists it after a restart
    (stored,) = await store.list_refusals(BROKER)
    assert (stored.signal_id, stored.side, stored.quantity) == ("sig-500", Side.BUY, 500)
    assert stored.price == Decimal("1580.25")
    assert stored.reason == "quantity 500 exceeds the per-order limit of 100"


async def test_the_loss_halt_reason_puts_the_limit_beside_the_day_pnl(
    start_risk: StartRisk,
) -> None:
    """Seen in the console: the header's reason line at 120 columns read '(daily loss limit
    breached on 2026-12-08: day P&L ₹-178.23 (realized ₹66.85, unrealized ₹14.50, charges
    ₹259.58) vs lim…': the limit, the figure the P&L is compared with, was cut off."""
    risk = await start_risk(limits(max_daily_loss=Decimal("5000")))

    await risk.pnl(realized="-3000", unrealized="-1900", charges="100")

    [halt] = (await risk.drain()).controls
    detail = halt.reason.split(": ", 1)[1]
    assert detail.startswith(
        "day P&L ₹-5,000.00 vs limit -₹5,000.00 "
        "(realized ₹-3,000.00, unrealized ₹-1,900.00, charges ₹100.00)"
    ), halt.reason
