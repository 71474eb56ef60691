"""Acting by hand from a shell, through the real ``alphapanda`` console script against a
running paper engine: order, the books, modify, cancel, the modification cap, exits, a
risk refusal and a halted engine; and the refusals with no engine or no confirmation.
"""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import ALPHAPANDA, EngineProcess, SqliteDb, engine_env, poll

NO_ENGINE_EXIT = 2
REFUSED_EXIT = 1
# The demo clock runs sessions fast: a market order sent after the close fills at the next
# open, some seconds of wall time later.
FILL_WAIT_S = 60
# Only the operator trades: the demo strategy is configured but disabled, so every order
# in the book is one of this test's.
QUIET_STRATEGIES = """\
strategies:
  - name: fast-ema
    kind: ema_cross
    enabled: false
    params: {fast: 2, slow: 4, quantity: 5}
    instruments: [NSE:RELIANCE, NSE:TCS, NSE:INFY]
    broker: paper
"""


def quiet_env(home: Path) -> dict[str, str]:
    path = home / "quiet-strategies.yaml"
    path.write_text(QUIET_STRATEGIES)
    return {"ALPHAPANDA_STRATEGIES_FILE": str(path)}


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One command as from a script: stdin is not a terminal."""
    return subprocess.run(
        [str(ALPHAPANDA), *args],
        env=engine_env(home, **quiet_env(home)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home,
        check=False,
    )


def on_terminal(home: Path, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """One command with a terminal on stdin, typing ``answer`` at its question."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        return subprocess.run(
            [str(ALPHAPANDA), *args],
            env=engine_env(home, **quiet_env(home)),
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=home,
            check=False,
        )
    finally:
        os.close(controller)
        os.close(terminal)


