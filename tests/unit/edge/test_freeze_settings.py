"""ALPHAPANDA_EXECUTION__AUTOSLICE / FREEZE_TABLE / FREEZE_QUANTITIES as a trader writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from alphapanda_tui.engine_config import risk_limits
from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings import load_settings


def test_overrides_read_as_pairs_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ALPHAPANDA_EXECUTION__FREEZE_QUANTITIES", "nfo:nifty=1300, NFO:BANKNIFTY=600"
    )
    assert load_settings().execution.freeze_quantities == {
        "NFO:NIFTY": 1300,
        "NFO:BANKNIFTY": 600,
    }
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__FREEZE_QUANTITIES", '{"NFO:NIFTY": 1300}')
    assert load_settings().execution.freeze_quantities == {"NFO:NIFTY": 1300}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("NIFTY=1800", "is not EXCHANGE:NAME"),
        ("NFO:NIFTY=0", "not a positive whole number"),
        ("NFO:NIFTY=1.5", "not a positive whole number"),
        ("NFO:NIFTY", "is not EXCHANGE:NAME=QTY"),
    ],
)
def test_a_bad_override_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str, words: str
) -> None:
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__FREEZE_QUANTITIES", value)

    with pytest.raises(ConfigError, match="ALPHAPANDA_EXECUTION__FREEZE_QUANTITIES") as err:
        load_settings()
    assert words in str(err.value)


def test_a_missing_table_file_fails_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__FREEZE_TABLE", str(tmp_path / "nope.json"))

    with pytest.raises(ConfigError, match="FREEZE_TABLE: no such file"):
        load_settings()


def test_autoslice_is_on_by_default_with_ten_legs_at_most() -> None:
    execution = load_settings().execution

    assert (execution.autoslice, execution.autoslice_max_legs) == (True, 10)
    assert execution.freeze_table is None and execution.freeze_quantities == {}


def test_the_settings_reach_risk_as_one_freeze_policy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    table = tmp_path / "freeze.json"
    table.write_text('{"as_of": "2026-07-01", "underlyings": {"NFO:NIFTY": 1300}}')
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__FREEZE_TABLE", str(table))
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__FREEZE_QUANTITIES", "NFO:BANKNIFTY=450")
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__AUTOSLICE", "false")
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__AUTOSLICE_MAX_LEGS", "4")

    policy = risk_limits(load_settings()).freeze

    assert (policy.autoslice, policy.max_legs, policy.table.as_of) == (False, 4, "2026-07-01")
    assert dict(policy.table.limits) == {"NFO:NIFTY": 1300, "NFO:BANKNIFTY": 450}


def test_a_table_file_that_is_not_a_table_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    table = tmp_path / "freeze.json"
    table.write_text("[1800]")
    monkeypatch.setenv("ALPHAPANDA_EXECUTION__FREEZE_TABLE", str(table))

    with pytest.raises(ConfigError, match=r"FREEZE_TABLE: freeze table .*underlyings"):
        risk_limits(load_settings())
