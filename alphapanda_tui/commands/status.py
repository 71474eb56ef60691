"""``alphapanda status [--json]``: trading state, strategies, positions, open orders, P&L.

Read from storage, so it answers whether the engine is running or not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import Decimal
from typing import Any

NAME = "status"
HELP = "trading state, strategies, positions, open orders and P&L (--json)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, settings: Any) -> int:
    status = asyncio.run(collect(settings))
    if args.json:
        print(json.dumps(status, default=_json_default, indent=2))
    else:
        _print_text(status)
    return 0


async def collect(settings: Any) -> dict[str, Any]:
    import msgspec

    from alphapanda_tui.commands.control import open_store
    from alphapanda_tui.runtime import build_bindings, build_registry, running_engine_pid
    from engine.events.types import OrderStatus, TradingMode
    from engine.trading_state.state import GLOBAL_SCOPE

    store = await open_store(settings)
    broker = settings.broker
    try:
        states = {s.scope: s for s in await store.load_trading_states(broker)}
        working = [s for s in OrderStatus if s.is_working]
        open_orders = await store.list_orders(broker, statuses=working)
        positions = await store.list_positions(broker)
        pnl = await store.latest_pnl_snapshot(broker)
    finally:
        await store.aclose()
    bindings = build_bindings(settings, build_registry(settings))
    glob = states.get(GLOBAL_SCOPE)
    pid = running_engine_pid(settings.home)
    return {
        "mode": settings.mode,
        "broker": broker.value,
        "engine": {"running": pid is not None, "pid": pid},
        "trading_state": {
            "mode": (glob.mode if glob else TradingMode.ACTIVE).value,
            "reason": glob.reason if glob else "",
            "operator": glob.operator if glob else "",
        },
        "strategies": [
            {
                "name": b.config.name,
                "kind": b.config.kind,
                "instruments": list(b.config.instruments),
                "state": (
                    states[b.config.name].mode if b.config.name in states else TradingMode.ACTIVE
                ).value,
            }
            for b in bindings
        ],
        "positions": [msgspec.to_builtins(p) for p in positions if p.net_quantity != 0],
        "open_orders": [msgspec.to_builtins(o) for o in open_orders],
        "pnl": msgspec.to_builtins(pnl) if pnl else None,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _print_text(status: dict[str, Any]) -> None:
    out = sys.stdout
    engine = status["engine"]
    running = f"running (pid {engine['pid']})" if engine["running"] else "stopped"
    print(
        f"mode {status['mode'].upper()}  trading {status['trading_state']['mode']}"
        f"  engine {running}",
        file=out,
    )
    for s in status["strategies"]:
        print(f"  strategy {s['name']:<16} {s['state']:<9} {', '.join(s['instruments'])}", file=out)
    print(
        f"positions {len(status['positions'])}  open orders {len(status['open_orders'])}", file=out
    )
    pnl = status["pnl"]
    if pnl:
        print(
            f"realized {pnl['realized_pnl']}  unrealized {pnl['unrealized_pnl']}  "
            f"charges {pnl['charges']}  equity {pnl['equity']}",
            file=out,
        )
