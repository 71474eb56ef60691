"""Pilot tests on the real embedded engine: simulated feed → strategies → risk → paper fills.

A trader presses the real keys; the assertions read the screen and the store the engine
writes. The clock is fixed (the header and event times are deterministic), the feed is
seeded and limited to the five traded instruments so the suite stays light on two cores.
"whale" trades far more than a tick's quote size, so its orders stay open across many
ticks (partial fills) and the kill switch has real open orders to cancel; the position
limit keeps it to about one working order, so the load stays flat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pty
import select
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import textual.app
import textual.pilot
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from alphapanda_tui.runtime import EngineRuntime, Ports, build_runtime
from alphapanda_tui.settings import Settings, load_settings
from engine.bus.base import EventBus
from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.domain.records import OrderRecord
from engine.events.types import OrderStatus, TradingMode
from engine.instruments import InstrumentRegistry
from engine.logs.ring import RingBufferHandler
from engine.market.feeds.simulated import SimulatedFeed, SimulatedFeedConfig
from engine.memory_store import MemoryTradingStore
from engine.trading_state.state import GLOBAL_SCOPE
from screens.confirm import ConfirmScreen
from screens.help import HelpScreen
from screens.kill_confirm import KillConfirmScreen
from tests.helpers import eventually
from tests.tui.harness import START_NS
from widgets.formatting import ist_time

STRATEGIES_YAML = """\
strategies:
  - name: momo
    kind: momentum
    params: {lookback: 3, threshold: 0.001, quantity: 1, allow_short: true}
    instruments: [NSE:INFY, NSE:TCS]
  - name: revert
    kind: mean_reversion
    params: {window: 5, entry_z: 1.0, exit_z: 0.2, quantity: 1, allow_short: true}
    instruments: [NSE:SBIN, NSE:ITC]
  - name: whale
    kind: momentum
    params: {lookback: 3, threshold: 0.001, quantity: 10000}
    instruments: [NSE:RELIANCE]
"""
TRADED = ("NSE:INFY", "NSE:TCS", "NSE:SBIN", "NSE:ITC", "NSE:RELIANCE")
TICKS_PER_SECOND = 100.0  # 20 a second per instrument: orders within a second
LIVE_ORDER = (OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
HUGE = "1000000000000"
WHALE_LIMIT = "20000000"  # one 10,000 RELIANCE order (~14.2M) working at a time


def engine_settings(home: Path, **overrides: object) -> Settings:
    """Paper settings for fast strategies; risk limits wide enough for the whale's orders."""
    strategies = home / "strategies.yaml"
    strategies.write_text(STRATEGIES_YAML)
    return load_settings(
        home=home,
        strategies_file=strategies,
        risk={
            "max_order_quantity": 1_000_000,
            "max_order_value": HUGE,
            "max_position_value": WHALE_LIMIT,
            "max_gross_exposure": HUGE,
            "max_daily_loss": HUGE,
            "max_open_orders": 1_000,
            "max_orders_per_second": 1_000,
        },
        # the only snapshot is the final one; cash for the whale's orders (paper funds)
        portfolio={"snapshot_interval_s": 3600, "starting_cash": HUGE},
        **overrides,
    )


def seeded_feed(clock: ManualClock) -> Callable[[EventBus, InstrumentRegistry], SimulatedFeed]:
    def build(bus: EventBus, registry: InstrumentRegistry) -> SimulatedFeed:
        config = SimulatedFeedConfig(
            seed=7,
            instruments=TRADED,
            clock_mode="compressed",
            ticks_per_second=TICKS_PER_SECOND,
        )
        return SimulatedFeed(bus, registry, config, clock=clock)

    return build


