"""The lean ``alphapanda kill`` (``alphapanda_tui.kill_fast``) on SQLite and PostgreSQL.

A request it writes is the one the full path writes (rows and ``audit.jsonl`` line,
byte for byte), a real ``ControlRequestPoller`` acts on it and acknowledges, and the
command then says HALTED. Whatever it cannot handle with certainty is handed to the full
path before anything is stored.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from alphapanda_tui import cli, kill_fast
from engine.bus import MemoryBus
from engine.clock import SystemClock
from engine.events.types import Broker, TradingMode
from engine.trading_state.control import TradingControl
from engine.trading_state.requests import ControlRequestPoller
from engine.trading_state.state import TradingState
from storage.database import create_engine_for
from storage.migrate import downgrade_async, upgrade_async
from storage.store import SqlTradingStore
from tests.services import postgres_database

NO_ACK_EXIT = 3
FIXED_NS = 1_796_600_000_123_456_789
FIXED_ID = "01a24e45-0000-7000-8000-00000000beef"


@asynccontextmanager
async def migrated_database(backend: str, home: Path) -> AsyncIterator[str]:
    """A database at the head revision: the SQLite file under ``home``, or a fresh one."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{home}/alphapanda.db"
        await upgrade_async(url)
        yield url
        return
    async with postgres_database() as url:
        await upgrade_async(url)
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        request.getfixturevalue("postgres_url")  # skips with how to start it
    return str(request.param)


