"""``alphapanda status`` through the installed script: what the console would show.

A strategy is not ACTIVE while trading is globally HALTED (its stored state is shown
beside the effective one); money is spelt as on screen; ``--json`` keeps raw values.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from engine.clock import IST, datetime_to_ns
from engine.money import signed_amount
from tests.integration.support import (
    SESSION_START_NS,
    STRATEGY,
    EngineProcess,
    SqliteDb,
    cli,
    poll,
)


def _journal(home: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """A migrated database holding exactly ``statements``' rows (no engine ran)."""
    assert cli(home, "db", "upgrade").returncode == 0
    connection = sqlite3.connect(home / "alphapanda.db")
    with connection:
        for sql, params in statements:
            connection.execute(sql, params)
    connection.close()


def _state(scope: str, mode: str, reason: str) -> tuple[str, tuple[object, ...]]:
    return (
        "INSERT INTO trading_state (broker, scope, mode, reason, operator, changed_ts)"
        " VALUES ('paper', ?, ?, ?, 'ops@desk', ?)",
        (scope, mode, reason, SESSION_START_NS),
    )


SNAPSHOT = (
    "INSERT INTO pnl_snapshots (broker, snapshot_ts, realized_pnl, unrealized_pnl, charges,"
    " cash, equity, gross_exposure) VALUES ('paper', ?, '-2019.40', '123456.7', '12.3',"
    " '1000000', '1234567.89', '0')",
    (SESSION_START_NS,),
)


def test_a_global_halt_shows_every_strategy_halted_with_its_own_state_beside(
    isolated_home: Path,
) -> None:
    _journal(
        isolated_home,
        _state("global", "HALTED", "kill switch (cli)"),
        _state(STRATEGY, "ACTIVE", "operator resume"),
    )

    text = cli(isolated_home, "status")
    raw = cli(isolated_home, "status", "--json")

    assert text.returncode == 0, text.stderr
    assert text.stderr == ""
    lines = text.stdout.splitlines()
    assert "trading HALTED (kill switch (cli), by ops@desk)" in lines[0]
    (row,) = [line for line in lines if line.strip().startswith(STRATEGY)]
    assert "HALTED (global: kill switch (cli); own state ACTIVE)" in row
    assert " paper " in row
    assert "ACTIVE  " not in row  # never listed as trading
    (strategy,) = json.loads(raw.stdout)["strategies"]
    assert (strategy["state"], strategy["own_state"], strategy["broker"]) == (
        "HALTED",
        "ACTIVE",
        "paper",
    )


def test_a_strategy_halted_on_its_own_reads_halted_with_its_reason(isolated_home: Path) -> None:
    _journal(isolated_home, _state(STRATEGY, "HALTED", "too many rejections"))

    lines = cli(isolated_home, "status").stdout.splitlines()

    assert "trading ACTIVE" in lines[0]
    (row,) = [line for line in lines if line.strip().startswith(STRATEGY)]
    assert "HALTED (too many rejections)" in row
    assert "own state" not in row


def test_money_is_spelt_as_on_the_console_with_the_snapshot_time(isolated_home: Path) -> None:
    _journal(isolated_home, SNAPSHOT)

    text = cli(isolated_home, "status")
    raw = json.loads(cli(isolated_home, "status", "--json").stdout)

    assert text.returncode == 0, text.stderr
    pnl = text.stdout[text.stdout.index("P&L (₹)") :]
    assert "snapshot at 05 Jan 2026 10:00:00 IST" in pnl
    assert "realized -2,019.40" in pnl
    assert "unrealized +123,456.70" in pnl
    assert "charges 12.30" in pnl
    assert "equity 1,234,567.89" in pnl
    assert "overall  P&L +121,425.00" in pnl  # realized + unrealized − charges
    assert "day      not in the stored snapshot" in pnl  # a row from before day figures
    assert raw["pnl"]["day_pnl"] is None
    assert Decimal(raw["pnl"]["realized_pnl"]) == Decimal("-2019.40")  # raw, not spelt
    assert raw["pnl"]["equity"] == "1234567.89"
    assert raw["pnl"]["snapshot_ts"] == SESSION_START_NS


DAY_SNAPSHOT = (
    "INSERT INTO pnl_snapshots (broker, snapshot_ts, realized_pnl, unrealized_pnl, charges,"
    " cash, equity, gross_exposure, trading_day, day_realized_pnl, day_unrealized_pnl,"
    " day_charges) VALUES ('paper', ?, '-2019.40', '123456.7', '12.3', '1000000',"
    " '1234567.89', '0', '2026-01-05', '-1000', '250.25', '10')",
    (SESSION_START_NS,),
)


