"""``alphapanda db``: what an operator sees when creating or migrating the schema."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from alphapanda_tui.commands import db
from alphapanda_tui.errors import ConfigError, UsageError
from storage.migrate import current, head_revision


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    db.configure(parser)
    return parser.parse_args(list(argv))


def _settings(home: Path, url: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(home=home, database=SimpleNamespace(url=url))


def test_database_url_defaults_to_sqlite_under_home(isolated_home: Path) -> None:
    assert db.database_url(_settings(isolated_home)) == (
        f"sqlite+aiosqlite:///{isolated_home}/alphapanda.db"
    )
    assert db.database_url(_settings(isolated_home, "postgresql+asyncpg://h/x")) == (
        "postgresql+asyncpg://h/x"
    )


def test_database_url_reads_the_real_settings(isolated_home: Path) -> None:
    from alphapanda_tui.settings import load_settings

    assert db.database_url(load_settings()) == f"sqlite+aiosqlite:///{isolated_home}/alphapanda.db"


def test_upgrade_current_downgrade_print_progress(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(isolated_home)
    url = db.database_url(settings)

    assert db.run(_args("upgrade"), settings) == 0
    assert db.run(_args("current"), settings) == 0
    assert db.run(_args("downgrade", "base", "--yes"), settings) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"upgrading sqlite {isolated_home}/alphapanda.db to head … done " + (
        f"(now at {head_revision()})"
    )
    assert lines[1] == f"sqlite {isolated_home}/alphapanda.db: {head_revision()} (head)"
    assert lines[2].endswith("to base … done (now at base)")
    assert current(url) is None


def test_unknown_revision_is_one_clear_usage_error(isolated_home: Path) -> None:
    with pytest.raises(UsageError, match="nope"):
        db.run(_args("downgrade", "nope"), _settings(isolated_home))


def test_unreachable_database_is_a_config_error(isolated_home: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    with pytest.raises(
        ConfigError, match=r"cannot use the database postgresql 127\.0\.0\.1/nowhere"
    ):
        db.run(_args("upgrade"), _settings(isolated_home, url))
