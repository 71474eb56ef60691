"""NautilusTrader running our EMA-cross backtest on the same ticks, on the same machine,
so the reference figure in the README is measured here rather than quoted.

Needs only the stdlib and ``nautilus_trader`` (not a project dependency): run it in a
throwaway venv on a CSV written by ``export_ticks.py``::

    python3.11 -m venv /tmp/nautilus-venv && /tmp/nautilus-venv/bin/pip install nautilus_trader
    /tmp/nautilus-venv/bin/python benchmarks/reference_nautilus.py --ticks-csv /tmp/ticks.csv

Low-level ``BacktestEngine``: venue NSE, netting OMS, cash account in INR, default fill
and fee models, L1 book from ``QuoteTick``s (bid/ask and sizes from the CSV). The strategy
is ours, in plain Python: EMA 12/26 on the mid (= our ``last``: the feed quotes one tick
either side), long-only, a MARKET order of 10 on each change of the intended position.
Differences in what is timed: the ticks are pre-built objects, loaded before the clock
starts (ours are generated on the fly, inside the time), and only ``engine.run()`` is
timed (fresh engine per run, post-run analysis and logging off).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import nautilus_trader
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import INR
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import FIXED_PRECISION, Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

VENUE = Venue("NSE")
TICK_SIZE = "0.05"
# Mid from raw fixed-point prices: int / int is correctly rounded, so the mid is exactly
# float(Decimal(last)) and the EMAs see the same floats as ours.
_TWO_SCALE = 2 * 10**FIXED_PRECISION


def equity(symbol: str) -> Equity:
    return Equity(
        instrument_id=InstrumentId(Symbol(symbol), VENUE),
        raw_symbol=Symbol(symbol),
        currency=INR,
        price_precision=2,
        price_increment=Price.from_str(TICK_SIZE),
        lot_size=Quantity.from_int(1),
        ts_event=0,
        ts_init=0,
    )


def load_quotes(path: Path) -> tuple[list[Equity], list[QuoteTick]]:
    """Instruments (in order of first appearance) and one QuoteTick per CSV row."""
    instruments: dict[str, Equity] = {}
    quotes: list[QuoteTick] = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            symbol = row["instrument"].removeprefix("NSE:")
            inst = instruments.get(symbol)
            if inst is None:
                inst = instruments[symbol] = equity(symbol)
            ts = int(row["ts_ns"])
            quotes.append(
                QuoteTick(
                    instrument_id=inst.id,
                    bid_price=Price.from_str(row["bid"]),
                    ask_price=Price.from_str(row["ask"]),
                    bid_size=Quantity.from_str(row["bid_qty"]),
                    ask_size=Quantity.from_str(row["ask_qty"]),
                    ts_event=ts,
                    ts_init=ts,
                )
            )
    return list(instruments.values()), quotes


class EmaCrossConfig(StrategyConfig, frozen=True):
    instrument_ids: tuple[str, ...] = ()
    fast: int = 12
    slow: int = 26
    quantity: int = 10


class _State:
    __slots__ = ("above", "count", "fast", "long", "slow")

    def __init__(self) -> None:
        self.fast = 0.0
        self.slow = 0.0
        self.count = 0
        self.above: bool | None = None
        self.long = False  # the intended position, as ours (not the filled one)


class EmaCross(Strategy):
    """engine/strategies/ema_cross.py with allow_short off: buy on a cross up when flat,
    sell on a cross down when long; the first cross only sets the side."""

    def __init__(self, config: EmaCrossConfig) -> None:
        super().__init__(config)
        self.fast_alpha = 2.0 / (config.fast + 1)
        self.slow_alpha = 2.0 / (config.slow + 1)
        self.warmup = config.slow
        self.states: dict[InstrumentId, _State] = {}
        self.ticks = self.orders = self.fills = self.rejected = 0

    def on_start(self) -> None:
        self.qty = Quantity.from_int(self.config.quantity)
        for key in self.config.instrument_ids:
            self.subscribe_quote_ticks(InstrumentId.from_str(key))

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.ticks += 1
        iid = tick.instrument_id
        state = self.states.get(iid)
        if state is None:
            state = self.states[iid] = _State()
        price = (tick.bid_price.raw + tick.ask_price.raw) / _TWO_SCALE
        count = state.count
        if count == 0:
            fast = slow = price
        else:
            fast = state.fast + self.fast_alpha * (price - state.fast)
            slow = state.slow + self.slow_alpha * (price - state.slow)
        state.fast = fast
        state.slow = slow
        state.count = count = count + 1
        if count < self.warmup or fast == slow:
            return
        above = fast > slow
        previous, state.above = state.above, above
        if previous is None or previous == above or above == state.long:
            return
        state.long = above
        side = OrderSide.BUY if above else OrderSide.SELL
        self.submit_order(self.order_factory.market(iid, side, self.qty))
        self.orders += 1

    def on_order_filled(self, event: Any) -> None:
        self.fills += 1

    def on_order_rejected(self, event: Any) -> None:
        self.rejected += 1

    def on_order_denied(self, event: Any) -> None:
        self.rejected += 1


def one_run(instruments: list[Equity], quotes: list[QuoteTick]) -> dict[str, Any]:
    engine = BacktestEngine(
        config=BacktestEngineConfig(
            trader_id=TraderId("BENCH-001"),
            logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
            run_analysis=False,
        )
    )
    engine.add_venue(
        venue=VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=INR,
        starting_balances=[Money(Decimal(100_000_000), INR)],
    )
    for inst in instruments:
        engine.add_instrument(inst)
    engine.add_data(quotes)
    strategy = EmaCross(
        EmaCrossConfig(
            instrument_ids=tuple(str(i.id) for i in instruments),
            log_events=False,
            log_commands=False,
        )
    )
    engine.add_strategy(strategy)
    started, cpu_started = time.perf_counter(), time.process_time()
    engine.run()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    result = {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "ticks_per_s": round(len(quotes) / seconds),
        "ticks_per_cpu_s": round(len(quotes) / cpu_seconds),
        "ticks_seen": strategy.ticks,
        "orders": strategy.orders,
        "orders_in_cache": len(engine.cache.orders()),
        "fills": strategy.fills,
        "rejected_or_denied": strategy.rejected,
        "open_position_qty": sum(float(p.quantity) for p in engine.cache.positions_open()),
    }
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks-csv", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    instruments, quotes = load_quotes(args.ticks_csv)
    runs = [one_run(instruments, quotes) for _ in range(args.runs)]
    first = runs[0]
    print(
        json.dumps(
            {
                "engine": "nautilus_trader",
                "version": nautilus_trader.__version__,
                "ticks": len(quotes),
                "ticks_per_s_median": round(statistics.median(r["ticks_per_s"] for r in runs)),
                "ticks_per_cpu_s_median": round(
                    statistics.median(r["ticks_per_cpu_s"] for r in runs)
                ),
                "orders": first["orders"],
                "fills": first["fills"],
                "deterministic": len({(r["orders"], r["fills"]) for r in runs}) == 1,
                "runs": runs,
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
