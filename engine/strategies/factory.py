"""Build running strategies from configuration, checked against the instrument registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.domain.records import Instrument
from engine.events.types import Broker
from engine.instruments.registry import InstrumentRegistry, UnknownInstrument
from engine.strategies.base import PositionalStrategy
from engine.strategies.config import StrategyConfig, StrategyConfigError
from engine.strategies.ema_cross import EmaCross
from engine.strategies.mean_reversion import MeanReversion
from engine.strategies.momentum import Momentum
from engine.strategies.rsi import Rsi

STRATEGY_CLASSES: dict[str, type[PositionalStrategy]] = {
    cls.kind: cls for cls in (EmaCross, Momentum, MeanReversion, Rsi)
}


@dataclass(frozen=True, slots=True)
class StrategyBinding:
    """A strategy with the instruments it trades and the broker its signals go to."""

    strategy: PositionalStrategy
    instruments: tuple[Instrument, ...]
    broker: Broker
    config: StrategyConfig

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def tokens(self) -> frozenset[int]:
        return frozenset(i.instrument_token for i in self.instruments)


def build_strategy(config: StrategyConfig, registry: InstrumentRegistry) -> StrategyBinding:
    """Resolve instruments (known, tradable, quantity a lot multiple) and instantiate."""
    params = config.typed_params()
    instruments: list[Instrument] = []
    for key in config.instruments:
        try:
            instrument = registry.by_key(key)
        except UnknownInstrument:
            raise StrategyConfigError(
                f"strategy {config.name!r}: unknown instrument {key!r} (not in the registry)"
            ) from None
        if instrument.lot_size <= 0:
            raise StrategyConfigError(f"strategy {config.name!r}: {key} is not tradable (an index)")
        if params.quantity % instrument.lot_size:
            raise StrategyConfigError(
                f"strategy {config.name!r}: quantity {params.quantity} is not a multiple of "
                f"{key}'s lot size {instrument.lot_size}"
            )
        instruments.append(instrument)
    strategy = STRATEGY_CLASSES[config.kind](config.name, params)
    return StrategyBinding(strategy, tuple(instruments), config.broker, config)


def build_strategies(
    configs: Iterable[StrategyConfig], registry: InstrumentRegistry
) -> list[StrategyBinding]:
    """Bindings for the enabled configurations (disabled ones are skipped, not validated less)."""
    bindings = [build_strategy(config, registry) for config in configs]
    return [b for b in bindings if b.config.enabled]
