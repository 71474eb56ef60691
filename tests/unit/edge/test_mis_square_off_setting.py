"""ALPHAPANDA_RISK__MIS_SQUARE_OFF reaches the risk limits and execution's cut-offs."""

from __future__ import annotations

from datetime import time

import pytest

from alphapanda_tui.engine_config import pipeline_config
from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings import format_value, load_settings


def test_the_default_squares_off_nse_at_1515_before_zerodhas_1520() -> None:
    cutoffs = pipeline_config(load_settings()).risk.mis_cutoffs

    assert cutoffs.times["NSE"] == time(15, 15)
    assert cutoffs.times["MCX"] == time(23, 30)


def test_one_segment_moved_from_env(monkeypatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__MIS_SQUARE_OFF", "nse=15:05, CDS=16:30")

    settings = load_settings()
    cutoffs = pipeline_config(settings).risk.mis_cutoffs

    assert dict(cutoffs.times) == {"NSE": time(15, 5), "CDS": time(16, 30)}
    assert format_value(settings.risk.mis_square_off) == "NSE=15:05,CDS=16:30"


def test_json_and_empty_forms(monkeypatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__MIS_SQUARE_OFF", '{"MCX": "23:00"}')
    assert dict(pipeline_config(load_settings()).risk.mis_cutoffs.times) == {"MCX": time(23)}

    monkeypatch.setenv("ALPHAPANDA_RISK__MIS_SQUARE_OFF", "")
    assert not pipeline_config(load_settings()).risk.mis_cutoffs  # off


@pytest.mark.parametrize(
    ("value", "words"),
    [("NSE=25:00", "NSE cut-off '25:00' is not a time"), ("NSE", "is not SEGMENT=HH:MM")],
)
def test_a_bad_table_is_one_line_naming_the_variable(monkeypatch, value, words) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__MIS_SQUARE_OFF", value)

    with pytest.raises(ConfigError) as raised:
        load_settings()

    assert "ALPHAPANDA_RISK__MIS_SQUARE_OFF" in str(raised.value)
    assert words in str(raised.value)
