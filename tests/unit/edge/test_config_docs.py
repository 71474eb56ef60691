"""``.env.example`` and the README table are what the model generates; ``show`` masks secrets."""

from __future__ import annotations

import json
from pathlib import Path

from alphapanda_tui import cli
from alphapanda_tui.commands import config
from alphapanda_tui.settings import SECRET_MASK, load_settings, setting_fields

REPO = Path(__file__).resolve().parents[3]
REGENERATE = (
    "regenerate with `alphapanda config env-example --write .env.example` and "
    "`alphapanda config table --write README.md`"
)


def test_env_example_matches_the_model() -> None:
    committed = (REPO / ".env.example").read_text(encoding="utf-8")
    assert committed == config.render_env_example(), f".env.example is stale; {REGENERATE}"


def test_readme_table_matches_the_model() -> None:
    table = config.extract_table((REPO / "README.md").read_text(encoding="utf-8"))
    assert table is not None, "README.md lost its config-table markers"
    assert table == config.render_table(), f"README configuration table is stale; {REGENERATE}"


def test_every_setting_is_in_both_documents() -> None:
    example, table = config.render_env_example(), config.render_table()
    for field in setting_fields():
        assert f"# {field.env}=" in example
        assert f"`{field.env}`" in table


def test_env_example_round_trips_when_uncommented(tmp_path, monkeypatch) -> None:
    lines = [
        line.removeprefix("# ")
        for line in config.render_env_example().splitlines()
        if line.startswith("# ALPHAPANDA_") and not line.endswith("=")
    ]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings() == load_settings(_env_file=None)


def test_show_masks_secrets_and_prints_effective_values(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__API_SECRET", "kite-api-secret-xyz")
    monkeypatch.setenv("ALPHAPANDA_BUS__SASL_PASSWORD", "sasl-pass-xyz")
    monkeypatch.setenv("ALPHAPANDA_BUS__BACKEND", "kafka")
    assert cli.main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "xyz" not in out
    assert f"ALPHAPANDA_ZERODHA__API_SECRET={SECRET_MASK}\n" in out
    assert "ALPHAPANDA_BUS__BACKEND=kafka\n" in out
    assert cli.main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ALPHAPANDA_BUS__SASL_PASSWORD"] == SECRET_MASK


def test_show_masks_passwords_inside_database_and_redis_urls(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ALPHAPANDA_DATABASE__URL", "postgresql+asyncpg://trader:pg-pass-xyz@db/a")
    monkeypatch.setenv("ALPHAPANDA_REDIS__URL", "redis://:redis-pass-xyz@cache:6379/0")
    assert cli.main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "pass-xyz" not in out
    assert f"ALPHAPANDA_DATABASE__URL=postgresql+asyncpg://trader:{SECRET_MASK}@db/a\n" in out
    assert f"ALPHAPANDA_REDIS__URL=redis://:{SECRET_MASK}@cache:6379/0\n" in out


def test_config_commands_write_no_files_into_home(isolated_home, capsys) -> None:
    assert cli.main(["config", "table"]) == 0
    assert "| `ALPHAPANDA_MODE` |" in capsys.readouterr().out
    assert list(isolated_home.iterdir()) == []


def test_table_write_replaces_only_between_markers(tmp_path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Intro\n\n{config.TABLE_BEGIN}\nold\n{config.TABLE_END}\n\n## Next\n")
    assert cli.main(["config", "table", "--write", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Intro\n") and text.endswith(f"{config.TABLE_END}\n\n## Next\n")
    assert "old" not in text and config.extract_table(text) == config.render_table()
