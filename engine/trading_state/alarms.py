"""The alert a trader sees when trading changes globally without them: built here once.

Risk's automatic halts, resumes and reductions and the system's own halts (token
expired, feed stale) all read ``Trading {HALTED|resumed|REDUCING} on {broker}: {why}``.
"""

from __future__ import annotations

from engine.events.payloads import RiskAlert
from engine.events.types import Broker, Severity


def global_change_alert(
    broker: Broker, *, word: str, severity: Severity, rule: str, reason: str, ts_ns: int
) -> RiskAlert:
    """``Trading {word} on {broker}: {reason}``, raised by ``rule``."""
    return RiskAlert(
        severity=severity,
        rule=rule,
        message=f"Trading {word} on {broker.value}: {reason}",
        broker=broker,
        alert_ts=ts_ns,
    )


def auto_halt_alert(broker: Broker, *, rule: str, reason: str, ts_ns: int) -> RiskAlert:
    """The CRITICAL alarm of an automatic halt of all trading on ``broker``."""
    return global_change_alert(
        broker, word="HALTED", severity=Severity.CRITICAL, rule=rule, reason=reason, ts_ns=ts_ns
    )
