"""The lean kill path reads its command line and settings exactly as the full path does,
and hands over (``None`` / ``NotCertain``) whenever it could not be sure."""

from __future__ import annotations

from pathlib import Path

import pytest

from alphapanda_tui.kill_fast import parse_kill_args
from alphapanda_tui.kill_settings import KillSettings, NotCertain, resolve_kill_settings
from alphapanda_tui.kill_store import head_revision, postgres_params, sqlite_file
from alphapanda_tui.setting_names import SETTING_ENV_NAMES, names_from_settings
from alphapanda_tui.settings import load_settings
from storage.migrate import head_revision as alembic_head_revision


@pytest.mark.parametrize(
    ("argv", "flags", "flatten", "wait_s"),
    [
        (["kill"], {}, False, 3.0),
        (["kill", "--flatten", "--wait", "0.5"], {}, True, 0.5),
        (["--home", "/x", "kill", "--wait=2"], {"home": "/x"}, False, 2.0),
        (
            ["kill", "--mode", "live", "--log-level=debug"],
            {"mode": "live", "log_level": "DEBUG"},
            False,
            3.0,
        ),
    ],
)
def test_the_kill_lines_it_takes(
    argv: list[str], flags: dict[str, str], flatten: bool, wait_s: float
) -> None:
    request = parse_kill_args(argv)

    assert request is not None
    assert (request.flags, request.flatten, request.wait_s) == (flags, flatten, wait_s)


@pytest.mark.parametrize(
    "argv",
    [
        ["kill", "--help"],
        ["kill", "--flat"],  # argparse takes abbreviations: the full path decides
        ["kill", "--wait", "0"],  # refused by the full path, in its words
        ["kill", "--wait", "-1"],
        ["kill", "--wait"],
        ["kill", "--strategy", "x"],
        ["--flatten", "kill"],
        ["kill", "kill"],
        ["status", "kill"],
        ["--home", "kill", "status"],
        ["kill", "--mode", "demo"],
        ["kill", "--home="],
        ["--version", "kill"],
    ],
)
def test_anything_else_goes_to_the_full_path(argv: list[str]) -> None:
    assert parse_kill_args(argv) is None


SAME_AS_SETTINGS: list[tuple[dict[str, str], str, dict[str, str]]] = [
    ({}, "", {}),
    ({"ALPHAPANDA_MODE": "live"}, "", {}),
    ({}, "ALPHAPANDA_MODE=live\nALPHAPANDA_LOG__LEVEL=debug\n", {}),
    ({"ALPHAPANDA_MODE": "paper"}, "ALPHAPANDA_MODE=live\n", {}),  # env over .env
    ({"ALPHAPANDA_MODE": "live"}, "", {"mode": "paper"}),  # the flag over env
    ({"alphapanda_log__level": "warning"}, "", {}),  # names are case-insensitive
    ({"ALPHAPANDA_DATABASE__URL": "postgresql+asyncpg://u:p@db:5433/trades"}, "", {}),
    ({}, 'ALPHAPANDA_DATABASE__URL="sqlite+aiosqlite:////srv/ap.db"\n', {}),
    ({"ALPHAPANDA_LOG__MAX_BYTES": "2048", "ALPHAPANDA_LOG__BACKUP_COUNT": "0"}, "", {}),
    ({"ALPHAPANDA_HOME": "~/trading"}, "", {}),
    ({"ALPHAPANDA_RISK__MAX_DAILY_LOSS": "1000", "ALPHAPANDA_BUS__BACKEND": "memory"}, "", {}),
    ({"ALPHAPANDA_LOG__JSON": "true"}, "", {"log_level": "ERROR"}),
    ({"ALPHAPANDA_RISK__MIS_SQUARE_OFF": ""}, "ALPHAPANDA_ZERODHA__API_KEY=\n", {}),
]


