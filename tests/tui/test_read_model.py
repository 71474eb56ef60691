"""ReadModel and ReadModelProcessor: what the console will show after real events."""

from __future__ import annotations

from decimal import Decimal

from engine.events import topics
from engine.events.payloads import RiskAlert, TradingStateChanged
from engine.events.types import Broker, EventType, OrderStatus, Severity, TradingMode
from engine.read_model import ReadModel, StrategyInfo
from engine.read_model.model import FEED, POSITIONS
from tests.tui.harness import BusHarness, order, position, seed, tick


def test_tick_marks_held_position_to_market() -> None:
    model = ReadModel()
    model.apply_position(position("momentum", 1, "NSE:INFY", 10, "100.00"))
    model.apply_tick(tick(1, "NSE:INFY", "104.50", close="101.00"))
    (view,) = model.position_views()
    assert view.last_price == Decimal("104.50")
    assert view.unrealized_pnl == Decimal("45.00")
    assert view.day_change == Decimal("3.50")


def test_tick_of_unheld_instrument_does_not_touch_positions() -> None:
    model = ReadModel()
    model.apply_position(position("momentum", 1, "NSE:INFY", 10, "100.00"))
    before = model.sections[POSITIONS]
    model.apply_tick(tick(2, "NSE:TCS", "3500.00"))
    assert model.sections[POSITIONS] == before
    assert model.sections[FEED] == 1
    assert model.ltp[2] == Decimal("3500.00")


def test_orders_keep_working_and_newest_finished_only() -> None:
    model = ReadModel(max_terminal_orders=2)
    model.apply_order(order("open", "NSE:SBIN", OrderStatus.OPEN, at=0))
    for index in range(4):
        model.apply_order(order(f"done-{index}", "NSE:INFY", OrderStatus.FILLED, at=index + 1))
    assert [o.client_order_id for o in model.order_rows()] == ["open", "done-3", "done-2"]


def test_late_older_order_update_is_ignored() -> None:
    model = ReadModel()
    model.apply_order(order("a", "NSE:SBIN", OrderStatus.FILLED, filled=10, at=5))
    model.apply_order(order("a", "NSE:SBIN", OrderStatus.OPEN, at=1))
    assert model.orders["a"].status is OrderStatus.FILLED


def test_alerts_newest_first_and_bounded() -> None:
    model = ReadModel(max_alerts=3)
    for index in range(5):
        model.apply_alert(RiskAlert(severity=Severity.INFO, rule=f"r{index}", message="m"))
    assert [a.rule for a in model.alerts] == ["r4", "r3", "r2"]


def test_strategy_halt_is_effective_and_global_halt_wins() -> None:
    model = ReadModel()
    model.set_strategies([StrategyInfo("momentum"), StrategyInfo("mean_revert")])
    model.apply_trading_state(
        TradingStateChanged(scope="momentum", mode=TradingMode.HALTED, previous=TradingMode.ACTIVE)
    )
    assert model.strategies["momentum"].state is TradingMode.HALTED
    assert model.effective_state("mean_revert") is TradingMode.ACTIVE
    model.set_trading_state("global", TradingMode.REDUCING)
    assert model.effective_state("mean_revert") is TradingMode.REDUCING
    assert model.effective_state("momentum") is TradingMode.HALTED


async def test_processor_fills_model_from_the_bus_and_ignores_other_broker() -> None:
    harness = BusHarness()
    await harness.start()
    try:
        await seed(harness)
        zerodha_alert = RiskAlert(severity=Severity.CRITICAL, rule="other", message="live only")
        harness.broker = Broker.ZERODHA  # publish one alert stamped for the other venue
        await harness.publish(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, zerodha_alert)
        harness.broker = Broker.PAPER
        await harness.drained()
        model = harness.read_model
        assert len(model.positions) == 3
        assert model.ltp[408065] == Decimal("1512.40")
        assert [a.rule for a in model.alerts] == ["max_position_value"]
        assert model.pnl is not None and model.pnl.equity == Decimal("1000310")
        assert list(model.equity_history) == [1000000.0, 1000450.0, 1000120.0, 1000310.0]
        assert model.components["execution.paper"].dlq_count == 2
        assert [o.client_order_id for o in model.open_orders()] == ["ord-2"]
    finally:
        await harness.stop()


async def test_kill_through_the_engine_reaches_the_model() -> None:
    harness = BusHarness()
    await harness.start()
    try:
        await harness.controls.kill(operator="tester")
        assert harness.trading_state.scope_mode() is TradingMode.HALTED
        await harness.drained()
        assert harness.read_model.global_state is TradingMode.HALTED
        assert harness.read_model.alerts[0].rule == "kill_switch"
    finally:
        await harness.stop()
