"""``alphapanda status | head -2``: a reader that stops early is no error.

Seen in QA: ``alphapanda status | head -2`` printed its two lines, then a BrokenPipeError
traceback on the terminal, and errors.jsonl recorded 'command status failed'.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.integration.support import ALPHAPANDA, engine_env


def test_a_closed_stdout_ends_the_command_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (head) is gone before the first line
    try:
        done = subprocess.run(
            [str(ALPHAPANDA), "strategies"],
            env=engine_env(tmp_path),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 141, (done.returncode, done.stderr)  # 128 + SIGPIPE, as a shell
    errors = tmp_path / "logs" / "errors.jsonl"
    assert not errors.exists() or "BrokenPipe" not in errors.read_text()
