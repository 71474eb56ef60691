"""Live order updates: the ticker's text pushes and a budgeted order-book poll, as events.

The socket pushes only on a trade, modify or cancel; intermediate states (OPEN
PENDING, a partial fill missed while reconnecting) are not pushed. So while any of our
orders works, the order book is polled (one request every ``poll_interval_s``, well
inside Kite's 10 req/s). Both sources go through one ``ingest``: a row becomes an
``OrderUpdate``; fills carry Kite's trade ids from ``order_trades`` and each trade id
is emitted once, however many times it is seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from engine.domain.records import OrderRecord
from engine.events.payloads import Fill, OrderUpdate
from engine.events.types import Broker, OrderStatus
from engine.execution.reports import VenueUpdate
from engine.zerodha.kite_orders import decimal_or_none, kite_time_ns, map_status, row_tag

log = logging.getLogger("alphapanda.zerodha.orders")
UpdateSink = Callable[[OrderUpdate], Awaitable[None]]
_WORKING = tuple(s for s in OrderStatus if s.is_working)


class LocalOrders(Protocol):
    """The order part of the storage port that updates need."""

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    async def list_orders(
        self, broker: Broker, statuses: Sequence[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...


@dataclass(slots=True)
class _Progress:
    filled: int
    notional: Decimal
    status: OrderStatus
    reason: str = ""


class ZerodhaOrderUpdates:
    """Turns Kite order rows into ``OrderUpdate`` payloads for ``sink``; polls while working."""

    def __init__(
        self,
        client: Callable[[], Any],
        orders: LocalOrders,
        sink: UpdateSink,
        *,
        poll_interval_s: float = 2.0,
        known_trade_ids: Sequence[str] = (),
    ) -> None:
        self._client = client
        self._orders = orders
        self._sink = sink
        self.poll_interval_s = poll_interval_s
        self._trade_ids: set[str] = set(known_trade_ids)
        self._progress: dict[str, _Progress] = {}
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self.polls = 0
        self.foreign_rows = 0  # orders without our tag (placed on Kite web or mobile)

    # -- inputs ------------------------------------------------------------------------
    def on_ticker_update(self, data: dict[str, Any]) -> None:
        """``KiteTickerFeed(on_order_update=...)``: runs on the loop; ingests in a task."""
        task = asyncio.get_running_loop().create_task(
            self.ingest(data), name=f"zerodha.order_update.{data.get('order_id')}"
        )
        task.add_done_callback(_log_failure)

    async def ingest(self, row: dict[str, Any]) -> list[OrderUpdate]:
        """One Kite order row (pushed or polled): the updates it implies, each sent once."""
        cid = row_tag(row)
        order = await self._orders.get_order(cid) if cid else None
        if order is None or order.broker is not Broker.ZERODHA:
            self.foreign_rows += 1
            return []
        async with self._lock:
            updates = await self._updates_for(order, row)
            for update in updates:
                await self._sink(update)
                self._remember(update)
        return updates

    async def poll_once(self) -> int:
        """Read the order book once if any of our orders works; returns updates sent."""
        working = await self._orders.list_orders(Broker.ZERODHA, statuses=_WORKING)
        if not working:
            return 0
        self.polls += 1
        rows = await asyncio.to_thread(self._client().orders)
        sent = 0
        for row in rows:
            sent += len(await self.ingest(row))
        return sent

    async def run(self) -> None:
        """Poll until ``stop()``; a failed poll is logged and retried on the next turn."""
        self._stopping.clear()
        while not self._stopping.is_set():
            try:
                await self.poll_once()
            except Exception as exc:
                log.warning("order book poll failed", extra={"error": f"{type(exc).__name__}"})
            try:
                async with asyncio.timeout(self.poll_interval_s):
                    await self._stopping.wait()
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping.set()

    # -- translation -------------------------------------------------------------------
    async def _updates_for(self, order: OrderRecord, row: dict[str, Any]) -> list[OrderUpdate]:
        progress = self._progress_of(order)
        kite_filled = int(row.get("filled_quantity") or 0)
        status = map_status(row.get("status"), kite_filled, order.quantity)
        reason = str(row.get("status_message") or "") if status is OrderStatus.REJECTED else ""
        ts = kite_time_ns(row.get("exchange_update_timestamp") or row.get("order_timestamp"))
        base = _Base(order, str(row.get("order_id") or order.broker_order_id or ""), ts)
        updates: list[OrderUpdate] = []
        if kite_filled > progress.filled:
            updates = await self._fill_updates(base, progress, status)
        if not updates and (status, reason) != (progress.status, progress.reason):
            if status is OrderStatus.FILLED and progress.filled < order.quantity:
                return []  # trades not visible yet: report the fill with its trade id later
            updates.append(base.update(status, progress.filled, progress.notional, reason=reason))
        return updates

    async def _fill_updates(
        self, base: _Base, progress: _Progress, final: OrderStatus
    ) -> list[OrderUpdate]:
        trades = await asyncio.to_thread(self._client().order_trades, base.broker_order_id)
        new = [t for t in trades if str(t.get("trade_id")) not in self._trade_ids]
        new.sort(key=lambda t: (kite_time_ns(t.get("fill_timestamp")), str(t.get("trade_id"))))
        filled, notional = progress.filled, progress.notional
        updates = []
        for trade in new:
            quantity = int(trade.get("quantity") or 0)
            price = decimal_or_none(trade.get("average_price")) or Decimal("0")
            filled += quantity
            notional += price * quantity
            fill_ts = kite_time_ns(trade.get("fill_timestamp")) or base.ts
            fill = Fill(
                trade_id=str(trade["trade_id"]), quantity=quantity, price=price, fill_ts=fill_ts
            )
            done = filled >= base.order.quantity
            status = final if done or final.is_terminal else OrderStatus.PARTIALLY_FILLED
            updates.append(base.update(status, filled, notional, fill=fill, ts=fill_ts))
        return updates

    def _progress_of(self, order: OrderRecord) -> _Progress:
        progress = self._progress.get(order.client_order_id)
        if progress is None:
            notional = (order.average_price or Decimal("0")) * order.filled_quantity
            progress = _Progress(order.filled_quantity, notional, order.status, order.reason)
            self._progress[order.client_order_id] = progress
        return progress

    def _remember(self, update: OrderUpdate) -> None:
        progress = self._progress[update.client_order_id]
        if update.fill is not None:
            self._trade_ids.add(update.fill.trade_id)
            progress.notional += update.fill.price * update.fill.quantity
        progress.filled = update.filled_quantity
        progress.status = update.status
        progress.reason = update.reason


@dataclass(frozen=True, slots=True)
class _Base:
    order: OrderRecord
    broker_order_id: str
    ts: int

    def update(
        self,
        status: OrderStatus,
        filled: int,
        notional: Decimal,
        *,
        fill: Fill | None = None,
        reason: str = "",
        ts: int | None = None,
    ) -> OrderUpdate:
        order = self.order
        return OrderUpdate(
            client_order_id=order.client_order_id,
            strategy=order.strategy,
            broker=Broker.ZERODHA,
            instrument_token=order.instrument_token,
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            order_type=order.order_type,
            product=order.product,
            status=status,
            filled_quantity=filled,
            average_price=(notional / filled).quantize(Decimal("0.0001")) if filled else None,
            price=order.price,
            trigger_price=order.trigger_price,
            broker_order_id=self.broker_order_id or None,
            fill=fill,
            reason=reason,
            update_ts=self.ts if ts is None else ts,
        )


def venue_update(update: OrderUpdate) -> VenueUpdate:
    """The same change in the shape execution's paper path reports (``VenueUpdate``)."""
    return VenueUpdate(
        client_order_id=update.client_order_id,
        status=update.status,
        filled_quantity=update.filled_quantity,
        average_price=update.average_price,
        fill=update.fill,
        reason=update.reason,
        update_ts=update.update_ts,
    )


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("order update failed", exc_info=task.exception())
