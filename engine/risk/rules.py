"""Pre-trade risk rules: each one a small function returning None or a ``Rejection`` in words.

Rules read ``RiskState`` (built from pipeline events) and the shared ``TradingState``;
none reads the wall clock — market hours are judged at the signal's event time.
Exposure rules count working orders as if they fill, and never block an order that
shrinks the exposure they guard.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.clock import IST, ns_to_datetime
from engine.domain.records import Instrument
from engine.domain.reducing import only_reduces
from engine.events.payloads import Signal
from engine.events.types import OrderType, Product
from engine.market.calendar import MarketStatus
from engine.market.square_off import MisClock, describe_cutoff, exchange_of
from engine.risk.limits import RiskLimits
from engine.risk.state import RiskState
from engine.trading_state.state import TradingState

_OPEN = MarketStatus.OPEN


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a signal may not trade: the rule's name and a reason a trader can read."""

    rule: str
    reason: str


def _no_instrument(_token: int) -> Instrument | None:
    return None


@dataclass(frozen=True, slots=True)
class RuleContext:
    limits: RiskLimits
    state: RiskState
    trading: TradingState
    is_known: Callable[[int], bool]
    instrument_of: Callable[[int], Instrument | None] = _no_instrument
    mis_clock: MisClock | None = None  # built from ``limits.mis_cutoffs`` when None

    def __post_init__(self) -> None:
        if self.mis_clock is None:
            object.__setattr__(self, "mis_clock", MisClock(self.limits.mis_cutoffs))


Rule = Callable[[Signal, RuleContext], Rejection | None]
LimitsOff = Callable[[RiskLimits], bool]
_IDLE_WHEN: dict[Rule, LimitsOff] = {}  # filled only by ``idle_when``, beside each rule


def idle_when(limits_off: LimitsOff) -> Callable[[Rule], Rule]:
    """Declare, on the rule itself, when it cannot reject: while ``limits_off(limits)`` is
    true the limit it checks is switched off, and the rule returns None first thing,
    whatever the signal and the state. ``active_rules`` then leaves it out."""

    def declare(check: Rule) -> Rule:
        @functools.wraps(check)
        def rule(signal: Signal, ctx: RuleContext) -> Rejection | None:
            return None if limits_off(ctx.limits) else check(signal, ctx)

        _IDLE_WHEN[rule] = limits_off
        return rule

    return declare


LimitCheck = Callable[[Signal, RuleContext, Any], Rejection | None]
_LIMIT_NAMES = frozenset(field.name for field in dataclasses.fields(RiskLimits))


def on_limit(name: str) -> Callable[[LimitCheck], Rule]:
    """A rule of the one optional limit ``name`` of ``RiskLimits``: idle while it is None
    (switched off), called with its value otherwise. The limit is named once."""
    if name not in _LIMIT_NAMES:
        raise ValueError(f"RiskLimits has no limit {name!r}")

    def declare(check: LimitCheck) -> Rule:
        @idle_when(lambda limits: getattr(limits, name) is None)
        @functools.wraps(check)
        def rule(signal: Signal, ctx: RuleContext) -> Rejection | None:
            return check(signal, ctx, getattr(ctx.limits, name))

        return rule

    return declare


def _idle(rule: Rule, limits: RiskLimits) -> bool:
    limits_off = _IDLE_WHEN.get(rule)
    return limits_off is not None and limits_off(limits)


def rupees(amount: Decimal) -> str:
    return f"₹{amount:,.2f}"


def reduces_position(signal: Signal, state: RiskState) -> bool:
    """True when the order shrinks the strategy's position without flipping it.

    Reducing orders already working count against the room, so two sells of the
    whole position while REDUCING do not turn a long into a short; working orders on the
    other side do not add to it.
    """
    net = state.net_quantity(signal.strategy, signal.instrument_token)
    return only_reduces(
        net,
        signal.side,
        signal.quantity,
        lambda: abs(
            state.working_on_side(signal.instrument_token, signal.strategy, signal.side.sign)
        ),
    )


def order_price(signal: Signal, state: RiskState) -> Decimal | None:
    """The price an order would trade at: its limit, else the market, else what the strategy saw."""
    if signal.order_type in (OrderType.LIMIT, OrderType.SL) and signal.limit_price is not None:
        return signal.limit_price
    return state.mark_price(signal.instrument_token) or signal.reference_price


# -- rules, in the order they are checked -------------------------------------------
def check_trading_state(signal: Signal, ctx: RuleContext) -> Rejection | None:
    reason = ctx.trading.block_reason(signal.strategy, lambda: reduces_position(signal, ctx.state))
    return Rejection("trading_state", reason) if reason else None


def check_instrument(signal: Signal, ctx: RuleContext) -> Rejection | None:
    token = signal.instrument_token
    if not ctx.is_known(token):
        return Rejection(
            "instrument", f"unknown instrument {signal.symbol} (token {token}): not in the registry"
        )
    allowed = ctx.limits.allowed_instruments
    if allowed and token not in allowed:
        return Rejection(
            "instrument", f"{signal.symbol} (token {token}) is not in the allowed instruments"
        )
    return None