def order_in_session(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``alphapanda order *args``, again while risk refuses it only because the demo
    market is closed or has no price yet (its compressed day has nights every minute)."""
    deadline = time.monotonic() + FILL_WAIT_S
    while True:
        done = run(home, "order", *args)
        waiting = any(rule in done.stdout for rule in ("risk: market_hours", "risk: no_price"))
        if not waiting or time.monotonic() > deadline:
            return done
        time.sleep(0.5)


def ok(home: Path, *args: str) -> str:
    done = run(home, *args)
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


def as_json(home: Path, *args: str) -> Any:
    return json.loads(ok(home, *args, "--json"))


def manual_net(home: Path, symbol: str) -> int:
    positions = as_json(home, "positions", "--all")
    return sum(
        p["net_quantity"] for p in positions if p["strategy"] == "manual" and p["symbol"] == symbol
    )


def stored_net(db: SqliteDb, symbol: str) -> int:
    return int(
        db.scalar(
            "SELECT net_quantity FROM positions WHERE strategy = 'manual' AND symbol = ?", symbol
        )
        or 0
    )


def order_status(db: SqliteDb, client_order_id: str) -> str:
    return str(db.scalar("SELECT status FROM orders WHERE client_order_id = ?", client_order_id))


def seed_modifications(db_path: Path, client_order_id: str, count: int) -> None:
    """``count`` earlier modifications of the order, as the engine acknowledges them."""
    connection = sqlite3.connect(db_path, timeout=10)
    try:
        now = time.time_ns()
        for n in range(count):
            detail = {"request_id": f"seed-{n}", "sent": True, "client_order_id": client_order_id}
            connection.execute(
                "INSERT INTO audit_log (audit_ts, actor, action, detail) VALUES (?, ?, ?, ?)",
                (now - 1_000_000 + n, "engine 1", "ack.modify", json.dumps(detail)),
            )
        connection.commit()
    finally:
        connection.close()


@pytest.mark.slow
async def test_acting_by_hand_from_a_shell_against_a_running_paper_engine(
    isolated_home: Path,
) -> None:
    home = isolated_home
    db = SqliteDb(home / "alphapanda.db")
    engine = EngineProcess.start(home, **quiet_env(home))
    try:
        await engine.started()

        # A market order fills and shows in the order book, the trade book and positions.
        placed = order_in_session(home, "buy", "INFY", "5", "--product", "CNC", "--yes").stdout
        coid, *_ = placed.split()
        assert f"{coid} BUY 5 NSE:INFY MARKET" in placed, placed
        await poll(lambda: order_status(db, coid) == "FILLED", FILL_WAIT_S, "manual order fill")
        await poll(lambda: stored_net(db, "NSE:INFY") == 5, 10, "manual position")
        (order,) = [o for o in as_json(home, "orders", "--all") if o["client_order_id"] == coid]
        assert (order["strategy"], order["status"], order["product"]) == ("manual", "FILLED", "CNC")
        fills = [f for f in as_json(home, "trades", "--all") if f["client_order_id"] == coid]
        assert sum(f["quantity"] for f in fills) == 5
        assert manual_net(home, "NSE:INFY") == 5
        table = ok(home, "orders", "--all")
        assert coid in table and "reason" in table.splitlines()[0]
        last = Decimal(fills[0]["price"])

        # Risk refuses a limit far outside the price band: the reason shown, nothing sent.
        refused = order_in_session(home, "buy", "INFY", "5", "--limit", str(last / 2), "--yes")
        assert refused.returncode == REFUSED_EXIT, refused.stdout + refused.stderr
        assert "REJECTED by risk: price_band" in refused.stdout
        assert db.count("orders", "strategy = 'manual'") == 1

        # A LIMIT below the market rests; modify changes it; the 26th modify is refused
        # before sending; cancel takes it off the book with the operator's name.
        tick = Decimal("0.05")
        rest = (last * Decimal("0.96") / tick).to_integral_value(ROUND_DOWN) * tick
        resting = order_in_session(
            home, "buy", "INFY", "1", "--limit", str(rest), "--product", "CNC", "--yes"
        ).stdout
        limit_id = resting.split()[0]
        assert "LIMIT" in resting and "OPEN" in resting, resting
        moved = rest - Decimal("0.05")
        modified = ok(home, "modify", limit_id, "--price", str(moved), "--yes")
        assert f"@ {moved:,.2f}" in modified and "(modification 1 of 25)" in modified, modified
        seed_modifications(home / "alphapanda.db", limit_id, 24)
        capped = run(home, "modify", limit_id, "--price", str(rest), "--yes")
        assert capped.returncode == REFUSED_EXIT
        assert "already modified 25 times; Kite allows 25 modifications" in capped.stderr
        assert (
            Decimal(db.scalar("SELECT price FROM orders WHERE client_order_id = ?", limit_id))
            == moved
        )
        cancelled = ok(home, "cancel", limit_id, "--yes")
        assert "CANCELLED (cancelled by" in cancelled, cancelled
        assert limit_id in ok(home, "orders", "--all") and limit_id not in ok(
            home, "orders", "--open"
        )

        # Exit one position: INFY is flat, TCS is kept; then exit the strategy: all flat.
        assert (
            order_in_session(home, "buy", "TCS", "3", "--product", "CNC", "--yes").returncode == 0
        )
        await poll(lambda: stored_net(db, "NSE:TCS") == 3, FILL_WAIT_S, "TCS bought")
        assert "exit" in ok(home, "exit", "INFY", "--yes")
        await poll(lambda: stored_net(db, "NSE:INFY") == 0, FILL_WAIT_S, "INFY exited")
        assert manual_net(home, "NSE:INFY") == 0
        assert manual_net(home, "NSE:TCS") == 3
        # A limit exit above the market rests (the position is kept) until cancelled.
        tcs = Decimal(db.scalar("SELECT price FROM fills WHERE symbol = 'NSE:TCS'"))
        high = (tcs * Decimal("1.04") / tick).to_integral_value(ROUND_DOWN) * tick
        assert "not flat yet: manual NSE:TCS +3" in ok(
            home, "exit", "TCS", "--limit", str(high), "--yes"
        )
        limit_exit = db.rows(
            "SELECT client_order_id, side, order_type, status FROM orders "
            "WHERE signal_id LIKE 'square-off:%' AND symbol = 'NSE:TCS'"
        )
        assert [row[1:] for row in limit_exit] == [("SELL", "LIMIT", "OPEN")]
        ok(home, "cancel", limit_exit[0][0], "--yes")
        ok(home, "exit", "--strategy", "manual", "--yes")
        await poll(lambda: stored_net(db, "NSE:TCS") == 0, FILL_WAIT_S, "strategy exited")
        assert manual_net(home, "NSE:TCS") == 0
        assert db.count("orders", "strategy != 'manual'") == 0

        # Halted: a manual order is refused by risk with the halt as its reason.
        assert run(home, "kill").returncode == 0
        halted = run(home, "order", "sell", "INFY", "1", "--yes")
        assert halted.returncode == REFUSED_EXIT
        assert "REJECTED by risk: trading_state" in halted.stdout, halted.stdout
    finally:
        engine.close()


@pytest.mark.slow
async def test_without_yes_and_without_a_terminal_nothing_is_asked_or_sent(
    isolated_home: Path,
) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home, **quiet_env(isolated_home))
    try:
        await engine.started()
        for args in (("order", "buy", "INFY", "1"), ("exit", "--all"), ("cancel", "AP1")):
            refused = run(isolated_home, *args)
            assert refused.returncode == NO_ENGINE_EXIT, refused.stderr
            assert "not a terminal: pass --yes" in refused.stderr
        assert db.count("audit_log", "action LIKE 'request.%'") == 0

        # On a terminal it asks; anything but yes sends nothing.
        declined = on_terminal(isolated_home, "n\n", "order", "buy", "INFY", "1", "--limit", "1500")
        assert declined.returncode == 1
        assert "Send BUY 1 INFY LIMIT @ 1500 MIS DAY on paper? [y/N]" in declined.stdout
        assert "not sent" in declined.stdout
        assert db.count("audit_log", "action LIKE 'request.%'") == 0
    finally:
        engine.close()


@pytest.mark.parametrize(
    "args",
    [
        ("order", "buy", "INFY", "5", "--yes"),
        ("cancel", "AP1", "--yes"),
        ("modify", "AP1", "--price", "10", "--yes"),
        ("exit", "--all", "--yes"),
    ],
)
def test_with_no_engine_running_nothing_is_stored_and_it_exits_2(
    isolated_home: Path, args: tuple[str, ...]
) -> None:
    done = run(isolated_home, *args)

    assert done.returncode == NO_ENGINE_EXIT
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "alphapanda: no engine is running: start 'alphapanda engine' or the console first; "
        "nothing sent"
    )
    assert SqliteDb(isolated_home / "alphapanda.db").count("audit_log") == 0


def test_the_read_only_books_answer_without_an_engine(isolated_home: Path) -> None:
    assert ok(isolated_home, "orders").strip() == "no orders today"
    assert ok(isolated_home, "trades").strip() == "no trades today"
    assert ok(isolated_home, "positions").strip() == "no open positions"
    assert as_json(isolated_home, "orders") == []
