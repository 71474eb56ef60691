"""``alphapanda engine --bus kafka`` waits out a broker outage and carries on after it.

Seen in QA: with the broker down for more than ~16-36 s a service failed five times in
a row and the supervisor stopped the whole engine. Here the broker is cut off (a proxy
in front of it refuses and drops every connection, the broker keeps its state) for
longer than the old crash limit took, then comes back: the engine must still run, say
the broker was unreachable without a traceback per attempt, trade again, stop cleanly,
and its books must hold no duplicate and no lost order or fill.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import eventually
from tests.kafka.broker import free_port, tansu_broker
from tests.kafka.cluster import Books, EngineProcess, cluster_env, random_prefix
from tests.kafka.outage_proxy import CuttableProxy

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

_OUTAGE_LINE = re.compile(r"^\S+ WARNING  (\S+): broker (unreachable since|reachable again)", re.M)


def _waiting(output: str) -> set[str]:
    """The services whose latest word is that the broker is unreachable."""
    latest = {name: what for name, what in _OUTAGE_LINE.findall(output)}
    return {name for name, what in latest.items() if what != "reachable again"}


def _attempts(output: str) -> int:
    """The most restarts in one outage any service has logged so far (the old limit was
    five failures in a row, at 0.5, 1, 2, 4 and 8 s back-off: 16-36 s of outage)."""
    return max((int(n) for n in re.findall(r"\(attempt (\d+)\)", output)), default=0)


async def _exit_code(engine: EngineProcess, timeout: float) -> int:
    """Wait for the engine to exit without blocking the loop the proxy runs on."""
    deadline = time.monotonic() + timeout
    while (code := engine.process.poll()) is None:
        if time.monotonic() > deadline:
            engine.close()
            raise AssertionError(f"engine did not stop:\n{engine.output[-3000:]}")
        await asyncio.sleep(0.1)
    return code


async def _fills(database: str) -> int:
    return len((await Books.load(database)).fills)


async def test_the_engine_waits_out_a_broker_outage_and_trades_on(tmp_path: Path) -> None:
    home = tmp_path / "engine"
    database = f"sqlite+aiosqlite:///{home}/alphapanda.db"
    port = free_port()
    engine: EngineProcess | None = None
    with tansu_broker(tmp_path / "tansu.log", advertised=f"127.0.0.1:{port}") as broker:
        proxy = CuttableProxy(port, broker)
        await proxy.restore()
        try:
            env = cluster_env(home, proxy.address, database, None, random_prefix())
            engine = EngineProcess.start("engine", env)
            await engine.started()
            running = engine
            await eventually(
                lambda: "singleton sim-feed active here" in running.output,
                timeout=60,
                interval=0.2,
                message="the feed never started",
            )
            await _trades_again(database, 0)
            await proxy.cut()
            await eventually(
                lambda: _attempts(running.output) >= 6,
                timeout=60,
                interval=0.2,
                message="the outage was not waited out past the old crash limit",
            )
            await asyncio.sleep(1)  # the old supervisor stopped the engine at the sixth
            assert engine.process.poll() is None, engine.output[-4000:]
            fills_in_outage = await _fills(database)
            await proxy.restore()
            await eventually(
                lambda: not _waiting(running.output),
                timeout=40,
                interval=0.2,
                message="not every service came back",
            )
            await _trades_again(database, fills_in_outage)
            engine.send(signal.SIGTERM)
            code = await _exit_code(engine, 60)
            output = engine.output
            assert code == 0, output[-4000:]
            assert "alphapanda engine stopped cleanly" in output
            assert "crash-looping" not in output and "crashed" not in output, output[-4000:]
            assert "Traceback" not in output, output[-4000:]
            assert "service raised CancelledError" not in output, output[-4000:]  # a crash
            books = await Books.load(database)
            assert books.problems() == []
        finally:
            if engine is not None:
                engine.close()
            await proxy.aclose()


async def _trades_again(database: str, before: int) -> None:
    async def more() -> bool:
        return await _fills(database) > before

    await eventually(more, timeout=30, interval=0.5, message=f"no fill beyond the first {before}")
