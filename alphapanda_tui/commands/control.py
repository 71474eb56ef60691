"""Shared by ``kill`` and ``resume``: act through storage (and the bus when it is Kafka).

A kill is reported as done only when a running engine has acknowledged it (HALTED in
that process and no order left between its last check and its stored outcome); without
an acknowledgement the command says what it did (the state is persisted) and what it
could not promise, and exits ``NO_ACK_EXIT``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from alphapanda_tui.kill_outcome import Outcome, is_kill_ack, killed, not_acknowledged
from engine.domain.records import AuditRecord, TradingStateRecord
from engine.events.types import TradingMode
from engine.trading_state.requests import ACK_PREFIX, request_record
from engine.trading_state.state import GLOBAL_SCOPE

ACK_POLL_S = 0.01
MODE_FOR = {
    "kill": TradingMode.HALTED,
    "halt": TradingMode.HALTED,
    "resume": TradingMode.ACTIVE,
    "reduce": TradingMode.REDUCING,
}


async def open_store(settings: Any) -> Any:
    """The store, migrated only when behind (a running engine must not wait on a lock)."""
    from alphapanda_tui.store_opening import open_store as open_configured_store

    return await open_configured_store(settings)


def check_strategy(settings: Any, name: str) -> None:
    """Refuse a strategy name the strategies file does not configure for this broker."""
    from alphapanda_tui.errors import UsageError
    from alphapanda_tui.strategies_file import configured_strategies

    known = [c.name for c in configured_strategies(settings) if c.broker == settings.broker]
    if name not in known:
        listed = ", ".join(known) or f"none configured for {settings.broker.value}"
        raise UsageError(f"unknown strategy {name!r} (known: {listed})")


async def request(
    settings: Any,
    action: str,
    *,
    strategy: str | None = None,
    flatten: bool = False,
    wait_s: float = 3.0,
) -> Outcome:
    """Persist the new state, leave an audited request, publish on Kafka; for a kill, wait
    for a running engine's acknowledgement. Nothing is stored when the input is wrong."""
    from alphapanda_tui.errors import UsageError
    from alphapanda_tui.operator import operator_identity
    from engine.ids import uuid7_str

    if action == "resume" and settings.mode == "live":
        raise UsageError(
            "live trading resumes from the console (r), which runs the pre-trading checks "
            "and asks for confirmation"
        )
    if strategy is not None:
        check_strategy(settings, strategy)
    operator = operator_identity()
    request_id = uuid7_str()
    mode = MODE_FOR[action]
    store = await open_store(settings)
    try:
        now = time.time_ns()
        await store.save_trading_state(
            TradingStateRecord(
                broker=settings.broker,
                scope=strategy or GLOBAL_SCOPE,
                mode=mode,
                reason=f"{action} from the command line",
                operator=operator,
                changed_ts=now,
            )
        )
        detail = {"broker": settings.broker.value, "strategy": strategy, "flatten": flatten}
        await store.add_audit(
            request_record(action, operator, now, request_id=request_id, **detail)
        )
        if settings.bus.backend == "kafka":
            await _publish(settings, action, strategy, flatten, operator)
        if action != "kill":
            return _applied_later(settings, strategy, mode)
        ack = await _wait_for_ack(store, request_id, now, wait_s) if wait_s > 0 else None
    finally:
        await store.aclose()
    if ack is None:
        return not_acknowledged(settings.home, flatten, wait_s)
    return killed(ack.actor, ack.detail, flatten)


async def _wait_for_ack(
    store: Any, request_id: str, since_ns: int, wait_s: float
) -> AuditRecord | None:
    """The first acknowledgement by an engine that executes orders and stopped sending."""
    deadline = time.monotonic() + wait_s
    while True:
        for row in await store.list_audit_after(since_ns, ACK_PREFIX, limit=200):
            if is_kill_ack(row.detail, request_id):
                return row
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(ACK_POLL_S)


def _applied_later(settings: Any, strategy: str | None, mode: TradingMode) -> Outcome:
    from alphapanda_tui.runtime import running_engine_pid

    pid = running_engine_pid(settings.home)
    what = f"{'strategy ' + strategy if strategy else 'trading'} is now {mode.value}"
    if pid is not None:
        return Outcome(f"{what}; the running engine (pid {pid}) applies it within a second")
    if settings.bus.backend == "kafka":
        return Outcome(f"{what}; every engine on the cluster applies it")
    return Outcome(f"{what}; no engine is running here, it will start {mode.value}")


async def _publish(
    settings: Any, action: str, strategy: str | None, flatten: bool, operator: str
) -> None:
    from alphapanda_tui.runtime import build_bus
    from engine.clock import SystemClock
    from engine.trading_state.control import TradingControl
    from engine.trading_state.state import TradingState

    bus = build_bus(settings)
    async with bus:
        control = TradingControl(
            bus, TradingState(settings.broker), settings.broker, SystemClock(), operator=operator
        )
        method = getattr(control, action)
        if action == "kill":
            await method(flatten=flatten, operator=operator, reason="kill switch (cli)")
        else:
            await method(strategy=strategy, operator=operator)
        await bus.flush()


def run_request(settings: Any, action: str, **kwargs: Any) -> int:
    """Run one request; the result goes to stdout, diagnostics to stderr."""
    outcome = asyncio.run(request(settings, action, **kwargs))
    print(outcome.result, flush=True)
    if outcome.diagnostic:
        print(outcome.diagnostic, file=sys.stderr, flush=True)
    return outcome.exit_code
