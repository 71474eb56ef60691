"""Strategy parameters, validated with bounds when a configuration is loaded.

A typo or an impossible value (fast EMA slower than slow, oversold above overbought) is
refused with a message that names the field, before any tick is processed.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StrategyParams(BaseModel):
    # Strict: YAML's "quantity: true" or "fast: '9'" is a mistake, never 1 or 9. Whole
    # numbers are still accepted where a float is expected ("oversold: 30").
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    # (low, high, wording): two fields of a kind whose values must be strictly ordered;
    # one validator here checks every kind's pair, with the same message.
    ordered: ClassVar[tuple[str, str, str] | None] = None

    quantity: int = Field(1, ge=1, le=1_000_000, description="shares per order; lot multiple")
    allow_short: bool = Field(False, description="go short on a sell signal instead of flat")

    @model_validator(mode="after")
    def _check_ordered(self) -> Self:
        """Refuse ``low`` >= ``high`` with an error naming both values."""
        if self.ordered is not None:
            low, high, wording = self.ordered
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value >= high_value:
                raise ValueError(f"{low} ({low_value}) must be {wording} {high} ({high_value})")
        return self


class EmaCrossParams(StrategyParams):
    ordered = ("fast", "slow", "less than")

    fast: int = Field(9, ge=1, le=1_000)
    slow: int = Field(21, ge=2, le=5_000)


class MomentumParams(StrategyParams):
    lookback: int = Field(20, ge=1, le=10_000, description="ticks back for the return")
    threshold: float = Field(0.002, gt=0, lt=1, description="return that triggers, e.g. 0.002")


class MeanReversionParams(StrategyParams):
    ordered = ("exit_z", "entry_z", "less than")

    window: int = Field(20, ge=2, le=10_000)
    entry_z: float = Field(2.0, gt=0, le=10)
    exit_z: float = Field(0.0, ge=0, le=10)


class RsiParams(StrategyParams):
    ordered = ("oversold", "overbought", "below")

    period: int = Field(14, ge=2, le=1_000)
    oversold: float = Field(30.0, gt=0, lt=100)
    overbought: float = Field(70.0, gt=0, lt=100)
