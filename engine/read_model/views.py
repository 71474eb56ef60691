"""Small value types the read model hands to the console: strategies, session, positions.

They are plain frozen dataclasses so the console can compare a row with the one it drew
last time and redraw only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.events.types import TradingMode


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    """A strategy as the runtime configured it; ``state`` follows TradingStateChanged."""

    name: str
    kind: str = ""
    instruments: tuple[str, ...] = ()
    state: TradingMode = TradingMode.ACTIVE


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who is logged in to Zerodha and until when (UTC ns); None user means not logged in."""

    user: str | None = None
    expiry_ts: int | None = None


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position row, marked to the latest tick when one arrived after the snapshot."""

    strategy: str
    instrument_token: int
    symbol: str
    net_quantity: int
    average_price: Decimal
    last_price: Decimal | None
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    day_change: Decimal | None

    @property
    def key(self) -> str:
        return f"{self.strategy}:{self.instrument_token}"

    @property
    def total_pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl


@dataclass(frozen=True, slots=True)
class AccountView:
    """Account figures marked to the latest ticks; charges and equity None before a snapshot."""

    realized_pnl: Decimal
    unrealized_pnl: Decimal
    charges: Decimal | None
    equity: Decimal | None
