"""Exchange freeze quantities: the most one order may carry before the exchange refuses it.

Kite's instruments dump has no freeze quantity, so NSE's published limits ship as a
dated table (``data/nse_freeze_quantities.json``, source noted there). Keys are
``EXCHANGE:NAME`` for every derivative on an underlying (``NFO:NIFTY``) or
``EXCHANGE:TRADINGSYMBOL`` for one instrument; the operator's overrides win.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

from engine.domain.records import Instrument

_TABLE = "nse_freeze_quantities.json"


@dataclass(frozen=True, slots=True)
class FreezeTable:
    """Freeze quantities by key, with the date and source of the published figures."""

    limits: Mapping[str, int] = field(default_factory=dict)
    as_of: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        bad = {key: qty for key, qty in self.limits.items() if ":" not in key or qty < 1}
        if bad:
            raise ValueError(f"freeze quantities need EXCHANGE:NAME keys and positive sizes: {bad}")

    def of(self, instrument: Instrument) -> int | None:
        """The instrument's freeze quantity: its own entry, else its underlying's, else the
        dump's figure (None: no limit known)."""
        own = self.limits.get(instrument.key)
        if own is not None:
            return own
        if instrument.instrument_type in ("FUT", "CE", "PE"):
            underlying = self.limits.get(f"{instrument.exchange}:{instrument.name}")
            if underlying is not None:
                return underlying
        return instrument.freeze_quantity

    def overridden(self, overrides: Mapping[str, int]) -> FreezeTable:
        """This table with the operator's entries replacing the published ones."""
        return FreezeTable({**self.limits, **overrides}, self.as_of, self.source)


def load_freeze_table(overrides: Mapping[str, int] | None = None) -> FreezeTable:
    """NSE's published table shipped with the engine, with ``overrides`` applied."""
    text = resources.files("engine.instruments.data").joinpath(_TABLE).read_text("utf-8")
    data = json.loads(text)
    table = FreezeTable(
        {str(k): int(v) for k, v in data["underlyings"].items()},
        as_of=str(data["as_of"]),
        source=str(data["source"]),
    )
    return table.overridden(overrides or {})


def legs(quantity: int, freeze: int | None) -> list[int]:
    """How an order of ``quantity`` splits into legs of at most ``freeze`` (Kite's autoslice)."""
    if not freeze or quantity <= freeze:
        return [quantity]
    full, rest = divmod(quantity, freeze)
    return [freeze] * full + ([rest] if rest else [])
