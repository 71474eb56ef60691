"""Round trips: a position of one strategy in one instrument from flat back to flat.

The fills are replayed through the same ``PositionLedger`` the portfolio book uses, so a
trip's realized P&L is exactly what the book realized over it, and the trips of a key add up
to its realized P&L to the paisa. A fill that flips the position closes one trip and
opens the next; its charges are shared by quantity, rounded to the paisa, and the two
parts always sum to the fill's charges. A trip still open at the end is valued at the last
price the book marked it at, as the book values it, so the trips' net P&L (closed and
open) adds up to the run's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from engine.domain.records import FillRecord
from engine.events.types import Side
from engine.portfolio.ledger import ZERO, PositionLedger

PAISA = Decimal("0.01")
_Key = tuple[str, int]  # (strategy, instrument_token)


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One trip: entry and exit by event time (UTC ns); ``exit_ts`` None while still open,
    when ``mark_price`` is the last price it was marked at (None: never marked)."""

    strategy: str
    symbol: str
    side: Side  # BUY: a long trip, SELL: a short one
    quantity: int  # the largest open quantity of the trip
    entry_ts: int
    entry_price: Decimal  # average price of the fills that opened or added
    exit_ts: int | None
    exit_price: Decimal | None  # average price of the fills that reduced or closed
    realized_pnl: Decimal  # realized over the trip (open trips: realized so far)
    charges: Decimal
    unrealized_pnl: Decimal = ZERO  # open trips: what is held, valued at ``mark_price``
    mark_price: Decimal | None = None

    @property
    def gross_pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.charges

    @property
    def is_open(self) -> bool:
        return self.exit_ts is None


@dataclass(frozen=True, slots=True)
class InstrumentPnl:
    """One instrument's outcome over every strategy: realized, marked and charges."""

    symbol: str
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    charges: Decimal
    trips: int  # closed round trips

    @property
    def pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl - self.charges


@dataclass(slots=True)
class _OpenTrip:
    side: Side
    entry_ts: int
    entry_quantity: int = 0
    entry_notional: Decimal = ZERO
    exit_quantity: int = 0
    exit_notional: Decimal = ZERO
    peak: int = 0
    realized: Decimal = ZERO
    charges: Decimal = ZERO
    last_ts: int = 0

    def close(self, strategy: str, symbol: str) -> RoundTrip:
        return self._trip(strategy, symbol, self.last_ts, ZERO, None)

    def marked(
        self, strategy: str, symbol: str, ledger: PositionLedger, mark: Decimal | None
    ) -> RoundTrip:
        """The trip as it stands at the end, what it holds valued at ``mark``."""
        return self._trip(strategy, symbol, None, ledger.unrealized_pnl(mark), mark)

    def _trip(
        self,
        strategy: str,
        symbol: str,
        exit_ts: int | None,
        unrealized: Decimal,
        mark: Decimal | None,
    ) -> RoundTrip:
        exit_price = self.exit_notional / self.exit_quantity if self.exit_quantity else None
        return RoundTrip(
            strategy=strategy,
            symbol=symbol,
            side=self.side,
            quantity=self.peak,
            entry_ts=self.entry_ts,
            entry_price=_price(self.entry_notional / self.entry_quantity),
            exit_ts=exit_ts,
            exit_price=None if exit_price is None else _price(exit_price),
            realized_pnl=self.realized,
            charges=self.charges,
            unrealized_pnl=unrealized,
            mark_price=mark,
        )


@dataclass(slots=True)
class _KeyState:
    symbol: str
    ledger: PositionLedger = field(default_factory=PositionLedger)
    trip: _OpenTrip | None = None
    closed: list[RoundTrip] = field(default_factory=list)


def _price(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def _split_charges(charges: Decimal, part: int, whole: int) -> Decimal:
    """The share of ``charges`` for ``part`` of ``whole`` units, to the paisa."""
    if part == whole:
        return charges
    return (charges * part / whole).quantize(PAISA, ROUND_HALF_EVEN)


def _apply(state: _KeyState, strategy: str, fill: FillRecord) -> None:
    ledger, held = state.ledger, state.ledger.net_quantity
    direction = fill.side.sign
    closing = min(fill.quantity, abs(held)) if held and (held > 0) != (direction > 0) else 0
    realized = ledger.apply(fill.side, fill.quantity, fill.price, ZERO)
    closing_charges = _split_charges(fill.charges, closing, fill.quantity) if closing else ZERO
    trip = state.trip
    if closing:
        assert trip is not None  # a position is held, so a trip is open
        trip.exit_quantity += closing
        trip.exit_notional += closing * fill.price
        trip.realized += realized
        trip.charges += closing_charges
        trip.last_ts = fill.fill_ts
        if closing == abs(held):
            state.closed.append(trip.close(strategy, state.symbol))
            state.trip = trip = None
    opening = fill.quantity - closing
    if opening:
        if trip is None:
            trip = state.trip = _OpenTrip(side=fill.side, entry_ts=fill.fill_ts)
        trip.entry_quantity += opening
        trip.entry_notional += opening * fill.price
        trip.charges += fill.charges - closing_charges
        trip.peak = max(trip.peak, abs(ledger.net_quantity))
        trip.last_ts = fill.fill_ts
    ledger.charges += fill.charges


def _replay(fills: Iterable[FillRecord]) -> dict[_Key, _KeyState]:
    states: dict[_Key, _KeyState] = {}
    # By event time; fills of one instant keep the journal's order (the order the book
    # applied them): a trade id says nothing about which came first.
    for fill in sorted(fills, key=lambda f: f.fill_ts):
        key = (fill.strategy, fill.instrument_token)
        state = states.get(key)
        if state is None:
            state = states[key] = _KeyState(fill.symbol)
        _apply(state, fill.strategy, fill)
    return states


def round_trips(fills: Iterable[FillRecord], marks: Mapping[int, Decimal]) -> list[RoundTrip]:
    """Every trip, closed and still open (valued at ``marks``, the book's last prices), in
    entry order (then strategy, symbol)."""
    trips: list[RoundTrip] = []
    for (strategy, token), state in _replay(fills).items():
        trips.extend(state.closed)
        if state.trip is not None:
            mark = marks.get(token)
            trips.append(state.trip.marked(strategy, state.symbol, state.ledger, mark))
    return sorted(trips, key=lambda t: (t.entry_ts, t.strategy, t.symbol))


def instrument_pnl(
    fills: Iterable[FillRecord], marks: Mapping[int, Decimal]
) -> list[InstrumentPnl]:
    """Per instrument (all strategies), open positions valued at ``marks``; by symbol."""
    totals: dict[str, InstrumentPnl] = {}
    for (_strategy, token), state in _replay(fills).items():
        ledger = state.ledger
        before = totals.get(state.symbol, InstrumentPnl(state.symbol, ZERO, ZERO, ZERO, 0))
        totals[state.symbol] = InstrumentPnl(
            symbol=state.symbol,
            realized_pnl=before.realized_pnl + ledger.realized_pnl,
            unrealized_pnl=before.unrealized_pnl + ledger.unrealized_pnl(marks.get(token)),
            charges=before.charges + ledger.charges,
            trips=before.trips + len(state.closed),
        )
    return [totals[symbol] for symbol in sorted(totals)]
