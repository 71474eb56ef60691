"""The day's CRITICAL alerts, found behind any number of newer refusals, on SQLite and
PostgreSQL (and the memory store, which honours the same contract): what a restarted
console pins again."""

from __future__ import annotations

from engine.domain.records import RiskAlertRecord
from engine.events.types import Broker, Severity
from engine.memory_store import MemoryTradingStore
from storage.store import SqlTradingStore

T0 = 1_767_225_600_000_000_000
S = 1_000_000_000
Store = SqlTradingStore | MemoryTradingStore


def alert(severity: Severity, ts: int, rule: str = "daily_loss") -> RiskAlertRecord:
    return RiskAlertRecord(
        severity=severity, rule=rule, message=f"{rule} at {ts}", broker=Broker.PAPER, alert_ts=ts
    )


async def test_the_critical_alerts_since_a_time_newest_first(store: SqlTradingStore) -> None:
    await _critical_since(store)


async def test_the_memory_store_finds_the_same() -> None:
    await _critical_since(MemoryTradingStore())


async def _critical_since(store: Store) -> None:
    yesterday = alert(Severity.CRITICAL, T0 - 3600 * S)
    halt, kill = alert(Severity.CRITICAL, T0), alert(Severity.CRITICAL, T0 + S, "kill_switch")
    for record in (yesterday, halt, kill, *(alert(Severity.WARNING, T0 + i * S) for i in range(5))):
        await store.add_alert(record)
    assert await store.list_alerts_since(T0, Severity.CRITICAL) == [kill, halt]
    assert await store.list_alerts_since(T0, Severity.CRITICAL, limit=1) == [kill]
    assert len(await store.list_alerts_since(T0, Severity.WARNING)) == 5
