"""A recorder killed with SIGKILL loses nothing it had flushed, and the next start seals it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from storage.ticks.layout import ist_day
from storage.ticks.reader import iter_day_ticks
from storage.ticks.writer import recover
from tests.storage.ticks.support import DAY_START_NS, make_ticks

REPO = Path(__file__).resolve().parents[2]
TOTAL = 200_000  # more than the child gets through before it is killed
# The child: the real recorder on a memory bus, fed ticks without pause; it prints the
# number of ticks durably written each time a flush completes.
CHILD = f"""
import asyncio, sys
from pathlib import Path
from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.types import EventType
from storage.ticks.config import RecorderConfig
from storage.ticks.recorder import TickRecorder
from tests.storage.ticks.support import make_ticks

async def main() -> None:
    bus = MemoryBus(capacity=5_000)
    await bus.start()
    config = RecorderConfig(root=Path(sys.argv[1]), flush_seconds=0.02)
    recorder = TickRecorder(bus=bus, config=config, clock=ManualClock({DAY_START_NS}))
    asyncio.create_task(recorder.run())
    told = 0
    for i, tick in enumerate(make_ticks({TOTAL})):
        key = str(tick.instrument_token)
        event = new_event(EventType.MARKET_TICK, tick, source="feed", key=key)
        await bus.publish(topics.MARKET_TICKS, event, event.key)
        if i % 200 == 0:
            await asyncio.sleep(0.001)
        if recorder.recorded != told:
            told = recorder.recorded
            print("recorded", told, flush=True)

asyncio.run(main())
"""


def test_sigkill_keeps_every_flushed_tick_and_restart_seals_the_segment(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged = 0
    deadline = time.monotonic() + 60
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged = int(line.split()[1])
            if acknowledged >= 5_000 or time.monotonic() > deadline:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert acknowledged >= 5_000, child.stderr.read() if child.stderr else ""

    expected = make_ticks(TOTAL)
    day = ist_day(DAY_START_NS)
    (live,) = (tmp_path / day.isoformat()).iterdir()
    assert live.suffix == ".arrows"  # killed while recording: never sealed
    survived = list(iter_day_ticks(tmp_path, day))
    assert len(survived) >= acknowledged  # every flushed tick; maybe a later flush too
    assert survived == expected[: len(survived)]  # in order, nothing torn or invented

    assert [p.suffix for p in recover(tmp_path)] == [".parquet"]
    assert list(iter_day_ticks(tmp_path, day)) == survived
    assert [p.suffix for p in (tmp_path / day.isoformat()).iterdir()] == [".parquet"]
