"""Pieces of the cluster tests: a fresh broker per test, a fresh PostgreSQL database, a
small fast market, engine subprocesses on the cluster and the books a trader checks."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.events.types import Broker
from tests.engine_process import EngineProcess as BaseEngineProcess
from tests.services import postgres_database as shared_postgres_database

BROKER = Broker.PAPER

INSTRUMENTS_CSV = """\
instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
738561,2885,RELIANCE,RELIANCE INDUSTRIES,1420.50,,0,0.05,1,EQ,NSE,NSE
2953217,11536,TCS,TATA CONSULTANCY SERV LT,3450.00,,0,0.05,1,EQ,NSE,NSE
408065,1594,INFY,INFOSYS,1580.25,,0,0.05,1,EQ,NSE,NSE
341249,1333,HDFCBANK,HDFC BANK,1650.00,,0,0.05,1,EQ,NSE,NSE
"""
STRATEGIES_YAML = """\
strategies:
  - name: fast-ema
    kind: ema_cross
    params: {fast: 2, slow: 4, quantity: 5, allow_short: true}
    instruments: [NSE:RELIANCE, NSE:TCS, NSE:INFY, NSE:HDFCBANK]
    broker: paper
"""


def cluster_env(
    home: Path, bootstrap: str, database_url: str, redis_url: str | None, prefix: str
) -> dict[str, str]:
    """Every ``ALPHAPANDA_*`` setting of an engine (or console) on the test cluster."""
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "instruments.csv").write_text(INSTRUMENTS_CSV)
    (config / "strategies.yaml").write_text(STRATEGIES_YAML)
    env = {
        "ALPHAPANDA_HOME": str(home),
        "ALPHAPANDA_STRATEGIES_FILE": str(config / "strategies.yaml"),
        "ALPHAPANDA_FEED__INSTRUMENTS_CSV": str(config / "instruments.csv"),
        "ALPHAPANDA_FEED__TICK_INTERVAL_MS": "20",
        "ALPHAPANDA_RISK__MAX_OPEN_ORDERS": "500",
        "ALPHAPANDA_RISK__MAX_ORDERS_PER_SECOND": "1000",
        "ALPHAPANDA_PORTFOLIO__SNAPSHOT_INTERVAL_S": "0.5",
        "ALPHAPANDA_LOG__LEVEL": "WARNING",
        "ALPHAPANDA_BUS__BACKEND": "kafka",
        "ALPHAPANDA_BUS__BOOTSTRAP_SERVERS": bootstrap,
        "ALPHAPANDA_BUS__IDEMPOTENT_PRODUCER": "false",
        "ALPHAPANDA_BUS__SESSION_TIMEOUT_MS": "2000",
        "ALPHAPANDA_BUS__HEARTBEAT_INTERVAL_MS": "300",
        "ALPHAPANDA_DATABASE__URL": database_url,
        "ALPHAPANDA_REDIS__KEY_PREFIX": prefix,
    }
    if redis_url:
        env["ALPHAPANDA_REDIS__URL"] = redis_url
    return env


def settings_for(env: dict[str, str]) -> Any:
    """In-process settings from the same variables a subprocess gets."""
    from alphapanda_tui.settings import load_settings

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def random_prefix() -> str:
    return f"aptest{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    async with shared_postgres_database(admin_url, prefix="alphapanda_k") as url:
        yield url


async def poll(condition: Callable[[], Any], timeout: float, what: str) -> None:
    """Until ``condition()`` (sync or async) is truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s")
        await asyncio.sleep(0.1)


class EngineProcess(BaseEngineProcess):
    """``alphapanda engine --bus kafka`` with ``cluster_env``; output in ``{name}.out``."""

    @classmethod
    def start(cls, name: str, env: dict[str, str], *args: str) -> EngineProcess:
        log_path = Path(env["ALPHAPANDA_HOME"]) / f"{name}.out"
        return cls.spawn(name, env, log_path, "--bus", "kafka", *args)


@dataclass
class Books:
    """Orders, fills and positions as stored: what must reconcile at the end of the day."""

    orders: list[Any]
    fills: list[Any]
    positions: dict[tuple[str, int], int]

    @classmethod
    async def load(cls, database_url: str) -> Books:
        from storage.store import SqlTradingStore

        async with await SqlTradingStore.open(database_url) as store:
            orders = await store.list_orders(BROKER, limit=1_000_000)
            fills = await store.list_fills(BROKER)
            positions = {
                (p.strategy, p.instrument_token): p.net_quantity
                for p in await store.list_positions(BROKER)
            }
        return cls(orders, fills, positions)

    def net_from_fills(self) -> dict[tuple[str, int], int]:
        net: dict[tuple[str, int], int] = defaultdict(int)
        for fill in self.fills:
            net[(fill.strategy, fill.instrument_token)] += fill.side.sign * fill.quantity
        return {key: qty for key, qty in net.items()}

    def problems(self) -> list[str]:
        found = []
        coids = Counter(o.client_order_id for o in self.orders)
        found += [f"client order id {c} used {n} times" for c, n in coids.items() if n > 1]
        trades = Counter(f.trade_id for f in self.fills)
        found += [f"trade {t} journaled {n} times" for t, n in trades.items() if n > 1]
        expected = self.net_from_fills()
        for key in set(expected) | set(self.positions):
            if expected.get(key, 0) != self.positions.get(key, 0):
                found.append(
                    f"position {key}: stored {self.positions.get(key, 0)}, "
                    f"fills say {expected.get(key, 0)}"
                )
        by_order: dict[str, int] = defaultdict(int)
        for fill in self.fills:
            by_order[fill.client_order_id] += fill.quantity
        for order in self.orders:
            if order.filled_quantity != by_order.get(order.client_order_id, 0):
                found.append(f"{order.client_order_id} filled quantity disagrees with its fills")
        return found


def sent_orders(books: Books) -> int:
    """Orders that left for the venue (an order blocked by the kill switch never does)."""
    return sum(1 for o in books.orders if o.broker_order_id is not None)
