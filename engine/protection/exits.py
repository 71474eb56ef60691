"""What the protection service sends: the exit signal for a crossed level, the state view a
console shows, and a protection built from an operator's command."""

from __future__ import annotations

from decimal import Decimal

from engine.domain.projection import project
from engine.events.payloads import ProtectionCommand, ProtectionState, Signal, Tick
from engine.events.types import OrderType, Product, Side
from engine.ids import derived_uuid7
from engine.protection.levels import Levels, Protection

MANUAL = "manual"  # the strategy name of orders placed by hand (issue 16.1)


def exit_signal_id(cause_id: str, protection: Protection, ts_ns: int) -> str:
    """The exit's signal id, derived from the tick that crossed and the position: a retry of
    the same tick gives the same id, so execution's outbox refuses a second order."""
    salt = f"protection:{protection.strategy}:{protection.instrument_token}"
    return derived_uuid7(cause_id, salt, 0, ts_ns // 1_000_000)


def exit_signal(
    protection: Protection,
    signal_id: str,
    quantity: int,
    tick: Tick,
    level: Decimal | None,
    product: Product,
) -> Signal:
    """One market order for the whole open quantity, on the side that closes the position,
    in the position's strategy; its reason names the trigger (it reaches the order story)."""
    side = Side.SELL if protection.direction > 0 else Side.BUY
    at = f" {level}" if level is not None else ""
    return Signal(
        signal_id=signal_id,
        strategy=protection.strategy,
        instrument_token=protection.instrument_token,
        symbol=protection.symbol,
        side=side,
        quantity=quantity,
        order_type=OrderType.MARKET,
        product=product,
        reference_price=tick.last_price,
        signal_ts=tick.exchange_ts,
        reason=f"{protection.fired}{at} crossed at {tick.last_price}",
    )


def level_of(levels: Levels, fired: str) -> Decimal | None:
    """The level named by a trigger ("stop-loss", "target", "trailing stop")."""
    return {"stop-loss": levels.stop, "target": levels.target}.get(fired, levels.trail)


def state_view(
    protection: Protection, levels: Levels | None, now_ns: int, removed: str = ""
) -> ProtectionState:
    """The console's view of ``protection``; ``removed`` says why it is gone."""
    return ProtectionState(
        broker=protection.broker,
        strategy=protection.strategy,
        instrument_token=protection.instrument_token,
        symbol=protection.symbol,
        stop=levels.stop if levels else None,
        target=levels.target if levels else None,
        trail=levels.trail if levels else None,
        best_price=protection.best_price,
        fired=protection.fired,
        removed=bool(removed),
        reason=removed,
        updated_ts=now_ns,
    )


def from_command(
    command: ProtectionCommand,
    symbol: str,
    direction: int,
    best_price: Decimal | None,
    now_ns: int,
) -> Protection:
    """A fresh (armed) protection for the position ``command`` names."""
    return project(
        Protection,
        command,
        symbol=symbol,
        direction=direction,
        best_price=best_price,
        set_ts=now_ns,
    )
