"""The headless engine stops and exits non-zero, with the cause, when a service crash-loops."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from alphapanda_tui import runtime as runtime_module
from alphapanda_tui.commands import engine as engine_command
from alphapanda_tui.settings import load_settings
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.processing import Supervisor
from tests.integration.support import settings_overrides


class BrokenFeed:
    """A feed whose every run fails the way a bad database page does."""

    name = "feed.broken"

    def __init__(self) -> None:
        self.runs = 0

    async def run(self) -> None:
        self.runs += 1
        await asyncio.sleep(0)
        raise OSError("database disk image is malformed")

    def stop(self) -> None:
        return None

    def health(self) -> ComponentHealth:
        return ComponentHealth(name=self.name, status=ComponentStatus.DOWN)


async def test_engine_exits_1_naming_the_crash_looping_service(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(**settings_overrides(isolated_home))
    feed = BrokenFeed()

    def build(settings: Any, **kwargs: Any) -> runtime_module.EngineRuntime:
        return runtime_module.EngineRuntime(settings, feed_factory=lambda bus, reg: feed, **kwargs)

    monkeypatch.setattr(runtime_module, "build_runtime", build)
    monkeypatch.setattr(Supervisor, "RESTART_DELAY", 0.01)
    monkeypatch.setattr(Supervisor, "MAX_RESTARTS", 3)

    code = await asyncio.wait_for(engine_command._serve(settings, max_seconds=60), 30)

    assert code == 1
    err = capsys.readouterr().err
    assert "alphapanda engine running" in err  # it started, then gave up
    assert (
        "alphapanda engine: stopped: service feed.broken crashed 4 times in a row: "
        "OSError: database disk image is malformed" in err
    )
    assert "stopped cleanly" not in err
    assert feed.runs == 4
    assert not (isolated_home / "engine.pid").exists()  # a graceful stop all the same
