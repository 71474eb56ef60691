"""Shared pieces of the engine integration tests: a small market, fast strategies, a
headless engine as a real subprocess, and the ledger checks every test applies.

The market is three liquid NSE names and the strategy an EMA 2/4 cross, so a
simulated feed ticking every 25 ms produces orders and fills within a
second of the engine starting.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.clock import IST, datetime_to_ns
from engine.domain.records import FillRecord, OrderRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import OrderIntent, Signal, Tick
from engine.events.types import Broker, EventType, OrderStatus, OrderType, Side
from engine.execution.reports import PlaceAck
from engine.ids import uuid7_str
from tests.engine_process import ALPHAPANDA
from tests.engine_process import EngineProcess as BaseEngineProcess
from tests.services import postgres_database as shared_postgres_database

BROKER = Broker.PAPER
STRATEGY = "fast-ema"

INSTRUMENTS_CSV = """\
instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
738561,2885,RELIANCE,RELIANCE INDUSTRIES,1420.50,,0,0.05,1,EQ,NSE,NSE
2953217,11536,TCS,TATA CONSULTANCY SERV LT,3450.00,,0,0.05,1,EQ,NSE,NSE
408065,1594,INFY,INFOSYS,1580.25,,0,0.05,1,EQ,NSE,NSE
"""
INFY = (408065, "NSE:INFY")

STRATEGIES_YAML = f"""\
strategies:
  - name: {STRATEGY}
    kind: ema_cross
    params: {{fast: 2, slow: 4, quantity: 5, allow_short: true}}
    instruments: [NSE:RELIANCE, NSE:TCS, NSE:INFY]
    broker: paper
