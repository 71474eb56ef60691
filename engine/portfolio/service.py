"""``PortfolioService``: turns fills into positions and P&L, stored and published.

The stored fills are the source of truth. On start the book is rebuilt from them, so
after a crash positions equal the journal, including fills execution journaled but
whose events were lost. A fill is applied once per trade id; a redelivered one is
not counted again but its position is re-stored and the current state re-published,
so an effect lost between a store write and a publish is still delivered (outputs
are state, not deltas, and their ids derive from the cause, so consumers dedup them).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Protocol

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.domain.records import FillRecord, PositionRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import OrderUpdate, PnlSnapshot, Tick
from engine.events.types import Broker, EventType
from engine.execution.order_mapping import fill_record
from engine.market.calendar import NseCalendar
from engine.portfolio.book import PortfolioBook
from engine.portfolio.marks import read_marks, stored_marks
from engine.ports import FillRepository, PositionRepository, SnapshotRepository
from engine.processing.dedup import DedupStore
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.processing.retry import PermanentError

log = logging.getLogger("alphapanda.portfolio")


class PortfolioStore(FillRepository, PositionRepository, SnapshotRepository, Protocol):
    """The part of ``TradingStore`` the portfolio needs."""


class PortfolioService(StreamProcessor):
    """Consumes order events and ticks of one broker; emits positions and P&L snapshots.

    ``config.timer_interval`` is the snapshot interval: each tick of it emits and stores
    a ``PNL_SNAPSHOT``; a final one is written on graceful stop.
    """

    def __init__(
        self,
        *,
        broker: Broker,
        bus: EventBus,
        store: PortfolioStore,
        starting_cash: Decimal,
        config: ProcessorConfig | None = None,
        dedup: DedupStore | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        calendar: NseCalendar | None = None,
    ) -> None:
        super().__init__(
            name=name or f"portfolio.{broker.value}",
            bus=bus,
            input_topics=[topics.orders_events(broker), topics.MARKET_TICKS],
            config=config,
            dedup=dedup,
            clock=clock,
        )
        self.broker = broker
        self.store = store
        self.book = PortfolioBook(broker, starting_cash, calendar)
        # Trade ids known to be in the fills table. Loaded from the store at start and
        # grown by what this service sees: a cheap membership test instead of a query
        # per fill, bounded like the book's applied set by the fills the store holds.
        self._journaled: set[str] = set()
        self._started = False
        self._positions_topic = topics.positions(broker)
        self._pnl_topic = topics.pnl_snapshots(broker)
        self._broker_key = topics.broker_name(broker)

    # -- lifecycle ----------------------------------------------------------------
    async def on_start(self) -> None:
        """Rebuild the book from the journal and re-store every position it implies, at
        the market the latest stored snapshot was marked at (its time, prices, closes)."""
        fills = await self.store.list_fills(self.broker)
        stored = await self.store.latest_pnl_snapshot(self.broker)
        if stored is not None and stored.event_ts > 0:
            marks, closes = read_marks(stored.marks)
            self.book.restore(fills, stored.event_ts, marks, closes)
        else:
            self.book.rebuild(fills)
        self._journaled = {fill.trade_id for fill in fills}
        for position in self.book.positions():
            await self.store.upsert_position(position)
        self._started = True
        log.info(
            "portfolio rebuilt",
            extra={
                "processor": self.name,
                "fills": len(fills),
                "positions": len(self.book.positions()),
            },
        )

    async def on_timer(self, out: Emitter) -> None:
        await self._store_and_emit_snapshot(out)

    async def on_stop(self) -> None:
        """Final snapshot on graceful stop; stored first, published if the bus still takes it.

        Journaled fills whose events this stop did not reach (the drain ran out of time
        under load) are counted first: the next start rebuilds from the journal, so a
        snapshot without them would make the day's P&L move on the restart."""
        if not self._started:
            return
        self._started = False
        out = Emitter(self.name, None, self.clock.now_ns())
        try:
            await self._count_undelivered_fills()
            await self._store_and_emit_snapshot(out)
            await self._publish(out)
        except Exception:
            log.warning("final snapshot not published", extra={"processor": self.name})

    async def _count_undelivered_fills(self) -> None:
        """Apply, in journal order, the journaled fills the book has not seen."""
        missing = [
            fill
            for fill in await self.store.list_fills(self.broker)
            if not self.book.has_applied(fill.trade_id)
        ]
        for fill in missing:
            try:
                position = self.book.apply_fill(fill)
            except (ValueError, TypeError):  # refused while running too (dead-lettered)
                continue
            if position is not None:
                await self.store.upsert_position(position)
        if missing:
            log.warning(
                "journaled fills counted at stop: their events were not delivered",
                extra={"processor": self.name, "fills": len(missing)},
            )

    # -- events -------------------------------------------------------------------
    def handle_now(self, envelope: EventEnvelope) -> bool:
        """A tick only moves the mark, and an order event without a fill changes nothing:
        no output, so no ``Emitter``."""
        data = envelope.data
        kind = type(data)
        if kind is Tick:  # ``book.mark`` inlined: it runs for every tick
            book = self.book
            # mypy cannot narrow through ``kind``; ``type(data) is Tick`` again costs a call.
            tick: Tick = data  # type: ignore[assignment]  # kind is Tick
            ts = tick.exchange_ts
            if ts >= book.day_end_ns:
                book.roll_to(ts)  # the first event of a new trading day
            if ts > book.event_ns:
                book.event_ns = ts
            book.marks[tick.instrument_token] = tick.last_price
            if tick.close is not None and ts >= book.day_start_ns:
                book.closes[tick.instrument_token] = tick.close
            return True
        return kind is OrderUpdate and data.fill is None  # type: ignore[union-attr]  # via kind

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        data = envelope.data
        if isinstance(data, Tick):
            self.book.mark(data.instrument_token, data.last_price, data.close, data.exchange_ts)
        elif isinstance(data, OrderUpdate) and data.fill is not None:
            await self._apply_fill(data, out)

    async def _apply_fill(self, update: OrderUpdate, out: Emitter) -> None:
        fill = self._fill_record(update)
        try:
            position = self.book.apply_fill(fill)
        except (ValueError, TypeError) as exc:
            raise PermanentError(f"fill {fill.trade_id} rejected by the ledger: {exc}") from exc
        if position is None:  # already counted: re-store and re-publish the current state
            position = self.book.position(fill.strategy, fill.instrument_token)
            assert position is not None
        await self._store_position(fill, position)
        snapshot, view = self.book.snapshot_with_position(
            out.now_ns, fill.strategy, fill.instrument_token
        )
        out.emit(
            self._positions_topic,
            EventType.POSITION_UPDATED,
            view,
            key=topics.order_key(self.broker, fill.strategy, fill.instrument_token),
            broker=self.broker,
        )
        self._emit_pnl(out, snapshot)

    def _emit_pnl(self, out: Emitter, snapshot: PnlSnapshot) -> None:
        out.emit(
            self._pnl_topic,
            EventType.PNL_SNAPSHOT,
            snapshot,
            key=self._broker_key,
            broker=self.broker,
        )

    async def _store_position(self, fill: FillRecord, position: PositionRecord) -> None:
        """Upsert the position; journal the fill too when execution did not (a live adapter)."""
        if fill.trade_id in self._journaled:
            await self.store.upsert_position(position)
            return
        if not await self.store.record_fill(fill, position):
            await self.store.upsert_position(position)  # journaled after we loaded the set
        self._journaled.add(fill.trade_id)

    def _fill_record(self, update: OrderUpdate) -> FillRecord:
        fill = update.fill
        assert fill is not None
        if update.broker != self.broker:
            raise PermanentError(f"order event for {update.broker} on the {self.broker} topic")
        return fill_record(update, fill)

    # -- snapshots ----------------------------------------------------------------
    async def _store_and_emit_snapshot(self, out: Emitter) -> None:
        snapshot = self.book.snapshot(out.now_ns)
        marks = stored_marks(self.book.marks, self.book.closes)
        await self.store.add_pnl_snapshot(PortfolioBook.snapshot_record(snapshot, marks))
        self._emit_pnl(out, snapshot)
