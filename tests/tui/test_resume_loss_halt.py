"""The resume dialog after a daily-loss halt says the limit is still breached and what
resuming allows (REDUCING: exits only, until the next session)."""

from __future__ import annotations

from engine.events.types import TradingMode
from engine.read_model import GLOBAL_SCOPE
from engine.risk.alerts import loss_halt_reason
from screens.confirm import ConfirmScreen
from tests.tui.conftest import Console
from tests.unit.risk.test_daily_loss_days import day_snapshot


async def test_the_resume_dialog_after_a_loss_halt_tells_what_resuming_allows(
    console: Console,
) -> None:
    model = console.app.handle.read_model
    reason = loss_halt_reason("2024-06-03", "day P&L ₹-6,000.00 vs limit -₹5,000.00")
    model.set_trading_state(GLOBAL_SCOPE, TradingMode.HALTED, reason)
    model.pnl = day_snapshot("2024-06-03", "-6000")

    await console.pilot.press("r")

    screen = console.app.screen
    assert isinstance(screen, ConfirmScreen)
    assert "still breached for 2024-06-03 (day P&L now ₹-6,000.00)" in screen.question
    assert "only orders that reduce a position (exits)" in screen.question
    assert "REDUCING until the next session" in screen.question


async def test_after_an_operator_halt_the_dialog_asks_plainly(console: Console) -> None:
    model = console.app.handle.read_model
    model.set_trading_state(GLOBAL_SCOPE, TradingMode.HALTED, "kill switch")

    await console.pilot.press("r")

    screen = console.app.screen
    assert isinstance(screen, ConfirmScreen)
    assert screen.question == "Trading is HALTED. Resume sending new orders?"
