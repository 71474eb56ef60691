"""Two ``alphapanda engine --bus kafka`` processes share one cluster: strategies split the
tick partitions, the singletons fail over when a process is SIGKILLed, and the kill switch
pressed in an attached console halts every engine process."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from alphapanda_tui.attach import AttachedRuntime
from engine.events import topics
from engine.events.payloads import HealthReport
from engine.events.types import TradingMode
from storage.migrate import upgrade_async
from storage.store import SqlTradingStore
from tests.kafka.broker import fast_bus
from tests.kafka.cluster import (
    Books,
    EngineProcess,
    cluster_env,
    poll,
    postgres_database,
    random_prefix,
    sent_orders,
    settings_for,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
OPERATOR = "trader@desk-1"


async def test_two_engines_share_fail_over_and_obey_the_kill_switch(
    fresh_kafka: str, postgres_url: str, tmp_path: Path
) -> None:
    prefix = random_prefix()
    async with postgres_database(postgres_url) as db_url:

        def env(name: str) -> dict[str, str]:
            return cluster_env(tmp_path / name, fresh_kafka, db_url, None, prefix)

        await upgrade_async(db_url)  # `alphapanda db upgrade` once, before the engines start
        engines = [EngineProcess.start("a", env("a")), EngineProcess.start("b", env("b"))]
        consoles: list[AttachedRuntime] = []
        try:
            a, b = engines
            await asyncio.gather(a.started(), b.started())
            await poll(lambda: _sent(db_url, 10), 40, "orders from the pair")
            await _both_process_ticks(fresh_kafka, {a.pid, b.pid})

            a.kill()  # SIGKILL mid-stream: b takes over a's partitions and leases
            at_kill = sent_orders(await Books.load(db_url))
            await poll(lambda: _sent(db_url, at_kill + 10), 40, "orders after the SIGKILL")
            a2 = EngineProcess.start("a2", env("a"))
            engines.append(a2)
            await a2.started()

            for name in ("console-1", "console-2"):  # two consoles at once, own groups
                console = AttachedRuntime(settings_for(env(name)), operator=OPERATOR)
                consoles.append(console)
                await console.start()
            await poll(lambda: all(c.read_model.orders for c in consoles), 30, "consoles see")
            await consoles[0].controls.kill()
            assert consoles[0].global_mode is TradingMode.HALTED
            await poll(lambda: _halted_everywhere([b, a2]), 15, "every engine halted")
            await poll(lambda: _kill_audited(db_url, 2), 10, "one audit row per engine")
            await poll(
                lambda: consoles[1].global_mode is TradingMode.HALTED, 10, "console 2 sees it"
            )
            frozen = sent_orders(await Books.load(db_url))
            await asyncio.sleep(2.0)  # the feed still ticks; nothing may leave any more
            assert sent_orders(await Books.load(db_url)) == frozen
            assert b.terminate() == 0, b.output[-3000:]
            assert a2.terminate() == 0, a2.output[-3000:]
        finally:
            for console in consoles:
                await console.stop()
            for engine in engines:
                engine.close()
        books = await Books.load(db_url)
        assert books.problems() == []
        assert sent_orders(books) > at_kill
        for engine in engines:
            assert "Traceback" not in engine.output, engine.output[-3000:]


async def _sent(db_url: str, at_least: int) -> bool:
    return sent_orders(await Books.load(db_url)) >= at_least


def _halted_everywhere(engines: list[EngineProcess]) -> bool:
    return all("trading state changed" in e.output for e in engines)


async def _kill_audited(db_url: str, processes: int) -> bool:
    async with await SqlTradingStore.open(db_url) as store:
        rows = [r for r in await store.list_audit(limit=100) if r.action == "trading.kill"]
    assert all(r.actor == OPERATOR for r in rows)
    return len(rows) >= processes


async def _both_process_ticks(bootstrap: str, pids: set[int]) -> None:
    """Each process reports its strategy runner handled ticks: the group split the work."""
    host = socket.gethostname()
    reporters = {f"{host}-{pid}" for pid in pids}
    worked: set[str] = set()
    async with fast_bus(bootstrap) as bus:
        sub = await bus.subscribe([topics.SYSTEM_HEALTH], f"probe.{random_prefix()}")
        for _ in range(80):
            for record in await sub.fetch(200, 0.25):
                report = record.envelope.data if record.envelope else None
                if isinstance(report, HealthReport) and report.reporter in reporters:
                    runner = [c for c in report.components if c.name == "strategy-runner"]
                    if runner and runner[0].processed > 0:
                        worked.add(report.reporter)
            if worked == reporters:
                return
        raise AssertionError(f"only {sorted(worked)} of {sorted(reporters)} handled ticks")