@dataclass
class RealConsole:
    app: AlphaPandaApp
    pilot: Pilot
    runtime: EngineRuntime
    store: MemoryTradingStore

    def header(self) -> str:
        return self.app.dashboard.query_one("#header").line  # type: ignore[attr-defined]

    def orders(self) -> dict[str, OrderRecord]:
        return dict(self.store.orders)

    def state(self, scope: str = GLOBAL_SCOPE) -> TradingMode:
        assert self.runtime.pipeline is not None
        return self.runtime.pipeline.trading_state.scope_mode(scope)

    async def trading(self, strategy: str | None = None, timeout: float = 5.0) -> None:
        """Wait until the engine sends new orders (of ``strategy``) that are not rejected."""
        known = set(self.store.orders)

        def sent() -> bool:
            return any(
                coid not in known
                and order.status is not OrderStatus.REJECTED
                and (strategy is None or order.strategy == strategy)
                for coid, order in self.store.orders.items()
            )

        await eventually(sent, timeout=timeout, message=f"no new {strategy or ''} order")

    async def ticks(self, count: int) -> None:
        """Let ``count`` more ticks flow through the engine (time passes in event terms)."""
        target = self.runtime.read_model.ticks_seen + count
        await eventually(lambda: self.runtime.read_model.ticks_seen >= target)

    async def kill(self) -> set[str]:
        """ctrl+k → Kill; HALTED at once. Returns the orders that existed at the kill."""
        await self.pilot.press("ctrl+k")
        await eventually(lambda: isinstance(self.app.screen, KillConfirmScreen), timeout=5)
        await self.pilot.press("enter")
        await eventually(lambda: "HALTED" in self.header(), timeout=3.0, message="no HALTED")
        assert self.state() is TradingMode.HALTED
        return set(self.store.orders)

    async def assert_nothing_sent_after_kill(self, before: set[str]) -> None:
        """Open orders end cancelled (or filled); a later order is only ever a rejection."""

        def settled() -> bool:
            return not any(o.status in LIVE_ORDER for o in self.store.orders.values())

        await eventually(settled, message="open orders not cancelled after the kill")
        await self.ticks(100)
        after = {c: o for c, o in self.store.orders.items() if c not in before}
        assert all(o.status is OrderStatus.REJECTED for o in after.values()), after
        model = self.runtime.read_model
        await eventually(lambda: not model.open_orders(), message=f"{model.open_orders()}")


async def open_real_console(
    home: Path,
    *,
    size: tuple[int, int] = (120, 40),
    log_ring: object | None = None,
    **settings: object,
) -> AsyncIterator[RealConsole]:
    clock = ManualClock(START_NS)
    bus = MemoryBus(partitions=2, capacity=50_000)
    await bus.start()
    store = MemoryTradingStore()
    runtime = build_runtime(
        engine_settings(home, **settings),
        clock=clock,
        feed_factory=seeded_feed(clock),
        ports=Ports(bus=bus, store=store),
        log_ring=log_ring,
    )
    app = make_app(runtime, operator="trader@desk")
    try:
        async with app.run_test(size=size) as pilot:
            await eventually(lambda: app.engine_running, message="engine not started")
            yield RealConsole(app, pilot, runtime, store)
    finally:
        await bus.aclose()


async def _one_turn(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    await asyncio.sleep(0.001)


@pytest.fixture(autouse=True)
def keys_do_not_wait_for_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """A running engine never lets the CPU idle, so Pilot's wait-for-idle would cap every key
    at one second; the key is still fully handled (Pilot waits for the screen's queue)."""
    monkeypatch.setattr(textual.app, "wait_for_idle", _one_turn)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _one_turn)


@pytest.fixture
async def real(isolated_home: Path) -> AsyncIterator[RealConsole]:
    async for console in open_real_console(isolated_home):
        yield console


async def whale_is_working(real: RealConsole) -> None:
    await eventually(
        lambda: any(o.strategy == "whale" for o in real.runtime.read_model.open_orders()),
        message="the whale has no open order",
    )


# -- the dashboard on a live engine ------------------------------------------------------
async def test_dashboard_fills_from_the_real_strategies(real: RealConsole) -> None:
    dashboard = real.app.dashboard
    positions, orders = dashboard.query_one("#positions"), dashboard.query_one("#orders")
    await eventually(lambda: len(orders.row_keys) >= 3, message="no orders drawn")
    await eventually(lambda: len(positions.row_keys) >= 2, message="no positions drawn")
    coid = orders.row_keys[0]
    assert coid in real.store.orders  # the row is an order the engine wrote
    symbol = real.store.orders[coid].symbol
    assert orders.cell_text(coid, "symbol") == symbol.removeprefix("NSE:")  # NSE goes unsaid
    header = real.header()
    assert "PAPER" in header and "ACTIVE" in header
    assert "SIM 15 Jan 2025 " in header and "Market: OPEN" in header  # the feed's time
    strategies = dashboard.query_one("#strategies")
    assert strategies.row_keys == ["momo", "revert", "whale"]
    assert {strategies.cell_text(name, "state") for name in strategies.row_keys} == {"ACTIVE"}


