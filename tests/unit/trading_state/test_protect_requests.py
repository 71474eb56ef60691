"""``alphapanda protect`` reaches the engine as one ``ProtectionCommand`` on
``control.commands``, the protection service's input: the levels exactly as typed, a
removal with ``--clear``, and a request without its position refused in words, unsent."""

from __future__ import annotations

from decimal import Decimal

from engine.events import topics
from engine.events.payloads import ProtectionCommand
from engine.events.types import Broker
from tests.unit.trading_state.test_manual_requests import INFY, Desk


async def _commands(desk: Desk) -> list[ProtectionCommand]:
    return [
        c for c in await desk.published(topics.CONTROL_COMMANDS) if isinstance(c, ProtectionCommand)
    ]


async def test_a_protect_request_publishes_the_levels_as_typed() -> None:
    desk = Desk()
    ack = await desk.ask(
        "protect",
        "p1",
        strategy="manual",
        instrument_token=INFY.instrument_token,
        stop_price="1480.05",
        target_pct="2.5",
        trail_amount="7",
    )
    assert ack is not None and ack["sent"] and not ack["clear"], ack
    (command,) = await _commands(desk)
    assert (command.broker, command.strategy, command.instrument_token) == (
        Broker.PAPER,
        "manual",
        INFY.instrument_token,
    )
    assert command.stop_price == Decimal("1480.05") and command.stop_pct is None
    assert command.target_pct == Decimal("2.5") and command.target_price is None
    assert command.trail_amount == Decimal("7") and not command.clear
    assert command.operator == "asha@desk"


async def test_clear_publishes_a_removal_and_a_request_without_its_position_sends_nothing() -> None:
    desk = Desk()
    ack = await desk.ask("protect", "p2", strategy="manual", instrument_token=1, clear=True)
    assert ack is not None and ack["sent"] and ack["clear"]
    missing = await desk.ask("protect", "p3", instrument_token=1, stop_price="10")
    assert missing is not None and not missing["sent"]
    assert "strategy and instrument" in missing["error"]
    (command,) = await _commands(desk)
    assert command.clear and command.stop_price is None