def check_lot_and_freeze(signal: Signal, ctx: RuleContext) -> Rejection | None:
    """Whole lots only; above the exchange's freeze quantity only as autoslice legs (within
    their cap), since one order that large would be refused by the exchange."""
    instrument = ctx.instrument_of(signal.instrument_token)
    if instrument is None:
        return None
    lot = instrument.lot_size
    if lot > 1 and signal.quantity % lot:
        return Rejection(
            "lot_size",
            f"{signal.quantity} {signal.symbol} is not a whole number of lots (lot size {lot})",
        )
    refusal = ctx.limits.freeze.refusal(instrument, signal.quantity)
    return Rejection("freeze_quantity", refusal) if refusal else None


@idle_when(lambda limits: not limits.enforce_market_hours)
def check_market_hours(signal: Signal, ctx: RuleContext) -> Rejection | None:
    if signal.signal_ts <= 0:
        return Rejection("market_hours", "signal carries no event time; cannot check market hours")
    calendar = ctx.limits.calendar
    status = calendar.status(signal.signal_ts)
    if status is _OPEN:
        return None
    local = ns_to_datetime(signal.signal_ts, IST)
    when = f"{local:%a %Y-%m-%d %H:%M:%S} IST"
    session = f"{calendar.open_time:%H:%M}-{calendar.close_time:%H:%M} IST"
    if status is MarketStatus.HOLIDAY:
        return Rejection("market_hours", f"NSE is closed for a holiday at {when}")
    if status is MarketStatus.WEEKEND:
        return Rejection("market_hours", f"NSE is closed on weekends ({when})")
    return Rejection("market_hours", f"market is {status.value} at {when} (session {session})")


@idle_when(lambda limits: not limits.mis_cutoffs)
def check_mis_cutoff(signal: Signal, ctx: RuleContext) -> Rejection | None:
    """No new MIS entry after the segment's square-off cut-off, until the next session.

    An exit (an order that reduces the strategy's position) is still allowed, so a
    strategy can close what the square-off has not yet closed.
    """
    clock = ctx.mis_clock
    if signal.product is not Product.MIS or signal.signal_ts <= 0 or clock is None:
        return None
    instrument = ctx.instrument_of(signal.instrument_token)
    exchange = instrument.exchange if instrument is not None else exchange_of(signal.symbol)
    cutoff = clock.closed_at(exchange, signal.signal_ts)
    if cutoff is None or reduces_position(signal, ctx.state):
        return None
    return Rejection(
        "mis_cutoff",
        f"no new MIS entries after the {describe_cutoff(exchange, cutoff)}: "
        f"{signal.side.value} {signal.quantity} {signal.symbol} refused; exits are still "
        "allowed and MIS entries reopen at the next session",
    )


def check_order_quantity(signal: Signal, ctx: RuleContext) -> Rejection | None:
    if signal.quantity <= 0:
        return Rejection("max_order_quantity", f"quantity {signal.quantity} must be positive")
    limit = ctx.limits.max_order_quantity
    if limit is not None and signal.quantity > limit:
        return Rejection(
            "max_order_quantity",
            f"quantity {signal.quantity} exceeds the per-order limit of {limit}",
        )
    return None


@idle_when(lambda limits: not limits.strategy_positions)
def check_strategy_position(signal: Signal, ctx: RuleContext) -> Rejection | None:
    """A strategy never holds more than its size, nor goes short unless it may.

    Working orders count as filled, so a wish repeated while the first order is in flight
    (after a crash, a halt or a lagging position) cannot stack a position or flip it.
    """
    limit = ctx.limits.strategy_positions.get(signal.strategy)
    if limit is None or reduces_position(signal, ctx.state):
        return None
    state = ctx.state
    token = signal.instrument_token
    net = state.net_quantity(signal.strategy, token)
    working = state.working_room(token, signal.strategy, signal.side.sign)
    after = net + working + signal.side.sign * signal.quantity
    held = f"holds {net:+d}" + (f", {working:+d} working" if working else "")
    if after < 0 and not limit.allow_short:
        return Rejection(
            "strategy_position",
            f"{signal.strategy} {held} {signal.symbol}: {signal.side.value} {signal.quantity} "
            f"would leave it short {after:+d}, and it is long-only (allow_short: false)",
        )
    if abs(after) > limit.max_position:
        return Rejection(
            "strategy_position",
            f"{signal.strategy} {held} {signal.symbol}: {signal.side.value} {signal.quantity} "
            f"would make it {after:+d}, beyond its size {limit.max_position}",
        )
    return None


@on_limit("price_band_pct")
def check_price_band(signal: Signal, ctx: RuleContext, band: Decimal) -> Rejection | None:
    if signal.limit_price is None and signal.trigger_price is None:
        return None  # a market order has no price of its own to check
    prices = [p for p in (signal.limit_price, signal.trigger_price) if p is not None]
    last = ctx.state.last_prices.get(signal.instrument_token)  # ticks only: never self-compare
    if last is None or last <= 0:
        return Rejection(
            "price_band",
            f"no market price for {signal.symbol} yet; cannot check price {prices[0]} "
            f"against the ±{band}% band",
        )
    for price in prices:
        deviation = abs(price - last) / last * 100
        if deviation > band:
            return Rejection(
                "price_band",
                f"price {price} is {deviation:.2f}% away from last price {last} (band ±{band}%)",
            )
    return None


