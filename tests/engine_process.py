"""``alphapanda engine`` as a real subprocess, shared by the integration and cluster tests."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[1]
ALPHAPANDA = ROOT / ".venv" / "bin" / "alphapanda"


@dataclass
class EngineProcess:
    """One wrapper for every suite's engine subprocess; its output goes to ``log_path``."""

    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] = field(init=False)
    start_timeout: ClassVar[float] = 30.0

    @classmethod
    def spawn(cls, name: str, env: dict[str, str], log_path: Path, *args: str) -> Self:
        """``alphapanda engine *args`` in ``ALPHAPANDA_HOME``, with no outside ALPHAPANDA_*."""
        engine = cls(name, env, log_path)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPANDA_")}
        full_env.update(env, PYTHONUNBUFFERED="1")
        with log_path.open("wb") as sink:
            engine.process = subprocess.Popen(
                [str(ALPHAPANDA), "engine", *args],
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=Path(env["ALPHAPANDA_HOME"]),
            )
        return engine

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        return "alphapanda engine running" in self.output

    async def started(self, timeout: float | None = None) -> None:
        await eventually(
            lambda: self.running() or self.process.poll() is not None,
            timeout=self.start_timeout if timeout is None else timeout,
            interval=0.05,
            message=f"{self.name} start",
        )
        assert self.process.poll() is None, f"{self.name} exited early:\n{self.output[-3000:]}"

    def send(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"{self.name} did not exit within {timeout}s:\n{self.output[-3000:]}"
            ) from None

    def kill(self) -> None:
        self.send(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        self.send(signal.SIGTERM)
        return self.wait(timeout)

    def close(self) -> None:
        """Test teardown: never leave an engine behind."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
