"""A small backtest's report checked figure by figure against arithmetic done by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

from engine.backtest_report.equity import EquityCurve, EquitySampler
from engine.backtest_report.figures import return_figures
from engine.backtest_report.report import build_report
from engine.backtest_report.trades import InstrumentPnl, RoundTrip, instrument_pnl, round_trips
from engine.domain.records import FillRecord
from engine.events.types import Broker, Side

INFY, TCS = 101, 202
SECOND = 1_000_000_000


def fill(n: int, token: int, side: Side, quantity: int, price: str, charges: str) -> FillRecord:
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=f"t{n}",
        client_order_id=f"o{n}",
        strategy="ema",
        instrument_token=token,
        symbol="NSE:INFY" if token == INFY else "NSE:TCS",
        side=side,
        quantity=quantity,
        price=D(price),
        charges=D(charges),
        fill_ts=n * SECOND,
    )


FILLS = [
    fill(1, INFY, Side.BUY, 10, "100", "1.00"),
    fill(2, INFY, Side.SELL, 10, "110", "1.10"),  # long trip: +100 gross, 2.10 charges
    fill(3, TCS, Side.SELL, 5, "200", "0.50"),
    fill(4, TCS, Side.BUY, 8, "190", "0.80"),  # covers 5 (+50), opens a long 3
    fill(5, TCS, Side.SELL, 3, "180", "0.30"),  # the long 3 loses 30
    fill(6, INFY, Side.BUY, 4, "105", "0.40"),  # still open at the end
]
MARKS = {INFY: D("107"), TCS: D("185")}


def test_round_trips_by_hand() -> None:
    trips = round_trips(reversed(FILLS), MARKS)  # order of arrival does not matter: event time does

    assert [(t.symbol, t.side, t.quantity, t.entry_price, t.exit_price) for t in trips] == [
        ("NSE:INFY", Side.BUY, 10, D("100"), D("110")),
        ("NSE:TCS", Side.SELL, 5, D("200"), D("190")),
        ("NSE:TCS", Side.BUY, 3, D("190"), D("180")),
        ("NSE:INFY", Side.BUY, 4, D("105"), None),
    ]
    # The flip's 0.80 is shared 5:3 -> 0.50 closes the short, 0.30 opens the long.
    assert [(t.gross_pnl, t.charges, t.net_pnl) for t in trips] == [
        (D("100"), D("2.10"), D("97.90")),
        (D("50"), D("1.00"), D("49.00")),
        (D("-30"), D("0.60"), D("-30.60")),
        (D("8"), D("0.40"), D("7.60")),  # 4 held, marked at 107: (107 - 105) x 4
    ]
    assert [(t.is_open, t.mark_price) for t in trips] == [(False, None)] * 3 + [(True, D("107"))]
    assert [(t.entry_ts, t.exit_ts) for t in trips] == [
        (1 * SECOND, 2 * SECOND),
        (3 * SECOND, 4 * SECOND),
        (4 * SECOND, 5 * SECOND),
        (6 * SECOND, None),
    ]


def test_per_instrument_by_hand() -> None:
    assert instrument_pnl(FILLS, MARKS) == [
        # INFY: +100 realized, the open 4 marked (107 - 105) x 4 = 8, charges 2.50
        InstrumentPnl("NSE:INFY", D("100"), D("8"), D("2.50"), trips=1),
        # TCS: +50 - 30 realized, flat, charges 0.50 + 0.80 + 0.30
        InstrumentPnl("NSE:TCS", D("20"), D("0"), D("1.60"), trips=2),
    ]


def test_sharpe_and_sortino_by_hand() -> None:
    # Returns 1%, -0.5%, 0.25% of 100,000: mean 0.25%, sample sd 0.75%, so
    # Sharpe = (1/3) sqrt(252) = sqrt(28); downside dev = sqrt(0.005^2 / 3), so
    # Sortino = 0.0025 / (0.005 / sqrt 3) x sqrt(252) = sqrt(189).
    figures = return_figures([D("1000"), D("-500"), D("250")], D("100000"))

    assert figures.mean_daily_return == D("0.0025")
    assert abs(figures.sharpe - D(28).sqrt()) < D("1e-20")  # type: ignore[operator]
    assert abs(figures.sortino - D(189).sqrt()) < D("1e-20")  # type: ignore[operator]
    # The capital base scales returns, not the ratios.
    assert return_figures([D("1000"), D("-500"), D("250")], D("7")).sharpe == figures.sharpe


def test_one_day_has_no_sharpe_and_a_day_without_a_loss_no_sortino() -> None:
    assert return_figures([D("1000")], D("100000")).sharpe is None
    assert return_figures([D("1000"), D("2000")], D("100000")).sortino is None


def test_drawdown_by_hand() -> None:
    sampler = EquitySampler()
    for ts, equity in enumerate(["100", "120", "90", "130", "95", "140"]):
        sampler.offer(ts, D(equity))

    drawdown = sampler.curve().drawdown

    assert drawdown.amount == D("-35")  # 130 -> 95, deeper than 120 -> 90
    assert (drawdown.peak_ts, drawdown.trough_ts, drawdown.peak_equity) == (3, 4, D("130"))


@dataclass
class Outcome:
    """A run as the report reads it: the hand case's trips, two days, a curve."""

    trades: tuple[RoundTrip, ...]
    instruments: tuple[InstrumentPnl, ...]
    equity_curve: EquityCurve | None
    equity_start: D = D("100000")
    equity_end: D = D("100000") + D("113.90")
    charges: D = D("4.10")
    days: tuple[dict[str, Any], ...] = ({"day": "2024-01-01", "pnl": "143.30"},)
    halts: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"strategy": "ema"}


def test_report_figures_by_hand() -> None:
    sampler = EquitySampler()
    sampler.offer(0, D("100000"))
    sampler.offer(SECOND, D("100113.90"))
    outcome = Outcome(
        trades=tuple(round_trips(FILLS, MARKS)),
        instruments=tuple(instrument_pnl(FILLS, MARKS)),
        equity_curve=sampler.curve(),
        days=({"day": "2024-01-01", "pnl": "80.00"}, {"day": "2024-01-02", "pnl": "33.90"}),
    )

    report = build_report(outcome, capital=D("50000")).as_dict()

    assert report["net_pnl"] == "113.90"
    assert report["capital"] == "50000" and report["return_pct"] == "0.2278"
    assert (report["trips"], report["wins"], report["losses"]) == (3, 2, 1)  # open trip apart
    assert report["win_rate"] == "0.6667"
    assert report["gross_profit"] == "146.90" and report["gross_loss"] == "-30.60"
    assert report["profit_factor"] == "4.8007"  # 146.90 / 30.60
    assert report["max_drawdown"] == "0" and report["drawdown_peak"] is None
    assert report["sortino"] is None  # no losing day
    assert report["annualisation"] == "sqrt(252)"
    assert [i["pnl"] for i in report["per_instrument"]] == ["105.50", "18.40"]
    assert report["trade_list"][1]["entry"] == "1970-01-01T05:30:03+05:30"
