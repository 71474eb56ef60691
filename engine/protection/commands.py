"""How a console, the CLI or an attached console asks the engine to protect a position:
one ``ProtectionCommand`` on ``control.commands``, where the protection service of that
broker picks it up (issue 16.5 puts keys and ``alphapanda protect`` on top of this)."""

from __future__ import annotations

from engine.bus.base import EventBus
from engine.clock import Clock, SystemClock
from engine.domain.projection import project
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ProtectionCommand, ProtectionLevels
from engine.events.types import Broker, EventType


async def send_protection(
    bus: EventBus,
    *,
    broker: Broker,
    strategy: str,
    instrument_token: int,
    operator: str,
    levels: ProtectionLevels | None,
    clock: Clock | None = None,
) -> ProtectionCommand:
    """Publish ``levels`` (replacing what the position had) or, with None, a removal.
    The engine checks it; a refusal comes back as an alert with the reason."""
    command = project(
        ProtectionCommand,
        levels or ProtectionLevels(),
        broker=broker,
        strategy=strategy,
        instrument_token=instrument_token,
        clear=levels is None,
        operator=operator,
    )
    event = new_event(
        EventType.PROTECTION_COMMAND,
        command,
        source=f"operator:{operator}" if operator else "operator",
        key=topics.order_key(broker, strategy, instrument_token),
        broker=broker,
        ts_ns=(clock or SystemClock()).now_ns(),
    )
    await bus.publish(topics.CONTROL_COMMANDS, event)
    return command
