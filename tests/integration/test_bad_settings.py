"""The bad-settings corpus: every case stops a command with one line naming the setting.

Each bad value used to be accepted without a word (a guard switched off, files in the
working directory, a typo ignored) or to end in a traceback at first use. Most cases run
in-process through ``cli.main`` (the console script's entry function) so the corpus stays
fast; a handful run through the installed script to prove the real process agrees.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from alphapanda_tui import cli
from tests.integration.support import ALPHAPANDA

SECRET = "s3cr3t-pw"
QUANTITY_TRUE = "strategies:\n  - name: x\n    kind: ema_cross\n    params: {quantity: true}\n"
STRATEGY_FILES: dict[str, bytes] = {
    "empty": b"",
    "not-utf8": "strategies:\n  - name: caf\u00e9\n".encode("latin-1"),
    "utf16": "strategies: []\n".encode("utf-16"),
    "quantity-true": (QUANTITY_TRUE + "    instruments: [NSE:INFY]\n").encode(),
    "fast-string": b"- {name: x, kind: ema_cross, params: {fast: '9'}, instruments: [NSE:INFY]}\n",
    "quantity-float": b"- {name: x, kind: rsi, params: {quantity: 2.5}, instruments: [NSE:INFY]}\n",
    "enabled-string": b"- {name: x, kind: rsi, enabled: 'no', instruments: [NSE:INFY]}\n",
    "threshold-nan": b"- {name: x, kind: momentum, params: {threshold: .nan}, "
    b"instruments: [NSE:TCS]}\n",
    "unknown-instrument": b"- {name: x, kind: rsi, instruments: [NSE:NOSUCH]}\n",
    "bad-yaml": b"strategies:\n  - name: [unclosed\n",
}
# (case id, environment, the setting named, a fragment that says what is wrong)
CASES: list[tuple[str, dict[str, str], str, str]] = [
    ("slippage-1e9", {"EXECUTION__SLIPPAGE_BPS": "1e9"}, "EXECUTION__SLIPPAGE_BPS", "1000"),
    ("snapshot-1e-9", {"PORTFOLIO__SNAPSHOT_INTERVAL_S": "1e-9"}, "SNAPSHOT_INTERVAL_S", "0.05"),
    ("daily-loss-1e400", {"RISK__MAX_DAILY_LOSS": "1e400"}, "RISK__MAX_DAILY_LOSS", ""),
    ("daily-loss-nan", {"RISK__MAX_DAILY_LOSS": "nan"}, "RISK__MAX_DAILY_LOSS", ""),
    ("daily-loss-negative", {"RISK__MAX_DAILY_LOSS": "-1"}, "RISK__MAX_DAILY_LOSS", "than 0"),
    ("cooldown-inf", {"PROCESSING__BREAKER_COOLDOWN_S": "inf"}, "BREAKER_COOLDOWN_S", "finite"),
    (
        "cooldown-above-max",
        {"PROCESSING__BREAKER_COOLDOWN_S": "100"},
        "PROCESSING__BREAKER_COOLDOWN_S",
        "above breaker_max_cooldown_s",
    ),
    (
        "retry-base-above-max",
        {"PROCESSING__RETRY_BASE_DELAY_S": "10"},
        "PROCESSING__RETRY_BASE_DELAY_S",
        "above retry_max_delay_s",
    ),
    ("empty-home", {"HOME": ""}, "ALPHAPANDA_HOME", "empty"),
    ("blank-home", {"HOME": "   "}, "ALPHAPANDA_HOME", "empty"),
    (
        "db-url-bad-port",
        {"DATABASE__URL": f"postgresql+asyncpg://trader:{SECRET}@db:notaport/alpha"},
        "DATABASE__URL",
        "not a database URL",
    ),
    ("db-url-garbage", {"DATABASE__URL": "garbage"}, "DATABASE__URL", "not a database URL"),
    ("db-url-sync-driver", {"DATABASE__URL": "sqlite:///x.db"}, "DATABASE__URL", "driver"),
    (
        "db-url-port-range",
        {"DATABASE__URL": "postgresql+asyncpg://db:70000/alpha"},
        "DATABASE__URL",
        "70000",
    ),
    (
        "db-url-no-database",
        {"DATABASE__URL": "postgresql+asyncpg://db:5432"},
        "DATABASE__URL",
        "no database",
    ),
    ("redis-url-port", {"REDIS__URL": f"redis://:{SECRET}@r:99999999/0"}, "REDIS__URL", "Port"),
    ("redis-url-scheme", {"REDIS__URL": "http://r:6379"}, "REDIS__URL", "not a Redis URL"),
    ("redis-url-db", {"REDIS__URL": "redis://r:6379/zero"}, "REDIS__URL", "not a number"),
    (
        "allow-list-nothing-known",
        {"RISK__ALLOWED_INSTRUMENTS": "NSE:NOPE"},
        "RISK__ALLOWED_INSTRUMENTS",
        "NSE:NOPE is not a known instrument",
    ),
    (
        "allow-list-one-typo",
        {"RISK__ALLOWED_INSTRUMENTS": "NSE:INFY,NSE:TSC"},
        "RISK__ALLOWED_INSTRUMENTS",
        "NSE:TSC",
    ),
    ("strategies-file-empty-setting", {"STRATEGIES_FILE": ""}, "STRATEGIES_FILE", "empty"),
    ("strategies-file-missing", {"STRATEGIES_FILE": "/no/such.yaml"}, "STRATEGIES_FILE", "read"),
    ("strategies-empty", {"STRATEGIES_FILE": "@empty"}, "STRATEGIES_FILE", "empty"),
    ("strategies-not-utf8", {"STRATEGIES_FILE": "@not-utf8"}, "STRATEGIES_FILE", "not UTF-8"),
    ("strategies-utf16", {"STRATEGIES_FILE": "@utf16"}, "STRATEGIES_FILE", "not UTF-8"),
    (
        "strategies-quantity-true",
        {"STRATEGIES_FILE": "@quantity-true"},
        "STRATEGIES_FILE",
        "line 4: strategies[0] 'x': params.quantity",
    ),
    ("strategies-fast-string", {"STRATEGIES_FILE": "@fast-string"}, "STRATEGIES_FILE", "fast"),
    ("strategies-quantity-float", {"STRATEGIES_FILE": "@quantity-float"}, "FILE", "quantity"),
    ("strategies-enabled-string", {"STRATEGIES_FILE": "@enabled-string"}, "FILE", "enabled"),
    ("strategies-threshold-nan", {"STRATEGIES_FILE": "@threshold-nan"}, "FILE", "threshold"),
    ("strategies-instrument", {"STRATEGIES_FILE": "@unknown-instrument"}, "FILE", "NOSUCH"),
    (
        "strategies-bad-yaml",
        {"STRATEGIES_FILE": "@bad-yaml"},
        "STRATEGIES_FILE",
        "line 3: not valid YAML",
    ),
    ("unknown-name", {"MOED": "live"}, "ALPHAPANDA_MOED", "not a setting"),
    ("unknown-group-name", {"RISK__MAX_DAILY_LOS": "1"}, "RISK__MAX_DAILY_LOS", "not a setting"),
    ("mode", {"MODE": "bogus"}, "ALPHAPANDA_MODE", "'bogus'"),
    ("partitions-zero", {"BUS__PARTITIONS": "0"}, "BUS__PARTITIONS", ""),
    ("price-band-101", {"FEED__PRICE_BAND_PCT": "101"}, "FEED__PRICE_BAND_PCT", "100"),
    ("refresh-1000hz", {"UI__REFRESH_HZ": "1000"}, "UI__REFRESH_HZ", "60"),
    ("log-level", {"LOG__LEVEL": "loud"}, "LOG__LEVEL", ""),
    ("instruments-csv", {"FEED__INSTRUMENTS_CSV": "/no/such.csv"}, "INSTRUMENTS_CSV", ""),
]
THROUGH_THE_SCRIPT = (
    "empty-home",
    "db-url-bad-port",
    "redis-url-port",
    "allow-list-nothing-known",
    "strategies-not-utf8",
    "strategies-quantity-true",
    "unknown-name",
)


def _environment(overrides: dict[str, str], directory: Path) -> dict[str, str]:
    """``ALPHAPANDA_``-prefixed variables; ``@name`` is a strategies file of the corpus."""
    env: dict[str, str] = {}
    for name, value in overrides.items():
        if value.startswith("@"):
            path = directory / f"{value[1:]}.yaml"
            path.write_bytes(STRATEGY_FILES[value[1:]])
            value = str(path)
        env[f"ALPHAPANDA_{name}"] = value
    return env


def _script(
    args: list[str], overrides: dict[str, str], directory: Path
) -> subprocess.CompletedProcess[str]:
    """The installed ``alphapanda`` run in ``directory`` with the case's settings on top."""
    return subprocess.run(
        [str(ALPHAPANDA), *args],
        env={**os.environ, **_environment(overrides, directory)},
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _assert_one_clear_line(code: int, out: str, err: str, setting: str, what: str) -> None:
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("alphapanda: "), lines[0]
    assert setting in lines[0] and what in lines[0], lines[0]
    assert SECRET not in err


@pytest.mark.parametrize(
    ("env", "setting", "what"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_setting_stops_the_command_with_one_line(
    env: dict[str, str], setting: str, what: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in _environment(env, tmp_path).items():
        monkeypatch.setenv(name, value)

    code = cli.main(["config", "show"])

    captured = capsys.readouterr()
    _assert_one_clear_line(code, captured.out, captured.err, setting, what)


@pytest.mark.parametrize("case", THROUGH_THE_SCRIPT)
def test_the_installed_script_refuses_the_same_way(case: str, tmp_path: Path) -> None:
    _, overrides, setting, what = next(c for c in CASES if c[0] == case)

    run = _script(["config", "show"], overrides, tmp_path)

    _assert_one_clear_line(run.returncode, run.stdout, run.stderr, setting, what)


def test_the_engine_command_refuses_before_it_starts(tmp_path: Path, isolated_home: Path) -> None:
    """The command that builds the engine checks the same way, before any file is made."""
    run = _script(["engine"], {"STRATEGIES_FILE": "@quantity-true"}, tmp_path)

    _assert_one_clear_line(run.returncode, run.stdout, run.stderr, "STRATEGIES_FILE", "quantity")
    assert not (isolated_home / "alphapanda.db").exists()


def test_good_settings_still_run(tmp_path: Path, monkeypatch, capsys) -> None:
    """The checks refuse mistakes, not the bundled defaults or a correct allow-list."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS", "NSE:INFY,NSE:TCS")
    monkeypatch.setenv("ALPHAPANDA_DATABASE__URL", "postgresql+asyncpg://trader@db:5432/alpha")
    monkeypatch.setenv("ALPHAPANDA_REDIS__URL", "redis://r:6379/0")

    assert cli.main(["config", "show"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("dotenv", "what"),
    [
        (b"ALPHAPANDA_MOED=live\n", "invalid setting ALPHAPANDA_MOED (in .env): not a setting"),
        (b"ALPHAPANDA_MODE=paper\nNOTE=caf\xe9\n", ".env: not UTF-8 text (byte 0xe9"),
    ],
    ids=["misspelt-name", "not-utf8"],
)
def test_a_bad_dotenv_file_stops_the_command_with_one_line(
    dotenv: bytes, what: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(dotenv)

    code = cli.main(["config", "show"])

    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and what in captured.err
