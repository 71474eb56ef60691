"""``PortfolioBook``: every position of one broker account, its marks, cash and equity.

Positions are kept per (strategy, instrument) because risk limits and the console are
per strategy; marks are per instrument because the market is. The book is idempotent
by trade id: it remembers every trade id it applied, a set bounded by the fills of
the period the store holds (a few thousand a day), so a redelivered fill never counts
twice.

The book also knows the trading day (by event time: fill and tick times, never the
wall clock) and reports today's part of every figure beside the overall one; see
``engine.portfolio.day``. A fill of an earlier day that arrives before any of today's
belongs to the start of today; one that arrives after them counts today. Either way
the figures follow from the journal's order, so a rebuild reproduces them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from engine.domain.projection import project
from engine.domain.records import FillRecord, PnlSnapshotRecord, PositionRecord
from engine.events.payloads import PnlSnapshot, PositionSnapshot
from engine.events.types import Broker
from engine.market.calendar import NseCalendar
from engine.market.sessions import DayWindow, TradingDays
from engine.portfolio.day import DayResult, DayStart
from engine.portfolio.ledger import ZERO, PositionLedger, cash_flow, require_decimal
from engine.portfolio.marks import StoredMarks

PositionKey = tuple[str, int]  # (strategy, instrument_token)


@dataclass(slots=True)
class _Position:
    strategy: str
    instrument_token: int
    symbol: str
    ledger: PositionLedger
    updated_ts: int = 0
    start: DayStart = field(default_factory=DayStart)  # where it stood when today began


class PortfolioBook:
    """In-memory portfolio of one broker; the service feeds it fills and marks."""

    def __init__(
        self, broker: Broker, starting_cash: Decimal, calendar: NseCalendar | None = None
    ) -> None:
        self.broker = broker
        self.starting_cash = require_decimal(starting_cash, "starting_cash")
        self._positions: dict[PositionKey, _Position] = {}
        # Latest price and previous close per instrument: written for every tick (the
        # service writes them directly, as ``mark`` does), read for valuations.
        self.marks: dict[int, Decimal] = {}
        self.closes: dict[int, Decimal] = {}
        self._applied: set[str] = set()
        self._cash = self.starting_cash
        self.days = TradingDays(calendar)
        # Newest tick time seen, -1 before the first. Ticks, like marks, survive a
        # rebuild, and so does the trading day they are in.
        self.event_ns = -1
        self._reset_day(None, {})

    def _reset_day(self, day: DayWindow | None, start_marks: dict[int, Decimal]) -> None:
        """Start over in ``day`` (None: the first event time opens one)."""
        self.day = day
        # UTC ns bounds of ``day``: an event at or after ``day_end_ns`` opens the next day
        # (read on every tick by the service, hence plain attributes).
        self.day_start_ns = day.start_ns if day else 0
        self.day_end_ns = day.end_ns if day else 0
        self.history: list[DayResult] = []  # the days before ``day``, oldest first
        self._day_fills = False  # a fill has counted today
        self._start_marks = start_marks  # prices when ``day`` began, per instrument

    # -- input --------------------------------------------------------------------
    def has_applied(self, trade_id: str) -> bool:
        return trade_id in self._applied

    def apply_fill(self, fill: FillRecord) -> PositionRecord | None:
        """Apply one fill; returns the updated position, or None when the trade id was applied."""
        if fill.broker != self.broker:
            raise ValueError(f"fill {fill.trade_id} is for {fill.broker}, book is {self.broker}")
        if fill.trade_id in self._applied:
            return None
        ts = fill.fill_ts
        if ts >= self.day_end_ns:
            self.roll_to(ts)
        key = (fill.strategy, fill.instrument_token)
        position = self._positions.get(key)
        if position is None:
            ledger = PositionLedger()
            position = _Position(fill.strategy, fill.instrument_token, fill.symbol, ledger)
        before = DayStart.of(position.ledger)
        position.ledger.apply(fill.side, fill.quantity, fill.price, fill.charges)
        self._positions[key] = position  # only after the ledger accepted the fill
        position.updated_ts = max(position.updated_ts, fill.fill_ts)
        self._cash += cash_flow(fill.side, fill.quantity, fill.price, fill.charges)
        self._applied.add(fill.trade_id)
        if ts < self.day_start_ns and not self._day_fills:
            position.start = DayStart.of(position.ledger)  # late, but today is still empty
            self._amend_yesterday(position, before)
        else:
            self._day_fills = True
        return self._record(position)

    def days_so_far(self) -> list[DayResult]:
        """``history`` and today, with yesterday re-valued at the closes today's ticks
        brought (the book may have seen yesterday's last prices late, or not at all)."""
        if self.day is None:
            return list(self.history)
        days = list(self.history)
        if days:
            change = ZERO
            for position in self._positions.values():
                start, token = position.start, position.instrument_token
                close = self.closes.get(token)
                if start.net_quantity and close is not None:
                    change += start.unrealized_at(close) - start.unrealized_at(
                        self._start_marks.get(token)
                    )
            if change:
                last = days[-1]
                days[-1] = DayResult(
                    last.day, last.realized_pnl, last.unrealized_pnl + change, last.charges
                )
        days.append(self.day_result())
        return days

    def _amend_yesterday(self, position: _Position, before: DayStart) -> None:
        """Add a late fill that became part of today's start to the day before it, so the
        days still add up to the whole."""
        if not self.history:
            return
        after, reference = position.start, self._reference(position)
        last = self.history[-1]
        self.history[-1] = DayResult(
            last.day,
            last.realized_pnl + after.realized_pnl - before.realized_pnl,
            last.unrealized_pnl + after.unrealized_at(reference) - before.unrealized_at(reference),
            last.charges + after.charges - before.charges,
        )

    def mark(
        self, instrument_token: int, price: Decimal, close: Decimal | None = None, ts: int = 0
    ) -> None:
        """Latest price (and previous close) of an instrument at event time ``ts``.

        O(1): called on every tick (the service inlines it). A close is the previous
        session's, so one from a tick older than today is not today's reference.
        """
        if ts >= self.day_end_ns:
            self.roll_to(ts)
        if ts > self.event_ns:
            self.event_ns = ts
        self.marks[instrument_token] = price
        if close is not None and ts >= self.day_start_ns:
            self.closes[instrument_token] = close

    def roll_to(self, ts: int) -> None:
        """Open the trading day of event time ``ts`` if it is later than the current one.

        Every position's figures now become its start of day; the finished day goes to
        ``history``. Previous closes are forgotten until today's ticks bring them.
        """
        window = self.days.window(ts)
        if self.day is not None:
            if window.start_ns <= self.day_start_ns:
                return
            self.history = self.days_so_far()
        self.day = window
        self.day_start_ns, self.day_end_ns = window.start_ns, window.end_ns
        self._day_fills = False
        for position in self._positions.values():
            position.start = DayStart.of(position.ledger)
        self._start_marks = dict(self.marks)  # one entry per instrument, once a day
        self.closes.clear()

    def rebuild(self, fills: Iterable[FillRecord]) -> None:
        """Reset positions, cash and the day to what ``fills`` (journal order) add up to;
        marks stay."""
        self._positions.clear()
        self._applied.clear()
        self._cash = self.starting_cash
        ticked = self.days.window(self.event_ns) if self.event_ns >= 0 else None
        if ticked is not None and ticked == self.day:
            self._reset_day(ticked, self._start_marks)
        else:
            self._reset_day(ticked, {})
            self.closes.clear()  # not known to be the previous closes of the day kept
        for fill in fills:
            self.apply_fill(fill)

    def restore(
        self,
        fills: Iterable[FillRecord],
        event_ns: int,
        marks: dict[int, Decimal],
        closes: dict[int, Decimal],
    ) -> None:
        """``rebuild(fills)`` where a stored snapshot left the market: at its event time
        ``event_ns``, its last prices ``marks`` and, while its day is still the book's,
        its previous ``closes``. A restart then values every position and the day's P&L
        as before the stop, before the first tick; marks the book already has stay."""
        self.event_ns = max(self.event_ns, event_ns)
        for token, price in marks.items():
            self.marks.setdefault(token, price)
        self.rebuild(fills)
        if self.day_start_ns <= event_ns < self.day_end_ns:
            for token, close in closes.items():
                self.closes.setdefault(token, close)

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

    def day_result(self) -> DayResult:
        """Today's realized, unrealized and charges (summed as ``snapshot`` sums them)."""
        realized = unrealized = charges = ZERO
        for position in self._positions.values():
            ledger, start = position.ledger, position.start
            realized += ledger.realized_pnl - start.realized_pnl
            charges += ledger.charges - start.charges
            pnl = ledger.unrealized_pnl(self._mark(position))
            unrealized += pnl - start.unrealized_at(self._reference(position))
        label = self.day.label if self.day is not None else ""
        return DayResult(label, realized, unrealized, charges)

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
        start_marks = self._start_marks
        realized = unrealized = charges = values = gross = ZERO
        day_realized = day_unrealized = day_charges = ZERO
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
            start = position.start  # the day part, as ``day_result`` computes it
            realized_today = ledger.realized_pnl - start.realized_pnl
            charges_today = ledger.charges - start.charges
            if start.net_quantity:
                reference = close if close is not None else start_marks.get(token)
                unrealized_today = pnl - start.unrealized_at(reference)
            else:
                unrealized_today = pnl
            day_realized += realized_today
            day_unrealized += unrealized_today
            day_charges += charges_today
            day_change = None if mark is None or close is None else mark - close
            today = (realized_today, unrealized_today, charges_today)
            views.append(self._view(position, mark, pnl, day_change, today))
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
            trading_day=self.day.label if self.day is not None else "",
            day_realized_pnl=day_realized,
            day_unrealized_pnl=day_unrealized,
            day_charges=day_charges,
            event_ts=max(self.event_ns, 0),
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
    def snapshot_record(
        snapshot: PnlSnapshot, marks: StoredMarks | None = None
    ) -> PnlSnapshotRecord:
        """``snapshot`` as stored, with the ``marks`` it was valued at (``stored_marks``)."""
        return project(PnlSnapshotRecord, snapshot, marks=marks or {})

    # -- internals ----------------------------------------------------------------
    def _mark(self, position: _Position) -> Decimal | None:
        return self.marks.get(position.instrument_token)

    def _reference(self, position: _Position) -> Decimal | None:
        """Where the carried quantity stood at today's start: previous close, else the last
        price seen before today; None (valued at cost) when neither is known."""
        token = position.instrument_token
        close = self.closes.get(token)
        return close if close is not None else self._start_marks.get(token)

    def _day_change(self, instrument_token: int) -> Decimal | None:
        """Kite's day change: last price − previous close, per unit; None until both are known."""
        last = self.marks.get(instrument_token)
        close = self.closes.get(instrument_token)
        if last is None or close is None:
            return None
        return last - close

    def _record(self, position: _Position) -> PositionRecord:
        return project(PositionRecord, self._snapshot_of(position), updated_ts=position.updated_ts)

    def _snapshot_of(self, position: _Position) -> PositionSnapshot:
        mark = self._mark(position)
        ledger, start = position.ledger, position.start
        unrealized = ledger.unrealized_pnl(mark)
        today = (
            ledger.realized_pnl - start.realized_pnl,
            unrealized - start.unrealized_at(self._reference(position)),
            ledger.charges - start.charges,
        )
        day_change = self._day_change(position.instrument_token)
        return self._view(position, mark, unrealized, day_change, today)

    def _view(
        self,
        position: _Position,
        mark: Decimal | None,
        unrealized_pnl: Decimal,
        day_change: Decimal | None,
        today: tuple[Decimal, Decimal, Decimal],
    ) -> PositionSnapshot:
        """One position as the bus and the console see it, marked at ``mark``, with
        ``today``'s realized, unrealized and charges (its part of the day figures)."""
        ledger = position.ledger
        day_realized, day_unrealized, day_charges = today
        return PositionSnapshot(
            broker=self.broker,
            strategy=position.strategy,
            instrument_token=position.instrument_token,
            symbol=position.symbol,
            net_quantity=ledger.net_quantity,
            average_price=ledger.average_price,
            last_price=mark,
            realized_pnl=ledger.realized_pnl,
            unrealized_pnl=unrealized_pnl,
            charges=ledger.charges,
            day_change=day_change,
            updated_ts=position.updated_ts,
            trading_day=self.day.label if self.day is not None else "",
            day_realized_pnl=day_realized,
            day_unrealized_pnl=day_unrealized,
            day_charges=day_charges,
        )
