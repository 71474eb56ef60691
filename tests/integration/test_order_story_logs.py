"""The log files after a scripted paper session tell each order's story and every operator action.

A real runtime (paper feed, the bundled strategies, SQLite, memory bus) with logging set up
as the console sets it up; the operator kills, resumes, halts and resumes one strategy.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from alphapanda_tui.logging_setup import start_logging
from alphapanda_tui.runtime import build_runtime
from alphapanda_tui.settings import load_settings
from engine.logs.order_story import STAGES
from tests.helpers import eventually
from tests.integration.support import BROKER, settings_overrides

ORDER_FIELDS = ("symbol", "side", "quantity", "status", "client_order_id", "correlation_id")
OPERATOR = "trader@desk"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_each_order_life_and_every_operator_action_are_in_the_log_files(
    isolated_home: Path,
) -> None:
    settings = load_settings(**settings_overrides(isolated_home, log={"level": "INFO"}))
    logs = start_logging(settings)
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        assert runtime.pipeline is not None
        store = runtime.pipeline.store

        async def filled() -> bool:
            return len(await store.list_fills(BROKER)) >= 6

        await eventually(filled, timeout=20, message="a few fills")
        await runtime.controls.kill(operator=OPERATOR)
        await runtime.controls.resume(operator=OPERATOR)
        strategy = (await store.list_fills(BROKER))[0].strategy
        await runtime.controls.halt(strategy, operator=OPERATOR)
        await runtime.controls.resume(strategy, operator=OPERATOR)

        async def audited() -> bool:
            return len(await store.list_audit()) >= 4

        await eventually(audited, timeout=10, message="four audit rows")
    finally:
        await runtime.stop()
        logs.close()

    trading = read_jsonl(logs.file_for("trading"))
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in trading:
        if line.get("stage"):
            stories[line["correlation_id"]].append(line)
    complete = [
        lines
        for lines in stories.values()
        if [line["stage"] for line in lines][:5] == list(STAGES[:5])
        and lines[-1]["stage"] == "final"
        and lines[-1]["status"] == "FILLED"
    ]
    assert len(complete) >= 3, [[line["stage"] for line in lines] for lines in stories.values()]
    for lines in complete:
        coids = {line["client_order_id"] for line in lines}
        assert len(coids) == 1  # one order, told under one correlation id
        for line in lines:
            assert all(line.get(field) for field in ORDER_FIELDS), line
        assert lines[1]["status"] == "APPROVED"
        fill = next(line for line in lines if line["stage"] == "fill")
        assert fill["price"] and fill["trade_id"]

    audit = read_jsonl(logs.file_for("audit"))
    actions = [(line["action"], line.get("scope"), line["actor"]) for line in audit]
    rows = await audit_rows(settings.database.url)
    assert {"trading.kill", "trading.resume", "trading.halt"} <= {a for a, _, _ in actions}
    assert ("trading.halt", strategy, OPERATOR) in actions
    assert ("trading.resume", strategy, OPERATOR) in actions
    assert sorted(a for a, _, _ in actions) == sorted(row.action for row in rows)


async def audit_rows(url: str) -> list[Any]:
    """The audit table as the next process sees it (a fresh connection to the database)."""
    from storage.store import SqlTradingStore

    store = await SqlTradingStore.open(url)
    try:
        return await store.list_audit(limit=1000)
    finally:
        await store.aclose()
