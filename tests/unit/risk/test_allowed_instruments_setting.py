"""ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS as a trader writes it (EXCHANGE:SYMBOL keys).

The risk rule compares instrument tokens; the keys once reached it as they were written, so
allowing an instrument refused every order for it.
"""

from __future__ import annotations

import pytest

from alphapanda_tui.engine_config import risk_limits
from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings import load_settings
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import INFY, TCS, limits


async def test_an_allowed_key_lets_its_orders_through_and_no_other(
    monkeypatch: pytest.MonkeyPatch, start_risk: StartRisk
) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS", "NSE:INFY")
    allowed = risk_limits(load_settings()).allowed_instruments
    risk = await start_risk(limits(allowed_instruments=allowed))

    assert (await risk.submit(token=INFY)).accepted
    refused = await risk.submit(token=TCS)
    assert refused.rule == "instrument"
    assert "not in the allowed instruments" in (refused.reason or "")


def test_keys_become_the_registry_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS", "NSE:INFY, NSE:TCS")

    assert risk_limits(load_settings()).allowed_instruments == frozenset({INFY, TCS})


def test_no_setting_allows_any_known_instrument() -> None:
    assert risk_limits(load_settings()).allowed_instruments == frozenset()


def test_an_unknown_key_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS", "NSE:INFY,NSE:GHOST")

    with pytest.raises(ConfigError, match="ALPHAPANDA_RISK__ALLOWED_INSTRUMENTS") as err:
        risk_limits(load_settings())
    assert "NSE:GHOST" in str(err.value)
