"""``ZerodhaAdapter``: the live venue behind execution's ``BrokerAdapter`` seam.

Orders go out through the real ``KiteConnect`` client in worker threads (it blocks),
after a slot from the order rate limiter. Kite has no idempotency key, so a place call
that gets no answer is never simply repeated: the order book is searched for the
order's ``tag`` (its client order id) and the order is sent again only when it is
truly absent, and then only once. A dead token stops every further send.

An order above the freeze quantity goes out once with ``autoslice``; its legs are Kite
orders of their own (tagged ``autoslice:<parent id>``), so a cancel or a price change of
the client order is sent to each working leg, found in the order book.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from engine.domain.records import OrderRecord
from engine.events.payloads import OrderIntent, Tick
from engine.events.types import OrderStatus
from engine.execution.broker import BrokerAdapter
from engine.execution.reports import PlaceAck, VenueUpdate
from engine.zerodha.autoslice import autoslice_parent
from engine.zerodha.kite_orders import (
    NEEDS_MARKET_PROTECTION,
    KiteFailure,
    classify_failure,
    map_status,
    place_params,
    row_tag,
)
from engine.zerodha.rate_limit import OrderBudgetExhausted, OrderRateLimiter

log = logging.getLogger("alphapanda.zerodha.orders")
LegsOf = Callable[[int, int], Sequence[int]]  # (instrument token, quantity) -> leg sizes
_ENDED = ("COMPLETE", "CANCELLED", "REJECTED")


class KiteSession(Protocol):
    """What the adapter needs from ``ZerodhaSession``."""

    def client(self) -> Any: ...

    def on_expired(self, listener: Callable[[str], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class ZerodhaConfig:
    """Live order settings. ``market_protection`` -1 lets Kite choose the band."""

    variety: str = "regular"
    market_protection: int = -1
    lookup_attempts: int = 2  # order-book searches before an unanswered order counts absent
    lookup_interval_s: float = 1.0  # wait before each search: the OMS may still be writing

    def __post_init__(self) -> None:
        if not (self.market_protection == -1 or 1 <= self.market_protection <= 100):
            raise ValueError("market_protection must be -1 (automatic) or 1..100 percent")
        if self.lookup_attempts < 1 or self.lookup_interval_s < 0:
            raise ValueError("need lookup_attempts >= 1 and lookup_interval_s >= 0")


class _LookupFailed(Exception):
    """The order book could not be read, so the order's fate stays unknown."""


