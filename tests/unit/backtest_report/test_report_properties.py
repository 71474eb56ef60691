"""The report's money math for any fills and any equity path (hypothesis)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest_report.equity import EquitySampler
from engine.backtest_report.figures import return_figures, trade_figures
from engine.backtest_report.trades import instrument_pnl, round_trips
from engine.domain.records import FillRecord
from engine.events.types import Broker, Side
from engine.portfolio.book import PortfolioBook

TOKENS = (101, 202)
prices = st.decimals(min_value=D("1"), max_value=D("5000"), places=2)
charges = st.decimals(min_value=D("0"), max_value=D("50"), places=2)
fill_specs = st.lists(
    st.tuples(
        st.sampled_from(["ema", "rsi"]),
        st.sampled_from(TOKENS),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 50),
        prices,
        charges,
    ),
    max_size=40,
)


def fills_of(specs: list[tuple[str, int, Side, int, D, D]]) -> list[FillRecord]:
    return [
        FillRecord(
            broker=Broker.PAPER,
            trade_id=f"t{n:03}",
            client_order_id=f"o{n}",
            strategy=strategy,
            instrument_token=token,
            symbol=f"NSE:T{token}",
            side=side,
            quantity=quantity,
            price=price,
            charges=charge,
            fill_ts=n,
        )
        for n, (strategy, token, side, quantity, price, charge) in enumerate(specs)
    ]


@settings(max_examples=200, deadline=None)
@given(fill_specs, prices, prices)
def test_trips_and_instruments_add_up_to_the_books_pnl(specs, mark_a, mark_b) -> None:  # type: ignore[no-untyped-def]
    fills = fills_of(specs)
    marks = {TOKENS[0]: mark_a, TOKENS[1]: mark_b}
    book = PortfolioBook(Broker.PAPER, D("1000000"))
    for f in fills:
        book.apply_fill(f)
    for token, price in marks.items():
        book.mark(token, price)

    trips = round_trips(fills, marks)
    instruments = instrument_pnl(fills, marks)

    assert sum((t.realized_pnl for t in trips), D(0)) == book.realized_pnl
    # Open trips too: what the trade list adds up to is the run's net P&L, to the paisa.
    assert sum((t.net_pnl for t in trips), D(0)) == book.equity - book.starting_cash
    assert all((t.mark_price is not None) == t.is_open for t in trips)
    assert sum((t.charges for t in trips), D(0)) == sum((f.charges for f in fills), D(0))
    total = sum((i.pnl for i in instruments), D(0))
    assert total == book.realized_pnl + book.unrealized_pnl - book.charges
    assert total == book.equity - book.starting_cash
    assert sum(i.trips for i in instruments) == sum(1 for t in trips if not t.is_open)
    assert all(t.quantity > 0 and (t.exit_ts is None or t.exit_ts >= t.entry_ts) for t in trips)


@settings(max_examples=200, deadline=None)
@given(fill_specs)
def test_profit_factor_and_win_rate_follow_their_definitions(specs) -> None:  # type: ignore[no-untyped-def]
    trips = round_trips(fills_of(specs), {})
    figures = trade_figures(trips)
    closed = [t.net_pnl for t in trips if not t.is_open]

    assert figures.gross_profit == sum((p for p in closed if p > 0), D(0)) >= 0
    assert figures.gross_loss == sum((p for p in closed if p < 0), D(0)) <= 0
    assert figures.wins + figures.losses <= figures.trips == len(closed)
    if figures.profit_factor is None:
        assert figures.gross_loss == 0
    else:
        assert abs(figures.profit_factor * -figures.gross_loss - figures.gross_profit) < D("1e-20")
    if figures.trips:
        assert 0 <= figures.win_rate <= 1  # type: ignore[operator]


def brute_force_drawdown(equities: list[D]) -> D:
    return min((e - max(equities[: i + 1]) for i, e in enumerate(equities)), default=D(0))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.decimals(min_value=D("0"), max_value=D("2000000"), places=2), max_size=300),
    st.integers(2, 16),
)
def test_drawdown_is_exact_and_never_positive_however_thin_the_kept_curve(
    equities: list[D], max_points: int
) -> None:
    sampler = EquitySampler(max_points)
    for ts, equity in enumerate(equities):
        sampler.offer(ts, equity)

    curve = sampler.curve()

    assert curve.drawdown.amount == brute_force_drawdown(equities) <= 0
    assert len(curve.points) <= max_points + 1
    if equities:
        assert curve.points[0].ts == 0 and curve.points[-1].ts == len(equities) - 1
        assert [p.ts for p in curve.points] == sorted({p.ts for p in curve.points})
        if curve.drawdown.amount:
            peak, trough = curve.drawdown.peak_ts, curve.drawdown.trough_ts
            assert peak is not None and trough is not None and peak < trough
            assert equities[trough] - equities[peak] == curve.drawdown.amount


daily = st.lists(st.decimals(min_value=D("-50000"), max_value=D("50000"), places=2), max_size=30)


@settings(max_examples=200, deadline=None)
@given(daily, st.integers(1, 10**8))
def test_sharpe_and_sortino_follow_the_days_not_the_capital(pnl: list[D], capital: int) -> None:
    base = return_figures(pnl, D(1_000_000))
    scaled = return_figures(pnl, D(capital))
    mirrored = return_figures([-p for p in pnl], D(1_000_000))

    def near(a: D | None, b: D | None) -> bool:
        return (a is None) == (b is None) and (a is None or abs(a - b) < D("1e-15"))  # type: ignore[operator]

    assert near(scaled.sharpe, base.sharpe) and near(scaled.sortino, base.sortino)
    assert near(mirrored.sharpe, None if base.sharpe is None else -base.sharpe)
    # Sortino exists exactly when there are two days or more and one of them lost money.
    assert (base.sortino is not None) == (len(pnl) >= 2 and any(p < 0 for p in pnl))
    if base.sortino is not None:
        assert (base.sortino > 0) == (sum(pnl) > 0)
