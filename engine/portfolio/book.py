"""``PortfolioBook``: every position of one broker account, its marks, cash and equity.

Positions are kept per (strategy, instrument) because risk limits and the console are
per strategy; marks are per instrument because the market is. The book is idempotent
by trade id: it remembers every trade id it applied, a set bounded by the fills of
the period the store holds (a few thousand a day), so a redelivered fill never counts
twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from engine.domain.records import FillRecord, PnlSnapshotRecord, PositionRecord
from engine.events.payloads import PnlSnapshot, PositionSnapshot
from engine.events.types import Broker
from engine.portfolio.ledger import ZERO, PositionLedger, cash_flow, require_decimal

PositionKey = tuple[str, int]  # (strategy, instrument_token)


@dataclass(slots=True)
class _Position:
    strategy: str
    instrument_token: int
    symbol: str
    ledger: PositionLedger
    updated_ts: int = 0


class PortfolioBook:
    """In-memory portfolio of one broker; the service feeds it fills and marks."""

    def __init__(self, broker: Broker, starting_cash: Decimal) -> None:
        self.broker = broker
        self.starting_cash = require_decimal(starting_cash, "starting_cash")
        self._positions: dict[PositionKey, _Position] = {}
        # Latest price and previous close per instrument: written for every tick (the
        # service writes them directly, as ``mark`` does), read for valuations.
        self.marks: dict[int, Decimal] = {}
        self.closes: dict[int, Decimal] = {}
        self._applied: set[str] = set()
        self._cash = self.starting_cash

    # -- input --------------------------------------------------------------------
    def has_applied(self, trade_id: str) -> bool:
        return trade_id in self._applied

    def apply_fill(self, fill: FillRecord) -> PositionRecord | None:
        """Apply one fill; returns the updated position, or None when the trade id was applied."""
        if fill.broker != self.broker:
            raise ValueError(f"fill {fill.trade_id} is for {fill.broker}, book is {self.broker}")
        if fill.trade_id in self._applied:
            return None
        key = (fill.strategy, fill.instrument_token)
        position = self._positions.get(key)
        if position is None:
            ledger = PositionLedger()
            position = _Position(fill.strategy, fill.instrument_token, fill.symbol, ledger)
        position.ledger.apply(fill.side, fill.quantity, fill.price, fill.charges)
        self._positions[key] = position  # only after the ledger accepted the fill
        position.updated_ts = max(position.updated_ts, fill.fill_ts)
        self._cash += cash_flow(fill.side, fill.quantity, fill.price, fill.charges)
        self._applied.add(fill.trade_id)
        return self._record(position)

    def mark(self, instrument_token: int, price: Decimal, close: Decimal | None = None) -> None:
        """Latest price (and previous close) of an instrument. O(1): called on every tick."""
        self.marks[instrument_token] = price
        if close is not None:
            self.closes[instrument_token] = close

    def rebuild(self, fills: Iterable[FillRecord]) -> None:
        """Reset positions and cash to what ``fills`` (oldest first) add up to; marks stay."""
        self._positions.clear()
        self._applied.clear()
        self._cash = self.starting_cash
        for fill in fills:
            self.apply_fill(fill)

    # -- totals -------------------------------------------------------------------
    @property
    def cash(self) -> Decimal:
        """Starting cash − Σ buy notional + Σ sell notional − Σ charges."""
        return self._cash

    @property
    def realized_pnl(self) -> Decimal:
        return sum((p.ledger.realized_pnl for p in self._positions.values()), ZERO)

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.ledger.unrealized_pnl(self._mark(p)) for p in self._positions.values()), ZERO)

    @property
    def charges(self) -> Decimal:
        return sum((p.ledger.charges for p in self._positions.values()), ZERO)

    @property
    def equity(self) -> Decimal:
        """Cash + Σ net quantity × mark (an unmarked position at its average price)."""
        values = (p.ledger.market_value(self._mark(p)) for p in self._positions.values())
        return self._cash + sum(values, ZERO)

    @property
    def gross_exposure(self) -> Decimal:
        return sum((p.ledger.exposure(self._mark(p)) for p in self._positions.values()), ZERO)

    # -- views --------------------------------------------------------------------
    def position(self, strategy: str, instrument_token: int) -> PositionRecord | None:
        position = self._positions.get((strategy, instrument_token))
        return self._record(position) if position else None

    def positions(self) -> list[PositionRecord]:
        return [self._record(p) for p in self._positions.values()]

    def position_snapshot(self, strategy: str, instrument_token: int) -> PositionSnapshot:
        return self._snapshot_of(self._positions[(strategy, instrument_token)])

    def snapshot(self, ts: int) -> PnlSnapshot:
        """Account P&L at ``ts`` (event or injected-clock time), with every position.

        One pass: each position's mark and market value are looked up once and feed both
        its own view and the totals, summed in the same order (and so to the same Decimal)
        as the properties above. The portfolio takes one of these per fill.
        """
        broker = self.broker
        marks = self.marks
        closes = self.closes
        realized = unrealized = charges = values = gross = ZERO
        views = []
        for position in self._positions.values():
            ledger = position.ledger
            token = position.instrument_token
            mark = marks.get(token)
            value = ledger.market_value(mark)
            pnl = value - ledger.cost_basis  # ledger.unrealized_pnl(mark)
            realized += ledger.realized_pnl
            unrealized += pnl
            charges += ledger.charges
            values += value
            gross += abs(value)  # ledger.exposure(mark)
            close = closes.get(token)
            views.append(
                PositionSnapshot(
                    broker=broker,
                    strategy=position.strategy,
                    instrument_token=token,
                    symbol=position.symbol,
                    net_quantity=ledger.net_quantity,
                    average_price=ledger.average_price,
                    last_price=mark,
                    realized_pnl=ledger.realized_pnl,
                    unrealized_pnl=pnl,
                    charges=ledger.charges,
                    day_change=None if mark is None or close is None else mark - close,
                )
            )
        return PnlSnapshot(
            broker=broker,
            snapshot_ts=ts,
            realized_pnl=realized,
            unrealized_pnl=unrealized,
            charges=charges,
            cash=self._cash,
            equity=self._cash + values,
            gross_exposure=gross,
            positions=tuple(views),
        )

    def snapshot_with_position(
        self, ts: int, strategy: str, instrument_token: int
    ) -> tuple[PnlSnapshot, PositionSnapshot]:
        """``snapshot(ts)`` and, from it, ``position_snapshot(strategy, instrument_token)``:
        what the portfolio emits after a fill, computed once."""
        snapshot = self.snapshot(ts)
        for index, key in enumerate(self._positions):
            if key == (strategy, instrument_token):
                return snapshot, snapshot.positions[index]
        raise KeyError((strategy, instrument_token))

    @staticmethod
    def snapshot_record(snapshot: PnlSnapshot) -> PnlSnapshotRecord:
        return PnlSnapshotRecord(
            broker=snapshot.broker,
            snapshot_ts=snapshot.snapshot_ts,
            realized_pnl=snapshot.realized_pnl,
            unrealized_pnl=snapshot.unrealized_pnl,
            charges=snapshot.charges,
            cash=snapshot.cash,
            equity=snapshot.equity,
            gross_exposure=snapshot.gross_exposure,
        )

    # -- internals ----------------------------------------------------------------
    def _mark(self, position: _Position) -> Decimal | None:
        return self.marks.get(position.instrument_token)

    def _day_change(self, instrument_token: int) -> Decimal | None:
        """Kite's day change: last price − previous close, per unit; None until both are known."""
        last = self.marks.get(instrument_token)
        close = self.closes.get(instrument_token)
        if last is None or close is None:
            return None
        return last - close

    def _record(self, position: _Position) -> PositionRecord:
        ledger = position.ledger
        return PositionRecord(
            broker=self.broker,
            strategy=position.strategy,
            instrument_token=position.instrument_token,
            symbol=position.symbol,
            net_quantity=ledger.net_quantity,
            average_price=ledger.average_price,
            realized_pnl=ledger.realized_pnl,
            charges=ledger.charges,
            last_price=self._mark(position),
            updated_ts=position.updated_ts,
        )

    def _snapshot_of(self, position: _Position) -> PositionSnapshot:
        ledger = position.ledger
        mark = self._mark(position)
        return PositionSnapshot(
            broker=self.broker,
            strategy=position.strategy,
            instrument_token=position.instrument_token,
            symbol=position.symbol,
            net_quantity=ledger.net_quantity,
            average_price=ledger.average_price,
            last_price=mark,
            realized_pnl=ledger.realized_pnl,
            unrealized_pnl=ledger.unrealized_pnl(mark),
            charges=ledger.charges,
            day_change=self._day_change(position.instrument_token),
        )
