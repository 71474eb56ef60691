"""Alert payloads and the automatic-halt path, so every halt reads and behaves the same.

An automatic halt is applied to the shared ``TradingState`` at once (enforced before the
bus round-trip) and announced as a ControlCommand, which the trading-state service of
every process applies, persists and audits.
"""

from __future__ import annotations

from engine.domain.projection import project
from engine.domain.records import RiskAlertRecord
from engine.events import topics
from engine.events.payloads import ControlCommand, RejectedSignal, RiskAlert, Signal
from engine.events.types import Broker, ControlAction, EventType, Severity, TradingMode
from engine.processing.emitter import Emitter
from engine.trading_state.alarms import global_change_alert
from engine.trading_state.state import GLOBAL_SCOPE, TradingState

RISK_OPERATOR = "risk"
# A daily-loss halt names its trading day, so any process (or a restarted one) can tell
# from the stored state alone that the halt belongs to a past session and may lift.
_LOSS_HALT = "daily loss limit breached on "
_ISO_DAY = len("2024-01-01")


def loss_halt_reason(day: str, detail: str) -> str:
    """The reason of a daily-loss halt on trading ``day`` (ISO; "" when unknown)."""
    if not day:
        return f"daily loss limit breached: {detail}"
    return f"{_LOSS_HALT}{day}: {detail}; it lifts at the next session"


def loss_halt_day(reason: str) -> str | None:
    """The trading day a daily-loss halt reason names, or None for any other reason."""
    if not reason.startswith(_LOSS_HALT):
        return None
    return reason[len(_LOSS_HALT) : len(_LOSS_HALT) + _ISO_DAY]


def rejection_alert(signal: Signal, rule: str, reason: str, broker: Broker) -> RiskAlert:
    """A WARNING naming what was refused and why, with the numbers."""
    what = f"{signal.side.value} {signal.quantity} {signal.symbol}"
    return RiskAlert(
        severity=Severity.WARNING,
        rule=rule,
        message=f"Rejected {what} from {signal.strategy}: {rule}: {reason}",
        broker=broker,
        strategy=signal.strategy,
        symbol=signal.symbol,
        alert_ts=signal.signal_ts,
    )


def alert_record(alert: RiskAlert) -> RiskAlertRecord:
    return project(RiskAlertRecord, alert)


def refusal_record(alert: RiskAlert, rejected: RejectedSignal) -> RiskAlertRecord:
    """The refusal's alert with what it refused, so the books list it after a restart."""
    signal = rejected.signal
    return project(
        RiskAlertRecord,
        alert,
        signal_id=signal.signal_id,
        side=signal.side,
        quantity=signal.quantity,
        price=signal.limit_price,
        reason=rejected.reason,
    )


# What each automatic global change sets, how loud its alert is and the word it uses.
_GLOBAL_CHANGES: dict[ControlAction, tuple[TradingMode, Severity, str]] = {
    ControlAction.HALT: (TradingMode.HALTED, Severity.CRITICAL, "HALTED"),
    ControlAction.RESUME: (TradingMode.ACTIVE, Severity.INFO, "resumed"),
    ControlAction.REDUCE: (TradingMode.REDUCING, Severity.WARNING, "REDUCING"),
}


def _emit_global_change(
    out: Emitter, trading: TradingState, command: ControlCommand, *, rule: str, ts_ns: int
) -> RiskAlert:
    """Apply ``command``'s mode globally here now, send it to every process and tell the
    operator (``Trading {word} on {broker}: {reason}``)."""
    mode, severity, word = _GLOBAL_CHANGES[command.action]
    trading.set(mode, GLOBAL_SCOPE, reason=command.reason, operator=command.operator, ts_ns=ts_ns)
    broker = trading.broker
    out.emit(
        topics.CONTROL_COMMANDS, EventType.CONTROL_COMMAND, command, key=broker.value, broker=broker
    )
    alert = global_change_alert(
        broker, word=word, severity=severity, rule=rule, reason=command.reason, ts_ns=ts_ns
    )
    out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, key=broker.value, broker=broker)
    return alert


def emit_auto_halt(
    out: Emitter,
    trading: TradingState,
    *,
    rule: str,
    reason: str,
    ts_ns: int,
    operator: str = RISK_OPERATOR,
) -> RiskAlert:
    """Halt all trading on this broker now, and tell every process and the operator."""
    command = ControlCommand(
        action=ControlAction.HALT, strategy=None, operator=operator, reason=reason
    )
    return _emit_global_change(out, trading, command, rule=rule, ts_ns=ts_ns)


def emit_auto_resume(
    out: Emitter,
    trading: TradingState,
    *,
    rule: str,
    reason: str,
    lifts: str,
    ts_ns: int,
    operator: str = RISK_OPERATOR,
) -> RiskAlert:
    """Lift risk's own global halt (reason ``lifts``) now, and tell every process.

    Applied here at once, like the halt, so a backtest resumes on the same tick however
    fast the bus is; elsewhere the command applies only while that halt still stands.
    """
    command = ControlCommand(
        action=ControlAction.RESUME, operator=operator, reason=reason, if_reason=lifts
    )
    return _emit_global_change(out, trading, command, rule=rule, ts_ns=ts_ns)


def emit_auto_reduce(
    out: Emitter,
    trading: TradingState,
    *,
    reason: str,
    after: str,
    ts_ns: int,
    operator: str = RISK_OPERATOR,
) -> RiskAlert:
    """Turn an operator's resume into REDUCING while today's loss halt holds.

    The header then says what risk enforces: exits pass, entries wait for the next
    session. Elsewhere the command applies only while the resume (reason ``after``)
    still stands, so a kill pressed meanwhile is never softened.
    """
    command = ControlCommand(
        action=ControlAction.REDUCE, operator=operator, reason=reason, if_reason=after
    )
    return _emit_global_change(out, trading, command, rule="daily_loss", ts_ns=ts_ns)


def resume_note(halt_reason: str, today: str, day_pnl: str | None) -> str | None:
    """What the resume dialog adds while today's daily-loss halt holds (None otherwise).

    ``day_pnl`` is today's P&L as shown (e.g. ``₹-2,345.00``), when known.
    """
    halted_on = loss_halt_day(halt_reason)
    if halted_on is None or (today and halted_on < today):
        return None
    now = f" (day P&L now {day_pnl})" if day_pnl else ""
    return (
        f"The daily loss limit is still breached for {halted_on}{now}. Resuming allows only "
        "orders that reduce a position (exits): trading will be REDUCING until the next "
        "session, when new entries are allowed again."
    )
