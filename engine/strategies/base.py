"""The strategy contract: a pure function of ticks to trade intents, one state per instrument.

Strategies do no I/O and never read the clock: everything they know comes from the ticks
they are fed, so a backtest and a live session give the same signals for the same ticks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import IntEnum
from typing import ClassVar, Generic, Protocol, TypeVar

import msgspec

from engine.events.payloads import Tick
from engine.events.types import Side
from engine.market.bars import Bar
from engine.strategies.params import StrategyParams


class Position(IntEnum):
    """The position a strategy intends to hold in one instrument."""

    SHORT = -1
    FLAT = 0
    LONG = 1


class SignalIntent(msgspec.Struct, frozen=True, gc=False):
    """What a strategy wants for the instrument of the tick it was given.

    A struct rather than a frozen dataclass: built for every signal, ten times cheaper.
    """

    side: Side
    quantity: int
    reason: str = ""


class Strategy(Protocol):
    name: str

    def on_tick(self, tick: Tick) -> Sequence[SignalIntent]: ...


class InstrumentState:
    """Indicator state of one instrument; subclasses add their fields (with ``__slots__``).

    ``position`` is the intended position; ``held`` the net quantity last known filled
    (from the portfolio); ``refused`` a target the pipeline refused, not wished again
    until the strategy decides something else (a halted strategy would otherwise re-send
    the same wish on every tick).
    """

    __slots__ = ("held", "position", "refused")

    def __init__(self) -> None:
        self.position = Position.FLAT
        self.held = 0
        self.refused: Position | None = None


def position_of(net_quantity: int) -> Position:
    """The position a filled net quantity amounts to."""
    return (
        Position.LONG if net_quantity > 0 else Position.SHORT if net_quantity < 0 else Position.FLAT
    )


S = TypeVar("S", bound=InstrumentState)
_NO_INTENTS: tuple[SignalIntent, ...] = ()


class PositionalStrategy(ABC, Generic[S]):
    """Keeps indicator state per instrument and emits intents only when the target changes.

    The intended position follows what was filled: the runner (``engine.strategies.book``)
    reports each fill (``hold``) and, once none of its orders is in flight, makes the
    intent what is held (``settle``); at start it restores both from the journal, so
    crashes, halts and rejections never stack or flip a position. A refused wish is not
    repeated until the strategy decides something else.
    """

    kind: ClassVar[str]

    def __init__(self, name: str, params: StrategyParams) -> None:
        self.name = name
        self.params = params
        self.quantity = params.quantity
        self.allow_short = params.allow_short
        self._states: dict[int, S] = {}

    @abstractmethod
    def new_state(self) -> S:
        """Fresh indicator state for an instrument seen for the first time."""

    @abstractmethod
    def update(self, state: S, price: float) -> tuple[Position, str] | None:
        """Fold one price into ``state``; return the target position and why, or None."""

    def on_tick(self, tick: Tick) -> Sequence[SignalIntent]:
        return self.decide(tick.instrument_token, float(tick.last_price))

    def on_bar(self, bar: Bar) -> Sequence[SignalIntent]:
        """A closed bar (strategies configured with ``bars``): its close is the price,
        so an indicator of N periods spans N bars instead of N ticks."""
        return self.decide(bar.instrument_token, float(bar.close))

    def decide(self, instrument_token: int, price: float) -> Sequence[SignalIntent]:
        """Fold ``price`` into the instrument's state; the intents a new target needs."""
        state = self._states.get(instrument_token)
        if state is None:
            state = self._states[instrument_token] = self.new_state()
        decision = self.update(state, price)
        if decision is None:
            return _NO_INTENTS
        target, reason = decision
        if target is Position.SHORT and not self.allow_short:
            target = Position.FLAT
        if target is state.refused:
            return _NO_INTENTS
        state.refused = None
        current = state.position
        if target is current:
            return _NO_INTENTS
        state.position = target
        held = state.held
        exit_quantity = abs(held) if held and position_of(held) is current else self.quantity
        return _transition(current, target, self.quantity, reason, exit_quantity)

    def _state(self, instrument_token: int) -> S:
        state = self._states.get(instrument_token)
        if state is None:
            state = self._states[instrument_token] = self.new_state()
        return state

    def hold(self, instrument_token: int, net_quantity: int) -> None:
        """What is filled now; the intent stays until nothing is in flight (``settle``)."""
        self._state(instrument_token).held = net_quantity

    def settle(self, instrument_token: int, *, retry: bool = False) -> None:
        """Nothing of this strategy is in flight here: the intended position becomes what
        is held. A wish that was not filled (refused, cancelled, rejected) is remembered
        and not repeated until the strategy decides something else, unless ``retry``: it
        was refused only because other orders of its own were still in flight, so it is
        wished again on the next tick (an exit refused while its entry was working)."""
        state = self._state(instrument_token)
        actual = position_of(state.held)
        if state.position is not actual:
            state.refused = None if retry else state.position
            state.position = actual

    def sync(self, instrument_token: int, net_quantity: int) -> None:
        """Start from ``net_quantity`` (held, or held plus working at a restart)."""
        state = self._state(instrument_token)
        state.held = net_quantity
        state.position = position_of(net_quantity)

    def refuse(self, instrument_token: int) -> None:
        """An order of this strategy was refused or ended unfilled (``settle``)."""
        self.settle(instrument_token)

    def position(self, instrument_token: int) -> Position:
        state = self._states.get(instrument_token)
        return state.position if state is not None else Position.FLAT

    def positions(self) -> dict[int, Position]:
        """Intended position per instrument token, for the strategies panel."""
        return {token: state.position for token, state in self._states.items()}


def _transition(
    current: Position, target: Position, quantity: int, reason: str, exit_quantity: int
) -> tuple[SignalIntent, ...]:
    """Exit first, then enter: a reversal is two intents, each either reducing or opening.

    An exit sells what is held (a partial fill holds less than ``quantity``)."""
    intents: list[SignalIntent] = []
    if current is Position.LONG:
        intents.append(SignalIntent(Side.SELL, exit_quantity, f"exit long: {reason}"))
    elif current is Position.SHORT:
        intents.append(SignalIntent(Side.BUY, exit_quantity, f"exit short: {reason}"))
    if target is Position.LONG:
        intents.append(SignalIntent(Side.BUY, quantity, f"enter long: {reason}"))
    elif target is Position.SHORT:
        intents.append(SignalIntent(Side.SELL, quantity, f"enter short: {reason}"))
    return tuple(intents)
