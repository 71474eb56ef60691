"""The alert a trader sees when trading changes globally without them: built here once.

Risk's automatic halts, resumes and reductions and the system's own halts (token
expired, feed stale) all read ``Trading {HALTED|resumed|REDUCING} on {broker}: {why}``.

A CRITICAL alert is also kept in the alerts table (``keep_alarm``), by the one process
that raises it: the console's start-up seed (``engine.read_model.alert_seed``) pins it
again after a restart, so a trader still sees why trading stopped.
"""

from __future__ import annotations

import logging

from engine.bus.base import EventBus
from engine.domain.projection import project
from engine.domain.records import RiskAlertRecord
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import RiskAlert
from engine.events.types import Broker, EventType, Severity

log = logging.getLogger("alphapanda.alarms")


def _opening(word: str) -> str:
    """How a global change's message begins (``is_automatic_halt`` reads it back)."""
    return f"Trading {word} on "


def global_change_alert(
    broker: Broker, *, word: str, severity: Severity, rule: str, reason: str, ts_ns: int
) -> RiskAlert:
    """``Trading {word} on {broker}: {reason}``, raised by ``rule``."""
    return RiskAlert(
        severity=severity,
        rule=rule,
        message=f"{_opening(word)}{broker.value}: {reason}",
        broker=broker,
        alert_ts=ts_ns,
    )


def auto_halt_alert(broker: Broker, *, rule: str, reason: str, ts_ns: int) -> RiskAlert:
    """The CRITICAL alarm of an automatic halt of all trading on ``broker``."""
    return global_change_alert(
        broker, word="HALTED", severity=Severity.CRITICAL, rule=rule, reason=reason, ts_ns=ts_ns
    )


def is_automatic_halt(alert: RiskAlert | RiskAlertRecord) -> bool:
    """An alarm ``auto_halt_alert`` built: trading halted by a rule, not by a person. Other
    CRITICAL alerts are kept too (a held MIS square-off, the kill switch), and a backtest's
    report counts only these as its halts."""
    return alert.severity is Severity.CRITICAL and alert.message.startswith(_opening("HALTED"))


async def keep_alarm(store: object, alert: RiskAlert) -> None:
    """Store ``alert`` when it is CRITICAL and ``store`` keeps alerts (``add_alert``).

    Call it only in the process that raised the alert, once. A failed write is logged,
    not raised: the alarm is on the bus already, only the restart's picture misses it.
    """
    add = getattr(store, "add_alert", None)  # getattr: a store proxy forwards it
    if alert.severity is not Severity.CRITICAL or add is None:
        return
    try:
        await add(project(RiskAlertRecord, alert))
    except Exception as exc:
        log.warning("alarm not stored", extra={"rule": alert.rule, "error": str(exc)})


async def raise_alarm(
    bus: EventBus,
    alert: RiskAlert,
    *,
    source: str,
    key: str,
    store: object,
    ts_ns: int | None = None,
) -> None:
    """Publish ``alert`` on ``system.alerts`` (the envelope stamped ``ts_ns``) and, when
    CRITICAL, keep it in ``store`` (None: this process does not keep alarms)."""
    event = new_event(
        EventType.RISK_ALERT, alert, source=source, key=key, broker=alert.broker, ts_ns=ts_ns
    )
    await bus.publish(topics.SYSTEM_ALERTS, event)
    await keep_alarm(store, alert)
