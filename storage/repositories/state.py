"""Operator-owned configuration rows: trading state per scope and strategy definitions."""

from __future__ import annotations

from engine.domain.records import StrategyRecord, TradingStateRecord
from engine.events.types import Broker
from storage.convert import record_values, row_reader
from storage.models import StrategyRow, TradingStateRow
from storage.repositories.base import Repository, broker_rows


class TradingStateRepo(Repository):
    """Implements ``engine.ports.TradingStateRepository``: one row per (broker, scope)."""

    async def save_trading_state(self, state: TradingStateRecord) -> None:
        await self._upsert(TradingStateRow, record_values(state), ("broker", "scope"))

    async def load_trading_states(self, broker: Broker) -> list[TradingStateRecord]:
        stmt = broker_rows(TradingStateRow, broker, TradingStateRow.scope)
        return await self._all(stmt, row_reader(TradingStateRecord))


class StrategyRepo(Repository):
    """Implements ``engine.ports.StrategyRepository``: one row per (broker, name)."""

    async def upsert_strategy(self, strategy: StrategyRecord) -> None:
        await self._upsert(StrategyRow, record_values(strategy), ("broker", "name"))

    async def list_strategies(self, broker: Broker) -> list[StrategyRecord]:
        stmt = broker_rows(StrategyRow, broker, StrategyRow.name)
        return await self._all(stmt, row_reader(StrategyRecord))
