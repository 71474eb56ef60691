"""The alert book's start-up picture from the store: the day's alerts, with the CRITICAL
ones nobody acknowledged before the stop pinned again.

The embedded console's bus starts empty, so without this a restart after an automatic
halt showed no alert at all, and the reason trading stopped was lost. Which alerts were
read is judged from the ``alerts.acknowledge`` audit rows (``acknowledgement_detail``
says what such a row records) through the book's own ``acknowledged`` map, the one an
attached console fills from the read-model cache: the pinning rule stays the book's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from engine.domain.projection import project
from engine.domain.records import AuditRecord, RiskAlertRecord
from engine.events.payloads import RiskAlert
from engine.events.types import Broker, Severity
from engine.market.sessions import TradingDays
from engine.read_model.alerts import AlertKey, AlertLine, alert_key
from engine.read_model.model import ReadModel

log = logging.getLogger("alphapanda.read_model")

ACKNOWLEDGE = "alerts.acknowledge"  # the audit action of the console's acknowledge key
SEED_ALERTS = 500  # the newest alerts read for the panel (it keeps fewer lines)
SEED_PINNED = 200  # the day's CRITICAL alerts read, whatever flood of refusals followed
_AUDIT_PAGE = 50
_AUDIT_PAGES = 40  # at most 2,000 acknowledgements read in a day


@runtime_checkable
class AlertSource(Protocol):
    """What the alert book reads from the store at start (``TradingStore`` has it)."""

    async def list_alerts(self, limit: int = 100) -> list[RiskAlertRecord]: ...

    async def list_audit_after(
        self, after_ts: int, action_prefix: str, limit: int = 50
    ) -> list[AuditRecord]: ...


@runtime_checkable
class SeverityAlertSource(Protocol):
    """A store that finds the day's CRITICAL alerts behind thousands of newer refusals."""

    async def list_alerts_since(
        self, since_ts: int, severity: Severity, limit: int = 200
    ) -> list[RiskAlertRecord]: ...


def acknowledgement_detail(lines: Sequence[AlertLine]) -> dict[str, object]:
    """The audit detail of an acknowledgement: the words a reader sees ("alerts", "count")
    and each line's key and source time ("lines"), so a restart tells a read alert from
    a later one of the same line (see ``acknowledged_by``)."""
    return {
        "alerts": [f"{line.alert.rule}: {line.alert.message}" for line in lines],
        "count": sum(line.count for line in lines),
        "lines": [{"key": list(alert_key(line.alert)), "ts": line.source_ts} for line in lines],
    }


def acknowledged_by(
    rows: Iterable[AuditRecord], alerts: Sequence[RiskAlert], broker: Broker
) -> dict[AlertKey, int]:
    """Per line, the newest source time the acknowledgement rows cover (the book's
    ``acknowledged`` map). A row recorded before the lines were kept names only the
    words: it covers each CRITICAL alert with those words stamped at or before it."""
    acknowledged: dict[AlertKey, int] = {}

    def note(key: AlertKey, ts: int) -> None:
        acknowledged[key] = max(acknowledged.get(key, -1), ts)

    for row in rows:
        detail = row.detail
        if detail.get("broker", broker.value) != broker.value:
            continue
        lines = detail.get("lines")
        if isinstance(lines, list):
            for line in lines:
                key = _key(line.get("key")) if isinstance(line, dict) else None
                if key is not None:
                    note(key, int(line.get("ts", 0)))
            continue
        words = detail.get("alerts")
        texts = set(words) if isinstance(words, list) else set()
        for alert in alerts:
            read = f"{alert.rule}: {alert.message}" in texts
            if read and alert.severity is Severity.CRITICAL and alert.alert_ts <= row.audit_ts:
                note(alert_key(alert), alert.alert_ts)
    return acknowledged


async def seed_alerts(
    model: ReadModel, source: AlertSource, broker: Broker, days: TradingDays | None = None
) -> None:
    """Draw the current trading day's alerts into the book, the unread CRITICAL pinned.

    The day is the run's (on a simulated market the event time the store seed left, else
    the wall clock; before any, the newest stored alert's). Applied before the bus is
    read, after ``seed_read_model`` (which sets the simulated clock)."""
    days = days or TradingDays(model.clock.calendar)
    newest = [a for a in await source.list_alerts(limit=SEED_ALERTS) if _ours(a, broker)]
    now = model.run_now_ns(model.wall_ns())
    if now is None:
        if not newest:
            return
        now = max(a.alert_ts for a in newest)
    start = days.window(now).start_ns
    if isinstance(source, SeverityAlertSource):
        found = await source.list_alerts_since(start, Severity.CRITICAL, SEED_PINNED)
        critical = [a for a in found if _ours(a, broker)]
    else:
        critical = [a for a in newest if a.severity is Severity.CRITICAL]
    stored = {_identity(a): a for a in [*newest, *critical] if a.alert_ts >= start}
    alerts = [project(RiskAlert, a) for a in sorted(stored.values(), key=lambda a: a.alert_ts)]
    if not alerts:
        return
    rows = await _acknowledgements(source, start)
    model.alert_book.acknowledged.update(acknowledged_by(rows, alerts, broker))  # first
    for alert in alerts:  # oldest first: the newest ends on top, as they came
        model.apply_alert(alert)
    log.info(
        "alerts seeded from the store",
        extra={"alerts": len(alerts), "pinned": len(model.alert_book.pinned)},
    )


def _key(value: object) -> AlertKey | None:
    """A line's key as an acknowledgement row keeps it (its six words), or None."""
    if not isinstance(value, list) or len(value) != 6:
        return None
    if not all(isinstance(part, str) for part in value):
        return None
    severity, broker, rule, strategy, symbol, message = value
    return (severity, broker, rule, strategy, symbol, message)


def _ours(alert: RiskAlertRecord, broker: Broker) -> bool:
    return alert.broker is None or alert.broker is broker


def _identity(alert: RiskAlertRecord) -> tuple[object, ...]:
    """One stored alert read by both queries counts once."""
    return (
        alert.alert_ts,
        alert.rule,
        alert.message,
        alert.strategy,
        alert.symbol,
        alert.signal_id,
    )


async def _acknowledgements(source: AlertSource, start_ns: int) -> list[AuditRecord]:
    """The day's acknowledgement rows, oldest first (the query pages by time)."""
    rows: list[AuditRecord] = []
    after = start_ns - 1
    for _ in range(_AUDIT_PAGES):
        page = await source.list_audit_after(after, ACKNOWLEDGE, limit=_AUDIT_PAGE)
        rows.extend(row for row in page if row.action == ACKNOWLEDGE)
        if len(page) < _AUDIT_PAGE:
            break
        after = page[-1].audit_ts
    return rows
