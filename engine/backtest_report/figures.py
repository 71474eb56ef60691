"""The figures of a backtest report, from its round trips and its daily P&L.

Sharpe and Sortino are on DAILY returns, a day's P&L (realized + marked − charges, as
the book closes the day) over the capital base, annualised by sqrt(252) trading days.
Sharpe divides the mean by the sample standard deviation (n − 1); Sortino by the
downside deviation, sqrt(mean(min(r, 0)²)) over every day. Both need two days or more
(None otherwise) and a non-zero deviation. The capital base does not change either
ratio (it scales the mean and the deviation alike, so they are computed on the P&L
itself) but it does set the returns and the drawdown as a percentage, so the report
states it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.backtest_report.trades import RoundTrip

TRADING_DAYS_PER_YEAR = 252
ANNUALISE = Decimal(TRADING_DAYS_PER_YEAR).sqrt()
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TradeFigures:
    """Over CLOSED round trips, net of charges: a trip that made exactly nothing is neither."""

    trips: int
    wins: int
    losses: int
    gross_profit: Decimal  # sum of winning trips' net P&L
    gross_loss: Decimal  # sum of losing trips' net P&L, <= 0

    @property
    def win_rate(self) -> Decimal | None:
        """Winning trips over closed trips (None with no closed trip)."""
        return Decimal(self.wins) / self.trips if self.trips else None

    @property
    def profit_factor(self) -> Decimal | None:
        """Gross profit over |gross loss| (None without a losing trip)."""
        return self.gross_profit / -self.gross_loss if self.gross_loss else None


@dataclass(frozen=True, slots=True)
class ReturnFigures:
    capital: Decimal
    days: int
    mean_daily_return: Decimal | None
    sharpe: Decimal | None
    sortino: Decimal | None


def trade_figures(trips: Sequence[RoundTrip]) -> TradeFigures:
    closed = [t.net_pnl for t in trips if not t.is_open]
    wins = [p for p in closed if p > 0]
    losses = [p for p in closed if p < 0]
    return TradeFigures(len(closed), len(wins), len(losses), sum(wins, ZERO), sum(losses, ZERO))


def return_figures(daily_pnl: Sequence[Decimal], capital: Decimal) -> ReturnFigures:
    """Sharpe and Sortino of ``daily_pnl`` over ``capital`` (positive), annualised."""
    if capital <= 0:
        raise ValueError(f"the capital base must be positive, got {capital}")
    days = len(daily_pnl)
    if days < 2:
        mean_return = daily_pnl[0] / capital if daily_pnl else None
        return ReturnFigures(capital, days, mean_return, None, None)
    # The ratios are taken on the P&L itself, exact in Decimal: dividing every day by the
    # same capital first changes neither ratio but rounds (0.01 / 11), and equal days
    # would then show a tiny deviation and an absurd Sharpe instead of none.
    mean = sum(daily_pnl, ZERO) / days
    variance = sum(((p - mean) ** 2 for p in daily_pnl), ZERO) / (days - 1)
    downside = sum((min(p, ZERO) ** 2 for p in daily_pnl), ZERO) / days
    return ReturnFigures(
        capital=capital,
        days=days,
        mean_daily_return=mean / capital,
        sharpe=mean / variance.sqrt() * ANNUALISE if variance else None,
        sortino=mean / downside.sqrt() * ANNUALISE if downside else None,
    )
