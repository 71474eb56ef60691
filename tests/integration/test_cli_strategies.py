"""``alphapanda strategies`` through the installed script: lists and validates the file."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from engine.strategies.config import default_strategies_path
from tests.integration.support import ALPHAPANDA

README = Path(__file__).resolve().parents[2] / "README.md"


def strategies(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ALPHAPANDA), "strategies", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_lists_the_bundled_strategies_with_their_effective_params(tmp_path: Path) -> None:
    bundled = yaml.safe_load(default_strategies_path().read_text(encoding="utf-8"))["strategies"]

    table = strategies(cwd=tmp_path)
    as_json = strategies("--json", cwd=tmp_path)

    assert table.returncode == 0, table.stderr
    assert "bundled defaults" in table.stdout.splitlines()[0]
    rows = {line.split()[0]: line for line in table.stdout.splitlines()[2:]}
    assert set(rows) == {entry["name"] for entry in bundled}
    listed = {row["name"]: row for row in json.loads(as_json.stdout)["strategies"]}
    for entry in bundled:
        row = listed[entry["name"]]
        assert (row["kind"], row["broker"], row["enabled"]) == (entry["kind"], "paper", True)
        assert row["instruments"] == entry["instruments"]
        assert entry["params"].items() <= row["params"].items()  # defaults filled in beside
        assert ",".join(entry["instruments"]) in rows[entry["name"]]
        assert f"quantity={entry['params']['quantity']}" in rows[entry["name"]]


def test_shows_a_disabled_live_strategy_as_such(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "strategies:\n"
        "  - {name: slow-rsi, kind: rsi, broker: zerodha, enabled: false,\n"
        "     params: {period: 21, quantity: 3}, instruments: [NSE:TCS]}\n",
        encoding="utf-8",
    )

    run = strategies(cwd=tmp_path, ALPHAPANDA_STRATEGIES_FILE=str(path))

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == f"strategies file: {path}"
    row = run.stdout.splitlines()[2].split()
    assert row[:5] == ["slow-rsi", "rsi", "zerodha", "no", "NSE:TCS"]
    assert "period=21" in row and "quantity=3" in row and "oversold=30.0" in row


def test_an_invalid_file_names_its_line_and_field_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "strategies:\n"
        "  - name: ok\n"
        "    kind: ema_cross\n"
        "    instruments: [NSE:INFY]\n"
        "  - name: typo\n"
        "    kind: ema_cross\n"
        "    params:\n"
        "      fast: 5\n"
        "      quantity: true\n"
        "    instruments: [NSE:INFY]\n",
        encoding="utf-8",
    )

    run = strategies(cwd=tmp_path, ALPHAPANDA_STRATEGIES_FILE=str(path))

    assert run.returncode == 2 and run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert "ALPHAPANDA_STRATEGIES_FILE" in line
    assert "line 9: strategies[1] 'typo': params.quantity" in line
    assert "Traceback" not in run.stderr


def test_the_readme_documents_the_format_with_the_bundled_file() -> None:
    """The README's example is the bundled file itself, so the two cannot drift apart."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Strategies\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    assert default_strategies_path().read_text(encoding="utf-8") in blocks
