"""Strategy configuration refuses mistakes with one clear line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.events.types import Broker
from engine.instruments import load_default_registry
from engine.strategies import (
    StrategyConfigError,
    build_strategies,
    build_strategy,
    load_strategies,
    parse_strategies,
)

REGISTRY = load_default_registry()


def _entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "ema-fast",
        "kind": "ema_cross",
        "params": {"fast": 5, "slow": 20},
        "instruments": ["NSE:RELIANCE"],
    }
    entry.update(overrides)
    return entry


def test_bundled_defaults_load_and_build_against_the_sample_instruments() -> None:
    configs = load_strategies()
    bindings = build_strategies(configs, REGISTRY)

    assert {c.kind for c in configs} == {"ema_cross", "momentum", "mean_reversion", "rsi"}
    assert len(bindings) == len(configs) and all(b.broker is Broker.PAPER for b in bindings)
    assert all(b.tokens for b in bindings)


def test_defaults_fill_in_unspecified_params() -> None:
    (config,) = parse_strategies([_entry(params={"fast": 5, "slow": 20})])
    assert config.params == {"fast": 5, "slow": 20, "quantity": 1, "allow_short": False}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"params": {"fast": 30, "slow": 10}}, "fast (30) must be less than slow (10)"),
        (
            {"params": {"fast": 0}},
            "params.fast: Input should be greater than or equal to 1 (got 0)",
        ),
        ({"params": {"fsat": 5}}, "params.fsat: Extra inputs are not permitted"),
        ({"kind": "macd"}, "kind: Input should be 'ema_cross', 'momentum'"),
        ({"instruments": ["RELIANCE"]}, "instrument 'RELIANCE' must look like 'NSE:INFY'"),
        ({"instruments": []}, "instruments: Tuple should have at least 1 item"),
        ({"broker": "binance"}, "broker: Input should be 'paper' or 'zerodha'"),
        ({"name": "has:colon"}, "name: String should match pattern"),
    ],
)
def test_invalid_entries_name_the_strategy_and_field(
    overrides: dict[str, object], expected: str
) -> None:
    with pytest.raises(StrategyConfigError) as caught:
        parse_strategies({"strategies": [_entry(), _entry(**{"name": "b", **overrides})]}, "s.yaml")
    message = str(caught.value)
    assert message.startswith("s.yaml: strategies[1] '")
    assert expected in message
    assert "\n" not in message


def test_duplicate_names_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StrategyConfigError, match="duplicate name 'ema-fast'"):
        parse_strategies([_entry(), _entry()])
    path = tmp_path / "strategies.yaml"
    path.write_text("strategies:\n  - name: x\n   kind: [\n")
    with pytest.raises(StrategyConfigError, match=r"strategies.yaml: line \d+: not valid YAML"):
        load_strategies(path)
    with pytest.raises(StrategyConfigError, match="cannot read"):
        load_strategies(tmp_path / "absent.yaml")


def test_building_checks_instruments_against_the_registry() -> None:
    unknown, index, lots = parse_strategies(
        [
            _entry(name="a", instruments=["NSE:NOTREAL"]),
            _entry(name="b", instruments=["NSE:NIFTY 50"]),
            _entry(name="c", params={"quantity": 10}),
        ]
    )
    with pytest.raises(StrategyConfigError, match="unknown instrument 'NSE:NOTREAL'"):
        build_strategy(unknown, REGISTRY)
    with pytest.raises(StrategyConfigError, match="not tradable"):
        build_strategy(index, REGISTRY)
    assert build_strategy(lots, REGISTRY).strategy.quantity == 10


def test_disabled_strategies_are_validated_but_not_run() -> None:
    configs = parse_strategies([_entry(), _entry(name="off", enabled=False)])
    assert [b.name for b in build_strategies(configs, REGISTRY)] == ["ema-fast"]
