"""Shared by ``kill`` and ``resume``: act through storage (and the bus when it is Kafka)."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.domain.records import TradingStateRecord
from engine.events.types import TradingMode
from engine.trading_state.requests import request_record
from engine.trading_state.state import GLOBAL_SCOPE


async def open_store(settings: Any) -> Any:
    """The store, migrated only when behind (a running engine must not wait on a lock)."""
    from alphapanda_tui.errors import ConfigError
    from storage.database import describe_url
    from storage.migrate import current_async, head_revision, upgrade_async
    from storage.store import SqlTradingStore

    url = settings.database.url
    try:
        if await current_async(url) != head_revision():
            await upgrade_async(url)
        return await SqlTradingStore.open(url)
    except Exception as exc:
        raise ConfigError(f"cannot open the database {describe_url(url)}: {exc}") from None


async def request(
    settings: Any, action: str, *, strategy: str | None = None, flatten: bool = False
) -> str:
    """Persist the new state, leave an audited request, publish on Kafka; say what happened."""
    import time

    from alphapanda_tui.errors import UsageError
    from alphapanda_tui.operator import operator_identity
    from alphapanda_tui.runtime import running_engine_pid

    if action == "resume" and settings.mode == "live":
        raise UsageError(
            "live trading resumes from the console (r), which runs the pre-trading checks "
            "and asks for confirmation"
        )
    operator = operator_identity()
    now = time.time_ns()
    on_kafka = settings.bus.backend == "kafka"
    mode = {
        "kill": TradingMode.HALTED,
        "halt": TradingMode.HALTED,
        "resume": TradingMode.ACTIVE,
        "reduce": TradingMode.REDUCING,
    }[action]
    scope = strategy or GLOBAL_SCOPE
    store = await open_store(settings)
    try:
        await store.save_trading_state(
            TradingStateRecord(
                broker=settings.broker,
                scope=scope,
                mode=mode,
                reason=f"{action} from the command line",
                operator=operator,
                changed_ts=now,
            )
        )
        await store.add_audit(
            request_record(
                action,
                operator,
                now,
                broker=settings.broker.value,
                strategy=strategy,
                flatten=flatten,
            )
        )
    finally:
        await store.aclose()
    if on_kafka:
        await _publish(settings, action, strategy, flatten, operator)
    pid = running_engine_pid(settings.home)
    what = f"{'strategy ' + strategy if strategy else 'trading'} is now {mode.value}"
    if pid is not None:
        return f"{what}; the running engine (pid {pid}) applies it within a second"
    if settings.bus.backend == "kafka":
        return f"{what}; every engine on the cluster applies it"
    return f"{what}; no engine is running here, it will start {mode.value}"


async def _publish(
    settings: Any, action: str, strategy: str | None, flatten: bool, operator: str
) -> None:
    from alphapanda_tui.runtime import build_bus
    from engine.bus.kafka import KafkaBus
    from engine.clock import SystemClock
    from engine.trading_state.control import TradingControl
    from engine.trading_state.state import TradingState

    bus = build_bus(settings)
    assert isinstance(bus, KafkaBus)
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
    import sys

    print(asyncio.run(request(settings, action, **kwargs)), file=sys.stderr)
    return 0
