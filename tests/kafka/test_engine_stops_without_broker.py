"""``alphapanda engine --bus kafka`` stopped while its broker is down ends in one line.

Seen in QA: the broker was stopped for 36 s under a running engine; a service
crash-looped, the engine stopped, and closing the bus raised ``OutputLostError`` (the
messages still unacknowledged could not be flushed) out of ``runtime.stop()``: a 40-line
traceback ('command engine failed') instead of the cause, the database left open and
``engine.pid`` left behind. A SIGTERM during an outage takes the same path.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.helpers import eventually
from tests.kafka.broker import tansu_broker
from tests.kafka.cluster import EngineProcess, cluster_env, random_prefix

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def test_sigterm_with_the_broker_down_stops_without_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "engine"
    database = f"sqlite+aiosqlite:///{home}/alphapanda.db"
    engine: EngineProcess | None = None
    try:
        with tansu_broker(tmp_path / "tansu.log") as bootstrap:
            env = cluster_env(home, bootstrap, database, None, random_prefix())
            engine = EngineProcess.start("engine", env)
            await engine.started()
            started = engine
            # the feed holds its lease and publishes (every 20 ms) before the broker goes
            await eventually(
                lambda: "singleton sim-feed active here" in started.output,
                timeout=60,
                interval=0.2,
                message="the feed never started",
            )
            await asyncio.sleep(1)
        assert engine is not None
        running = engine
        # the broker is gone; the feed's ticks and the health reports go unacknowledged
        await eventually(
            lambda: "messages not acknowledged" in running.output,
            timeout=60,
            interval=0.2,
            message="no send failed",
        )
        await asyncio.sleep(1)
        code = engine.terminate(timeout=90)
        output = engine.output
        # a service that fails while the broker is down says so in one line (the outage is
        # waited out: "broker unreachable since …; retrying …: OutputLostError: …"); the
        # stop logs no traceback and no lost output of its own
        assert "command engine failed" not in output, output[-4000:]
        assert "Traceback (most recent call last)" not in output, output[-4000:]
        lost = [line for line in output.splitlines() if "OutputLostError" in line]
        assert all("broker unreachable since" in line for line in lost), lost[:5]
        assert "alphapanda engine stopped" in output or "alphapanda engine: stopped" in output
        assert code in (0, 1), output[-3000:]
        assert not (home / "engine.pid").exists(), "engine.pid left behind"
    finally:
        if engine is not None:
            engine.close()
