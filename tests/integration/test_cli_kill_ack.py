"""``alphapanda kill`` against a running headless engine: HALTED is printed only once the
engine acknowledged that it stopped sending, and from then on no order leaves.

Also the CLI's honesty around it: no engine (no acknowledgement, exit 3, the state
persisted), ``--flatten`` with no engine (refused in words: nothing squared off later),
unknown strategy names (exit 2, the known ones listed, nothing stored), results on stdout.
"""

from __future__ import annotations

import json
import signal as signals
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import EngineProcess, SqliteDb, cli, poll

NO_ACK_EXIT = 3


def _max_order_id(db: SqliteDb) -> int:
    return int(db.scalar("SELECT max(id) FROM orders") or 0)


def _sent_after(db: SqliteDb, order_id: int) -> list[tuple[Any, ...]]:
    """Orders created after ``order_id`` that went to the venue: any not refused by the halt.

    Signals risk validated before the halt may still reach execution; it writes each one
    (outbox) and refuses it REJECTED with the halt's reason, never sending it.
    """
    return db.rows(
        "SELECT id, signal_id, status, reason, broker_order_id FROM orders WHERE id > ? "
        "AND NOT (status = 'REJECTED' AND reason LIKE '%HALTED%' AND broker_order_id IS NULL)",
        order_id,
    )


def _refusals(db: SqliteDb) -> int:
    return db.count("risk_alerts", "rule = 'trading_state'")


@pytest.mark.slow
async def test_no_order_leaves_after_kill_prints_halted(isolated_home: Path) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        await poll(lambda: db.count("orders") >= 10, 20, "the engine trading often")

        killed = cli(isolated_home, "kill")
        last_at_return = _max_order_id(db)
        assert killed.returncode == 0, killed.stdout + killed.stderr
        assert killed.stdout.startswith("trading is now HALTED"), killed.stdout
        assert killed.stderr == ""
        ack = db.rows("SELECT detail FROM audit_log WHERE action = 'ack.kill'")
        assert len(ack) == 1 and json.loads(ack[0][0])["sends_stopped"] is True

        refused = _refusals(db)
        # The strategy keeps signalling: risk refuses each new signal (no order written).
        await poll(lambda: _refusals(db) >= refused + 3, 10, "signals refused while halted")
        status = json.loads(cli(isolated_home, "status", "--json").stdout)
        assert status["trading_state"]["mode"] == "HALTED"
        engine.send(signals.SIGTERM)  # a graceful stop drains whatever was still in flight
        assert engine.wait() == 0, engine.output[-3000:]
        assert _sent_after(db, last_at_return) == []
        assert db.count("orders", "id > ?", last_at_return) == db.count(
            "orders", "id > ? AND status = 'REJECTED'", last_at_return
        )
    finally:
        engine.close()


def test_kill_with_no_engine_says_nothing_acknowledged_and_exits_3(isolated_home: Path) -> None:
    killed = cli(isolated_home, "kill", "--wait", "0.3")

    assert killed.returncode == NO_ACK_EXIT, killed.stderr
    assert "HALTED is stored (state persisted)" in killed.stdout
    assert "no running engine acknowledged within 0.3 s" in killed.stdout
    assert "trading is now HALTED" not in killed.stdout
    status = json.loads(cli(isolated_home, "status", "--json").stdout)
    assert status["trading_state"]["mode"] == "HALTED"


@pytest.mark.slow
async def test_kill_flatten_with_no_engine_is_not_performed_by_a_later_start(
    isolated_home: Path,
) -> None:
    killed = cli(isolated_home, "kill", "--flatten", "--wait", "0.3")
    assert killed.returncode == NO_ACK_EXIT, killed.stderr
    assert "positions were NOT squared off" in killed.stderr
    assert "run 'alphapanda kill --flatten' again" in killed.stderr

    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        await poll(lambda: _refusals(db) >= 3, 15, "signals refused at start")
        # The old request is history to the new engine: no kill applied, no square-off.
        assert db.count("audit_log", "action IN ('ack.kill', 'trading.kill')") == 0
        assert db.count("orders", "signal_id LIKE 'square-off:%'") == 0
        assert db.count("orders", "status != 'REJECTED'") == 0
    finally:
        engine.close()


def test_resume_of_an_unknown_strategy_exits_2_listing_the_known_ones(
    isolated_home: Path,
) -> None:
    resumed = cli(isolated_home, "resume", "--strategy", "nope")

    assert resumed.returncode == 2
    assert resumed.stdout == ""
    assert "unknown strategy 'nope' (known: fast-ema)" in resumed.stderr
    assert len(resumed.stderr.strip().splitlines()) == 1
    assert "Traceback" not in resumed.stderr
    db = SqliteDb(isolated_home / "alphapanda.db")
    assert db.count("trading_states") == 0
    assert db.count("audit_log") == 0


def test_resume_prints_its_result_on_stdout(isolated_home: Path) -> None:
    resumed = cli(isolated_home, "resume", "--strategy", "fast-ema")

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == (
        "strategy fast-ema is now ACTIVE; no engine is running here, it will start ACTIVE"
    )
    assert resumed.stderr == ""


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon", "61"])
def test_kill_refuses_a_bad_wait_and_stores_nothing(isolated_home: Path, value: str) -> None:
    killed = cli(isolated_home, "kill", "--wait", value)

    assert killed.returncode == 2
    assert len(killed.stderr.strip().splitlines()) == 1
    assert "--wait" in killed.stderr and "Traceback" not in killed.stderr
    assert SqliteDb(isolated_home / "alphapanda.db").count("audit_log") == 0
