"""``alphapanda backtest --candles``: stored Kite candles replayed through the pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from engine.clock import IST, datetime_to_ns
from engine.market.candles import Candle
from engine.zerodha.history import Chunk, HistoryRequest
from storage.candles.store import CandleStore

ALPHAPANDA = Path(sys.executable).with_name("alphapanda")
DAY = date(2024, 1, 15)
STRATEGIES = """
strategies:
  - name: ema-5m
    kind: ema_cross
    params: {fast: 3, slow: 8, quantity: 10}
    instruments: [NSE:RELIANCE]
    bars: 5minute
"""


def _store_v_shaped_candles(home: Path) -> int:
    """Forty 5-minute RELIANCE candles falling then rising; returns how many."""
    closes = [2900 - 2 * i for i in range(20)] + [2862 + 2 * i for i in range(1, 21)]
    start = datetime_to_ns(datetime.combine(DAY, time(9, 15), tzinfo=IST))
    candles = [
        Candle(
            start + i * 300 * 10**9,
            Decimal(c + 1),
            Decimal(c + 3),
            Decimal(c - 2),
            Decimal(c),
            500,
        )
        for i, c in enumerate(closes)
    ]
    request = HistoryRequest(738561, "NSE:RELIANCE", "5minute", DAY, DAY)
    CandleStore(home / "candles").save_chunk(request, Chunk(DAY, DAY), candles, complete=True)
    return len(candles)


def _backtest(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    strategies = home / "strategies.yaml"
    strategies.write_text(STRATEGIES)
    env = {**os.environ, "ALPHAPANDA_STRATEGIES_FILE": str(strategies)}
    return subprocess.run(
        [str(ALPHAPANDA), "backtest", "--strategy", "ema-5m", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_a_backtest_on_stored_candles_trades_the_bar_closes(isolated_home: Path) -> None:
    count = _store_v_shaped_candles(isolated_home)
    run = _backtest(
        isolated_home,
        *("--candles", "RELIANCE", "--interval", "5minute"),
        *("--from", "2024-01-15", "--to", "2024-01-15", "--json", "--sync-every", "1"),
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["ticks"] == 4 * count
    assert (summary["signals"], summary["orders"], summary["fills"]) == (1, 1, 1)


def test_candles_not_fetched_yet_are_one_line_naming_the_fetch(isolated_home: Path) -> None:
    run = _backtest(
        isolated_home,
        *(
            "--candles",
            "INFY",
            "--interval",
            "minute",
            "--from",
            "2024-01-15",
            "--to",
            "2024-01-16",
        ),
    )
    assert run.returncode == 2
    assert "no minute candles of NSE:INFY from 2024-01-15 to 2024-01-16" in run.stderr
    assert "alphapanda history fetch NSE:INFY --interval minute" in run.stderr


def test_candles_without_an_interval_are_refused(isolated_home: Path) -> None:
    run = _backtest(isolated_home, "--candles", "INFY", "--from", "2024-01-15")
    assert run.returncode == 2 and "--candles needs --interval, --to" in run.stderr


def test_strategies_lists_what_each_strategy_is_fed(isolated_home: Path) -> None:
    strategies = isolated_home / "strategies.yaml"
    strategies.write_text(STRATEGIES)
    env = {**os.environ, "ALPHAPANDA_STRATEGIES_FILE": str(strategies)}
    for args, expected in ((("--json",), '"bars": "5minute"'), ((), "5minute")):
        listed = subprocess.run(
            [str(ALPHAPANDA), "strategies", *args], capture_output=True, text=True, env=env
        )
        assert listed.returncode == 0, listed.stderr
        assert expected in listed.stdout
