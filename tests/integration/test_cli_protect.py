"""``alphapanda protect`` through the real console script against a running paper engine:
a stop set on a position shows in ``alphapanda positions`` and is cleared again, in words
and as JSON; without an engine it refuses (exit 2) and stores nothing."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from tests.integration.support import EngineProcess, SqliteDb, poll
from tests.integration.test_cli_manual_orders import (
    FILL_WAIT_S,
    NO_ENGINE_EXIT,
    REFUSED_EXIT,
    as_json,
    ok,
    order_in_session,
    quiet_env,
    run,
    stored_net,
)

TICK = Decimal("0.05")


def protections(db: SqliteDb) -> int:
    return db.count("position_protections", "strategy = 'manual'")


@pytest.mark.slow
async def test_a_stop_set_from_a_shell_shows_in_positions_and_is_cleared(
    isolated_home: Path,
) -> None:
    home = isolated_home
    db = SqliteDb(home / "alphapanda.db")
    engine = EngineProcess.start(home, **quiet_env(home))
    try:
        await engine.started()
        bought = order_in_session(home, "buy", "INFY", "5", "--product", "CNC", "--yes")
        assert bought.returncode == 0, bought.stdout + bought.stderr
        await poll(lambda: stored_net(db, "NSE:INFY") == 5, FILL_WAIT_S, "INFY bought")
        (position,) = [p for p in as_json(home, "positions") if p["symbol"] == "NSE:INFY"]
        average = Decimal(position["average_price"])
        stop = (average * Decimal("0.9") / TICK).to_integral_value(ROUND_DOWN) * TICK

        # no position in TCS: refused before anything is asked of the engine
        nothing = run(home, "protect", "TCS", "--stop", "100", "--yes")
        assert nothing.returncode == NO_ENGINE_EXIT
        assert "no open position in NSE:TCS" in nothing.stderr

        done = run(home, "protect", "INFY", "--stop", str(stop), "--target-pct", "5", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"protecting NSE:INFY (manual): stop {stop:,.2f}, target 5%" in done.stdout
        table = ok(home, "positions")
        header, *rows = table.splitlines()
        assert "protection" in header
        (infy,) = [r for r in rows if "NSE:INFY" in r]
        assert f"stop {stop:,.2f}, target 5%" in infy
        assert protections(db) == 1

        # the engine's protection service refuses a trail of 150%, and says why
        wrong = run(home, "protect", "INFY", "--trail-pct", "150", "--yes")
        assert wrong.returncode == REFUSED_EXIT, wrong.stdout + wrong.stderr
        assert "150" in wrong.stderr and "between 0 and 100" in wrong.stderr
        assert f"stop {stop:,.2f}" in ok(home, "positions")  # the old one kept

        kept = as_json(home, "protect", "INFY", "--stop", str(stop), "--target-pct", "4", "--yes")
        assert (kept["strategy"], kept["symbol"], kept["net_quantity"]) == ("manual", "NSE:INFY", 5)
        assert Decimal(kept["protection"]["stop_price"]) == stop
        assert Decimal(kept["protection"]["target_pct"]) == 4
        assert kept["protection"]["fired"] == "" and kept["protection"]["direction"] == 1
        assert "target 4%" in ok(home, "positions")

        cleared = ok(home, "protect", "INFY", "--clear", "--yes")
        assert "protection of NSE:INFY (manual) cleared" in cleared
        assert protections(db) == 0
        again = as_json(home, "protect", "INFY", "--stop", str(stop), "--yes")
        assert again["protection"]["stop_price"] is not None
        assert as_json(home, "protect", "INFY", "--clear", "--yes")["protection"] is None
        assert protections(db) == 0
        assert "protection" not in ok(home, "positions").splitlines()[0]
    finally:
        engine.close()

    # the engine is gone: refused with exit 2 before anything is stored
    idle = run(home, "protect", "INFY", "--stop", str(stop), "--yes")
    assert idle.returncode == NO_ENGINE_EXIT
    assert "no engine is running" in idle.stderr
    assert db.count("audit_log", "action = 'request.protect'") == 6


def test_protect_needs_a_level_or_clear(isolated_home: Path) -> None:
    done = run(isolated_home, "protect", "INFY", "--yes")
    assert done.returncode == NO_ENGINE_EXIT
    assert "give --stop, --target or --trail" in done.stderr
    both = run(isolated_home, "protect", "INFY", "--stop", "10", "--stop-pct", "2", "--yes")
    assert both.returncode == NO_ENGINE_EXIT and "not allowed with" in both.stderr
