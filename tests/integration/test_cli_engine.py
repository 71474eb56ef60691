"""``alphapanda engine`` as a trader runs it: stops cleanly on SIGTERM or Ctrl-C with a final
P&L snapshot stored, and ``alphapanda status --json`` reports what the engine left behind.
"""

from __future__ import annotations

import json
import signal
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.support import STRATEGY, EngineProcess, SqliteDb, cli, poll

pytestmark = pytest.mark.slow

# Periodic snapshots far apart: the one written at stop is the only one after the signal.
QUIET_SNAPSHOTS = {"ALPHAPANDA_PORTFOLIO__SNAPSHOT_INTERVAL_S": "3600"}


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_engine_exits_0_on_signal_with_a_final_pnl_snapshot(
    isolated_home: Path, stop_signal: signal.Signals
) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home, **QUIET_SNAPSHOTS)
    try:
        await engine.started()
        pid_line = (isolated_home / "engine.pid").read_text().splitlines()[0]
        assert pid_line == str(engine.process.pid)
        await poll(lambda: db.count("fills") >= 3, 15, "the engine trading")
        snapshots_before = db.count("pnl_snapshots")
        signalled_ns = time.time_ns()
        engine.send(stop_signal)
        assert engine.wait() == 0, engine.output[-3000:]
    finally:
        engine.close()

    assert "alphapanda engine stopped cleanly" in engine.output
    assert "Traceback" not in engine.output
    assert not (isolated_home / "engine.pid").exists()
    assert db.count("pnl_snapshots") == snapshots_before + 1
    final = db.rows(
        "SELECT snapshot_ts, realized_pnl, charges FROM pnl_snapshots ORDER BY id DESC LIMIT 1"
    )[0]
    assert final[0] >= signalled_ns
    charges = sum(Decimal(str(c)) for (c,) in db.rows("SELECT charges FROM fills"))
    assert Decimal(str(final[2])) == charges  # the final snapshot counts every fill


async def test_status_json_reports_state_strategies_positions_orders_and_pnl(
    isolated_home: Path,
) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        await poll(
            lambda: db.count("fills") >= 5 and db.count("positions", "net_quantity != 0") > 0,
            15,
            "open positions",
        )
        running = json.loads(cli(isolated_home, "status", "--json").stdout)
        engine.send(signal.SIGTERM)
        assert engine.wait() == 0, engine.output[-3000:]
    finally:
        engine.close()

    assert running["engine"] == {"running": True, "pid": engine.process.pid}
    result = cli(isolated_home, "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert set(status) >= {"trading_state", "strategies", "positions", "open_orders", "pnl"}
    assert status["engine"]["running"] is False
    assert status["trading_state"]["mode"] == "ACTIVE"
    assert [(s["name"], s["state"]) for s in status["strategies"]] == [(STRATEGY, "ACTIVE")]
    stored = {
        (strategy, token): qty
        for strategy, token, qty in db.rows(
            "SELECT strategy, instrument_token, net_quantity FROM positions WHERE net_quantity != 0"
        )
    }
    reported = {
        (p["strategy"], p["instrument_token"]): p["net_quantity"] for p in status["positions"]
    }
    assert reported == stored
    working = db.count("orders", "status IN ('PENDING', 'SUBMITTED', 'OPEN', 'PARTIALLY_FILLED')")
    assert len(status["open_orders"]) == working
    latest = db.rows("SELECT snapshot_ts, equity FROM pnl_snapshots ORDER BY id DESC LIMIT 1")[0]
    assert status["pnl"]["snapshot_ts"] == latest[0]
    assert Decimal(status["pnl"]["equity"]) == Decimal(str(latest[1]))


async def test_engine_stdout_tells_the_trader_fills_halts_and_actions_not_chatter(
    isolated_home: Path,
) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home, ALPHAPANDA_LOG__LEVEL="INFO")
    try:
        await engine.started()
        await poll(lambda: db.count("fills") >= 3, 15, "the engine trading")
        assert cli(isolated_home, "kill").returncode == 0
        await poll(lambda: "trading.kill" in engine.output, 10, "the kill on stdout")
        engine.send(signal.SIGTERM)
        assert engine.wait() == 0, engine.output[-3000:]
    finally:
        engine.close()

    lines = engine.output.splitlines()
    fills = [line for line in lines if " ORDER " in line and " fill FILLED " in line]
    assert fills and all(" NSE:" in line and " @ " in line for line in fills)
    assert any("OPERATOR" in line and "trading.kill" in line for line in lines)
    assert any("trading state changed: global ACTIVE → HALTED" in line for line in lines)
    assert not [line for line in lines if "consumer" in line or "bus started" in line]
