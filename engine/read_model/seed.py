"""The read model's start-up picture from the store: the day's orders (with each one's
status history and the day's risk refusals), positions and P&L.

Without it a restarted console shows an empty orders table and "waiting for the first
snapshot" until the pipeline next publishes, although the journal holds the day's orders,
the positions and the last P&L snapshot. The store is reached through ``ReadModelSource``
(a slice of ``engine.ports.TradingStore``), never imported: the engine stays below storage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

from engine.domain.projection import project
from engine.domain.records import (
    FillRecord,
    OrderRecord,
    OrderStepRecord,
    PnlSnapshotRecord,
    PositionRecord,
    RiskAlertRecord,
)
from engine.events.payloads import PnlSnapshot, PositionSnapshot, ProtectionState
from engine.events.types import Broker, OrderStatus
from engine.execution.order_mapping import order_update
from engine.market.sessions import TradingDays
from engine.portfolio.book import PortfolioBook
from engine.portfolio.marks import read_marks
from engine.protection.levels import Protection, levels_of
from engine.read_model.books import MAX_REJECTIONS, RiskRejection, StatusStep, TradeLine
from engine.read_model.model import ReadModel

log = logging.getLogger("alphapanda.read_model")

SEED_ORDERS = 500  # the newest orders read at start; the table keeps fewer finished ones


class ReadModelSource(Protocol):
    """What the read model reads from the store at start (``TradingStore`` has it all)."""

    async def list_orders(
        self, broker: Broker, statuses: list[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...

    async def list_positions(self, broker: Broker) -> list[PositionRecord]: ...

    async def latest_pnl_snapshot(self, broker: Broker) -> PnlSnapshotRecord | None: ...


def position_snapshot(position: PositionRecord) -> PositionSnapshot:
    """A stored position, marked at its last stored price (the feed moves it from there)."""
    last = position.last_price
    unrealized = Decimal("0")
    if last is not None and position.net_quantity:
        unrealized = (last - position.average_price) * position.net_quantity
    return project(PositionSnapshot, position, unrealized_pnl=unrealized)


def day_positions(
    broker: Broker,
    fills: list[FillRecord],
    positions: list[PositionRecord],
    snapshot: PnlSnapshotRecord | None,
    days: TradingDays,
) -> list[PositionSnapshot]:
    """Every stored position with its part of the stored snapshot's trading day.

    The positions table keeps no day figures, so the journal is replayed through a book as
    the portfolio does on start (the same figures it will publish), at the market the
    snapshot was valued at (its time, last prices and previous closes; for an older row,
    the positions' last stored prices), and moved on to the snapshot's day when the ticks
    had opened a later day than the last fill's before the stop.
    """
    book = PortfolioBook(broker, Decimal(0), days.calendar)
    if snapshot is not None and snapshot.event_ts > 0:  # the market the snapshot saw
        marks, closes = read_marks(snapshot.marks)
        book.restore(fills, snapshot.event_ts, marks, closes)
    else:
        book.rebuild(fills)
    for position in positions:  # a row the snapshot did not mark: its last stored price
        if position.last_price is not None:
            book.marks.setdefault(position.instrument_token, position.last_price)
    if snapshot is not None and snapshot.trading_day and book.day is not None:
        if snapshot.trading_day > book.day.label:
            day = date.fromisoformat(snapshot.trading_day)
            book.roll_to(days.window_of(day).start_ns)
    replayed = book.snapshot(snapshot.snapshot_ts if snapshot is not None else 0).positions
    known = {(view.strategy, view.instrument_token) for view in replayed}
    unjournaled = [  # a position with no fill behind it: its stored figures, no day part
        position_snapshot(p) for p in positions if (p.strategy, p.instrument_token) not in known
    ]
    return [*replayed, *unjournaled]


def pnl_snapshot(record: PnlSnapshotRecord) -> PnlSnapshot:
    """The last stored account snapshot (its positions come from the positions table)."""
    return project(PnlSnapshot, record)


def day_orders(orders: list[OrderRecord], days: TradingDays) -> list[OrderRecord]:
    """Every working order, and the finished ones of the newest order's trading day.

    The day is the journal's, by event time: on the simulated market it is the session the
    feed resumes in, live it is today's (an order from an earlier session is not today's).
    """
    if not orders:
        return []
    newest = max(max(o.created_ts, o.updated_ts) for o in orders)
    window = days.window(newest)
    return [
        o
        for o in orders
        if o.status.is_working or window.start_ns <= max(o.created_ts, o.updated_ts)
    ]


async def seed_read_model(
    model: ReadModel, source: ReadModelSource, broker: Broker, days: TradingDays | None = None
) -> None:
    """Draw the day's orders, the open positions and the last P&L from the store.

    Applied before the bus is read, so anything newer on the bus overrides it (orders keep
    their newest update, positions and P&L their latest snapshot).
    """
    days = days or TradingDays(model.clock.calendar)
    orders = day_orders(await source.list_orders(broker, limit=SEED_ORDERS), days)
    positions = await source.list_positions(broker)
    snapshot = await source.latest_pnl_snapshot(broker)
    fills = await source.list_fills(broker) if isinstance(source, FillSource) else None
    if snapshot is not None and model.pnl is None:
        model.apply_pnl(pnl_snapshot(snapshot))
        if model.clock.follows_events and model.event_ns is None and snapshot.event_ts:
            model.event_ns = snapshot.event_ts  # the SIM clock where it stopped, not wall
    if fills is None:
        seeded = [position_snapshot(position) for position in positions]
    else:
        seeded = day_positions(broker, fills, positions, snapshot, days)
    for view in seeded:  # every one, flat too: the portfolio's snapshots carry all
        model.apply_position(view)
    if isinstance(source, HistorySource):  # before the orders: their last state adds no step
        await seed_history(model, source, broker, orders, days)
    for order in sorted(orders, key=lambda o: max(o.created_ts, o.updated_ts)):
        model.apply_order(order_update(order, order.updated_ts or order.created_ts))
    if fills is not None:
        seed_trades(model, day_fills(fills, days))
    log.info(
        "read model seeded from the store",
        extra={
            "broker": broker.value,
            "orders": len(orders),
            "positions": len(positions),
            "pnl": snapshot is not None,
        },
    )


@runtime_checkable
class HistorySource(Protocol):
    """Where the orders book finds its history at start (``TradingStore`` has it)."""

    async def list_order_steps(self, client_order_ids: Sequence[str]) -> list[OrderStepRecord]: ...

    async def list_refusals(self, broker: Broker, limit: int = 200) -> list[RiskAlertRecord]: ...


async def seed_history(
    model: ReadModel,
    source: HistorySource,
    broker: Broker,
    orders: list[OrderRecord],
    days: TradingDays,
) -> None:
    """Every status each seeded order moved to, and the risk refusals of the newest
    refusal's trading day, so the orders book after a restart reads as before it."""
    histories: dict[str, list[StatusStep]] = {}
    for step in await source.list_order_steps([o.client_order_id for o in orders]):
        histories.setdefault(step.client_order_id, []).append(
            StatusStep(step.status, step.step_ts, step.filled_quantity, step.reason)
        )
    for client_order_id, steps in histories.items():
        model.books.restore_steps(client_order_id, steps)
    stored = await source.list_refusals(broker, MAX_REJECTIONS)  # newest first
    refusals = [r for r in map(_rejection, reversed(stored)) if r is not None]
    if refusals:
        window = days.window(max(r.ts for r in refusals))
        model.apply_stored_rejections(r for r in refusals if window.start_ns <= r.ts)


