"""``EngineHandle``: the one thing the console holds of the engine.

The embedded runtime, an attached cluster and the test harness all implement it, so the
console never knows which engine it is driving. Its ``controls`` (kill, halt, resume,
reduce) are an ``OperatorControl``, the one implementation every console and the CLI share:
a change is in force locally when the call returns (a kill is enforced before it returns,
not after a bus trip).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from engine.clock import Clock
from engine.events.types import Broker
from engine.read_model import ReadModel
from engine.risk.limits import RiskLimits
from engine.trading_state.operator import OperatorControl
from engine.venue import Venue


@runtime_checkable
class EngineHandle(Protocol):
    """Start, stop and steer an engine; read it through ``read_model``."""

    mode: str  # "paper" | "live"
    broker: Broker
    read_model: ReadModel
    clock: Clock
    log_ring: object | None  # RingBufferHandler-shaped: entries(since_seq, level, channel, search)
    # kill, halt, resume, reduce: the one implementation (engine.trading_state.operator)
    controls: OperatorControl
    venue: Venue  # login, token state, instruments sync, pre-trading checks (or why not here)
    risk_limits: RiskLimits  # what risk applies: the ticket checks its price band as you type

    async def start(self) -> None:
        """Start the services; the read model fills from the bus from here on."""

    async def stop(self) -> None:
        """Graceful: drain, snapshot, persist."""
