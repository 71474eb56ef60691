"""Risk limits: one frozen, validated config object built at the edge from settings.

The defaults here are the product's defaults: the settings (``ALPHAPANDA_RISK__*``) take
theirs from this class, so the engine on its own and the configured console enforce the
same limits. ``None`` switches a limit off. Money is ``Decimal``; ints and numeric strings
are accepted and converted, floats are refused (a limit of 0.1 rupees must not become
0.1000000000000000055).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from decimal import Decimal
from types import MappingProxyType

from engine.instruments.freeze import FreezePolicy
from engine.market.calendar import NseCalendar
from engine.market.square_off import MisCutoffs

_MONEY_FIELDS = ("max_order_value", "max_position_value", "max_gross_exposure", "max_daily_loss")
_COUNT_FIELDS = (
    "max_order_quantity",
    "max_open_orders",
    "max_orders_per_second",
    "max_consecutive_rejections",
)


@dataclass(frozen=True, slots=True)
class StrategyPositionLimit:
    """How much one strategy may hold in any one instrument, and whether it may be short.

    Built from the strategy's own size (``quantity``, ``allow_short``): a positional
    strategy holds one unit or nothing, so anything beyond is a stacked position.
    """

    max_position: int
    allow_short: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.max_position, bool) or self.max_position < 1:
            raise ValueError(f"max_position must be a positive whole number: {self.max_position!r}")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """What the risk manager enforces before a signal may become an order."""

    max_order_quantity: int | None = 1000
    max_order_value: Decimal | None = Decimal(500_000)
    max_position_value: Decimal | None = Decimal(1_000_000)  # per instrument, all strategies
    max_gross_exposure: Decimal | None = Decimal(5_000_000)
    max_open_orders: int | None = 20
    price_band_pct: Decimal | None = Decimal("5")  # fat finger: limit price vs last price
    max_orders_per_second: int | None = 10  # Zerodha allows 10 orders a second
    enforce_market_hours: bool = True
    calendar: NseCalendar = field(default_factory=NseCalendar)
    max_daily_loss: Decimal | None = Decimal(50_000)  # a positive amount of rupees
    allowed_instruments: frozenset[int] = frozenset()  # empty: any known instrument
    max_consecutive_rejections: int | None = 5
    # per strategy name; a strategy not named here (manual orders) has no position limit
    strategy_positions: Mapping[str, StrategyPositionLimit] = field(default_factory=dict)
    # MIS square-off time per segment; no MIS entry after it (empty table: off)
    mis_cutoffs: MisCutoffs = field(default_factory=MisCutoffs)
    # above the freeze quantity: autoslice legs (up to a cap) or refused
    freeze: FreezePolicy = field(default_factory=FreezePolicy)

    def __post_init__(self) -> None:
        if self.mis_cutoffs.calendar is not self.calendar:  # one calendar per run
            object.__setattr__(
                self, "mis_cutoffs", replace(self.mis_cutoffs, calendar=self.calendar)
            )
        for name in _MONEY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _positive_decimal(name, value))
        if self.price_band_pct is not None:
            band = _positive_decimal("price_band_pct", self.price_band_pct)
            if band > 100:
                raise ValueError(f"price_band_pct must be at most 100, got {band}")
            object.__setattr__(self, "price_band_pct", band)
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{name} must be a positive whole number or None, got {value!r}")
        object.__setattr__(self, "allowed_instruments", frozenset(self.allowed_instruments))
        object.__setattr__(
            self, "strategy_positions", MappingProxyType(dict(self.strategy_positions))
        )


def _positive_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, float | bool):
        raise ValueError(f"{name} must be a Decimal, int or numeric string, not {value!r}")
    try:
        amount = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValueError(f"{name} is not a number: {value!r}") from exc
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return amount


def limit_default(name: str) -> object:
    """The default of ``RiskLimits.<name>``: the settings read it here (one default)."""
    for spec in fields(RiskLimits):
        if spec.name == name:
            if spec.default is not MISSING:
                return spec.default
            if spec.default_factory is not MISSING:
                return spec.default_factory()
    raise KeyError(f"RiskLimits has no field {name!r}")
