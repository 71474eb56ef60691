"""Control requests left in storage by the CLI reach the running engine exactly once."""

from __future__ import annotations

from engine.bus import MemoryBus
from engine.clock import ManualClock
from engine.events.types import Broker, TradingMode
from engine.memory_store import MemoryTradingStore
from engine.trading_state.control import TradingControl
from engine.trading_state.requests import ACK_PREFIX, ControlRequestPoller, request_record
from engine.trading_state.state import TradingState


async def _poller() -> tuple[ControlRequestPoller, MemoryTradingStore, TradingState]:
    store = MemoryTradingStore()
    state = TradingState(Broker.PAPER)
    control = TradingControl(MemoryBus(), state, Broker.PAPER, ManualClock(1_000))
    poller = ControlRequestPoller(
        store=store, control=control, broker="paper", clock=ManualClock(1_000)
    )
    poller._since = 1_000
    return poller, store, state


async def test_a_kill_request_from_the_cli_halts_the_engine_once() -> None:
    poller, store, state = await _poller()
    await store.add_audit(request_record("kill", "asha@desk", 2_000, broker="paper"))
    assert await poller.poll_once() == 1
    assert state.scope_mode() is TradingMode.HALTED
    assert await poller.poll_once() == 0  # not applied twice


async def test_requests_already_published_on_the_bus_or_for_another_broker_are_skipped() -> None:
    poller, store, state = await _poller()
    await store.add_audit(
        request_record("kill", "asha@desk", 2_000, broker="paper", published=True)
    )
    await store.add_audit(request_record("kill", "asha@desk", 3_000, broker="zerodha"))
    await store.add_audit(request_record("halt", "asha@desk", 500, broker="paper"))  # old
    await poller.poll_once()
    assert state.scope_mode() is TradingMode.ACTIVE
    assert poller.applied == 0


async def test_a_kill_is_acknowledged_only_after_the_last_send_in_flight_is_on_record() -> None:
    store = MemoryTradingStore()
    state = TradingState(Broker.PAPER)
    control = TradingControl(MemoryBus(), state, Broker.PAPER, ManualClock(1_000))
    seen_when_asked: list[tuple[TradingMode, int]] = []

    async def sends_idle(_timeout: float) -> bool:
        # Execution is asked only once HALTED holds, and no ack exists before it answers.
        acks = [a for a in store.audit if a.action.startswith(ACK_PREFIX)]
        seen_when_asked.append((state.scope_mode(), len(acks)))
        return True

    poller = ControlRequestPoller(
        store=store,
        control=control,
        broker="paper",
        clock=ManualClock(1_000),
        sends_idle=sends_idle,
        instance="engine test-1",
    )
    poller._since = 1_000
    await store.add_audit(
        request_record("kill", "asha@desk", 2_000, broker="paper", request_id="r-1")
    )
    await poller.poll_once()

    assert seen_when_asked == [(TradingMode.HALTED, 0)]
    acks = await store.list_audit_after(0, ACK_PREFIX)
    assert [(a.actor, a.action) for a in acks] == [("engine test-1", "ack.kill")]
    assert acks[0].detail["request_id"] == "r-1"
    assert acks[0].detail["sends_stopped"] is True
    assert acks[0].detail["executes_orders"] is True


async def test_an_ack_says_so_when_a_send_is_still_waiting_for_the_venue() -> None:
    poller, store, _state = await _poller()

    async def stuck(_timeout: float) -> bool:
        return False

    poller._sends_idle = stuck
    await store.add_audit(request_record("kill", "asha@desk", 2_000, broker="paper"))
    await poller.poll_once()

    (ack,) = await store.list_audit_after(0, ACK_PREFIX)
    assert ack.detail["sends_stopped"] is False


async def test_a_request_committed_after_a_newer_one_is_still_applied_once() -> None:
    poller, store, state = await _poller()
    await store.add_audit(
        request_record("halt", "asha@desk", 3_000, broker="paper", strategy="s1", request_id="b")
    )
    await poller.poll_once()
    # Written by a second shell whose clock read came first, committed second.
    await store.add_audit(
        request_record("kill", "ravi@desk", 2_500, broker="paper", request_id="a")
    )
    assert await poller.poll_once() == 1
    assert state.scope_mode() is TradingMode.HALTED
    assert await poller.poll_once() == 0
    assert poller.applied == 2
