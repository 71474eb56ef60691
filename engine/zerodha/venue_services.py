"""The live venue's services beside the ticker: a start-safe adapter and the order-book poll."""

from __future__ import annotations

import logging
from typing import Any

from engine.events.payloads import ComponentHealth
from engine.events.types import Broker, ComponentStatus, OrderStatus
from engine.zerodha.adapter import ZerodhaAdapter
from engine.zerodha.order_updates import ZerodhaOrderUpdates
from engine.zerodha.session import ZerodhaSession

log = logging.getLogger("alphapanda.zerodha.live")


class LiveZerodhaAdapter(ZerodhaAdapter):
    """``ZerodhaAdapter`` whose start-up order-book read never crashes execution.

    Logged out (or Zerodha unreachable) at start, every stored working order counts as
    possibly at Zerodha: execution keeps it without sending it again, and the reconciler
    links or reports it after the next login. Never a second send of an unknown order.
    """

    def __init__(self, session: ZerodhaSession, store: Any, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self._store = store

    async def open_orders(self) -> list[str]:
        try:
            return await super().open_orders()
        except Exception as exc:
            log.warning(
                "zerodha order book unreadable at start: working orders kept for reconciliation",
                extra={"error": type(exc).__name__},
            )
            working = [s for s in OrderStatus if s.is_working]
            orders = await self._store.list_orders(Broker.ZERODHA, statuses=working)
            return [o.client_order_id for o in orders]


class OrderBookPollerService:
    """Runs the order-book poll of ``ZerodhaOrderUpdates`` under the supervisor."""

    def __init__(self, updates: ZerodhaOrderUpdates) -> None:
        self.name = "zerodha.order_updates"
        self.updates = updates

    async def run(self) -> None:
        await self.updates.run()

    def stop(self) -> None:
        self.updates.stop()

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name,
            status=ComponentStatus.RUNNING,
            detail=f"{self.updates.polls} polls, {self.updates.foreign_rows} foreign rows",
            processed=self.updates.polls,
        )