"""

# A Monday inside the NSE session (Asia/Kolkata), for hand-made ticks and signals.
SESSION_START_NS = datetime_to_ns(datetime(2026, 1, 5, 10, 0, tzinfo=IST))


def write_market(directory: Path) -> dict[str, Path]:
    """The instruments CSV and strategies YAML the engine is pointed at."""
    directory.mkdir(parents=True, exist_ok=True)
    instruments = directory / "instruments.csv"
    instruments.write_text(INSTRUMENTS_CSV)
    strategies = directory / "strategies.yaml"
    strategies.write_text(STRATEGIES_YAML)
    return {"instruments": instruments, "strategies": strategies}


def settings_overrides(home: Path, **groups: dict[str, Any]) -> dict[str, Any]:
    """``load_settings`` keyword arguments for an engine on the small market in ``home``."""
    files = write_market(home / "config")
    feed = {"instruments_csv": files["instruments"], "tick_interval_ms": 25}
    feed.update(groups.pop("feed", {}))
    risk = {"max_open_orders": 200, "max_orders_per_second": 1000}
    risk.update(groups.pop("risk", {}))
    portfolio = {"snapshot_interval_s": 0.5}
    portfolio.update(groups.pop("portfolio", {}))
    return {
        "home": home,
        "strategies_file": files["strategies"],
        "feed": feed,
        "risk": risk,
        "portfolio": portfolio,
        "log": {"level": "WARNING"},
        **groups,
    }


# -- the headless engine as a subprocess ---------------------------------------------------


def engine_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an ``alphapanda`` subprocess: only this test's settings."""
    files = write_market(home / "config")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPANDA_")}
    env.update(
        {
            "ALPHAPANDA_HOME": str(home),
            "ALPHAPANDA_STRATEGIES_FILE": str(files["strategies"]),
            "ALPHAPANDA_FEED__INSTRUMENTS_CSV": str(files["instruments"]),
            "ALPHAPANDA_FEED__TICK_INTERVAL_MS": "25",
            "ALPHAPANDA_RISK__MAX_OPEN_ORDERS": "200",
            "ALPHAPANDA_RISK__MAX_ORDERS_PER_SECOND": "1000",
            "ALPHAPANDA_PORTFOLIO__SNAPSHOT_INTERVAL_S": "0.5",
            "ALPHAPANDA_LOG__LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class EngineProcess(BaseEngineProcess):
    """The engine on the small market in ``home``; stderr goes to ``engine-{run}.stderr``."""

    start_timeout = 20.0

    @classmethod
    def start(cls, home: Path, run: int = 1, **env: str) -> EngineProcess:
        name = f"engine-{run}"
        return cls.spawn(name, engine_env(home, **env), home / f"{name}.stderr")


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one ``alphapanda`` command to completion against ``home``."""
    return subprocess.run(
        [str(ALPHAPANDA), *args],
        env=engine_env(home, **env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home,
        check=False,
    )


async def poll(condition: Callable[[], Any], timeout: float, what: str) -> None:
    """``eventually`` for conditions that read a database or a process (polled at 20 Hz)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s")
        await asyncio.sleep(0.05)


class SqliteDb:
    """Read-only peeks at an engine's SQLite file while (or after) it runs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return connection.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            connection.close()

    def scalar(self, sql: str, *params: Any) -> Any:
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None

    def count(self, table: str, where: str = "1=1", *params: Any) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table} WHERE {where}", *params) or 0)


# -- the ledger: what a trader reconciles at the end of the day -----------------------------


@dataclass
class Ledger:
    orders: list[OrderRecord]
    fills: list[FillRecord]
    positions: dict[tuple[str, int], int]  # (strategy, token) → stored net quantity

    @classmethod
    async def load(cls, store: Any, broker: Broker = BROKER) -> Ledger:
        orders = await store.list_orders(broker, limit=1_000_000)
        fills = await store.list_fills(broker)
        positions = {
            (p.strategy, p.instrument_token): p.net_quantity
            for p in await store.list_positions(broker)
        }
        return cls(orders, fills, positions)

    def fills_by_order(self) -> dict[str, list[FillRecord]]:
        grouped: dict[str, list[FillRecord]] = defaultdict(list)
        for fill in self.fills:
            grouped[fill.client_order_id].append(fill)
        return grouped

    def net_from_fills(self) -> dict[tuple[str, int], int]:
        net: dict[tuple[str, int], int] = defaultdict(int)
        for fill in self.fills:
            net[(fill.strategy, fill.instrument_token)] += fill.side.sign * fill.quantity
        return dict(net)

    def problems(self) -> list[str]:
        """Everything that does not reconcile; empty when the books are consistent."""
        found: list[str] = []
        ids = [o.client_order_id for o in self.orders]
        if len(ids) != len(set(ids)):
            found.append("a client order id appears on more than one order")
        by_id = {o.client_order_id: o for o in self.orders}
        grouped = self.fills_by_order()
        trade_ids = [f.trade_id for f in self.fills]
        if len(trade_ids) != len(set(trade_ids)):
            found.append("a trade id was journaled twice")
        for coid, fills in grouped.items():
            order = by_id.get(coid)
            if order is None:
                found.append(f"fill for unknown order {coid}")
                continue
            wrong_side = [f.trade_id for f in fills if f.side is not order.side]
            if wrong_side:
                found.append(f"{coid}: fills on the wrong side {wrong_side}")
        for order in self.orders:
            filled = sum(f.quantity for f in grouped.get(order.client_order_id, ()))
            if order.filled_quantity != filled:
                found.append(
                    f"{order.client_order_id} ({order.status.value}) says filled "
                    f"{order.filled_quantity}, its fills sum to {filled}"
                )
            if order.status is OrderStatus.FILLED and order.filled_quantity != order.quantity:
                found.append(f"{order.client_order_id} FILLED with {order.filled_quantity}")
            if order.filled_quantity > order.quantity:
                found.append(f"{order.client_order_id} overfilled")
            sent = order.status not in (OrderStatus.PENDING, OrderStatus.REJECTED)
            if sent and order.broker_order_id != f"paper-{order.client_order_id}":
                found.append(f"{order.client_order_id} broker id {order.broker_order_id!r}")
        expected = self.net_from_fills()
        for key in set(expected) | set(self.positions):
            if expected.get(key, 0) != self.positions.get(key, 0):
                found.append(
                    f"position {key}: stored {self.positions.get(key, 0)}, "
                    f"fills say {expected.get(key, 0)}"
                )
        return found


# -- hand-made market events for in-process runtimes ----------------------------------------


def tick(instrument: tuple[int, str], price: str, ts_ns: int, size: int = 10_000) -> Tick:
    last = Decimal(price)
    step = Decimal("0.05")
    return Tick(
        instrument_token=instrument[0],
        symbol=instrument[1],
        last_price=last,
        exchange_ts=ts_ns,
        bid=last - step,
        ask=last + step,
        bid_quantity=size,
        ask_quantity=size,
        volume=size,
    )


def tick_event(t: Tick) -> EventEnvelope:
    key = str(t.instrument_token)
    return new_event(EventType.MARKET_TICK, t, source="test-feed", key=key, ts_ns=t.exchange_ts)


def make_signal(
    instrument: tuple[int, str],
    side: Side,
    quantity: int,
    ts_ns: int,
    *,
    order_type: OrderType = OrderType.MARKET,
    limit_price: str | None = None,
    reference_price: str | None = None,
    strategy: str = STRATEGY,
) -> Signal:
    return Signal(
        signal_id=uuid7_str(),
        strategy=strategy,
        instrument_token=instrument[0],
        symbol=instrument[1],
        side=side,
        quantity=quantity,
        order_type=order_type,
        limit_price=Decimal(limit_price) if limit_price else None,
        reference_price=Decimal(reference_price) if reference_price else None,
        signal_ts=ts_ns,
        reason="integration test",
    )


def signal_event(s: Signal, event_type: EventType) -> EventEnvelope:
    key = topics.order_key(BROKER, s.strategy, s.instrument_token)
    return new_event(event_type, s, source="test", key=key, broker=BROKER, ts_ns=s.signal_ts)


class PlaceRecorder:
    """Wraps the execution service's broker adapter and records every order handed to it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.placed: list[OrderIntent] = []
        self.name = inner.name
        self.book_lost_on_restart = inner.book_lost_on_restart

    async def place(self, intent: OrderIntent) -> PlaceAck:
        self.placed.append(intent)
        return await self._inner.place(intent)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# -- databases ------------------------------------------------------------------------------


@asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    async with shared_postgres_database(admin_url, prefix="alphapanda_it") as url:
        yield url
