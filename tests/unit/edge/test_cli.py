"""The ``alphapanda`` frame: commands listed, settings first, one-line errors, exit 2."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from alphapanda_tui import cli
from alphapanda_tui.errors import ConfigError, UsageError

SCRIPT = Path(sys.executable).with_name("alphapanda")


def run_script(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", [["db", "upgrade"], ["status"], ["engine"]])
def test_bad_mode_is_one_line_and_exit_2_for_every_command(tmp_path, command) -> None:
    result = run_script(*command, cwd=tmp_path, ALPHAPANDA_MODE="bogus")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "ALPHAPANDA_MODE" in lines[0] and "'bogus'" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_help_lists_every_command(tmp_path) -> None:
    result = run_script("--help", cwd=tmp_path)
    assert result.returncode == 0
    for name in cli.COMMANDS:
        assert f"    {name} " in result.stdout


def test_missing_command_module_is_listed_not_fatal(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "nosuchcommand"))
    with pytest.raises(SystemExit) as caught:
        cli.main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "nosuchcommand" in out and "(not installed)" in out
    assert cli.main(["nosuchcommand"]) == 1
    assert "not installed" in capsys.readouterr().err


def _fake_command(calls: list[argparse.Namespace], raise_error: Exception | None = None):
    module = types.ModuleType("alphapanda_tui.commands.fake")
    module.NAME = "fake"
    module.HELP = "a fake command"

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--attach", action="store_true")

    def run(args, settings) -> int:
        calls.append(args)
        args.settings_seen = settings
        if raise_error:
            raise raise_error
        return 0

    module.configure = configure
    module.run = run
    return module


@pytest.fixture
def fake(monkeypatch):
    calls: list[argparse.Namespace] = []
    module = _fake_command(calls)
    monkeypatch.setitem(sys.modules, "alphapanda_tui.commands.fake", module)
    monkeypatch.setattr(cli, "COMMANDS", ("fake", *cli.COMMANDS))
    monkeypatch.setattr(cli, "DEFAULT_COMMAND", "fake")
    return module, calls


def test_no_command_runs_the_default_with_its_options(fake, tmp_path) -> None:
    _, calls = fake
    assert cli.main(["--home", str(tmp_path / "h"), "--attach"]) == 0
    (args,) = calls
    assert args.command == "fake" and args.attach
    assert args.settings_seen.home == tmp_path / "h"


def test_global_options_work_before_and_after_the_command(fake, tmp_path) -> None:
    _, calls = fake
    assert cli.main(["--mode", "live", "fake", "--log-level", "debug"]) == 0
    settings = calls[-1].settings_seen
    assert (settings.mode, settings.log.level) == ("live", "DEBUG")


def test_commands_get_a_log_runtime_with_files_under_home(fake, isolated_home) -> None:
    _, calls = fake
    assert cli.main(["fake"]) == 0
    assert calls[-1].logs.ring is not None
    assert calls[-1].logs.logs_dir == isolated_home / "logs"
    assert calls[-1].logs.closed


def test_usage_and_config_errors_from_a_command_are_one_line(fake, monkeypatch, capsys) -> None:
    module, _ = fake
    for error in (UsageError("unknown instrument NSE:NOPE"), ConfigError("live mode needs X")):

        def failing(args, settings, error=error) -> int:
            raise error

        monkeypatch.setattr(module, "run", failing)
        assert cli.main(["fake"]) == 2
        err = capsys.readouterr().err
        assert err == f"alphapanda: {error}\n"


def test_bad_arguments_are_one_line_with_a_hint(fake, capsys) -> None:
    assert cli.main(["fake", "--nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "--nope" in err and "alphapanda fake --help" in err


def test_a_misspelt_setting_name_stops_the_command_instead_of_being_ignored(
    fake, monkeypatch, capsys
) -> None:
    """ALPHAPANDA_MOED=live was a warning and the engine started in paper mode."""
    _, calls = fake
    monkeypatch.setenv("ALPHAPANDA_MOED", "live")
    assert cli.main(["fake"]) == 2
    assert capsys.readouterr().err == (
        "alphapanda: invalid setting ALPHAPANDA_MOED: not a setting "
        "(see .env.example for the names)\n"
    )
    assert calls == []  # the command never ran


def test_misspelt_group_setting_stops_with_its_name(fake, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__MAX_DAILY_LOS", "1")
    assert cli.main(["fake"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("alphapanda: invalid setting ALPHAPANDA_RISK__MAX_DAILY_LOS: not a")


def test_default_command_insertion_skips_global_values() -> None:
    names = ("tui", "db")
    assert cli.with_default_command(["--home", "db"], names) == ["--home", "db", "tui"]
    assert cli.with_default_command(["--mode=live", "--attach"], names) == [
        "--mode=live",
        "tui",
        "--attach",
    ]
    assert cli.with_default_command(["db", "upgrade"], names) == ["db", "upgrade"]
    assert cli.with_default_command(["--help"], names) == ["--help"]


def test_live_mode_commands_stop_without_kite_credentials(fake, monkeypatch, capsys) -> None:
    module, calls = fake
    monkeypatch.setattr(module, "REQUIRES_LIVE_CREDENTIALS", True, raising=False)
    assert cli.main(["--mode", "live", "fake"]) == 2
    assert calls == []
    err = capsys.readouterr().err
    assert err.startswith("alphapanda: live mode needs ALPHAPANDA_ZERODHA__API_KEY")
    assert cli.main(["--mode", "paper", "fake"]) == 0


def test_unwritable_home_is_one_line(fake, tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert cli.main(["--home", str(blocker / "home"), "fake"]) == 2
    assert capsys.readouterr().err.startswith("alphapanda: invalid setting ALPHAPANDA_HOME: ")


def test_a_crashing_command_leaves_its_traceback_in_the_errors_log(
    fake, monkeypatch, isolated_home
) -> None:
    module, _ = fake

    def crash(args, settings) -> int:
        raise RuntimeError("bug in command")

    monkeypatch.setattr(module, "run", crash)
    with pytest.raises(RuntimeError):
        cli.main(["fake"])
    errors = (isolated_home / "logs" / "errors.jsonl").read_text()
    assert "command fake failed" in errors and "RuntimeError: bug in command" in errors


def test_a_command_with_a_broken_parser_does_not_break_help(fake, capsys) -> None:
    module, _ = fake

    def broken(parser: argparse.ArgumentParser) -> None:
        raise TypeError("bad add_argument")

    module.configure = broken
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "(unavailable: TypeError: bad add_argument)" in capsys.readouterr().out
