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
from dataclasses import dataclass
from typing import Any

from engine.domain.records import AuditRecord, TradingStateRecord
from engine.events.types import TradingMode
from engine.trading_state.requests import ACK_PREFIX, request_record
from engine.trading_state.state import GLOBAL_SCOPE

NO_ACK_EXIT = 3  # the state is persisted, but no running engine confirmed it stopped sending
ACK_POLL_S = 0.01
MODE_FOR = {
    "kill": TradingMode.HALTED,
    "halt": TradingMode.HALTED,
    "resume": TradingMode.ACTIVE,
    "reduce": TradingMode.REDUCING,
}


@dataclass(frozen=True)
class Outcome:
    """What the command prints: the result on stdout, diagnostics on stderr, its status."""

    result: str
    diagnostic: str = ""
    exit_code: int = 0


async def open_store(settings: Any) -> Any:
    """The store, migrated only when behind (a running engine must not wait on a lock)."""
    from alphapanda_tui.store_opening import open_store as open_configured_store

    return await open_configured_store(settings)


def check_strategy(settings: Any, name: str) -> None:
    """Refuse a strategy name the strategies file does not configure for this broker."""
    from alphapanda_tui.errors import ConfigError, UsageError
    from engine.strategies.config import StrategyConfigError, load_strategies

    try:
        configs = load_strategies(settings.strategies_file)
    except StrategyConfigError as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
    known = [c.name for c in configs if c.broker == settings.broker]
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
    return _killed(ack, flatten) if ack else _not_acknowledged(settings, flatten, wait_s)


async def _wait_for_ack(
    store: Any, request_id: str, since_ns: int, wait_s: float
) -> AuditRecord | None:
    """The first acknowledgement by an engine that executes orders and stopped sending."""
    deadline = time.monotonic() + wait_s
    while True:
        for row in await store.list_audit_after(since_ns, ACK_PREFIX, limit=200):
            detail = row.detail
            if detail.get("request_id") != request_id:
                continue
            if detail.get("executes_orders") and detail.get("sends_stopped"):
                return row
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(ACK_POLL_S)


def _killed(ack: AuditRecord, flatten: bool) -> Outcome:
    after = ack.detail.get("held_after_ms")
    then = (
        "cancelling open orders and squaring off positions"
        if flatten
        else ("cancelling open orders")
    )
    return Outcome(
        f"trading is now HALTED: {ack.actor} stopped sending orders {after} ms after the "
        f"request; it is {then}"
    )


def _not_acknowledged(settings: Any, flatten: bool, wait_s: float) -> Outcome:
    from alphapanda_tui.runtime import running_engine_pid

    pid = running_engine_pid(settings.home)
    who = f"the engine (pid {pid})" if pid is not None else "no running engine"
    result = (
        f"HALTED is stored (state persisted); {who} acknowledged within {wait_s:g} s, so "
        "nothing confirms that an engine stopped sending; an engine that starts later "
        "starts HALTED"
    )
    diagnostic = ""
    if pid is not None:
        diagnostic = f"engine pid {pid} did not acknowledge the kill; check its log"
    if flatten:
        diagnostic = (
            (diagnostic + "; " if diagnostic else "")
            + "positions were NOT squared off: only a running engine squares off, and a "
            "later start never does it by itself; start the engine and run "
            "'alphapanda kill --flatten' again"
        )
    return Outcome(result, diagnostic, NO_ACK_EXIT)


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
