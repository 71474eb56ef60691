"""Stop-loss, target and trailing-stop levels of one position, and when a price crosses them.

Pure functions over a ``Protection`` record, so the rules are tested without a bus. Each
kind is an absolute price or a percent: of the average price for the stop and the target
(recomputed as the average changes), of the best price since the protection was set for
the trailing stop. A computed level is rounded to the tick *away* from the price it is
measured from, so a 1 % stop is never tighter than 1 %; an absolute price must already
be a tick multiple (``check_protection`` says so before anything is stored).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import msgspec

from engine.events.payloads import ProtectionLevels
from engine.events.types import Broker

STOP_LOSS = "stop-loss"
TARGET = "target"
TRAILING_STOP = "trailing stop"
HUNDRED = Decimal(100)


class Protection(ProtectionLevels, frozen=True, kw_only=True):
    """The stop, target and trailing stop kept for one (strategy, instrument) position.

    ``direction`` is +1 for a long and -1 for a short: the position it was set on. A
    position that flips or closes drops its protection. ``fired`` names the trigger that
    sent the exit ("" while armed); it is stored before the exit is emitted, so it never
    fires twice, and ``exit_signal_id`` is the exit's signal id (re-emitted verbatim on a
    retry of the same tick, which downstream dedup by client order id collapses).
    """

    broker: Broker
    strategy: str
    instrument_token: int
    symbol: str
    direction: int
    best_price: Decimal | None = None
    fired: str = ""
    fired_ts: int = 0
    exit_signal_id: str = ""
    operator: str = ""
    set_ts: int = 0

    @property
    def key(self) -> tuple[str, int]:
        return (self.strategy, self.instrument_token)

    @property
    def has_trail(self) -> bool:
        return self.trail_amount is not None or self.trail_pct is not None


class Levels(msgspec.Struct, frozen=True, gc=False):
    """The prices that trigger an exit now (None: that kind is not set)."""

    stop: Decimal | None
    target: Decimal | None
    trail: Decimal | None


def to_tick(price: Decimal, tick: Decimal | None, rounding: str) -> Decimal:
    """``price`` on a multiple of ``tick`` (unchanged without a tick size)."""
    if not tick:
        return price
    return (price / tick).to_integral_value(rounding=rounding) * tick


def levels_of(p: Protection, average_price: Decimal, tick: Decimal | None) -> Levels:
    """The trigger prices for ``p`` on a position at ``average_price``."""
    d = p.direction
    stop = p.stop_price
    if stop is None and p.stop_pct is not None:
        raw = average_price * (1 - d * p.stop_pct / HUNDRED)
        stop = to_tick(raw, tick, ROUND_FLOOR if d > 0 else ROUND_CEILING)
    target = p.target_price
    if target is None and p.target_pct is not None:
        raw = average_price * (1 + d * p.target_pct / HUNDRED)
        target = to_tick(raw, tick, ROUND_CEILING if d > 0 else ROUND_FLOOR)
    trail = None
    best = p.best_price
    if best is not None and p.has_trail:
        if p.trail_amount is not None:
            raw = best - d * p.trail_amount
        else:
            assert p.trail_pct is not None
            raw = best * (1 - d * p.trail_pct / HUNDRED)
        trail = to_tick(raw, tick, ROUND_FLOOR if d > 0 else ROUND_CEILING)
    return Levels(stop, target, trail)


def with_best(p: Protection, price: Decimal) -> Protection:
    """``p`` with the best price since set moved to ``price`` when it is better (a trailing
    stop only ever tightens); the same object when nothing changes."""
    if not p.has_trail or p.fired:
        return p
    best = p.best_price
    if best is not None and (price - best) * p.direction <= 0:
        return p
    return msgspec.structs.replace(p, best_price=price)


def crossed(p: Protection, levels: Levels, price: Decimal) -> str:
    """Which trigger ``price`` crosses ("" for none). A long exits at or below the stop or
    the trailing stop and at or above the target; a short the mirror image. When the stop
    and the trailing stop are both crossed, the tighter one is named."""
    if p.fired:
        return ""
    d = p.direction
    stop, trail = levels.stop, levels.trail
    hit_stop = stop is not None and (price - stop) * d <= 0
    hit_trail = trail is not None and (price - trail) * d <= 0
    if hit_stop and hit_trail and stop is not None and trail is not None:
        return TRAILING_STOP if (trail - stop) * d > 0 else STOP_LOSS
    if hit_stop:
        return STOP_LOSS
    if hit_trail:
        return TRAILING_STOP
    if levels.target is not None and (price - levels.target) * d >= 0:
        return TARGET
    return ""


def check_protection(p: Protection, tick: Decimal | None) -> str:
    """Why ``p`` cannot be stored ("" when it can): one price or one percent per kind,
    finite, prices positive and on the tick, percents strictly between 0 and 100."""
    pairs = (
        ("stop", p.stop_price, p.stop_pct),
        ("target", p.target_price, p.target_pct),
        ("trail", p.trail_amount, p.trail_pct),
    )
    if all(price is None and pct is None for _, price, pct in pairs):
        return "nothing to protect with: give a stop, a target or a trailing stop"
    for name, price, pct in pairs:
        if price is not None and pct is not None:
            return f"{name}: give a price or a percent, not both"
        if any(value is not None and not value.is_finite() for value in (price, pct)):
            return f"{name} must be a number"
        if price is not None:
            if price <= 0:
                return f"{name} {price} must be above zero"
            if tick and price % tick != 0:
                return f"{name} {price} is not a multiple of the tick size {tick}"
        if pct is not None and not Decimal(0) < pct < HUNDRED:
            return f"{name} {pct}% must be between 0 and 100"
    if p.direction not in (1, -1):
        return "no open position to protect"
    return ""