def _no_value_limit(limits: RiskLimits) -> bool:
    """No limit values the order, so none needs its price."""
    return (
        limits.max_order_value is None
        and limits.max_position_value is None
        and limits.max_gross_exposure is None
    )


@idle_when(_no_value_limit)
def check_price_known(signal: Signal, ctx: RuleContext) -> Rejection | None:
    if order_price(signal, ctx.state) is None:
        return Rejection("no_price", f"no price known for {signal.symbol}; cannot value the order")
    return None


@on_limit("max_order_value")
def check_order_value(signal: Signal, ctx: RuleContext, limit: Decimal) -> Rejection | None:
    price = order_price(signal, ctx.state)
    if price is None:
        return None
    value = price * signal.quantity
    if value > limit:
        return Rejection(
            "max_order_value",
            f"order value {rupees(value)} ({signal.quantity} × {price}) exceeds the per-order "
            f"limit of {rupees(limit)}",
        )
    return None


@on_limit("max_position_value")
def check_position_value(signal: Signal, ctx: RuleContext, limit: Decimal) -> Rejection | None:
    state = ctx.state
    token = signal.instrument_token
    price = state.mark_price(token) or order_price(signal, state)
    if price is None:
        return None
    current = state.instrument_net(token) + state.working_net(token)
    projected = current + signal.side.sign * signal.quantity
    value = abs(projected) * price
    if abs(projected) <= abs(current) or value <= limit:
        return None
    return Rejection(
        "max_position_value",
        f"position in {signal.symbol} would be {projected} ({rupees(value)} at {price}, "
        f"working orders included), above the per-instrument limit of {rupees(limit)}",
    )


@on_limit("max_gross_exposure")
def check_gross_exposure(signal: Signal, ctx: RuleContext, limit: Decimal) -> Rejection | None:
    """Every instrument's net, working orders included, at its mark (0 without one); the
    signal's instrument with the order added, priced at the order's price without a mark."""
    state = ctx.state
    token = signal.instrument_token
    nets = state.nets_with_working()
    now = Decimal(0)
    for tok, net in nets.items():
        if net:
            now += abs(net) * (state.mark_price(tok) or Decimal(0))
    net = nets.get(token, 0)
    mark = state.mark_price(token)
    price = mark or Decimal(0)
    own_price = mark or order_price(signal, state) or Decimal(0)
    extra = signal.side.sign * signal.quantity
    projected = now - abs(net) * price + abs(net + extra) * own_price
    if projected <= limit or projected <= now:
        return None
    return Rejection(
        "max_gross_exposure",
        f"gross exposure would be {rupees(projected)} (now {rupees(now)}, working orders "
        f"included), above the limit of {rupees(limit)}",
    )


@on_limit("max_daily_loss")
def check_daily_loss(signal: Signal, ctx: RuleContext, limit: Decimal) -> Rejection | None:
    pnl = ctx.state.day_pnl
    if pnl is None or pnl > -limit or reduces_position(signal, ctx.state):
        return None
    return Rejection(
        "daily_loss",
        f"day P&L {rupees(pnl)} has reached the daily loss limit of {rupees(limit)}; "
        "only orders that reduce a position are allowed",
    )


@on_limit("max_open_orders")
def check_open_orders(signal: Signal, ctx: RuleContext, limit: int) -> Rejection | None:
    count = len(ctx.state.open_orders)
    if count >= limit:
        return Rejection("max_open_orders", f"{count} orders already open (limit {limit})")
    return None


@on_limit("max_orders_per_second")
def check_order_rate(signal: Signal, ctx: RuleContext, limit: int) -> Rejection | None:
    count = ctx.state.orders_in_window(signal.signal_ts)
    if count >= limit:
        return Rejection(
            "order_rate", f"{count} orders in the last second already (limit {limit} per second)"
        )
    return None


RULES: tuple[Rule, ...] = (
    check_trading_state,
    check_instrument,
    check_lot_and_freeze,
    check_market_hours,
    check_mis_cutoff,
    check_order_quantity,
    check_strategy_position,
    check_price_band,
    check_price_known,
    check_order_value,
    check_position_value,
    check_gross_exposure,
    check_daily_loss,
    check_open_orders,
    check_order_rate,
)


def active_rules(rules: tuple[Rule, ...], limits: RiskLimits) -> tuple[Rule, ...]:
    """``rules`` in order, less those ``limits`` leaves idle: the same verdicts (rules only
    read), fewer calls per signal."""
    return tuple(rule for rule in rules if not _idle(rule, limits))


def evaluate(signal: Signal, ctx: RuleContext, rules: tuple[Rule, ...] = RULES) -> Rejection | None:
    """The first rule that rejects, or None when the signal may trade."""
    for rule in rules:
        rejection = rule(signal, ctx)
        if rejection is not None:
            return rejection
    return None
