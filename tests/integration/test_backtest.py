"""``alphapanda backtest``: the real CLI replaying ticks through the live pipeline."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

from engine.backtest import BacktestStore, SyntheticTicks, TickFile, run_backtest
from engine.clock import IST, ns_to_datetime
from engine.domain.records import FillRecord, OrderRecord
from engine.instruments import load_default_registry
from engine.market.bars import INTERVALS
from engine.pipeline import PipelineConfig
from engine.risk import RiskLimits
from engine.strategies.config import StrategyConfig, load_strategies
from engine.strategies.factory import build_strategy
from tests.integration.support import ALPHAPANDA

FIELDS = {
    "ticks",
    "seconds",
    "ticks_per_s",
    "signals",
    "orders",
    "fills",
    "open_orders",
    "rejections",
    "realized_pnl",
    "unrealized_pnl",
    "charges",
    "equity_start",
    "equity_end",
    "dead_letters",
    "max_rss_mb",
    "strategy",
    "seed",
    "days",
    "halts",
    "rejections_by_reason",
}
MONEY = ("realized_pnl", "unrealized_pnl", "charges", "equity_start", "equity_end")
OUTCOME = ("ticks", "signals", "orders", "fills", "rejections", "realized_pnl", "charges")


# These tests are about the pipeline's per-tick behaviour (lockstep fills, halts,
# square-offs, dead letters): they pin ema-cross to every tick, whatever its bundled bars.
ON_TICKS = ("--bars", "tick")


def ema_cross_on_ticks() -> StrategyConfig:
    config = next(c for c in load_strategies() if c.name == "ema-cross")
    return config.model_copy(update={"bars": "tick"})


def backtest(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed CLI, with the test's isolated ALPHAPANDA_HOME from the environment."""
    return subprocess.run(
        [str(ALPHAPANDA), "backtest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def summary_of(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1, run.stdout  # one JSON object, nothing else on stdout
    return json.loads(lines[0])


def assert_equity_identity(summary: dict[str, object]) -> None:
    money = {name: Decimal(str(summary[name])) for name in MONEY}
    assert money["equity_end"] - money["equity_start"] == (
        money["realized_pnl"] + money["unrealized_pnl"] - money["charges"]
    )


def test_synthetic_backtest_prints_one_deterministic_json_summary() -> None:
    args = ("--strategy", "ema-cross", *ON_TICKS, "--synthetic", "20000", "--seed", "3", "--json")

    first = summary_of(backtest(*args))
    second = summary_of(backtest(*args))

    assert FIELDS <= first.keys()
    assert first["ticks"] == 20_000 and first["strategy"] == "ema-cross" and first["seed"] == 3
    assert all(isinstance(first[name], str) for name in MONEY)  # exact, never floats
    assert first["signals"] > 0 and first["orders"] > 0 and first["fills"] > 0
    assert first["dead_letters"] == 0
    assert_equity_identity(first)
    assert {k: first[k] for k in OUTCOME} == {k: second[k] for k in OUTCOME}


def test_a_different_seed_is_a_different_market() -> None:
    registry = load_default_registry()
    config = ema_cross_on_ticks()

    def realized(seed: int) -> Decimal:
        binding = build_strategy(config, registry)  # fresh indicator state per run
        result = run_backtest(
            bindings=[binding], registry=registry, source=SyntheticTicks(5_000, seed=seed)
        )
        assert result.equity_end - result.equity_start == (
            result.realized_pnl + result.unrealized_pnl - result.charges
        )
        return result.realized_pnl

    assert realized(1) != realized(2)


def test_unknown_strategy_is_one_line_and_exit_2() -> None:
    run = backtest("--strategy", "no-such-strategy", "--synthetic", "100")

    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown strategy 'no-such-strategy'" in lines[0]
    assert "ema-cross" in lines[0]  # names what is configured


def test_an_interval_that_kite_does_not_have_is_one_line_and_exit_2() -> None:
    run = backtest("--strategy", "ema-cross", "--bars", "7minute", "--synthetic", "100")

    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        "alphapanda: --bars: bars: '7minute' is not 'tick' or one of " + ", ".join(INTERVALS)
    ]


def test_the_bundled_strategies_on_their_default_bars_pay_a_fraction_of_the_tick_charges() -> None:
    """What the bundled ``bars:`` are for: the same strategies on the same market, once as
    configured and once on every tick, trade on both but churn only on ticks."""
    registry = load_default_registry()
    market = SyntheticTicks(120_000, seed=6)  # a market on which every bundled strategy trades
    for config in load_strategies():
        assert config.bars != "tick", config.name
        runs = {
            bars: run_backtest(
                bindings=[build_strategy(config.model_copy(update={"bars": bars}), registry)],
                registry=registry,
                source=market,
            )
            for bars in (config.bars, "tick")
        }
        on_bars, on_ticks = runs[config.bars], runs["tick"]
        assert on_bars.orders > 0, config.name
        assert on_bars.charges * 10 < on_ticks.charges, config.name


def write_ticks(path: Path, *, bad_line: int) -> int:
    """A zig-zag on INFY inside the NSE session of 2 Jan 2024, one malformed row; rows written."""
    rows = ["ts,symbol,last_price,bid,ask"]
    price = Decimal("1500.00")
    for n in range(240):
        step = Decimal("0.50") if (n // 40) % 2 == 0 else Decimal("-0.50")
        price += step
        ts = f"2024-01-02T09:{20 + n // 60:02d}:{n % 60:02d}"
        rows.append(f"{ts},NSE:INFY,{price},{price - Decimal('0.05')},{price + Decimal('0.05')}")
    rows.insert(bad_line, "2024-01-02T09:30:00,NSE:INFY,not-a-price,,")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


def test_replay_counts_a_malformed_row_as_a_dead_letter_and_completes(tmp_path: Path) -> None:
    ticks = tmp_path / "ticks.csv"
    rows = write_ticks(ticks, bad_line=100)

    summary = summary_of(
        backtest(
            "--strategy",
            "ema-cross",
            *ON_TICKS,
            "--ticks",
            str(ticks),
            "--sync-every",
            "1",
            "--json",
        )
    )

    assert summary["dead_letters"] == 1
    assert summary["ticks"] == rows - 1  # every good row was replayed
    assert summary["fills"] > 0  # the zig-zag crosses the EMAs; lockstep fills on the next tick
    assert_equity_identity(summary)


def test_lockstep_replay_fills_every_order_but_the_last_ticks(tmp_path: Path) -> None:
    ticks = tmp_path / "ticks.csv"
    rows = write_ticks(ticks, bad_line=3)
    registry = load_default_registry()
    config = ema_cross_on_ticks()

    result = run_backtest(
        bindings=[build_strategy(config, registry)],
        registry=registry,
        source=TickFile(ticks),
        sync_every=1,
    )

    assert (result.ticks, result.dead_letters) == (rows - 1, 1)
    assert result.orders > 0 and result.fills == result.orders  # each market order filled
    assert result.rejections == 0


def test_orders_signalled_after_execution_saw_the_last_ticks_still_fill() -> None:
    """Execution reads ticks ahead of the signal path; the last signals' ticks have passed
    it when their orders arrive, and no tick follows: they fill on the tick after them."""
    registry = load_default_registry()
    config = ema_cross_on_ticks()

    result = run_backtest(
        bindings=[build_strategy(config, registry)],
        registry=registry,
        source=SyntheticTicks(5_000, seed=3),
        sync_every=256,
    )

    assert result.orders > 100 and result.rejections == 0
    assert result.open_orders == 0  # every market order filled
    assert result.fills >= result.orders


def test_a_row_at_ten_times_the_price_is_dead_lettered_not_traded_and_the_band_is_a_setting(
    tmp_path: Path, monkeypatch
) -> None:
    """One row at 10× used to be traded on and turned a small loss into +₹141,147."""
    ticks = tmp_path / "ticks.csv"
    rows = write_ticks(ticks, bad_line=3)
    lines = ticks.read_text(encoding="utf-8").splitlines()
    lines.insert(150, "2024-01-02T09:22:27,NSE:INFY,15000.00,14999.95,15000.05")
    ticks.write_text("\n".join(lines) + "\n", encoding="utf-8")

    banded = summary_of(
        backtest("--strategy", "ema-cross", *ON_TICKS, "--ticks", str(ticks), "--json")
    )
    assert (banded["ticks"], banded["dead_letters"]) == (rows - 1, 2)

    monkeypatch.setenv("ALPHAPANDA_FEED__PRICE_BAND_PCT", "0")  # the check turned off
    unbanded = summary_of(
        backtest("--strategy", "ema-cross", *ON_TICKS, "--ticks", str(ticks), "--json")
    )
    assert (unbanded["ticks"], unbanded["dead_letters"]) == (rows, 1)


def test_a_day_two_loss_halt_lifts_at_the_day_three_session_and_the_json_explains_it() -> None:
    """The daily loss limit used to count lifetime P&L: a day-2 breach halted the rest of
    the run. Now each day counts its own loss and a halt lifts at the next session."""
    registry = load_default_registry()
    config = ema_cross_on_ticks()

    store = BacktestStore()
    result = run_backtest(
        bindings=[build_strategy(config, registry)],
        registry=registry,
        source=SyntheticTicks(160_000, seed=3),  # three sessions of three instruments
        config=PipelineConfig(risk=RiskLimits(max_daily_loss=Decimal("2000"))),
        store=store,
    )

    summary = result.as_dict()
    days = {d["day"]: d for d in summary["days"]}
    assert list(days) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    day_two = [h for h in summary["halts"] if h["day"] == "2024-01-02"]
    assert day_two and all(h["rule"] == "daily_loss" for h in day_two)
    assert all(h["lifted"].startswith("2024-01-03T09:15") for h in day_two)
    assert days["2024-01-03"]["fills"] > 0 and days["2024-01-03"]["orders"] > 0
    assert all(Decimal(d["pnl"]) > Decimal("-2000") * 2 for d in days.values())
    assert sum(Decimal(d["pnl"]) for d in days.values()) == result.equity_end - result.equity_start
    assert result.equity_end - result.equity_start < -Decimal("2000")  # lifetime: over the limit
    assert sum(summary["rejections_by_reason"].values()) == result.rejections
    assert summary["rejections_by_reason"]["trading_state"] > 0
    risk_refusals = {
        k: v for k, v in summary["rejections_by_reason"].items() if k != "broker_rejected"
    }
    assert sum(d["rejections"] for d in days.values()) == sum(risk_refusals.values())
    # Halted from the morning, the engine sends nothing at its 15:15 cut-off; the paper
    # venue squares off what was held at 15:20, as Zerodha does, for ₹59 an order.
    assert sorted({str(t.date()) for t in mis_square_off_times(store)}) == [
        "2024-01-01",
        "2024-01-02",
    ]
    assert {t.strftime("%H:%M") for t in mis_square_off_times(store)} == {"15:20"}
    squared = [o for o in store.orders.values() if o.signal_id.startswith("square-off:mis:")]
    assert all(o.reason.startswith("paper venue: Zerodha's NSE auto square-off") for o in squared)
    assert nets_at_close(store.fills.values(), ["2024-01-01", "2024-01-02"]) == [{}, {}]


def mis_square_off_times(store: BacktestStore) -> list:  # type: ignore[type-arg]
    return [
        ns_to_datetime(o.created_ts, IST)
        for o in store.orders.values()
        if o.signal_id.startswith("square-off:mis:")
    ]


def nets_at_close(fills, days: list[str]) -> list[dict[int, int]]:  # type: ignore[no-untyped-def]
    """Each day's open positions (token: net) at 15:30 IST from the fill journal."""
    ordered = sorted(fills, key=lambda f: f.fill_ts)
    result = []
    for day in days:
        net: dict[int, int] = {}
        for fill in ordered:
            if str(ns_to_datetime(fill.fill_ts, IST)) < f"{day} 15:30":
                net[fill.instrument_token] = net.get(fill.instrument_token, 0) + (
                    fill.side.sign * fill.quantity
                )
        result.append({token: q for token, q in net.items() if q})
    return result


def test_mis_is_squared_off_at_the_cutoff_and_no_mis_entry_follows_until_the_next_day() -> None:
    """MIS positions used to stay open overnight; now each is closed at 15:15 IST (before
    Zerodha's own 15:20, which costs a fee) and entries wait for the next session."""
    registry = load_default_registry()
    config = ema_cross_on_ticks()
    store = BacktestStore()

    result = run_backtest(
        bindings=[build_strategy(config, registry)],
        registry=registry,
        source=SyntheticTicks(100_000, seed=3),  # day 1 and the start of day 2
        store=store,
    )

    square_offs = [o for o in store.orders.values() if o.signal_id.startswith("square-off:mis:")]
    assert square_offs and all(o.status.value == "FILLED" for o in square_offs)
    assert {t.strftime("%Y-%m-%d %H:%M") for t in mis_square_off_times(store)} == {
        "2024-01-01 15:15"
    }
    assert nets_at_close(store.fills.values(), ["2024-01-01"]) == [{}]
    assert result.rejections_by_reason["mis_cutoff"] > 0
    after_cutoff = [f for f in store.fills.values() if is_after_cutoff(f)]
    assert after_cutoff and all(reduces(f, store.fills.values()) for f in after_cutoff)
    day_two = [o for o in store.orders.values() if str(ist(o)).startswith("2024-01-02")]
    assert day_two  # entries reopen at the next session


def ist(order: OrderRecord):  # type: ignore[no-untyped-def]
    return ns_to_datetime(order.created_ts, IST)


def is_after_cutoff(fill: FillRecord) -> bool:
    local = ns_to_datetime(fill.fill_ts, IST)
    return local.strftime("%H:%M") >= "15:15" and str(local.date()) == "2024-01-01"


def reduces(fill: FillRecord, fills) -> bool:  # type: ignore[no-untyped-def]
    """The strategy's position in the instrument shrinks at ``fill`` (an exit)."""
    before = sum(
        f.side.sign * f.quantity
        for f in fills
        if f.instrument_token == fill.instrument_token
        and f.strategy == fill.strategy
        and (f.fill_ts, f.trade_id) < (fill.fill_ts, fill.trade_id)
    )
    after = before + fill.side.sign * fill.quantity
    return abs(after) < abs(before)


def test_a_backtest_leaves_the_console_logs_untouched_and_logs_only_where_asked(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A backtest's thousands of orders and its automatic halts are not the trader's day."""
    console_logs = isolated_home / "logs"
    console_logs.mkdir()
    before = {"application.jsonl": '{"message": "console started"}\n', "risk.jsonl": ""}
    for name, text in before.items():
        (console_logs / name).write_text(text)
    os.environ["ALPHAPANDA_RISK__MAX_DAILY_LOSS"] = "300"  # isolated_home's monkeypatch undoes
    try:
        quiet = backtest(
            "--strategy", "ema-cross", *ON_TICKS, "--synthetic", "20000", "--seed", "3", "--json"
        )
        run_dir = tmp_path / "run"
        logged = backtest(
            "--strategy",
            "ema-cross",
            *ON_TICKS,
            "--synthetic",
            "20000",
            "--seed",
            "3",
            "--log-dir",
            str(run_dir),
            "--json",
        )
    finally:
        del os.environ["ALPHAPANDA_RISK__MAX_DAILY_LOSS"]

    assert summary_of(quiet)["halts"], "the limit must halt for this test to mean anything"
    assert "automatic halt" not in quiet.stderr
    assert {p.name: p.read_text() for p in console_logs.iterdir()} == before
    quiet_summary, logged_summary = summary_of(quiet), summary_of(logged)
    assert {k: logged_summary[k] for k in OUTCOME} == {k: quiet_summary[k] for k in OUTCOME}
    risk = (run_dir / "logs" / "risk.jsonl").read_text()
    assert "automatic halt" in risk
    stages = {json.loads(line).get("stage") for line in (run_dir / "logs" / "trading.jsonl").open()}
    assert {"intent", "verdict", "sent", "ack", "fill", "final"} <= stages