def _rejection(record: RiskAlertRecord) -> RiskRejection | None:
    """A stored refusal as the book shows it; None for one stored without what it
    refused (before the history was kept)."""
    if record.signal_id is None or record.side is None or record.quantity is None:
        return None
    return RiskRejection(
        signal_id=record.signal_id,
        strategy=record.strategy or "",
        symbol=record.symbol or "",
        side=record.side,
        quantity=record.quantity,
        price=record.price,
        rule=record.rule,
        reason=record.reason or record.message,
        ts=record.alert_ts,
    )


@runtime_checkable
class ProtectionSource(Protocol):
    """Where the read model finds the positions' protections at start (``TradingStore``)."""

    async def list_protections(self, broker: Broker) -> list[Protection]: ...


async def seed_protections(model: ReadModel, source: ProtectionSource, broker: Broker) -> None:
    """Draw each position's stop, target and trailing stop from the store (after the
    positions: percent levels are worked out from the seeded average price, unrounded to
    the tick, until the protection service publishes its own on start)."""
    for protection in await source.list_protections(broker):
        position = model.positions.get(protection.key)
        average = position.average_price if position is not None else Decimal(0)
        levels = levels_of(protection, average, None)
        model.apply_protection(
            ProtectionState(
                broker=protection.broker,
                strategy=protection.strategy,
                instrument_token=protection.instrument_token,
                symbol=protection.symbol,
                stop=levels.stop,
                target=levels.target,
                trail=levels.trail,
                best_price=protection.best_price,
                fired=protection.fired,
                updated_ts=protection.set_ts,
            )
        )


@runtime_checkable
class FillSource(Protocol):
    """Where the trade book finds the day's fills at start (``TradingStore`` has it)."""

    async def list_fills(self, broker: Broker) -> list[FillRecord]: ...


def day_fills(fills: list[FillRecord], days: TradingDays) -> list[FillRecord]:
    """The fills of the newest fill's trading day (the trade book shows one day)."""
    if not fills:
        return []
    window = days.window(max(f.fill_ts for f in fills))
    return [f for f in fills if window.start_ns <= f.fill_ts]


def seed_trades(model: ReadModel, fills: list[FillRecord]) -> None:
    """Stored fills into the trade book; one the bus delivers again is not counted twice."""
    model.apply_trades(project(TradeLine, fill) for fill in fills)