class ZerodhaAdapter(BrokerAdapter):
    """Implements ``engine.execution.broker.BrokerAdapter`` over Kite Connect."""

    name = "zerodha"
    book_lost_on_restart = False

    def __init__(
        self,
        session: KiteSession,
        *,
        limiter: OrderRateLimiter | None = None,
        config: ZerodhaConfig | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        freeze_quantity_of: Callable[[int], int | None] | None = None,
    ) -> None:
        self._session = session
        self._limiter = limiter or OrderRateLimiter()
        self.config = config or ZerodhaConfig()
        self._sleep = sleep
        self._kite: Any = None
        self.refused: str | None = None
        self.place_requests = 0  # place calls that left the process
        self._freeze_of = freeze_quantity_of or (lambda _token: None)
        self._legs_of: LegsOf | None = None
        session.on_expired(self._session_ended)

    def slice_with(self, legs_of: LegsOf) -> None:
        """How an order splits at the exchange (the run's freeze policy); more than one
        leg means it goes out with Kite's autoslice."""
        self._legs_of = legs_of

    def sliced(self, instrument_token: int, quantity: int) -> bool:
        """True when an order of ``quantity`` is (or was sent as) autoslice legs."""
        if self._legs_of is not None and len(self._legs_of(instrument_token, quantity)) > 1:
            return True
        freeze = self._freeze_of(instrument_token)
        return bool(freeze and quantity > freeze)

    # -- BrokerAdapter -----------------------------------------------------------------
    async def place(self, intent: OrderIntent) -> PlaceAck:
        cid = intent.client_order_id
        try:
            params = place_params(
                intent,
                variety=self.config.variety,
                market_protection=self.config.market_protection,
            )
        except ValueError as exc:
            return _refused(cid, str(exc))
        if self.sliced(intent.instrument_token, intent.quantity):
            params["autoslice"] = True  # Kite slices it into legs of at most the freeze
        ack = await self._send_place(cid, params)
        if ack is not None:
            return ack
        for attempt in (1, 2):
            try:
                row = await self._find_by_tag(cid)
            except _LookupFailed as exc:
                return PlaceAck(client_order_id=cid, status=OrderStatus.UNKNOWN, reason=str(exc))
            if row is not None:
                log.info("unanswered order found by tag", extra={"client_order_id": cid})
                return _ack_from_row(cid, row)
            if attempt == 2:
                break
            log.warning("unanswered order not in the book: sending once more", extra={"tag": cid})
            ack = await self._send_place(cid, params)
            if ack is not None:
                return ack
        return _refused(
            cid,
            "Zerodha did not answer twice and the order is not in its order book; not sent again",
        )

    async def cancel(self, order: OrderRecord) -> PlaceAck:
        if not order.broker_order_id:
            return _refused(order.client_order_id, "not at Zerodha yet (no broker order id)")
        if self.sliced(order.instrument_token, order.quantity):
            return await self._change_legs(order, "cancel")
        return await self._change(order, "cancel", self.config.variety, order.broker_order_id)

    async def modify(
        self,
        order: OrderRecord,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> PlaceAck:
        if not order.broker_order_id:
            return _refused(order.client_order_id, "not at Zerodha yet (no broker order id)")
        changes: dict[str, Any] = {
            "quantity": quantity,
            "price": price,
            "trigger_price": trigger_price,
            "order_type": order.order_type.value,
        }
        if order.order_type in NEEDS_MARKET_PROTECTION:
            changes["market_protection"] = self.config.market_protection
        if self.sliced(order.instrument_token, order.quantity):
            if quantity is not None and quantity != order.quantity:
                return _refused(
                    order.client_order_id,
                    "the order went out as autoslice legs: its quantity cannot change; "
                    "cancel it and place a new one",
                )
            return await self._change_legs(order, "modify", **{**changes, "quantity": None})
        return await self._change(
            order, "modify", self.config.variety, order.broker_order_id, **changes
        )

    def on_tick(self, tick: Tick) -> Sequence[VenueUpdate]:
        return ()  # live fills arrive as order updates, never from ticks

    def catch_up(self, client_order_id: str) -> Sequence[VenueUpdate]:
        return ()  # the exchange fills against its own book

    def event_time_ns(self, instrument_token: int) -> int | None:
        return None  # live: the wall clock is the venue's time

    async def open_orders(self) -> list[str]:
        rows = await asyncio.to_thread(self._client().orders)
        return [
            tag
            for row in rows
            if (tag := row_tag(row)) and not map_status(row.get("status")).is_terminal
        ]

    # -- session -----------------------------------------------------------------------
    def resume_after_login(self) -> None:
        """A new login happened: drop the dead client and allow sending again."""
        self._kite = None
        self.refused = None

    def _session_ended(self, reason: str) -> None:
        self.refused = f"Zerodha session ended ({reason}); log in again"
        self._kite = None

    def _client(self) -> Any:
        if self._kite is None:
            self._kite = self._session.client()
        return self._kite

    # -- internals ---------------------------------------------------------------------
    async def _budgeted_client(self, cid: str) -> Any:
        """The Kite client for one order request once the rate limits let it go, or the
        refusal (a ``PlaceAck``) when the session ended or today's budget is spent."""
        if self.refused:
            return _refused(cid, self.refused)
        try:
            await self._limiter.acquire()
            return self._client()
        except (OrderBudgetExhausted, ValueError) as exc:  # LoginError is a ValueError
            return _refused(cid, str(exc))

    async def _send_place(self, cid: str, params: dict[str, Any]) -> PlaceAck | None:
        """One place request: an ack, or None when the outcome is unknown."""
        kite = await self._budgeted_client(cid)
        if isinstance(kite, PlaceAck):
            return kite
        self.place_requests += 1
        try:
            if params.get("autoslice"):
                answer = await asyncio.to_thread(_place_autoslice, kite, params)
            else:
                answer = {"order_id": await asyncio.to_thread(kite.place_order, **params)}
        except Exception as exc:
            return self._place_failed(cid, exc)
        self._limiter.accepted()
        order_id = str(answer["order_id"])
        log.info("order placed at zerodha", extra={"client_order_id": cid, "order_id": order_id})
        if "children" in answer:
            return autoslice_ack(cid, int(params["quantity"]), answer)
        return PlaceAck(client_order_id=cid, status=OrderStatus.SUBMITTED, broker_order_id=order_id)

    def _place_failed(self, cid: str, exc: Exception) -> PlaceAck | None:
        kind = classify_failure(exc)
        if kind is KiteFailure.UNKNOWN:
            log.warning(
                "place got no answer: looking the tag up",
                extra={"client_order_id": cid, "error": f"{type(exc).__name__}: {exc}"},
            )
            return None
        return _refused(cid, self._explain(kind, exc))

    def _explain(self, kind: KiteFailure, exc: Exception) -> str:
        if kind is KiteFailure.TOKEN:
            self._session_ended(f"Zerodha rejected the token: {exc}")
            return self.refused or str(exc)
        if kind is KiteFailure.THROTTLED:
            pause = self._limiter.throttled()
            return f"Zerodha rate limit hit (429): not sent; order requests paused {pause:g}s"
        return str(exc)

    async def _find_by_tag(self, cid: str) -> dict[str, Any] | None:
        """The order row carrying ``cid`` as its tag; None only when truly absent."""
        for _ in range(self.config.lookup_attempts):
            await self._sleep(self.config.lookup_interval_s)
            try:
                rows = await asyncio.to_thread(self._client().orders)
            except Exception as exc:
                if classify_failure(exc) is KiteFailure.TOKEN:
                    self._explain(KiteFailure.TOKEN, exc)
                raise _LookupFailed(
                    "no answer from Zerodha and its order book could not be read "
                    f"({type(exc).__name__}); reconciliation will resolve it"
                ) from None
            for row in rows:
                if row_tag(row) == cid:
                    return row
        return None

    async def _change(self, order: OrderRecord, verb: str, *args: Any, **kwargs: Any) -> PlaceAck:
        cid = order.client_order_id
        kite = await self._budgeted_client(cid)
        if isinstance(kite, PlaceAck):
            return kite
        call = kite.cancel_order if verb == "cancel" else kite.modify_order
        try:
            await asyncio.to_thread(call, *args, **kwargs)
        except Exception as exc:
            kind = classify_failure(exc)
            reason = self._explain(kind, exc)
            if kind is KiteFailure.UNKNOWN:
                reason = f"{verb} got no answer ({type(exc).__name__}); the order book will tell"
            return _refused(cid, reason)
        self._limiter.accepted()
        return PlaceAck(
            client_order_id=cid,
            status=order.status,
            broker_order_id=order.broker_order_id,
            reason=f"{verb} requested",
        )

    async def _change_legs(self, order: OrderRecord, verb: str, **changes: Any) -> PlaceAck:
        """Cancel or modify every working leg of a sliced order (the parent id is no order
        of Kite's book); the order book says which legs still work."""
        cid, parent = order.client_order_id, order.broker_order_id
        if self.refused:
            return _refused(cid, self.refused)
        try:
            rows = await asyncio.to_thread(self._client().orders)
        except Exception as exc:
            reason = self._explain(classify_failure(exc), exc)
            return _refused(
                cid, f"{verb}: the order book could not be read for its legs ({reason})"
            )
        legs = [r for r in rows if autoslice_parent(r) == parent]
        working = [r for r in legs if str(r.get("status") or "").upper() not in _ENDED]
        if not working:
            return _refused(cid, f"{verb}: no leg of autoslice order {parent} is working")
        refused = []
        for row in working:
            ack = await self._change(
                order, verb, self.config.variety, str(row["order_id"]), **changes
            )
            if not ack.accepted:
                refused.append(f"leg {row['order_id']}: {ack.reason}")
        if len(refused) == len(working):
            return _refused(cid, f"{verb} refused for every leg ({'; '.join(refused)})")
        reason = (
            f"{verb} requested for {len(working) - len(refused)} of {len(working)} working legs"
        )
        return PlaceAck(
            client_order_id=cid,
            status=order.status,
            broker_order_id=parent,
            reason=reason + (f"; refused: {'; '.join(refused)}" if refused else ""),
        )


def _place_autoslice(kite: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``place_order`` keeps only ``order_id`` of Kite's answer (kiteconnect 5.2.2 has no
    ``autoslice`` argument): the same request through the client's own ``_post`` keeps
    the whole answer, ``children[]`` included."""
    answer: dict[str, Any] = kite._post(
        "order.place", url_args={"variety": params["variety"]}, params=params
    )
    return answer


def autoslice_ack(cid: str, quantity: int, answer: dict[str, Any]) -> PlaceAck:
    """Kite's autoslice answer as one ack: the parent id, and a warning naming every
    child Kite refused (that leg is never sent again); REJECTED when every child was."""
    children = list(answer.get("children") or [])
    failed = [
        (n, child["error"]) for n, child in enumerate(children, 1) if not child.get("order_id")
    ]
    if not failed:
        return PlaceAck(
            client_order_id=cid,
            status=OrderStatus.SUBMITTED,
            broker_order_id=str(answer["order_id"]),
        )
    words = "; ".join(
        f"leg {n} of {len(children)} rejected by Zerodha "
        f"({(error or {}).get('error_type', 'error')}: {(error or {}).get('message', '')})"
        for n, error in failed
    )
    if len(failed) == len(children):
        return _refused(cid, f"autoslice: {words}")
    log.error("autoslice partly failed", extra={"client_order_id": cid, "failed": words})
    return PlaceAck(
        client_order_id=cid,
        status=OrderStatus.SUBMITTED,
        broker_order_id=str(answer["order_id"]),
        warning=(
            f"order {cid} ({quantity}) sliced by Zerodha: {words}; not sent again, "
            f"the other {len(children) - len(failed)} legs stand"
        ),
    )


def _refused(cid: str, reason: str) -> PlaceAck:
    return PlaceAck(client_order_id=cid, status=OrderStatus.REJECTED, reason=reason)


def _ack_from_row(cid: str, row: dict[str, Any]) -> PlaceAck:
    status = map_status(
        row.get("status"), int(row.get("filled_quantity") or 0), int(row.get("quantity") or 0)
    )
    reason = str(row.get("status_message") or "") if status is OrderStatus.REJECTED else ""
    return PlaceAck(
        client_order_id=cid, status=status, broker_order_id=str(row["order_id"]), reason=reason
    )
