"""Ports: what the engine needs from storage. ``storage/`` implements them (adapters).

Each method is one transaction. Methods that record an effect also take the
``(group, event_id)`` that caused it and record it as processed in the same
transaction, so a redelivered event is recognised even after a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.domain.records import (
    AuditRecord,
    FillRecord,
    Instrument,
    OrderRecord,
    OrderStepRecord,
    PnlSnapshotRecord,
    PositionRecord,
    RiskAlertRecord,
    StrategyRecord,
    TradingStateRecord,
)
from engine.events.types import Broker, OrderStatus, Severity
from engine.protection.levels import Protection

ProcessedMark = tuple[str, str]  # (consumer group, event id)


class InstrumentRepository(Protocol):
    async def upsert_instruments(self, instruments: Sequence[Instrument]) -> int:
        """Insert or update by ``exchange:tradingsymbol``; returns rows written."""

    async def list_instruments(self, exchange: str | None = None) -> list[Instrument]: ...


class OrderRepository(Protocol):
    async def insert_order(
        self, order: OrderRecord, processed: ProcessedMark | None = None
    ) -> bool:
        """Write an intent to the outbox. False when the client order id already exists."""

    async def update_order(self, order: OrderRecord) -> None:
        """Store the order's new status, fill progress, broker id and reason."""

    async def apply_execution(self, order: OrderRecord, fill: FillRecord | None) -> bool:
        """Update the order and insert its fill (if any) in ONE transaction.

        Execution journals every fill here before emitting it, so a crash never loses a
        fill. False (and nothing written) when the fill's (broker, trade_id) exists.
        """

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    async def list_orders(
        self, broker: Broker, statuses: Sequence[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]:
        """Newest first; ``statuses`` filters (e.g. the working ones)."""

    async def list_order_steps(self, client_order_ids: Sequence[str]) -> list[OrderStepRecord]:
        """Every status those orders moved to, oldest first (each is written with the
        order's row: the outbox write and every update that changed status or fills)."""


class FillRepository(Protocol):
    async def record_fill(
        self, fill: FillRecord, position: PositionRecord, processed: ProcessedMark | None = None
    ) -> bool:
        """Insert the fill and upsert the position atomically. False on a duplicate trade id.

        For fills arriving from outside the execution journal (e.g. reconciliation).
        """

    async def list_fills(self, broker: Broker) -> list[FillRecord]:
        """In journal order (the order they were recorded), not by fill time.

        Replaying them in this order rebuilds exactly the book the live engine had:
        average-cost P&L depends on order, and fill times may repeat or go backwards.
        """


class PositionRepository(Protocol):
    async def upsert_position(self, position: PositionRecord) -> None: ...

    async def list_positions(self, broker: Broker) -> list[PositionRecord]: ...


class SnapshotRepository(Protocol):
    async def add_pnl_snapshot(self, snapshot: PnlSnapshotRecord) -> None: ...

    async def latest_pnl_snapshot(self, broker: Broker) -> PnlSnapshotRecord | None: ...


class AlertRepository(Protocol):
    async def add_alert(self, alert: RiskAlertRecord) -> None: ...

    async def list_alerts(self, limit: int = 100) -> list[RiskAlertRecord]: ...

    async def list_alerts_since(
        self, since_ts: int, severity: Severity, limit: int = 200
    ) -> list[RiskAlertRecord]:
        """Alerts of ``severity`` at or after ``since_ts``, newest first: a restarted
        console pins the day's CRITICAL ones again, however many refusals followed."""

    async def list_refusals(self, broker: Broker, limit: int = 200) -> list[RiskAlertRecord]:
        """The newest alerts that refused a signal (they carry what was refused), newest
        first: the orders book's risk refusals after a restart."""


class TradingStateRepository(Protocol):
    async def save_trading_state(self, state: TradingStateRecord) -> None: ...

    async def load_trading_states(self, broker: Broker) -> list[TradingStateRecord]: ...


class StrategyRepository(Protocol):
    async def upsert_strategy(self, strategy: StrategyRecord) -> None: ...

    async def list_strategies(self, broker: Broker) -> list[StrategyRecord]: ...


class ProcessedEventRepository(Protocol):
    """The persisted dedup window (implements ``engine.processing.DedupStore``)."""

    async def seen(self, group: str, event_id: str) -> bool: ...

    async def mark(self, group: str, event_id: str) -> None: ...

    async def newest_processed_ts(self) -> int | None:
        """When the newest id was recorded (None: none kept); pruning measures age from it."""

    async def prune(self, keep_after_ts: int) -> int:
        """Drop ids older than the window; returns rows removed."""


class AuditRepository(Protocol):
    async def add_audit(self, record: AuditRecord) -> None: ...

    async def list_audit(self, limit: int = 100) -> list[AuditRecord]: ...

    async def list_audit_after(
        self, after_ts: int, action_prefix: str, limit: int = 50
    ) -> list[AuditRecord]:
        """Rows newer than ``after_ts`` whose action starts with ``action_prefix``, oldest
        first: the cheap, indexed query the engine polls for CLI requests at 20 Hz."""


class ProtectionRepository(Protocol):
    """Each position's stop-loss, target and trailing stop (``engine.protection``)."""

    async def save_protection(self, protection: Protection) -> None:
        """Insert or replace the protection of its (broker, strategy, instrument)."""

    async def delete_protection(self, broker: Broker, strategy: str, instrument_token: int) -> None:
        """Forget the protection of that position (nothing when there is none)."""

    async def list_protections(self, broker: Broker) -> list[Protection]: ...


class TradingStore(
    InstrumentRepository,
    OrderRepository,
    FillRepository,
    PositionRepository,
    SnapshotRepository,
    AlertRepository,
    TradingStateRepository,
    StrategyRepository,
    ProcessedEventRepository,
    AuditRepository,
    ProtectionRepository,
    Protocol,
):
    """Everything the engine stores, behind one object with ``aclose()``."""

    async def aclose(self) -> None: ...