@pytest.fixture
def lean_runs(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """What the lean path returned each time ``cli.main`` tried it (None: handed over)."""
    runs: list[int | None] = []
    real = kill_fast.fast_kill

    def recorded(argv: list[str]) -> int | None:
        runs.append(real(argv))
        return runs[-1]

    monkeypatch.setattr(kill_fast, "fast_kill", recorded)
    return runs


async def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Both tables as stored: the JSON detail as its raw text."""
    detail = "CAST(detail AS BLOB)" if url.startswith("sqlite") else "detail::text"
    engine = create_engine_for(url)
    try:
        async with engine.connect() as connection:
            states = await connection.execute(
                text("SELECT broker, scope, mode, reason, operator, changed_ts FROM trading_state")
            )
            audits = await connection.execute(
                text(f"SELECT audit_ts, actor, action, {detail} FROM audit_log ORDER BY id")
            )
            return {
                "trading_state": [tuple(row) for row in states],
                "audit_log": [
                    (*row[:3], row[3].decode() if isinstance(row[3], bytes) else row[3])
                    for row in audits
                ],
            }
    finally:
        await engine.dispose()


def _audit_lines(home: Path) -> list[dict[str, Any]]:
    lines = (home / "logs" / "audit.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "ts"} for line in lines]


async def test_the_lean_request_is_byte_for_byte_the_full_paths(
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lean_runs: list[int | None],
) -> None:
    monkeypatch.chdir(tmp_path)
    frozen = SimpleNamespace(time_ns=lambda: FIXED_NS, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(kill_fast, "time", frozen)
    monkeypatch.setattr("alphapanda_tui.commands.control.time", frozen)
    monkeypatch.setattr("engine.ids.uuid7_str", lambda: FIXED_ID)
    outputs, stored = [], []
    for path in ("lean", "full"):
        home = tmp_path / path
        async with migrated_database(backend, home) as url:
            monkeypatch.setenv("ALPHAPANDA_DATABASE__URL", url)
            if path == "full":  # the full path alone, as before the lean one existed
                monkeypatch.setattr(kill_fast, "fast_kill", lambda argv: None)
            argv = ["kill", "--flatten", "--wait", "0.05", "--home", str(home)]
            status = await asyncio.to_thread(cli.main, argv)
            captured = capsys.readouterr()
            outputs.append((status, captured.out, captured.err))
            stored.append((await _rows(url), _audit_lines(home)))

    assert lean_runs == [NO_ACK_EXIT]  # the lean path ran the first kill itself
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == NO_ACK_EXIT
    assert "positions were NOT squared off" in outputs[0][2]
    assert stored[0] == stored[1]
    rows, lines = stored[0]
    assert rows["trading_state"][0][:3] == ("paper", "global", "HALTED")
    assert json.loads(rows["audit_log"][0][3]) == {
        "request_id": FIXED_ID,
        "broker": "paper",
        "strategy": None,
        "flatten": True,
    }
    assert [line["action"] for line in lines] == ["request.kill"]


async def test_a_running_engine_acts_on_the_lean_request_and_the_command_says_halted(
    backend: str,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    lean_runs: list[int | None],
) -> None:
    async with migrated_database(backend, isolated_home) as url:
        store = await SqlTradingStore.open(url)
        state = TradingState(Broker.PAPER)
        control = TradingControl(MemoryBus(), state, Broker.PAPER, SystemClock())

        async def sends_idle(_timeout: float) -> bool:
            return True

        poller = ControlRequestPoller(
            store=store,
            control=control,
            broker="paper",
            sends_idle=sends_idle,
            instance="engine test-1",
        )
        running = asyncio.create_task(poller.run())
        try:
            await asyncio.sleep(0.1)  # the poller's start: requests before it are history
            argv = ["kill", "--wait", "10"]
            if backend == "postgres":
                argv += ["--home", str(isolated_home)]
                os_env = {"ALPHAPANDA_DATABASE__URL": url}
            else:
                os_env = {}
            with pytest.MonkeyPatch.context() as patch:
                for name, value in os_env.items():
                    patch.setenv(name, value)
                status = await asyncio.to_thread(cli.main, argv)
        finally:
            poller.stop()
            await running
        persisted = await store.load_trading_states(Broker.PAPER)
        await store.aclose()

    out = capsys.readouterr().out
    assert lean_runs == [0]
    assert status == 0
    assert out.startswith("trading is now HALTED: engine test-1 stopped sending orders")
    assert state.scope_mode() is TradingMode.HALTED
    assert [(s.scope, s.mode) for s in persisted] == [("global", TradingMode.HALTED)]


async def _audit_count(url: str) -> int:
    return len((await _rows(url))["audit_log"])


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["kill", "--wait", "0.05", "--flat"], {}),
        (["kill", "--wait", "0.05"], {"ALPHAPANDA_BUS__BACKEND": "kafka"}),
        (["kill", "--wait", "0.05"], {"ALPHAPANDA_NOT_A_SETTING": "1"}),
    ],
)
async def test_what_it_cannot_handle_is_handed_over_before_anything_is_stored(
    argv: list[str],
    env: dict[str, str],
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with migrated_database("sqlite", isolated_home) as url:
        for name, value in env.items():
            monkeypatch.setenv(name, value)

        assert await asyncio.to_thread(kill_fast.fast_kill, argv) is None
        assert await _audit_count(url) == 0


async def test_a_schema_behind_the_head_is_left_to_the_full_path_which_migrates(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], lean_runs: list[int | None]
) -> None:
    async with migrated_database("sqlite", isolated_home) as url:
        await downgrade_async(url, "0001")

        assert await asyncio.to_thread(kill_fast.fast_kill, ["kill"]) is None
        assert await _audit_count(url) == 0
        status = await asyncio.to_thread(cli.main, ["kill", "--wait", "0.05"])

        assert lean_runs == [None, None]  # handed over, untouched, both times
        assert status == NO_ACK_EXIT
        assert "HALTED is stored" in capsys.readouterr().out
        assert await _audit_count(url) == 1


def test_with_no_database_yet_the_full_path_creates_it(
    isolated_home: Path, lean_runs: list[int | None]
) -> None:
    status = cli.main(["kill", "--wait", "0.05"])

    assert lean_runs == [None]
    assert status == NO_ACK_EXIT
    assert (isolated_home / "alphapanda.db").is_file()


HEAVY = ("pydantic", "pydantic_settings", "sqlalchemy", "alembic", "asyncio", "textual")


async def test_the_lean_kill_loads_none_of_the_heavy_libraries(isolated_home: Path) -> None:
    async with migrated_database("sqlite", isolated_home):
        script = (
            "import sys; from alphapanda_tui.cli import main; "
            "status = main(['kill', '--wait', '0.05']); "
            f"print(status, sorted(m for m in {HEAVY!r} if m in sys.modules))"
        )
        done = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await done.communicate()

    assert out.decode().splitlines()[-1] == f"{NO_ACK_EXIT} []"


async def test_a_live_kill_halts_the_zerodha_state_and_logs_no_line_above_info(
    isolated_home: Path, lean_runs: list[int | None]
) -> None:
    async with migrated_database("sqlite", isolated_home) as url:
        argv = ["--mode", "live", "kill", "--wait", "0.05", "--log-level", "warning"]
        status = await asyncio.to_thread(cli.main, argv)
        rows = await _rows(url)

    assert lean_runs == [NO_ACK_EXIT]
    assert status == NO_ACK_EXIT
    assert [row[:3] for row in rows["trading_state"]] == [("zerodha", "global", "HALTED")]
    assert json.loads(rows["audit_log"][0][3])["broker"] == "zerodha"
    assert not (isolated_home / "logs" / "audit.jsonl").exists()
