"""A daily-loss halt holds for the day: an operator's resume gives REDUCING, said as such."""

from __future__ import annotations

from engine.clock import NS_PER_S
from engine.events.types import ControlAction, Side, TradingMode
from engine.risk.alerts import loss_halt_day, loss_halt_reason, resume_note
from engine.trading_state.state import GLOBAL_SCOPE
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import MON_10AM
from tests.unit.risk.test_daily_loss_days import LIMIT, TUE_10AM, day_snapshot


async def _halted_then_resumed(start_risk: StartRisk):  # type: ignore[no-untyped-def]
    risk = await start_risk(LIMIT)
    await risk.tick("100", ts=MON_10AM)
    await risk.position(net=10, average="100")
    await risk.publish_pnl(day_snapshot("2024-06-03", "-6000"))
    assert risk.trading.effective() is TradingMode.HALTED
    # what the trading-state service does with the operator's RESUME
    risk.trading.set(TradingMode.ACTIVE, reason="", operator="desk", ts_ns=MON_10AM + 1)
    await risk.tick("100", ts=MON_10AM + NS_PER_S)
    return risk


async def test_a_resume_the_same_day_becomes_reducing_with_the_reason(
    start_risk: StartRisk,
) -> None:
    risk = await _halted_then_resumed(start_risk)

    record = risk.trading.record(GLOBAL_SCOPE)
    assert record is not None and record.mode is TradingMode.REDUCING
    assert loss_halt_day(record.reason) == "2024-06-03"
    assert "still breached after the resume" in record.reason
    assert "only orders that reduce a position" in record.reason
    seen = await risk.drain()
    reduce = [c for c in seen.controls if c.action is ControlAction.REDUCE]
    assert len(reduce) == 1 and reduce[0].if_reason == ""  # only over that resume
    assert any(a.message.startswith("Trading REDUCING on paper") for a in seen.alerts)


async def test_while_reducing_an_exit_passes_and_an_entry_is_refused(
    start_risk: StartRisk,
) -> None:
    risk = await _halted_then_resumed(start_risk)
    ts = MON_10AM + 2 * NS_PER_S

    exit_ = await risk.submit(side=Side.SELL, quantity=10, signal_ts=ts)
    entry = await risk.submit(side=Side.BUY, quantity=10, signal_ts=ts)

    assert exit_.accepted
    assert entry.rule == "trading_state" and "REDUCING" in (entry.reason or "")


async def test_the_reducing_lifts_at_the_next_session(start_risk: StartRisk) -> None:
    risk = await _halted_then_resumed(start_risk)

    await risk.tick("100", ts=TUE_10AM)

    assert risk.trading.effective() is TradingMode.ACTIVE
    assert (await risk.submit(signal_ts=TUE_10AM + NS_PER_S)).accepted


async def test_a_kill_after_the_resume_is_not_softened(start_risk: StartRisk) -> None:
    risk = await _halted_then_resumed(start_risk)
    risk.trading.set(TradingMode.HALTED, reason="kill switch", operator="desk")

    await risk.tick("100", ts=MON_10AM + 3 * NS_PER_S)

    assert risk.trading.effective() is TradingMode.HALTED


def test_the_resume_dialog_says_the_limit_is_still_breached_and_what_resuming_allows() -> None:
    halt = loss_halt_reason("2024-06-03", "day P&L ₹-6,000.00 vs limit -₹5,000.00")

    note = resume_note(halt, "2024-06-03", "₹-6,000.00")

    assert note is not None
    assert "still breached for 2024-06-03 (day P&L now ₹-6,000.00)" in note
    assert "only orders that reduce a position (exits)" in note and "REDUCING" in note
    assert resume_note(halt, "2024-06-04", None) is None  # a past day's halt: lifts anyway
    assert resume_note("kill switch", "2024-06-03", None) is None
