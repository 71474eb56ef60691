"""``alphapanda kill`` against a running headless paper engine: how fast trading halts.

Starts ``alphapanda engine`` (SQLite, memory bus, an EMA 2/4 cross on three names with a
tick every 25 ms, so it trades several times a second), then each run resumes, waits for
a new order, and runs the real console script ``alphapanda kill`` twice: as typed (the
lean path, ``alphapanda_tui.kill_fast``) and as ``kill --wai 3`` (an abbreviation, which
the lean path leaves to the full argparse/pydantic/SQLAlchemy path: the command as it was
before the lean path). From the engine's acknowledgement row it reads
``request_to_halt_ms`` (the request stored by the CLI → HALTED in the engine) and
``request_to_ack_ms`` (→ nothing in flight, ack written); it also times
``spawn_to_halt_ms`` (the command started → HALTED, Python start-up included) and
``cli_wall_ms`` (the whole command, start to exit), and counts orders that went to the
venue after the command returned (must be 0; read once every order refused for the halt
is on record, as REJECTED with the halt's reason and no broker id, which do not count). Each
figure is the median and p90 over the runs. The commands run with a bytecode cache, as an
installed package does (``--cold``: recompile every module each time, as a checkout run
with ``PYTHONDONTWRITEBYTECODE`` does). Prints one JSON object.
Run: ``python benchmarks/kill_cli.py [--runs 10] [--cold]``.
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


# Orders that reached the venue: anything but an order execution refused for the halt.
SENT = "NOT (status = 'REJECTED' AND reason LIKE '%HALTED%' AND broker_order_id IS NULL)"


async def _one_run(
    home: Path, db: SqliteDb, kill_args: tuple[str, ...], env: dict[str, str]
) -> dict[str, Any]:
    resumed = cli(home, "resume", **env)
    assert resumed.returncode == 0, resumed.stderr
    before = int(db.scalar("SELECT max(id) FROM orders") or 0)
    await poll(
        lambda: db.count("orders", "id > ? AND status != 'REJECTED'", before) > 0,
        20,
        "trading again",
    )
    spawn_ns = time.time_ns()
    started = time.monotonic()
    killed = cli(home, "kill", *kill_args, **env)
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
    # Orders not yet refused 1 s later: PENDING ones may still be in execution's queue.
    unsettled = db.rows(f"SELECT id FROM orders WHERE id > ? AND {SENT}", last)
    halted_ns = request_ts + ack["held_after_ms"] * 1e6
    return {
        "request_to_halt_ms": ack["held_after_ms"],
        "request_to_ack_ms": ack["acknowledged_after_ms"],
        "spawn_to_halt_ms": round((halted_ns - spawn_ns) / 1e6, 1),
        "cli_wall_ms": round(wall_ms, 1),
        "unsettled_ids": [row[0] for row in unsettled],
    }


PATHS = {"lean": (), "full": ("--wai", "3")}  # an abbreviation: the lean path hands it over
KEYS = ("request_to_halt_ms", "request_to_ack_ms", "spawn_to_halt_ms", "cli_wall_ms")


# Many kill/resume cycles on the compressed demo clock: no MIS cut-off (it would end new
# entries, and square off, mid-benchmark) and no automatic halt on repeated rejections
# (every order refused for a kill counts as one).
ENGINE_ENV = {
    "ALPHAPANDA_RISK__MIS_SQUARE_OFF": "",
    "ALPHAPANDA_RISK__MAX_CONSECUTIVE_REJECTIONS": "1000000",
}


def _cli_env(cold: bool, cache_dir: Path) -> dict[str, str]:
    """Bytecode cached in ``cache_dir`` (as installed), or recompiled every time."""
    if cold:
        return {**ENGINE_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    return {**ENGINE_ENV, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(cache_dir)}


async def main(runs: int, cold: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="alphapanda-kill-bench-") as tmp:
        home = Path(tmp)
        db = SqliteDb(home / "alphapanda.db")
        env = _cli_env(cold, home / "pycache")
        engine = EngineProcess.start(home, **ENGINE_ENV)
        results: dict[str, list[dict[str, Any]]] = {path: [] for path in PATHS}
        try:
            await engine.started()
            cli(home, "status", **env)  # fills the bytecode cache once
            for _ in range(runs):
                for path, kill_args in PATHS.items():
                    results[path].append(await _one_run(home, db, kill_args, env))
            await asyncio.sleep(3.0)  # every order refused for a halt is on record by now
            for run in (run for every in results.values() for run in every):
                settled = [
                    db.rows("SELECT id, status, reason FROM orders WHERE id = ? AND " + SENT, i)
                    for i in run.pop("unsettled_ids")
                ]
                run["sent_after_return"] = [list(rows[0]) for rows in settled if rows]
                run["orders_sent_after_return"] = len(run["sent_after_return"])
        except AssertionError as exc:
            recent = db.rows("SELECT id, status, reason FROM orders ORDER BY id DESC LIMIT 5")
            alerts = db.rows("SELECT rule, message FROM risk_alerts ORDER BY id DESC LIMIT 5")
            raise AssertionError(f"{exc}; orders {recent}; alerts {alerts}") from None
        finally:
            engine.close()
    return {
        "benchmark": "kill_cli",
        "runs": runs,
        "bytecode_cache": not cold,
        **{
            path: {
                **{key: _summary([r[key] for r in every]) for key in KEYS},
                "orders_sent_after_return": sum(r["orders_sent_after_return"] for r in every),
            }
            for path, every in results.items()
        },
        "every_run": results,
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cold", action="store_true", help="no bytecode cache")
    options = parser.parse_args()
    print(json.dumps(asyncio.run(main(options.runs, options.cold))))