def test_day_pnl_with_its_trading_day_beside_the_overall_figures(isolated_home: Path) -> None:
    _journal(isolated_home, DAY_SNAPSHOT)

    text = cli(isolated_home, "status")
    raw = json.loads(cli(isolated_home, "status", "--json").stdout)

    assert text.returncode == 0, text.stderr
    pnl = text.stdout[text.stdout.index("P&L (₹)") :].splitlines()
    (day,) = [line for line in pnl if line.strip().startswith("day")]
    assert day.split() == (
        "day 2026-01-05 P&L -759.75 realized -1,000.00 unrealized +250.25 charges 10.00".split()
    )
    (overall,) = [line for line in pnl if line.strip().startswith("overall")]
    assert "P&L +121,425.00" in overall and "realized -2,019.40" in overall
    assert raw["pnl"]["trading_day"] == "2026-01-05"
    assert (raw["pnl"]["day_realized_pnl"], raw["pnl"]["day_charges"]) == ("-1000", "10")
    assert Decimal(raw["pnl"]["day_unrealized_pnl"]) == Decimal("250.25")
    assert Decimal(raw["pnl"]["day_pnl"]) == Decimal("-759.75")


@pytest.mark.slow
async def test_after_a_paper_run_status_shows_the_days_pnl_the_engine_stored(
    isolated_home: Path,
) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        await poll(lambda: db.count("fills") >= 3, 15, "the engine trading")
        assert engine.terminate() == 0, engine.output[-3000:]
    finally:
        engine.close()

    text = cli(isolated_home, "status")
    raw = json.loads(cli(isolated_home, "status", "--json").stdout)["pnl"]

    assert text.returncode == 0, text.stderr
    assert "not in the stored snapshot" not in text.stdout
    assert raw["event_ts"] and "(the simulated market's clock)" in text.stdout  # as stored
    # One session's run: today's charges are every fill's, today's realized the overall.
    charges = sum(Decimal(str(c)) for (c,) in db.rows("SELECT charges FROM fills"))
    assert Decimal(raw["day_charges"]) == charges == Decimal(raw["charges"])
    assert Decimal(raw["day_realized_pnl"]) == Decimal(raw["realized_pnl"])
    day_pnl = (
        Decimal(raw["day_realized_pnl"])
        + Decimal(raw["day_unrealized_pnl"])
        - Decimal(raw["day_charges"])
    )
    assert Decimal(raw["day_pnl"]) == day_pnl
    (day,) = [line for line in text.stdout.splitlines() if line.strip().startswith("day")]
    assert day.split()[1] == raw["trading_day"] != ""
    assert day.split()[3] == signed_amount(day_pnl)


SIM_EVENT_NS = datetime_to_ns(datetime(2026, 12, 16, 15, 15, tzinfo=IST))
SIM_SNAPSHOT = (
    "INSERT INTO pnl_snapshots (broker, snapshot_ts, realized_pnl, unrealized_pnl, charges,"
    " cash, equity, gross_exposure, event_ts) VALUES ('paper', ?, '0', '0', '0', '1000000',"
    " '1000000', '0', ?)",
    (SESSION_START_NS, SIM_EVENT_NS),
)


def test_on_the_simulated_market_the_snapshot_time_is_the_markets_and_says_so(
    isolated_home: Path,
) -> None:
    """The console's header reads SIM 16 Dec 2026 15:15:00 IST; status printed the time the
    row was written on the wall clock (05 Jan 2026 10:00:00), a different day."""
    _journal(isolated_home, SIM_SNAPSHOT)

    text = cli(isolated_home, "status").stdout
    raw = json.loads(cli(isolated_home, "status", "--json").stdout)["pnl"]

    assert "P&L (₹) snapshot at SIM 16 Dec 2026 15:15:00 IST (the simulated market's clock)" in text
    assert "05 Jan 2026" not in text
    assert (raw["clock"], raw["event_ts"]) == ("SIM", SIM_EVENT_NS)
    live = cli(isolated_home, "status", ALPHAPANDA_FEED__SOURCE="kite").stdout
    assert "snapshot at 05 Jan 2026 10:00:00 IST (wall clock, the market's)" in live


def test_no_snapshot_says_so(isolated_home: Path) -> None:
    result = cli(isolated_home, "status")

    assert result.returncode == 0, result.stderr
    assert "P&L: no snapshot stored yet" in result.stdout
