"""``KiteMarginCheck``: an order the account cannot pay for is refused before it leaves.

Before a live order goes out, execution asks Kite's order margins endpoint
(``order_margins``) what the order needs and compares it with the equity segment's
available margin (``margins("equity")["net"]``). The available figure is read at most
once per ``cache_s``; orders passed since that read are subtracted from it, so two
orders in quick succession cannot both spend the same rupees. Every request takes a
slot from its own rate limiter (Kite allows about 10 non-order requests a second,
apart from the order budget), so margin reads never eat into the day's order cap.

Checks that arrive while one is in flight (orders of a strategy's batch, of several
strategies at once) are answered together by one ``basket_order_margins`` request,
which also counts the hedge between them; when the basket request fails, each order is
asked on its own. ``problems`` checks a known batch the same way.

When Kite cannot answer, ``on_error`` decides: ``refuse`` (the default: an order
whose cost is unknown stays unsent, with the reason) or ``allow`` (send it; Kite's own
RMS still rejects a shortfall, as a broker rejection).

Every read of the equity margins is also handed to ``on_funds`` (the console's funds
line); ``read_funds`` is the poll that keeps it fresh between orders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from engine.clock import NS_PER_S, Clock, SystemClock
from engine.events.payloads import OrderIntent
from engine.execution.funds import Funds, shortfall
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
    funds_poll_s: float = 30.0  # the console's funds line between orders (``funds_poll``)

    def __post_init__(self) -> None:
        if self.cache_s < 0:
            raise ValueError("margin cache_s must not be negative")
        if self.on_error not in ("refuse", "allow"):
            raise ValueError("margin on_error must be 'refuse' or 'allow'")
        if self.requests_per_second < 1:
            raise ValueError("margin requests_per_second must be at least 1")
        if self.funds_poll_s <= 0:
            raise ValueError("funds_poll_s must be positive")

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


Verdict = str | None  # None: covered; else why the order must not be sent


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
        on_funds: Callable[[Funds], None] | None = None,
    ) -> None:
        self._client = client
        self.config = config or MarginConfig()
        self._clock = clock or SystemClock()
        self.limiter = limiter or self.config.limiter(self._clock)
        self._variety = variety
        self.on_funds = on_funds  # told every read of the equity margins
        self._available: Decimal | None = None
        self._read_ns = 0
        self._committed = Decimal(0)  # required by orders passed since the last read
        self._lock = asyncio.Lock()
        self._waiting: list[tuple[OrderIntent, asyncio.Future[Verdict]]] = []
        self._last_funds: Funds | None = None
        self.requests = 0  # margin requests that left the process
        self.baskets = 0  # of which basket requests

    async def problem(self, intent: OrderIntent) -> Verdict:
        """None when the account covers ``intent``; else why it must not be sent.

        Checks that queue behind one in flight are answered together, by one basket
        request: each sees the ones before it, and none waits for more than one round.
        """
        if not self.config.enabled:
            return None
        verdict: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        waiting = (intent, verdict)
        self._waiting.append(waiting)
        try:
            async with self._lock:
                if not verdict.done():
                    await self._answer_waiting(verdict)
        except asyncio.CancelledError:
            if waiting in self._waiting:  # never checked: reserves nothing
                self._waiting.remove(waiting)
            raise
        return verdict.result()

    async def _answer_waiting(self, own: asyncio.Future[Verdict]) -> None:
        """Check every queued order (``own`` among them) together; others keep their place
        in the queue if this caller is cancelled mid-request."""
        batch, self._waiting = self._waiting, []
        try:
            answers = await self._verdicts([intent for intent, _ in batch])
        except BaseException:
            self._waiting[:0] = [w for w in batch if w[1] is not own]
            raise
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    async def problems(self, intents: Sequence[OrderIntent]) -> list[Verdict]:
        """One verdict per order of a batch, in order; several cost one basket request."""
        if not self.config.enabled or not intents:
            return [None] * len(intents)
        async with self._lock:
            return await self._verdicts(list(intents))

    async def read_funds(self) -> Funds:
        """Kite's equity margins now (and the check's cached figure refreshed with them)."""
        async with self._lock:
            self._available = None
            await self._available_now()
            assert self._last_funds is not None
            return self._last_funds

    def forget(self) -> None:
        """Read the available margin afresh next time (after a login, or a fill)."""
        self._available = None

    async def _verdicts(self, intents: list[OrderIntent]) -> list[Verdict]:
        try:
            required, together = await self._required_all(intents)
            available = await self._available_now() - self._committed
        except _SessionEnded as exc:
            return [f"Zerodha session ended ({exc}); log in again"] * len(intents)
        except _MarginUnknown as exc:
            return [self._unknown(intent, str(exc)) for intent in intents]
        if together is not None and together <= available:
            self._committed += together  # the basket's hedge benefit counts
            return [None] * len(intents)
        verdicts: list[Verdict] = []
        for intent, needed in zip(intents, required, strict=True):
            if needed > available:
                self._log_shortfall(intent, needed, available)
                verdicts.append(shortfall(needed, available))
                continue
            available -= needed
            self._committed += needed
            verdicts.append(None)
        return verdicts

    async def _required_all(
        self, intents: list[OrderIntent]
    ) -> tuple[list[Decimal], Decimal | None]:
        """Each order's margin, and (for a basket) what they need together."""
        if len(intents) == 1:
            return [await self._required(intents[0])], None
        try:
            return await self._basket(intents)
        except _SessionEnded:
            raise
        except _MarginUnknown as exc:
            log.warning("basket margins failed: asking order by order", extra={"error": str(exc)})
        return [await self._required(intent) for intent in intents], None

    async def _basket(self, intents: list[OrderIntent]) -> tuple[list[Decimal], Decimal]:
        orders = [self._margin_order(intent) for intent in intents]
        self.baskets += 1
        answer = await self._call("basket_order_margins", orders, True)
        try:
            rows = answer["orders"]
            each = [_decimal(row["total"]) for row in rows]
            together = _decimal(answer["final"]["total"])
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise _MarginUnknown(f"Kite's basket margins answer has no total ({exc!r})") from None
        if len(each) != len(intents):
            raise _MarginUnknown(f"Kite's basket margins answered {len(each)} of {len(intents)}")
        return each, together

    async def _required(self, intent: OrderIntent) -> Decimal:
        rows = await self._call("order_margins", [self._margin_order(intent)])
        try:
            return sum((_decimal(row["total"]) for row in rows), Decimal(0))
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise _MarginUnknown(f"Kite's order margins answer has no total ({exc!r})") from None

    def _margin_order(self, intent: OrderIntent) -> dict[str, Any]:
        params = place_params(intent, variety=self._variety, market_protection=-1)
        order = {k: v for k, v in params.items() if k in _MARGIN_FIELDS and v is not None}
        return _jsonable(order)

    async def _available_now(self) -> Decimal:
        now = self._clock.now_ns()
        fresh = now - self._read_ns <= self.config.cache_s * NS_PER_S
        if self._available is not None and fresh:
            return self._available
        equity = await self._call("margins", "equity")
        try:
            available = _decimal(equity["net"])
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise _MarginUnknown(f"Kite's margins answer has no net figure ({exc!r})") from None
        self._available, self._read_ns, self._committed = available, now, Decimal(0)
        self._publish(equity, available, now)
        return available

    def _publish(self, equity: Any, available: Decimal, now: int) -> None:
        """Hand the figures to the console: available is ``net``, used Kite's debits."""
        try:
            used = _decimal(equity["utilised"]["debits"])
        except (KeyError, TypeError, ArithmeticError):
            used = Decimal(0)
        self._last_funds = Funds(available=available, used=used, source="zerodha", as_of_ns=now)
        if self.on_funds is not None:
            self.on_funds(self._last_funds)

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

    def _log_shortfall(self, intent: OrderIntent, required: Decimal, available: Decimal) -> None:
        log.warning(
            "margin shortfall: order not sent",
            extra={
                "client_order_id": intent.client_order_id,
                "required": str(required),
                "available": str(available),
            },
        )

    def _unknown(self, intent: OrderIntent, why: str) -> Verdict:
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


def _decimal(value: Any) -> Decimal:
    """Kite's float rupees as a Decimal to the paisa (floats carry binary noise)."""
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
