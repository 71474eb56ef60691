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

from engine.domain.projection import project
from engine.domain.records import OrderRecord
from engine.events.payloads import Fill, OrderUpdate
from engine.events.types import Broker, OrderStatus, OrderType
from engine.execution.lifecycle import moves_back
from engine.periodic import PeriodicService
from engine.zerodha.autoslice import LegBook, autoslice_parent
from engine.zerodha.kite_orders import decimal_or_none, kite_time_ns, map_status, row_tag

log = logging.getLogger("alphapanda.zerodha.orders")
UpdateSink = Callable[[OrderUpdate], Awaitable[None]]
_WORKING = tuple(s for s in OrderStatus if s.is_working)
_AVG = Decimal("0.0001")


class LocalOrders(Protocol):
    """The order part of the storage port that updates need."""

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    async def list_orders(
        self, broker: Broker, statuses: Sequence[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...


@dataclass(slots=True)
class _Progress:
    """What this process last told execution about one order, and its trades' lag."""

    filled: int  # the most the order is known to have filled (journal or listed trades)
    status: OrderStatus
    terms: tuple[int, Decimal | None, Decimal | None]  # quantity, price, trigger price
    reason: str = ""
    venue_filled: int = 0
    lag_fetches: int = 0  # trade fetches since the trades last fell short of the row
    next_fetch_poll: int = 0  # while lagging: the poll number of the next fetch


class ZerodhaOrderUpdates(PeriodicService):
    """Turns Kite order rows into ``OrderUpdate`` payloads for ``sink``; polls while working.

    Fills come from the order's trades only; a row whose ``filled_quantity`` is ahead of
    the trades listed (Kite's trade book lags its order book) keeps the order lagging:
    its trades are fetched again on later polls, backing off (1, 2, 4 … up to
    ``lag_backoff_polls`` polls apart) and at most ``trade_fetches_per_poll`` per poll,
    so the request budget holds however many orders lag.
    """

    def __init__(
        self,
        client: Callable[[], Any],
        orders: LocalOrders,
        sink: UpdateSink,
        *,
        poll_interval_s: float = 2.0,
        known_trade_ids: Sequence[str] = (),
        trade_fetches_per_poll: int = 5,
        lag_backoff_polls: int = 32,
    ) -> None:
        if trade_fetches_per_poll < 1 or lag_backoff_polls < 1:
            raise ValueError("need trade_fetches_per_poll >= 1 and lag_backoff_polls >= 1")
        super().__init__("zerodha.order_updates", poll_interval_s)
        self._client = client
        self._orders = orders
        self._sink = sink
        self.trade_fetches_per_poll = trade_fetches_per_poll
        self.lag_backoff_polls = lag_backoff_polls
        self._trade_ids: set[str] = set(known_trade_ids)
        self._progress: dict[str, _Progress] = {}
        self._lagging: set[str] = set()  # client order ids whose trades fall short of the row
        self._fetch_budget: int | None = None  # trade fetches left in the running poll
        self._lock = asyncio.Lock()
        self.polls = 0
        self.trade_fetches = 0
        self.foreign_rows = 0  # orders without our tag (placed on Kite web or mobile)
        self.foreign_trades = 0  # trade rows listed under an order they do not belong to
        self._legs = LegBook()  # autoslice legs per client order

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
        parent = autoslice_parent(row)
        order = await self._orders.get_order(cid) if cid else None
        if order is None and parent:
            order = await self._order_of_parent(parent)
        if order is None or order.broker is not Broker.ZERODHA:
            self.foreign_rows += 1
            return []
        async with self._lock:
            if parent or self._legs.has(order.client_order_id):
                row = await self._leg_aggregate(order, parent, row)
            updates = await self._updates_for(order, row)
            for update in updates:
                await self._sink(update)
                self._remember(update)
        return updates

    @property
    def lagging(self) -> list[str]:
        """Client order ids whose trades have not caught up with their order row."""
        return sorted(self._lagging)

    async def poll_once(self) -> int:
        """Read the order book once if any of our orders works or lags; returns updates sent."""
        working = await self._orders.list_orders(Broker.ZERODHA, statuses=_WORKING)
        if not working and not self._lagging:
            return 0
        self.polls += 1
        rows = await asyncio.to_thread(self._client().orders)
        sent = 0
        self._fetch_budget = self.trade_fetches_per_poll
        try:
            for row in rows:
                sent += len(await self.ingest(row))
        finally:
            self._fetch_budget = None
        return sent

    async def run_once(self) -> int:
        return await self.poll_once()

    def survive(self, exc: Exception) -> bool:
        """A failed poll is logged (its type only) and retried on the next turn."""
        log.warning("order book poll failed", extra={"error": f"{type(exc).__name__}"})
        return True

    @property
    def poll_interval_s(self) -> float:
        return self.interval_s

    # -- autoslice legs ----------------------------------------------------------------
    async def _order_of_parent(self, parent: str) -> OrderRecord | None:
        """The client order whose autoslice parent id is ``parent`` (a leg's row is untagged)."""
        for order in await self._orders.list_orders(Broker.ZERODHA):
            if order.broker_order_id == parent:
                return order
        return None

    async def _leg_aggregate(
        self, order: OrderRecord, parent: str | None, row: dict[str, Any]
    ) -> dict[str, Any]:
        """The client order as one row summed over its legs. Before a final word with
        quantity unaccounted for, the book is read once, so an unseen leg is not taken
        for a refused one."""
        cid = order.client_order_id
        self._legs.note(cid, parent or order.broker_order_id or "", row)
        if self._legs.needs_book(cid, order.quantity):
            for other in await asyncio.to_thread(self._client().orders):
                if autoslice_parent(other) == self._legs.parent_of(cid):
                    self._legs.note(cid, self._legs.parent_of(cid), other)
            self._legs.book_read(cid)
        return self._legs.aggregate(cid, order.quantity)

    # -- translation -------------------------------------------------------------------
    async def _updates_for(self, order: OrderRecord, row: dict[str, Any]) -> list[OrderUpdate]:
        progress = self._progress_of(order)
        kite_filled = int(row.get("filled_quantity") or 0)
        if kite_filled < progress.venue_filled:
            log.info(
                "zerodha row older than one already read: ignored",
                extra={"client_order_id": order.client_order_id, "kite": row.get("status")},
            )
            return []
        quantity = int(row.get("quantity") or 0) or order.quantity
        status = map_status(row.get("status"), kite_filled, quantity, last=progress.status)
        if moves_back(progress.status, status):
            log.info(
                "zerodha status behind the order's: ignored",
                extra={"client_order_id": order.client_order_id, "kite": row.get("status")},
            )
            status = progress.status
        reason = str(row.get("status_message") or "") if status is OrderStatus.REJECTED else ""
        ts = kite_time_ns(row.get("exchange_update_timestamp") or row.get("order_timestamp"))
        base = _Base(order, str(row.get("order_id") or order.broker_order_id or ""), ts, row)
        updates: list[OrderUpdate] = []
        if kite_filled > progress.filled and self._may_fetch(order.client_order_id, progress):
            updates = await self._fill_updates(base, progress, status, kite_filled)
        if kite_filled > progress.filled:
            self._lagging.add(order.client_order_id)
        else:
            self._lagging.discard(order.client_order_id)
            progress.lag_fetches = 0
        state = (status, reason, base.terms, kite_filled)
        if not updates and state != (
            progress.status,
            progress.reason,
            progress.terms,
            progress.venue_filled,
        ):
            updates.append(base.update(status, kite_filled, None, reason=reason))
        return updates

    def _may_fetch(self, cid: str, progress: _Progress) -> bool:
        """Whether the order's trades may be read now. A push always may (Kite pushes on
        a trade); a poll backs off while the order lags and keeps to its budget."""
        if self._fetch_budget is None:
            return True
        if cid in self._lagging and self.polls < progress.next_fetch_poll:
            return False
        if self._fetch_budget <= 0:
            return False
        self._fetch_budget -= 1
        return True

    async def _fill_updates(
        self, base: _Base, progress: _Progress, final: OrderStatus, kite_filled: int
    ) -> list[OrderUpdate]:
        """An update per trade not seen yet, each with the order's filled through it; the
        last carries the row's status and Kite's ``filled_quantity``."""
        self.trade_fetches += 1
        ids = list(base.row.get("leg_order_ids") or [base.broker_order_id])
        trades = []
        for kite_id in ids:
            trades += await asyncio.to_thread(self._client().order_trades, kite_id)
        own = [t for t in trades if self._belongs(t, base, ids)]
        own.sort(key=lambda t: (kite_time_ns(t.get("fill_timestamp")), str(t.get("trade_id"))))
        listed, notional = 0, Decimal("0")
        pending: list[tuple[Fill, int, Decimal]] = []
        for trade in own:
            quantity = int(trade.get("quantity") or 0)
            price = decimal_or_none(trade.get("average_price")) or Decimal("0")
            listed += quantity
            notional += price * quantity
            trade_id = str(trade.get("trade_id"))
            if trade_id in self._trade_ids or any(f.trade_id == trade_id for f, _, _ in pending):
                continue
            fill_ts = kite_time_ns(trade.get("fill_timestamp")) or base.ts
            fill = Fill(trade_id=trade_id, quantity=quantity, price=price, fill_ts=fill_ts)
            pending.append((fill, listed, notional))
        progress.filled = max(progress.filled, listed)
        self._note_lag(base, progress, listed, kite_filled)
        updates = []
        for i, (fill, through, value) in enumerate(pending):
            last = i == len(pending) - 1
            status = final if last else _running_status(through, base.order.quantity)
            filled = max(through, kite_filled) if last else through
            average = (value / through).quantize(_AVG) if through else None
            reason = ""
            if last and final is OrderStatus.REJECTED:
                reason = str(base.row.get("status_message") or "")
            update = base.update(status, filled, average, fill=fill, reason=reason, ts=fill.fill_ts)
            updates.append(update)
        return updates

    def _belongs(self, trade: dict[str, Any], base: _Base, ids: list[str]) -> bool:
        """A trade row counts for the order only when it names the order's id (or a leg's)."""
        if str(trade.get("order_id") or "") in ids:
            return True
        self.foreign_trades += 1
        log.warning(
            "trade row of another order ignored",
            extra={
                "trade_id": trade.get("trade_id"),
                "order_id": trade.get("order_id"),
                "listed_for": base.broker_order_id,
            },
        )
        return False

    def _note_lag(self, base: _Base, progress: _Progress, listed: int, kite_filled: int) -> None:
        """Back off the next fetch while the trades fall short of the row's filled."""
        if listed >= kite_filled:
            progress.lag_fetches = 0
            return
        progress.lag_fetches += 1
        wait = min(2 ** (progress.lag_fetches - 1), self.lag_backoff_polls)
        progress.next_fetch_poll = self.polls + wait
        log.warning(
            "zerodha trades behind the order row: fetched again later",
            extra={
                "client_order_id": base.order.client_order_id,
                "filled_quantity": kite_filled,
                "trades_listed": listed,
                "fetches": progress.lag_fetches,
            },
        )

    def _progress_of(self, order: OrderRecord) -> _Progress:
        progress = self._progress.get(order.client_order_id)
        if progress is None:
            progress = _Progress(
                filled=order.filled_quantity,
                status=order.status,
                terms=(order.quantity, order.price, order.trigger_price),
                reason=order.reason,
                venue_filled=order.filled_quantity,
            )
            self._progress[order.client_order_id] = progress
        return progress

    def _remember(self, update: OrderUpdate) -> None:
        progress = self._progress[update.client_order_id]
        if update.fill is not None:
            self._trade_ids.add(update.fill.trade_id)
        progress.status = update.status
        progress.reason = update.reason
        progress.terms = (update.quantity, update.price, update.trigger_price)
        progress.venue_filled = update.filled_quantity


def _running_status(filled: int, quantity: int) -> OrderStatus:
    """The status of an order after one of several trades read at once."""
    return OrderStatus.FILLED if quantity and filled >= quantity else OrderStatus.PARTIALLY_FILLED


@dataclass(frozen=True, slots=True)
class _Base:
    """The order, its Kite id and the row being read: what every update from it shares."""

    order: OrderRecord
    broker_order_id: str
    ts: int
    row: dict[str, Any]

    @property
    def terms(self) -> tuple[int, Decimal | None, Decimal | None]:
        """Quantity, price and trigger price as the row has them (a modify changes them)."""
        order, row = self.order, self.row
        quantity = int(row.get("quantity") or 0) or order.quantity
        price = order.price
        if order.order_type in (OrderType.LIMIT, OrderType.SL):
            price = _positive(row.get("price")) or order.price
        trigger = order.trigger_price
        if order.order_type in (OrderType.SL, OrderType.SL_M):
            trigger = _positive(row.get("trigger_price")) or order.trigger_price
        return quantity, price, trigger

    def update(
        self,
        status: OrderStatus,
        filled: int,
        average: Decimal | None,
        *,
        fill: Fill | None = None,
        reason: str = "",
        ts: int | None = None,
    ) -> OrderUpdate:
        quantity, price, trigger = self.terms
        return project(
            OrderUpdate,
            self.order,  # its client order id, strategy, instrument, side, type and product
            broker=Broker.ZERODHA,
            quantity=quantity,
            status=status,
            filled_quantity=filled,
            average_price=average,
            price=price,
            trigger_price=trigger,
            broker_order_id=self.broker_order_id or None,
            fill=fill,
            reason=reason,
            update_ts=self.ts if ts is None else ts,
        )


def _positive(value: Any) -> Decimal | None:
    number = decimal_or_none(value)
    return number if number is not None and number > 0 else None


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("order update failed", exc_info=task.exception())
