"""The paper console records every tick its engine sees; replays record nothing."""

from __future__ import annotations

from pathlib import Path

from alphapanda_tui.runtime import Ports, build_runtime
from alphapanda_tui.settings import load_settings
from alphapanda_tui.tick_store import ticks_root
from engine.bus.base import EventBus
from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.events import topics
from engine.events.payloads import Tick
from engine.instruments.registry import InstrumentRegistry
from engine.market.feeds.simulated import SimulatedFeed, SimulatedFeedConfig
from engine.memory_store import MemoryTradingStore
from storage.ticks.reader import iter_day_ticks, list_days
from tests.helpers import eventually

START_NS = 1_736_912_700_000_000_000  # 2025-01-15 09:15 IST
TICKS = 4_000


async def test_every_tick_of_a_paper_session_is_in_the_simulated_store(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", ticks={"flush_seconds": 0.05})
    clock = ManualClock(START_NS)
    feeds: list[SimulatedFeed] = []

    def seeded_feed(bus: EventBus, registry: InstrumentRegistry) -> SimulatedFeed:
        config = SimulatedFeedConfig(
            seed=7, clock_mode="compressed", ticks_per_second=None, max_ticks=TICKS
        )
        feeds.append(SimulatedFeed(bus, registry, config, clock=clock))
        return feeds[0]

    bus = MemoryBus(partitions=2, capacity=50_000)
    await bus.start()
    seen = await bus.subscribe([topics.MARKET_TICKS], "what-the-engine-saw")
    runtime = build_runtime(
        settings, clock=clock, feed_factory=seeded_feed, ports=Ports(bus, MemoryTradingStore())
    )
    await runtime.start()
    try:
        await eventually(lambda: feeds[0].finished.is_set(), timeout=60)
    finally:
        await runtime.stop()
        await bus.aclose()
    published: list[Tick] = []
    while records := await seen.fetch(10_000, timeout=0.1):
        published += [r.envelope.data for r in records if r.envelope]  # type: ignore[misc]
    root = ticks_root(settings)
    assert root == tmp_path / "home" / "ticks" / "simulated"
    recorded = [tick for day in list_days(root) for tick in iter_day_ticks(root, day.day)]
    assert len(published) == TICKS
    assert sorted(recorded, key=_order) == sorted(published, key=_order)
    assert all(path.suffix == ".parquet" for path in root.rglob("*.*"))  # sealed on stop


def _order(tick: Tick) -> tuple[int, int]:
    return tick.exchange_ts, tick.instrument_token


def test_a_csv_replay_and_recording_turned_off_add_no_recorder(tmp_path: Path) -> None:
    ticks_csv = tmp_path / "day.csv"
    ticks_csv.write_text("ts,symbol,last_price\n2025-01-15T09:15:00,NSE:INFY,1500\n")
    replay = load_settings(home=tmp_path, feed={"source": "replay", "ticks_csv": ticks_csv})
    off = load_settings(home=tmp_path, ticks={"record": False})
    on = load_settings(home=tmp_path)
    assert build_runtime(replay)._tick_recorder(MemoryBus()) == []
    assert build_runtime(off)._tick_recorder(MemoryBus()) == []
    assert len(build_runtime(on)._tick_recorder(MemoryBus())) == 1
    assert build_runtime(on, services=["risk"])._tick_recorder(MemoryBus()) == []


def test_real_market_ticks_and_simulated_ones_never_share_a_store(tmp_path: Path) -> None:
    real = tmp_path / "ticks"
    assert ticks_root(load_settings(home=tmp_path, mode="live")) == real
    assert ticks_root(load_settings(home=tmp_path, feed={"source": "kite"})) == real
    assert ticks_root(load_settings(home=tmp_path)) == real / "simulated"
    chosen = tmp_path / "elsewhere"
    assert ticks_root(load_settings(home=tmp_path, mode="live", ticks={"dir": chosen})) == chosen