# -- the kill switch -----------------------------------------------------------------------
async def test_kill_halts_at_once_and_nothing_is_sent_afterwards(real: RealConsole) -> None:
    await whale_is_working(real)
    before = await real.kill()
    assert isinstance(real.app.screen, type(real.app.dashboard))
    await real.assert_nothing_sent_after_kill(before)
    whale = [o for o in real.store.orders.values() if o.strategy == "whale"]
    assert any(o.status is OrderStatus.CANCELLED for o in whale), "open orders not cancelled"
    strategies = real.app.dashboard.query_one("#strategies")
    await eventually(lambda: strategies.cell_text("revert", "state") == "HALTED")


async def test_kill_from_the_log_viewer(real: RealConsole) -> None:
    await real.trading()
    await real.pilot.press("l")
    await eventually(lambda: bool(real.app.dashboard.logs.display), timeout=5)
    before = await real.kill()
    await real.assert_nothing_sent_after_kill(before)


async def test_kill_from_the_help_screen(real: RealConsole) -> None:
    await real.trading()
    await real.pilot.press("question_mark")
    await eventually(lambda: isinstance(real.app.screen, HelpScreen), timeout=5)
    before = await real.kill()
    await real.assert_nothing_sent_after_kill(before)


async def test_resume_with_confirm_trades_again(real: RealConsole) -> None:
    before = await real.kill()
    await real.assert_nothing_sent_after_kill(before)
    await real.pilot.press("r")
    await eventually(lambda: isinstance(real.app.screen, ConfirmScreen), timeout=5)
    await real.pilot.press("left", "enter")  # focus Resume, choose it
    await eventually(lambda: "ACTIVE" in real.header(), message="ACTIVE not shown")
    assert real.state() is TradingMode.ACTIVE
    await real.trading()
    orders = real.app.dashboard.query_one("#orders")
    await eventually(
        lambda: any(coid not in before for coid in orders.row_keys), message="no new order row"
    )


@pytest.fixture
async def logged_real(isolated_home: Path) -> AsyncIterator[RealConsole]:
    """The real console with its log viewer reading the engine's log lines."""
    ring = RingBufferHandler(2000)
    root = logging.getLogger("alphapanda")
    level = root.level
    root.addHandler(ring)
    root.setLevel(logging.INFO)
    try:
        async for console in open_real_console(isolated_home, log_ring=ring):
            yield console
    finally:
        root.removeHandler(ring)
        root.setLevel(level)


async def test_a_kill_on_the_simulated_market_carries_the_run_clock(
    logged_real: RealConsole,
) -> None:
    """The wall clock is fixed at 10:15:00 while the simulated market runs on its own
    clock: the state record, the audit row, the persisted state and the log viewer's
    time of the kill all carry the simulated market's time, not the wall clock's."""
    real = logged_real
    await real.trading()
    model = real.runtime.read_model
    first = model.event_ns
    assert first is not None and first != START_NS
    await real.kill()
    await eventually(
        lambda: any(r.action == "trading.kill" for r in real.store.audit),
        message="no audit row for the kill",
    )
    await real.ticks(5)
    last = model.event_ns
    assert last is not None
    assert real.runtime.pipeline is not None
    record = real.runtime.pipeline.trading_state.record(GLOBAL_SCOPE)
    assert record is not None and first <= record.changed_ts <= last
    (audit,) = [r for r in real.store.audit if r.action == "trading.kill"]
    assert first <= audit.audit_ts <= last
    (stored,) = await real.store.load_trading_states(real.runtime.broker)
    assert first <= stored.changed_ts <= last
    await real.pilot.press("l")
    logs = real.app.dashboard.logs
    await eventually(lambda: bool(logs.display), timeout=5)

    def kill_line() -> str:
        lines = [line.text for line in logs.lines.lines]
        return next((line for line in lines if "trading.kill" in line), "")

    await eventually(lambda: bool(kill_line()), message="no kill line in the log viewer")
    assert ist_time(first) <= kill_line()[:8] <= ist_time(last), kill_line()


