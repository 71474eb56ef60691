"""Small value types the read model hands to the console: strategies, session, positions.

They are plain frozen dataclasses so the console can compare a row with the one it drew
last time and redraw only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.events.types import TradingMode


def _net_pnl(
    realized: Decimal | None, unrealized: Decimal | None, charges: Decimal | None
) -> Decimal | None:
    """realized + unrealized − charges; None while any of the three is unknown."""
    if realized is None or unrealized is None or charges is None:
        return None
    return realized + unrealized - charges


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
    """One position row, marked to the latest tick when one arrived after the snapshot.

    ``unrealized_pnl`` and ``realized_pnl`` run from the position's first fill; the
    ``day_*`` figures are its part of the trading day ``trading_day`` (None when the
    snapshot did not carry them, or they are of another day than the one shown).
    """

    strategy: str
    instrument_token: int
    symbol: str
    net_quantity: int
    average_price: Decimal
    last_price: Decimal | None
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    day_change: Decimal | None
    updated_ts: int = 0
    trading_day: str = ""
    day_realized_pnl: Decimal | None = None
    day_unrealized_pnl: Decimal | None = None
    day_charges: Decimal | None = None

    @property
    def key(self) -> str:
        return f"{self.strategy}:{self.instrument_token}"

    @property
    def day_pnl(self) -> Decimal | None:
        """Today's realized + unrealized − today's charges (None when not known)."""
        return _net_pnl(self.day_realized_pnl, self.day_unrealized_pnl, self.day_charges)


@dataclass(frozen=True, slots=True)
class AccountView:
    """The trading day's money over the positions shown, marked to the latest ticks.

    This is the header's Day P&L and the figure the daily loss limit compares, split:
    ``realized_pnl`` is what today's fills booked, ``unrealized_pnl`` the mark-to-market
    today on what is open (a position carried in from an earlier day counts from the
    previous close, one opened today from its fill prices), ``charges`` today's charges;
    ``day_pnl`` = realized + unrealized − charges. Each is the sum of the rows shown and
    None while any row's figures for ``trading_day`` are unknown (a snapshot of that day
    has not arrived yet). ``equity`` is cash + market value, None before a snapshot.
    """

    trading_day: str | None
    realized_pnl: Decimal | None
    unrealized_pnl: Decimal | None
    charges: Decimal | None
    equity: Decimal | None

    @property
    def day_pnl(self) -> Decimal | None:
        return _net_pnl(self.realized_pnl, self.unrealized_pnl, self.charges)
