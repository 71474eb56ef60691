"""Instruments sync: the gzipped dump through the real client into the store, with progress."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from kiteconnect import KiteConnect

from engine.memory_store import MemoryTradingStore
from engine.zerodha.instruments_sync import sync_instruments
from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite

NFO_ROWS = [
    "12345602,48225,NIFTY24JAN21500CE,NIFTY,0,2024-01-25,21500,0.05,50,CE,NFO-OPT,NFO",
    "12345603,48226,NIFTY24JAN21600CE,NIFTY,0,2024-01-25,21600,0.05,50,CE,NFO-OPT,NFO",
    "12345604,48227,BROKEN,NIFTY,0,2024-13-45,21600,0.05,50,CE,NFO-OPT,NFO",
]


async def test_sync_upserts_by_exchange_and_symbol_in_batches_with_progress(
    fake_kite: FakeKite,
) -> None:
    fake_kite.state.instruments.extend(NFO_ROWS)
    store = MemoryTradingStore()
    seen: list[tuple[int, int]] = []
    kite = KiteConnect(api_key=fake_kite.state.api_key, root=fake_kite.api_root)
    result = await sync_instruments(
        kite, store, ("NSE", "nfo"), progress=lambda d, t: seen.append((d, t)), batch_size=2
    )
    assert result.per_exchange == {"NSE": 4, "NFO": 2}
    assert seen == [(0, 6), (2, 6), (4, 6), (6, 6)]
    [bad] = result.errors
    assert "expiry" in bad.message and "BROKEN" in bad.raw
    infy = store.instruments["NSE:INFY"]
    assert infy.tick_size == Decimal("0.05") and infy.lot_size == 1 and infy.expiry is None
    option = store.instruments["NFO:NIFTY24JAN21500CE"]
    assert option.expiry == date(2024, 1, 25) and option.strike == Decimal("21500")
    assert option.exchange_token == 48225 and option.lot_size == 50


async def test_a_reused_token_replaces_nothing_but_its_own_symbol(fake_kite: FakeKite) -> None:
    store = MemoryTradingStore()
    kite = KiteConnect(api_key=fake_kite.state.api_key, root=fake_kite.api_root)
    await sync_instruments(kite, store, ("NSE",))
    fake_kite.state.instruments.append("408065,1594,NEWCO,NEW COMPANY,0,,0,0.05,1,EQ,NSE,NSE")
    await sync_instruments(kite, store, ("NSE",))
    assert store.instruments["NSE:INFY"].instrument_token == 408065
    assert store.instruments["NSE:NEWCO"].instrument_token == 408065
