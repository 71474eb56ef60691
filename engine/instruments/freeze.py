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
from functools import cache
from importlib import resources
from pathlib import Path

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


def load_freeze_table(
    overrides: Mapping[str, int] | None = None, path: Path | None = None
) -> FreezeTable:
    """The table at ``path`` (JSON shaped like the shipped one), else NSE's published table
    shipped with the engine, with ``overrides`` applied. Raises ``ValueError`` in words."""
    if path is None:
        text = resources.files("engine.instruments.data").joinpath(_TABLE).read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    try:
        data = json.loads(text)
        table = FreezeTable(
            {str(k): int(v) for k, v in data["underlyings"].items()},
            as_of=str(data.get("as_of", "")),
            source=str(data.get("source", path or _TABLE)),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        where = path or _TABLE
        raise ValueError(
            f"freeze table {where}: needs an 'underlyings' object of EXCHANGE:NAME to "
            f"quantity ({type(exc).__name__}: {exc})"
        ) from None
    return table.overridden(overrides or {})


@cache
def shipped_freeze_table() -> FreezeTable:
    """The shipped table, read once per process (every default ``FreezePolicy`` shares it)."""
    return load_freeze_table()


def legs(quantity: int, freeze: int | None, lot_size: int = 1) -> list[int]:
    """How an order of ``quantity`` splits into legs of at most ``freeze`` (Kite's autoslice).

    Legs hold whole lots (a freeze figure that is not a lot multiple is rounded down to
    one), so every leg is an order the exchange would take on its own.
    """
    if not freeze or quantity <= freeze:
        return [quantity]
    lot = max(1, lot_size)
    size = max(lot, freeze - freeze % lot)
    full, rest = divmod(quantity, size)
    return [size] * full + ([rest] if rest else [])


@dataclass(frozen=True, slots=True)
class FreezePolicy:
    """What to do with an order above its freeze quantity: send it as Kite autoslice legs
    (paper imitates them), at most ``max_legs`` of them, or refuse it.

    The cap keeps a typo (an extra zero) from becoming dozens of exchange orders that
    use up the order budget; Kite documents no cap of its own, so it is configuration.
    """

    table: FreezeTable = field(default_factory=lambda: shipped_freeze_table())
    autoslice: bool = True
    max_legs: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.max_legs, bool) or self.max_legs < 2:
            raise ValueError(f"max_legs must be at least 2: {self.max_legs!r}")

    def freeze_of(self, instrument: Instrument | None) -> int | None:
        return None if instrument is None else self.table.of(instrument)

    def legs_of(self, instrument: Instrument | None, quantity: int) -> list[int]:
        """The orders ``quantity`` is at the exchange: one when it fits the freeze, else
        the autoslice legs (whatever ``autoslice`` says now, so an order sliced before a
        restart with it off is still cancelled leg by leg; risk refuses new ones)."""
        if instrument is None:
            return [quantity]
        return legs(quantity, self.freeze_of(instrument), instrument.lot_size)

    def refusal(self, instrument: Instrument, quantity: int) -> str | None:
        """Why ``quantity`` of ``instrument`` may not go out, in words; None when it may."""
        freeze = self.freeze_of(instrument)
        if not freeze or quantity <= freeze:
            return None
        above = f"{quantity} {instrument.key} is above the exchange freeze quantity {freeze}"
        if not self.autoslice:
            return f"{above}: split the order (autoslice is off)"
        sliced = legs(quantity, freeze, instrument.lot_size)
        if len(sliced) > self.max_legs:
            return (
                f"{above}: it would be {len(sliced)} autoslice legs, more than the "
                f"{self.max_legs} allowed (at most {self.max_legs * sliced[0]} in one order)"
            )
        return None
