"""Where a restarted simulated market carries on: the newest market time the home has
seen and each instrument's last price and previous close there.

Without it a restart replayed the clock from the last fill and the prices from the
bundled defaults, so the positions' P&L, the day's P&L and the equity jumped although
nothing had traded. The newest of three records wins: the recorded ticks (when the
store records them), the latest P&L snapshot (its event time and the marks it was
valued at) and the journal (the newest order and fill). Prices come from whichever of
the ticks and the snapshot is newer; the journal holds no market prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alphapanda_tui.settings import Settings
from alphapanda_tui.tick_store import last_recorded_ticks
from engine.events.types import Broker
from engine.portfolio.marks import read_marks

ResumePrices = tuple[tuple[int, Decimal, Decimal | None], ...]


@dataclass(frozen=True, slots=True)
class MarketLeft:
    """The simulated market as a previous run left it (``after_ns`` None: a fresh home)."""

    after_ns: int | None = None
    prices: ResumePrices = ()  # (instrument token, last price, previous close)


async def market_left(settings: Settings, store: Any, broker: Broker) -> MarketLeft:
    """What the home's records say of where the market stood (see the module doc)."""
    journal_ns = await _journal_ns(store, broker)
    snapshot = await store.latest_pnl_snapshot(broker)
    snapshot_ns = snapshot.event_ts if snapshot is not None else 0
    prices: dict[int, tuple[Decimal, Decimal | None]] = {}
    if snapshot is not None:
        marks, closes = read_marks(snapshot.marks)
        prices = {token: (last, closes.get(token)) for token, last in marks.items()}
    ticks = last_recorded_ticks(settings) if settings.ticks.record else []
    ticks_ns = max((tick.exchange_ts for tick in ticks), default=0)
    if ticks_ns >= snapshot_ns:
        prices.update((t.instrument_token, (t.last_price, t.close)) for t in ticks)
    after = max(journal_ns, snapshot_ns, ticks_ns)
    carried = tuple((token, last, close) for token, (last, close) in sorted(prices.items()))
    return MarketLeft(after_ns=after or None, prices=carried)


async def _journal_ns(store: Any, broker: Broker) -> int:
    """The newest order's creation and last update, and the latest fill. The newest
    order alone is not enough: an older order's fill may be a round later than the
    newest order's creation, and that round must not repeat."""
    newest = await store.list_orders(broker, limit=1)
    if not newest:
        return 0
    fills = await store.list_fills(broker)
    last_fill = max((fill.fill_ts for fill in fills), default=0)
    return max(newest[0].created_ts, newest[0].updated_ts, last_fill)
