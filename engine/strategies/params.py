"""Strategy parameters, validated with bounds when a configuration is loaded.

A typo or an impossible value (fast EMA slower than slow, oversold above overbought) is
refused with a message that names the field, before any tick is processed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StrategyParams(BaseModel):
    # Strict: YAML's "quantity: true" or "fast: '9'" is a mistake, never 1 or 9. Whole
    # numbers are still accepted where a float is expected ("oversold: 30").
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    quantity: int = Field(1, ge=1, le=1_000_000, description="shares per order; lot multiple")
    allow_short: bool = Field(False, description="go short on a sell signal instead of flat")


class EmaCrossParams(StrategyParams):
    fast: int = Field(9, ge=1, le=1_000)
    slow: int = Field(21, ge=2, le=5_000)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> EmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self


class MomentumParams(StrategyParams):
    lookback: int = Field(20, ge=1, le=10_000, description="ticks back for the return")
    threshold: float = Field(0.002, gt=0, lt=1, description="return that triggers, e.g. 0.002")


class MeanReversionParams(StrategyParams):
    window: int = Field(20, ge=2, le=10_000)
    entry_z: float = Field(2.0, gt=0, le=10)
    exit_z: float = Field(0.0, ge=0, le=10)

    @model_validator(mode="after")
    def _exit_inside_entry(self) -> MeanReversionParams:
        if self.exit_z >= self.entry_z:
            raise ValueError(f"exit_z ({self.exit_z}) must be less than entry_z ({self.entry_z})")
        return self


class RsiParams(StrategyParams):
    period: int = Field(14, ge=2, le=1_000)
    oversold: float = Field(30.0, gt=0, lt=100)
    overbought: float = Field(70.0, gt=0, lt=100)

    @model_validator(mode="after")
    def _levels_ordered(self) -> RsiParams:
        if self.oversold >= self.overbought:
            raise ValueError(
                f"oversold ({self.oversold}) must be below overbought ({self.overbought})"
            )
        return self
