"""The paper fill model: at which price and quantity a tick fills a working order.

Stated so a trader can predict paper results: market orders take the far side of the
next quote (ask to buy, bid to sell; last price when there is no quote) plus
``slippage_bps``, rounded to the tick against the trader. A limit order that is
marketable when it arrives takes the quote (a price at least as good as its limit);
once it has rested through a tick it is a maker and fills at its limit when the quote
crosses it. Stops trigger on the last price. Quantity is capped by the quote's size
when the tick carries one, so large orders fill partially over several ticks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from engine.events.payloads import Tick
from engine.events.types import Side

_BPS = Decimal("10000")


def round_to_tick(price: Decimal, tick_size: Decimal, side: Side) -> Decimal:
    """Round to a tick multiple against the trader: up for a buy, down for a sell."""
    rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    steps = (price / tick_size).to_integral_value(rounding=rounding)
    return (steps * tick_size).quantize(tick_size)


def on_tick(price: Decimal, tick_size: Decimal) -> bool:
    """True when ``price`` is a whole multiple of ``tick_size``."""
    return tick_size > 0 and price % tick_size == 0


def stop_triggered(side: Side, trigger_price: Decimal, last_price: Decimal) -> bool:
    """A buy stop fires when the price rises to the trigger; a sell stop when it falls to it."""
    return last_price >= trigger_price if side is Side.BUY else last_price <= trigger_price


@dataclass(frozen=True, slots=True)
class FillModel:
    """Prices and sizes fills from a tick; pure, so the same ticks give the same fills."""

    slippage_bps: Decimal = Decimal("0")
    partial_fills: bool = True

    def __post_init__(self) -> None:
        if self.slippage_bps < 0:
            raise ValueError("slippage_bps must not be negative")

    @staticmethod
    def quote(side: Side, tick: Tick) -> Decimal:
        """The price a taker meets: ask to buy, bid to sell, last price without a quote."""
        far = tick.ask if side is Side.BUY else tick.bid
        return far if far is not None and far > 0 else tick.last_price

    def available(self, side: Side, tick: Tick, wanted: int) -> int:
        """How much of ``wanted`` the quote can take (all of it without a quote size)."""
        if not self.partial_fills:
            return wanted
        size = tick.ask_quantity if side is Side.BUY else tick.bid_quantity
        return min(wanted, size) if size > 0 else wanted

    def market_price(self, side: Side, tick: Tick, tick_size: Decimal) -> Decimal:
        """The quote moved against the trader by the slippage, on a tick multiple."""
        price = self.quote(side, tick)
        if self.slippage_bps:
            shift = price * self.slippage_bps / _BPS
            price = price + shift if side is Side.BUY else price - shift
        price = round_to_tick(price, tick_size, side)
        return max(price, tick_size)

    def limit_price(
        self, side: Side, limit: Decimal, tick: Tick, *, resting: bool
    ) -> Decimal | None:
        """Fill price of a limit order on this tick, or None when the quote does not cross.

        An order that arrives marketable (``resting`` False) takes the quote; one that has
        rested is a maker and trades at its own limit.
        """
        quote = self.quote(side, tick)
        crosses = quote <= limit if side is Side.BUY else quote >= limit
        if not crosses:
            return None
        return limit if resting else quote
