"""``BacktestReport``: one run's summary and every figure of its report, and its JSON.

The JSON (``as_dict``) is what ``backtest --json`` prints under ``report``, what the
archive keeps for the console's backtests screen, and what the HTML page is drawn from;
money in it is a string (exact), ratios are strings rounded to four places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from engine.backtest_report.equity import Drawdown, EquityCurve
from engine.backtest_report.figures import (
    TRADING_DAYS_PER_YEAR,
    ReturnFigures,
    TradeFigures,
    return_figures,
    trade_figures,
)
from engine.backtest_report.trades import InstrumentPnl, RoundTrip
from engine.clock import IST, ns_to_datetime

RATIO = Decimal("0.0001")


class RunOutcome(Protocol):
    """What a report reads from a run (``engine.backtest.BacktestResult``)."""

    @property
    def equity_start(self) -> Decimal: ...
    @property
    def equity_end(self) -> Decimal: ...
    @property
    def charges(self) -> Decimal: ...
    @property
    def days(self) -> tuple[dict[str, Any], ...]: ...
    @property
    def halts(self) -> tuple[dict[str, Any], ...]: ...
    @property
    def trades(self) -> tuple[RoundTrip, ...]: ...
    @property
    def instruments(self) -> tuple[InstrumentPnl, ...]: ...
    @property
    def equity_curve(self) -> EquityCurve | None: ...

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class BacktestReport:
    summary: dict[str, Any]  # the run's own JSON summary (``BacktestResult.as_dict``)
    net_pnl: Decimal
    trades: TradeFigures
    returns: ReturnFigures
    trips: tuple[RoundTrip, ...]
    instruments: tuple[InstrumentPnl, ...]
    days: tuple[dict[str, Any], ...]
    curve: EquityCurve

    def as_dict(self) -> dict[str, Any]:
        drawdown = self.curve.drawdown
        return {
            "capital": str(self.returns.capital),
            "net_pnl": str(self.net_pnl),
            "return_pct": _ratio(self.net_pnl / self.returns.capital * 100),
            "annualisation": f"sqrt({TRADING_DAYS_PER_YEAR})",
            "days": self.returns.days,
            "mean_daily_return": _ratio(self.returns.mean_daily_return),
            "sharpe": _ratio(self.returns.sharpe),
            "sortino": _ratio(self.returns.sortino),
            "trips": self.trades.trips,
            "wins": self.trades.wins,
            "losses": self.trades.losses,
            "win_rate": _ratio(self.trades.win_rate),
            "profit_factor": _ratio(self.trades.profit_factor),
            "gross_profit": str(self.trades.gross_profit),
            "gross_loss": str(self.trades.gross_loss),
            "max_drawdown": str(drawdown.amount),
            "max_drawdown_pct": _ratio(drawdown.amount / self.returns.capital * 100),
            "drawdown_peak_equity": str(drawdown.peak_equity),
            "drawdown_peak": _iso(drawdown.peak_ts),
            "drawdown_trough": _iso(drawdown.trough_ts),
            "per_day": [dict(day) for day in self.days],
            "per_instrument": [_instrument(i) for i in self.instruments],
            "trade_list": [_trip(t) for t in self.trips],
            "equity_curve": [[p.ts, str(p.equity)] for p in self.curve.points],
        }


def build_report(outcome: RunOutcome, capital: Decimal | None = None) -> BacktestReport:
    """The report of ``outcome``; the capital base defaults to the run's starting equity."""
    base = capital if capital is not None else outcome.equity_start
    daily = [Decimal(day["pnl"]) for day in outcome.days if "pnl" in day]
    nothing_fell = Drawdown(Decimal(0), outcome.equity_start, None, None)
    curve = outcome.equity_curve or EquityCurve((), nothing_fell)
    return BacktestReport(
        summary=outcome.as_dict(),
        net_pnl=outcome.equity_end - outcome.equity_start,
        trades=trade_figures(outcome.trades),
        returns=return_figures(daily, base),
        trips=outcome.trades,
        instruments=outcome.instruments,
        days=outcome.days,
        curve=curve,
    )


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(RATIO))


def _iso(ts: int | None) -> str | None:
    return None if ts is None else ns_to_datetime(ts, IST).isoformat(timespec="seconds")


def _instrument(pnl: InstrumentPnl) -> dict[str, Any]:
    return {
        "symbol": pnl.symbol,
        "pnl": str(pnl.pnl),
        "realized_pnl": str(pnl.realized_pnl),
        "unrealized_pnl": str(pnl.unrealized_pnl),
        "charges": str(pnl.charges),
        "trips": pnl.trips,
    }


def _trip(trip: RoundTrip) -> dict[str, Any]:
    return {
        "strategy": trip.strategy,
        "symbol": trip.symbol,
        "side": trip.side.value,
        "quantity": trip.quantity,
        "entry": _iso(trip.entry_ts),
        "entry_price": str(trip.entry_price),
        "exit": _iso(trip.exit_ts),
        "exit_price": None if trip.exit_price is None else str(trip.exit_price),
        "open": trip.is_open,  # still held at the end: valued at ``mark_price``
        "mark_price": None if trip.mark_price is None else str(trip.mark_price),
        "realized_pnl": str(trip.realized_pnl),
        "unrealized_pnl": str(trip.unrealized_pnl),
        "gross_pnl": str(trip.gross_pnl),
        "charges": str(trip.charges),
        "net_pnl": str(trip.net_pnl),
    }


@dataclass(frozen=True, slots=True)
class SavedBacktest:
    """One archived run as the backtests screen lists it: its summary and report JSON."""

    name: str  # the archive's file stem: when it ran (UTC) and the strategy
    summary: dict[str, Any]
    report: dict[str, Any]

    @property
    def equities(self) -> list[Decimal]:
        return [Decimal(equity) for _ts, equity in self.report["equity_curve"]]
