"""``MemoryTradingStore``: the storage port in memory, for unit tests and fast backtests.

It honours the same contracts as the SQL store: unique client order ids, unique
trade ids per broker, fill and position written together, processed ids recorded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

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
    order_step,
)
from engine.events.types import Broker, OrderStatus, Severity
from engine.logs.audit import log_audit
from engine.ports import ProcessedMark
from engine.protection.levels import Protection


def _copy_order(order: OrderRecord) -> OrderRecord:
    """A detached copy, as a database row would be: the caller keeps mutating its own.

    ``__copy__`` is msgspec's shallow copy in C (every field is immutable, so shallow is
    whole), about twenty times cheaper than rebuilding the struct field by field.
    """
    return order.__copy__()  # type: ignore[attr-defined]  # msgspec's stubs omit __copy__


def _copy_position(pos: PositionRecord) -> PositionRecord:
    return pos.__copy__()  # type: ignore[attr-defined]  # msgspec's stubs omit __copy__


class MemoryTradingStore:
    """Implements ``engine.ports.TradingStore``; bounded where a trading day would grow it."""

    def __init__(self, processed_window: int = 200_000, max_alerts: int = 10_000) -> None:
        self.instruments: dict[str, Instrument] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.order_steps: dict[str, list[OrderStepRecord]] = {}
        self.fills: dict[tuple[Broker, str], FillRecord] = {}
        self.positions: dict[tuple[Broker, str, int], PositionRecord] = {}
        self.snapshots: list[PnlSnapshotRecord] = []
        self.alerts: list[RiskAlertRecord] = []
        self.states: dict[tuple[Broker, str], TradingStateRecord] = {}
        self.strategies: dict[tuple[Broker, str], StrategyRecord] = {}
        self.audit: list[AuditRecord] = []
        self.protections: dict[tuple[Broker, str, int], Protection] = {}
        # The processed-id window: a set to look up, a FIFO to forget the oldest. (An
        # OrderedDict did both, but re-laid out its node index as it churned: microseconds
        # per mark, one per order.)
        self._processed: set[tuple[str, str]] = set()
        self._processed_order: deque[tuple[str, str]] = deque()
        self._processed_window = processed_window
        self._max_alerts = max_alerts

    async def aclose(self) -> None:
        return None

    # instruments
    async def upsert_instruments(self, instruments: Sequence[Instrument]) -> int:
        for inst in instruments:
            self.instruments[inst.key] = inst
        return len(instruments)

    async def list_instruments(self, exchange: str | None = None) -> list[Instrument]:
        return [i for i in self.instruments.values() if exchange is None or i.exchange == exchange]

    # orders
    async def insert_order(
        self, order: OrderRecord, processed: ProcessedMark | None = None
    ) -> bool:
        if order.client_order_id in self.orders:
            return False
        self.orders[order.client_order_id] = _copy_order(order)
        self._record_step(order)
        if processed:
            await self.mark(*processed)
        return True

    async def update_order(self, order: OrderRecord) -> None:
        if order.client_order_id not in self.orders:
            raise KeyError(f"unknown client order id {order.client_order_id}")
        self.orders[order.client_order_id] = _copy_order(order)
        self._record_step(order)

    async def apply_execution(self, order: OrderRecord, fill: FillRecord | None) -> bool:
        if fill is not None and (fill.broker, fill.trade_id) in self.fills:
            return False
        if order.client_order_id not in self.orders:
            raise KeyError(f"unknown client order id {order.client_order_id}")
        self.orders[order.client_order_id] = _copy_order(order)
        self._record_step(order)
        if fill is not None:
            self.fills[(fill.broker, fill.trade_id)] = fill
        return True

    def _record_step(self, order: OrderRecord) -> None:
        """A status (with its filled quantity) the order had not been in: a step."""
        steps = self.order_steps.setdefault(order.client_order_id, [])
        state = (order.status, order.filled_quantity)
        if all((s.status, s.filled_quantity) != state for s in steps):
            steps.append(order_step(order))

    async def list_order_steps(self, client_order_ids: Sequence[str]) -> list[OrderStepRecord]:
        steps = [s for coid in client_order_ids for s in self.order_steps.get(coid, ())]
        return sorted(steps, key=lambda s: s.step_ts)  # stable: written order within a time

    async def get_order(self, client_order_id: str) -> OrderRecord | None:
        order = self.orders.get(client_order_id)
        return _copy_order(order) if order else None

    async def list_orders(
        self, broker: Broker, statuses: Sequence[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]:
        wanted = set(statuses) if statuses else None
        rows = [
            _copy_order(o)
            for o in self.orders.values()
            if o.broker == broker and (wanted is None or o.status in wanted)
        ]
        rows.sort(key=lambda o: (o.created_ts, o.client_order_id), reverse=True)
        return rows[:limit]

    # fills and positions
    async def record_fill(
        self, fill: FillRecord, position: PositionRecord, processed: ProcessedMark | None = None
    ) -> bool:
        key = (fill.broker, fill.trade_id)
        if key in self.fills:
            return False
        self.fills[key] = fill
        await self.upsert_position(position)
        if processed:
            await self.mark(*processed)
        return True

    async def list_fills(self, broker: Broker) -> list[FillRecord]:
        # Insertion order is journal order (see ``FillRepository.list_fills``).
        return [f for f in self.fills.values() if f.broker == broker]

    async def upsert_position(self, position: PositionRecord) -> None:
        key = (position.broker, position.strategy, position.instrument_token)
        self.positions[key] = _copy_position(position)

    async def list_positions(self, broker: Broker) -> list[PositionRecord]:
        return [_copy_position(p) for k, p in self.positions.items() if k[0] == broker]

    # snapshots, alerts, state, strategies, audit
    async def add_pnl_snapshot(self, snapshot: PnlSnapshotRecord) -> None:
        self.snapshots.append(snapshot)
        if len(self.snapshots) > self._max_alerts:
            del self.snapshots[: len(self.snapshots) - self._max_alerts]

    async def latest_pnl_snapshot(self, broker: Broker) -> PnlSnapshotRecord | None:
        for snap in reversed(self.snapshots):
            if snap.broker == broker:
                return snap
        return None

    async def add_alert(self, alert: RiskAlertRecord) -> None:
        self.alerts.append(alert)
        if len(self.alerts) > self._max_alerts:
            del self.alerts[: len(self.alerts) - self._max_alerts]

    async def list_alerts(self, limit: int = 100) -> list[RiskAlertRecord]:
        return list(reversed(self.alerts[-limit:]))

    async def list_alerts_since(
        self, since_ts: int, severity: Severity, limit: int = 200
    ) -> list[RiskAlertRecord]:
        found = [a for a in self.alerts if a.alert_ts >= since_ts and a.severity is severity]
        return sorted(reversed(found), key=lambda a: a.alert_ts, reverse=True)[:limit]  # as SQL

    async def list_refusals(self, broker: Broker, limit: int = 200) -> list[RiskAlertRecord]:
        refusals = [a for a in self.alerts if a.signal_id is not None and a.broker == broker]
        return list(reversed(refusals[-limit:]))

    async def save_trading_state(self, state: TradingStateRecord) -> None:
        self.states[(state.broker, state.scope)] = state

    async def load_trading_states(self, broker: Broker) -> list[TradingStateRecord]:
        return [s for (b, _), s in self.states.items() if b == broker]

    async def upsert_strategy(self, strategy: StrategyRecord) -> None:
        self.strategies[(strategy.broker, strategy.name)] = strategy

    async def list_strategies(self, broker: Broker) -> list[StrategyRecord]:
        return [s for (b, _), s in self.strategies.items() if b == broker]

    async def add_audit(self, record: AuditRecord) -> None:
        self.audit.append(record)
        log_audit(record)

    async def list_audit(self, limit: int = 100) -> list[AuditRecord]:
        return list(reversed(self.audit[-limit:]))

    async def list_audit_after(
        self, after_ts: int, action_prefix: str, limit: int = 50
    ) -> list[AuditRecord]:
        rows = [
            r for r in self.audit if r.audit_ts > after_ts and r.action.startswith(action_prefix)
        ]
        return sorted(rows, key=lambda r: r.audit_ts)[:limit]

    # processed events (dedup window)
    async def seen(self, group: str, event_id: str) -> bool:
        return (group, event_id) in self._processed

    async def mark(self, group: str, event_id: str) -> None:
        key = (group, event_id)
        if key in self._processed:
            return  # marked before: keeps its place, as a dict entry would
        self._processed.add(key)
        order = self._processed_order
        order.append(key)
        if len(order) > self._processed_window:
            self._processed.discard(order.popleft())

    async def newest_processed_ts(self) -> int | None:
        return None  # the window here is bounded by count, not time

    async def prune(self, keep_after_ts: int) -> int:
        return 0

    # position protections (stop-loss, target, trailing stop)
    async def save_protection(self, protection: Protection) -> None:
        key = (protection.broker, protection.strategy, protection.instrument_token)
        self.protections[key] = protection  # frozen: nothing to copy

    async def delete_protection(self, broker: Broker, strategy: str, instrument_token: int) -> None:
        self.protections.pop((broker, strategy, instrument_token), None)

    async def list_protections(self, broker: Broker) -> list[Protection]:
        return [p for (b, _, _), p in self.protections.items() if b == broker]
