"""``alphapanda status [--json]``: trading state, strategies, positions, open orders, P&L.

Read from storage, so it answers whether the engine is running or not. The text says
what the console says: a strategy's state is the effective one (the stricter of the
global state and its own; its own is shown beside it where they differ), money is
spelt as on screen (``engine.money``). ``--json`` keeps raw values for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from decimal import Decimal
from typing import Any

from alphapanda_tui.commands.status_text import status_lines

NAME = "status"
HELP = "trading state, strategies, positions, open orders and P&L (--json)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, settings: Any) -> int:
    status = asyncio.run(collect(settings))
    if args.json:
        print(json.dumps(status, default=_json_default, indent=2))
    else:
        print("\n".join(status_lines(status)))
    return 0


async def collect(settings: Any) -> dict[str, Any]:
    import msgspec

    from alphapanda_tui.commands.control import open_store
    from alphapanda_tui.runtime import running_engine_pid
    from engine.events.types import OrderStatus

    configs = _enabled_strategies(settings)
    brokers = {settings.broker, *(c.broker for c in configs)}
    store = await open_store(settings)
    broker = settings.broker
    try:
        records = {b: await store.load_trading_states(b) for b in brokers}
        working = [s for s in OrderStatus if s.is_working]
        open_orders = await store.list_orders(broker, statuses=working)
        positions = await store.list_positions(broker)
        pnl = await store.latest_pnl_snapshot(broker)
    finally:
        await store.aclose()
    pid = running_engine_pid(settings.home)
    states = {b: _trading_state(b, rows) for b, rows in records.items()}
    return {
        "mode": settings.mode,
        "broker": broker.value,
        "engine": {"running": pid is not None, "pid": pid},
        "trading_state": _global_state(states[broker]),
        "strategies": [_strategy(c, states[c.broker], broker) for c in configs],
        "positions": [msgspec.to_builtins(p) for p in positions if p.net_quantity != 0],
        "open_orders": [msgspec.to_builtins(o) for o in open_orders],
        "pnl": _pnl(pnl, _market_clock(settings)),
    }


def _market_clock(settings: Any) -> str | None:
    """The console's clock label: ``SIM`` (or ``REPLAY``) where the market's clock is the
    feed's event time, None where it is the wall clock (live, Kite ticks)."""
    from alphapanda_tui.engine_config import run_clock

    return run_clock(settings).label


def _pnl(snapshot: Any, clock: str | None) -> dict[str, Any] | None:
    """The stored snapshot's raw fields, with ``day_pnl`` (None when the row has no day)
    and ``clock``, the market clock's label (None: the wall clock)."""
    import msgspec

    if snapshot is None:
        return None
    fields = msgspec.to_builtins(snapshot)
    fields.pop("marks", None)  # the prices it was valued at: for a restart, not a figure
    return {**fields, "day_pnl": snapshot.day_pnl, "clock": clock}


def _enabled_strategies(settings: Any) -> list[Any]:
    """The strategies file's enabled strategies, every broker (the frame validated the file)."""
    from alphapanda_tui.strategies_file import configured_strategies

    return [c for c in configured_strategies(settings) if c.enabled]


def _trading_state(broker: Any, records: list[Any]) -> Any:
    """The engine's own ``TradingState``, so "effective" means here what it means to risk."""
    from engine.trading_state.state import TradingState

    state = TradingState(broker)
    state.load(records)
    return state


def _global_state(state: Any) -> dict[str, Any]:
    record = state.record()
    return {
        "mode": state.scope_mode().value,
        "reason": record.reason if record else "",
        "operator": record.operator if record else "",
        "changed_ts": record.changed_ts if record else None,
    }


def _strategy(config: Any, state: Any, running_broker: Any) -> dict[str, Any]:
    """``state`` is what applies (the console's); ``own_state`` is the strategy's stored one."""
    own = state.record(config.name)
    return {
        "name": config.name,
        "kind": config.kind,
        "broker": config.broker.value,
        "runs": config.broker == running_broker,
        "instruments": list(config.instruments),
        "state": state.effective(config.name).value,
        "own_state": state.scope_mode(config.name).value,
        "own_reason": own.reason if own else "",
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
