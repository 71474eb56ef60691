"""``KiteMarginCheck``: an order the account cannot pay for is refused before it leaves.

Before a live order goes out, execution asks Kite's order margins endpoint
(``order_margins``) what the order needs and compares it with the equity segment's
available margin (``margins("equity")["net"]``). The available figure is read at most
once per ``cache_s``; orders passed since that read are subtracted from it, so two
orders in quick succession cannot both spend the same rupees. Every request takes a
slot from its own rate limiter (Kite allows about 10 non-order requests a second,
apart from the order budget), so margin reads never eat into the day's order cap.

When Kite cannot answer, ``on_error`` decides: ``refuse`` (the default: an order
whose cost is unknown stays unsent, with the reason) or ``allow`` (send it; Kite's own
RMS still rejects a shortfall, as a broker rejection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from engine.clock import NS_PER_S, Clock, SystemClock
from engine.events.payloads import OrderIntent
from engine.money import inr
from engine.zerodha.kite_orders import KiteFailure, classify_failure, place_params
from engine.zerodha.rate_limit import OrderBudgetExhausted, OrderRateLimiter, RateLimits

log = logging.getLogger("alphapanda.zerodha.margins")


@dataclass(frozen=True, slots=True)
class MarginConfig:
    """Live margin check settings."""

    enabled: bool = True
    cache_s: float = 2.0  # how long one read of the available margin is reused
    on_error: Literal["refuse", "allow"] = "refuse"  # when Kite cannot tell the margin
    requests_per_second: int = 5  # margin requests; Kite allows ~10/s for non-order calls

    def __post_init__(self) -> None:
        if self.cache_s < 0:
            raise ValueError("margin cache_s must not be negative")
        if self.on_error not in ("refuse", "allow"):
            raise ValueError("margin on_error must be 'refuse' or 'allow'")
        if self.requests_per_second < 1:
            raise ValueError("margin requests_per_second must be at least 1")

    def limiter(self, clock: Clock | None = None) -> OrderRateLimiter:
        """A limiter for margin requests alone: per second and minute, no daily cap."""
        limits = RateLimits(
            per_second=self.requests_per_second,
            per_minute=60 * self.requests_per_second,
            per_day=10**9,
        )
        return OrderRateLimiter(limits, clock=clock)


class _MarginUnknown(Exception):
    """Kite did not tell the margin (an error, or an answer without the figure)."""


class _SessionEnded(_MarginUnknown):
    """Kite refused the token: no order can go out until the trader logs in again."""


class KiteMarginCheck:
    """Implements ``engine.execution.funds.FundsCheck`` with Kite's margin endpoints."""

    def __init__(
        self,
        client: Callable[[], Any],
        *,
        config: MarginConfig | None = None,
        limiter: OrderRateLimiter | None = None,
        clock: Clock | None = None,
        variety: str = "regular",
    ) -> None:
        self._client = client
        self.config = config or MarginConfig()
        self._clock = clock or SystemClock()
        self.limiter = limiter or self.config.limiter(self._clock)
        self._variety = variety
        self._available: Decimal | None = None
        self._read_ns = 0
        self._committed = Decimal(0)  # required by orders passed since the last read
        self._lock = asyncio.Lock()
        self.requests = 0  # margin requests that left the process

    async def problem(self, intent: OrderIntent) -> str | None:
        """None when the account covers ``intent``; else why it must not be sent."""
        if not self.config.enabled:
            return None
        async with self._lock:  # one check at a time: each sees the ones before it
            try:
                required = await self._required(intent)
                available = await self._available_now() - self._committed
            except _SessionEnded as exc:
                return f"Zerodha session ended ({exc}); log in again"
            except _MarginUnknown as exc:
                return self._unknown(intent, str(exc))
            if required > available:
                log.warning(
                    "margin shortfall: order not sent",
                    extra={
                        "client_order_id": intent.client_order_id,
                        "required": str(required),
                        "available": str(available),
                    },
                )
                return f"margin: needs {inr(required)}, available {inr(available)}"
            self._committed += required
            return None

    def forget(self) -> None:
        """Read the available margin afresh next time (after a login, or a fill)."""
        self._available = None

    async def _required(self, intent: OrderIntent) -> Decimal:
        params = place_params(intent, variety=self._variety, market_protection=-1)
        order = {k: v for k, v in params.items() if k in _MARGIN_FIELDS and v is not None}
        rows = await self._call("order_margins", [_jsonable(order)])
        try:
            return sum((Decimal(str(row["total"])) for row in rows), Decimal(0))
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise _MarginUnknown(f"Kite's order margins answer has no total ({exc!r})") from None

    async def _available_now(self) -> Decimal:
        now = self._clock.now_ns()
        fresh = now - self._read_ns <= self.config.cache_s * NS_PER_S
        if self._available is not None and fresh:
            return self._available
        equity = await self._call("margins", "equity")
        try:
            available = Decimal(str(equity["net"]))
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise _MarginUnknown(f"Kite's margins answer has no net figure ({exc!r})") from None
        self._available, self._read_ns, self._committed = available, now, Decimal(0)
        return available

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            await self.limiter.acquire()
            kite = self._client()
        except (OrderBudgetExhausted, ValueError) as exc:  # LoginError is a ValueError
            raise _MarginUnknown(str(exc)) from None
        self.requests += 1
        try:
            answer = await asyncio.to_thread(getattr(kite, method), *args)
        except Exception as exc:
            kind = classify_failure(exc)
            if kind is KiteFailure.TOKEN:
                raise _SessionEnded(f"{type(exc).__name__}: {exc}") from None
            if kind is KiteFailure.THROTTLED:
                self.limiter.throttled()
            raise _MarginUnknown(f"{type(exc).__name__}: {exc}") from None
        self.limiter.accepted()
        return answer

    def _unknown(self, intent: OrderIntent, why: str) -> str | None:
        if self.config.on_error == "allow":
            log.warning(
                "margin unknown: sending anyway (on_error=allow)",
                extra={"client_order_id": intent.client_order_id, "error": why},
            )
            return None
        return f"margin: could not check with Zerodha ({why}); not sent"


_MARGIN_FIELDS = (
    "exchange",
    "tradingsymbol",
    "transaction_type",
    "variety",
    "product",
    "order_type",
    "quantity",
    "price",
    "trigger_price",
)


def _jsonable(order: dict[str, Any]) -> dict[str, Any]:
    """Decimals as floats: the client sends the list as a JSON body."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in order.items()}
