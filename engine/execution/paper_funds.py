"""``PaperFunds``: the paper venue refuses an order its funds cannot cover, like Kite's RMS.

The figures come from ``FundsBook``, fed by the fill journal itself: ``watch`` wraps
execution's store, so every fill that ``apply_execution`` journals (once per trade id)
is booked with its order's product, and the fills execution lists when it starts
rebuild the book from nothing. A restart therefore shows the same funds as before it,
derived from journalled fills, with no separately stored figure to drift.

Working orders block their margin until they fill or end, as Kite blocks an open
order's margin; so two orders in quick succession cannot spend the same rupees. The
refusal reads like the live one (``engine.execution.funds.shortfall``). Execution asks
only about orders that add exposure; exits and square-offs never wait on funds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.clock import Clock, SystemClock
from engine.domain.records import FillRecord, OrderRecord
from engine.events.payloads import OrderIntent
from engine.events.types import Broker, OrderType, Product
from engine.execution.funds import Funds, shortfall
from engine.execution.funds_book import FundsBook

log = logging.getLogger("alphapanda.execution.funds")

LastPrice = Callable[[int], Decimal | None]


@dataclass(frozen=True, slots=True)
class PaperFundsConfig:
    """The paper account: MIS margin as value / ``mis_leverage``; ``check`` refuses an
    order the funds cannot cover (off: the figures are still kept and shown)."""

    check: bool = True
    mis_leverage: Decimal = Decimal(5)

    def __post_init__(self) -> None:
        if self.mis_leverage < 1:
            raise ValueError("paper MIS leverage must be at least 1")


def paper_funds_for(
    config: Any,
    broker: Broker,
    funds_check: object | None,
    clock: Clock,
    on_funds: Callable[[Funds], None] | None = None,
) -> PaperFunds | None:
    """The paper venue's funds model for a pipeline, or None (live, or not configured).

    ``config`` is the pipeline's: its ``paper_funds`` and ``starting_cash`` (the same
    starting cash the portfolio and the backtest's ``equity_start`` use). ``on_funds``
    (the console's funds line) is told the figures from the first change on.
    """
    settings: PaperFundsConfig | None = config.paper_funds
    if broker is not Broker.PAPER or settings is None or funds_check is not None:
        return None
    return PaperFunds(
        starting_cash=config.starting_cash,
        mis_leverage=settings.mis_leverage,
        enabled=settings.check,
        clock=clock,
        on_funds=on_funds,
    )


class PaperFunds:
    """Implements ``FundsCheck`` for the paper venue from its fill journal."""

    def __init__(
        self,
        *,
        starting_cash: Decimal,
        mis_leverage: Decimal = Decimal(5),
        enabled: bool = True,
        clock: Clock | None = None,
        on_funds: Callable[[Funds], None] | None = None,
    ) -> None:
        self.book = FundsBook(starting_cash, mis_leverage)
        self.enabled = enabled
        self._clock = clock or SystemClock()
        self._on_funds = on_funds  # told the figures after every fill and order change
        self._announcing = False
        # Bound by the pipeline once execution exists: its working orders, last prices.
        self.working: Callable[[], Iterable[OrderRecord]] = tuple
        self.last_price: LastPrice = lambda _token: None

    def bind(self, execution: Any) -> None:
        """Read ``execution``'s working orders and its paper venue's last prices."""
        self.working = lambda: execution.working.values()
        venue = getattr(execution.adapter, "broker", None)
        last_price = getattr(venue, "last_price", None)
        if last_price is not None:
            self.last_price = last_price

    # -- the check ------------------------------------------------------------------
    async def problem(self, intent: OrderIntent) -> str | None:
        """None when the funds cover the part of ``intent`` that adds exposure."""
        if not self.enabled:
            return None
        key = (intent.strategy, intent.instrument_token)
        opening = self.book.opening_quantity(key, intent.side, intent.quantity)
        if opening == 0:
            return None
        price = self._price(intent.order_type, intent.price, intent.trigger_price, key[1])
        if price is None:
            log.warning(
                "paper funds: no price to value the order yet; the venue fills it on a tick",
                extra={"client_order_id": intent.client_order_id},
            )
            return None
        required = self.book.margin_of(price * opening, intent.product)
        available = self.book.available - self._blocked(exclude=intent.client_order_id)
        if required > available:
            return shortfall(required, available)
        return None

    def figures(self) -> Funds:
        """Available, used (open positions and working orders) and total, now."""
        used = self.book.used + self._blocked()
        return Funds(
            available=self.book.total - used,
            used=used,
            source="paper",
            as_of_ns=self._clock.now_ns(),
        )

    def _blocked(self, exclude: str = "") -> Decimal:
        """Margin the working orders block for what they would open."""
        blocked = Decimal(0)
        for order in self.working():
            if order.client_order_id == exclude:
                continue
            remaining = order.quantity - order.filled_quantity
            key = (order.strategy, order.instrument_token)
            opening = self.book.opening_quantity(key, order.side, remaining)
            price = self._price(order.order_type, order.price, order.trigger_price, key[1])
            if opening and price is not None:
                blocked += self.book.margin_of(price * opening, order.product)
        return blocked

    def _price(
        self,
        order_type: OrderType,
        price: Decimal | None,
        trigger: Decimal | None,
        token: int,
    ) -> Decimal | None:
        """The price an order is valued at: its limit, else its trigger, else the market."""
        if order_type in (OrderType.LIMIT, OrderType.SL) and price is not None:
            return price
        if order_type is OrderType.SL_M and trigger is not None:
            return trigger
        return self.last_price(token)

    # -- the journal ----------------------------------------------------------------
    def record(self, fill: FillRecord, product: Product) -> None:
        self.book.apply(fill, product)
        self.announce()

    async def restore(self, fills: Sequence[FillRecord], product_of: Callable[[str], Any]) -> None:
        """Rebuild the book from the whole journal (in journal order). Only the orders
        whose fills are still open need their product, so only those are looked up."""
        probe = FundsBook(self.book.starting_cash, self.book.mis_leverage)
        for fill in fills:
            probe.apply(fill, Product.CNC)
        products: dict[str, Product] = {}
        for coid in probe.open_order_ids():
            order = await product_of(coid)
            products[coid] = order.product if order is not None else Product.CNC
        book = FundsBook(self.book.starting_cash, self.book.mis_leverage)
        for fill in fills:
            book.apply(fill, products.get(fill.client_order_id, Product.CNC))
        self.book = book
        self.announce()

    def announce(self) -> None:
        """Tell ``on_funds`` the figures once the handler that changed them has updated
        its working orders (next loop turn; several changes in one turn, one call)."""
        if self._on_funds is None or self._announcing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._on_funds(self.figures())
            return
        self._announcing = True
        loop.call_soon(self._announce_now)

    def _announce_now(self) -> None:
        self._announcing = False
        if self._on_funds is not None:
            self._on_funds(self.figures())

    def watch(self, store: Any) -> _JournalWatch:
        """``store`` as execution should see it: fills reach this book as they are
        journalled, and execution's start-up listing of fills rebuilds it."""
        return _JournalWatch(store, self)


class _JournalWatch:
    """Execution's store, with its fill journal observed by ``PaperFunds``.

    Execution lists its fills only when it starts (to rebuild its positions), so the
    book is rebuilt from exactly the fills execution counts.
    """

    def __init__(self, store: Any, funds: PaperFunds) -> None:
        self._store = store
        self._funds = funds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def apply_execution(self, order: OrderRecord, fill: FillRecord | None) -> bool:
        applied: bool = await self._store.apply_execution(order, fill)
        if applied and fill is not None:
            self._funds.record(fill, order.product)
        return applied

    async def update_order(self, order: OrderRecord) -> None:
        await self._store.update_order(order)
        self._funds.announce()  # a working order now blocks margin, or no longer does

    async def list_fills(self, broker: Broker) -> list[FillRecord]:
        fills: list[FillRecord] = await self._store.list_fills(broker)
        await self._funds.restore(fills, self._store.get_order)
        return fills
