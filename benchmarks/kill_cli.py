"""``alphapanda kill`` against a running headless paper engine: how fast trading halts.

Starts ``alphapanda engine`` (SQLite, memory bus, an EMA 2/4 cross on three names with a
tick every 25 ms, so it trades several times a second), then each run resumes, waits for
a new order, and runs the real console script ``alphapanda kill``. From the engine's
acknowledgement row it reads ``request_to_halt_ms`` (the request stored by the CLI →
HALTED in the engine) and ``request_to_ack_ms`` (→ nothing in flight, ack written); it
also times ``spawn_to_halt_ms`` (the command started → HALTED, Python start-up included)
and ``cli_wall_ms`` (the whole command), and counts orders sent after the command
returned (must be 0). Prints one JSON object. Run: ``python benchmarks/kill_cli.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.support import EngineProcess, SqliteDb, cli, poll


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered), 1), "p90": round(p90, 1)}


async def _one_run(home: Path, db: SqliteDb) -> dict[str, Any]:
    resumed = cli(home, "resume")
    assert resumed.returncode == 0, resumed.stderr
    before = int(db.scalar("SELECT max(id) FROM orders") or 0)
    await poll(
        lambda: db.count("orders", "id > ? AND status != 'REJECTED'", before) > 0,
        20,
        "trading again",
    )
    spawn_ns = time.time_ns()
    started = time.monotonic()
    killed = cli(home, "kill")
    wall_ms = (time.monotonic() - started) * 1000
    last = int(db.scalar("SELECT max(id) FROM orders") or 0)
    assert killed.returncode == 0, killed.stdout + killed.stderr
    (request_ts,) = db.rows(
        "SELECT audit_ts FROM audit_log WHERE action = 'request.kill' ORDER BY id DESC LIMIT 1"
    )[0]
    (detail,) = db.rows(
        "SELECT detail FROM audit_log WHERE action = 'ack.kill' ORDER BY id DESC LIMIT 1"
    )[0]
    ack = json.loads(detail)
    await asyncio.sleep(1.0)  # let signals validated before the halt land (refused there)
    sent_after = db.count("orders", "id > ? AND status != 'REJECTED'", last)
    halted_ns = request_ts + ack["held_after_ms"] * 1e6
    return {
        "request_to_halt_ms": ack["held_after_ms"],
        "request_to_ack_ms": ack["acknowledged_after_ms"],
        "spawn_to_halt_ms": round((halted_ns - spawn_ns) / 1e6, 1),
        "cli_wall_ms": round(wall_ms, 1),
        "orders_sent_after_return": sent_after,
    }


async def main(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="alphapanda-kill-bench-") as tmp:
        home = Path(tmp)
        db = SqliteDb(home / "alphapanda.db")
        engine = EngineProcess.start(home)
        try:
            await engine.started()
            results = [await _one_run(home, db) for _ in range(runs)]
        finally:
            engine.close()
    keys = ("request_to_halt_ms", "request_to_ack_ms", "spawn_to_halt_ms", "cli_wall_ms")
    return {
        "benchmark": "kill_cli",
        "runs": runs,
        **{key: _summary([r[key] for r in results]) for key in keys},
        "orders_sent_after_return": sum(r["orders_sent_after_return"] for r in results),
        "every_run": results,
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    print(json.dumps(asyncio.run(main(parser.parse_args().runs))))
