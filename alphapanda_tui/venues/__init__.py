"""One composition module per broker: ``alphapanda_tui.venues.<broker>``.

Each exposes ``build_venue(settings, *, bus, store, registry, bindings, read_model,
clock, health_probes)`` returning an ``engine.venue.TradingVenue``. The runtime picks
the module by ``Broker`` value, so a new broker adds a module here, not a branch there.
"""

from __future__ import annotations

import importlib
from typing import Any

from engine.events.types import Broker
from engine.venue import TradingVenue


def build_venue(broker: Broker, settings: Any, **ports: Any) -> TradingVenue:
    """The live venue of ``broker`` from its composition module."""
    module = importlib.import_module(f"{__name__}.{broker.value}")
    venue: TradingVenue = module.build_venue(settings, **ports)
    return venue
