"""``alphapanda --attach`` to a cluster that does not answer: one line, exit 2, no UI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.engine_process import ALPHAPANDA
from tests.kafka.broker import free_port


def test_attach_to_an_unreachable_cluster_exits_2_before_the_console_opens(
    isolated_home: Path,
) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPANDA_")}
    env.update(ALPHAPANDA_HOME=str(isolated_home), ALPHAPANDA_BUS__BOOTSTRAP_SERVERS=address)
    result = subprocess.run(
        [str(ALPHAPANDA), "--attach"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"alphapanda: cannot reach the Kafka cluster at {address}")
    assert "\x1b[?1049h" not in result.stdout  # the alternate screen was never entered