@pytest.mark.parametrize(("env", "dotenv", "flags"), SAME_AS_SETTINGS)
def test_settings_resolve_as_settings_resolves_them(
    env: dict[str, str],
    dotenv: str,
    flags: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = _environ(monkeypatch, tmp_path, env, dotenv)

    lean = resolve_kill_settings(flags, environ)
    full = load_settings(**flags_as_overrides(flags))

    assert lean == KillSettings(
        home=full.home,
        mode=full.mode,
        database_url=str(full.database.url),
        log_level=full.log.level,
        log_max_bytes=full.log.max_bytes,
        log_backup_count=full.log.backup_count,
    )
    assert lean.broker == full.broker.value


HANDED_OVER: list[tuple[dict[str, str], str]] = [
    ({"ALPHAPANDA_DATABSE__URL": "postgresql+asyncpg://u@h/db"}, ""),  # a typo
    ({}, "ALPHAPANDA_MODEE=live\n"),  # a typo in .env
    ({"ALPHAPANDA_MODE": "Live"}, ""),
    ({"ALPHAPANDA_MODE": ""}, ""),
    ({"ALPHAPANDA_BUS__BACKEND": "kafka"}, ""),
    ({"ALPHAPANDA_DATABASE": '{"url": "postgresql+asyncpg://u@h/db"}'}, ""),
    ({"ALPHAPANDA_LOG__JSON": "false"}, ""),
    ({"ALPHAPANDA_LOG__MAX_BYTES": "1_000_000"}, ""),
    ({"ALPHAPANDA_LOG__MAX_BYTES": "10"}, ""),
    ({"ALPHAPANDA_MODE": "live", "alphapanda_mode": "paper"}, ""),
]


@pytest.mark.parametrize(("env", "dotenv"), HANDED_OVER)
def test_what_it_cannot_be_sure_of_is_handed_over(
    env: dict[str, str], dotenv: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = _environ(monkeypatch, tmp_path, env, dotenv)

    with pytest.raises(NotCertain):
        resolve_kill_settings({}, environ)


def test_the_list_of_setting_names_is_the_one_settings_accepts() -> None:
    assert names_from_settings() == SETTING_ENV_NAMES, (
        "regenerate it: python -m alphapanda_tui.setting_names"
    )


def test_the_head_revision_is_the_one_alembic_names() -> None:
    assert head_revision() == alembic_head_revision()


def test_a_branched_migration_history_is_handed_over(tmp_path: Path) -> None:
    for name, revision, down in (("a", "1", "None"), ("b", "2", '"1"'), ("c", "3", '"1"')):
        (tmp_path / f"{name}.py").write_text(f'revision = "{revision}"\ndown_revision = {down}\n')

    with pytest.raises(NotCertain):
        head_revision(tmp_path)


def test_database_urls_are_read_as_sqlalchemy_reads_them() -> None:
    assert sqlite_file("sqlite+aiosqlite:////srv/a b.db") == Path("/srv/a b.db")
    assert postgres_params("postgresql+asyncpg://ann:p%40ss@db:5433/trades") == {
        "user": "ann",
        "password": "p@ss",
        "host": "db",
        "port": 5433,
        "database": "trades",
    }
    for odd in (
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///a.db?mode=ro",
        "sqlite+aiosqlite:///a%20b.db",
    ):
        with pytest.raises(NotCertain):
            sqlite_file(odd)
    for odd in ("postgresql+asyncpg://u@h/db?ssl=require", "postgresql+asyncpg://u@h1,h2/db"):
        with pytest.raises(NotCertain):
            postgres_params(odd)


def flags_as_overrides(flags: dict[str, str]) -> dict[str, object]:
    """The overrides ``cli.settings_from_args`` passes for the same flags."""
    overrides: dict[str, object] = {
        "home": Path(flags["home"]) if "home" in flags else None,
        "mode": flags.get("mode"),
    }
    if "log_level" in flags:
        overrides["log"] = {"level": flags["log_level"]}
    return overrides


def _environ(
    monkeypatch: pytest.MonkeyPatch, directory: Path, env: dict[str, str], dotenv: str
) -> dict[str, str]:
    """Set ``env`` (and ``.env`` in a fresh working directory) for both resolvers."""
    monkeypatch.chdir(directory)
    if dotenv:
        (directory / ".env").write_text(dotenv)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import os

    return dict(os.environ)
