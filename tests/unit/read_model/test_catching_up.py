"""An attached console says it is catching up while its reader is far behind the bus."""

from __future__ import annotations

from types import SimpleNamespace

from engine.read_model.model import CATCH_UP_LAG, ReadModel
from widgets.status_header import catching_up_part


def test_no_lag_figure_means_not_catching_up() -> None:
    model = ReadModel()
    assert model.catching_up() is None  # the embedded console has no bus lag to show


def test_the_header_shows_the_lag_only_above_the_threshold() -> None:
    model = ReadModel()
    frame = SimpleNamespace(model=model)
    lag = CATCH_UP_LAG
    model.bus_lag = lambda: lag
    assert catching_up_part(frame) is None  # type: ignore[arg-type]  # only .model is read
    lag = 5_210
    part = catching_up_part(frame)  # type: ignore[arg-type]
    assert part is not None and part.plain == "catching up (lag 5,210)"
    lag = 3
    assert catching_up_part(frame) is None  # type: ignore[arg-type]
