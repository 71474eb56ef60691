"""``EngineHandle``: the one thing the console holds of the engine.

The embedded runtime, an attached cluster and the test harness all implement it, so the
console never knows which engine it is driving. Control calls return once the change is
in force locally (a kill is enforced before the call returns, not after a bus trip).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from engine.clock import Clock
from engine.events.types import Broker
from engine.read_model import ReadModel


@runtime_checkable
class EngineHandle(Protocol):
    """Start, stop and steer an engine; read it through ``read_model``."""

    mode: str  # "paper" | "live"
    broker: Broker
    read_model: ReadModel
    clock: Clock
    log_ring: object | None  # RingBufferHandler-shaped: entries(since_seq, level, channel, search)

    async def start(self) -> None:
        """Start the services; the read model fills from the bus from here on."""

    async def stop(self) -> None:
        """Graceful: drain, snapshot, persist."""

    def halt_now(self, operator: str = "") -> bool:
        """The kill switch's synchronous half: global HALTED in this process before any await.

        The console calls it from the key handler so risk and execution refuse at once even
        while the loop is busy; ``kill`` then publishes, persists, audits and cancels. True
        when the state changed; False when already halted or not running.
        """

    async def kill(self, flatten: bool = False, operator: str = "") -> None:
        """Global HALTED at once; cancel every open order; square off when ``flatten``."""

    async def halt(self, strategy: str | None = None, operator: str = "") -> None: ...

    async def resume(self, strategy: str | None = None, operator: str = "") -> None: ...

    async def reduce(self, strategy: str | None = None, operator: str = "") -> None: ...
