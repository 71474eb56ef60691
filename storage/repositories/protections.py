"""Position protections (stop-loss, target, trailing stop): one row per position."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import delete

from engine.events.types import Broker
from engine.protection.levels import Protection
from storage.database import transaction
from storage.models import ProtectionRow
from storage.repositories.base import Repository, broker_rows

_KEY = ("broker", "strategy", "instrument_token")
_FIELDS = tuple(f.name for f in msgspec.structs.fields(Protection))


def _values(protection: Protection) -> dict[str, Any]:
    values = {name: getattr(protection, name) for name in _FIELDS}
    values["broker"] = str(protection.broker)
    return values


def _from_row(row: ProtectionRow) -> Protection:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["broker"] = Broker(row.broker)
    return Protection(**values)


class ProtectionRepo(Repository):
    """Implements ``engine.ports.ProtectionRepository``."""

    async def save_protection(self, protection: Protection) -> None:
        await self._upsert(ProtectionRow, _values(protection), _KEY)

    async def delete_protection(self, broker: Broker, strategy: str, instrument_token: int) -> None:
        stmt = delete(ProtectionRow).where(
            ProtectionRow.broker == str(broker),
            ProtectionRow.strategy == strategy,
            ProtectionRow.instrument_token == instrument_token,
        )
        async with transaction(self._sessions) as session:
            await session.execute(stmt)

    async def list_protections(self, broker: Broker) -> list[Protection]:
        order = (ProtectionRow.strategy, ProtectionRow.instrument_token)
        return await self._all(broker_rows(ProtectionRow, broker, *order), _from_row)
