"""Operator-owned configuration rows: trading state per scope and strategy definitions."""

from __future__ import annotations

from sqlalchemy import select

from engine.domain.records import StrategyRecord, TradingStateRecord
from engine.events.types import Broker
from storage.convert import state_from_row, state_values, strategy_from_row, strategy_values
from storage.database import transaction
from storage.models import StrategyRow, TradingStateRow
from storage.repositories.base import Repository, upsert_row


class TradingStateRepo(Repository):
    """Implements ``engine.ports.TradingStateRepository``: one row per (broker, scope)."""

    async def save_trading_state(self, state: TradingStateRecord) -> None:
        async with transaction(self._sessions) as session:
            await upsert_row(session, TradingStateRow, state_values(state), ("broker", "scope"))

    async def load_trading_states(self, broker: Broker) -> list[TradingStateRecord]:
        stmt = (
            select(TradingStateRow)
            .where(TradingStateRow.broker == str(broker))
            .order_by(TradingStateRow.scope)
        )
        async with self._sessions() as session:
            return [state_from_row(row) for row in (await session.scalars(stmt))]


class StrategyRepo(Repository):
    """Implements ``engine.ports.StrategyRepository``: one row per (broker, name)."""

    async def upsert_strategy(self, strategy: StrategyRecord) -> None:
        async with transaction(self._sessions) as session:
            await upsert_row(session, StrategyRow, strategy_values(strategy), ("broker", "name"))

    async def list_strategies(self, broker: Broker) -> list[StrategyRecord]:
        stmt = (
            select(StrategyRow).where(StrategyRow.broker == str(broker)).order_by(StrategyRow.name)
        )
        async with self._sessions() as session:
            return [strategy_from_row(row) for row in (await session.scalars(stmt))]