# -- halting one strategy --------------------------------------------------------------------
async def test_h_halts_the_selected_strategy_only(real: RealConsole) -> None:
    strategies = real.app.dashboard.query_one("#strategies")
    await real.trading("momo")
    assert strategies.selected_strategy == "momo"
    await real.pilot.press("h")
    await eventually(lambda: strategies.cell_text("momo", "state") == "HALTED")
    assert real.state("momo") is TradingMode.HALTED
    assert real.state() is TradingMode.ACTIVE
    halted_at = set(real.store.orders)
    await real.trading("revert")  # the others keep trading
    await real.ticks(100)
    momo_after = [
        o for c, o in real.store.orders.items() if c not in halted_at and o.strategy == "momo"
    ]
    assert all(o.status is OrderStatus.REJECTED for o in momo_after), momo_after
    rejected = [a for a in real.store.alerts if a.strategy == "momo" and "HALTED" in a.message]
    assert rejected, "momo's signals were not rejected as HALTED"
    assert strategies.cell_text("revert", "state") == "ACTIVE"


# -- quitting ----------------------------------------------------------------------------------
async def test_quit_with_open_orders_asks_then_stops_gracefully(real: RealConsole) -> None:
    await whale_is_working(real)
    await real.pilot.press("q")
    await eventually(lambda: isinstance(real.app.screen, ConfirmScreen), timeout=5)
    await real.pilot.press("escape")
    assert real.app.is_running and real.app.engine_running
    assert real.store.snapshots == []
    await real.pilot.press("q", "left", "enter")
    await eventually(lambda: not real.app.is_running, message="console still running")
    assert real.app.return_code == 0
    assert real.store.snapshots, "no final P&L snapshot stored"


async def test_a_refresh_after_exit_draws_nothing(isolated_home: Path) -> None:
    """The refresh timer can fire once exit has popped every screen (seen under load in
    CI: an IndexError from the dashboard lookup, raised out of ``run_test``)."""
    async for console in open_real_console(isolated_home):
        await console.trading()
        app = console.app
    assert app.screen_stack == [] and not app.is_running
    app.refresh_from_model()  # as the timer's last tick would


# -- SIGTERM / SIGHUP --------------------------------------------------------------------------
@pytest.mark.parametrize("signum_name", ["SIGTERM", "SIGHUP"])
async def test_signal_stops_the_engine_gracefully(real: RealConsole, signum_name: str) -> None:
    signum = getattr(signal, signum_name)
    await real.trading()
    assert signal.getsignal(signum) not in (signal.SIG_DFL, signal.SIG_IGN)  # else it kills us
    os.kill(os.getpid(), signum)  # the handler on the app's loop, as from the terminal
    await eventually(lambda: not real.app.is_running, message="console still running")
    assert real.app.return_code == 128 + signum
    assert real.store.snapshots, "no final P&L snapshot stored"
    assert real.runtime.pipeline is not None


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Read the terminal until ``needle`` shows (the console is drawn), or fail."""
    seen, deadline = b"", time.monotonic() + timeout
    while needle not in seen[-200_000:]:
        assert time.monotonic() < deadline, f"{needle!r} not drawn within {timeout}s"
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            seen = seen[-200_000:] + os.read(fd, 65536)
    return seen


def _wait_exit(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


@pytest.mark.slow
def test_ssh_drop_stops_the_real_process_gracefully(isolated_home: Path) -> None:
    """`alphapanda` under a pseudo-terminal; the SSH side goes away (pty closed + SIGHUP)."""
    executable = Path(sys.executable).with_name("alphapanda")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPANDA_")}
    env.update(
        TERM="xterm-256color",
        ALPHAPANDA_HOME=str(isolated_home),
        ALPHAPANDA_PORTFOLIO__SNAPSHOT_INTERVAL_S="3600",  # a snapshot means the final one
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console on the pty
        os.execve(executable, [str(executable)], env)
    try:
        _read_until(fd, b"ACTIVE", timeout=30)
        pid_file = isolated_home / "engine.pid"  # written once the engine has started
        while not pid_file.exists():
            _read_until(fd, b"\x1b", timeout=30)  # keep the terminal drained meanwhile
    finally:
        os.close(fd)  # sshd closes the master when the connection drops ...
    os.kill(pid, signal.SIGHUP)  # ... and the session gets SIGHUP
    assert _wait_exit(pid, timeout=20) == 128 + signal.SIGHUP
    with sqlite3.connect(isolated_home / "alphapanda.db") as db:
        (snapshots,) = db.execute("select count(*) from pnl_snapshots").fetchone()
    assert snapshots >= 1, "no final P&L snapshot stored"
    assert not (isolated_home / "engine.pid").exists()
