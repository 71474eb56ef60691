"""NautilusTrader on a recorded AlphaPanda tick file: the other half of
``backtest_vs_nautilus.py``, which runs this in a throwaway venv and compares.

Needs only ``nautilus_trader`` (and the pyarrow it brings), never the project::

    /tmp/nautilus-venv/bin/python benchmarks/reference_nautilus.py --ticks FILE.parquet

Low-level ``BacktestEngine``: venue NSE, netting OMS, cash account in INR, default fill
and fee models, one ``Equity`` per recorded symbol, an L1 book from ``QuoteTick``s (bid,
ask and their sizes from the file). The strategy is ours (``engine/strategies/
ema_cross.py``, long-only) on Nautilus's own ``ExponentialMovingAverage`` 12/26 fed the
mid (= our last price: the file quotes one tick either side of it): on a cross up when
flat a MARKET buy of 10, on a cross down when long a sell; the first cross only sets the
side. Timed per run: loading (the file's columns into ``QuoteTick``s: Nautilus's load)
and ``engine.run()`` (a fresh engine, analysis and logging off), in wall and CPU
seconds. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import nautilus_trader
import pyarrow.parquet as pq
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators import ExponentialMovingAverage
from nautilus_trader.model.currencies import INR
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, PriceType
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import FIXED_PRECISION, Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

VENUE = Venue("NSE")
PRICE_SCALE = 10_000  # the tick store's: int64 prices in 1/10,000 rupee
TO_RAW = 10 ** (FIXED_PRECISION - 4)  # our units to Nautilus's fixed-point raw
QTY_RAW = 10**FIXED_PRECISION


def equity(symbol: str) -> Equity:
    return Equity(
        instrument_id=InstrumentId(Symbol(symbol), VENUE),
        raw_symbol=Symbol(symbol),
        currency=INR,
        price_precision=2,
        price_increment=Price.from_str("0.05"),
        lot_size=Quantity.from_int(1),
        ts_event=0,
        ts_init=0,
    )


def load_quotes(path: Path) -> tuple[list[Equity], list[QuoteTick]]:
    """The file's instruments (first appearance first) and one QuoteTick per row."""
    table = pq.read_table(path, columns=["ts", "symbol", "bid", "ask", "bid_qty", "ask_qty"])
    symbols = [s.removeprefix("NSE:") for s in table.column("symbol").to_pylist()]
    instruments = {s: equity(s) for s in dict.fromkeys(symbols)}
    ids = [instruments[s].id for s in symbols]
    columns = (table.column(n).to_pylist() for n in ("ts", "bid", "ask", "bid_qty", "ask_qty"))
    from_raw = QuoteTick.from_raw
    quotes = [
        from_raw(iid, bid * TO_RAW, ask * TO_RAW, 2, 2, bq * QTY_RAW, aq * QTY_RAW, 0, 0, ts, ts)
        for iid, ts, bid, ask, bq, aq in zip(ids, *columns, strict=True)
    ]
    return list(instruments.values()), quotes


class EmaCrossConfig(StrategyConfig, frozen=True):
    instrument_ids: tuple[str, ...] = ()
    fast: int = 12
    slow: int = 26
    quantity: int = 10


class EmaCross(Strategy):
    """Long-only EMA cross on Nautilus's indicators, registered for each instrument's quotes."""

    def __init__(self, config: EmaCrossConfig) -> None:
        super().__init__(config)
        self.emas: dict[InstrumentId, tuple[ExponentialMovingAverage, ...]] = {}
        self.above: dict[InstrumentId, bool] = {}
        self.long: dict[InstrumentId, bool] = {}  # the intended position, as ours
        self.orders_sent: list[tuple[int, str, str]] = []  # (event time, symbol, side)
        self.fills = self.rejected = 0

    def on_start(self) -> None:
        self.qty = Quantity.from_int(self.config.quantity)
        for key in self.config.instrument_ids:
            iid = InstrumentId.from_str(key)
            pair = tuple(
                ExponentialMovingAverage(p, PriceType.MID)
                for p in (self.config.fast, self.config.slow)
            )
            self.emas[iid] = pair
            for ema in pair:
                self.register_indicator_for_quote_ticks(iid, ema)
            self.subscribe_quote_ticks(iid)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        iid = tick.instrument_id
        fast, slow = self.emas[iid]
        if not slow.initialized or fast.value == slow.value:
            return
        above = fast.value > slow.value
        previous = self.above.get(iid)
        self.above[iid] = above
        if previous is None or previous == above or above == self.long.get(iid, False):
            return
        self.long[iid] = above
        side = OrderSide.BUY if above else OrderSide.SELL
        self.submit_order(self.order_factory.market(iid, side, self.qty))
        self.orders_sent.append((tick.ts_event, f"NSE:{iid.symbol}", side.name))

    def on_order_filled(self, event: Any) -> None:
        self.fills += 1

    def on_order_rejected(self, event: Any) -> None:
        self.rejected += 1

    def on_order_denied(self, event: Any) -> None:
        self.rejected += 1


def one_run(path: Path) -> dict[str, Any]:
    started, cpu_started = time.perf_counter(), time.process_time()
    instruments, quotes = load_quotes(path)
    loaded, cpu_loaded = time.perf_counter(), time.process_time()
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
    run_started, cpu_run_started = time.perf_counter(), time.process_time()
    engine.run()
    finished, cpu_finished = time.perf_counter(), time.process_time()
    result = {
        "load_seconds": loaded - started,
        "run_seconds": finished - run_started,
        "load_and_run_seconds": finished - started,
        "load_cpu_seconds": cpu_loaded - cpu_started,
        "run_cpu_seconds": cpu_finished - cpu_run_started,
        "load_and_run_cpu_seconds": cpu_finished - cpu_started,
        "ticks": len(quotes),
        "orders": strategy.orders_sent,
        "fills": strategy.fills,
        "rejected_or_denied": strategy.rejected,
    }
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=Path, required=True, help="a tick-store .parquet file")
    args = parser.parse_args()
    result = one_run(args.ticks)
    result |= {
        "engine": "nautilus_trader",
        "version": nautilus_trader.__version__,
        "python": platform.python_version(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
